// mmapfuzz: a long random stream of mmap (MAP_FIXED_NOREPLACE too),
// munmap, mprotect, mremap, madvise and sbrk calls, arguments often
// garbage, each checked against a model of the address space that
// implements the rules of docs/mmap.md. The model merges neighbours as the
// kernel must, so getmaps() must show the minimal region list.
//
//   mmapfuzz [ops=N] [seed=N | fuzz-seed<N>]...
//
// Each seed is one case, named fuzz-seed<N>; the default is fuzz-seed1
// and fuzz-seed2, 3000 operations each.
//
// Output, parsed by the host harness (tests/harness.py):
//   BEGIN mmapfuzz N, then PASS name | FAIL name: why per case,
//   then END mmapfuzz. Other lines start with "# ".
//
// After every call the return value must be the one the model predicts;
// every few calls and at the end the model must equal getmaps() (bounds,
// prot, sharing and resident pages: the model knows which pages were
// touched). Touched pages are read back now and then. Where the contract
// leaves a choice (two gaps equally close to a hint, a hint that rounds
// down to 0, sbrk ending exactly at a region) the model accepts either
// answer and counts it. The runner (suite.c) fails a case that does not
// give back every page and kmalloc object.
//
// Some mappings are of a file (FUZZFILE, FILEPAGES pages of zeros, open
// for reading and writing): private, and within the file, so that they
// behave as anonymous private memory does (zeros until written, writes
// private) and the same model holds; the file must still hold zeros at the
// end. Any other descriptor must fail.
#include "types.h"
#include "mmu.h"
#include "memlayout.h"
#include "mman.h"
#include "sysinfo.h"
#include "fcntl.h"
#include "user.h"
#include "suite.h"

#define CASE_TIMEOUT 12000  // ticks a case may run before it is killed
#define PG         PGSIZE
#define RW         (PROT_READ | PROT_WRITE)
#define GIB        0x40000000u
#define MAXREG     400    // regions the model holds; ops that would pass it are skipped
#define CROWDED    120    // above this, prefer big munmaps
#define MAXTOUCH   2048   // touched pages the model remembers
#define BAND       0x20000000u  // most hints fall in a band of BANDPAGES pages
#define BANDPAGES  512
#define CHECK_EVERY 10    // ops between comparisons with getmaps
#define READ_EVERY  100   // ops between reading back every touched page

#define FUZZFILE   "mmapfuzz.dat"
#define FILEPAGES  17     // pages of FUZZFILE (the file system allows 17.5)

static int filefd = -1;   // FUZZFILE, open O_RDWR during a case

#define MAP_KNOWN  (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_POPULATE | \
                    MAP_FIXED_NOREPLACE)
#define OBJ_FILE   (-1)   // mregion.obj of a mapping of FUZZFILE
#define PROT_KNOWN (PROT_READ | PROT_WRITE | PROT_EXEC)


// ---- the model ------------------------------------------------------------

// One region as the model believes it is. Regions are kept sorted.
struct mregion {
  uint start, end;
  int prot;
  int shared;
  int populated;  // every page present (MAP_POPULATE), also after splits
  int obj;        // 0: private anonymous; OBJ_FILE; else a shared object's number
  uint off;       // obj != 0: the object's (or file's) page at start
};

static int nobjects;  // shared objects made so far (their numbers)
static int opno;      // the operation running, for messages

static struct mregion model[MAXREG];
static int nmodel;
static uint heapbase, msz;  // the heap is [heapbase, msz), msz = sbrk(0)

// A page the program touched, and the word it holds at word_addr().
struct mpage {
  uint va;
  uint value;
  uint off;       // where in the page the word is (it moves with mremap)
  int absent;     // dropped by MADV_DONTNEED from a shared region: not resident
};

static struct mpage touched[MAXTOUCH];
static int ntouched;

static int find_touched(uint page);

// Each page's test word sits at its own offset (chosen by the address the
// page was first touched at), so that a page mapped at the wrong address
// shows.
static uint word_addr(uint page) {
  int t = find_touched(page);
  return page + (t >= 0 ? touched[t].off : ((page / PG) * 52) % PG);
}

// Remember page as touched, holding value. Returns its index.
static int add_touched(uint page, uint value) {
  int t = ntouched++;
  touched[t].off = word_addr(page) - page;
  touched[t].va = page;
  touched[t].value = value;
  touched[t].absent = 0;
  return t;
}

static uint region_floor(void) {
  return PGROUNDUP(msz);
}

static int find_touched(uint page) {
  int i;
  for (i = 0; i < ntouched; i++)
    if (touched[i].va == page)
      return i;
  return -1;
}

static void forget_touched(uint lo, uint hi) {
  int i;
  for (i = 0; i < ntouched;)
    if (touched[i].va >= lo && touched[i].va < hi)
      touched[i] = touched[--ntouched];
    else
      i++;
}

static uint model_resident(struct mregion *r) {
  uint n = 0;
  int i;
  if (r->populated)
    return (r->end - r->start) / PG;
  for (i = 0; i < ntouched; i++)
    if (touched[i].va >= r->start && touched[i].va < r->end && !touched[i].absent)
      n++;
  return n;
}

static int overlaps(uint lo, uint hi) {
  int i;
  for (i = 0; i < nmodel; i++)
    if (model[i].start < hi && lo < model[i].end)
      return 1;
  return 0;
}

// Is [lo, hi) covered by regions without holes?
static int covered(uint lo, uint hi) {
  uint at = lo;
  int i;
  for (i = 0; i < nmodel && at < hi; i++) {
    if (model[i].end <= at)
      continue;
    if (model[i].start > at)
      return 0;
    at = model[i].end;
  }
  return at >= hi;
}

// Regions there would be after removing [lo, hi).
static int count_after_cut(uint lo, uint hi) {
  int i, n = nmodel;
  for (i = 0; i < nmodel; i++) {
    if (model[i].end <= lo || model[i].start >= hi)
      continue;
    if (model[i].start < lo && model[i].end > hi)
      n++;
    else if (model[i].start >= lo && model[i].end <= hi)
      n--;
  }
  return n;
}

static void insert_at(int i, struct mregion *r) {
  memmove(&model[i + 1], &model[i], (nmodel - i) * sizeof(model[0]));
  model[i] = *r;
  nmodel++;
}

static void remove_at(int i) {
  memmove(&model[i], &model[i + 1], (nmodel - i - 1) * sizeof(model[0]));
  nmodel--;
}

// Split region i at va (strictly inside it).
static void split_at(int i, uint va) {
  struct mregion r = model[i];
  model[i].end = va;
  r.start = va;
  if (r.obj)
    r.off += (va - model[i].start) / PG;
  insert_at(i + 1, &r);
}

// Take [lo, hi) out of the regions, splitting and trimming as needed.
static void model_cut(uint lo, uint hi) {
  int i;
  for (i = 0; i < nmodel; i++) {
    if (model[i].start < lo && model[i].end > lo)
      split_at(i, lo);
    else if (model[i].start < hi && model[i].end > hi)
      split_at(i, hi);
  }
  for (i = 0; i < nmodel;)
    if (model[i].start >= lo && model[i].end <= hi)
      remove_at(i);
    else
      i++;
  forget_touched(lo, hi);
}

static void model_insert(uint start, uint end, int prot, int shared, int populated,
                         int obj, uint off) {
  struct mregion r;
  int i;
  r.obj = obj;
  r.off = off;
  r.start = start;
  r.end = end;
  r.prot = prot;
  r.shared = shared;
  r.populated = populated;
  for (i = 0; i < nmodel && model[i].start < start; i++)
    ;
  insert_at(i, &r);
}

// Regions a and b (b right after a) behave the same: the kernel merges them.
static int mergeable(struct mregion *a, struct mregion *b) {
  return a->end == b->start && a->prot == b->prot && a->shared == b->shared &&
         a->obj == b->obj && (a->obj == 0 || a->off + (a->end - a->start) / PG == b->off);
}

// A populated region's pages become touched pages (zeros unless written),
// so that it can merge with one that is not populated.
static void unpopulate(struct mregion *r) {
  uint a;
  if (!r->populated)
    return;
  for (a = r->start; a < r->end; a += PG) {
    if (find_touched(a) >= 0)
      continue;
    check(ntouched < MAXTOUCH, "op %d: the model has no room for more pages", opno);
    add_touched(a, 0);
  }
  r->populated = 0;
}

// Merge neighbours that behave the same: the minimal region list, which
// getmaps must show.
static void model_merge(void) {
  int i;
  for (i = 0; i + 1 < nmodel;) {
    if (!mergeable(&model[i], &model[i + 1])) {
      i++;
      continue;
    }
    if (model[i].populated != model[i + 1].populated) {
      unpopulate(&model[i]);
      unpopulate(&model[i + 1]);
    }
    model[i].end = model[i + 1].end;
    remove_at(i + 1);
  }
}

static void model_protect(uint lo, uint hi, int prot) {
  int i;
  for (i = 0; i < nmodel; i++) {
    if (model[i].start < lo && model[i].end > lo)
      split_at(i, lo);
    else if (model[i].start < hi && model[i].end > hi)
      split_at(i, hi);
  }
  for (i = 0; i < nmodel; i++)
    if (model[i].start >= lo && model[i].end <= hi)
      model[i].prot = prot;
}

// ---- predictions: what docs/mmap.md says each call must do ------------------

// Where a region of size bytes goes for hint: into *want, and into *alt
// a second answer if the rule allows two (else alt = want). 0 if no gap.
static int place(uint addr, uint size, uint *want, uint *alt) {
  uint hint = PGROUNDDOWN(addr), gap = region_floor(), top, at, dist, best = 0;
  uint bestdist = 0, lowest = 0, highest = 0;
  int i = 0, found = 0, tie = 0;
  for (;; gap = model[i++].end) {
    top = i < nmodel ? model[i].start : MMAPTOP;
    if (top > gap && top - gap >= size) {
      if (!found || gap < lowest)
        lowest = gap;
      highest = top - size;
      at = hint < gap ? gap : (hint > top - size ? top - size : hint);
      dist = at > hint ? at - hint : hint - at;
      if (!found || dist < bestdist) {
        best = at;
        bestdist = dist;
        tie = 0;
      } else if (dist == bestdist) {
        tie = 1;
        *alt = at;
      }
      found = 1;
    }
    if (i >= nmodel)
      break;
  }
  if (!found)
    return 0;
  if (addr == 0) {
    *want = *alt = highest;
  } else if (hint == 0) {
    // A nonzero hint below one page: "anywhere" or "closest to 0"?
    *want = highest;
    *alt = lowest;
  } else {
    *want = best;
    if (!tie)
      *alt = best;
  }
  return 1;
}

struct mmap_args {
  uint addr;
  int len, prot, flags, fd, offset;
};

// Returns 1 and the allowed addresses if the call must succeed, else 0.
// *prot, *shared: what the new region will have.
static int predict_mmap(struct mmap_args *a, uint *want, uint *alt, int *prot, int *shared) {
  uint size, floor = region_floor();
  int share = a->flags & (MAP_SHARED | MAP_PRIVATE);
  if (a->len <= 0)
    return 0;
  size = PGROUNDUP((uint)a->len);
  if (a->flags == 0) {
    if (a->fd != -1)
      return 0;
    *prot = RW;
    *shared = 0;
  } else {
    if ((a->flags & ~MAP_KNOWN) || share == 0 || share == (MAP_SHARED | MAP_PRIVATE))
      return 0;
    if (a->prot & ~PROT_KNOWN)
      return 0;
    if (!(a->flags & MAP_ANONYMOUS) && a->fd != -1 && a->fd != filefd)
      return 0;
    *prot = a->prot;
    *shared = share == MAP_SHARED;
  }
  if (a->offset % PG != 0)
    return 0;
  if (a->flags & MAP_FIXED_NOREPLACE) {  // exactly there, over nothing
    if (a->addr % PG || a->addr < floor || a->addr > MMAPTOP || size > MMAPTOP - a->addr)
      return 0;
    if (overlaps(a->addr, a->addr + size) || nmodel + 1 > NREGION)
      return 0;
    *want = *alt = a->addr;
    return 1;
  }
  if (a->flags & MAP_FIXED) {
    if (a->addr % PG || a->addr < floor || a->addr > MMAPTOP || size > MMAPTOP - a->addr)
      return 0;
    if (count_after_cut(a->addr, a->addr + size) + 1 > NREGION)
      return 0;
    *want = *alt = a->addr;
    return 1;
  }
  if (nmodel + 1 > NREGION)
    return 0;
  return place(a->addr, size, want, alt);
}

// Check mprotect's address range; sets *end.
static int range_ok(uint addr, int len, uint *end) {
  uint size;
  if (addr % PG || len <= 0)
    return 0;
  size = PGROUNDUP((uint)len);
  if (addr >= KERNBASE || size > KERNBASE - addr)
    return 0;
  *end = addr + size;
  return 1;
}

// munmap's length is unsigned: munmap(0, KERNBASE) is fine.
static int predict_munmap(uint addr, uint len) {
  uint end;
  if (addr % PG || len == 0 || addr >= KERNBASE || len > KERNBASE - addr)
    return 0;
  end = addr + PGROUNDUP(len);
  if (!overlaps(addr, end))
    return 0;
  return count_after_cut(addr, end) <= NREGION;
}

static int predict_mprotect(uint addr, int len, int prot) {
  uint end;
  int need = 0, i;
  if (!range_ok(addr, len, &end) || (prot & ~PROT_KNOWN) || !covered(addr, end))
    return 0;
  for (i = 0; i < nmodel; i++)
    need += (model[i].start < addr && model[i].end > addr) +
            (model[i].start < end && model[i].end > end);
  return nmodel + need <= NREGION;
}

// ---- statistics -----------------------------------------------------------------

enum { C_MMAP, C_MUNMAP, C_MPROTECT, C_SBRK, C_TOUCH, C_SYSCALL, C_MREMAP, C_MADVISE, NCALLS };
static char *call_names[] = {"mmap", "munmap", "mprotect", "sbrk", "touch", "syscall", "mremap",
                             "madvise"};
static int calls[NCALLS], succeeded[NCALLS];
static int ambiguous;  // answers the contract left open

static void count(int call, int ok) {
  calls[call]++;
  succeeded[call] += ok;
}

// ---- random arguments ---------------------------------------------------------

static struct mregion *random_region(void) {
  return nmodel ? &model[below(nmodel)] : 0;
}

static uint random_addr(void) {
  struct mregion *r;
  uint a;
  switch (below(12)) {
  case 0:
    return 0;
  case 1:
    return below(4) * PG + (below(2) ? below(PG) : 0);               // near 0
  case 2:
    return KERNBASE - 4 * PG + below(8) * PG + (below(4) ? 0 : below(PG));  // near the top
  case 3:
    return rnd32();
  case 4:
    return region_floor() + below(16) * PG - 4 * PG;                 // around the heap top
  case 5: case 6: case 7: case 8:
    if ((r = random_region()) == 0)
      return BAND;
    a = (below(2) ? r->start : r->end) + below(9) * PG - 4 * PG;
    return below(10) ? a : a + below(PG);
  default:
    return BAND + below(BANDPAGES) * PG;
  }
}

static int random_len(void) {
  switch (below(24)) {
  case 0: return 0;
  case 1: return -(int)below(3 * PG);
  case 2: return (int)rnd32();
  case 3: return 0x7FFFFFFF;
  case 4: return below(2) ? GIB : 0x4000000 + below(PG);
  case 5: case 6: return 1 + below(3 * PG);
  default: return (1 + below(16)) * PG;
  }
}

static int random_prot(void) {
  return below(12) ? below(8) : (int)rnd32();
}

static int random_flags(void) {
  static int bits[] = {MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS, MAP_POPULATE,
                       MAP_FIXED_NOREPLACE};
  int f = 0, i;
  switch (below(16)) {
  case 0:
    return 0;
  case 1:
    return (int)rnd32();
  case 2:
    for (i = 0; i < 6; i++)
      if (below(2))
        f |= bits[i];
    return f;
  default:
    f = below(3) ? MAP_PRIVATE : MAP_SHARED;
    if (below(10))
      f |= MAP_ANONYMOUS;
    if (below(10) < 3)
      f |= MAP_FIXED;
    if (below(10) == 0)
      f |= MAP_POPULATE;
    if (below(10) == 0)
      f |= MAP_FIXED_NOREPLACE;
    return f;
  }
}

// ---- the operations -----------------------------------------------------------

static void describe(char *call, uint a, uint b, uint c) {
  printf(1, "# op %d: %s(%x, %x, %x)\n", opno, call, a, b, c);
}

static void op_mmap(void) {
  struct mmap_args a;
  uint want = 0, alt = 0, got;
  int ok, prot = 0, shared = 0, obj = 0;
  a.addr = random_addr();
  a.len = random_len();
  a.prot = random_prot();
  a.flags = random_flags();
  a.fd = below(10) ? -1 : (int)below(20);
  a.offset = below(10) ? 0 : (below(2) ? (int)below(4) * PG : (int)rnd32());
  if (a.fd == filefd)
    a.fd = 19;  // never open: the file is only mapped the way below
  if (below(8) == 0) {  // a private mapping of the file, within it
    a.flags = MAP_PRIVATE | (below(4) ? 0 : MAP_FIXED) | (below(4) ? 0 : MAP_POPULATE);
    a.prot = below(3) ? RW : PROT_READ;
    a.fd = filefd;
    a.offset = below(4) * PG;
    a.len = 1 + below((FILEPAGES - a.offset / PG) * PG);
  }
  // Populating is only safe for small lengths: the model cannot say
  // when memory runs out.
  if ((a.flags & MAP_POPULATE) && (uint)a.len > 16 * PG)
    a.flags &= ~MAP_POPULATE;
  ok = predict_mmap(&a, &want, &alt, &prot, &shared);
  got = (uint)mmap((void *)a.addr, a.len, a.prot, a.flags, a.fd, a.offset);
  count(C_MMAP, got != (uint)MAP_FAILED);
  if (!ok && got != (uint)MAP_FAILED) {
    describe("mmap", a.addr, a.len, a.flags);
    fail("op %d: mmap succeeded at %x, the model says it fails", opno, got);
  }
  if (ok && got != want && got != alt) {
    describe("mmap", a.addr, a.len, a.flags);
    fail("op %d: mmap returned %x, the model says %x", opno, got, want);
  }
  if (!ok)
    return;
  if (want != alt)
    ambiguous++;
  if ((a.flags & MAP_FIXED) && !(a.flags & MAP_FIXED_NOREPLACE))
    model_cut(got, got + PGROUNDUP((uint)a.len));
  if (a.fd == filefd && a.flags != 0 && !(a.flags & MAP_ANONYMOUS))
    obj = OBJ_FILE;
  else if (shared)
    obj = ++nobjects;
  model_insert(got, got + PGROUNDUP((uint)a.len), prot, shared,
               a.flags != 0 && (a.flags & MAP_POPULATE), obj, obj == OBJ_FILE ? a.offset / PG : 0);
  model_merge();
}

static void call_munmap(uint addr, uint len) {
  int ok = predict_munmap(addr, len), got = munmap((void *)addr, len);
  count(C_MUNMAP, got == 0);
  if (got != (ok ? 0 : -1)) {
    describe("munmap", addr, len, 0);
    fail("op %d: munmap returned %d, the model says %d", opno, got, ok ? 0 : -1);
  }
  if (ok)
    model_cut(addr, addr + PGROUNDUP(len));
}

static void op_munmap(void) {
  uint addr = random_addr();
  // Now and then everything from addr up: lengths up to KERNBASE - addr
  // are valid, since munmap's length is unsigned.
  call_munmap(addr, below(40) ? (uint)random_len() : KERNBASE - addr);
}

// From the start of one region to the end of a later one.
static void op_munmap_span(void) {
  int i = below(nmodel), j = i + below(nmodel - i);
  call_munmap(model[i].start, model[j].end - model[i].start);
}

static void op_mprotect(void) {
  uint addr = random_addr();
  int len = random_len(), prot = random_prot(), ok, got;
  struct mregion *r;
  // Ranges made of whole regions succeed more often than random ones.
  if (below(2) && (r = random_region()) != 0) {
    addr = r->start + below((r->end - r->start) / PG) * PG;
    len = r->end - addr;
  }
  ok = predict_mprotect(addr, len, prot);
  got = mprotect((void *)addr, len, prot);
  count(C_MPROTECT, got == 0);
  if (got != (ok ? 0 : -1)) {
    describe("mprotect", addr, len, prot);
    fail("op %d: mprotect returned %d, the model says %d", opno, got, ok ? 0 : -1);
  }
  if (ok) {
    model_protect(addr, addr + PGROUNDUP((uint)len), prot);
    model_merge();
  }
}

// The model region holding va, or -1.
static int region_index(uint va) {
  int i;
  for (i = 0; i < nmodel; i++)
    if (model[i].start <= va && va < model[i].end)
      return i;
  return -1;
}

struct mremap_args {
  uint old, oldlen, newlen, newaddr;
  int flags;
};

// What mremap must return (docs/mmap.md), or -1; *moved: it moves.
static uint predict_mremap(struct mremap_args *a, int *moved) {
  uint osz = PGROUNDUP(a->oldlen), nsz = PGROUNDUP(a->newlen), oldend, want, alt;
  int i;
  *moved = 0;
  if ((a->flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) ||
      ((a->flags & MREMAP_FIXED) && !(a->flags & MREMAP_MAYMOVE)))
    return -1;
  if (a->oldlen == 0 || a->newlen == 0 || a->oldlen > MMAPTOP || a->newlen > MMAPTOP)
    return -1;
  if (a->old % PG || a->old >= MMAPTOP || osz > MMAPTOP - a->old)
    return -1;
  oldend = a->old + osz;
  if ((i = region_index(a->old)) < 0 || oldend > model[i].end)
    return -1;
  if (a->flags & MREMAP_FIXED) {
    if (a->newaddr % PG || a->newaddr < region_floor() || a->newaddr > MMAPTOP ||
        nsz > MMAPTOP - a->newaddr)
      return -1;
    if (a->newaddr < oldend && a->newaddr + nsz > a->old)
      return -1;
    *moved = 1;
    return a->newaddr;
  }
  if (nsz <= osz)
    return a->old;
  if (oldend == model[i].end && nsz - osz <= MMAPTOP - oldend && !overlaps(oldend, a->old + nsz))
    return a->old;
  if (!(a->flags & MREMAP_MAYMOVE) || !place(0, nsz, &want, &alt))
    return -1;
  *moved = 1;
  return want;
}

// Move the model's [old, old+osz) of region r to new, nsz long.
static void model_move(struct mregion r, uint old, uint osz, uint new, uint nsz) {
  uint keep = osz < nsz ? osz : nsz;
  int i;
  if (r.obj)
    r.off += (old - r.start) / PG;
  r.start = new;
  r.end = new + nsz;
  r.populated = 0;  // the caller unpopulated it: its pages are touched ones
  model_cut(new, new + nsz);
  for (i = 0; i < ntouched; i++)
    if (touched[i].va >= old && touched[i].va < old + keep)
      touched[i].va += new - old;
  model_cut(old, old + osz);
  model_insert(r.start, r.end, r.prot, r.shared, 0, r.obj, r.off);
}

static void op_mremap(void) {
  struct mremap_args a;
  struct mregion *r = random_region();
  uint want, got, osz, nsz;
  int moved, i;
  if (r == 0 || nmodel > MAXREG - 4)
    return;
  a.old = below(8) ? r->start + below((r->end - r->start) / PG) * PG : random_addr();
  if (below(2))  // to the end of its region: the case that may grow in place
    a.oldlen = region_index(a.old) >= 0 ? model[region_index(a.old)].end - a.old : PG;
  else
    a.oldlen = below(8) ? (1 + below(8)) * PG - below(2) : (uint)random_len();
  a.newlen = below(8) ? (1 + below(24)) * PG - below(2) : (uint)random_len();
  a.flags = below(10) ? (int)below(4) : (int)rnd32();
  a.newaddr = random_addr();
  osz = PGROUNDUP(a.oldlen);
  // Only private anonymous memory grows: grown file pages would lie past
  // the file, and a grown shared region could meet its own object's pages.
  if ((i = region_index(a.old)) >= 0 && model[i].obj && PGROUNDUP(a.newlen) > osz)
    a.newlen = a.oldlen;
  nsz = PGROUNDUP(a.newlen);
  want = predict_mremap(&a, &moved);
  if (want != (uint)-1 && i >= 0 && model[i].populated) {
    if (ntouched + (model[i].end - model[i].start) / PG > MAXTOUCH)
      return;
    unpopulate(&model[i]);
  }
  got = (uint)mremap((void *)a.old, a.oldlen, a.newlen, a.flags, (void *)a.newaddr);
  count(C_MREMAP, got != (uint)-1);
  if (got != want) {
    printf(1, "# op %d: mremap(%x, %x, %x", opno, a.old, a.oldlen, a.newlen);
    printf(1, ", %x, %x)\n", a.flags, a.newaddr);
    fail("op %d: mremap returned %x, the model says %x", opno, got, want);
  }
  if (want == (uint)-1)
    return;
  if (moved)
    model_move(model[i], a.old, osz, got, nsz);
  else if (nsz < osz)
    model_cut(a.old + nsz, a.old + osz);
  else if (nsz > osz)
    model[i].end = a.old + nsz;  // grown in place
  model_merge();
}

// Pages of [lo, hi) that MADV_WILLNEED would add to the touched list.
static int willneed_pages(uint lo, uint hi) {
  uint a;
  int i = region_index(lo), n = 0;
  for (a = lo; a < hi; a += PG) {
    while (i >= 0 && i < nmodel && model[i].end <= a)
      i++;
    if (i >= 0 && i < nmodel && model[i].prot != PROT_NONE && !model[i].populated &&
        find_touched(a) < 0)
      n++;
  }
  return n;
}

// Pages of the populated regions meeting [lo, hi).
static int populated_pages(uint lo, uint hi) {
  int i, n = 0;
  for (i = 0; i < nmodel; i++)
    if (model[i].populated && model[i].start < hi && model[i].end > lo)
      n += (model[i].end - model[i].start) / PG;
  return n;
}

// The model after madvise(lo, hi - lo, advice) succeeded.
static void model_advise(uint lo, uint hi, int advice) {
  uint a;
  int i, t;
  for (i = 0; i < nmodel; i++) {
    if (model[i].end <= lo || model[i].start >= hi)
      continue;
    if (advice == MADV_DONTNEED)
      unpopulate(&model[i]);
    for (a = model[i].start > lo ? model[i].start : lo; a < model[i].end && a < hi; a += PG) {
      t = find_touched(a);
      if (advice == MADV_WILLNEED && model[i].prot != PROT_NONE && !model[i].populated) {
        if (t < 0)
          t = add_touched(a, 0);
        touched[t].absent = 0;
      } else if (advice == MADV_DONTNEED && t >= 0 && model[i].shared) {
        touched[t].absent = 1;  // the object keeps the page
      }
    }
    if (advice == MADV_DONTNEED && !model[i].shared)
      forget_touched(model[i].start > lo ? model[i].start : lo, model[i].end < hi ? model[i].end : hi);
  }
}

static void op_madvise(void) {
  struct mregion *r = random_region();
  uint addr = random_addr(), len = (uint)random_len(), end = 0;
  int advice = below(10) ? (int)below(6) : (int)rnd32(), ok, got;
  if (r && below(3)) {
    addr = r->start + below((r->end - r->start) / PG) * PG;
    len = (1 + below(8)) * PG;
  }
  ok = (advice == MADV_NORMAL || advice == MADV_WILLNEED || advice == MADV_DONTNEED) &&
       addr % PG == 0 && addr < KERNBASE && len <= KERNBASE - addr;
  if (ok && len > 0) {
    end = PGROUNDUP(addr + len);
    ok = covered(addr, end);
  }
  if (ok && advice == MADV_WILLNEED && len > 0 && ntouched + willneed_pages(addr, end) > MAXTOUCH)
    advice = MADV_NORMAL;  // the model has no room for the pages
  if (ok && advice == MADV_DONTNEED && len > 0 && ntouched + populated_pages(addr, end) > MAXTOUCH)
    advice = MADV_NORMAL;  // no room to unpopulate the regions
  got = madvise((void *)addr, len, advice);
  count(C_MADVISE, got == 0);
  if (got != (ok ? 0 : -1)) {
    describe("madvise", addr, len, advice);
    fail("op %d: madvise returned %d, the model says %d", opno, got, ok ? 0 : -1);
  }
  if (ok && len > 0)
    model_advise(addr, end, advice);
}

static void op_sbrk(void) {
  int n, ok, edge = 0;
  uint limit = nmodel ? model[0].start : MMAPTOP, want, got;
  switch (below(6)) {
  case 0: n = 0; break;
  case 1: n = -(int)below(4 * PG); break;
  case 2: n = (int)rnd32(); break;
  case 3: n = (int)(limit - msz) + (int)below(3 * PG) - PG; break;  // near the lowest region
  default: n = below(4 * PG); break;
  }
  want = msz + n;
  if (n > 0)
    ok = want > msz && want <= limit;
  else
    ok = want <= msz && want >= heapbase;
  // Growing to end exactly at a region: does that "reach" it?
  if (n > 0 && want == limit)
    edge = 1;
  // Growth the model allows must not run out of memory.
  if (ok && n > 0 && n > 64 * PG)
    return;
  got = (uint)sbrk(n);
  count(C_SBRK, got != (uint)-1);
  if (edge) {
    ambiguous++;
    ok = got != (uint)-1;
  }
  if (got != (ok ? msz : (uint)-1)) {
    describe("sbrk", n, msz, limit);
    fail("op %d: sbrk(%d) returned %x, the model says %x", opno, n, got, ok ? msz : -1);
  }
  if (ok)
    msz = want;
}

// Read or write the test word of a random page in a random region.
static void op_touch(void) {
  struct mregion *r = random_region();
  uint page, v;
  int t;
  if (r == 0 || r->prot == PROT_NONE)
    return;
  page = r->start + below((r->end - r->start) / PG) * PG;
  t = find_touched(page);
  if (t < 0 && ntouched == MAXTOUCH)
    return;
  v = *(volatile uint *)word_addr(page);
  count(C_TOUCH, 1);
  check(v == (t < 0 ? 0 : touched[t].value), "op %d: %x holds %x, expected %x", opno,
        word_addr(page), v, t < 0 ? 0 : touched[t].value);
  if (t < 0)
    t = add_touched(page, 0);
  touched[t].absent = 0;
  if (r->prot & PROT_WRITE) {
    touched[t].value = rnd32();
    *(volatile uint *)word_addr(page) = touched[t].value;
  }
}

// A system call reads or writes a region page through a pipe. It must
// fault the page in, or fail with -1 where the user could not do it.
static void op_syscall(void) {
  struct mregion *r = random_region();
  uint page, v, back;
  int p[2], t, got, into = below(2), allowed;
  if (r == 0)
    return;
  page = r->start + below((r->end - r->start) / PG) * PG;
  t = find_touched(page);
  if (t < 0 && ntouched == MAXTOUCH)
    return;
  // Whether a call that fails faults the page in first is not part of
  // the contract: only try failing calls on pages already present.
  allowed = into ? (r->prot & PROT_WRITE) != 0 : r->prot != PROT_NONE;
  if (!allowed && (t < 0 ? !r->populated : touched[t].absent))
    return;
  check(pipe(p) == 0, "op %d: pipe failed", opno);
  if (into) {  // the kernel writes the page
    v = rnd32();
    check(write(p[1], &v, 4) == 4, "op %d: pipe write failed", opno);
    got = read(p[0], (void *)word_addr(page), 4);
  } else {     // the kernel reads the page
    got = write(p[1], (void *)word_addr(page), 4);
    v = t < 0 ? 0 : touched[t].value;
    if (got == 4) {
      check(read(p[0], &back, 4) == 4, "op %d: pipe read failed", opno);
      check(back == v, "op %d: write() from %x sent %x, expected %x", opno, word_addr(page),
            back, v);
    }
  }
  close(p[0]);
  close(p[1]);
  count(C_SYSCALL, got == 4);
  check(got == (allowed ? 4 : -1), "op %d: %s at %x returned %d", opno,
        into ? "read() into a region" : "write() from a region", word_addr(page), got);
  if (!allowed)
    return;
  if (t < 0)
    t = add_touched(page, v);
  touched[t].value = v;
  touched[t].absent = 0;
}

// ---- comparing the model with the kernel -----------------------------------------

static struct mapinfo maps[MAXREG + 8];

static void compare_maps(void) {
  int n = getmaps(0, maps, MAXREG + 8), i;
  struct mapinfo *m;
  struct mregion *r;
  check(n == 4 + nmodel, "op %d: getmaps shows %d regions, the model %d", opno, n - 4, nmodel);
  check(maps[3].kind == MAPKIND_HEAP && maps[3].start == heapbase && maps[3].end == msz,
        "op %d: heap ends at %x, the model says %x", opno, maps[3].end, msz);
  for (i = 0; i < nmodel; i++) {
    m = &maps[4 + i];
    r = &model[i];
    if (m->start != r->start || m->end != r->end) {
      printf(1, "# region %d: kernel %x-%x", i, m->start, m->end);
      printf(1, ", model %x-%x\n", r->start, r->end);
      fail("op %d: region %d is %x-%x in the kernel", opno, i, m->start, m->end);
    }
    check(m->kind == MAPKIND_REGION, "op %d: region %x has kind %d", opno, m->start, m->kind);
    check(m->prot == r->prot, "op %d: region %x has prot %x, the model %x", opno, m->start,
          m->prot, r->prot);
    check(((m->flags & MAP_SHARED) != 0) == r->shared, "op %d: region %x sharing wrong", opno,
          m->start);
    check(m->resident == model_resident(r), "op %d: region %x has %d pages resident, model %d",
          opno, m->start, m->resident, model_resident(r));
  }
}

// Every touched page still holds what was written.
static void read_back(void) {
  int i, j;
  uint v;
  for (i = 0; i < ntouched; i++) {
    for (j = 0; j < nmodel; j++)
      if (touched[i].va >= model[j].start && touched[i].va < model[j].end)
        break;
    check(j < nmodel, "op %d: the model lost the region of %x", opno, touched[i].va);
    if (model[j].prot == PROT_NONE)
      continue;
    v = *(volatile uint *)word_addr(touched[i].va);
    touched[i].absent = 0;
    check(v == touched[i].value, "op %d: %x holds %x, expected %x", opno,
          word_addr(touched[i].va), v, touched[i].value);
  }
}

// ---- the case -----------------------------------------------------------------

static uint seed = 1;
static int nops = 3000;

static void one_op(void) {
  int k = below(100);
  if (nmodel >= MAXREG - 2 || (nmodel > CROWDED && k < 40)) {
    op_munmap_span();
    return;
  }
  if (k < 30)
    op_mmap();
  else if (k < 45)
    op_munmap();
  else if (k < 56)
    op_mprotect();
  else if (k < 63)
    op_mremap();
  else if (k < 67)
    op_madvise();
  else if (k < 71)
    op_sbrk();
  else if (k < 93)
    op_touch();
  else
    op_syscall();
}

// FUZZFILE, FILEPAGES pages of zeros, open in filefd.
static void file_make(void) {
  static char zeros[PG];
  int i;
  unlink(FUZZFILE);
  filefd = open(FUZZFILE, O_CREATE | O_RDWR);
  check(filefd >= 0, "cannot create %s", FUZZFILE);
  for (i = 0; i < FILEPAGES; i++)
    check(write(filefd, zeros, PG) == PG, "cannot write %s", FUZZFILE);
}

// The file must still be all zeros (private writes never reach it); then
// it goes.
static void file_check_remove(void) {
  static char buf[PG];
  int fd = open(FUZZFILE, O_RDONLY), i, k;
  check(fd >= 0, "cannot open %s", FUZZFILE);
  for (i = 0; i < FILEPAGES; i++) {
    check(read(fd, buf, PG) == PG, "short read of %s", FUZZFILE);
    for (k = 0; k < PG; k++)
      check(buf[k] == 0, "a private store reached %s at %d", FUZZFILE, i * PG + k);
  }
  close(fd);
  close(filefd);
  filefd = -1;
  unlink(FUZZFILE);
}

static void fuzz(void) {
  uint start_sz;
  int i;
  file_make();
  suite_seed(seed);
  nmodel = ntouched = ambiguous = 0;
  memset(calls, 0, sizeof(calls));
  memset(succeeded, 0, sizeof(succeeded));
  printf(1, "# fuzz: seed %d, %d operations\n", seed, nops);
  i = getmaps(0, maps, MAXREG + 8);
  check(i == 4, "the fuzzer starts with %d mappings, not 4", i);
  heapbase = maps[3].start;
  start_sz = msz = maps[3].end;
  check(msz == (uint)sbrk(0), "getmaps heap end %x, sbrk(0) %x", msz, (uint)sbrk(0));
  for (opno = 1; opno <= nops; opno++) {
    one_op();
    if (opno % CHECK_EVERY == 0)
      compare_maps();
    if (opno % READ_EVERY == 0)
      read_back();
    if (opno % 1000 == 0)
      printf(1, "# op %d: %d regions, %d touched pages\n", opno, nmodel, ntouched);
  }
  compare_maps();
  read_back();
  for (i = 0; i < NCALLS; i++)
    printf(1, "# %s: %d calls, %d succeeded\n", call_names[i], calls[i], succeeded[i]);
  printf(1, "# %d answers where the contract allows two\n", ambiguous);
  // Give everything back: the runner checks that nothing leaked.
  while (nmodel > 0)
    call_munmap(model[0].start, model[0].end - model[0].start);
  check(sbrk(start_sz - msz) != (char *)-1, "shrinking the heap back failed");
  msz = start_sz;
  compare_maps();
  file_check_remove();
}

// ---- the runner -----------------------------------------------------------------

#define NDEFAULT 2  // default cases: fuzz-seed1, fuzz-seed2

// The cases are made up from seeds, so the suite has no table.
static struct suite suite = {"mmapfuzz", CASE_TIMEOUT, 0, 0};

// A case name is fuzz-seed<N>; returns 0 if name is not one.
static int seed_of(char *name, uint *out) {
  char *d = suite_option(name, "fuzz-seed");
  if (d == 0 || *d < '0' || *d > '9')
    return 0;
  for (*out = 0; *d >= '0' && *d <= '9'; d++)
    *out = *out * 10 + (*d - '0');
  return *d == 0;
}

// Run the case for seed s, named fuzz-seed<s>.
static void run_seed(uint s) {
  static char name[24] = "fuzz-seed";
  char digits[12];
  int n = 0;
  seed = s;
  do {
    digits[n++] = '0' + s % 10;
  } while ((s /= 10) != 0);
  for (s = 0; n > 0; s++)
    name[9 + s] = digits[--n];
  name[9 + s] = 0;
  run_case(&suite, name, fuzz);
}

int main(int argc, char *argv[]) {
  int i, n = 1;
  uint s;
  char *v;

  // Take ops=N out of argv; what is left names cases.
  for (i = 1; i < argc; i++) {
    if ((v = suite_option(argv[i], "ops=")) != 0)
      nops = atoi(v);
    else
      argv[n++] = argv[i];
  }
  suite_begin(&suite, n > 1 ? n - 1 : NDEFAULT);
  for (i = 1; i < n; i++) {
    if ((v = suite_option(argv[i], "seed=")) != 0)
      run_seed(atoi(v));
    else if (seed_of(argv[i], &s))
      run_seed(s);
    else
      printf(1, "FAIL %s: no such case\n", argv[i]);
  }
  for (s = 1; n == 1 && s <= NDEFAULT; s++)
    run_seed(s);
  suite_end(&suite);
  exit();
}
