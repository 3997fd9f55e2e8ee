// Memory regions: anonymous mmap, munmap, mprotect, demand paging, and
// region introspection (getmaps). The contract is docs/mmap.md.
//
// Each process keeps its regions in a singly linked list sorted by start
// address (p->regions, p->nregions), nodes from kmalloc, and the same
// regions in a search tree (p->rindex, regionindex.c) through which they
// are found and new ones placed, in logarithmic time; the list is what
// getmaps, GDB and the walks over every region use. Regions lie in
// [PGROUNDUP(p->sz), MMAPTOP) and never overlap.
//
// Invariants:
//  - Every present user PTE holds one reference to its physical page
//    (kalloc.c counts references), so unmapping always kfree()s.
//  - A region page's PTE is present once touched; PTE_U is set unless
//    the region is PROT_NONE, PTE_W iff the region has PROT_WRITE.
//  - A MAP_SHARED region points at a shared object (shm.c) and covers
//    its pages [shmoff, shmoff + pages); the object releases a page as
//    soon as no region covers it.
//  - A file region (r->pc set) maps the pages of its
//    file's page cache (pagecache.c) from page pgoff of the file: shared,
//    the cache's page itself, writable if the region is; private, the
//    cache's page read-only (PTE_COW if the region is writable) until the
//    first write copies it. Dirty bits of a shared file region's PTEs are
//    handed to the cache (sync_range) before its pages are unmapped.
//
// Locking: only the owning process changes its list, and only with
// p->regionlock held; it reads its own list without the lock (nobody
// else writes it). Other readers (getmaps of another pid) hold ptable.lock
// and then p->regionlock, so p->regionlock is also held by whoever frees
// p's page tables or replaces p->pgdir (munmap, exit, exec, sbrk shrink).
// Lock order: ptable.lock, then regionlock, then shm.c's shmlock.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "fs.h"
#include "file.h"
#include "x86.h"
#include "mman.h"
#include "syscall.h"
#include "trace.h"
#include "regionindex.h"

struct region {
  uint start;            // page aligned
  uint end;              // page aligned, > start
  int prot;              // PROT_* bits
  int flags;             // MAP_* bits as created (legacy form: PRIVATE|ANONYMOUS)
  struct shmobj *shm;    // MAP_SHARED: the pages (shm.c), else 0
  uint shmoff;           // MAP_SHARED: index in shm of the page at start
  struct pagecache *pc;  // a file region: its file's page cache, else 0
  uint pgoff;            // a file region: file page at start
  int maywrite;          // a shared file region: the file is open for writing
  struct region *next;   // next region by address
  struct rnode node;     // in p->rindex, with the same start and end
};

#define FEC_PRESENT 0x1  // page-fault error code bits
#define FEC_WRITE   0x2

#define MAP_KNOWN (MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_POPULATE | \
                   MAP_FIXED_NOREPLACE)
// Requests about placement and population, not properties of a region:
// a region's flags never hold them, so they do not stop a merge.
#define MAP_REQUESTS (MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_POPULATE)
#define MS_KNOWN (MS_ASYNC | MS_INVALIDATE | MS_SYNC)
#define PROT_KNOWN (PROT_READ | PROT_WRITE | PROT_EXEC)


static uint region_pages(struct region *r) {
  return (r->end - r->start) / PGSIZE;
}

static int region_shared(struct region *r) {
  return (r->flags & MAP_SHARED) != 0;
}

// The file page that page va of file region r maps.
static uint file_page(struct region *r, uint va) {
  return r->pgoff + (va - r->start) / PGSIZE;
}

// ---- page-level helpers ----------------------------------------------

static int pte_perm(int prot) {
  if (prot == PROT_NONE)
    return 0;  // present for the kernel, invisible to the user
  return PTE_U | ((prot & PROT_WRITE) ? PTE_W : 0);
}

static void flush_tlb(struct proc *p) {
  if (p == myproc())
    lcr3(V2P(p->pgdir));
}

// Free a page from kalloc_untraced that was never used, recording its
// allocation first so that the trace still pairs every free with one.
static void release_unused(char *mem) {
  trace_emit(EV_PAGE_ALLOC, V2P(mem), OWNER_REGION, 0, 0);
  kfree(mem);
}

// map_fresh with the page mem already allocated (untraced). On failure
// mem is released.
static uint install_fresh(pde_t *pgdir, uint va, char *mem, char *from, int perm) {
  if (from)
    memmove(mem, from, PGSIZE);
  else
    memset(mem, 0, PGSIZE);
  if (mappages(pgdir, (void *)va, PGSIZE, V2P(mem), perm) == 0)
    return V2P(mem);
  release_unused(mem);
  return 0;
}

// A fresh page for a private region, mapped at page va of pgdir with
// perm: a copy of the page at from, or zeroed if from is 0. Its
// allocation is not recorded: the caller records allocation and mapping
// in one event (FAULT_MAP, PAGE_NEW). Returns its physical address, or 0
// if memory ran out (a page allocated for nothing is recorded before it
// is freed, so that the trace still pairs every free with an allocation).
static uint map_fresh(pde_t *pgdir, uint va, char *from, int perm) {
  char *mem;
  if ((mem = kalloc_untraced()) == 0)
    return 0;
  return install_fresh(pgdir, va, mem, from, perm);
}

// Map pa at page va of pgdir for pid with perm, the PTE holding a
// reference the caller took (which is dropped on failure). shared is the
// trace's: 1 for a page of a shared object. Returns 0 or -1 (no memory).
static int map_ref(pde_t *pgdir, uint va, uint pa, int perm, int pid, int shared) {
  if (mappages(pgdir, (void *)va, PGSIZE, pa, perm) < 0) {
    kfree(P2V(pa));
    return -1;
  }
  trace_emit(EV_PAGE_MAP, va, pa, shared, pid);
  return 0;
}

// Map pa, a page of a shared object, at page va of pgdir for pid with
// perm, taking a reference for the PTE. Returns 0 or -1 (no memory).
static int map_shared(pde_t *pgdir, uint va, uint pa, int perm, int pid) {
  kref(P2V(pa));
  return map_ref(pgdir, va, pa, perm, pid, 1);
}

// Map page va of file region r in p (not present yet), for a write if
// write. Returns 0, FAULT_BUS (past the end of the file) or FAULT_NOMEM.
// May sleep (reads the file).
static int map_file_page(struct proc *p, struct region *r, uint va, int write) {
  uint pa;
  int err, perm = pte_perm(r->prot);
  if ((err = pcache_page(r->pc, file_page(r, va), &pa)) != 0)
    return err;
  if (!region_shared(r) && write) {  // a private copy at once
    if ((pa = map_fresh(p->pgdir, va, P2V(pa), perm)) == 0)
      return FAULT_NOMEM;
    trace_emit(EV_PAGE_NEW, va, pa, p->pid, 0);
    return 0;
  }
  if (!region_shared(r) && (perm & PTE_W))
    perm = (perm & ~PTE_W) | PTE_COW;  // the first write copies
  return map_shared(p->pgdir, va, pa, perm, p->pid) < 0 ? FAULT_NOMEM : 0;
}

// Map page va of anonymous region r in p (not present yet), outside a
// fault. Returns 0 or -1 (no memory).
static int map_page(struct proc *p, struct region *r, uint va) {
  uint pa;
  if (r->shm) {
    pa = shm_page(r->shm, r->shmoff + (va - r->start) / PGSIZE);
    return pa ? map_shared(p->pgdir, va, pa, pte_perm(r->prot), p->pid) : -1;
  }
  if ((pa = map_fresh(p->pgdir, va, 0, pte_perm(r->prot))) == 0)
    return -1;
  trace_emit(EV_PAGE_NEW, va, pa, p->pid, 0);
  return 0;
}

// Unmap and release every present page in [start, end) of p; with
// free_tables, also the page tables left empty. Caller holds
// p->regionlock (readers of another process walk these tables).
static void unmap_range(struct proc *p, uint start, uint end, int free_tables) {
  uint a;
  pte_t *pte;
  for (a = start; (pte = next_present_pte(p->pgdir, &a, end)) != 0; a += PGSIZE) {
    kfree_unmapped(P2V(PTE_ADDR(*pte)), a, p->pid);
    *pte = 0;
  }
  if (free_tables)
    free_empty_pgtables(p->pgdir, start, end);
}

// Give the present pages of r in [start, end) the permissions of prot. A
// private page that another process still holds copy-on-write stays
// without PTE_W: writable means PTE_COW for it, and the first write
// copies it.
static void protect_range(struct proc *p, struct region *r, uint start, uint end, int prot) {
  uint a, perm = pte_perm(prot), cowperm = (perm & ~PTE_W) | PTE_COW;
  pte_t *pte;
  for (a = start; (pte = next_pte(p->pgdir, &a, end)) != 0; a += PGSIZE) {
    if (!(*pte & PTE_P))
      continue;
    // The dirty bit stays: a shared file page's stores are yet to be synced.
    if (!region_shared(r) && (perm & PTE_W) && krefcount(P2V(PTE_ADDR(*pte))) > 1)
      *pte = PTE_ADDR(*pte) | PTE_P | cowperm | (*pte & PTE_D);
    else
      *pte = PTE_ADDR(*pte) | PTE_P | perm | (*pte & PTE_D);
  }
}

// Pages present in [start, end) of pgdir.
static uint resident(pde_t *pgdir, uint start, uint end) {
  uint a, n = 0;
  pte_t *pte;
  for (a = start; (pte = next_pte(pgdir, &a, end)) != 0; a += PGSIZE)
    if (*pte & PTE_P)
      n++;
  return n;
}

// ---- the region list -------------------------------------------------

static struct region *region_of(struct rnode *n) {
  return (struct region *)((char *)n - __builtin_offsetof(struct region, node));
}

// The region of p containing va, or 0.
struct region *region_find(struct proc *p, uint va) {
  struct rnode *n = rindex_find(p->rindex, va);
  return n ? region_of(n) : 0;
}

// The first region of p that ends above va, or 0: where a walk of the
// regions meeting [va, ...) starts.
static struct region *first_ending_after(struct proc *p, uint va) {
  struct rnode *n = rindex_last_ending_by(p->rindex, va);
  return n ? region_of(n)->next : p->regions;
}

// If va lies in a region of p that allows the access (a read, or a write
// if write), the end of that region, else 0. Untouched pages count: they
// are faulted in when the kernel or the user touches them.
uint region_span(struct proc *p, uint va, int write) {
  struct region *r = region_find(p, va);
  if (r == 0 || r->prot == PROT_NONE || (write && !(r->prot & PROT_WRITE)))
    return 0;
  return r->end;
}

// Link r, which overlaps no region, into p's sorted list and index.
// Returns the region before it, or 0. Caller holds p->regionlock.
static struct region *region_insert(struct proc *p, struct region *r) {
  struct rnode *prev = rindex_last_ending_by(p->rindex, r->start);
  struct region **pp = prev ? &region_of(prev)->next : &p->regions;
  r->next = *pp;
  *pp = r;
  p->nregions++;
  rindex_insert(&p->rindex, &r->node, r->start, r->end);
  return prev ? region_of(prev) : 0;
}

// Free a region node that is no longer in a process's list.
// May sleep (the last region of a file writes its cache back).
static void region_free(struct region *r) {
  if (r->shm)
    shm_detach(r->shm, r->shmoff, r->shmoff + region_pages(r));
  if (r->pc)
    pcache_put(r->pc);
  kmfree(r);
}

// Split r at va (r->start < va < r->end) using the spare node n, which
// becomes [va, end). Caller holds p->regionlock.
static void region_split(struct proc *p, struct region *r, uint va, struct region *n) {
  *n = *r;
  n->start = va;
  if (r->shm) {
    n->shmoff = r->shmoff + (va - r->start) / PGSIZE;
    shm_share(r->shm);
  }
  if (r->pc) {
    n->pgoff = file_page(r, va);
    pcache_hold(r->pc);
  }
  r->end = va;
  r->next = n;
  p->nregions++;
  rindex_resize(&p->rindex, &r->node, r->start, r->end);
  rindex_insert(&p->rindex, &n->node, n->start, n->end);
}

// Shrink r, a region of p, to [start, end) (a sub-range of it). For a
// shared region, the object's pages it no longer covers are released if
// nobody else does. Caller holds p->regionlock.
static void region_trim(struct proc *p, struct region *r, uint start, uint end) {
  uint off = r->shmoff + (start - r->start) / PGSIZE;
  if (r->shm) {
    shm_uncover(r->shm, r->shmoff, off);
    shm_uncover(r->shm, off + (end - start) / PGSIZE, r->shmoff + region_pages(r));
    r->shmoff = off;
  }
  if (r->pc)
    r->pgoff = file_page(r, start);
  r->start = start;
  r->end = end;
  rindex_resize(&p->rindex, &r->node, start, end);
}

// ---- merging ---------------------------------------------------------
//
// Adjacent regions that would behave the same are one region, as Linux
// merges VMAs: same protection and flags, and for a shared or file region
// the same object continued at the next page. Copy-on-write state is per
// page (PTE_COW), so it does not stop private regions merging.

// May a and b, with a->end == b->start, be one region?
static int mergeable(struct region *a, struct region *b) {
  if (a->end != b->start || a->prot != b->prot || a->flags != b->flags)
    return 0;
  if (a->shm != b->shm || a->pc != b->pc || a->maywrite != b->maywrite)
    return 0;
  if (a->shm && a->shmoff + region_pages(a) != b->shmoff)
    return 0;
  if (a->pc && a->pgoff + region_pages(a) != b->pgoff)
    return 0;
  return 1;
}

// Merge r's successor into r if they may be one region; the node that
// goes is pushed onto *dead. Returns 1 if merged. Caller holds
// p->regionlock.
static int merge_next(struct proc *p, struct region *r, struct region **dead) {
  struct region *n = r->next;
  if (n == 0 || !mergeable(r, n))
    return 0;
  r->end = n->end;
  r->next = n->next;
  p->nregions--;
  rindex_remove(&p->rindex, &n->node);
  rindex_resize(&p->rindex, &r->node, r->start, r->end);
  n->next = *dead;
  *dead = n;
  return 1;
}

// Free nodes merged away: their pages are covered by the region they
// joined, which holds the same object and cache, so only the references
// go (never the last).
static void free_merged(struct region *dead) {
  struct region *r;
  while ((r = dead) != 0) {
    dead = r->next;
    if (r->shm)
      shm_unshare(r->shm);
    if (r->pc)
      pcache_put(r->pc);
    kmfree(r);
  }
}

// The region where a merge walk of [start, ...) starts: the last one
// ending at or below start, or the first.
static struct region *merge_walk_start(struct proc *p, uint start) {
  struct rnode *before = rindex_last_ending_by(p->rindex, start);
  return before ? region_of(before) : p->regions;
}

// Merge every region touching [start, end) (its neighbours included)
// with its neighbours where they may be one. p's own list is read without
// the lock first (only p changes it): most calls merge nothing and then
// skip the lock (a tenth of an mmap+munmap's cost).
static void merge_range(struct proc *p, uint start, uint end) {
  struct region *r, *dead = 0;
  for (r = merge_walk_start(p, start); r && r->start <= end; r = r->next)
    if (r->next && mergeable(r, r->next))
      break;
  if (r == 0 || r->start > end)
    return;
  acquire(&p->regionlock);
  r = merge_walk_start(p, start);
  while (r && r->start <= end) {
    if (!merge_next(p, r, &dead))
      r = r->next;
  }
  release(&p->regionlock);
  free_merged(dead);
}

// How many regions p would have after removing [start, end).
static int count_after_cut(struct proc *p, uint start, uint end) {
  struct region *r;
  int n = p->nregions;
  for (r = first_ending_after(p, start); r && r->start < end; r = r->next) {
    if (r->start < start && r->end > end)
      n++;                        // split in two
    else if (r->start >= start && r->end <= end)
      n--;                        // removed whole
  }
  return n;
}

// Does any region overlap [start, end)?
static int overlaps(struct proc *p, uint start, uint end) {
  struct region *r = first_ending_after(p, start);
  return r && r->start < end;
}

// Remove [start, end) from p's regions: unlink or trim regions, split
// the one that strictly contains the range (using *spare, which is then
// set to 0), release their pages (and, with free_tables, page tables
// left empty). Only region pages are touched: the range may also cover
// holes, the heap or the stack, which stay as they are. Caller ensured a
// spare when one is needed.
static void cut_range(struct proc *p, uint start, uint end, struct region **spare,
                      int free_tables) {
  struct region **pp, *r, *dead = 0;
  struct rnode *before;
  uint lo, hi;

  acquire(&p->regionlock);
  before = rindex_last_ending_by(p->rindex, start);
  pp = before ? &region_of(before)->next : &p->regions;
  while ((r = *pp) != 0 && r->start < end) {
    if (r->end <= start || r->start >= end) {
      pp = &r->next;
      continue;
    }
    lo = r->start > start ? r->start : start;
    hi = r->end < end ? r->end : end;
    unmap_range(p, lo, hi, free_tables);
    if (r->start < start && r->end > end) {      // hole in the middle
      region_split(p, r, end, *spare);
      *spare = 0;
      region_trim(p, r, r->start, start);
      pp = &r->next;
    } else if (r->start < start) {               // cut the tail
      region_trim(p, r, r->start, start);
      pp = &r->next;
    } else if (r->end > end) {                   // cut the head
      region_trim(p, r, end, r->end);
      pp = &r->next;
    } else {                                     // whole region
      *pp = r->next;
      p->nregions--;
      rindex_remove(&p->rindex, &r->node);
      r->next = dead;
      dead = r;
    }
  }
  release(&p->regionlock);

  flush_tlb(p);
  while ((r = dead) != 0) {
    dead = r->next;
    region_free(r);
  }
}

// Hand the dirty bits of r's present pages in [start, end) to its page
// cache and clear them. Caller holds p->regionlock and flushes p's TLB
// (a TLB entry that still says dirty would not set the bit again).
static void harvest_dirty(struct proc *p, struct region *r, uint start, uint end) {
  uint a;
  pte_t *pte;
  for (a = start; (pte = next_pte(p->pgdir, &a, end)) != 0; a += PGSIZE) {
    if ((*pte & (PTE_P | PTE_D)) == (PTE_P | PTE_D)) {
      *pte &= ~PTE_D;
      pcache_dirty(r->pc, file_page(r, a));
    }
  }
}

// Write back what p's shared file regions changed in [start, end): their
// dirty pages there go to the files (msync, and before munmap, exit and
// exec drop the pages). Only p changes its region list, and p is here (or,
// for a failed fork's child, not running), so the list holds still while
// this sleeps. Stores by other processes are theirs to sync.
static void sync_range(struct proc *p, uint start, uint end) {
  struct region *r;
  uint lo, hi;
  for (r = first_ending_after(p, start); r && r->start < end; r = r->next) {
    if (r->end <= start || !r->pc || !region_shared(r))
      continue;
    lo = r->start > start ? r->start : start;
    hi = r->end < end ? r->end : end;
    acquire(&p->regionlock);
    harvest_dirty(p, r, lo, hi);
    release(&p->regionlock);
    flush_tlb(p);
    pcache_writeback(r->pc, file_page(r, lo), file_page(r, hi));
  }
}

// ---- placement -------------------------------------------------------

// Lowest address a region may use: above the heap.
static uint region_floor(struct proc *p) {
  return PGROUNDUP(p->sz);
}

// Pick where a region of size bytes goes for hint (see docs/mmap.md): the
// index finds the gap (rindex_place). Returns 0 if no gap is large enough.
static uint choose_addr(struct proc *p, uint hint, uint size) {
  return rindex_place(p->rindex, region_floor(p), MMAPTOP, hint, size);
}

// ---- system calls ----------------------------------------------------

// mmap's arguments, checked and put in canonical form: the legacy call
// (flags 0) becomes private anonymous read/write. Returns 0 or a reason.
static int mmap_args(int length, int *prot, int *flags, int fd, int offset) {
  if (length <= 0)
    return ERR_BADLEN;
  if (PGROUNDUP((uint)length) > MMAPTOP)
    return ERR_NOMEM;
  if (*flags == 0) {
    if (fd != -1)
      return ERR_BADFD;
    *prot = PROT_READ | PROT_WRITE;
    *flags = MAP_PRIVATE | MAP_ANONYMOUS;
  } else {
    if ((*flags & ~MAP_KNOWN) != 0)
      return ERR_BADFLAGS;
    if ((*flags & (MAP_SHARED | MAP_PRIVATE)) == 0 ||
        (*flags & (MAP_SHARED | MAP_PRIVATE)) == (MAP_SHARED | MAP_PRIVATE))
      return ERR_BADFLAGS;
    if ((*prot & ~PROT_KNOWN) != 0)
      return ERR_BADPROT;
  }
  if (offset % PGSIZE != 0 || offset < 0)
    return ERR_BADADDR;
  return 0;
}

// The open file a file mapping (flags without MAP_ANONYMOUS) of fd with
// prot maps, checked as Linux does: open for reading, and for writing too
// if a shared mapping may write. Sets *f (0 for an anonymous mapping);
// returns 0 or a reason.
static int mmap_file(int fd, int prot, int flags, struct file **f) {
  *f = 0;
  if ((flags & MAP_ANONYMOUS) || fd == -1)
    return 0;  // fd -1 without MAP_ANONYMOUS has always meant anonymous here
  if (fd < 0 || fd >= NOFILE || (*f = myproc()->ofile[fd]) == 0 || (*f)->type != FD_INODE)
    return ERR_BADFD;
  if (!(*f)->readable || ((flags & MAP_SHARED) && (prot & PROT_WRITE) && !(*f)->writable))
    return ERR_PERM;
  return 0;
}

// Where a new region of size bytes goes: at addr for MAP_FIXED, else the
// gap closest to the hint addr. Sets *start; returns 0 or a reason.
static int mmap_place(struct proc *p, uint addr, uint size, int flags, uint *start) {
  if (flags & MAP_FIXED_NOREPLACE) {  // exactly at addr, over nothing
    if (addr % PGSIZE != 0 || addr > MMAPTOP || size > MMAPTOP - addr)
      return ERR_BADADDR;
    if (addr < region_floor(p) || overlaps(p, addr, addr + size))
      return ERR_OVERLAP;
    if (p->nregions + 1 > NREGION)
      return ERR_LIMIT;
    *start = addr;
    return 0;
  }
  if (flags & MAP_FIXED) {
    if (addr % PGSIZE != 0 || addr < region_floor(p) || addr > MMAPTOP || size > MMAPTOP - addr)
      return ERR_BADADDR;
    if (count_after_cut(p, addr, addr + size) + 1 > NREGION)
      return ERR_LIMIT;
    *start = addr;
    return 0;
  }
  if (p->nregions + 1 > NREGION)
    return ERR_LIMIT;
  if ((*start = choose_addr(p, addr >= KERNBASE ? MMAPTOP : PGROUNDDOWN(addr), size)) == 0)
    return ERR_NOMEM;
  return 0;
}

// A new region node for [start, start+size): of file f from offset if f
// is not 0, else anonymous, with its shared object for MAP_SHARED. Sets
// *r; returns 0 or a reason.
static int region_new(uint start, uint size, int prot, int flags, struct file *f,
                      uint offset, struct region **rp) {
  struct region *r;
  struct shmobj *obj;
  int err;
  if ((*rp = r = kmalloc(sizeof(*r))) == 0)
    return ERR_NOMEM;
  memset(r, 0, sizeof(*r));
  r->start = start;
  r->end = start + size;
  r->prot = prot;
  r->flags = flags & ~MAP_REQUESTS;
  if (!f)
    r->flags |= MAP_ANONYMOUS;  // fd -1 without the flag is anonymous too
  if (f) {
    if ((err = pcache_get(f, &r->pc)) != 0) {
      kmfree(r);
      return err;
    }
    r->pgoff = offset / PGSIZE;
    r->maywrite = f->writable;
  } else if (flags & MAP_SHARED) {
    if ((obj = shm_alloc(size / PGSIZE)) == 0) {
      kmfree(r);
      return ERR_NOMEM;
    }
    r->shm = obj;
    shm_attach(obj, 0, size / PGSIZE);
  }
  return 0;
}

// MAP_POPULATE is all or nothing, and MAP_FIXED must not lose what it
// replaces when the populate runs out of memory. So every page the new
// region needs is allocated before anything is unmapped: the page tables
// of its range (which the cut then keeps), and its pages (a private
// region's in a list linked through their first words, a shared region's
// in its object). Sets *pages to the list (0 for a shared region).
// Returns 0, or -1 with everything given back.
static int populate_prepare(struct proc *p, struct region *r, char **pages) {
  char *list = 0, *mem;
  uint a, pa;
  for (a = r->start; a < r->end; a = PGADDR(PDX(a) + 1, 0, 0))
    if (walkpgdir(p->pgdir, (void *)a, 1) == 0)
      goto undo;
  for (a = r->start; a < r->end; a += PGSIZE) {
    if (r->shm) {
      if (shm_page(r->shm, r->shmoff + (a - r->start) / PGSIZE) == 0)
        goto undo;  // the object's pages go with the object
      continue;
    }
    if (r->pc) {  // read the file in (pages past its end stay unmapped)
      if (pcache_page(r->pc, file_page(r, a), &pa) == FAULT_NOMEM)
        goto undo;  // the cache's pages go with the cache
      continue;
    }
    if ((mem = kalloc_untraced()) == 0)
      goto undo;
    *(char **)mem = list;
    list = mem;
  }
  *pages = list;
  return 0;
undo:
  while ((mem = list) != 0) {
    list = *(char **)mem;
    release_unused(mem);
  }
  free_empty_pgtables(p->pgdir, r->start, r->end);
  return -1;
}

// Map every page of r from what populate_prepare set aside. Cannot fail:
// the page tables exist and the range is empty (a file region maps the
// pages it read in, all but those past the end of the file).
static void populate_commit(struct proc *p, struct region *r, char *list) {
  uint a, pa;
  char *mem;
  for (a = r->start; a < r->end; a += PGSIZE) {
    if (r->pc) {
      if (map_file_page(p, r, a, 0) == FAULT_NOMEM)
        panic("populate_commit: file");
      continue;
    }
    if (r->shm) {
      pa = shm_page(r->shm, r->shmoff + (a - r->start) / PGSIZE);
      if (map_shared(p->pgdir, a, pa, pte_perm(r->prot), p->pid) < 0)
        panic("populate_commit: shared");
      continue;
    }
    mem = list;
    list = *(char **)mem;
    if ((pa = install_fresh(p->pgdir, a, mem, 0, pte_perm(r->prot))) == 0)
      panic("populate_commit: private");
    trace_emit(EV_PAGE_NEW, a, pa, p->pid, 0);
  }
}

// mmap in steps: check, place, make the region, set aside its pages
// (MAP_POPULATE), replace what MAP_FIXED covers, insert, map. Every
// failure comes before anything of the process has changed.
static uint do_mmap(uint addr, int length, int prot, int flags, int fd, int offset) {
  struct proc *p = myproc();
  struct region *r, *prev, *spare = 0;
  struct file *f;
  uint size = PGROUNDUP((uint)length), start;
  int err, populate;
  char *pages = 0;

  if ((err = mmap_args(length, &prot, &flags, fd, offset)) != 0 ||
      (err = mmap_file(fd, prot, flags, &f)) != 0 ||
      (err = mmap_place(p, addr, size, flags, &start)) != 0)
    return syserr(err, 0);
  populate = (flags & MAP_POPULATE) != 0;
  if ((err = region_new(start, size, prot, flags, f, offset, &r)) != 0)
    return syserr(err, 0);
  if ((flags & MAP_FIXED_NOREPLACE))
    flags &= ~MAP_FIXED;  // nothing is there to replace
  if ((flags & MAP_FIXED) && (spare = kmalloc(sizeof(*spare))) == 0)
    goto nomem;
  if (populate && populate_prepare(p, r, &pages) < 0)
    goto nomem;

  if ((flags & MAP_FIXED) && overlaps(p, start, start + size)) {
    trace_emit(EV_MUNMAP, start, size, 0, 0);  // MAP_FIXED replaces what was there
    sync_range(p, start, start + size);
    cut_range(p, start, start + size, &spare, !populate);
  }
  if (spare)
    kmfree(spare);
  acquire(&p->regionlock);
  prev = region_insert(p, r);
  release(&p->regionlock);
  if (populate)
    populate_commit(p, r, pages);
  if ((prev && mergeable(prev, r)) || (r->next && mergeable(r, r->next)))
    merge_range(p, start, start + size);  // r may be freed: not used after this
  return start;

nomem:
  if (spare)
    kmfree(spare);
  region_free(r);
  return syserr(ERR_NOMEM, 0);
}

int sys_mmap(void) {
  int addr, length, prot, flags, fd, offset;
  uint r;
  if (argint(0, &addr) < 0 || argint(1, &length) < 0 || argint(2, &prot) < 0 ||
      argint(3, &flags) < 0 || argint(4, &fd) < 0 || argint(5, &offset) < 0)
    return -1;  // the argument helper said why
  r = do_mmap(addr, length, prot, flags, fd, offset);
  trace_mmap(addr, length, prot, flags, r);
  return r;
}

// Check a page range argument: aligned start, positive length, below
// KERNBASE. Sets *end.
static int check_range(uint addr, int length, uint *end) {
  uint size;
  if (addr % PGSIZE != 0 || length <= 0)
    return -1;
  size = PGROUNDUP((uint)length);
  if (addr >= KERNBASE || size > KERNBASE - addr)
    return -1;
  *end = addr + size;
  return 0;
}

static int do_munmap(uint addr, uint length) {
  struct proc *p = myproc();
  struct region *spare = 0;
  uint end;
  int after;

  // munmap's length is unsigned: munmap(0, KERNBASE) is a valid call.
  if (length == 0 || length > KERNBASE)
    return syserr(ERR_BADLEN, 0);
  if (addr % PGSIZE != 0 || addr >= KERNBASE || PGROUNDUP(length) > KERNBASE - addr)
    return syserr(ERR_BADADDR, 0);
  end = addr + PGROUNDUP(length);
  if (!overlaps(p, addr, end))
    return syserr(ERR_NOREGION, 0);
  after = count_after_cut(p, addr, end);
  if (after > p->nregions) {  // the cut splits a region: needs a node
    if (after > NREGION)
      return syserr(ERR_LIMIT, 0);
    if ((spare = kmalloc(sizeof(*spare))) == 0)
      return syserr(ERR_NOMEM, 0);
  }
  sync_range(p, addr, end);
  cut_range(p, addr, end, &spare, 1);
  if (spare)
    kmfree(spare);
  return 0;
}

int sys_munmap(void) {
  int addr, length, r;
  if (argint(0, &addr) < 0 || argint(1, &length) < 0)
    return -1;  // the argument helper said why
  r = do_munmap(addr, length);
  trace_emit(EV_MUNMAP, addr, length, r, 0);
  return r;
}

// Is [start, end) fully covered by regions, with no holes?
static int covered(struct proc *p, uint start, uint end) {
  struct region *r;
  uint at = start;
  for (r = first_ending_after(p, start); r && at < end; r = r->next) {
    if (r->end <= at)
      continue;
    if (r->start > at)
      return 0;
    at = r->end;
  }
  return at >= end;
}

// May [start, end) become writable? Not where a shared file region's
// file is not open for writing (Linux says EACCES).
static int writable_files(struct proc *p, uint start, uint end) {
  struct region *r;
  for (r = first_ending_after(p, start); r && r->start < end; r = r->next)
    if (r->end > start && r->pc && region_shared(r) && !r->maywrite)
      return 0;
  return 1;
}

static int do_mprotect(uint addr, int length, int prot) {
  struct proc *p = myproc();
  struct region *r, *spare[2] = { 0, 0 };
  uint end;
  int need = 0, i;

  if (check_range(addr, length, &end) < 0)
    return syserr(length <= 0 ? ERR_BADLEN : ERR_BADADDR, 0);
  if ((prot & ~PROT_KNOWN) != 0)
    return syserr(ERR_BADPROT, 0);
  if (!covered(p, addr, end))
    return syserr(ERR_NOREGION, 0);
  if ((prot & PROT_WRITE) && !writable_files(p, addr, end))
    return syserr(ERR_PERM, prot);
  // A region that straddles either boundary is split there.
  if ((r = region_find(p, addr)) && r->start < addr)
    need++;
  if ((r = region_find(p, end - 1)) && r->end > end)
    need++;
  if (p->nregions + need > NREGION)
    return syserr(ERR_LIMIT, 0);
  for (i = 0; i < need; i++)
    if ((spare[i] = kmalloc(sizeof(struct region))) == 0)
      goto nomem;

  acquire(&p->regionlock);
  i = 0;
  if ((r = region_find(p, addr)) && r->start < addr)
    region_split(p, r, addr, spare[i++]);
  if ((r = region_find(p, end - 1)) && r->end > end)
    region_split(p, r, end, spare[i++]);
  for (r = first_ending_after(p, addr); r && r->start < end; r = r->next) {
    if (r->start >= addr && r->end <= end) {
      r->prot = prot;
      protect_range(p, r, r->start, r->end, prot);
    }
  }
  release(&p->regionlock);
  flush_tlb(p);
  merge_range(p, addr, end);
  return 0;

nomem:
  for (i = 0; i < 2; i++)
    if (spare[i])
      kmfree(spare[i]);
  return syserr(ERR_NOMEM, 0);
}

int sys_mprotect(void) {
  int addr, length, prot, r;
  if (argint(0, &addr) < 0 || argint(1, &length) < 0 || argint(2, &prot) < 0)
    return -1;  // the argument helper said why
  r = do_mprotect(addr, length, prot);
  trace_emit(EV_MPROTECT, addr, length, prot, r);
  return r;
}

// The range msync and madvise act on: addr page-aligned, the range below
// KERNBASE and wholly mapped (no holes). Returns 1 with *end its rounded
// end, 0 for an empty range, -1 (with the reason) for a bad one.
static int mapped_range(struct proc *p, uint addr, uint length, uint *end) {
  if (addr % PGSIZE != 0 || addr >= KERNBASE || length > KERNBASE - addr)
    return syserr(ERR_BADADDR, addr);
  if (length == 0)
    return 0;
  *end = PGROUNDUP(addr + length);
  if (!covered(p, addr, *end))
    return syserr(ERR_NOREGION, addr);
  return 1;
}

// msync(addr, length, flags): with MS_SYNC, write back the dirty pages
// of shared file regions in the range before returning. The range must
// be mapped (no holes); MS_ASYNC alone (or no flag) checks and returns.
static int do_msync(uint addr, uint length, int flags) {
  struct proc *p = myproc();
  uint end;
  int ok;
  if ((flags & ~MS_KNOWN) != 0 || (flags & (MS_SYNC | MS_ASYNC)) == (MS_SYNC | MS_ASYNC))
    return syserr(ERR_BADFLAGS, flags);
  if ((ok = mapped_range(p, addr, length, &end)) <= 0)
    return ok;
  if (flags & MS_SYNC)
    sync_range(p, addr, end);
  return 0;
}

int sys_msync(void) {
  int addr, length, flags;
  if (argint(0, &addr) < 0 || argint(1, &length) < 0 || argint(2, &flags) < 0)
    return -1;  // the argument helper said why
  return do_msync(addr, length, flags);
}

// ---- mremap ----------------------------------------------------------
//
// Shrink in place; grow in place when the pages after the region are
// free; else move (MREMAP_MAYMOVE), which moves the page-table entries,
// not the pages, so copy-on-write sharing and dirty bits go along.

struct remap {
  uint old, oldend;      // the range, wholly in one region
  uint new, newend;      // where it goes
  struct region *node;   // the moved region's node
  struct region *spare[2];  // for splits: the target's, the old range's
};

// Grow r, whose end is at the range's end, in place to newend (the pages
// there are free). Returns 0 or a reason.
static int grow_in_place(struct proc *p, struct region *r, uint newend) {
  uint oldpages = region_pages(r), newpages = (newend - r->start) / PGSIZE;
  if (r->shm) {
    if (shm_grow(r->shm, r->shmoff + newpages) < 0)
      return ERR_NOMEM;
    shm_cover(r->shm, r->shmoff + oldpages, r->shmoff + newpages);
  }
  acquire(&p->regionlock);
  r->end = newend;
  rindex_resize(&p->rindex, &r->node, r->start, r->end);
  release(&p->regionlock);
  merge_range(p, r->start, r->end);
  return 0;
}

// How many regions p has after moving m's range out of r (to a target
// already cut free).
static int count_after_move(struct proc *p, struct region *r, struct remap *m) {
  uint lo = r->start, hi = r->end;
  int n = m->spare[0] ? count_after_cut(p, m->new, m->newend) : p->nregions;
  if (m->new < hi && m->newend > lo) {  // the target cuts r too
    if (m->new >= m->oldend)
      hi = m->new;
    else
      lo = m->newend;
  }
  if (lo < m->old && hi > m->oldend)
    n++;
  else if (lo == m->old && hi == m->oldend)
    n--;
  return n + 1;
}

// Set aside what a move needs: nodes, page tables for the target, a
// shared object long enough. Returns 0 or a reason, with nothing kept.
static int move_prepare(struct proc *p, struct region *r, struct remap *m, int fixed) {
  uint a, need;
  int i;
  memset(m->spare, 0, sizeof(m->spare));
  if ((m->node = kmalloc(sizeof(struct region))) == 0)
    return ERR_NOMEM;
  for (i = 0; i < 2; i++)
    if ((i == 1 || fixed) && (m->spare[i] = kmalloc(sizeof(struct region))) == 0)
      goto nomem;
  if (count_after_move(p, r, m) > NREGION) {
    for (i = 0; i < 2; i++)
      if (m->spare[i])
        kmfree(m->spare[i]);
    kmfree(m->node);
    return ERR_LIMIT;
  }
  for (a = m->new; a < m->newend; a = PGADDR(PDX(a) + 1, 0, 0))
    if (walkpgdir(p->pgdir, (void *)a, 1) == 0)
      goto nomem;
  need = r->shmoff + (m->old - r->start + m->newend - m->new) / PGSIZE;
  if (r->shm && shm_grow(r->shm, need) < 0)
    goto nomem;
  return 0;
nomem:
  for (i = 0; i < 2; i++)
    if (m->spare[i])
      kmfree(m->spare[i]);
  kmfree(m->node);
  free_empty_pgtables(p->pgdir, m->new, m->newend);
  return ERR_NOMEM;
}

// Move the present PTEs of [m->old, m->oldend) that fit in the target to
// the same offsets from m->new (whose page tables exist). Each PTE's reference goes with it.
// Caller holds p->regionlock.
static void move_ptes(struct proc *p, struct remap *m, int shared) {
  uint a, to, pa, end = m->oldend;
  pte_t *pte, *dst;
  if (end - m->old > m->newend - m->new)
    end = m->old + (m->newend - m->new);  // a shrinking move leaves the rest to be cut
  for (a = m->old; (pte = next_present_pte(p->pgdir, &a, end)) != 0; a += PGSIZE) {
    to = m->new + (a - m->old);
    dst = walkpgdir(p->pgdir, (void *)to, 0);
    pa = PTE_ADDR(*pte);
    *dst = *pte;
    *pte = 0;
    trace_emit(EV_PAGE_UNMAP, a, pa, p->pid, 0);
    trace_emit(EV_PAGE_MAP, to, pa, shared, p->pid);
  }
}

// Move [m->old, m->oldend) of r to [m->new, m->newend) (with MREMAP_FIXED,
// replacing what is there). Returns 0 or a reason; on failure nothing
// changed.
static int move_range(struct proc *p, struct region *r, struct remap *m, int fixed) {
  struct region *n;
  int err, i;
  if ((err = move_prepare(p, r, m, fixed)) != 0)
    return err;
  if (fixed && overlaps(p, m->new, m->newend)) {
    trace_emit(EV_MUNMAP, m->new, m->newend - m->new, 0, 0);
    sync_range(p, m->new, m->newend);
    cut_range(p, m->new, m->newend, &m->spare[0], 0);
    r = region_find(p, m->old);  // may have been trimmed; still holds the range
  }
  n = m->node;
  *n = *r;
  n->start = m->new;
  n->end = m->newend;
  if (r->pc) {
    n->pgoff = file_page(r, m->old);
    pcache_hold(r->pc);
  }
  if (r->shm) {
    n->shmoff = r->shmoff + (m->old - r->start) / PGSIZE;
    shm_attach(r->shm, n->shmoff, n->shmoff + region_pages(n));
  }
  acquire(&p->regionlock);
  move_ptes(p, m, region_shared(r));
  region_insert(p, n);
  release(&p->regionlock);
  cut_range(p, m->old, m->oldend, &m->spare[1], 1);  // flushes the TLB
  merge_range(p, n->start, n->end);
  for (i = 0; i < 2; i++)
    if (m->spare[i])
      kmfree(m->spare[i]);  // not needed for a split
  return 0;
}

// mremap's arguments: flags, alignment, lengths, the range in one region.
// Sets m's ranges (new only for MREMAP_FIXED) and *rp. Returns 0 or a reason.
static int mremap_args(struct proc *p, uint old, uint oldlen, uint newlen, int flags,
                       uint newaddr, struct remap *m, struct region **rp) {
  if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) != 0 ||
      ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)))
    return ERR_BADFLAGS;
  if (oldlen == 0 || newlen == 0 || oldlen > MMAPTOP || newlen > MMAPTOP)
    return ERR_BADLEN;
  if (old % PGSIZE != 0 || old >= MMAPTOP || PGROUNDUP(oldlen) > MMAPTOP - old)
    return ERR_BADADDR;
  m->old = old;
  m->oldend = old + PGROUNDUP(oldlen);
  if ((*rp = region_find(p, old)) == 0 || m->oldend > (*rp)->end)
    return ERR_NOREGION;
  m->new = newaddr;
  m->newend = newaddr + PGROUNDUP(newlen);
  if (flags & MREMAP_FIXED) {
    if (newaddr % PGSIZE != 0 || newaddr < region_floor(p) || newaddr > MMAPTOP ||
        PGROUNDUP(newlen) > MMAPTOP - newaddr)
      return ERR_BADADDR;
    if (m->new < m->oldend && m->newend > m->old)
      return ERR_OVERLAP;
  }
  return 0;
}

// mremap in steps: check; move to newaddr (MREMAP_FIXED); shrink; grow
// in place; move. Returns the range's new start, or -1.
static uint do_mremap(uint old, uint oldlen, uint newlen, int flags, uint newaddr) {
  struct proc *p = myproc();
  struct region *r;
  struct remap m;
  uint oldsize, newsize;
  int err;

  if ((err = mremap_args(p, old, oldlen, newlen, flags, newaddr, &m, &r)) != 0)
    return syserr(err, 0);
  oldsize = m.oldend - m.old;
  newsize = PGROUNDUP(newlen);
  if (flags & MREMAP_FIXED)
    return (err = move_range(p, r, &m, 1)) ? syserr(err, 0) : m.new;
  if (newsize < oldsize)
    return do_munmap(old + newsize, oldsize - newsize) < 0 ? -1 : old;
  if (newsize == oldsize)
    return old;
  if (m.oldend == r->end && newsize - oldsize <= MMAPTOP - r->end &&
      !overlaps(p, r->end, old + newsize))
    return (err = grow_in_place(p, r, old + newsize)) ? syserr(err, 0) : old;
  if (!(flags & MREMAP_MAYMOVE))
    return syserr(ERR_NOMEM, 0);
  if (p->nregions + 1 > NREGION)
    return syserr(ERR_LIMIT, 0);
  if ((m.new = choose_addr(p, MMAPTOP, newsize)) == 0)
    return syserr(ERR_NOMEM, 0);
  m.newend = m.new + newsize;
  return (err = move_range(p, r, &m, 0)) ? syserr(err, 0) : m.new;
}

int sys_mremap(void) {
  int old, oldlen, newlen, flags, newaddr;
  uint r;
  if (argint(0, &old) < 0 || argint(1, &oldlen) < 0 || argint(2, &newlen) < 0 ||
      argint(3, &flags) < 0 || argint(4, &newaddr) < 0)
    return -1;  // the argument helper said why
  r = do_mremap(old, oldlen, newlen, flags, newaddr);
  trace_emit(EV_MREMAP, old, oldlen, r, newlen);
  return r;
}

// ---- madvise -------------------------------------------------------

// MADV_WILLNEED: fault in the untouched pages of r in [start, end) as a
// read would (a read-only region's pages come in readable). A file page
// past the end of its file stays out. Returns 0, or -1 if memory ran out.
static int willneed(struct proc *p, struct region *r, uint start, uint end) {
  uint a;
  pte_t *pte;
  if (r->prot == PROT_NONE)
    return 0;  // nothing may read it
  for (a = start; a < end; a += PGSIZE) {
    if ((pte = walkpgdir(p->pgdir, (void *)a, 0)) != 0 && (*pte & PTE_P))
      continue;
    if (r->pc) {
      if (map_file_page(p, r, a, 0) == FAULT_NOMEM)
        return -1;
    } else if (map_page(p, r, a) < 0) {
      return -1;
    }
  }
  return 0;
}

// MADV_DONTNEED: unmap the present pages of [start, end), handing a shared
// file region's dirty bits to its cache first. The next touch refills a
// page: zeros, the shared object's page, or the file's. Returns the pages
// dropped.
static int dontneed(struct proc *p, uint start, uint end) {
  struct region *r;
  uint lo, hi;
  int n = 0;
  acquire(&p->regionlock);
  for (r = first_ending_after(p, start); r && r->start < end; r = r->next) {
    lo = r->start > start ? r->start : start;
    hi = r->end < end ? r->end : end;
    if (r->pc && region_shared(r))
      harvest_dirty(p, r, lo, hi);
    n += resident(p->pgdir, lo, hi);
    unmap_range(p, lo, hi, 0);
  }
  release(&p->regionlock);
  flush_tlb(p);
  return n;
}

// madvise(addr, length, advice): see docs/mmap.md. Returns the pages
// dropped (0 but for MADV_DONTNEED), or -1.
static int do_madvise(uint addr, uint length, int advice) {
  struct proc *p = myproc();
  struct region *r;
  uint end;
  int ok;
  if (advice != MADV_NORMAL && advice != MADV_WILLNEED && advice != MADV_DONTNEED)
    return syserr(ERR_BADARG, advice);
  if ((ok = mapped_range(p, addr, length, &end)) <= 0)
    return ok;
  if (advice == MADV_DONTNEED)
    return dontneed(p, addr, end);
  if (advice == MADV_WILLNEED) {
    for (r = first_ending_after(p, addr); r && r->start < end; r = r->next)
      if (willneed(p, r, r->start > addr ? r->start : addr, r->end < end ? r->end : end) < 0)
        return syserr(ERR_NOMEM, 0);
  }
  return 0;
}

int sys_madvise(void) {
  int addr, length, advice, r;
  if (argint(0, &addr) < 0 || argint(1, &length) < 0 || argint(2, &advice) < 0)
    return -1;  // the argument helper said why
  r = do_madvise(addr, length, advice);
  trace_emit(EV_MADVISE, addr, length, advice, r);
  return r < 0 ? -1 : 0;
}

// ---- getmaps ---------------------------------------------------------

struct maps_req {
  struct mapinfo *buf;   // the caller's buffer, already checked writable
  int n;                 // its capacity
  int filled;
};

// Append one record. The buffer is in the calling process's memory and
// its pages are present (sys_getmaps faulted them in), so writing it
// cannot fault even with locks held.
static struct mapinfo *add_map(struct maps_req *q, pde_t *pgdir, uint start, uint end,
                               int kind, int prot, int flags) {
  struct mapinfo *m;
  if (q->filled >= q->n)
    return 0;
  m = &q->buf[q->filled++];
  memset(m, 0, sizeof(*m));
  m->start = start;
  m->end = end;
  m->kind = kind;
  m->prot = prot;
  m->flags = flags;
  m->resident = resident(pgdir, start, end);
  return m;
}

// A file region's file and offset in its record.
static void add_file(struct mapinfo *m, struct region *r) {
  if (m == 0 || r->pc == 0)
    return;
  m->inum = pcache_inum(r->pc, m->name);
  m->offset = r->pgoff * PGSIZE;
}

// Describe p's address space into q. Called with ptable.lock held.
static int collect_maps(struct proc *p, void *arg) {
  struct maps_req *q = arg;
  struct region *r;
  int rw = PROT_READ | PROT_WRITE;

  if (p->pgdir == 0)
    return -1;
  acquire(&p->regionlock);
  add_map(q, p->pgdir, 0, p->textend, MAPKIND_TEXT, rw | PROT_EXEC, 0);
  if (p->stackbase != 0) {
    add_map(q, p->pgdir, p->textend, p->stackbase, MAPKIND_GUARD, PROT_NONE, 0);
    add_map(q, p->pgdir, p->stackbase, p->stackbase + PGSIZE, MAPKIND_STACK, rw, 0);
  }
  add_map(q, p->pgdir, p->heapbase, p->sz, MAPKIND_HEAP, rw, 0);
  for (r = p->regions; r && q->filled < q->n; r = r->next)
    add_file(add_map(q, p->pgdir, r->start, r->end, MAPKIND_REGION, r->prot, r->flags), r);
  release(&p->regionlock);
  return q->filled;
}

// How many records p's address space needs. Called with ptable.lock held.
static int count_maps(struct proc *p, void *arg) {
  return 4 + p->nregions;
}

// getmaps(pid, buf, n): up to n records describing pid's address space
// (pid <= 0: the caller's). The records are written with ptable.lock and
// the target's regionlock held, so only the pages of buf they will fill
// are faulted in first.
int sys_getmaps(void) {
  int pid, n, r;
  uint ubuf;
  struct maps_req q;

  if (argint(0, &pid) < 0 || argint(2, &n) < 0)
    return -1;  // the argument helper said why
  if (n < 0)
    return syserr(ERR_BADLEN, 0);
  if (n > NREGION + 4)
    n = NREGION + 4;
  if (arguser(1, &ubuf, n * sizeof(struct mapinfo), 1) < 0)
    return -1;  // the argument helper said why
  if (pid <= 0)
    pid = myproc()->pid;
  if (n == 0)
    return 0;
  if ((r = with_proc(pid, count_maps, 0)) < 0)
    return syserr(ERR_NOPROC, 0);
  q.n = r < n ? r : n;
  if (user_populate(ubuf, q.n * sizeof(struct mapinfo), 1) < 0)
    return syserr(ERR_NOMEM, 0);
  q.buf = (struct mapinfo *)ubuf;
  q.filled = 0;
  if ((r = with_proc(pid, collect_maps, &q)) < 0)
    return syserr(ERR_NOPROC, 0);
  return r;
}

// ---- hooks for the rest of the kernel --------------------------------

// Fault in the pages of [va, va+len) that lie in file regions (a read()
// or write() buffer, before the file system locks an inode: faulting a
// file page in takes its file's inode lock). Other pages stay lazy.
// Returns 0, or -1 if one could not be (past the end of its file, or no
// memory).
int regions_prefault_files(uint va, uint len, int write) {
  struct proc *p = myproc();
  struct region *r;
  uint lo, hi, end = va + len;
  if (len == 0 || end < va)
    return 0;
  for (r = first_ending_after(p, va); r && r->start < end; r = r->next) {
    if (r->end <= va || !r->pc)
      continue;
    lo = r->start > va ? r->start : va;
    hi = r->end < end ? r->end : end;
    if (user_populate(lo, hi - lo, write) < 0)
      return -1;
  }
  return 0;
}

// Highest address the heap may grow to: the lowest region, or MMAPTOP.
uint heap_limit(struct proc *p) {
  return p->regions ? p->regions->start : MMAPTOP;
}

// Give child (fresh from allocproc, so with no regions yet) copies of
// parent's regions: private pages shared copy-on-write (counted in
// *cowed), shared pages mapped again. Returns 0, or -1 if memory ran out
// (whatever was mapped is then released by regions_exit). The caller
// flushes the parent's TLB.
int regions_fork(struct proc *parent, struct proc *child, uint *cowed) {
  struct region *r, *c, **tail = &child->regions;
  uint a, pa;
  int perm;
  pte_t *pte;

  for (r = parent->regions; r; r = r->next) {
    if ((c = kmalloc(sizeof(*c))) == 0)
      goto fail;
    *c = *r;
    c->next = 0;
    if (c->shm)
      shm_attach(c->shm, c->shmoff, c->shmoff + region_pages(c));
    if (c->pc)
      pcache_hold(c->pc);
    *tail = c;
    tail = &c->next;
    child->nregions++;
    rindex_insert(&child->rindex, &c->node, c->start, c->end);
    for (a = r->start; (pte = next_pte(parent->pgdir, &a, r->end)) != 0; a += PGSIZE) {
      if (!(*pte & PTE_P))
        continue;
      pa = PTE_ADDR(*pte);
      if (region_shared(r)) {  // the child's dirty bit is its own to sync
        if (map_shared(child->pgdir, a, pa, PTE_FLAGS(*pte) & ~(PTE_P | PTE_D), child->pid) < 0)
          goto fail;
        continue;
      }
      perm = cow_share(pte) & ~PTE_P;  // private: shared copy-on-write
      if (map_ref(child->pgdir, a, pa, perm, child->pid, 0) < 0)
        goto fail;
      (*cowed)++;
    }
  }
  return 0;
fail:
  regions_exit(child);
  return -1;
}

// Drop every region of p and free its pages and nodes (exit, exec, a
// failed fork), writing back what its shared file regions changed first.
// Uses p->pgdir. May sleep.
void regions_exit(struct proc *p) {
  struct region *r, *dead;
  sync_range(p, 0, MMAPTOP);
  acquire(&p->regionlock);
  for (r = p->regions; r; r = r->next)
    unmap_range(p, r->start, r->end, 1);
  dead = p->regions;
  p->regions = 0;
  p->nregions = 0;
  p->rindex = 0;
  release(&p->regionlock);
  flush_tlb(p);  // no stale entry may reach a freed page
  while ((r = dead) != 0) {
    dead = r->next;
    region_free(r);
  }
}

// Ctrl-P: one line per region. Takes no locks (may run on a wedged kernel).
void regions_dump(struct proc *p) {
  struct region *r;
  char name[DIRSIZ];
  int n = 0;
  for (r = p->regions; r && n < NREGION; r = r->next, n++) {
    cprintf("    %x-%x %c%c%c %s %d/%d pages", r->start, r->end,
            (r->prot & PROT_READ) ? 'r' : '-', (r->prot & PROT_WRITE) ? 'w' : '-',
            (r->prot & PROT_EXEC) ? 'x' : '-', region_shared(r) ? "shared" : "private",
            p->pgdir ? resident(p->pgdir, r->start, r->end) : 0, (r->end - r->start) / PGSIZE);
    if (r->pc)
      cprintf(" file ino %d %s +%x", pcache_inum(r->pc, name), name, r->pgoff * PGSIZE);
    cprintf("\n");
  }
}

// Set up an empty region list for a new process.
void regions_init(struct proc *p) {
  initlock(&p->regionlock, "regions");
  p->regions = 0;
  p->nregions = 0;
  p->rindex = 0;
}

// Resolve a page fault at va (err: the x86 error code, eip: where the
// user was, 0 when the kernel touches a system call's buffer) in the
// current process. Returns 0 if a page is now mapped, FAULT_BAD if the
// access is not allowed, FAULT_NOMEM if memory ran out. A fault that maps
// a page is recorded here; the caller records one that fails.
int fault_handler(uint va, uint err, uint eip) {
  struct proc *p = myproc();
  struct region *r;
  pte_t *pte;
  uint page = PGROUNDDOWN(va), pa;
  int fault;

  if (p == 0 || va >= KERNBASE)
    return FAULT_BAD;
  r = region_find(p, va);
  if ((pte = walkpgdir(p->pgdir, (void *)page, 0)) != 0 && (*pte & PTE_P)) {
    // Present: a write to a page shared copy-on-write (PTE_COW is only
    // ever set where writing is allowed), or a protection fault.
    if ((err & FEC_WRITE) && (*pte & (PTE_COW | PTE_U)) == (PTE_COW | PTE_U))
      return cow_fault(p, page, pte, r ? OWNER_REGION : OWNER_USER, eip);
    return FAULT_BAD;
  }
  if (r == 0 || r->prot == PROT_NONE || ((err & FEC_WRITE) && !(r->prot & PROT_WRITE)))
    return FAULT_BAD;
  if (r->pc) {  // may sleep reading the file; nothing else changes p's table
    if ((fault = map_file_page(p, r, page, (err & FEC_WRITE) != 0)) != 0)
      return fault;
    trace_emit(EV_FAULT, va, err, OUTCOME_MAPPED, eip);
    return 0;
  }
  if (!r->shm) {
    if ((pa = map_fresh(p->pgdir, page, 0, pte_perm(r->prot))) == 0)
      return FAULT_NOMEM;
    trace_emit(EV_FAULT_MAP, va, pa, err, eip);  // the common case, in one record
    return 0;
  }
  if (map_page(p, r, page) < 0)
    return FAULT_NOMEM;
  trace_emit(EV_FAULT, va, err, OUTCOME_MAPPED, eip);
  return 0;
}
