// mmapstress: several processes map, touch, protect, fork and unmap
// regions at random at the same time, each checking its own data, to
// shake out races between CPUs in the region and page code.
//
//   mmapstress [seed=N] [case...]
//
// Output, parsed by the host harness (tests/harness.py):
//   BEGIN mmapstress N, then PASS name | FAIL name: why per case,
//   then END mmapstress. Other lines start with "# ".
//
// The random stream is a seeded LCG and every loop has a fixed number of
// steps, so a run is repeatable up to scheduling. The runner is suite.c.
#include "types.h"
#include "mmu.h"
#include "memlayout.h"
#include "mman.h"
#include "sysinfo.h"
#include "user.h"
#include "suite.h"

#define CASE_TIMEOUT 6000  // ticks a case may run before it is killed
#define PG       PGSIZE
#define RW       (PROT_READ | PROT_WRITE)
#define NWORKER  4         // processes working at once
#define NOPS     2000      // random operations per worker
#define NSLOT    12        // regions a worker holds at most
#define MAXPAGES 16        // pages per region at most
#define NROUNDS  64        // rounds of the shared first-touch race
#define NFORKS   150       // forks per worker in the fork case

static uint seed = 1;  // from seed=N

// ---- one worker's regions ----------------------------------------------

// What a worker believes about one of its regions. expect[i] is the word
// at word_addr(i) (0 for a page never written).
struct slot {
  uint start;    // 0: slot unused
  int npages;
  int shared;
  int readonly;  // mprotect'ed to PROT_READ
  uint expect[MAXPAGES];
};

static struct slot slots[NSLOT];

// Each page's test word sits at a different offset, so that a page
// mapped at the wrong address shows.
static uint word_addr(struct slot *s, int page) {
  return s->start + page * PG + ((s->start / PG + page) * 68) % PG;
}

static void verify_slot(struct slot *s) {
  int i;
  uint got;
  for (i = 0; i < s->npages; i++) {
    got = *(volatile uint *)word_addr(s, i);
    check(got == s->expect[i], "pid %d: %x holds %x", getpid(), word_addr(s, i), got);
  }
}

static void verify_all(void) {
  int i;
  for (i = 0; i < NSLOT; i++)
    if (slots[i].start)
      verify_slot(&slots[i]);
}

static struct slot *pick_used(void) {
  int i, k = below(NSLOT);
  for (i = 0; i < NSLOT; i++)
    if (slots[(k + i) % NSLOT].start)
      return &slots[(k + i) % NSLOT];
  return 0;
}

static void op_map(struct slot *s) {
  int flags = MAP_ANONYMOUS, npages = 1 + below(MAXPAGES);
  uint hint = below(3) == 0 ? 0 : 0x10000000 + below(0x60000) * PG, a;
  s->shared = below(3) == 0;
  flags |= s->shared ? MAP_SHARED : MAP_PRIVATE;
  if (below(8) == 0)
    flags |= MAP_POPULATE;
  a = (uint)mmap((void *)hint, npages * PG, RW, flags, -1, 0);
  check(a != (uint)MAP_FAILED, "pid %d: mmap of %d pages failed", getpid(), npages);
  check(a % PG == 0 && a < MMAPTOP, "mmap returned %x", a);
  s->start = a;
  s->npages = npages;
  s->readonly = 0;
  memset(s->expect, 0, sizeof(s->expect));
}

static void op_touch(struct slot *s) {
  int page = below(s->npages);
  uint v = rnd() | 1;
  if (s->readonly)
    return;
  *(volatile uint *)word_addr(s, page) = v;
  s->expect[page] = v;
}

// Unmap all of s, or a few pages from its start or its end.
static void op_unmap(struct slot *s) {
  int k = 1 + below(s->npages), from_start = below(2);
  uint at = from_start ? s->start : s->start + (s->npages - k) * PG;
  check(munmap((void *)at, k * PG) == 0, "pid %d: munmap(%x, %d pages)", getpid(), at, k);
  if (k == s->npages) {
    s->start = 0;
    return;
  }
  if (from_start) {
    memmove(s->expect, s->expect + k, (s->npages - k) * sizeof(uint));
    s->start += k * PG;
  }
  s->npages -= k;
}

static void op_protect(struct slot *s) {
  s->readonly = !s->readonly;
  check(mprotect((void *)s->start, s->npages * PG, s->readonly ? PROT_READ : RW) == 0,
        "pid %d: mprotect(%x) failed", getpid(), s->start);
}

// A child checks every region, writes the first page of each writable
// one, unmaps one and exits. Only writes to shared regions come back.
static void op_fork(void) {
  struct slot *s;
  int i, pid = fork();
  check(pid >= 0, "pid %d: fork failed", getpid());
  if (pid == 0) {
    verify_all();
    for (i = 0; i < NSLOT; i++)
      if (slots[i].start && !slots[i].readonly)
        *(volatile uint *)word_addr(&slots[i], 0) = 0xC0DE0000 + i;
    if ((s = pick_used()) != 0)
      op_unmap(s);
    exit();
  }
  check(wait() == pid, "wait for the forked child failed");
  for (i = 0; i < NSLOT; i++)
    if (slots[i].start && !slots[i].readonly && slots[i].shared)
      slots[i].expect[0] = 0xC0DE0000 + i;
}

// Ask for the address space of a nearby process, which may be exiting
// or gone: any answer but a panic is fine.
static void op_peek_other(void) {
  static struct mapinfo m[32];
  int n = getmaps(getpid() + below(9) - 4, m, 32);
  check(n == -1 || (n >= 4 && n <= 32), "getmaps of a neighbour returned %d", n);
}

static void worker(int id) {
  struct slot *s;
  int op, i, k;
  suite_seed(seed * 7919 + id * 104729);
  memset(slots, 0, sizeof(slots));
  for (op = 0; op < NOPS; op++) {
    k = below(100);
    if (k < 20) {
      for (i = 0; i < NSLOT && slots[i].start; i++)
        ;
      if (i < NSLOT)
        op_map(&slots[i]);
    } else if ((s = pick_used()) == 0) {
      continue;
    } else if (k < 55) {
      op_touch(s);
    } else if (k < 70) {
      verify_slot(s);
    } else if (k < 80) {
      op_unmap(s);
    } else if (k < 88) {
      op_protect(s);
    } else if (k < 93) {
      op_fork();
    } else {
      op_peek_other();
    }
  }
  verify_all();
  for (i = 0; i < NSLOT; i++)
    if (slots[i].start)
      check(munmap((void *)slots[i].start, slots[i].npages * PG) == 0, "final munmap");
  exit();
}

// ---- cases ------------------------------------------------------------------

static void start_workers(void (*fn)(int), int *pids) {
  int i;
  for (i = 0; i < NWORKER; i++) {
    pids[i] = fork();
    check(pids[i] >= 0, "fork of worker %d failed", i);
    if (pids[i] == 0)
      fn(i);
  }
}

static void wait_workers(void) {
  int i;
  for (i = 0; i < NWORKER; i++)
    check(wait() >= 0, "lost a worker");
}

static int region_count(void) {
  static struct mapinfo m[8];
  return getmaps(0, m, 8) - 4;
}

// NWORKER processes doing random region work side by side.
static void test_random(void) {
  int pids[NWORKER];
  printf(1, "# random: %d workers, %d operations each, seed %d\n", NWORKER, NOPS, seed);
  start_workers(worker, pids);
  wait_workers();
  check(region_count() == 0, "the parent gained regions");
}

// Every worker touches every page of one fresh shared region at the
// same moment; if two first touches of a page raced to different
// physical pages, someone's word is missing afterwards.
static uint race_region;
static int go[2];  // the workers start when the write end is closed

static void race_worker(int id) {
  char c;
  int i;
  close(go[1]);
  read(go[0], &c, 1);  // end of file: go
  for (i = 0; i < MAXPAGES; i++)
    *(volatile uint *)(race_region + i * PG + id * 4) = 0xAB000000 + i * 16 + id;
  exit();
}

static void test_shared_race(void) {
  int pids[NWORKER], round, i, w;
  printf(1, "# shared-race: %d workers, %d rounds\n", NWORKER, NROUNDS);
  for (round = 0; round < NROUNDS; round++) {
    race_region = (uint)mmap(0, MAXPAGES * PG, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    check(race_region != (uint)MAP_FAILED, "mmap failed");
    check(pipe(go) == 0, "pipe failed");
    start_workers(race_worker, pids);
    close(go[1]);
    wait_workers();
    close(go[0]);
    for (i = 0; i < MAXPAGES; i++)
      for (w = 0; w < NWORKER; w++)
        check(*(uint *)(race_region + i * PG + w * 4) == 0xAB000000 + i * 16 + w,
              "round %d: page %d lost worker %d's write", round, i, w);
    check(munmap((void *)race_region, MAXPAGES * PG) == 0, "munmap failed");
  }
}

// Workers fork many short-lived children that inherit, split and drop
// shared and private regions while the parents keep using them.
static void fork_worker(int id) {
  uint p, s, hole_s, hole_p, at;
  int i, pid;
  suite_seed(seed * 31 + id);
  p = (uint)mmap(0, 8 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  s = (uint)mmap(0, 8 * PG, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  check(p != (uint)MAP_FAILED && s != (uint)MAP_FAILED, "mmap failed");
  for (i = 0; i < NFORKS; i++) {
    *(volatile uint *)(p + below(8) * PG) = i;
    hole_s = s + below(8) * PG;
    hole_p = p + below(8) * PG;
    at = s + ((hole_s - s) / PG + 1) % 8 * PG + 4;  // a shared page the child keeps
    pid = fork();
    check(pid >= 0, "fork failed");
    if (pid == 0) {
      check(munmap((void *)hole_s, PG) == 0, "child munmap failed");
      check(munmap((void *)hole_p, PG) == 0, "child munmap failed");
      *(volatile uint *)at = i;
      exit();
    }
    check(wait() == pid, "wait failed");
    check(*(volatile uint *)at == i, "child's write to a split shared region lost");
  }
  check(munmap((void *)p, 8 * PG) == 0 && munmap((void *)s, 8 * PG) == 0, "munmap failed");
  exit();
}

static void test_forks(void) {
  int pids[NWORKER];
  printf(1, "# forks: %d workers, %d forks each\n", NWORKER, NFORKS);
  start_workers(fork_worker, pids);
  wait_workers();
}

// ---- the runner -----------------------------------------------------------

static struct testcase cases[] = {
  {"random", test_random},
  {"shared-race", test_shared_race},
  {"forks", test_forks},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct suite suite = {"mmapstress", CASE_TIMEOUT, cases, NCASES};

int main(int argc, char *argv[]) {
  int i, n = 1;
  char *v;

  // Take seed=N out of argv; what is left names cases.
  for (i = 1; i < argc; i++) {
    if ((v = suite_option(argv[i], "seed=")) != 0)
      seed = atoi(v);
    else
      argv[n++] = argv[i];
  }
  suite_begin(&suite, suite_count(&suite, n));
  printf(1, "# seed %d\n", seed);
  run_named(&suite, n, argv);
  suite_end(&suite);
  exit();
}
