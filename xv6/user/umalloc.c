// malloc/free for user programs, on top of sbrk().
//
// Every block, in use or free, starts with a header and is measured in
// 8-byte units that include the header, so payloads stay 8-byte aligned.
// Free blocks form a circular list kept in address order; that order lets
// free() merge a block with the free blocks directly before and after it.
// A zero-size sentinel on the list means the list is never empty.
#include "types.h"
#include "user.h"

struct block {
  struct block *next;  // next free block (only meaningful while free)
  uint units;          // size of this block, header included
};

#define UNIT      sizeof(struct block)  // 8 bytes
#define MINGROW   512                   // grow the heap a page at a time or more

static struct block sentinel;
static struct block *rover;  // where the next search starts

static void init_list(void) {
  sentinel.next = &sentinel;
  sentinel.units = 0;
  rover = &sentinel;
}

// Put b back on the free list at its address-ordered place, merging with
// neighbours that touch it.
void free(void *p) {
  struct block *b, *prev;
  if (p == 0)
    return;
  b = (struct block *)p - 1;
  if (rover == 0)
    init_list();
  // Find prev with prev < b < prev->next, allowing for the wrap-around.
  for (prev = rover; !(prev < b && b < prev->next); prev = prev->next)
    if (prev >= prev->next && (b > prev || b < prev->next))
      break;
  if (b + b->units == prev->next && prev->next != &sentinel) {
    b->units += prev->next->units;
    b->next = prev->next->next;
  } else {
    b->next = prev->next;
  }
  if (prev + prev->units == b && prev != &sentinel) {
    prev->units += b->units;
    prev->next = b->next;
  } else {
    prev->next = b;
  }
  rover = prev;
}

// Ask the kernel for at least `units` more units and free them into the list.
static int grow_heap(uint units) {
  char *mem;
  struct block *b;
  if (units < MINGROW)
    units = MINGROW;
  if (units > 0x7fffffff / UNIT)
    return -1;
  mem = sbrk(units * UNIT);
  if (mem == (char *)-1)
    return -1;
  b = (struct block *)mem;
  b->units = units;
  free(b + 1);
  return 0;
}

// First fit starting from the rover; the tail of a larger block is handed
// out so the free part keeps its place in the list.
void *malloc(uint nbytes) {
  struct block *prev, *b;
  uint units;
  if (nbytes > 0x7fffffff - UNIT)
    return 0;
  units = (nbytes + UNIT - 1) / UNIT + 1;
  if (rover == 0)
    init_list();
  for (prev = rover, b = prev->next;; prev = b, b = b->next) {
    if (b->units >= units) {
      if (b->units == units) {
        prev->next = b->next;
      } else {
        b->units -= units;
        b += b->units;
        b->units = units;
      }
      rover = prev;
      return b + 1;
    }
    if (b == rover) {  // went all the way round: nothing fits
      if (grow_heap(units) < 0)
        return 0;
      b = rover;  // free() left the rover just before the new memory
    }
  }
}
