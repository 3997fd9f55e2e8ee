// The region index (regionindex.h): a treap keyed by region start,
// augmented, as Linux augments its tree of VMAs with rb_subtree_gap, with
// the largest gap below any region of each subtree. So:
//  - the region containing an address, or the last one ending at or below
//    it, is one descent;
//  - a gap of at least n bytes is found by descending only into subtrees
//    whose largest gap is at least n: the highest such gap, or the one
//    closest to a hint, in logarithmic time, where a walk of the list
//    looked at every gap.
// A treap is a binary search tree by start that is also a heap by
// priority; priorities come from hashing the node's address, so the
// expected depth is logarithmic whatever order regions come in.
// Insertion and removal split the tree at a start and merge the pieces
// back; a node's gap and its successor's change then, and each
// subtree's largest gap is recomputed on the way back up (pull()).
//
// Recursion depth is the tree's depth: about 2 log2(n), some 30 frames
// for NREGION regions.
#include "types.h"
#include "regionindex.h"

typedef __UINTPTR_TYPE__ uintptr;  // the host test builds this file for 64 bits

// A node's priority: its address, well mixed (a multiply alone would keep
// the regular spacing of kmalloc'd nodes).
static uint mix(uintptr a) {
  uint x = (uint)a ^ (uint)(a >> 16 >> 16);
  x ^= x >> 16;
  x *= 0x85ebca6b;
  x ^= x >> 13;
  x *= 0xc2b2ae35;
  x ^= x >> 16;
  return x;
}

static uint maxgap_of(struct rnode *n) {
  return n ? n->maxgap : 0;
}

// Recompute n's largest gap from its own and its children's.
static void pull(struct rnode *n) {
  uint m = n->gap;
  if (maxgap_of(n->left) > m)
    m = n->left->maxgap;
  if (maxgap_of(n->right) > m)
    m = n->right->maxgap;
  n->maxgap = m;
}

// Split t into the nodes starting below key (*lo) and the rest (*hi).
static void split(struct rnode *t, uint key, struct rnode **lo, struct rnode **hi) {
  if (t == 0) {
    *lo = *hi = 0;
    return;
  }
  if (t->start < key) {
    split(t->right, key, &t->right, hi);
    *lo = t;
  } else {
    split(t->left, key, lo, &t->left);
    *hi = t;
  }
  pull(t);
}

// Join a and b, every node of a starting below every node of b.
static struct rnode *merge(struct rnode *a, struct rnode *b) {
  if (a == 0)
    return b;
  if (b == 0)
    return a;
  if (a->prio >= b->prio) {
    a->right = merge(a->right, b);
    pull(a);
    return a;
  }
  b->left = merge(a, b->left);
  pull(b);
  return b;
}

static struct rnode *lowest(struct rnode *t) {
  while (t && t->left)
    t = t->left;
  return t;
}

static struct rnode *highest(struct rnode *t) {
  while (t && t->right)
    t = t->right;
  return t;
}

// The lowest node starting above va, or 0.
static struct rnode *first_starting_after(struct rnode *t, uint va) {
  struct rnode *best = 0;
  while (t) {
    if (t->start > va) {
      best = t;
      t = t->left;
    } else {
      t = t->right;
    }
  }
  return best;
}

// Add n, covering [start, end), which overlaps no node. The node after
// it gets its new gap first: it and its ancestors lie on the path that
// split() walks and pulls.
void rindex_insert(struct rnode **root, struct rnode *n, uint start, uint end) {
  struct rnode *lo, *hi, *prev, *next = first_starting_after(*root, start);

  if (next)
    next->gap = next->start - end;
  split(*root, start, &lo, &hi);
  n->left = n->right = 0;
  n->prio = mix((uintptr)n);
  n->start = start;
  n->end = end;
  prev = highest(lo);
  n->gap = prev ? start - prev->end : 0;
  n->maxgap = n->gap;
  *root = merge(merge(lo, n), hi);
}

// Take n out. The node after it takes over its gap and n's own region,
// before the splits, whose paths cover it and its ancestors.
void rindex_remove(struct rnode **root, struct rnode *n) {
  struct rnode *lo, *mid, *hi, *next = first_starting_after(*root, n->start);

  if (next)
    next->gap = lowest(*root) == n ? 0 : next->gap + (n->end - n->start) + n->gap;
  split(*root, n->start, &lo, &mid);
  split(mid, n->start + 1, &mid, &hi);  // mid is n alone
  *root = merge(lo, hi);
  n->left = n->right = 0;
}

// n now covers [start, end), a part of what it covered.
void rindex_resize(struct rnode **root, struct rnode *n, uint start, uint end) {
  rindex_remove(root, n);
  rindex_insert(root, n, start, end);
}

// The node whose start is the highest at or below va, or 0.
static struct rnode *last_starting_by(struct rnode *t, uint va) {
  struct rnode *best = 0;
  while (t) {
    if (t->start <= va) {
      best = t;
      t = t->right;
    } else {
      t = t->left;
    }
  }
  return best;
}

// The node containing va, or 0.
struct rnode *rindex_find(struct rnode *root, uint va) {
  struct rnode *n = last_starting_by(root, va);
  return n && va < n->end ? n : 0;
}

// The highest node ending at or below va, or 0: the one before the first
// node that ends above va.
struct rnode *rindex_last_ending_by(struct rnode *root, uint va) {
  struct rnode *best = 0;
  while (root) {
    if (root->end <= va) {
      best = root;
      root = root->right;
    } else {
      root = root->left;
    }
  }
  return best;
}

// The node after n, or 0.
static struct rnode *next_of(struct rnode *root, struct rnode *n) {
  return first_starting_after(root, n->start);
}

// The highest node starting at or below bound whose gap is at least size,
// or 0. Subtrees whose largest gap is too small are not entered, so only
// the path along bound is walked, and one descent to the answer.
static struct rnode *gap_at_or_below(struct rnode *t, uint bound, uint size) {
  struct rnode *n;
  if (t == 0 || t->maxgap < size)
    return 0;
  if (t->start > bound)
    return gap_at_or_below(t->left, bound, size);
  if ((n = gap_at_or_below(t->right, bound, size)) != 0)
    return n;
  if (t->gap >= size)
    return t;
  return gap_at_or_below(t->left, bound, size);
}

// The lowest node starting above bound whose gap is at least size, or 0.
static struct rnode *gap_above(struct rnode *t, uint bound, uint size) {
  struct rnode *n;
  if (t == 0 || t->maxgap < size)
    return 0;
  if (t->start <= bound)
    return gap_above(t->right, bound, size);
  if ((n = gap_above(t->left, bound, size)) != 0)
    return n;
  if (t->gap >= size)
    return t;
  return gap_above(t->right, bound, size);
}

static int fits(uint gs, uint ge, uint size) {
  return ge > gs && ge - gs >= size;
}

// The free gaps are [floor, lowest start), the gap below each other node,
// and [highest end, top) (or [floor, top) if there is no node).
// Placement without a hint: the highest gap that fits, at its top.
static uint place_top_down(struct rnode *root, uint floor, uint top, uint size) {
  struct rnode *hi = highest(root), *n;
  if (fits(hi ? hi->end : floor, top, size))
    return top - size;
  if ((n = gap_at_or_below(root, ~0u, size)) != 0)
    return n->start - size;
  if (hi && fits(floor, lowest(root)->start, size))
    return lowest(root)->start - size;
  return 0;
}

// Placement closest to hint (see rindex_place). Of the gaps that start at
// or below hint the highest that fits is closest (its candidate is
// min(hint, its end - size)); of those that start above it, the lowest
// (its candidate is its start). The gap containing hint is of the first
// kind; on a tie, the lower candidate wins.
static uint place_near(struct rnode *root, uint floor, uint top, uint hint, uint size) {
  struct rnode *p = last_starting_by(root, hint), *k, *lo = lowest(root), *hi = highest(root);
  struct rnode *n;
  uint below = 0, above = 0, gs, bound;
  int has_below = 0, has_above = 0, in_gap;

  k = p ? next_of(root, p) : lo;          // first node starting above hint
  in_gap = p ? p->end <= hint : floor <= hint;
  // Below: [hi end, top) if it starts by hint, else the gap under k if
  // hint is in it, else the highest node gap by hint, else [floor, lo).
  gs = hi ? hi->end : floor;
  if (gs <= hint && fits(gs, top, size)) {
    below = top - size;
    has_below = 1;
  } else if (k && k != lo && in_gap && k->gap >= size) {
    below = k->start - size;
    has_below = 1;
  } else if ((n = gap_at_or_below(root, hint, size)) != 0) {
    below = n->start - size;
    has_below = 1;
  } else if (lo && floor <= hint && fits(floor, lo->start, size)) {
    below = lo->start - size;
    has_below = 1;
  }
  if (has_below && below > hint)
    below = hint;
  // Above: [floor, ...) if it starts above hint, else the lowest node gap
  // starting above hint, else [hi end, top).
  bound = k && in_gap ? k->start : hint;
  if (floor > hint && fits(floor, lo ? lo->start : top, size)) {
    above = floor;
    has_above = 1;
  } else if ((n = gap_above(root, bound, size)) != 0) {
    above = n->start - n->gap;
    has_above = 1;
  } else if (hi && hi->end > hint && fits(hi->end, top, size)) {
    above = hi->end;
    has_above = 1;
  }
  if (has_below && (!has_above || hint - below <= above - hint))
    return below;
  return has_above ? above : 0;
}

// Where a region of size bytes goes: in a free gap between floor (the
// lowest address a region may use) and top, the highest gap at its top
// if hint is 0, else the address closest to hint (the lowest on a tie).
// Returns 0 if no gap is large enough.
uint rindex_place(struct rnode *root, uint floor, uint top, uint hint, uint size) {
  if (hint == 0)
    return place_top_down(root, floor, top, size);
  return place_near(root, floor, top, hint, size);
}
