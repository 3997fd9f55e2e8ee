// cowtest: copy-on-write fork, case by case against docs/mmap.md.
//
//   cowtest [case...]
//
// Output as every suite's (suite.h): BEGIN, one PASS or FAIL line per
// case, END. The runner (suite.c) also checks that each case gives back
// every page and kmalloc object it used.
#include "types.h"
#include "mmu.h"
#include "memlayout.h"
#include "mman.h"
#include "sysinfo.h"
#include "user.h"
#include "suite.h"

#define CASE_TIMEOUT 6000  // ticks a case may run before it is killed
#define PG      PGSIZE
#define RW      (PROT_READ | PROT_WRITE)
#define PRIV    (MAP_PRIVATE | MAP_ANONYMOUS)
#define SHARED  (MAP_SHARED | MAP_ANONYMOUS)

// ---- helpers ----------------------------------------------------------

static uint xmap(uint len, int prot, int flags) {
  uint a = (uint)mmap(0, len, prot, flags, -1, 0);
  check(a != (uint)MAP_FAILED, "mmap of %d bytes failed", len);
  return a;
}

// Word i of every page of [a, a + n pages) is v + page number.
static void fill(uint a, uint n, uint v) {
  uint i;
  for (i = 0; i < n; i++)
    *(volatile uint *)(a + i * PG + 8) = v + i;
}

// Does [a, a + n pages) hold what fill(a, n, v) wrote? Fails the case if not.
static void expect(uint a, uint n, uint v, const char *who) {
  uint i, got;
  for (i = 0; i < n; i++) {
    got = *(volatile uint *)(a + i * PG + 8);
    check(got == v + i, "%s: page %d holds %x, not %x", who, i, got, v + i);
  }
}

// Fork a child that runs fn(arg) and exits; wait for it.
static void in_child(void (*fn)(uint), uint arg) {
  int pid = xfork();
  if (pid == 0) {
    fn(arg);
    exit();
  }
  xwait(pid);
}

// Grow the heap by n pages (mapped and zeroed at once). Returns its start.
static uint heap_grow(uint n) {
  char *a = sbrk(n * PG);
  check(a != (char *)-1, "sbrk of %d pages failed", n);
  return (uint)a;
}

// ---- cases -------------------------------------------------------------

static uint big_base, big_pages;

static void big_child(uint round) {
  expect(big_base, big_pages, 0x1000, "child before writing");
  fill(big_base, 8, 0x9000 + round);  // a few copies, not all
  expect(big_base, 8, 0x9000 + round, "child after writing");
}

// A process holding two thirds of free memory can fork, twice in a row:
// nothing is copied until written.
static void test_big_fork(void) {
  uint round;
  big_pages = free_pages() / 3 * 2;
  big_base = heap_grow(big_pages);
  fill(big_base, big_pages, 0x1000);
  for (round = 0; round < 2; round++) {
    in_child(big_child, round);
    expect(big_base, big_pages, 0x1000, "parent after the child wrote");
  }
  sbrk(-(int)(big_pages * PG));
}

#define GEN_PAGES 64
static uint gen_heap, gen_region;

// Three generations: each writes a smaller part of the heap and of a
// private region, and sees its own writes over its parent's.
static void generation(uint depth) {
  uint n = GEN_PAGES >> depth;
  int pid;
  fill(gen_heap, n, 0x100 * (depth + 1));
  fill(gen_region, n, 0x200 * (depth + 1));
  if (depth < 2) {
    pid = xfork();
    if (pid == 0) {
      generation(depth + 1);
      exit();
    }
    xwait(pid);
  }
  expect(gen_heap, n, 0x100 * (depth + 1), "own heap pages");
  expect(gen_region, n, 0x200 * (depth + 1), "own region pages");
  if (depth > 0) {
    expect(gen_heap + n * PG, n, 0x100 * depth + n, "the parent's heap pages");
    expect(gen_region + n * PG, n, 0x200 * depth + n, "the parent's region pages");
  }
}

static void test_generations(void) {
  gen_heap = heap_grow(GEN_PAGES);
  gen_region = xmap(GEN_PAGES * PG, RW, PRIV);
  generation(0);
  check(munmap((void *)gen_region, GEN_PAGES * PG) == 0, "munmap failed");
  sbrk(-GEN_PAGES * PG);
}

// The kernel writing into a copy-on-write page (read from a pipe) breaks
// the sharing as a user write does: the other process never sees it.
static void test_kernel_write(void) {
  static char buf[PG * 2] __attribute__((aligned(PG)));
  int p[2], pid;
  memset(buf, 'p', sizeof(buf));
  xpipe(p);
  pid = xfork();
  if (pid == 0) {
    close(p[1]);
    check(read(p[0], buf + 100, 10) == 10, "child read failed");
    check(buf[100] == 'c' && buf[109] == 'c' && buf[99] == 'p', "child does not see its read");
    exit();
  }
  close(p[0]);
  check(write(p[1], "cccccccccc", 10) == 10, "write failed");
  close(p[1]);
  xwait(pid);
  check(buf[100] == 'p' && buf[109] == 'p', "the child's read() landed in the parent");
  // And the other way round: the parent reads while the child holds the page.
  xpipe(p);
  pid = xfork();
  if (pid == 0) {
    close(p[1]);
    char c;
    read(p[0], &c, 1);  // wait until the parent has read
    check(buf[PG + 5] == 'p', "the parent's read() landed in the child");
    exit();
  }
  close(p[0]);
  {
    int q[2];
    xpipe(q);
    check(write(q[1], "rr", 2) == 2 && read(q[0], buf + PG + 4, 2) == 2, "pipe failed");
    close(q[0]);
    close(q[1]);
  }
  check(buf[PG + 5] == 'r', "the parent does not see its read");
  check(write(p[1], "g", 1) == 1, "token failed");
  close(p[1]);
  xwait(pid);
}

// fork(); fork(); in a loop: four processes each round, every one writes
// a part of the heap and checks what it sees.
static void test_fork_storm(void) {
  uint base = heap_grow(16), round;
  int a, b, me, w1, w2;
  fill(base, 16, 0x4000);
  for (round = 0; round < 4; round++) {
    a = fork();
    b = fork();
    check(a >= 0 && b >= 0, "fork failed");
    me = (a == 0) * 2 + (b == 0);  // 0..3: which of the four this is
    fill(base, 4, 0x5000 + me * 16);
    expect(base, 4, 0x5000 + me * 16, "own pages");
    expect(base + 4 * PG, 12, 0x4004, "pages nobody wrote");
    if (b == 0)
      exit();
    if (a == 0) {
      xwait(b);
      exit();
    }
    w1 = wait();
    w2 = wait();
    check((w1 == a && w2 == b) || (w1 == b && w2 == a), "wait returned %d and %d", w1, w2);
    expect(base, 4, 0x5000, "the storm's parent");
  }
  sbrk(-16 * PG);
}

// MAP_SHARED regions stay shared across fork; private ones are copied
// on write; so is the heap.
static uint rh_shared, rh_private, rh_heap;

static void rh_child(uint unused) {
  fill(rh_shared, 4, 0x7700);
  fill(rh_private, 4, 0x7800);
  fill(rh_heap, 4, 0x7900);
}

static void test_regions_and_heap(void) {
  rh_shared = xmap(4 * PG, RW, SHARED);
  rh_private = xmap(4 * PG, RW, PRIV);
  rh_heap = heap_grow(4);
  fill(rh_shared, 4, 0x1100);
  fill(rh_private, 4, 0x1200);
  fill(rh_heap, 4, 0x1300);
  in_child(rh_child, 0);
  expect(rh_shared, 4, 0x7700, "shared region (the child's writes)");
  expect(rh_private, 4, 0x1200, "private region");
  expect(rh_heap, 4, 0x1300, "heap");
  check(munmap((void *)rh_shared, 4 * PG) == 0 && munmap((void *)rh_private, 4 * PG) == 0,
        "munmap failed");
  sbrk(-4 * PG);
}

// Fork a child that writes va; the write must kill it.
static void expect_write_kills(uint va, const char *what) {
  int pid = xfork();
  if (pid == 0) {
    *(volatile uint *)va = 1;
    fail("%s: the write did not kill the process", what);
  }
  xwait(pid);
}

static uint ro_region;

static void ro_child(uint unused) {
  expect(ro_region, 2, 0x3300, "read-only region in the child");
  expect_write_kills(ro_region, "read-only region in the child");
}

// A read-only region stays read-only in both processes, also when its
// page is no longer shared; mprotect back to writable copies on write.
static void test_readonly_stays(void) {
  ro_region = xmap(2 * PG, RW, PRIV);
  fill(ro_region, 2, 0x3300);
  check(mprotect((void *)ro_region, 2 * PG, PROT_READ) == 0, "mprotect failed");
  in_child(ro_child, 0);
  expect_write_kills(ro_region, "read-only region, shared with nobody now");
  int pid = xfork();
  if (pid == 0) {
    check(mprotect((void *)ro_region, 2 * PG, RW) == 0, "child mprotect failed");
    fill(ro_region, 2, 0x3400);
    expect(ro_region, 2, 0x3400, "child after mprotect and write");
    exit();
  }
  xwait(pid);
  expect(ro_region, 2, 0x3300, "parent after the child's mprotect and write");
  expect_write_kills(ro_region, "read-only region after the child's mprotect");
  check(munmap((void *)ro_region, 2 * PG) == 0, "munmap failed");
}

// exec right after fork copies nothing: afterwards every page of the
// parent is its own again, so writing it all allocates nothing.
static void test_exec_after_fork(void) {
  static char *argv[] = {"echo", "# cowtest exec", 0};
  uint base = heap_grow(64), before;
  int pid;
  fill(base, 64, 0x6600);
  pid = xfork();
  if (pid == 0) {
    exec("echo", argv);
    fail("exec echo failed");
  }
  xwait(pid);
  before = free_pages();
  fill(base, 64, 0x6700);
  check(free_pages() >= before, "writing after the child exec'd took %d pages",
        before - free_pages());
  sbrk(-64 * PG);
}

// Parent and child (on other CPUs) write the same shared pages at once,
// over and over; each sees only its own values.
static void test_smp_race(void) {
  uint base = heap_grow(8), round, i;
  int pid;
  for (round = 0; round < 20; round++) {
    fill(base, 8, 0x100);
    pid = xfork();
    for (i = 0; i < 8; i++)
      *(volatile uint *)(base + i * PG + 8) = (pid == 0 ? 0xc000 : 0xa000) + i;
    expect(base, 8, pid == 0 ? 0xc000 : 0xa000, pid == 0 ? "child" : "parent");
    if (pid == 0)
      exit();
    xwait(pid);
  }
  sbrk(-8 * PG);
}

// Running out of memory on a copy-on-write fault kills only the writer
// and frees its memory.
static uint oom_base;

static void oom_child(uint pages) {
  // Take what is free, then write the shared pages: a copy is needed and
  // there is no page for it.
  uint n;
  for (n = free_pages(); n > 0; n /= 2)
    while (sbrk(n * PG) != (char *)-1)
      ;
  fill(oom_base, pages, 0xbad);
  fail("the write to a shared page with no memory left did not kill");
}

static void test_oom_kills_writer(void) {
  uint before;
  oom_base = heap_grow(16);
  fill(oom_base, 16, 0x2200);
  before = free_pages();
  in_child(oom_child, 16);
  check(free_pages() >= before, "the killed child's memory was not freed");
  expect(oom_base, 16, 0x2200, "parent after its child ran out of memory");
  sbrk(-16 * PG);
}

static struct testcase cases[] = {
  {"big-fork", test_big_fork},
  {"generations", test_generations},
  {"kernel-write", test_kernel_write},
  {"fork-storm", test_fork_storm},
  {"regions-and-heap", test_regions_and_heap},
  {"readonly-stays", test_readonly_stays},
  {"exec-after-fork", test_exec_after_fork},
  {"smp-race", test_smp_race},
  {"oom-kills-writer", test_oom_kills_writer},
};

static struct suite suite = {"cowtest", CASE_TIMEOUT, cases, sizeof(cases) / sizeof(cases[0])};

int main(int argc, char *argv[]) {
  run_suite(&suite, argc, argv);
  exit();
}
