// Physical page allocator: 4 KiB pages for page tables, kernel stacks,
// user memory and pipe buffers.
//
// Free pages form a singly linked list threaded through the pages
// themselves. Each page also has a reference count so that a page can be
// shared (MAP_SHARED regions after fork): kfree() drops a reference and
// frees the page when the last one goes.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "trace.h"

extern char end[];  // first address after the kernel image (kernel.ld)

uint phystop;       // first physical address past usable RAM (main.c)

struct freepage {
  struct freepage *next;
};

// kmem.locked, a bare spin lock (lock()), protects the free list and the
// counters; a page's reference count changes atomically (drop_ref).
// use_lock is 0 until kinit2(), while the other CPUs are not running.
struct {
  uint locked;
  int use_lock;
  struct freepage *freelist;
  uint nfree;                       // pages on freelist
  uint ntotal;                      // pages handed to the allocator
  ushort ref[PHYSMAX / PGSIZE];     // references per physical page
} kmem;

// The free list's lock: interrupts off and an xchg, no more. Its critical
// sections are a few loads and stores, and every fault and every page an
// munmap frees takes it: acquire()'s bookkeeping (holder checks, the
// caller's stack) cost about 170 instructions a round trip, ten times the
// section. Nothing is called while it is held. Returns what unlock() needs.
static uint lock(void) {
  uint eflags = readeflags();
  cli();
  while (xchg(&kmem.locked, 1) != 0)
    __builtin_ia32_pause();
  return eflags;
}

static void unlock(uint eflags) {
  __atomic_store_n(&kmem.locked, 0, __ATOMIC_RELEASE);
  if (eflags & FL_IF)
    sti();
}

static int valid_page(char *v) {
  return (uint)v % PGSIZE == 0 && v >= end && V2P(v) < phystop;
}

#ifdef KALLOC_CHECK
// The debug build (make KALLOC_CHECK=1) fills every freed page with junk
// and checks, when it hands the page out again, that the junk is intact:
// a write after kfree() panics at the next kalloc() of that page. Filling
// costs about 2,000 instructions a page, most of an munmap's time, so the
// normal build does neither.
#define JUNK 0x01010101

static void junk_fill(char *v) {
  memset(v, 1, PGSIZE);
}

// Index of the first word of free page v that is not junk, or -1. Word 0
// is the free list's link.
static int junk_broken(char *v) {
  uint *w = (uint *)v;
  int i;
  for (i = 1; i < PGSIZE / 4; i++)
    if (w[i] != JUNK)
      return i;
  return -1;
}
#else
static void junk_fill(char *v) {
}
#endif

// Put page v on the free list. Caller holds the lock (if in use).
static void push_free(char *v) {
  struct freepage *f = (struct freepage *)v;
  kmem.ref[V2P(v) / PGSIZE] = 0;
  f->next = kmem.freelist;
  kmem.freelist = f;
  kmem.nfree++;
}

static void free_range(void *vstart, void *vend) {
  char *p;
  uint eflags;
  for (p = (char *)PGROUNDUP((uint)vstart); p + PGSIZE <= (char *)vend; p += PGSIZE) {
    junk_fill(p);
    eflags = lock();
    push_free(p);
    kmem.ntotal++;
    unlock(eflags);
  }
}

#ifdef KALLOC_CHECK
// Says on the console that the debug build's check works: a freed page
// holds junk, and a write to it is seen. tests/test_kalloc_check.py
// boots this build and looks for the line.
static void junk_selfcheck(void) {
  char *v = kalloc();
  int fresh, seen;
  uint eflags;
  if (v == 0)
    panic("kalloc: no page for the junk check");
  kfree(v);
  eflags = lock();  // v stays at the head of the free list meanwhile
  fresh = junk_broken(v) < 0;
  v[100] = 0;
  seen = junk_broken(v) == 100 / 4;
  v[100] = 1;
  unlock(eflags);
  cprintf("kalloc: debug build, junk check %s\n", fresh && seen ? "works" : "BROKEN");
}
#endif

static void *first_start, *first_end;

// Phase 1, boot CPU only: the pages the entry page table maps.
void kinit1(void *vstart, void *vend) {
  kmem.use_lock = 0;
  first_start = vstart;
  first_end = vend;
  free_range(vstart, vend);
}

// Phase 2: the rest of RAM, once the full kernel page table is in use.
// The trace is running by now: it learns both ranges here.
void kinit2(void *vstart, void *vend) {
  free_range(vstart, vend);
  kmem.use_lock = 1;
  trace_emit(EV_MEM_RANGE, V2P(PGROUNDUP((uint)first_start)), V2P(first_end), 0, 0);
  trace_emit(EV_MEM_RANGE, V2P(PGROUNDUP((uint)vstart)), V2P(vend), 0, 0);
#ifdef KALLOC_CHECK
  junk_selfcheck();
#endif
}

// Drop one reference to page v; free it when none remain, recording
// freed (an event and its first three fields) before the page can be
// handed out again, so that the trace never shows a page allocated twice;
// or, if references remain and kept is not 0, record kept before the
// reference goes, so that no other holder's free is recorded before it.
// A KALLOC_CHECK build fills freed pages with junk (junk_fill).
//
// Reference counts change with atomic instructions, not under the lock
// (fork and exit move thousands of them). A count of 1 belongs to the
// one holder calling here: only a holder can add a reference.
static void drop_ref(char *v, uint freed, uint kept, uint a0, uint a1, uint a2) {
  ushort *ref;
  uint eflags;
  if (!valid_page(v))
    panic("kfree: bad address");
  ref = &kmem.ref[V2P(v) / PGSIZE];
  if (*ref == 0)
    panic("kfree: page not allocated");
  if (*ref > 1) {
    if (kept)
      trace_emit(kept, a0, a1, a2, 0);
    if (__sync_sub_and_fetch(ref, 1) > 0)
      return;
    // The other holders let go meanwhile: this was the last reference.
    if (kept)
      freed = EV_PAGE_FREE, a0 = V2P(v), a1 = a2 = 0;
  }
  junk_fill(v);
  trace_emit(freed, a0, a1, a2, 0);
  eflags = lock();
  push_free(v);
  unlock(eflags);
}

// Drop one reference to page v; free it when none remain.
void kfree(char *v) {
  drop_ref(v, EV_PAGE_FREE, 0, V2P(v), 0, 0);
}

// Drop the reference that pid's mapping of page v at va held: recorded
// as PAGE_DROP (unmapped and freed) if it was the last, else PAGE_UNMAP.
void kfree_unmapped(char *v, uint va, int pid) {
  drop_ref(v, EV_PAGE_DROP, EV_PAGE_UNMAP, va, V2P(v), pid);
}

// Allocate one page without recording it: for a caller that records the
// allocation in an event of its own (FAULT_MAP, PAGE_NEW). Returns its kernel
// virtual address, or 0 if none. The contents are garbage.
char *kalloc_untraced(void) {
  struct freepage *f;
  uint eflags = lock();
  f = kmem.freelist;
  if (f) {
    kmem.freelist = f->next;
    kmem.nfree--;
    kmem.ref[V2P(f) / PGSIZE] = 1;
  }
  unlock(eflags);
#ifdef KALLOC_CHECK
  // A free page must still hold the junk kfree() wrote, or someone wrote
  // to it after freeing it.
  int i;
  if (f && kmem.use_lock && (i = junk_broken((char *)f)) >= 0) {
    cprintf("kalloc: page %x word %d is %x\n", V2P(f), i, ((uint *)f)[i]);
    panic("kalloc: page written after kfree");
  }
#endif
  return (char *)f;
}

// Allocate one page for owner (an OWNER_ value, for the trace); returns
// its kernel virtual address, or 0 if none. The contents are garbage.
char *kalloc_as(int owner) {
  char *v = kalloc_untraced();
  if (v)
    trace_emit(EV_PAGE_ALLOC, V2P(v), owner, 0, 0);
  return v;
}

char *kalloc(void) {
  return kalloc_as(OWNER_KERNEL);
}

// Add a reference to an allocated page (a second mapping of it).
void kref(char *v) {
  if (!valid_page(v))
    panic("kref: bad address");
  if (kmem.ref[V2P(v) / PGSIZE] == 0)
    panic("kref: page not allocated");
  __sync_fetch_and_add(&kmem.ref[V2P(v) / PGSIZE], 1);
}

// References to page v (0 if free).
int krefcount(char *v) {
  return valid_page(v) ? kmem.ref[V2P(v) / PGSIZE] : 0;
}

uint kfreepages(void) { return kmem.nfree; }
uint ktotalpages(void) { return kmem.ntotal; }
