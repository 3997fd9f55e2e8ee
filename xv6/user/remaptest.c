// remaptest: the rest of the Linux memory calls, rule by rule against
// docs/mmap.md: MAP_FIXED_NOREPLACE, region merging, mremap, madvise, each
// with its error cases (in the manner of the Linux Test Project's mmap17,
// mprotect05, munmap04 and mremap01-05, and the madvise man page).
//
//   remaptest [case...]
//
// Output, parsed by the host harness (tests/harness.py):
//   BEGIN remaptest N, then PASS name | FAIL name: why per case, then
//   END remaptest. Other lines start with "# " (the kernel's "-- killed"
//   lines for the cases that expect a fault also appear). The runner,
//   which also checks that each case gives back every page and kmalloc
//   object it used, is suite.c.
#include "types.h"
#include "stat.h"
#include "fcntl.h"
#include "mmu.h"
#include "memlayout.h"
#include "mman.h"
#include "user.h"
#include "suite.h"

#define CASE_TIMEOUT 6000
#define PG      PGSIZE
#define RW      (PROT_READ | PROT_WRITE)
#define PRIV    (MAP_PRIVATE | MAP_ANONYMOUS)
#define SHARED  (MAP_SHARED | MAP_ANONYMOUS)
#define ARENA   0x40000000u  // free in a new process
#define FAILED  ((uint)MAP_FAILED)
#define RFILE   "remap.dat"
#define RFILEPAGES 8

// ---- helpers --------------------------------------------------------------

static void poke(uint va, uint v) {
  *(volatile uint *)va = v;
}

static uint peek(uint va) {
  return *(volatile uint *)va;
}

static uint map(uint addr, uint len, int prot, int flags) {
  return (uint)mmap((void *)addr, len, prot, flags, -1, 0);
}

static uint xmap_at(uint addr, uint len, int prot, int flags) {
  uint a = map(addr, len, prot, flags | MAP_FIXED_NOREPLACE);
  check(a == addr, "mmap at %x returned %x", addr, a);
  return a;
}

static void xmunmap(uint addr, uint len) {
  check(munmap((void *)addr, len) == 0, "munmap(%x, %x) failed", addr, len);
}

static void xmprotect(uint addr, uint len, int prot) {
  check(mprotect((void *)addr, len, prot) == 0, "mprotect(%x, %x) failed", addr, len);
}

static uint remap(uint old, uint oldlen, uint newlen, int flags, uint newaddr) {
  return (uint)mremap((void *)old, oldlen, newlen, flags, (void *)newaddr);
}

static void fill(uint va, int n, uint seed) {
  int i;
  for (i = 0; i < n; i++)
    poke(va + i * PG, seed + i);
}

static void expect_fill(uint va, int n, uint seed) {
  int i;
  for (i = 0; i < n; i++)
    check(peek(va + i * PG) == seed + i, "page %x holds %x, expected %x", va + i * PG,
          peek(va + i * PG), seed + i);
}

// Reading (or writing) va must kill a child.
static void expect_fault(uint va, int write) {
  int pid = xfork();
  if (pid == 0) {
    if (write)
      poke(va, 1);
    else
      (void)peek(va);
    fail("access at %x did not kill the process", va);
  }
  xwait(pid);
}

#define MAXMAPS 64
#define FIRST_REGION 4  // text, guard, stack, heap, then the regions
static struct mapinfo maps[MAXMAPS];
static int nmaps;

static int count_regions(void) {
  nmaps = getmaps(0, maps, MAXMAPS);
  check(nmaps >= FIRST_REGION && nmaps < MAXMAPS, "getmaps returned %d", nmaps);
  return nmaps - FIRST_REGION;
}

// The region record containing va, or 0.
static struct mapinfo *region_of(uint va) {
  int i;
  count_regions();
  for (i = FIRST_REGION; i < nmaps; i++)
    if (maps[i].start <= va && va < maps[i].end)
      return &maps[i];
  return 0;
}

// There must be one region exactly [start, end).
static void expect_region(uint start, uint end) {
  struct mapinfo *m = region_of(start);
  check(m != 0, "no region holds %x", start);
  check(m->start == start && m->end == end, "region %x-%x, expected %x-%x", m->start, m->end,
        start, end);
}

static uint resident(uint va) {
  struct mapinfo *m = region_of(va);
  check(m != 0, "no region holds %x", va);
  return m->resident;
}

// RFILE: RFILEPAGES pages, page i's first word i + 100.
static int make_file(void) {
  static uint page[PG / 4];
  int fd, i;
  unlink(RFILE);
  fd = open(RFILE, O_CREATE | O_RDWR);
  check(fd >= 0, "cannot create %s", RFILE);
  for (i = 0; i < RFILEPAGES; i++) {
    page[0] = i + 100;
    check(write(fd, page, PG) == PG, "write to %s failed", RFILE);
  }
  return fd;
}

// The word at offset off of RFILE, read through the file system.
static uint file_word(uint off) {
  static char page[PG];
  int fd = open(RFILE, O_RDONLY), n;
  check(fd >= 0, "cannot open %s", RFILE);
  for (n = PG; off >= PG && n == PG; off -= PG)
    n = read(fd, page, PG);
  check(n == PG && read(fd, page, PG) == PG, "%s is too short", RFILE);
  close(fd);
  return *(uint *)(page + off);
}

// ---- MAP_FIXED_NOREPLACE -------------------------------------------------

static void test_noreplace_free(void) {
  uint a = xmap_at(ARENA + 3 * PG, 2 * PG, RW, PRIV);
  expect_region(a, a + 2 * PG);
  poke(a, 7);
  check(peek(a) == 7, "the new region does not hold what was written");
  // Without MAP_FIXED too, and beside a region: placed exactly.
  check(map(a + 2 * PG, PG, PROT_READ, PRIV | MAP_FIXED_NOREPLACE) == a + 2 * PG,
        "NOREPLACE next to a region not placed there");
  xmunmap(a, 3 * PG);
}

// mmap17: any overlap fails and changes nothing.
static void test_noreplace_overlap(void) {
  uint a = xmap_at(ARENA + 8 * PG, 4 * PG, RW, PRIV), before;
  fill(a, 4, 0x10);
  before = count_regions();
  check(map(a, 4 * PG, RW, PRIV | MAP_FIXED_NOREPLACE) == FAILED, "same range accepted");
  check(map(a - 2 * PG, 3 * PG, RW, PRIV | MAP_FIXED_NOREPLACE) == FAILED,
        "overlap at the start accepted");
  check(map(a + 3 * PG, 2 * PG, RW, PRIV | MAP_FIXED_NOREPLACE) == FAILED,
        "overlap at the end accepted");
  check(map(a + PG, PG, RW, SHARED | MAP_FIXED_NOREPLACE) == FAILED, "inside accepted");
  check(map(a - 4 * PG, 12 * PG, RW, PRIV | MAP_FIXED_NOREPLACE | MAP_FIXED) == FAILED,
        "a range around the region accepted (MAP_FIXED does not override)");
  check(map(PGROUNDDOWN((uint)sbrk(0)) - PG, PG, RW, PRIV | MAP_FIXED_NOREPLACE) == FAILED,
        "over the heap accepted");
  check(map(0, PG, RW, PRIV | MAP_FIXED_NOREPLACE) == FAILED, "over the text accepted");
  check(map(a + 1, PG, RW, PRIV | MAP_FIXED_NOREPLACE) == FAILED, "unaligned accepted");
  check(map(MMAPTOP, PG, RW, PRIV | MAP_FIXED_NOREPLACE) == FAILED, "above MMAPTOP accepted");
  check(count_regions() == before, "failed calls changed the regions");
  expect_region(a, a + 4 * PG);
  expect_fill(a, 4, 0x10);
  xmunmap(a, 4 * PG);
}

// ---- merging ---------------------------------------------------------------

// 1,000 adjacent pages, one call each, in both directions: one region.
static void test_merge_adjacent(void) {
  uint a = ARENA, i, before = count_regions();
  for (i = 0; i < 500; i++)
    xmap_at(a + (500 + i) * PG, PG, RW, PRIV);      // upwards
  for (i = 0; i < 500; i++)
    xmap_at(a + (499 - i) * PG, PG, RW, PRIV);      // downwards
  check(count_regions() == before + 1, "%d regions after 1000 adjacent maps",
        count_regions() - before);
  expect_region(a, a + 1000 * PG);
  fill(a, 1000, 0x100);
  expect_fill(a, 1000, 0x100);
  // The placement flags are requests, not properties: no obstacle to merging.
  check(map(a + 1000 * PG, PG, RW, PRIV | MAP_POPULATE) == a + 1000 * PG, "hint not taken");
  check(map(a + 1001 * PG, PG, RW, PRIV | MAP_FIXED) == a + 1001 * PG, "MAP_FIXED failed");
  expect_region(a, a + 1002 * PG);
  xmunmap(a, 1002 * PG);
}

// mprotect05: the middle splits in three; back, one again.
static void test_merge_mprotect(void) {
  uint a = xmap_at(ARENA, 8 * PG, RW, PRIV), before = count_regions();
  fill(a, 8, 0x20);
  xmprotect(a + 3 * PG, 2 * PG, PROT_READ);
  check(count_regions() == before + 2, "mprotect of the middle: %d regions, expected %d",
        count_regions(), before + 2);
  expect_region(a + 3 * PG, a + 5 * PG);
  expect_fault(a + 3 * PG, 1);
  xmprotect(a + 3 * PG, 2 * PG, RW);
  check(count_regions() == before, "mprotect back: %d regions, expected %d", count_regions(),
        before);
  expect_region(a, a + 8 * PG);
  expect_fill(a, 8, 0x20);
  // Piece by piece to one protection: merges with each neighbour in turn.
  xmprotect(a, 4 * PG, PROT_READ);
  xmprotect(a + 4 * PG, 4 * PG, PROT_READ);
  expect_region(a, a + 8 * PG);
  xmunmap(a, 8 * PG);
}

// Neighbours that behave differently stay apart.
static void test_merge_not(void) {
  uint a = ARENA, c = ARENA + 16 * PG, before = count_regions();
  xmap_at(a, 2 * PG, RW, PRIV);
  xmap_at(a + 2 * PG, 2 * PG, PROT_READ, PRIV);   // other protection
  xmap_at(a + 4 * PG, 2 * PG, PROT_READ, SHARED);  // shared
  xmap_at(a + 6 * PG, 2 * PG, PROT_READ, SHARED);  // another object
  check(count_regions() == before + 4, "%d regions, expected 4 apart", count_regions() - before);
  // The pieces of one shared object, at the next page, merge again.
  xmprotect(a + 4 * PG, PG, RW);
  xmprotect(a + 4 * PG, PG, PROT_READ);
  expect_region(a + 4 * PG, a + 6 * PG);
  // One object, but not at the next page: its page 2 moved before page 0.
  xmap_at(c, 3 * PG, RW, SHARED);
  fill(c, 3, 0x27);
  check(remap(c + 2 * PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, c - PG) == c - PG,
        "mremap fixed failed");
  expect_region(c - PG, c);
  expect_region(c, c + 2 * PG);
  check(peek(c - PG) == 0x29, "the moved shared page holds %x", peek(c - PG));
  // And back: one region again.
  check(remap(c - PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, c + 2 * PG) == c + 2 * PG,
        "mremap fixed back failed");
  expect_region(c, c + 3 * PG);
  expect_fill(c, 3, 0x27);
  xmunmap(a, 32 * PG);
}

// A private region whose pages are shared copy-on-write with a child
// merges with a fresh neighbour; each page still behaves as before.
static void test_merge_cow(void) {
  uint a = xmap_at(ARENA, 4 * PG, RW, PRIV);
  int p[2], pid;
  char c;
  fill(a, 4, 0x30);
  xpipe(p);
  pid = xfork();
  if (pid == 0) {
    close(p[1]);
    check(read(p[0], &c, 1) == 1, "parent died");
    expect_fill(a, 4, 0x30);  // the parent's writes do not show here
    exit();
  }
  close(p[0]);
  xmap_at(a + 4 * PG, 2 * PG, RW, PRIV);
  expect_region(a, a + 6 * PG);
  fill(a, 6, 0x40);
  expect_fill(a, 6, 0x40);
  check(write(p[1], "g", 1) == 1, "child died");
  close(p[1]);
  xwait(pid);
  xmunmap(a, 6 * PG);
}

// munmap04 and the region limit: covered in mmaptest (region-limit).

// ---- mremap ------------------------------------------------------------------

// mremap01/02: shrink in place, also with MREMAP_MAYMOVE; the tail is freed.
static void test_mremap_shrink(void) {
  uint a = xmap_at(ARENA, 8 * PG, RW, PRIV), before;
  fill(a, 8, 0x50);
  before = free_pages();
  check(remap(a, 8 * PG, 5 * PG, 0, 0) == a, "shrink moved or failed");
  check(free_pages() >= before + 3, "the cut pages were not freed");
  expect_region(a, a + 5 * PG);
  check(remap(a, 5 * PG, 3 * PG, MREMAP_MAYMOVE, 0) == a, "shrink with MAYMOVE moved");
  expect_region(a, a + 3 * PG);
  expect_fill(a, 3, 0x50);
  expect_fault(a + 3 * PG, 0);
  // Shrinking a piece in the middle splits the region.
  xmunmap(a, 3 * PG);
  a = xmap_at(ARENA, 8 * PG, RW, PRIV);
  check(remap(a + 2 * PG, 4 * PG, 2 * PG, 0, 0) == a + 2 * PG, "shrink of the middle failed");
  expect_region(a, a + 4 * PG);
  expect_region(a + 6 * PG, a + 8 * PG);
  xmunmap(a, 8 * PG);
}

// Grow in place when the pages after are free; the new pages are zero.
static void test_mremap_grow(void) {
  uint a = xmap_at(ARENA, 4 * PG, RW, PRIV), before;
  fill(a, 4, 0x60);
  before = free_pages();
  check(remap(a, 4 * PG, 10 * PG, 0, 0) == a, "grow in place failed");
  check(free_pages() + 1 >= before, "grow in place allocated pages");
  expect_region(a, a + 10 * PG);
  expect_fill(a, 4, 0x60);
  check(peek(a + 6 * PG) == 0, "a grown page is not zero");
  // Growing into a neighbour merges with it when alike.
  xmap_at(a + 12 * PG, 2 * PG, RW, PRIV);
  check(remap(a, 10 * PG, 12 * PG, 0, 0) == a, "grow up to a neighbour failed");
  expect_region(a, a + 14 * PG);
  xmunmap(a, 14 * PG);
}

// mremap03/04: blocked growth fails without MREMAP_MAYMOVE, moves with it:
// the page-table entries move, no page is copied, the old range is gone.
static void test_mremap_move(void) {
  uint a = xmap_at(ARENA, 64 * PG, RW, PRIV), b, before, res;
  xmap_at(a + 64 * PG, PG, PROT_READ, PRIV);  // in the way
  fill(a, 64, 0x70);
  check(remap(a, 64 * PG, 128 * PG, 0, 0) == FAILED, "blocked growth without MAYMOVE");
  expect_region(a, a + 64 * PG);
  res = resident(a);
  before = free_pages();
  b = remap(a, 64 * PG, 128 * PG, MREMAP_MAYMOVE, 0);
  check(b != FAILED && b != a, "move returned %x", b);
  check(free_pages() + 2 >= before, "moving 64 pages used %d pages", before - free_pages());
  expect_region(b, b + 128 * PG);
  check(resident(b) == res, "%d pages resident after the move, %d before", resident(b), res);
  expect_fill(b, 64, 0x70);
  check(peek(b + 100 * PG) == 0, "a grown page is not zero");
  check(region_of(a) == 0, "the old range is still mapped");
  expect_fault(a, 0);
  xmunmap(b, 128 * PG);
  xmunmap(a + 64 * PG, PG);
}

// MREMAP_FIXED moves to newaddr, replacing what is there.
static void test_mremap_fixed(void) {
  uint a = xmap_at(ARENA, 4 * PG, RW, PRIV), t = ARENA + 32 * PG;
  fill(a, 4, 0x80);
  xmap_at(t, 8 * PG, PROT_READ, SHARED);  // replaced
  check(remap(a, 4 * PG, 4 * PG, MREMAP_FIXED, t) == FAILED, "FIXED without MAYMOVE");
  check(remap(a, 4 * PG, 4 * PG, MREMAP_FIXED | MREMAP_MAYMOVE, a + 2 * PG) == FAILED,
        "overlapping old and new ranges");
  check(remap(a, 4 * PG, 4 * PG, MREMAP_FIXED | MREMAP_MAYMOVE, t + 1) == FAILED,
        "unaligned newaddr");
  check(remap(a, 4 * PG, 6 * PG, MREMAP_FIXED | MREMAP_MAYMOVE, t + PG) == t + PG,
        "fixed move failed");
  expect_region(t, t + PG);             // what is left of the replaced region
  expect_region(t + PG, t + 7 * PG);
  expect_region(t + 7 * PG, t + 8 * PG);
  expect_fill(t + PG, 4, 0x80);
  check(peek(t + 5 * PG) == 0, "a grown page is not zero");
  check(region_of(a) == 0, "the old range is still mapped");
  // A shrinking fixed move: only what fits goes along.
  check(remap(t + PG, 6 * PG, 2 * PG, MREMAP_FIXED | MREMAP_MAYMOVE, a) == a, "shrink-move");
  expect_region(a, a + 2 * PG);
  expect_fill(a, 2, 0x80);
  xmunmap(a, 2 * PG);
  xmunmap(t, 8 * PG);
}

// mremap05 and the rest: the errors, none of which changes anything.
static void test_mremap_bad(void) {
  uint a = xmap_at(ARENA, 4 * PG, RW, PRIV), before;
  xmap_at(a + 4 * PG, 2 * PG, PROT_READ, PRIV);
  fill(a, 4, 0x90);
  before = count_regions();
  check(remap(a + 1, PG, 2 * PG, MREMAP_MAYMOVE, 0) == FAILED, "unaligned old");
  check(remap(a, 4 * PG, 0, MREMAP_MAYMOVE, 0) == FAILED, "newlen 0");
  check(remap(a, 0, PG, MREMAP_MAYMOVE, 0) == FAILED, "oldlen 0");
  check(remap(a, 5 * PG, 8 * PG, MREMAP_MAYMOVE, 0) == FAILED, "a range across two regions");
  check(remap(a + 8 * PG, PG, 2 * PG, MREMAP_MAYMOVE, 0) == FAILED, "an unmapped range");
  check(remap(a, 4 * PG, 8 * PG, 4, 0) == FAILED, "unknown flag");
  check(remap(KERNBASE, PG, PG, 0, 0) == FAILED, "kernel address");
  check(remap(a, 4 * PG, 0x7FFFF000, MREMAP_MAYMOVE, 0) == FAILED, "more than there is");
  check(count_regions() == before, "failed calls changed the regions");
  expect_region(a, a + 4 * PG);
  expect_fill(a, 4, 0x90);
  xmunmap(a, 6 * PG);
}

// A shared region moves and grows: both processes keep seeing each
// other's stores; a child's copy of a private region keeps its data.
static void test_mremap_shared(void) {
  uint s = xmap_at(ARENA, 2 * PG, RW, SHARED), b;
  int p[2], q[2], pid;
  char c;
  fill(s, 2, 0xa0);
  xpipe(p);
  xpipe(q);
  pid = xfork();
  if (pid == 0) {
    check(read(p[0], &c, 1) == 1, "parent died");
    expect_fill(s, 2, 0xb0);        // the parent's stores through the moved region
    poke(s + PG, 0xc1);
    check(write(q[1], "c", 1) == 1, "parent died");
    exit();
  }
  xmap_at(s + 2 * PG, PG, PROT_READ, PRIV);  // in the way
  b = remap(s, 2 * PG, 4 * PG, MREMAP_MAYMOVE, 0);
  check(b != FAILED && b != s, "move of the shared region returned %x", b);
  expect_fill(b, 2, 0xa0);
  fill(b, 2, 0xb0);
  poke(b + 3 * PG, 5);            // a grown page
  check(write(p[1], "p", 1) == 1, "child died");
  check(read(q[0], &c, 1) == 1, "child died");
  check(peek(b + PG) == 0xc1, "the child's store is not seen after the move");
  xwait(pid);
  close(p[0]); close(p[1]); close(q[0]); close(q[1]);
  xmunmap(b, 4 * PG);
  xmunmap(s + 2 * PG, PG);
}

// Moving pages shared copy-on-write keeps the sharing: nothing is copied,
// and the child still sees its own data.
static void test_mremap_cow(void) {
  uint a = xmap_at(ARENA, 32 * PG, RW, PRIV), b, before;
  int p[2], pid;
  char c;
  fill(a, 32, 0xd0);
  xpipe(p);
  pid = xfork();
  if (pid == 0) {
    check(read(p[0], &c, 1) == 1, "parent died");
    expect_fill(a, 32, 0xd0);
    exit();
  }
  xmap_at(a + 32 * PG, PG, PROT_READ, PRIV);  // in the way
  before = free_pages();
  b = remap(a, 32 * PG, 40 * PG, MREMAP_MAYMOVE, 0);
  check(b != FAILED, "move failed");
  check(free_pages() + 2 >= before, "the move copied %d pages", before - free_pages());
  expect_fill(b, 32, 0xd0);
  fill(b, 32, 0xe0);              // copies now, for the parent only
  check(write(p[1], "p", 1) == 1, "child died");
  xwait(pid);
  close(p[0]);
  close(p[1]);
  xmunmap(b, 40 * PG);
  xmunmap(a + 32 * PG, PG);
}

// File regions: a private one grows and moves and still shows the file;
// a shared one moves and its stores reach the file.
static void test_mremap_file(void) {
  int fd = make_file();
  uint a, b;
  a = (uint)mmap((void *)ARENA, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
  check(a == ARENA, "file mmap failed");
  check(peek(a) == 100, "file page 0 holds %x", peek(a));
  check(remap(a, 2 * PG, 4 * PG, 0, 0) == a, "grow of a file region failed");
  check(peek(a + 3 * PG) == 103, "grown file page holds %x", peek(a + 3 * PG));
  xmap_at(a + 4 * PG, PG, PROT_READ, PRIV);
  b = remap(a, 4 * PG, 6 * PG, MREMAP_MAYMOVE, 0);
  check(b != FAILED && b != a, "move of a file region returned %x", b);
  check(peek(b + PG) == 101 && peek(b + 5 * PG) == 105, "moved file region reads wrong");
  xmunmap(b, 6 * PG);
  xmunmap(a + 4 * PG, PG);
  a = (uint)mmap((void *)ARENA, 2 * PG, RW, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 2 * PG);
  check(a == ARENA, "shared file mmap failed");
  b = remap(a, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_FIXED, ARENA + 16 * PG);
  check(b == ARENA + 16 * PG, "move of a shared file region returned %x", b);
  poke(b + PG, 0x5555);
  check(msync((void *)b, 2 * PG, MS_SYNC) == 0, "msync failed");
  check(file_word(3 * PG) == 0x5555, "the store through the moved region is not in the file");
  xmunmap(b, 2 * PG);
  close(fd);
  unlink(RFILE);
}

// ---- madvise -----------------------------------------------------------------

// MADV_DONTNEED: resident falls at once; private pages come back zero,
// shared ones with the shared contents, private file ones with the file's.
static void test_madvise_dontneed(void) {
  uint a = xmap_at(ARENA, 16 * PG, RW, PRIV), s, f, before;
  int fd = make_file();
  fill(a, 16, 0x11);
  before = free_pages();
  check(madvise((void *)(a + 4 * PG), 8 * PG, MADV_DONTNEED) == 0, "DONTNEED failed");
  check(resident(a) == 8, "%d pages resident, expected 8", resident(a));
  check(free_pages() >= before + 8, "the dropped pages were not freed");
  expect_fill(a, 4, 0x11);
  expect_fill(a + 12 * PG, 4, 0x11 + 12);
  check(peek(a + 5 * PG) == 0, "a dropped private page is not zero");
  s = xmap_at(ARENA + 32 * PG, 2 * PG, RW, SHARED);
  fill(s, 2, 0x22);
  check(madvise((void *)s, 2 * PG, MADV_DONTNEED) == 0, "DONTNEED (shared) failed");
  check(resident(s) == 0, "shared pages still resident");
  expect_fill(s, 2, 0x22);
  f = (uint)mmap((void *)(ARENA + 48 * PG), 2 * PG, RW, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0);
  check(f == ARENA + 48 * PG, "file mmap failed");
  poke(f, 0x33);
  check(madvise((void *)f, 2 * PG, MADV_DONTNEED) == 0, "DONTNEED (file) failed");
  check(peek(f) == 100, "a dropped private file page holds %x, not the file's", peek(f));
  xmunmap(ARENA, 64 * PG);
  close(fd);
  unlink(RFILE);
}

// MADV_WILLNEED: every page present at once, readable on a read-only region.
static void test_madvise_willneed(void) {
  uint a = xmap_at(ARENA, 8 * PG, PROT_READ, PRIV);
  check(madvise((void *)a, 8 * PG, MADV_WILLNEED) == 0, "WILLNEED failed");
  check(resident(a) == 8, "%d pages resident, expected 8", resident(a));
  check(peek(a + 7 * PG) == 0, "a read-only page is not zero");
  expect_fault(a, 1);
  check(madvise((void *)a, 8 * PG, MADV_NORMAL) == 0, "NORMAL failed");
  xmunmap(a, 8 * PG);
}

static void test_madvise_bad(void) {
  uint a = xmap_at(ARENA, 4 * PG, RW, PRIV);
  xmap_at(a + 6 * PG, 2 * PG, RW, PRIV);
  check(madvise((void *)a, 4 * PG, 1) == -1, "advice 1 accepted");
  check(madvise((void *)a, 4 * PG, 99) == -1, "advice 99 accepted");
  check(madvise((void *)a, 8 * PG, MADV_DONTNEED) == -1, "a range with a hole accepted");
  check(madvise((void *)(a + 1), PG, MADV_DONTNEED) == -1, "unaligned accepted");
  check(madvise((void *)KERNBASE, PG, MADV_DONTNEED) == -1, "kernel address accepted");
  check(madvise((void *)a, 0, MADV_DONTNEED) == 0, "length 0 is not 0");
  xmunmap(a, 8 * PG);
}

// ---- the runner -----------------------------------------------------------------

static struct testcase cases[] = {
  {"noreplace-free", test_noreplace_free},
  {"noreplace-overlap", test_noreplace_overlap},
  {"merge-adjacent", test_merge_adjacent},
  {"merge-mprotect", test_merge_mprotect},
  {"merge-not", test_merge_not},
  {"merge-cow", test_merge_cow},
  {"mremap-shrink", test_mremap_shrink},
  {"mremap-grow", test_mremap_grow},
  {"mremap-move", test_mremap_move},
  {"mremap-fixed", test_mremap_fixed},
  {"mremap-bad", test_mremap_bad},
  {"mremap-shared", test_mremap_shared},
  {"mremap-cow", test_mremap_cow},
  {"mremap-file", test_mremap_file},
  {"madvise-dontneed", test_madvise_dontneed},
  {"madvise-willneed", test_madvise_willneed},
  {"madvise-bad", test_madvise_bad},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static struct suite suite = {"remaptest", CASE_TIMEOUT, cases, NCASES};

int main(int argc, char *argv[]) {
  run_suite(&suite, argc, argv);
  exit();
}
