// Host test of the kernel's region index (xv6/kernel/regionindex.c): random
// inserts, removals and resizes of regions, each followed by look-ups and
// placements that must agree with a plain sorted list searched the way
// mmap.c searched its region list before the index, and by a check of the
// tree itself (search order, heap order, gaps and largest gaps, depth).
//
//   regionindex_test [SEED [STEPS]]    prints PASS/FAIL lines, then
//                                      "N passed, N failed"
#include <stdio.h>
#include <stdlib.h>
#include "../xv6/kernel/regionindex.c"

#define PG 4096u
#define TOP 0x7FFFF000u      // as MMAPTOP: the top of the space
#define MAXN 4096

// The reference: regions sorted by start in an array.
static struct ref {
  uint start, end;
  struct rnode *node;
} ref[MAXN];
static int nref;
static struct rnode *root;
static uint64 rng;
static int failures, checks;

static uint rnd(uint n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint)(rng >> 11) % n;
}

static void fail(const char *what, uint a, uint b, uint c) {
  if (failures++ < 20)
    printf("FAIL %s: %#x %#x %#x\n", what, a, b, c);
}

// mmap.c's choose_addr() over the list, as it was.
static uint ref_place(uint lo, uint hint, uint size) {
  uint gap_start, gap_end, best = 0, bestdist = 0, cand, dist;
  int found = 0, i = 0;
  for (gap_start = lo;; gap_start = ref[i].end, i++) {
    gap_end = i < nref ? ref[i].start : TOP;
    if (gap_end > gap_start && gap_end - gap_start >= size) {
      if (hint == 0) {
        cand = gap_end - size;
        dist = 0;
      } else {
        cand = hint < gap_start ? gap_start : hint;
        if (cand > gap_end - size)
          cand = gap_end - size;
        dist = cand > hint ? cand - hint : hint - cand;
      }
      if (!found || dist < bestdist || hint == 0) {
        best = cand;
        bestdist = dist;
        found = 1;
      }
    }
    if (i == nref)
      break;
  }
  return found ? best : 0;
}

// Index in ref of the region containing va, or -1.
static int ref_find(uint va) {
  int i;
  for (i = 0; i < nref; i++)
    if (ref[i].start <= va && va < ref[i].end)
      return i;
  return -1;
}

// Does [s, e) overlap a region?
static int ref_overlaps(uint s, uint e) {
  int i;
  for (i = 0; i < nref; i++)
    if (ref[i].start < e && s < ref[i].end)
      return 1;
  return 0;
}

// Walk the tree: order, heap order, gaps, largest gaps; returns the depth.
static int check_tree(struct rnode *t, struct rnode **prev, int *count) {
  int dl, dr;
  uint m;
  if (t == 0)
    return 0;
  if (t->left && t->left->prio > t->prio)
    fail("heap order", t->start, t->left->start, 0);
  if (t->right && t->right->prio > t->prio)
    fail("heap order", t->start, t->right->start, 0);
  dl = check_tree(t->left, prev, count);
  if (*prev && (*prev)->end > t->start)
    fail("search order", (*prev)->start, t->start, 0);
  if (t->gap != (*prev ? t->start - (*prev)->end : 0))
    fail("gap", t->start, t->gap, 0);
  *prev = t;
  (*count)++;
  dr = check_tree(t->right, prev, count);
  m = t->gap;
  if (t->left && t->left->maxgap > m)
    m = t->left->maxgap;
  if (t->right && t->right->maxgap > m)
    m = t->right->maxgap;
  if (t->maxgap != m)
    fail("largest gap", t->start, t->maxgap, m);
  return 1 + (dl > dr ? dl : dr);
}

static void check_all(void) {
  struct rnode *prev = 0;
  int count = 0, depth, i;
  depth = check_tree(root, &prev, &count);
  if (count != nref)
    fail("node count", count, nref, 0);
  if (nref > 16 && depth > 4 * 13)
    fail("depth", depth, nref, 0);
  for (i = 0; i < 8; i++) {
    uint va = rnd(TOP / PG + 2) * PG + rnd(3) * 100;
    int j = ref_find(va);
    struct rnode *n = rindex_find(root, va), *b = rindex_last_ending_by(root, va);
    int k;
    if (n != (j < 0 ? 0 : ref[j].node))
      fail("find", va, n ? n->start : 0, j < 0 ? 0 : ref[j].start);
    for (k = nref - 1; k >= 0 && ref[k].end > va; k--)
      ;
    if (b != (k < 0 ? 0 : ref[k].node))
      fail("last ending by", va, b ? b->start : 0, k < 0 ? 0 : ref[k].start);
    checks += 2;
  }
}

static void check_place(void) {
  uint floor = (1 + rnd(64)) * PG, hint, size, got, want;
  int i;
  if (nref > 0 && floor > ref[0].start)
    floor = ref[0].start;
  for (i = 0; i < 8; i++) {
    switch (rnd(4)) {
    case 0:  hint = 0; break;
    case 1:  hint = TOP; break;
    case 2:  hint = nref ? ref[rnd(nref)].start + rnd(3) * PG - PG : PG; break;
    default: hint = rnd(TOP / PG) * PG; break;
    }
    size = rnd(8) == 0 ? (1 + rnd(1 << 18)) * PG : (1 + rnd(16)) * PG;
    got = rindex_place(root, floor, TOP, hint, size);
    want = ref_place(floor, hint, size);
    if (got != want)
      fail("place (hint, size, got)", hint, size, got);
    checks++;
  }
}

// A random free range next to or between regions, or anywhere.
static int pick_free(uint *s, uint *e) {
  uint len = rnd(4) == 0 ? (1 + rnd(4096)) * PG : (1 + rnd(4)) * PG, a;
  int tries;
  for (tries = 0; tries < 20; tries++) {
    if (nref && rnd(2))
      a = ref[rnd(nref)].end + rnd(3) * PG;
    else
      a = (16 + rnd(TOP / PG / 64)) * PG * (1 + rnd(60));
    if (a >= TOP || len > TOP - a || ref_overlaps(a, a + len))
      continue;
    *s = a;
    *e = a + len;
    return 0;
  }
  return -1;
}

static void do_insert(void) {
  uint s, e;
  int i;
  if (nref == MAXN || pick_free(&s, &e) < 0)
    return;
  for (i = nref; i > 0 && ref[i - 1].start > s; i--)
    ref[i] = ref[i - 1];
  ref[i].start = s;
  ref[i].end = e;
  ref[i].node = malloc(sizeof(struct rnode));
  nref++;
  rindex_insert(&root, ref[i].node, s, e);
}

static void do_remove(void) {
  int i;
  struct rnode *n;
  if (nref == 0)
    return;
  i = rnd(nref);
  n = ref[i].node;
  rindex_remove(&root, n);
  free(n);
  for (; i < nref - 1; i++)
    ref[i] = ref[i + 1];
  nref--;
}

// Trim a region's head or tail, as munmap of part of it does.
static void do_resize(void) {
  int i;
  uint pages;
  if (nref == 0)
    return;
  i = rnd(nref);
  pages = (ref[i].end - ref[i].start) / PG;
  if (pages < 2)
    return;
  if (rnd(2))
    ref[i].start += (1 + rnd(pages - 1)) * PG;
  else
    ref[i].end -= (1 + rnd(pages - 1)) * PG;
  rindex_resize(&root, ref[i].node, ref[i].start, ref[i].end);
}

static void run(uint seed, int steps) {
  int step;
  rng = 0x9E3779B97F4A7C15ull * (seed + 1);
  for (step = 0; step < steps; step++) {
    uint op = rnd(10);
    if (op < 5 || nref < 8)
      do_insert();
    else if (op < 8)
      do_remove();
    else
      do_resize();
    check_all();
    check_place();
  }
  while (nref > 0) {
    do_remove();
    check_all();
  }
  if (root != 0)
    fail("not empty at the end", 0, 0, 0);
}

int main(int argc, char *argv[]) {
  uint seed = argc > 1 ? (uint)atoi(argv[1]) : 1, s;
  int steps = argc > 2 ? atoi(argv[2]) : 4000, passed = 0, failed = 0;
  for (s = seed; s < seed + 4; s++) {
    int before = failures;
    run(s, steps);
    if (failures == before) {
      printf("PASS seed %u: %d steps, %d checks\n", s, steps, checks);
      passed++;
    } else {
      printf("FAIL seed %u\n", s);
      failed++;
    }
  }
  // Sorted inserts, as mmapbench makes them: the depth stays logarithmic.
  {
    int before = failures, i;
    for (i = 0; i < MAXN; i++) {
      ref[i].start = 0x40000000u + i * 2 * PG;
      ref[i].end = ref[i].start + PG;
      ref[i].node = malloc(sizeof(struct rnode));
      rindex_insert(&root, ref[i].node, ref[i].start, ref[i].end);
    }
    nref = MAXN;
    check_all();
    check_place();
    while (nref > 0)
      do_remove();
    if (failures == before) {
      printf("PASS sorted inserts\n");
      passed++;
    } else {
      printf("FAIL sorted inserts\n");
      failed++;
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
