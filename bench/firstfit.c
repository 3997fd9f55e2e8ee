// The benchmark's baseline: a first-fit free-list allocator in the style
// of K&R's malloc, on the same kalloc() pages as kmalloc.
//
// Free blocks form a circular list sorted by address. A search starts
// after the block last found (K&R's rover) and takes the first block big
// enough, splitting off its tail; a free merges the block with free
// neighbours. Each block carries a one-unit header (its size). The heap
// grows one page at a time and, like K&R's, never gives a page back (the
// benchmark calls ff_reset() between runs); it serves requests up to a
// page less one header.
#include "types.h"
#include "defs.h"
#include "mmu.h"
#include "spinlock.h"
#include "kmhost.h"

typedef union header {
  struct {
    union header *next;  // next free block (only while free)
    uint units;          // size of this block in headers, header included
  } s;
  long long align;       // blocks are 8-byte aligned at least
} Header;

// One lock for the whole heap: the allocator has a single free list.
static struct {
  struct spinlock lock;
  Header base;           // an empty block that anchors the list
  Header *rover;         // where the next search starts; 0 before first use
  uint pages;            // pages taken from kalloc()
  char *page[HOST_POOL_PAGES];  // which, so that ff_reset() can give them back
} ff = { .lock = { .name = "firstfit" } };

// Put block b on the free list, merging it with free neighbours.
static void ff_insert(Header *b) {
  Header *p;
  for (p = ff.rover; !(b > p && b < p->s.next); p = p->s.next)
    if (p >= p->s.next && (b > p || b < p->s.next))
      break;  // b goes at one end of the list
  if (b + b->s.units == p->s.next) {
    b->s.units += p->s.next->s.units;
    b->s.next = p->s.next->s.next;
  } else {
    b->s.next = p->s.next;
  }
  if (p + p->s.units == b) {
    p->s.units += b->s.units;
    p->s.next = b->s.next;
  } else {
    p->s.next = b;
  }
  ff.rover = p;
}

// Add a page to the heap. Returns 0 if kalloc() has none.
static int ff_grow(void) {
  Header *b = (Header *)kalloc();
  if (b == 0)
    return 0;
  ff.page[ff.pages++] = (char *)b;
  b->s.units = PGSIZE / sizeof(Header);
  ff_insert(b);
  return 1;
}

void *ff_malloc(uint n) {
  uint units = (n + sizeof(Header) - 1) / sizeof(Header) + 1;
  Header *prev, *p;

  if (n == 0 || units > PGSIZE / sizeof(Header))
    return 0;
  acquire(&ff.lock);
  if (ff.rover == 0) {
    ff.base.s.next = ff.rover = &ff.base;
    ff.base.s.units = 0;
  }
  for (prev = ff.rover, p = prev->s.next;; prev = p, p = p->s.next) {
    if (p->s.units >= units) {
      if (p->s.units == units) {
        prev->s.next = p->s.next;
      } else {
        p->s.units -= units;
        p += p->s.units;
        p->s.units = units;
      }
      ff.rover = prev;
      release(&ff.lock);
      return p + 1;
    }
    if (p == ff.rover) {  // went all the way round
      if (!ff_grow()) {
        release(&ff.lock);
        return 0;
      }
      p = ff.rover;
    }
  }
}

void ff_free(void *ptr) {
  acquire(&ff.lock);
  ff_insert((Header *)ptr - 1);
  release(&ff.lock);
}

uint ff_pages(void) {
  return ff.pages;
}

// Give every page back and start afresh. Nothing may be allocated.
void ff_reset(void) {
  acquire(&ff.lock);
  while (ff.pages > 0)
    kfree(ff.page[--ff.pages]);
  ff.rover = 0;
  release(&ff.lock);
}
