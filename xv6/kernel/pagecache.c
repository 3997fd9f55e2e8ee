// The page cache: the pages of a file that mmap regions map.
//
// A file mapped by any region has one struct pagecache (ip->pcache),
// whatever the number of regions and processes: every MAP_SHARED mapping
// of the file maps the same physical pages, and a MAP_PRIVATE mapping
// maps them read-only until it writes (then it copies, as copy-on-write
// does). Page idx holds the file's bytes [idx*PGSIZE, (idx+1)*PGSIZE),
// read from the file on first use; bytes past the end of the file are
// zero and are never written back. read() and write() on the file use a
// cached page instead of the disk blocks under it (fs.c: readi, writei),
// so they and the mappings see the same bytes.
//
// A page is dirty once a store through a MAP_SHARED mapping has set the
// PTE's dirty bit and the owner has handed it over (mmap.c harvests the
// bits on msync, munmap, exit and exec). Write-back writes a dirty page
// in one log operation, so a crash leaves each page's blocks all old or
// all new. The cache lives while some region uses it: it holds one
// reference to the inode (so an unlinked file lives on while mapped) and
// one to each cached page (each PTE mapping one holds another); with its
// last region it writes back what is dirty and frees its pages.
//
// Locking. ip->lock (a sleep lock) guards filling a page and ip->pcache:
// pages are added only with it held, and removed only when the cache
// goes, also with it held, so readi/writei (which hold it) can use a page
// address without more. pclock (a spin lock, taken after a process's
// regionlock) guards ref, the slots and the dirty bits.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "file.h"
#include "stat.h"
#include "trace.h"

#define PC_PAGES ((MAXFILE * BSIZE + PGSIZE - 1) / PGSIZE)  // pages of the largest file
#define PC_DIRTY 0x1   // page[i] low bit: stores not yet written back

struct pagecache {
  struct inode *ip;      // the file (one reference), 0 if the slot is free
  int ref;               // regions using the cache (pclock)
  char name[DIRSIZ];     // last path element the file was opened by
  uint page[PC_PAGES];   // physical address | PC_DIRTY, 0 if not cached
};

static struct spinlock pclock;
static struct pagecache pcaches[NINODE];  // a cache needs an inode slot

void pcacheinit(void) {
  initlock(&pclock, "pcache");
}

// A free slot for ip, or 0. Caller holds ip->lock.
static struct pagecache *slot_alloc(struct inode *ip, char *name) {
  struct pagecache *pc;
  acquire(&pclock);
  for (pc = pcaches; pc < pcaches + NINODE; pc++) {
    if (pc->ip == 0) {
      memset(pc, 0, sizeof(*pc));
      pc->ip = ip;
      pc->ref = 1;
      safestrcpy(pc->name, name, DIRSIZ);
      release(&pclock);
      return pc;
    }
  }
  release(&pclock);
  return 0;
}

// The cache of f's file, for a new region that uses it. Returns 0 and
// sets *out, or a reason (ERR_): f is not a regular file, or no slot.
int pcache_get(struct file *f, struct pagecache **out) {
  struct inode *ip = f->ip;
  int err = 0;
  if (f->type != FD_INODE)
    return ERR_BADFD;
  ilock(ip);
  if (ip->type != T_FILE) {
    err = ERR_BADFD;
  } else if (ip->pcache) {
    pcache_hold(ip->pcache);
  } else if ((ip->pcache = slot_alloc(ip, f->name)) != 0) {
    idup(ip);
  } else {
    err = ERR_NOSPACE;
  }
  *out = ip->pcache;
  iunlock(ip);
  return err;
}

// One more region uses pc (fork, a split region).
void pcache_hold(struct pagecache *pc) {
  acquire(&pclock);
  pc->ref++;
  release(&pclock);
}

// Byte off of ip in the cache, or 0 if that page is not cached. Caller
// holds ip->lock (so the page cannot come or go).
char *pcache_peek(struct inode *ip, uint off) {
  uint idx = off / PGSIZE, pa;
  if (ip->pcache == 0 || idx >= PC_PAGES || (pa = PTE_ADDR(ip->pcache->page[idx])) == 0)
    return 0;
  return (char *)P2V(pa) + off % PGSIZE;
}

// Read page idx of ip (not cached yet) into a new page and cache it.
// Returns its physical address, or 0 if memory ran out. Caller holds
// ip->lock and made sure the page starts before the end of the file.
static uint page_in(struct pagecache *pc, struct inode *ip, uint idx) {
  uint off = idx * PGSIZE, n = ip->size - off;
  char *mem;
  if ((mem = kalloc_as(OWNER_PCACHE)) == 0)
    return 0;
  memset(mem, 0, PGSIZE);  // past the end of the file stays zero
  if (readi(ip, 0, mem, off, n < PGSIZE ? n : PGSIZE) < 0)
    panic("page_in: readi");
  acquire(&pclock);
  pc->page[idx] = V2P(mem);
  release(&pclock);
  trace_emit(EV_FILE_PAGEIN, ip->inum, off, V2P(mem), 0);
  return V2P(mem);
}

// Sets *pa to the physical address of page idx of pc's file, reading it
// on first use. Returns 0, FAULT_BUS if the page lies wholly past the end
// of the file, or FAULT_NOMEM. May sleep; the caller holds no spin lock
// and no inode lock.
int pcache_page(struct pagecache *pc, uint idx, uint *pa) {
  struct inode *ip = pc->ip;
  int r = 0;
  ilock(ip);
  if (idx >= PC_PAGES || idx * PGSIZE >= ip->size)
    r = FAULT_BUS;
  else if ((*pa = PTE_ADDR(pc->page[idx])) == 0 && (*pa = page_in(pc, ip, idx)) == 0)
    r = FAULT_NOMEM;
  iunlock(ip);
  return r;
}

// A store through a MAP_SHARED mapping changed page idx of pc (a PTE's
// dirty bit said so). Spin locks only: callers hold a regionlock.
void pcache_dirty(struct pagecache *pc, uint idx) {
  acquire(&pclock);
  if (idx < PC_PAGES && pc->page[idx] != 0)
    pc->page[idx] |= PC_DIRTY;
  release(&pclock);
}

// Clear page idx's dirty bit; returns its physical address if it was
// dirty, else 0.
static uint take_dirty(struct pagecache *pc, uint idx) {
  uint e;
  acquire(&pclock);
  e = pc->page[idx];
  pc->page[idx] &= ~PC_DIRTY;
  release(&pclock);
  return (e & PC_DIRTY) ? PTE_ADDR(e) : 0;
}

// Write page idx (at pa) back to the file, up to the end of the file, in
// one log operation: the data blocks (all exist below the size) and the
// inode fit in MAXOPBLOCKS.
static void write_page(struct inode *ip, uint idx, uint pa) {
  uint off = idx * PGSIZE, n;
  begin_op();
  ilock(ip);
  if (off < ip->size) {
    n = ip->size - off < PGSIZE ? ip->size - off : PGSIZE;
    if (writei(ip, 0, P2V(pa), off, n) != n)
      cprintf("pcache: write-back of inode %d offset %d failed\n", ip->inum, off);
    trace_emit(EV_FILE_WRITEBACK, ip->inum, off, pa, n);
  }
  iunlock(ip);
  end_op();
}

// Write the dirty pages [lo, hi) of pc back to the file. A store made
// meanwhile dirties the page again. May sleep; the caller holds no lock.
void pcache_writeback(struct pagecache *pc, uint lo, uint hi) {
  uint idx, pa;
  if (hi > PC_PAGES)
    hi = PC_PAGES;
  for (idx = lo; idx < hi; idx++)
    if ((pa = take_dirty(pc, idx)) != 0)
      write_page(pc->ip, idx, pa);
}

// A region stops using pc. The last one writes back what is dirty,
// frees the pages (no PTE maps them any more) and lets the inode go. A
// region that arrives during the write-back keeps the cache alive.
void pcache_put(struct pagecache *pc) {
  struct inode *ip = pc->ip;
  int last, i;
  acquire(&pclock);
  last = pc->ref == 1;
  if (!last)
    pc->ref--;
  release(&pclock);
  if (!last)
    return;
  pcache_writeback(pc, 0, PC_PAGES);
  ilock(ip);
  acquire(&pclock);
  last = --pc->ref == 0;
  release(&pclock);
  if (last) {
    ip->pcache = 0;
    for (i = 0; i < PC_PAGES; i++)
      if (pc->page[i])
        kfree(P2V(PTE_ADDR(pc->page[i])));
    acquire(&pclock);
    pc->ip = 0;
    release(&pclock);
  }
  iunlock(ip);
  if (last) {
    begin_op();
    iput(ip);
    end_op();
  }
}

// For getmaps: pc's inode number and the name it was opened by.
uint pcache_inum(struct pagecache *pc, char *name) {
  safestrcpy(name, pc->name, DIRSIZ);
  return pc->ip->inum;
}
