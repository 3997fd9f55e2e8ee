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
// steps, so a run is repeatable up to scheduling. Each case runs in a
// child process that reports through a pipe; the runner fails a case
// that does not give back every page and kmalloc object (sysinfo()).
#include "types.h"
#include "mmu.h"
#include "memlayout.h"
#include "mman.h"
#include "sysinfo.h"
#include "user.h"

#define CASE_TIMEOUT 6000  // ticks a case may run before it is killed
#define SETTLE_TICKS 300   // ticks to wait for a case's orphans to be reaped
#define PG       PGSIZE
#define RW       (PROT_READ | PROT_WRITE)
#define NWORKER  4         // processes working at once
#define NOPS     2000      // random operations per worker
#define NSLOT    12        // regions a worker holds at most
#define MAXPAGES 16        // pages per region at most
#define NROUNDS  64        // rounds of the shared first-touch race
#define NFORKS   150       // forks per worker in the fork case

// ---- reporting, usable in a case and in every process it forks -------

static int result_fd = -1;  // write end of the pipe to the runner

// Report a failure as one "F why" line and exit. fmt may use up to three
// 32-bit conversions.
static void fail(const char *fmt, ...) __attribute__((noreturn));
static void fail(const char *fmt, ...) {
  static char line[120];
  __builtin_va_list ap;
  uint arg[3] = {0, 0, 0};
  int len = strlen(fmt), i, nargs = 0;
  if (len > sizeof(line) - 4)
    len = sizeof(line) - 4;
  line[0] = 'F';
  line[1] = ' ';
  memmove(line + 2, fmt, len);
  line[len + 2] = '\n';
  line[len + 3] = 0;
  __builtin_va_start(ap, fmt);
  for (i = 0; i < len && nargs < 3; i++) {
    if (fmt[i] == '%' && fmt[i + 1] == '%')
      i++;
    else if (fmt[i] == '%')
      arg[nargs++] = __builtin_va_arg(ap, uint);
  }
  __builtin_va_end(ap);
  printf(result_fd, line, arg[0], arg[1], arg[2]);
  exit();
}

#define check(cond, ...)  \
  do {                    \
    if (!(cond))          \
      fail(__VA_ARGS__);  \
  } while (0)

// ---- randomness --------------------------------------------------------

static uint rng;  // LCG state, seeded per worker

static uint rnd(void) {
  rng = rng * 1103515245 + 12345;
  return rng >> 8;
}

static uint below(uint n) {
  return rnd() % n;
}

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
  rng = seed * 7919 + id * 104729;
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
  rng = seed * 31 + id;
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

struct testcase {
  char *name;
  void (*run)(void);
};

static struct testcase cases[] = {
  {"random", test_random},
  {"shared-race", test_shared_race},
  {"forks", test_forks},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

struct verdict {
  int passed;        // saw "P"
  char reason[100];  // first "F" reason, empty if none
};

// Read result lines up to the "E" line the runner itself wrote last.
static void read_results(int fd, struct verdict *v) {
  static char line[128];
  int len = 0;
  char c;
  v->passed = 0;
  v->reason[0] = 0;
  while (read(fd, &c, 1) == 1) {
    if (c != '\n') {
      if (len < sizeof(line) - 1)
        line[len++] = c;
      continue;
    }
    line[len] = 0;
    len = 0;
    if (strcmp(line, "E") == 0)
      return;
    if (strcmp(line, "P") == 0)
      v->passed = 1;
    else if (line[0] == 'F' && v->reason[0] == 0) {
      memmove(v->reason, line + 2, sizeof(v->reason) - 1);
      v->reason[sizeof(v->reason) - 1] = 0;
    }
  }
}

// Run fn in a child next to a watchdog child that sleeps CASE_TIMEOUT
// ticks; whichever exits first decides, the other is killed. Returns 1
// if the case timed out. The watchdog is forked first so that nothing
// the runner allocates shows up in the case's own memory counts.
static int run_child(void (*fn)(void), int p[2]) {
  int pid, watchdog, first;
  watchdog = fork();
  if (watchdog == 0) {
    sleep(CASE_TIMEOUT);
    exit();
  }
  pid = fork();
  if (pid == 0) {
    close(p[0]);
    result_fd = p[1];
    fn();
    printf(result_fd, "P\n");
    exit();
  }
  if (pid < 0)
    printf(p[1], "F runner: fork failed\n");
  first = (watchdog < 0 || pid < 0) ? pid : wait();
  if (watchdog > 0)
    kill(first == pid ? watchdog : pid);
  while (wait() >= 0)
    ;
  return watchdog > 0 && first == watchdog;
}

// Wait up to SETTLE_TICKS for orphans to be reaped; returns how many
// processes are left over.
static int settle(int nproc) {
  struct sysinfo si;
  int t;
  for (t = 0;; t++) {
    sysinfo(&si);
    if (si.nproc <= nproc || t == SETTLE_TICKS)
      return si.nproc - nproc;
    sleep(1);
  }
}

static void run_case(struct testcase *t) {
  struct sysinfo before, after;
  struct verdict v;
  int p[2], timed_out, left, pages, objects;

  sysinfo(&before);
  if (pipe(p) < 0) {
    printf(1, "FAIL %s: runner: pipe failed\n", t->name);
    return;
  }
  timed_out = run_child(t->run, p);
  write(p[1], "E\n", 2);
  read_results(p[0], &v);
  close(p[0]);
  close(p[1]);
  left = settle(before.nproc);
  sysinfo(&after);
  // Pages kmalloc keeps for later are not lost.
  pages = (int)(before.freepages + before.kmalloc_pages) -
          (int)(after.freepages + after.kmalloc_pages);
  objects = (int)after.kmalloc_objects - (int)before.kmalloc_objects;

  if (timed_out)
    printf(1, "FAIL %s: timed out after %d ticks\n", t->name, CASE_TIMEOUT);
  else if (v.reason[0])
    printf(1, "FAIL %s: %s\n", t->name, v.reason);
  else if (!v.passed)
    printf(1, "FAIL %s: exited without a result (crashed?)\n", t->name);
  else if (left > 0)
    printf(1, "FAIL %s: left %d processes running\n", t->name, left);
  else if (pages != 0 || objects != 0)
    printf(1, "FAIL %s: leaked %d pages, %d kmalloc objects\n", t->name, pages, objects);
  else
    printf(1, "PASS %s\n", t->name);
}

static int starts_with(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++)
      return 0;
  return 1;
}

int main(int argc, char *argv[]) {
  int i, j, named = 0;

  for (i = 1; i < argc; i++) {
    if (starts_with(argv[i], "seed="))
      seed = atoi(argv[i] + 5);
    else
      named++;
  }
  printf(1, "BEGIN mmapstress %d\n", named ? named : NCASES);
  printf(1, "# seed %d\n", seed);
  for (i = 1; i < argc; i++) {
    if (starts_with(argv[i], "seed="))
      continue;
    for (j = 0; j < NCASES && strcmp(cases[j].name, argv[i]) != 0; j++)
      ;
    if (j < NCASES)
      run_case(&cases[j]);
    else
      printf(1, "FAIL %s: no such case\n", argv[i]);
  }
  if (!named)
    for (j = 0; j < NCASES; j++)
      run_case(&cases[j]);
  printf(1, "END mmapstress\n");
  exit();
}
