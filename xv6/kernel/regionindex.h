// The region index: a balanced search tree over a process's regions, kept
// beside mmap.c's sorted list (which GDB and getmaps walk), so that finding
// a region and placing a new one take logarithmic time. regionindex.c has
// the design; bench/regionindex_test.c compares it with a plain list.
//
// A node holds its region's [start, end) (the caller keeps them equal to
// the region's own) and the gap below it: the free space between the
// previous region's end and its start (0 for the lowest region, whose gap
// starts at the heap's end, which moves; rindex_place() is told where).
// Regions never overlap. The caller serialises all calls on one index.
#ifndef XV6_REGIONINDEX_H
#define XV6_REGIONINDEX_H

struct rnode {
  struct rnode *left;    // lower starts
  struct rnode *right;   // higher starts
  uint prio;             // treap priority: a parent's is at least its children's
  uint start;            // page aligned
  uint end;              // > start
  uint gap;              // start - the previous node's end; 0 for the lowest
  uint maxgap;           // the largest gap in this subtree
};

// The index is its root: 0 when empty.
void          rindex_insert(struct rnode **root, struct rnode *n, uint start, uint end);
void          rindex_remove(struct rnode **root, struct rnode *n);
void          rindex_resize(struct rnode **root, struct rnode *n, uint start, uint end);
struct rnode *rindex_find(struct rnode *root, uint va);
struct rnode *rindex_last_ending_by(struct rnode *root, uint va);
uint          rindex_place(struct rnode *root, uint floor, uint top, uint hint, uint size);
#endif
