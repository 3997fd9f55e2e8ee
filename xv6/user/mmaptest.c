// mmaptest: anonymous memory regions (mmap, munmap, mprotect, getmaps)
// tested rule by rule against docs/mmap.md.
//
//   mmaptest [case...]
//
// Output, parsed by the host harness (tests/harness.py):
//   BEGIN mmaptest N            N = number of cases that will run
//   PASS name | FAIL name: why  one line per case
//   END mmaptest
// Anything else this program prints starts with "# " (the kernel's own
// "-- killed" messages for the cases that expect a fault also appear).
// The runner, which also checks that each case gives back every page and
// kmalloc object it used, is suite.c.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
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
#define ARENA   0x40000000u  // far from text, heap and the top: free in a new process
#define GIB     0x40000000u

// ---- processes and pipes ---------------------------------------------

// One byte through a pipe: the other side may go on.
static void send_token(int fd) {
  check(write(fd, "t", 1) == 1, "token write failed");
}

// Wait for the other side's token; end of file means it died.
static void await_token(int fd) {
  char c;
  check(read(fd, &c, 1) == 1, "the other process died before answering");
}

// ---- memory access ----------------------------------------------------

static void poke(uint va, uint v) {
  *(volatile uint *)va = v;
}

static uint peek(uint va) {
  return *(volatile uint *)va;
}

// Fork a child that reads or writes va; the access must kill it. The
// child reports a failure if it gets past the access.
static void expect_fault(uint va, int write, const char *what) {
  int pid = xfork();
  if (pid == 0) {
    if (write)
      poke(va, 0xdead);
    else
      (void)peek(va);
    fail("%s at %x did not kill the process", what, va);
  }
  xwait(pid);
}

static uint kmalloc_objects(void) {
  struct sysinfo si;
  check(sysinfo(&si) == 0, "sysinfo failed");
  return si.kmalloc_objects;
}

// ---- mapping helpers --------------------------------------------------

static uint map(uint addr, int len, int prot, int flags) {
  return (uint)mmap((void *)addr, len, prot, flags, -1, 0);
}

// mmap that must succeed.
static uint xmap(uint addr, int len, int prot, int flags) {
  uint a = map(addr, len, prot, flags);
  check(a != (uint)MAP_FAILED, "mmap(%x, %x) failed", addr, len);
  check(a % PG == 0 && a < MMAPTOP, "mmap returned %x", a);
  return a;
}

// mmap that must be placed exactly at want.
static uint xmap_at(uint want, uint addr, int len, int prot, int flags) {
  uint a = xmap(addr, len, prot, flags);
  check(a == want, "mmap(%x) placed at %x, expected %x", addr, a, want);
  return a;
}

static void xmunmap(uint addr, uint len) {
  check(munmap((void *)addr, len) == 0, "munmap(%x, %x) failed", addr, len);
}

static void xmprotect(uint addr, int len, int prot) {
  check(mprotect((void *)addr, len, prot) == 0, "mprotect(%x, %x) failed", addr, len);
}

// Write a recognisable word into each of n pages from va.
static void fill_pages(uint va, int n, uint seed) {
  int i;
  for (i = 0; i < n; i++)
    poke(va + i * PG, seed + i);
}

static void check_pages(uint va, int n, uint seed) {
  int i;
  for (i = 0; i < n; i++)
    check(peek(va + i * PG) == seed + i, "page %x holds %x, expected %x", va + i * PG,
          peek(va + i * PG), seed + i);
}

// ---- the address space as getmaps() reports it ------------------------

#define MAXMAPS 256
static struct mapinfo maps[MAXMAPS];
static int nmaps;

#define FIRST_REGION 4  // text, guard, stack, heap, then the regions

static void snapshot(void) {
  nmaps = getmaps(0, maps, MAXMAPS);
  check(nmaps >= FIRST_REGION && nmaps < MAXMAPS, "getmaps returned %d", nmaps);
}

static int count_regions(void) {
  snapshot();
  return nmaps - FIRST_REGION;
}

// The region record that starts at start, from the last snapshot.
static struct mapinfo *region_at(uint start) {
  int i;
  for (i = FIRST_REGION; i < nmaps; i++)
    if (maps[i].start == start)
      return &maps[i];
  return 0;
}

// There must be a region exactly [start, end) with prot.
static void expect_region(uint start, uint end, int prot) {
  struct mapinfo *m;
  snapshot();
  m = region_at(start);
  check(m != 0, "no region starts at %x", start);
  check(m->end == end, "region at %x ends at %x, expected %x", start, m->end, end);
  check(m->prot == prot, "region at %x has prot %x, expected %x", start, m->prot, prot);
}

// No region may overlap [start, end).
static void expect_unmapped(uint start, uint end) {
  int i;
  snapshot();
  for (i = FIRST_REGION; i < nmaps; i++)
    check(maps[i].end <= start || maps[i].start >= end, "region %x-%x overlaps %x",
          maps[i].start, maps[i].end, start);
}

static uint resident_at(uint start) {
  struct mapinfo *m;
  snapshot();
  m = region_at(start);
  check(m != 0, "no region starts at %x", start);
  return m->resident;
}

static void expect_resident(uint start, uint n) {
  uint r = resident_at(start);
  check(r == n, "region %x: %d pages resident, expected %d", start, r, n);
}

// Lowest address a region may use: the page-rounded top of the heap.
static uint region_floor(void) {
  return PGROUNDUP((uint)sbrk(0));
}

// Where docs/mmap.md puts size bytes for hint, in the layout of the last
// snapshot: the hint if it fits in a gap, else the closest place in a gap
// that can hold size; hint 0 means the top of the highest such gap.
// Returns 0 if no gap is large enough.
static uint expected_place(uint hint, uint size) {
  uint lo = PGROUNDUP(maps[FIRST_REGION - 1].end), gap, top, best = 0, bestdist = 0, at, dist;
  int i = FIRST_REGION, found = 0;
  hint = PGROUNDDOWN(hint);
  for (gap = lo;; gap = maps[i++].end) {
    top = i < nmaps ? maps[i].start : MMAPTOP;
    if (top > gap && top - gap >= size) {
      if (hint == 0) {
        best = top - size;
        found = 1;
      } else {
        at = hint < gap ? gap : (hint > top - size ? top - size : hint);
        dist = at > hint ? at - hint : hint - at;
        if (!found || dist < bestdist) {
          best = at;
          bestdist = dist;
          found = 1;
        }
      }
    }
    if (i >= nmaps)
      break;
  }
  return found ? best : 0;
}

// mmap with a hint, which must land where the rule says.
static uint map_as_predicted(uint hint, int len, int prot, int flags) {
  uint want;
  snapshot();
  want = expected_place(hint, PGROUNDUP(len));
  check(want != 0, "no gap for %x bytes", len);
  return xmap_at(want, hint, len, prot, flags);
}

// ---- cases: the call's arguments ----------------------------------------

// flags == 0: private read/write whatever prot says.
static void test_legacy(void) {
  uint a = (uint)mmap(0, 3 * PG, 0, 0, -1, 0), b;
  check(a == MMAPTOP - 3 * PG, "legacy mmap at %x, expected %x", a, MMAPTOP - 3 * PG);
  fill_pages(a, 3, 0x1000);
  check_pages(a, 3, 0x1000);
  expect_region(a, a + 3 * PG, RW);
  check((region_at(a)->flags & (MAP_SHARED | MAP_PRIVATE)) == MAP_PRIVATE, "legacy not private");
  b = (uint)mmap((void *)ARENA, PG, PROT_READ | 0x70, 0, -1, 0);
  check(b == ARENA, "legacy mmap with a hint at %x", b);
  poke(b, 7);
  expect_region(b, b + PG, RW);
  check(mmap(0, PG, RW, 0, 3, 0) == MAP_FAILED, "legacy mmap with an fd succeeded");
  xmunmap(a, 3 * PG);
  xmunmap(b, PG);
}

static void test_badlen(void) {
  static int bad[] = {0, -1, -PG, (int)0x80000000, 0x7FFFFFFF};
  uint floor = region_floor(), a;
  int i, n = count_regions();
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    check(map(0, bad[i], RW, PRIV) == (uint)MAP_FAILED, "length %x accepted", bad[i]);
    check(mmap(0, bad[i], 0, 0, -1, 0) == MAP_FAILED, "legacy length %x accepted", bad[i]);
  }
  // One page more than the whole space between heap and MMAPTOP.
  check(map(0, MMAPTOP - floor + PG, RW, PRIV) == (uint)MAP_FAILED, "oversized mmap accepted");
  check(count_regions() == n, "a failed mmap changed the regions");
  // Exactly the whole space fits, at the bottom of it.
  a = xmap_at(floor, 0, MMAPTOP - floor, RW, PRIV);
  xmunmap(a, MMAPTOP - floor);
  // Lengths round up to whole pages.
  a = xmap(0, 1, RW, PRIV);
  expect_region(a, a + PG, RW);
  xmunmap(a, 1);
  a = xmap(0, PG + 1, RW, PRIV);
  expect_region(a, a + 2 * PG, RW);
  xmunmap(a, 2 * PG);
}

static void test_badflags(void) {
  static int flags[] = {
    MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS,  // both
    MAP_ANONYMOUS,                             // neither
    MAP_FIXED | MAP_ANONYMOUS,
    PRIV | 0x04, PRIV | 0x40, PRIV | 0x100, PRIV | 0x4000, PRIV | 0x10000,
    PRIV | 0x40000000, PRIV | (int)0x80000000, SHARED | 0x08,
  };
  static int prots[] = {0x8, 0x10, 0x100, PROT_READ | 0x80000000, -1};
  int i, n = count_regions();
  uint a;
  for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
    check(map(ARENA, PG, RW, flags[i]) == (uint)MAP_FAILED, "flags %x accepted", flags[i]);
  for (i = 0; i < sizeof(prots) / sizeof(prots[0]); i++)
    check(map(ARENA, PG, prots[i], PRIV) == (uint)MAP_FAILED, "prot %x accepted", prots[i]);
  // A file descriptor without MAP_ANONYMOUS is a file mapping: unsupported.
  check(mmap((void *)ARENA, PG, RW, MAP_PRIVATE, 0, 0) == MAP_FAILED, "fd 0 without ANON");
  check(mmap((void *)ARENA, PG, RW, MAP_SHARED, 3, 0) == MAP_FAILED, "fd 3 without ANON");
  check(mmap((void *)ARENA, PG, RW, PRIV, -1, 100) == MAP_FAILED, "unaligned offset");
  check(mmap((void *)ARENA, PG, RW, PRIV, -1, -1) == MAP_FAILED, "offset -1");
  check(count_regions() == n, "a failed mmap changed the regions");
  // With MAP_ANONYMOUS the fd is ignored; an aligned offset is fine.
  a = (uint)mmap((void *)ARENA, PG, RW, PRIV, 0, PG);
  check(a == ARENA, "ANON with fd 0 and offset PG: %x", a);
  // Without MAP_ANONYMOUS, fd -1 is still anonymous memory.
  a = (uint)mmap((void *)(ARENA + 2 * PG), PG, RW, MAP_SHARED, -1, 0);
  check(a == ARENA + 2 * PG, "SHARED without ANON, fd -1: %x", a);
  poke(ARENA, 1);
  poke(ARENA + 2 * PG, 2);
  xmunmap(ARENA, 3 * PG);
}

// PROT_NONE is no access at all; prot is honoured when flags != 0.
static void test_prot_none(void) {
  uint a = xmap(0, 2 * PG, PROT_NONE, PRIV);
  expect_region(a, a + 2 * PG, PROT_NONE);
  expect_fault(a, 0, "read of PROT_NONE");
  expect_fault(a + PG, 1, "write to PROT_NONE");
  expect_resident(a, 0);
  xmprotect(a, 2 * PG, RW);
  check(peek(a) == 0, "PROT_NONE page not zero after mprotect");
  poke(a + PG, 5);
  xmunmap(a, 2 * PG);
}

static void test_prot_read(void) {
  uint a = xmap(0, 2 * PG, PROT_READ, PRIV);
  check(peek(a) == 0, "fresh read-only page not zero");
  expect_resident(a, 1);
  expect_fault(a, 1, "write to PROT_READ (present)");
  expect_fault(a + PG, 1, "write to PROT_READ (untouched)");
  xmunmap(a, 2 * PG);
}

// PROT_EXEC is accepted; there is no no-execute bit, so code in a
// writable region runs.
static void test_prot_exec(void) {
  static uchar code[] = {0xb8, 42, 0, 0, 0, 0xc3};  // mov $42, %eax; ret
  uint a = xmap(0, PG, PROT_READ | PROT_WRITE | PROT_EXEC, PRIV), b;
  memmove((void *)a, code, sizeof(code));
  check(((int (*)(void))a)() == 42, "code in a region did not run");
  b = xmap(0, PG, PROT_EXEC, PRIV);
  expect_region(b, b + PG, PROT_EXEC);
  xmunmap(a, PG);
  xmunmap(b, PG);
}

// ---- cases: placement --------------------------------------------------

static void test_hint_free(void) {
  expect_unmapped(ARENA, ARENA + 64 * PG);
  xmap_at(ARENA + 5 * PG, ARENA + 5 * PG + 123, 2 * PG, RW, PRIV);  // rounded down
  xmap_at(ARENA + 7 * PG, ARENA + 7 * PG, PG, RW, PRIV);            // right next to it
  // Adjacent regions alike merge into one record.
  expect_region(ARENA + 5 * PG, ARENA + 8 * PG, RW);
  xmunmap(ARENA + 5 * PG, 3 * PG);
}

// The hint is taken: closest place in a gap that can hold the length.
static void test_hint_occupied(void) {
  uint h = ARENA;
  xmap_at(h, h, 8 * PG, RW, PRIV);                      // [h, h+8)
  xmap_at(h + 10 * PG, h + 10 * PG, 10 * PG, RW, PRIV);  // [h+10, h+20); 2-page hole
  // 3 pages near h+2: the hole is too small; below h is 5 pages away,
  // above h+20 is 18 pages away.
  // (Read-only, so that they do not merge with the regions they touch.)
  map_as_predicted(h + 2 * PG, 3 * PG, PROT_READ, PRIV);
  expect_region(h - 3 * PG, h, PROT_READ);
  // 1 page near h+16: the hole (at h+9, 7 away) loses to h+20 (4 away).
  map_as_predicted(h + 16 * PG, PG, PROT_READ, PRIV);
  expect_region(h + 20 * PG, h + 21 * PG, PROT_READ);
  // 1 page near h+11: the hole wins now, at its top.
  map_as_predicted(h + 11 * PG, PG, PROT_READ, PRIV);
  expect_region(h + 9 * PG, h + 10 * PG, PROT_READ);
  // A 2-page request at the old hole's start: nothing there now.
  map_as_predicted(h + 8 * PG, 2 * PG, RW, PRIV);
  xmunmap(h - 16 * PG, 48 * PG);
  expect_unmapped(h - 16 * PG, h + 32 * PG);
}

// Hints outside the region area: below the heap, above MMAPTOP, kernel.
static void test_hint_outside(void) {
  uint a;
  a = map_as_predicted(PG, 2 * PG, RW, PRIV);
  check(a == region_floor(), "hint in text placed at %x, floor is %x", a, region_floor());
  xmunmap(a, 2 * PG);
  a = map_as_predicted(MMAPTOP + 0x800, 2 * PG, RW, PRIV);
  check(a == MMAPTOP - 2 * PG, "hint above MMAPTOP placed at %x", a);
  xmunmap(a, 2 * PG);
  a = map_as_predicted(KERNBASE + 0x100000, PG, RW, PRIV);
  check(a == MMAPTOP - PG, "hint in the kernel placed at %x", a);
  xmunmap(a, PG);
  a = map_as_predicted(MMAPTOP - PG, 4 * PG, RW, PRIV);
  check(a == MMAPTOP - 4 * PG, "hint too near the top placed at %x", a);
  xmunmap(a, 4 * PG);
}

// addr 0: the top of the highest gap that fits.
static void test_topdown(void) {
  uint a, b, c;
  // Protections alternate so that neighbours do not merge.
  a = xmap_at(MMAPTOP - 4 * PG, 0, 4 * PG, RW, PRIV);
  b = xmap_at(a - 2 * PG, 0, 2 * PG, PROT_READ, PRIV);
  c = xmap_at(b - 3 * PG, 0, 3 * PG, RW, PRIV);
  xmunmap(b, 2 * PG);
  map_as_predicted(0, PG, PROT_READ, PRIV);
  expect_region(b + PG, a, PROT_READ);      // top of b's hole
  map_as_predicted(0, 2 * PG, PROT_READ, PRIV);
  expect_region(c - 2 * PG, c, PROT_READ);  // hole too small: below c
  map_as_predicted(0, PG, PROT_NONE, PRIV);
  expect_region(b, b + PG, PROT_NONE);      // the rest of the hole
  xmunmap(c - 2 * PG, MMAPTOP - (c - 2 * PG));
}

// After munmap the freed gap is reused by the closest hint.
static void test_reuse(void) {
  uint a = ARENA;
  xmap_at(a, a, 4 * PG, RW, PRIV);
  xmap_at(a + 4 * PG, a + 4 * PG, 4 * PG, RW, PRIV);
  xmap_at(a + 8 * PG, a + 8 * PG, 4 * PG, RW, PRIV);
  fill_pages(a + 4 * PG, 4, 0x400);
  xmunmap(a + 4 * PG, 4 * PG);
  xmap_at(a + 4 * PG, a + 4 * PG, 4 * PG, RW, PRIV);
  check(peek(a + 4 * PG) == 0, "reused page not zero");
  xmunmap(a + 4 * PG, 4 * PG);
  map_as_predicted(a + 5 * PG, 4 * PG, RW, PRIV);  // clamped into the hole
  expect_region(a, a + 12 * PG, RW);               // and merged with both sides
  map_as_predicted(a + 5 * PG, PG, RW, PRIV);      // only a hole elsewhere now
  xmunmap(a - 4 * PG, 20 * PG);
}

// MAP_FIXED: exact, and replacing whatever was there.
static void test_fixed(void) {
  uint a = ARENA, before;
  xmap_at(a, a, 8 * PG, RW, PRIV | MAP_FIXED);
  fill_pages(a, 8, 0x800);
  before = free_pages();
  xmap_at(a + 2 * PG, a + 2 * PG, 2 * PG, PROT_READ, SHARED | MAP_FIXED);
  check(free_pages() >= before + 2, "replaced pages not freed");
  expect_region(a, a + 2 * PG, RW);
  expect_region(a + 2 * PG, a + 4 * PG, PROT_READ);
  expect_region(a + 4 * PG, a + 8 * PG, RW);
  expect_resident(a, 2);
  expect_resident(a + 2 * PG, 0);
  expect_resident(a + 4 * PG, 4);
  check(peek(a + 2 * PG) == 0, "replaced page not zero");
  check_pages(a, 2, 0x800);
  check_pages(a + 4 * PG, 4, 0x804);
  // Over several regions and the holes between them.
  xmap_at(a + 10 * PG, a + 10 * PG, 2 * PG, RW, PRIV);
  xmap_at(a + 14 * PG, a + 14 * PG, 2 * PG, RW, PRIV);
  xmap_at(a + 6 * PG, a + 6 * PG, 12 * PG, RW, PRIV | MAP_FIXED);
  expect_region(a + 4 * PG, a + 18 * PG, RW);  // merged with what it touches
  check(count_regions() == 3, "%d regions after MAP_FIXED over several", count_regions());
  check_pages(a + 4 * PG, 2, 0x804);
  check(peek(a + 7 * PG) == 0, "page under MAP_FIXED not zero");
  xmunmap(a, 18 * PG);
}

static void test_fixed_bad(void) {
  uint floor, n;
  check(sbrk(PG) != (char *)-1, "sbrk failed");
  floor = region_floor();
  n = count_regions();
  check(map(ARENA + 1, PG, RW, PRIV | MAP_FIXED) == (uint)MAP_FAILED, "unaligned FIXED");
  check(map(ARENA + 0x800, PG, RW, PRIV | MAP_FIXED) == (uint)MAP_FAILED, "unaligned FIXED");
  check(map(0, PG, RW, PRIV | MAP_FIXED) == (uint)MAP_FAILED, "FIXED at 0");
  check(map(PG, PG, RW, PRIV | MAP_FIXED) == (uint)MAP_FAILED, "FIXED over text");
  check(map(floor - PG, PG, RW, PRIV | MAP_FIXED) == (uint)MAP_FAILED, "FIXED over heap");
  check(map(floor - PG, 2 * PG, RW, PRIV | MAP_FIXED) == (uint)MAP_FAILED, "FIXED into heap");
  check(map(MMAPTOP - PG, 2 * PG, RW, PRIV | MAP_FIXED) == (uint)MAP_FAILED, "FIXED past top");
  check(map(MMAPTOP, PG, RW, PRIV | MAP_FIXED) == (uint)MAP_FAILED, "FIXED at MMAPTOP");
  check(map(KERNBASE, PG, RW, PRIV | MAP_FIXED) == (uint)MAP_FAILED, "FIXED in kernel");
  check(map(0xFFFFF000, PG, RW, PRIV | MAP_FIXED) == (uint)MAP_FAILED, "FIXED at 4G-4K");
  check(count_regions() == n, "a failed MAP_FIXED changed the regions");
  // Both ends of the allowed range are fine.
  xmap_at(floor, floor, PG, RW, PRIV | MAP_FIXED);
  xmap_at(MMAPTOP - PG, MMAPTOP - PG, PG, RW, PRIV | MAP_FIXED);
  xmunmap(floor, PG);
  xmunmap(MMAPTOP - PG, PG);
}

// ---- cases: lazy memory ------------------------------------------------

static void test_lazy(void) {
  uint a = xmap(0, 16 * PG, RW, PRIV), before = free_pages();
  expect_resident(a, 0);
  check(peek(a + 3 * PG) == 0, "fresh page not zero");
  expect_resident(a, 1);
  poke(a + 7 * PG, 7);
  poke(a + 7 * PG + 8, 8);
  expect_resident(a, 2);
  check(free_pages() <= before - 2, "touching 2 pages took %d", before - free_pages());
  xmunmap(a, 16 * PG);
  check(free_pages() >= before, "munmap did not give the pages back");
}

static void test_populate(void) {
  uint before = free_pages(), a, s;
  int i;
  a = xmap(0, 16 * PG, RW, PRIV | MAP_POPULATE);
  s = xmap(0, 8 * PG, PROT_READ, SHARED | MAP_POPULATE);
  expect_resident(a, 16);
  expect_resident(s, 8);
  check(free_pages() <= before - 24, "MAP_POPULATE took only %d pages", before - free_pages());
  for (i = 0; i < 16 * PG; i += 512)
    check(peek(a + i) == 0, "populated page not zero at %x", a + i);
  xmunmap(a, 16 * PG);
  xmunmap(s, 8 * PG);
}

// MAP_POPULATE of more than there is fails and changes nothing.
static void test_populate_nomem(void) {
  struct sysinfo si;
  uint before, objects, len;
  int n = count_regions();
  check(sysinfo(&si) == 0, "sysinfo failed");
  len = (si.freepages + 4096) * PG;
  check(len < GIB + GIB / 2, "too much memory for this test: %d pages", si.freepages);
  before = free_pages();
  objects = kmalloc_objects();
  check(map(0, len, RW, PRIV | MAP_POPULATE) == (uint)MAP_FAILED, "populated %x bytes", len);
  check(count_regions() == n, "failed MAP_POPULATE left a region");
  check(free_pages() == before, "failed MAP_POPULATE lost %d pages", before - free_pages());
  check(kmalloc_objects() == objects, "failed MAP_POPULATE kept kmalloc objects");
}

// 1 GiB of address space is fine on a 512 MiB machine while untouched.
static void test_huge_lazy(void) {
  uint before = free_pages(), a;
  a = xmap(0, GIB, RW, PRIV);
  check(before - free_pages() < 4, "1 GiB lazy mmap took %d pages", before - free_pages());
  poke(a, 1);
  poke(a + GIB - 4, 2);
  expect_resident(a, 2);
  check(map(0, GIB, RW, PRIV) == (uint)MAP_FAILED, "a second 1 GiB region fit");
  xmunmap(a, GIB);
  check(free_pages() >= before, "1 GiB region did not give its pages back");
}

// ---- cases: munmap -----------------------------------------------------

static void test_munmap_whole(void) {
  uint a = xmap(0, 4 * PG, RW, PRIV), before;
  fill_pages(a, 4, 0x40);
  before = free_pages();
  xmunmap(a, 4 * PG);
  check(free_pages() >= before + 4, "munmap freed %d pages, not 4", free_pages() - before);
  expect_unmapped(a, a + 4 * PG);
  expect_fault(a, 0, "read of an unmapped page");
  expect_fault(a + 3 * PG, 1, "write to an unmapped page");
}

static void test_munmap_start(void) {
  uint a = xmap(0, 4 * PG, RW, PRIV);
  fill_pages(a, 4, 0x40);
  xmunmap(a, PG);
  expect_region(a + PG, a + 4 * PG, RW);
  expect_resident(a + PG, 3);
  check_pages(a + PG, 3, 0x41);
  expect_fault(a, 0, "read of an unmapped start");
  xmunmap(a + PG, 3 * PG);
}

static void test_munmap_end(void) {
  uint a = xmap(0, 4 * PG, RW, PRIV);
  fill_pages(a, 4, 0x40);
  xmunmap(a + 3 * PG, PG);
  expect_region(a, a + 3 * PG, RW);
  xmunmap(a + 2 * PG, 100);  // rounds up to a page
  expect_region(a, a + 2 * PG, RW);
  expect_resident(a, 2);
  check_pages(a, 2, 0x40);
  expect_fault(a + 2 * PG, 1, "write to an unmapped end");
  xmunmap(a, 2 * PG);
}

static void test_munmap_middle(void) {
  uint a = xmap(0, 8 * PG, RW, PRIV);
  int n = count_regions();
  fill_pages(a, 8, 0x80);
  xmunmap(a + 3 * PG, 2 * PG);
  check(count_regions() == n + 1, "split left %d regions, expected %d", count_regions(), n + 1);
  expect_region(a, a + 3 * PG, RW);
  expect_region(a + 5 * PG, a + 8 * PG, RW);
  expect_resident(a, 3);
  expect_resident(a + 5 * PG, 3);
  check_pages(a, 3, 0x80);
  check_pages(a + 5 * PG, 3, 0x85);
  expect_fault(a + 3 * PG, 0, "read of the hole");
  expect_fault(a + 4 * PG, 1, "write to the hole");
  xmunmap(a, 8 * PG);
  expect_unmapped(a, a + 8 * PG);
}

// One munmap across several regions and the holes between them.
static void test_munmap_span(void) {
  uint a = ARENA;
  xmap_at(a, a, 4 * PG, RW, PRIV);
  xmap_at(a + 6 * PG, a + 6 * PG, 2 * PG, RW, SHARED);
  xmap_at(a + 10 * PG, a + 10 * PG, 4 * PG, PROT_READ, PRIV);
  fill_pages(a, 4, 0x10);
  fill_pages(a + 6 * PG, 2, 0x16);
  xmunmap(a + 2 * PG, 10 * PG);
  check(count_regions() == 2, "%d regions left, expected 2", count_regions());
  expect_region(a, a + 2 * PG, RW);
  expect_region(a + 12 * PG, a + 14 * PG, PROT_READ);
  check_pages(a, 2, 0x10);
  xmunmap(a, 14 * PG);
  check(count_regions() == 0, "regions left after munmap of all");
}

static void test_munmap_bad(void) {
  uint a = xmap(0, 2 * PG, RW, PRIV);
  int n = count_regions();
  check(a == MMAPTOP - 2 * PG, "region not at the top: %x", a);
  poke(a, 1);
  check(munmap((void *)ARENA, PG) < 0, "munmap of nothing succeeded");
  check(munmap((void *)0, PG) < 0, "munmap of text succeeded");
  check(munmap((void *)(a + 1), PG) < 0, "unaligned munmap succeeded");
  check(munmap((void *)a, 0) < 0, "munmap of length 0 succeeded");
  check(munmap((void *)a, -PG) < 0, "munmap of length -PG succeeded");
  check(munmap((void *)a, 0x80000000) < 0, "munmap of length 2 GiB succeeded");
  check(munmap((void *)PG, KERNBASE) < 0, "munmap(PG, KERNBASE) succeeded");
  check(munmap((void *)a, 4 * PG) < 0, "munmap past KERNBASE succeeded");
  check(munmap((void *)KERNBASE, PG) < 0, "munmap of the kernel succeeded");
  check(munmap((void *)0xFFFFF000, PG) < 0, "munmap at 4G-4K succeeded");
  check(munmap((void *)MMAPTOP, PG) < 0, "munmap above MMAPTOP succeeded");
  check(count_regions() == n, "a failed munmap changed the regions");
  expect_region(a, a + 2 * PG, RW);
  check(peek(a) == 1, "a failed munmap lost data");
  xmunmap(a, 3 * PG);  // reaching exactly KERNBASE is allowed
}

// A range reaching below the regions removes the regions only: text,
// data, stack and heap are not regions.
static uint data_word = 0x5eed;

static void test_munmap_outside(void) {
  volatile uint on_stack = 0x57ac;
  uint heap = (uint)sbrk(PG), a = xmap(0, 2 * PG, RW, PRIV), b = xmap(ARENA, PG, RW, PRIV);
  poke(heap, 0x4ea9);
  poke(a, 1);
  poke(b, 2);
  xmunmap(heap, b + PG - heap);  // heap and the lower region
  check(peek(heap) == 0x4ea9, "munmap from the heap up changed the heap");
  expect_unmapped(b, b + PG);
  xmunmap(0, KERNBASE);          // everything (the length is unsigned)
  check(count_regions() == 0, "regions left after munmap(0, KERNBASE)");
  check(data_word == 0x5eed && on_stack == 0x57ac, "munmap(0, KERNBASE) changed data/stack");
  check(peek(heap) == 0x4ea9, "munmap(0, KERNBASE) changed the heap");
  check(maps[3].end == heap + PG, "munmap(0, KERNBASE) changed the heap's size");
}

// munmap gives pages back at once, not at exit.
static void test_munmap_frees(void) {
  uint a = xmap(0, 32 * PG, RW, PRIV), s = xmap(0, 16 * PG, RW, SHARED), before;
  fill_pages(a, 32, 1);
  fill_pages(s, 16, 1);
  before = free_pages();
  xmunmap(a, 32 * PG);
  check(free_pages() >= before + 32, "munmap freed %d of 32 pages", free_pages() - before);
  before = free_pages();
  xmunmap(s, 16 * PG);
  check(free_pages() >= before + 16, "shared munmap freed %d of 16", free_pages() - before);
}

// A shared page is freed when no region maps it, even if the rest of
// the region lives on.
static void test_shared_free(void) {
  uint s = xmap(0, 16 * PG, RW, SHARED), before;
  int pid, go[2];
  fill_pages(s, 16, 0x160);
  before = free_pages();
  xmunmap(s, 8 * PG);
  check(free_pages() >= before + 8, "munmap of half a shared region freed %d of 8 pages",
        free_pages() - before);
  // Still mapped in a child: the parent's munmap must not free it.
  xpipe(go);
  pid = xfork();
  if (pid == 0) {
    close(go[1]);
    await_token(go[0]);
    check_pages(s + 8 * PG, 8, 0x168);
    exit();
  }
  close(go[0]);
  xmunmap(s + 8 * PG, 8 * PG);
  send_token(go[1]);
  xwait(pid);
  close(go[1]);
}

// ---- cases: mprotect ----------------------------------------------------

static void test_mprotect_ro(void) {
  uint a = xmap(0, 4 * PG, RW, PRIV);
  fill_pages(a, 2, 0x20);
  xmprotect(a, 4 * PG, PROT_READ);
  expect_region(a, a + 4 * PG, PROT_READ);
  check_pages(a, 2, 0x20);
  expect_fault(a, 1, "write to a read-only present page");
  expect_fault(a + 3 * PG, 1, "write to a read-only untouched page");
  xmprotect(a, 4 * PG, RW);
  poke(a, 0x99);
  poke(a + 3 * PG, 0x98);
  check(peek(a) == 0x99, "write after mprotect RW lost");
  xmunmap(a, 4 * PG);
}

static void test_mprotect_none(void) {
  uint a = xmap(0, 2 * PG, RW, SHARED);
  fill_pages(a, 2, 0x30);
  xmprotect(a, 2 * PG, PROT_NONE);
  expect_region(a, a + 2 * PG, PROT_NONE);
  expect_fault(a, 0, "read of a PROT_NONE present page");
  expect_fault(a + PG, 1, "write to a PROT_NONE present page");
  xmprotect(a, 2 * PG, PROT_READ);
  check_pages(a, 2, 0x30);
  xmunmap(a, 2 * PG);
}

static void test_mprotect_split(void) {
  uint a = xmap(0, 8 * PG, RW, PRIV);
  int n = count_regions();
  fill_pages(a, 8, 0x50);
  xmprotect(a + 2 * PG, 3 * PG, PROT_READ);  // middle: three pieces
  expect_region(a, a + 2 * PG, RW);
  expect_region(a + 2 * PG, a + 5 * PG, PROT_READ);
  expect_region(a + 5 * PG, a + 8 * PG, RW);
  xmprotect(a, PG, PROT_NONE);               // start of the first piece
  expect_region(a, a + PG, PROT_NONE);
  expect_region(a + PG, a + 2 * PG, RW);
  xmprotect(a + 7 * PG, 1, PROT_READ);       // end of the last, length rounded
  expect_region(a + 5 * PG, a + 7 * PG, RW);
  expect_region(a + 7 * PG, a + 8 * PG, PROT_READ);
  check(count_regions() == n + 4, "%d regions after 3 splits, expected %d", nmaps - 4, n + 4);
  expect_resident(a + 2 * PG, 3);
  check_pages(a + PG, 7, 0x51);
  expect_fault(a + 3 * PG, 1, "write to the read-only middle");
  poke(a + 5 * PG, 0x55);
  // One call over several adjacent regions: no holes; alike again, one region.
  xmprotect(a, 8 * PG, RW);
  check(count_regions() == n, "%d regions after mprotect back, expected %d", nmaps - 4, n);
  expect_region(a, a + 8 * PG, RW);
  poke(a + 7 * PG, 0x57);
  xmunmap(a, 8 * PG);
}

static void test_mprotect_bad(void) {
  uint a = ARENA, stack;
  int n;
  xmap_at(a, a, 2 * PG, RW, PRIV);
  xmap_at(a + 3 * PG, a + 3 * PG, 2 * PG, RW, PRIV);
  poke(a, 1);
  n = count_regions();
  stack = maps[2].start;
  check(mprotect((void *)a, 5 * PG, PROT_READ) < 0, "mprotect over a hole succeeded");
  check(mprotect((void *)(a + PG), 3 * PG, PROT_READ) < 0, "mprotect into a hole succeeded");
  check(mprotect((void *)a, 6 * PG, PROT_READ) < 0, "mprotect past the end succeeded");
  check(mprotect((void *)(a - PG), 2 * PG, PROT_READ) < 0, "mprotect before start succeeded");
  check(mprotect((void *)(a + 1), PG, PROT_READ) < 0, "unaligned mprotect succeeded");
  check(mprotect((void *)a, 0, PROT_READ) < 0, "mprotect of length 0 succeeded");
  check(mprotect((void *)a, -PG, PROT_READ) < 0, "mprotect of length -PG succeeded");
  check(mprotect((void *)a, PG, 0x8) < 0, "mprotect with prot 8 succeeded");
  check(mprotect((void *)a, PG, -1) < 0, "mprotect with prot -1 succeeded");
  check(mprotect((void *)0, PG, PROT_READ) < 0, "mprotect of text succeeded");
  check(mprotect((void *)stack, PG, PROT_READ) < 0, "mprotect of the stack succeeded");
  check(mprotect((void *)KERNBASE, PG, PROT_READ) < 0, "mprotect of the kernel succeeded");
  check(count_regions() == n, "a failed mprotect changed the regions");
  expect_region(a, a + 2 * PG, RW);
  expect_region(a + 3 * PG, a + 5 * PG, RW);
  poke(a + PG, 2);  // still writable
  xmunmap(a, 5 * PG);
}

// ---- cases: fork, exec, exit -------------------------------------------

// Compare another process's regions with ours (last snapshot).
static void expect_same_regions(int pid) {
  static struct mapinfo theirs[MAXMAPS];
  int n = getmaps(pid, theirs, MAXMAPS), i;
  check(n == nmaps, "child has %d mappings, parent %d", n, nmaps);
  for (i = FIRST_REGION; i < n; i++)
    check(theirs[i].start == maps[i].start && theirs[i].end == maps[i].end &&
              theirs[i].prot == maps[i].prot && theirs[i].resident == maps[i].resident,
          "child's region %x differs (resident %d)", theirs[i].start, theirs[i].resident);
}

// Private regions: touched pages copied, untouched ones lazy, no
// writes visible across the fork either way.
static void test_fork_private(void) {
  uint a = xmap(0, 8 * PG, RW, PRIV), r = xmap(0, 2 * PG, PROT_READ, PRIV);
  int pid, down[2], up[2];
  fill_pages(a, 4, 0x100);
  (void)peek(r);
  xpipe(down);
  xpipe(up);
  pid = xfork();
  if (pid == 0) {
    close(down[1]);
    close(up[0]);
    await_token(down[0]);
    check_pages(a, 4, 0x100);
    check(peek(a + 5 * PG) == 0, "parent's write to an untouched page seen by child");
    check(peek(a + 7 * PG) == 0, "untouched page not zero in child");
    poke(a + 1 * PG, 0xC1);
    poke(a + 6 * PG, 0xC6);
    poke(a + 7 * PG, 0xC7);
    send_token(up[1]);
    exit();
  }
  close(down[0]);
  close(up[1]);
  snapshot();
  expect_same_regions(pid);
  poke(a, 0xA0);
  poke(a + 5 * PG, 0xA5);
  poke(a + 7 * PG, 0xA7);
  send_token(down[1]);
  await_token(up[0]);
  xwait(pid);
  check(peek(a + PG) == 0x101, "child's write to a copied page seen by parent");
  check(peek(a + 6 * PG) == 0, "child's write to an untouched page seen by parent");
  check(peek(a + 7 * PG) == 0xA7 && peek(a) == 0xA0, "parent's own writes lost");
  close(down[1]);
  close(up[0]);
  xmunmap(a, 8 * PG);
  xmunmap(r, 2 * PG);
}

// Shared regions: writes visible both ways, also for pages first touched
// after the fork.
static void test_fork_shared(void) {
  uint s = xmap(0, 8 * PG, RW, SHARED);
  int pid, down[2], up[2];
  poke(s, 0x100);
  xpipe(down);
  xpipe(up);
  pid = xfork();
  if (pid == 0) {
    close(down[1]);
    close(up[0]);
    check(peek(s) == 0x100, "shared page not inherited");
    await_token(down[0]);
    (void)peek(s + 4 * PG);  // faulted in by the child first
    send_token(up[1]);
    await_token(down[0]);
    check(peek(s) == 0xA0, "parent's write not seen by child");
    check(peek(s + 5 * PG) == 0xA5, "parent's first touch not seen by child");
    check(peek(s + 4 * PG) == 0xA4, "parent's write to child-touched page not seen");
    poke(s + PG, 0xC1);
    poke(s + 6 * PG, 0xC6);
    send_token(up[1]);
    exit();
  }
  close(down[0]);
  close(up[1]);
  snapshot();
  expect_same_regions(pid);
  send_token(down[1]);
  await_token(up[0]);
  poke(s, 0xA0);
  poke(s + 5 * PG, 0xA5);
  poke(s + 4 * PG, 0xA4);
  send_token(down[1]);
  await_token(up[0]);
  xwait(pid);
  check(peek(s + PG) == 0xC1, "child's write not seen by parent");
  check(peek(s + 6 * PG) == 0xC6, "child's first touch not seen by parent");
  close(down[1]);
  close(up[0]);
  xmunmap(s, 8 * PG);
}

// Map a bit of everything: private populated, shared touched, a split
// region, a touched PROT_NONE page, 1 GiB untouched: about 100 pages.
static void map_everything(void) {
  uint a = xmap(0, 64 * PG, RW, PRIV | MAP_POPULATE), s = xmap(0, 32 * PG, RW, SHARED), n;
  fill_pages(s, 32, 3);
  n = xmap(0, 4 * PG, RW, PRIV);
  fill_pages(n, 4, 4);
  xmprotect(n + PG, PG, PROT_NONE);
  xmunmap(a + 8 * PG, PG);
  xmap(0, GIB, RW, PRIV);
}

// exec drops every region: the new program starts with none and the
// pages are back. cat reading an idle pipe keeps the child alive.
static void test_exec_cleanup(void) {
  uint before = free_pages();
  int pid, in[2], ready[2], n = 0, t, used = 0;
  static char *argv[] = {"cat", 0};
  xpipe(in);
  xpipe(ready);
  pid = xfork();
  if (pid == 0) {
    map_everything();
    close(0);
    dup(in[0]);
    close(in[0]);
    close(in[1]);
    close(ready[0]);
    send_token(ready[1]);
    close(ready[1]);
    exec("cat", argv);
    fail("exec cat failed");
  }
  close(in[0]);
  close(ready[1]);
  await_token(ready[0]);
  close(ready[0]);
  // Until the exec is over: regions gone and the old image freed. cat
  // itself needs far fewer pages than the regions held.
  for (t = 0; t < 500; t++) {
    n = getmaps(pid, maps, MAXMAPS);
    used = before - free_pages();
    if (n == FIRST_REGION && used < 48)
      break;
    sleep(1);
  }
  check(n == FIRST_REGION, "after exec the process has %d mappings", n);
  check(used < 48, "after exec the child still holds %d pages", used);
  close(in[1]);  // cat sees end of file and exits
  xwait(pid);
}

// A failed exec returns to the old image with its regions intact.
static void test_exec_fail(void) {
  static char *argv[] = {"no-such-program", 0};
  uint a = xmap(0, 4 * PG, RW, PRIV), s = xmap(0, 2 * PG, RW, SHARED);
  int n = count_regions();
  fill_pages(a, 4, 0x44);
  fill_pages(s, 2, 0x22);
  check(exec("no-such-program", argv) < 0, "exec of a missing program succeeded");
  check(count_regions() == n, "failed exec changed the regions");
  check_pages(a, 4, 0x44);
  check_pages(s, 2, 0x22);
  xmunmap(a, 4 * PG);
  xmunmap(s, 2 * PG);
}

// exit frees every page and node, however the regions were left.
static void test_exit_cleanup(void) {
  uint before = free_pages(), objects = kmalloc_objects();
  int pid = xfork();
  if (pid == 0) {
    map_everything();
    exit();
  }
  xwait(pid);
  check(free_pages() == before, "exit lost %d pages", before - free_pages());
  check(kmalloc_objects() == objects, "exit kept %d kmalloc objects",
        kmalloc_objects() - objects);
}

// ---- cases: system calls on region memory --------------------------------

static char buf[512];
static char buf2[512];

// Buffers in untouched pages are faulted in by the kernel.
static void test_syscall_untouched(void) {
  uint a = xmap(0, 8 * PG, RW, PRIV);
  int p[2], fd, n, i, *fds = (int *)(a + 3 * PG);
  struct stat *st = (struct stat *)(a + 4 * PG);
  xpipe(p);
  check(write(p[1], "hello mmap", 10) == 10, "pipe write failed");
  check(read(p[0], (char *)a + 100, 10) == 10, "read into an untouched page failed");
  check(same_bytes((char *)a + 100, "hello mmap", 10), "read into a region got wrong data");
  check(write(p[1], (char *)a + 2 * PG, 64) == 64, "write from an untouched page failed");
  check(read(p[0], buf, 64) == 64, "pipe read failed");
  for (i = 0; i < 64; i++)
    check(buf[i] == 0, "untouched page read as %x", buf[i]);
  close(p[0]);
  close(p[1]);
  check(pipe(fds) == 0, "pipe() into an untouched page failed");
  close(fds[0]);
  close(fds[1]);
  fd = open("README", O_RDONLY);
  check(fd >= 0, "open README failed");
  check(fstat(fd, st) == 0 && st->size > 0, "fstat into an untouched page failed");
  n = read(fd, (char *)a + 6 * PG - 10, 100);  // straddles two untouched pages
  close(fd);
  fd = open("README", O_RDONLY);
  check(read(fd, buf2, 100) == n && n > 0, "README reads differ");
  close(fd);
  check(same_bytes((char *)a + 6 * PG - 10, buf2, n), "file data read into a region wrong");
  expect_resident(a, 6);  // only the pages the buffers touched
  xmunmap(a, 8 * PG);
}

// Buffers in unmapped, PROT_NONE or (for the kernel to write) read-only
// pages fail with -1; the process is not killed.
static void test_syscall_prot(void) {
  uint a = ARENA, rw = a, ro = a + PG, none = a + 3 * PG, hole = a + 5 * PG;
  int p[2], fd;
  xmap_at(rw, rw, PG, RW, PRIV);
  xmap_at(ro, ro, 2 * PG, PROT_READ, PRIV);
  xmap_at(none, none, PG, PROT_NONE, PRIV);
  xpipe(p);
  check(write(p[1], "abcdefghabcdefgh", 16) == 16, "pipe write failed");
  check(read(p[0], (char *)ro, 8) < 0, "read() into a read-only page succeeded");
  check(read(p[0], (char *)ro + PG, 8) < 0, "read() into an untouched read-only page");
  check(read(p[0], (char *)rw + PG - 4, 8) < 0, "read() across into read-only succeeded");
  check(read(p[0], (char *)none, 8) < 0, "read() into a PROT_NONE page succeeded");
  check(read(p[0], (char *)hole, 8) < 0, "read() into unmapped memory succeeded");
  check(write(p[1], (char *)none, 8) < 0, "write() from a PROT_NONE page succeeded");
  check(write(p[1], (char *)hole, 8) < 0, "write() from unmapped memory succeeded");
  check(write(p[1], (char *)ro, 8) == 8, "write() from a read-only page failed");
  check(read(p[0], (char *)rw, 8) > 0, "read() into a read/write page failed");
  check(pipe((int *)ro) < 0, "pipe() into a read-only page succeeded");
  fd = open("README", O_RDONLY);
  check(fstat(fd, (struct stat *)ro) < 0, "fstat into a read-only page succeeded");
  check(fstat(fd, (struct stat *)none) < 0, "fstat into a PROT_NONE page succeeded");
  close(fd);
  check(getmaps(0, (struct mapinfo *)ro, 4) < 0, "getmaps into a read-only page succeeded");
  close(p[0]);
  close(p[1]);
  check(peek(ro) == 0, "a failed read() wrote into a read-only page");
  xmunmap(a, 4 * PG);
}

// ---- cases: heap and regions ----------------------------------------------

static void test_heap_collision(void) {
  uint cur = (uint)sbrk(0), h = PGROUNDUP(cur) + 4 * PG;
  expect_unmapped(PGROUNDUP(cur), h + PG);
  xmap_at(h, h, PG, RW, PRIV);
  poke(h, 0x4ea9);
  check(sbrk(5 * PG) == (char *)-1, "sbrk across a region succeeded");
  check((uint)sbrk(0) == cur, "failed sbrk moved the heap to %x", (uint)sbrk(0));
  check(sbrk(0x7FFFFFFF) == (char *)-1, "sbrk of 2 GiB succeeded");
  check((uint)sbrk(2 * PG) == cur, "sbrk below the region failed");
  poke(cur + 2 * PG - 4, 1);
  // A hint inside the heap goes to the closest gap above it.
  map_as_predicted(cur, PG, RW, PRIV);
  check((uint)sbrk(-2 * PG) == cur + 2 * PG, "shrinking the heap failed");
  expect_region(h, h + PG, RW);
  check(peek(h) == 0x4ea9, "shrinking the heap changed a region");
  check(sbrk(-(int)(cur + PG)) == (char *)-1, "heap shrank below its start");
  check((uint)sbrk(0) == cur, "failed shrink moved the heap");
  xmunmap(PGROUNDUP(cur), 6 * PG);
}

// NREGION regions; one more, or a split that would make one, fails.
static void test_region_limit(void) {
  int nbuf = NREGION + FIRST_REGION + 8, n, i, have;
  struct mapinfo *big = (struct mapinfo *)xmap(0, nbuf * sizeof(struct mapinfo), RW, PRIV);
  uint r3 = xmap_at(ARENA + 16 * PG, ARENA + 16 * PG, 3 * PG, RW, PRIV), a = 0, lowest;
  have = count_regions();
  for (i = have; i < NREGION; i++)  // alternating, so that none merge
    a = xmap(0, PG, i % 2 ? PROT_READ : PROT_NONE, PRIV);
  lowest = a;
  n = getmaps(0, big, nbuf) - FIRST_REGION;
  check(n == NREGION, "%d regions, expected %d", n, NREGION);
  check(map(0, PG, RW, PRIV) == (uint)MAP_FAILED, "mmap number %d succeeded", NREGION + 1);
  check(map(ARENA, PG, RW, PRIV | MAP_FIXED) == (uint)MAP_FAILED, "MAP_FIXED past the limit");
  check(munmap((void *)(r3 + PG), PG) < 0, "a splitting munmap past the limit succeeded");
  check(mprotect((void *)(r3 + PG), PG, PROT_READ) < 0, "a splitting mprotect succeeded");
  check(mprotect((void *)r3, PG, PROT_READ) < 0, "a splitting mprotect (start) succeeded");
  check(getmaps(0, big, nbuf) - FIRST_REGION == NREGION, "failed calls changed the count");
  xmprotect(r3, 3 * PG, PROT_READ);  // no split: fine
  xmunmap(r3, PG);                   // trims, no new region: fine
  // MAP_FIXED replacing one whole region keeps the count: fine.
  xmap_at(lowest, lowest, PG, RW, PRIV | MAP_FIXED);
  xmunmap(lowest, PG);
  xmap(0, PG, RW, PRIV);
  check(map(0, PG, PROT_EXEC, PRIV) == (uint)MAP_FAILED, "mmap past the limit after munmap");
  // All of them are contiguous from the lowest up to MMAPTOP.
  xmunmap(lowest, MMAPTOP - lowest);
  xmunmap(r3, 3 * PG);
  check(count_regions() == 0, "%d regions left", count_regions());
}

// ---- cases: running out of memory ----------------------------------------

// A child that touches more than RAM is killed; its memory comes back.
static void test_oom(void) {
  uint before = free_pages(), objects = kmalloc_objects();
  int pid = xfork();
  if (pid == 0) {
    uint a = xmap(0, GIB, RW, PRIV), off;
    for (off = 0; off < GIB; off += PG)
      poke(a + off, off);
    fail("touched 1 GiB on a smaller machine without being killed");
  }
  xwait(pid);
  check(free_pages() == before, "the killed process lost %d pages", before - free_pages());
  check(kmalloc_objects() == objects, "the killed process kept kmalloc objects");
}

// ---- cases: getmaps and pmap ------------------------------------------------

static void test_getmaps(void) {
  static int kinds[] = {MAPKIND_TEXT, MAPKIND_GUARD, MAPKIND_STACK, MAPKIND_HEAP};
  uint a, s, r, heapend = (uint)sbrk(0);
  int i, pid;
  snapshot();
  check(nmaps == FIRST_REGION, "a new process has %d mappings", nmaps);
  for (i = 0; i < FIRST_REGION; i++)
    check(maps[i].kind == kinds[i], "mapping %d has kind %d", i, maps[i].kind);
  check(maps[0].start == 0 && maps[0].end == maps[1].start, "text/guard boundary wrong");
  check(maps[1].end - maps[1].start == PG && maps[1].prot == PROT_NONE, "guard page wrong");
  check(maps[2].start == maps[1].end && maps[2].end - maps[2].start == PG, "stack wrong");
  check(maps[2].prot == RW && maps[2].resident == 1, "stack prot/resident wrong");
  check(maps[3].start == maps[2].end && maps[3].end == heapend, "heap %x-%x, sbrk(0) %x",
        maps[3].start, maps[3].end, heapend);
  check(maps[0].prot & PROT_READ, "text not readable");
  a = xmap_at(ARENA, ARENA, 3 * PG, RW, PRIV);
  s = xmap(0, 2 * PG, PROT_READ, SHARED);
  r = xmap(0, PG, PROT_NONE, PRIV);
  poke(a + PG, 1);
  snapshot();
  check(nmaps == FIRST_REGION + 3, "%d mappings with 3 regions", nmaps);
  for (i = FIRST_REGION; i < nmaps; i++) {
    check(maps[i].kind == MAPKIND_REGION, "region %d has kind %d", i, maps[i].kind);
    check(i == FIRST_REGION || maps[i].start >= maps[i - 1].end, "regions out of order");
  }
  check(maps[FIRST_REGION].start >= PGROUNDUP(heapend), "region below the heap");
  check(maps[nmaps - 1].end <= MMAPTOP, "region above MMAPTOP");
  check(region_at(a)->resident == 1 && region_at(s)->resident == 0, "resident counts wrong");
  check(region_at(s)->flags & MAP_SHARED, "shared region without MAP_SHARED");
  check(!(region_at(a)->flags & MAP_SHARED), "private region with MAP_SHARED");
  check(region_at(r)->prot == PROT_NONE && region_at(s)->prot == PROT_READ, "prot wrong");
  check(getmaps(0, maps, 2) == 2, "getmaps with room for 2 did not return 2");
  check(getmaps(0, maps, 0) == 0, "getmaps with room for 0 did not return 0");
  check(getmaps(-1, maps, MAXMAPS) == nmaps, "getmaps(-1) is not the caller");
  check(getmaps(getpid(), maps, MAXMAPS) == nmaps, "getmaps(getpid()) differs");
  check(getmaps(99999, maps, MAXMAPS) < 0, "getmaps of a bad pid succeeded");
  pid = xfork();
  if (pid == 0)
    exit();
  xwait(pid);
  check(getmaps(pid, maps, MAXMAPS) < 0, "getmaps of a dead process succeeded");
  check(getmaps(0, (struct mapinfo *)KERNBASE, 4) < 0, "getmaps into the kernel succeeded");
  check(getmaps(0, (struct mapinfo *)(MMAPTOP + PG - 8), 4) < 0, "buffer into kernel");
  check(getmaps(0, (struct mapinfo *)(ARENA + 8 * PG), 4) < 0, "getmaps into a hole");
  check(getmaps(0, (struct mapinfo *)s, 4) < 0, "getmaps into a read-only region");
  check(getmaps(0, (struct mapinfo *)r, 4) < 0, "getmaps into a PROT_NONE region");
  check(getmaps(0, (struct mapinfo *)(a + 2 * PG), 8) == 7, "getmaps into a region page");
  xmunmap(a, 3 * PG);
  xmunmap(s, 2 * PG);
  xmunmap(r, PG);
}

// Another process's address space, while it runs.
static void test_getmaps_other(void) {
  int pid, down[2], up[2], i, found = 0;
  xpipe(down);
  xpipe(up);
  pid = xfork();
  if (pid == 0) {
    close(down[1]);
    close(up[0]);
    poke(xmap_at(ARENA + 100 * PG, ARENA + 100 * PG, 5 * PG, PROT_READ | PROT_WRITE, SHARED), 1);
    send_token(up[1]);
    await_token(down[0]);
    exit();
  }
  close(down[0]);
  close(up[1]);
  await_token(up[0]);
  nmaps = getmaps(pid, maps, MAXMAPS);
  for (i = FIRST_REGION; i < nmaps; i++)
    if (maps[i].start == ARENA + 100 * PG && maps[i].end == ARENA + 105 * PG &&
        maps[i].resident == 1 && (maps[i].flags & MAP_SHARED))
      found = 1;
  check(found, "the child's region is not in getmaps(child)");
  count_regions();
  check(nmaps == FIRST_REGION, "the child's region shows in the parent");
  send_token(down[1]);
  xwait(pid);
  close(down[1]);
  close(up[0]);
}

// Eight hex digits, as pmap prints addresses.
static char *hex8(char *out, uint v) {
  int i;
  for (i = 7; i >= 0; i--, v >>= 4)
    out[i] = "0123456789abcdef"[v & 15];
  out[8] = 0;
  return out;
}

// v in decimal.
static void decimal(char *out, uint v) {
  int n = 0;
  uint t;
  for (t = v; t >= 10; t /= 10)
    n++;
  out[n + 1] = 0;
  for (; n >= 0; n--, v /= 10)
    out[n] = '0' + v % 10;
}

// Is line somewhere in text (as a whole line)?
static int has_line(char *text, char *line) {
  int n = strlen(line);
  for (;;) {
    if (same_bytes(text, line, n) && (text[n] == '\n' || text[n] == 0))
      return 1;
    if ((text = strchr(text, '\n')) == 0)
      return 0;
    text++;
  }
}

// pmap PID prints our mappings, one line each, like /proc/PID/maps;
// more of them than its first, small buffer holds.
#define PMAP_EXTRA 70

static void test_pmap(void) {
  static char out[8192], want[64], pidstr[12], h1[9], h2[9];
  static char *argv[] = {"pmap", pidstr, 0};
  uint s = xmap(0, 16 * PG, RW, SHARED);
  int p[2], pid, n = 0, k, lines = 0, i;
  for (i = 0; i < PMAP_EXTRA; i++)  // alternating, so that none merge
    xmap(0, PG, i % 2 ? PROT_READ : PROT_NONE, PRIV);
  poke(s, 1);
  decimal(pidstr, getpid());
  xpipe(p);
  pid = xfork();
  if (pid == 0) {
    close(1);
    dup(p[1]);
    close(p[0]);
    close(p[1]);
    exec("pmap", argv);
    fail("exec pmap failed");
  }
  close(p[1]);
  while (n < sizeof(out) - 1 && (k = read(p[0], out + n, sizeof(out) - 1 - n)) > 0)
    n += k;
  out[n] = 0;
  close(p[0]);
  xwait(pid);
  for (i = 0; i < n; i++)
    lines += out[i] == '\n';
  check(lines == FIRST_REGION + 1 + PMAP_EXTRA, "pmap printed %d lines, expected %d", lines,
        FIRST_REGION + 1 + PMAP_EXTRA);
  check(same_bytes(out, "00000000-", 9), "pmap's first line: %s", out);
  strcpy(want, hex8(h1, s));
  want[8] = '-';
  strcpy(want + 9, hex8(h2, s + 16 * PG));
  strcpy(want + 17, " rw-s region 1/16");
  check(has_line(out, want), "pmap did not print '%s'", want);
  xmunmap(s - PMAP_EXTRA * PG, (16 + PMAP_EXTRA) * PG);
}

// ---- the runner -----------------------------------------------------------

static struct testcase cases[] = {
  {"legacy", test_legacy},
  {"badlen", test_badlen},
  {"badflags", test_badflags},
  {"prot-none", test_prot_none},
  {"prot-read", test_prot_read},
  {"prot-exec", test_prot_exec},
  {"hint-free", test_hint_free},
  {"hint-occupied", test_hint_occupied},
  {"hint-outside", test_hint_outside},
  {"topdown", test_topdown},
  {"reuse", test_reuse},
  {"fixed", test_fixed},
  {"fixed-bad", test_fixed_bad},
  {"lazy", test_lazy},
  {"populate", test_populate},
  {"populate-nomem", test_populate_nomem},
  {"huge-lazy", test_huge_lazy},
  {"munmap-whole", test_munmap_whole},
  {"munmap-start", test_munmap_start},
  {"munmap-end", test_munmap_end},
  {"munmap-middle", test_munmap_middle},
  {"munmap-span", test_munmap_span},
  {"munmap-bad", test_munmap_bad},
  {"munmap-outside", test_munmap_outside},
  {"munmap-frees", test_munmap_frees},
  {"shared-free", test_shared_free},
  {"mprotect-ro", test_mprotect_ro},
  {"mprotect-none", test_mprotect_none},
  {"mprotect-split", test_mprotect_split},
  {"mprotect-bad", test_mprotect_bad},
  {"fork-private", test_fork_private},
  {"fork-shared", test_fork_shared},
  {"exec-cleanup", test_exec_cleanup},
  {"exec-fail", test_exec_fail},
  {"exit-cleanup", test_exit_cleanup},
  {"syscall-untouched", test_syscall_untouched},
  {"syscall-prot", test_syscall_prot},
  {"heap-collision", test_heap_collision},
  {"region-limit", test_region_limit},
  {"oom", test_oom},
  {"getmaps", test_getmaps},
  {"getmaps-other", test_getmaps_other},
  {"pmap", test_pmap},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct suite suite = {"mmaptest", CASE_TIMEOUT, cases, NCASES};

int main(int argc, char *argv[]) {
  run_suite(&suite, argc, argv);
  exit();
}
