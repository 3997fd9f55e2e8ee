// Shared memory objects: the pages behind MAP_SHARED regions.
//
// A MAP_SHARED mapping creates an object of npages pages; fork gives the
// child's copy of the region the same object, and splitting a region
// makes two users of it. A page is allocated (zeroed) the first time any
// user touches it and released as soon as no region covers it any more,
// so munmap of part of a shared region gives memory back at once.
//
// The object keeps, for each page, its physical address and how many
// regions cover it (at most one per process, so far below the 12 bits it
// has: the low bits of the page-aligned address). Covering and
// uncovering a range costs one step per page, however many regions share
// the object. The object holds one reference to each of its pages (each
// PTE mapping one holds another: kalloc.c counts references), and goes
// with its last region.
//
// shmlock guards every object. It is taken after ptable.lock and a
// process's regionlock.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "spinlock.h"
#include "kmstat.h"
#include "trace.h"

#define PER_TABLE  (PGSIZE / sizeof(uint))  // pages described by one table
#define COVER_MASK 0xFFF                    // low bits of an entry: covering regions

struct shmobj {
  int ref;       // regions using the object
  uint npages;
  uint ntables;
  uint **table;  // kmalloc'd; table[i] describes pages i*PER_TABLE ...
};

static struct spinlock shmlock;

void shminit(void) {
  initlock(&shmlock, "shm");
}

// Bytes of table i of s: a whole page, except that the last table holds
// only the entries left, so that a small object costs a small kmalloc
// and not a page.
static uint table_bytes(struct shmobj *s, uint i) {
  uint left = s->npages - i * PER_TABLE;
  return (left < PER_TABLE ? left : PER_TABLE) * sizeof(uint);
}

static uint *table_alloc(uint bytes) {
  uint *t = bytes <= KMALLOC_MAX ? kmalloc(bytes) : (uint *)kalloc_as(OWNER_SHARED);
  if (t)
    memset(t, 0, bytes);
  return t;
}

static void table_free(uint *t, uint bytes) {
  if (bytes <= KMALLOC_MAX)
    kmfree(t);
  else
    kfree((char *)t);
}

// Free s and its tables; its pages must all be released already.
static void free_object(struct shmobj *s) {
  uint i;
  for (i = 0; i < s->ntables && s->table[i]; i++)
    table_free(s->table[i], table_bytes(s, i));
  kmfree(s->table);
  kmfree(s);
}

// A new object of npages pages, none allocated yet, with no users.
// Returns 0 if memory ran out.
struct shmobj *shm_alloc(uint npages) {
  struct shmobj *s;
  uint i;
  if ((s = kmalloc(sizeof(*s))) == 0)
    return 0;
  s->ref = 0;
  s->npages = npages;
  s->ntables = (npages + PER_TABLE - 1) / PER_TABLE;
  if ((s->table = kmalloc(s->ntables * sizeof(uint *))) == 0) {
    kmfree(s);
    return 0;
  }
  memset(s->table, 0, s->ntables * sizeof(uint *));
  for (i = 0; i < s->ntables; i++) {
    if ((s->table[i] = table_alloc(table_bytes(s, i))) == 0) {
      free_object(s);
      return 0;
    }
  }
  return s;
}

// Add delta to the cover count of pages [lo, hi) of s, releasing each
// allocated page that no region covers any more. Caller holds shmlock.
static void cover(struct shmobj *s, uint lo, uint hi, int delta) {
  uint idx, *e;
  if (hi > s->npages)
    panic("shm: range past the object");
  for (idx = lo; idx < hi; idx++) {
    e = &s->table[idx / PER_TABLE][idx % PER_TABLE];
    *e += delta;
    if ((*e & COVER_MASK) == 0 && *e != 0) {
      kfree(P2V(PTE_ADDR(*e)));
      *e = 0;
    }
  }
}

// A new region uses s, covering its pages [lo, hi).
void shm_attach(struct shmobj *s, uint lo, uint hi) {
  acquire(&shmlock);
  s->ref++;
  cover(s, lo, hi, 1);
  release(&shmlock);
}

// One more region uses s, covering nothing new (the second half of a
// region that was split).
void shm_share(struct shmobj *s) {
  acquire(&shmlock);
  s->ref++;
  release(&shmlock);
}

// A region using s covers pages [lo, hi) too (it grew).
void shm_cover(struct shmobj *s, uint lo, uint hi) {
  acquire(&shmlock);
  cover(s, lo, hi, 1);
  release(&shmlock);
}

// Free the tables of big (a grown copy of s's shape) that s does not use.
static void free_new_tables(struct shmobj *big, struct shmobj *s) {
  uint i;
  for (i = 0; i < big->ntables; i++)
    if (big->table[i] && (i >= s->ntables || big->table[i] != s->table[i]))
      table_free(big->table[i], table_bytes(big, i));
  kmfree(big->table);
}

// Make s npages long (mremap grows a shared region); the new pages are
// untouched and uncovered. Tables whose size is unchanged are kept; the
// grown shape is built aside and swapped in whole. Returns 0, or -1 if
// memory ran out (s is then as it was).
int shm_grow(struct shmobj *s, uint npages) {
  struct shmobj big;
  uint i;
  acquire(&shmlock);
  if (npages <= s->npages) {
    release(&shmlock);
    return 0;
  }
  big.npages = npages;
  big.ntables = (npages + PER_TABLE - 1) / PER_TABLE;
  if ((big.table = kmalloc(big.ntables * sizeof(uint *))) == 0)
    goto fail;
  memset(big.table, 0, big.ntables * sizeof(uint *));
  for (i = 0; i < big.ntables; i++) {
    if (i < s->ntables && table_bytes(&big, i) == table_bytes(s, i)) {
      big.table[i] = s->table[i];
      continue;
    }
    if ((big.table[i] = table_alloc(table_bytes(&big, i))) == 0) {
      free_new_tables(&big, s);
      goto fail;
    }
    if (i < s->ntables)
      memmove(big.table[i], s->table[i], table_bytes(s, i));
  }
  for (i = 0; i < s->ntables; i++)
    if (big.table[i] != s->table[i])
      table_free(s->table[i], table_bytes(s, i));
  kmfree(s->table);
  *s = (struct shmobj){ s->ref, big.npages, big.ntables, big.table };
  release(&shmlock);
  return 0;
fail:
  release(&shmlock);
  return -1;
}

// One region using s goes, its pages now covered by the region it merged
// into (which still uses s, so s stays).
void shm_unshare(struct shmobj *s) {
  acquire(&shmlock);
  s->ref--;
  release(&shmlock);
}

// A region using s stops covering pages [lo, hi) but remains.
void shm_uncover(struct shmobj *s, uint lo, uint hi) {
  acquire(&shmlock);
  cover(s, lo, hi, -1);
  release(&shmlock);
}

// A region covering pages [lo, hi) of s goes; so does s with its last
// region.
void shm_detach(struct shmobj *s, uint lo, uint hi) {
  int last;
  acquire(&shmlock);
  cover(s, lo, hi, -1);
  last = --s->ref == 0;
  release(&shmlock);
  if (last)
    free_object(s);
}

// Physical address of page idx of s, allocating a zeroed page on first
// use. Returns 0 if memory ran out.
uint shm_page(struct shmobj *s, uint idx) {
  uint *e, pa;
  char *mem;
  if (idx >= s->npages)
    panic("shm_page: past the object");
  acquire(&shmlock);
  e = &s->table[idx / PER_TABLE][idx % PER_TABLE];
  if ((pa = PTE_ADDR(*e)) == 0 && (mem = kalloc_as(OWNER_SHARED)) != 0) {
    memset(mem, 0, PGSIZE);
    pa = V2P(mem);
    *e |= pa;
  }
  release(&shmlock);
  return pa;
}
