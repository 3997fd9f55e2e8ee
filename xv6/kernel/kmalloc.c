// kmalloc/kmfree: the kernel's allocator for small objects (1 to
// KMALLOC_MAX bytes) on top of kalloc() pages, and the kmalloc, kmfree and
// kmstat system calls. docs/kmalloc.md has the design and a picture.
//
// A request is rounded up to one of KM_NCLASS size classes. Each class
// cuts whole pages ("slabs") into objects of its size. A slab begins with
// a header (struct slab): a free list, a bitmap of allocated objects and
// the size each live object was asked for, so that kmfree finds all it
// needs from the object's address alone and allocation and free take
// constant time.
//
// Locking: each class has a lock that protects the class and every slab
// of it. No code holds two class locks at once. kalloc() may be called
// with a class lock held (kmem.lock comes after it); pages go back to
// kfree() after the class lock is released. kmtables.lock protects only
// which handle tables are taken and the handle serial number.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "spinlock.h"
#include "proc.h"
#include "syscall.h"
#include "trace.h"
#include "kmstat.h"

// Addresses as numbers. uintptr, not uint, because the host benchmark
// (bench/) compiles this file for a 64-bit machine.
typedef __UINTPTR_TYPE__ uintptr;

#define SLAB_MAGIC 0x6b6d736c  // "lsmk": this page is a kmalloc slab
#define OBJ_ALIGN  8           // every object is 8-byte aligned
#define FREE_END   0xFFFF      // end of a slab's free list

// The header at the start of every slab page. Object i sits at
// hdrsize + i * size from the page start (struct kmclass).
//
// Invariants, with the class lock held:
//  - nfree == objects whose inuse bit is clear == length of the free list;
//  - a slab with 0 < nfree < perslab is on its class's partial list; one
//    with nfree == perslab is the class's cached empty slab; a full one
//    (nfree == 0) is on no list: only kmfree, which finds it from an
//    object's address, needs it, and leaving it alone saves two list
//    updates per allocation and free.
struct slab {
  uint magic;            // SLAB_MAGIC while the page belongs to kmalloc
  ushort cls;            // index in kmclasses
  ushort nfree;          // objects not allocated
  ushort freehead;       // index of a free object, or FREE_END; each free
                         // object's first two bytes hold the next index
  struct slab *next;     // neighbours on the class's partial list
  struct slab *prev;
  uint inuse[];          // bit i set iff object i is allocated; the
                         // requested sizes follow (obj_reqsize)
};

// A size class. (lock) marks the fields its lock protects.
struct kmclass {
  struct spinlock lock;
  uint size;             // object size, a multiple of OBJ_ALIGN
  uint perslab;          // objects per slab; 0 until first used (lock)
  uint bitmapwords;      // words in a slab's inuse bitmap (lock)
  uint hdrsize;          // bytes of slab header before object 0 (lock)
  struct slab *partial;  // slabs with both free and allocated objects (lock)
  struct slab *empty;    // one slab kept with no live object, or 0 (lock)
  uint objects;          // live objects (lock)
  uint bytes;            // bytes requested by them (lock)
  uint pages;            // slabs held: partial, full and empty (lock)
  uint allocs;           // objects handed out since boot (lock)
  uint frees;            // objects given back since boot (lock)
};

// The classes, smallest first; the last one is the largest request. Up to
// 256 bytes they are powers of two. Above, each is the largest size that
// lets k = 8, 6, 4, 3, 2 or 1 objects share a page with the header, also
// with the larger header of a 64-bit host build: a class of exactly 512,
// 1024 or 2048 bytes would waste most of a slab's last object slot.
// Read by GDB (gdbscripts/) as well.
#define KMCLASS(sz) { .lock = { .name = "kmclass" }, .size = (sz) }
struct kmclass kmclasses[KM_NCLASS] = {
  KMCLASS(16), KMCLASS(32), KMCLASS(64), KMCLASS(128), KMCLASS(256),
  KMCLASS(504), KMCLASS(672), KMCLASS(1008), KMCLASS(1344), KMCLASS(2024),
  KMCLASS(KMALLOC_MAX),
};

// Why kmfree refused a pointer.
enum {
  KM_OK = 0,
  KM_NOTSLAB = -1,     // not in a kmalloc slab page
  KM_NOTOBJECT = -2,   // in a slab, but not at the start of an object
  KM_NOTLIVE = -3,     // an object that is not allocated: a double free
};

static char *kmerr_text(int err) {
  switch (err) {
  case KM_NOTSLAB:   return "not a kmalloc pointer";
  case KM_NOTOBJECT: return "not the start of an object";
  case KM_NOTLIVE:   return "object not allocated (double free?)";
  }
  return "?";
}

// ---- slab layout --------------------------------------------------------

// The smallest class that holds n bytes; 1 <= n <= KMALLOC_MAX.
static struct kmclass *class_for(uint n) {
  struct kmclass *c;
  for (c = kmclasses; c->size < n; c++)
    ;
  return c;
}

// Classes up to 256 bytes record each requested size as size-1 in one
// byte; larger classes need two bytes.
static uint reqsize_bytes(struct kmclass *c) {
  return c->size <= 256 ? 1 : 2;
}

static uint hdrsize_for(struct kmclass *c, uint n) {
  uint bytes = sizeof(struct slab) + 4 * ((n + 31) / 32) + n * reqsize_bytes(c);
  return (bytes + OBJ_ALIGN - 1) & ~(OBJ_ALIGN - 1);
}

// Fit as many objects as the header, which grows with their number,
// leaves room for. Runs on the class's first allocation (lock held).
static void class_setup(struct kmclass *c) {
  uint n = PGSIZE / c->size;
  while (n > 0 && hdrsize_for(c, n) + n * c->size > PGSIZE)
    n--;
  if (n == 0)
    panic("kmalloc: size class does not fit a page");
  c->perslab = n;
  c->bitmapwords = (n + 31) / 32;
  c->hdrsize = hdrsize_for(c, n);
}

static struct slab *slab_of(void *p) {
  return (struct slab *)((char *)p - ((uintptr)p & (PGSIZE - 1)));
}

static char *obj_addr(struct kmclass *c, struct slab *s, uint i) {
  return (char *)s + c->hdrsize + i * c->size;
}

// Index of the object that starts at p in slab s, or -1.
static int obj_index(struct kmclass *c, struct slab *s, char *p) {
  uint off;
  if (p < (char *)s + c->hdrsize || p >= (char *)s + PGSIZE)
    return -1;
  off = p - ((char *)s + c->hdrsize);
  if (off % c->size != 0 || off / c->size >= c->perslab)
    return -1;
  return off / c->size;
}

static int inuse_test(struct slab *s, uint i) {
  return (s->inuse[i / 32] >> (i % 32)) & 1;
}

static void inuse_set(struct slab *s, uint i, int on) {
  if (on)
    s->inuse[i / 32] |= 1u << (i % 32);
  else
    s->inuse[i / 32] &= ~(1u << (i % 32));
}

static uint obj_reqsize(struct kmclass *c, struct slab *s, uint i) {
  uchar *sizes = (uchar *)&s->inuse[c->bitmapwords];
  if (reqsize_bytes(c) == 1)
    return sizes[i] + 1;
  return ((ushort *)sizes)[i];
}

static void obj_set_reqsize(struct kmclass *c, struct slab *s, uint i, uint n) {
  uchar *sizes = (uchar *)&s->inuse[c->bitmapwords];
  if (reqsize_bytes(c) == 1)
    sizes[i] = n - 1;
  else
    ((ushort *)sizes)[i] = n;
}

// ---- slab lists (class lock held) ---------------------------------------

static void list_push(struct slab **head, struct slab *s) {
  s->prev = 0;
  s->next = *head;
  if (*head)
    (*head)->prev = s;
  *head = s;
}

static void list_remove(struct slab **head, struct slab *s) {
  if (s->prev)
    s->prev->next = s->next;
  else
    *head = s->next;
  if (s->next)
    s->next->prev = s->prev;
  s->next = s->prev = 0;
}

// ---- slabs (class lock held) --------------------------------------------

// A fresh slab for class c with every object free, or 0 if out of pages.
static struct slab *slab_new(struct kmclass *c) {
  struct slab *s = (struct slab *)kalloc_as(PG_KMALLOC);
  int i;
  if (s == 0)
    return 0;
  s->magic = SLAB_MAGIC;
  s->cls = c - kmclasses;
  s->nfree = c->perslab;
  s->next = s->prev = 0;
  for (i = 0; i < c->bitmapwords; i++)
    s->inuse[i] = 0;
  s->freehead = FREE_END;
  for (i = c->perslab - 1; i >= 0; i--) {
    *(ushort *)obj_addr(c, s, i) = s->freehead;
    s->freehead = i;
  }
  c->pages++;
  return s;
}

// Give a slab's page back. Called without the class lock: nobody else
// can reach s any more.
static void slab_release(struct slab *s) {
  s->magic = 0;
  kfree_as((char *)s, PG_KMALLOC);
}

// A slab of c with a free object, on the partial list; 0 if out of pages.
static struct slab *class_slab(struct kmclass *c) {
  struct slab *s = c->partial;
  if (s)
    return s;
  if (c->empty) {
    s = c->empty;
    c->empty = 0;
  } else if ((s = slab_new(c)) == 0) {
    return 0;
  }
  list_push(&c->partial, s);
  return s;
}

// Take a free object of s for an n-byte request.
static char *slab_take(struct kmclass *c, struct slab *s, uint n) {
  uint i = s->freehead;
  char *o;
  // A free object's first bytes are the free list's link: a kernel write
  // after kmfree breaks it, and this is where it shows.
  if (s->nfree == 0 || i >= c->perslab || inuse_test(s, i))
    panic("kmalloc: free list corrupted (write after kmfree?)");
  o = obj_addr(c, s, i);
  s->freehead = *(ushort *)o;
  s->nfree--;
  inuse_set(s, i, 1);
  obj_set_reqsize(c, s, i, n);
  if (s->nfree == 0)
    list_remove(&c->partial, s);
  return o;
}

// Put object i (at o) of s back on the free list. Returns a slab whose
// page the caller must slab_release() once the lock is dropped, or 0.
// At most one empty slab per class is kept: a free/alloc pair at the
// edge of a slab then does not cost a page allocation each time.
static struct slab *slab_put(struct kmclass *c, struct slab *s, uint i, char *o) {
  int was_full = s->nfree == 0;
  inuse_set(s, i, 0);
  *(ushort *)o = s->freehead;
  s->freehead = i;
  s->nfree++;
  if (s->nfree == c->perslab) {
    if (!was_full)
      list_remove(&c->partial, s);
    if (c->empty == 0) {
      c->empty = s;
      return 0;
    }
    c->pages--;
    return s;
  }
  if (was_full)
    list_push(&c->partial, s);
  return 0;
}

// ---- allocation and free ------------------------------------------------

// An object of at least n bytes charged to pid (0: the kernel), or 0 if
// n is 0 or too large or memory is exhausted. Contents are garbage.
static void *km_alloc(uint n, int pid) {
  struct kmclass *c;
  struct slab *s;
  char *o;

  if (n == 0 || n > KMALLOC_MAX)
    return 0;
  c = class_for(n);
  acquire(&c->lock);
  if (c->perslab == 0)
    class_setup(c);
  if ((s = class_slab(c)) == 0) {
    release(&c->lock);
    return 0;
  }
  o = slab_take(c, s, n);
  c->objects++;
  c->bytes += n;
  c->allocs++;
  trace_emit(EV_KMALLOC, (uint)(uintptr)o, n, c - kmclasses, pid);
  release(&c->lock);
  return o;
}

// The class of slab s, or 0 if s is not a page that holds a slab. Only a
// hint until the class lock is held: km_free checks the magic again then.
static struct kmclass *slab_class(struct slab *s) {
  uint cls;
  if (krefcount((char *)s) == 0 || s->magic != SLAB_MAGIC)
    return 0;
  cls = s->cls;
  return cls < KM_NCLASS ? &kmclasses[cls] : 0;
}

// Free the object at p, charged to pid. Returns KM_OK, or why p is not a
// live kmalloc object (and then changes nothing).
static int km_free(void *p, int pid) {
  struct slab *s = slab_of(p), *spare;
  struct kmclass *c;
  int i;
  uint n;

  if (p == 0 || (c = slab_class(s)) == 0)
    return KM_NOTSLAB;
  acquire(&c->lock);
  if (s->magic != SLAB_MAGIC || s->cls != c - kmclasses) {
    release(&c->lock);
    return KM_NOTSLAB;
  }
  if ((i = obj_index(c, s, p)) < 0) {
    release(&c->lock);
    return KM_NOTOBJECT;
  }
  if (!inuse_test(s, i)) {
    release(&c->lock);
    return KM_NOTLIVE;
  }
  n = obj_reqsize(c, s, i);
  spare = slab_put(c, s, i, p);
  c->objects--;
  c->bytes -= n;
  c->frees++;
  trace_emit(EV_KMFREE, (uint)(uintptr)p, n, c - kmclasses, pid);
  release(&c->lock);
  if (spare)
    slab_release(spare);
  return KM_OK;
}

// Allocate n bytes (1..KMALLOC_MAX) for the kernel; 0 if n is out of
// range or memory is exhausted. The contents are garbage.
void *kmalloc(uint n) {
  return km_alloc(n, 0);
}

// Free an object from kmalloc(). Anything else is a kernel bug.
void kmfree(void *p) {
  int err = km_free(p, 0);
  if (err != KM_OK) {
    cprintf("kmfree %p: %s\n", p, kmerr_text(err));
    panic("kmfree");
  }
}

// ---- statistics ---------------------------------------------------------

static void class_stat(struct kmclass *c, struct kmclassstat *st) {
  acquire(&c->lock);
  st->size = c->size;
  st->perslab = c->perslab;
  st->objects = c->objects;
  st->bytes = c->bytes;
  st->pages = c->pages;
  st->emptypages = c->empty != 0;
  st->allocs = c->allocs;
  st->frees = c->frees;
  release(&c->lock);
}

// Live objects, bytes requested by them and pages held (for sysinfo).
// Each class is read under its own lock, so the sums are a snapshot per
// class, not of all classes at one instant.
void kmalloc_totals(uint *objects, uint *bytes, uint *pages) {
  struct kmclassstat st;
  int i;
  *objects = *bytes = *pages = 0;
  for (i = 0; i < KM_NCLASS; i++) {
    class_stat(&kmclasses[i], &st);
    *objects += st.objects;
    *bytes += st.bytes;
    *pages += st.pages;
  }
}

// ---- handles for user programs ------------------------------------------
//
// The kmalloc system call gives a process an opaque handle, never an
// address: handle = serial << HANDLE_SLOTBITS | slot, where slot indexes
// the process's handle table and serial counts allocations since boot
// (never 0, wrapping after 2^25). Handles are unique among live ones in
// the whole system and have bit 31 clear, so 0, negative values and
// kernel addresses are never handles. The process can only give a handle
// back to kmfree; allocations are not inherited by fork, survive exec and
// are released at exit.

#define HANDLE_SLOTBITS 6
#define HANDLE_SERIALS  (1u << (31 - HANDLE_SLOTBITS))
_Static_assert((1 << HANDLE_SLOTBITS) == KM_QUOTA_OBJECTS, "one slot per quota object");

// One live allocation made with the kmalloc system call.
struct kmhandle {
  uint handle;   // what the process holds; 0: slot unused
  uint size;     // bytes requested
  void *obj;     // the object
};

// Handle tables, one for every process that could exist. A process takes
// one on its first kmalloc() call and gives it back at exit
// (p->kmhandles). Only the owning process reads or writes its table (exit
// runs in the process too), and it runs on one CPU at a time, so a table
// needs no lock.
struct kmhandle kmhandle_tables[NPROC][KM_QUOTA_OBJECTS];

struct {
  struct spinlock lock;   // protects taken[] and serial
  uint serial;            // serial of the last handle made
  char taken[NPROC];      // kmhandle_tables[i] belongs to a process
} kmtables = { .lock = { .name = "kmtables" } };

static struct kmhandle *table_take(void) {
  int i;
  acquire(&kmtables.lock);
  for (i = 0; i < NPROC; i++) {
    if (!kmtables.taken[i]) {
      kmtables.taken[i] = 1;
      release(&kmtables.lock);
      return kmhandle_tables[i];
    }
  }
  panic("kmalloc: more handle tables than processes");
}

static void table_give_back(struct kmhandle *t) {
  acquire(&kmtables.lock);
  kmtables.taken[(t - kmhandle_tables[0]) / KM_QUOTA_OBJECTS] = 0;
  release(&kmtables.lock);
}

static uint handle_make(uint slot) {
  uint serial;
  acquire(&kmtables.lock);
  kmtables.serial = kmtables.serial + 1 < HANDLE_SERIALS ? kmtables.serial + 1 : 1;
  serial = kmtables.serial;
  release(&kmtables.lock);
  return serial << HANDLE_SLOTBITS | slot;
}

// p's live allocation for handle h, or 0.
static struct kmhandle *handle_find(struct proc *p, int h) {
  struct kmhandle *e;
  if (p->kmhandles == 0 || h <= 0)
    return 0;
  e = &p->kmhandles[h & (KM_QUOTA_OBJECTS - 1)];
  return e->handle == (uint)h ? e : 0;
}

static uint handles_bytes(struct proc *p) {
  uint bytes = 0;
  int i;
  for (i = 0; p->kmhandles && i < KM_QUOTA_OBJECTS; i++)
    if (p->kmhandles[i].handle)
      bytes += p->kmhandles[i].size;
  return bytes;
}

static void handle_release(struct proc *p, struct kmhandle *e) {
  // The table holds only objects km_alloc returned: a failure here means
  // kernel memory was corrupted, not that the process did anything wrong.
  if (km_free(e->obj, p->pid) != KM_OK)
    panic("kmalloc: handle table holds a bad object");
  e->handle = 0;
  e->size = 0;
  e->obj = 0;
  p->nkmhandles--;
}

// Release everything p still holds. Called by exit(), in p.
void kmalloc_proc_exit(struct proc *p) {
  int i;
  if (p->kmhandles == 0)
    return;
  for (i = 0; i < KM_QUOTA_OBJECTS; i++)
    if (p->kmhandles[i].handle)
      handle_release(p, &p->kmhandles[i]);
  if (p->nkmhandles != 0)
    panic("kmalloc_proc_exit: handle count");
  table_give_back(p->kmhandles);
  p->kmhandles = 0;
}

// ---- system calls -------------------------------------------------------

// Record why a system call failed; returns ret.
static int syserr(int sysno, int err, int value, int ret) {
  trace_emit(EV_SYSERR, sysno, err, value, 0);
  return ret;
}

// void *kmalloc(int n): a handle for a new n-byte kernel object, or 0 if
// n is not in 1..KMALLOC_MAX, the process is at its quota (KM_QUOTA_*)
// or memory is exhausted.
int sys_kmalloc(void) {
  struct proc *p = myproc();
  struct kmhandle *e;
  void *obj;
  int n;

  if (argint(0, &n) < 0)
    return syserr(SYS_kmalloc, ERR_BADARG, 0, 0);
  if (n <= 0 || n > KMALLOC_MAX)
    return syserr(SYS_kmalloc, ERR_BADLEN, n, 0);
  if (p->nkmhandles >= KM_QUOTA_OBJECTS || handles_bytes(p) + n > KM_QUOTA_BYTES)
    return syserr(SYS_kmalloc, ERR_LIMIT, n, 0);
  if ((obj = km_alloc(n, p->pid)) == 0)
    return syserr(SYS_kmalloc, ERR_NOMEM, n, 0);
  if (p->kmhandles == 0)
    p->kmhandles = table_take();
  // Below the quota, so some slot is free.
  for (e = p->kmhandles; e->handle; e++)
    ;
  e->size = n;
  e->obj = obj;
  e->handle = handle_make(e - p->kmhandles);
  p->nkmhandles++;
  return e->handle;
}

// int kmfree(void *handle): 0, or -1 (changing nothing) if handle is not
// a live handle of this process.
int sys_kmfree(void) {
  struct proc *p = myproc();
  struct kmhandle *e;
  int h;

  if (argint(0, &h) < 0)
    return syserr(SYS_kmfree, ERR_BADARG, 0, -1);
  if ((e = handle_find(p, h)) == 0)
    return syserr(SYS_kmfree, ERR_BADHANDLE, h, -1);
  handle_release(p, e);
  return 0;
}

// int kmstat(struct kmstat *st): the allocator's statistics, and the
// caller's own handle count and bytes. 0, or -1 if st is not writable.
int sys_kmstat(void) {
  struct proc *p = myproc();
  struct kmstat *u, st;
  int i;

  if (argptr_w(0, (char **)&u, sizeof(*u)) < 0)
    return syserr(SYS_kmstat, ERR_BADADDR, 0, -1);
  st.nclass = KM_NCLASS;
  st.maxsize = KMALLOC_MAX;
  st.objects = st.bytes = st.pages = 0;
  for (i = 0; i < KM_NCLASS; i++) {
    class_stat(&kmclasses[i], &st.cls[i]);
    st.objects += st.cls[i].objects;
    st.bytes += st.cls[i].bytes;
    st.pages += st.cls[i].pages;
  }
  st.myobjects = p->nkmhandles;
  st.mybytes = handles_bytes(p);
  *u = st;
  return 0;
}
