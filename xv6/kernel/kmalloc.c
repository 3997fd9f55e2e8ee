// kmalloc/kmfree: the kernel's allocator for small objects (1 to
// KMALLOC_MAX bytes) on top of kalloc() pages, and the kmalloc, kmfree and
// kmstat system calls. docs/kmalloc.md has the design and a picture.
//
// A request is rounded up to one of KM_NCLASS size classes. Each class
// cuts whole pages ("slabs") into objects of its size. A slab begins with
// a header (struct slab): a free list and the size each object was asked
// for (0 while it is free), so that kmfree finds all it needs from the
// object's address alone. In front of the slabs, each class keeps the
// object freed last, its "hot" object, and hands it out next: most frees
// and allocations touch only the class and that object. Both take
// constant time, with no loop, no division and no search.
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
#define HOT_MARK   0x746f686b  // "khot": first word of a class's hot object
#define OBJ_ALIGN  8           // every object is 8-byte aligned
#define FREE_END   0xFFFF      // end of a slab's free list

// The header at the start of every slab page. Object i sits at
// hdrsize + i * size from the page start (struct kmclass).
//
// Invariants, with the class lock held:
//  - nfree == objects whose size record is 0 == length of the free list;
//    the class's hot object is not free here: it keeps its size record;
//  - a slab with 0 < nfree < perslab is on its class's partial list; one
//    with nfree == perslab is the class's cached empty slab; a full one
//    (nfree == 0) is on no list: only kmfree, which finds it from an
//    object's address, needs it.
struct slab {
  uint magic;            // SLAB_MAGIC while the page belongs to kmalloc
  ushort cls;            // index in kmclasses
  ushort nfree;          // objects not allocated
  ushort freehead;       // index of a free object, or FREE_END; each free
                         // object's first two bytes hold the next index
  struct slab *next;     // neighbours on the class's partial list
  struct slab *prev;
  uchar sizes[];         // size record of each object, 1 or 2 bytes
                         // (kmclass.sizebytes): see obj_record()
};

// A size class. (lock) marks the fields its lock protects; the layout
// fields are set once, by class_setup(), before the class's first slab.
//
// The hot object is free for kmalloc and kmfree (a second kmfree of it is
// a double free) but still allocated for its slab, and so for the
// counters below, which count what the slabs hand out and take back.
// kmstat() subtracts it (class_stat()).
struct kmclass {
  struct spinlock lock;
  uint index;            // in kmclasses, as slab.cls
  uint size;             // object size, a multiple of OBJ_ALIGN
  uint base;             // the previous class's size: requests of
                         // (base, size] bytes land here
  uint perslab;          // objects per slab; 0 until first used (lock)
  uint sizebytes;        // bytes of one size record: 1 or 2 (lock)
  uint hdrsize;          // bytes of slab header before object 0 (lock)
  uint divmul;           // offset / size == offset * divmul >> divshift
  uint divshift;         //   for every offset in a page (lock)
  char *hot;             // the object freed last, handed out next, or 0 (lock)
  uint hotbytes;         // the bytes it was asked for (lock)
  uint reuses;           // allocations that took the hot object (lock)
  struct slab *partial;  // slabs with both free and allocated objects (lock)
  struct slab *empty;    // one slab kept with no live object, or 0 (lock)
  uint objects;          // objects allocated in the slabs (lock)
  uint pages;            // slabs held: partial, full and empty (lock)
  uint bytes;            // bytes requested by those objects (lock)
  uint allocs;           // objects the slabs handed out since boot (lock)
  uint frees;            // objects given back to the slabs since boot (lock)
};

// The classes, smallest first: X(index, base, size) serves requests of
// (base, size] bytes. Up to 256 bytes the sizes are powers of two. Above,
// each is the largest size that lets k = 8, 6, 4, 3, 2 or 1 objects share
// a page with the header, also with the larger header of a 64-bit host
// build: a class of exactly 512, 1024 or 2048 bytes would waste most of
// a slab's last object slot.
#define KM_CLASSES(X)                                                    \
  X(0, 0, 16)      X(1, 16, 32)     X(2, 32, 64)     X(3, 64, 128)       \
  X(4, 128, 256)   X(5, 256, 504)   X(6, 504, 672)   X(7, 672, 1008)     \
  X(8, 1008, 1344) X(9, 1344, 2024) X(10, 2024, KMALLOC_MAX)

#define KMCLASS(i, lo, hi) \
  [i] = { .lock = { .name = "kmclass" }, .index = (i), .base = (lo), .size = (hi) },
#define KMCOUNT(i, lo, hi) + 1
_Static_assert(0 KM_CLASSES(KMCOUNT) == KM_NCLASS, "KM_CLASSES lists KM_NCLASS classes");

// Read by GDB (gdbscripts/) as well.
struct kmclass kmclasses[KM_NCLASS] = { KM_CLASSES(KMCLASS) };

// The class of an n-byte request is size_class[(n - 1) / OBJ_ALIGN]
// (class sizes are multiples of OBJ_ALIGN): one load, no loop.
// class_setup() checks the table against kmclasses[].
#define KMRANGE(i, lo, hi) [(lo) / OBJ_ALIGN ... (hi) / OBJ_ALIGN - 1] = &kmclasses[i],
static struct kmclass *const size_class[KMALLOC_MAX / OBJ_ALIGN] = { KM_CLASSES(KMRANGE) };

// &kmclasses[i], as a load: a class found from a slab's cls then stays in
// a register (the compiler would rather recompute &kmclasses[i]).
#define KMPTR(i, lo, hi) [i] = &kmclasses[i],
static struct kmclass *const class_ptr[KM_NCLASS] = { KM_CLASSES(KMPTR) };

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

static uint hdrsize_for(struct kmclass *c, uint n) {
  uint bytes = sizeof(struct slab) + n * c->sizebytes;
  return (bytes + OBJ_ALIGN - 1) & ~(OBJ_ALIGN - 1);
}

// size_class[] agrees with the classes' sizes, for every request.
static void check_size_class(void) {
  uint n, i;
  for (n = 1; n <= KMALLOC_MAX; n += OBJ_ALIGN) {
    for (i = 0; kmclasses[i].size < n; i++)
      ;
    if (size_class[(n - 1) / OBJ_ALIGN] != &kmclasses[i] || kmclasses[i].base >= n ||
        kmclasses[i].size % OBJ_ALIGN)
      panic("kmalloc: size classes and size_class[] disagree");
  }
}

// Find divmul and divshift for c: the smallest shift for which
// off * divmul >> divshift == off / size for every offset in a page,
// tried exhaustively, with no product overflowing 32 bits.
static void class_divisor(struct kmclass *c) {
  uint shift, mul, off;
  for (shift = 0; shift < 32; shift++) {
    mul = ((1u << shift) + c->size - 1) / c->size;
    if (mul > 0xFFFFFFFFu / PGSIZE)
      break;
    for (off = 0; off < PGSIZE && (off * mul >> shift) == off / c->size; off++)
      ;
    if (off == PGSIZE) {
      c->divmul = mul;
      c->divshift = shift;
      return;
    }
  }
  panic("kmalloc: no reciprocal for a class size");
}

// Fit as many objects as the header, which grows with their number,
// leaves room for. Runs on the class's first allocation (lock held).
// A size record holds the request minus base: one byte if that is at
// most 255.
static void class_setup(struct kmclass *c) {
  uint n = PGSIZE / c->size;
  check_size_class();
  c->sizebytes = c->size - c->base <= 0xFF ? 1 : 2;
  while (n > 0 && hdrsize_for(c, n) + n * c->size > PGSIZE)
    n--;
  if (n == 0)
    panic("kmalloc: size class does not fit a page");
  c->hdrsize = hdrsize_for(c, n);
  class_divisor(c);
  c->perslab = n;
}

static struct slab *slab_of(void *p) {
  return (struct slab *)((char *)p - ((uintptr)p & (PGSIZE - 1)));
}

static char *obj_addr(struct kmclass *c, struct slab *s, uint i) {
  return (char *)s + c->hdrsize + i * c->size;
}

// The index of object o in its slab, if o is the start of an object:
// otherwise the index is wrong or past perslab (obj_index_ok()).
static uint obj_index(struct kmclass *c, char *o, uint *off) {
  *off = (uintptr)o % PGSIZE - c->hdrsize;  // huge if o is in the header
  return *off * c->divmul >> c->divshift;   // *off / c->size (class_divisor)
}

static int obj_index_ok(struct kmclass *c, uint i, uint off) {
  return i < c->perslab && i * c->size == off;
}

// Object i's size record: the bytes requested minus c->base while it is
// allocated (1 to size - base), 0 while it is free. So it is also the
// object's allocated bit.
static uint obj_record(struct kmclass *c, struct slab *s, uint i) {
  if (c->sizebytes == 2)
    return ((ushort *)s->sizes)[i];
  return s->sizes[i];
}

// Set object i's size record to r; returns the one it replaces.
static uint obj_swap_record(struct kmclass *c, struct slab *s, uint i, uint r) {
  uint old;
  if (c->sizebytes == 1) {
    old = s->sizes[i];
    s->sizes[i] = r;
  } else {
    old = ((ushort *)s->sizes)[i];
    ((ushort *)s->sizes)[i] = r;
  }
  return old;
}

// A free object's bytes are ours. A slab's free list is linked through
// their first two bytes; the hot object's first word is HOT_MARK. A
// kernel write after kmfree that breaks them makes kmalloc panic when it
// next takes the object or the link.
static __attribute__((noreturn)) void broken_free_object(void) {
  panic("kmalloc: free list corrupted (write after kmfree?)");
}

// ---- slabs (class lock held) --------------------------------------------

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
  s->freehead = FREE_END;
  for (i = c->perslab - 1; i >= 0; i--) {
    obj_swap_record(c, s, i, 0);
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

// When c's partial list is empty: a slab with a free object, made the
// list's only entry; the cached empty slab if there is one, else a new
// one. 0 if out of pages.
static __attribute__((noinline)) struct slab *class_refill(struct kmclass *c) {
  struct slab *s;
  if (c->perslab == 0)
    class_setup(c);
  if (c->empty) {
    s = c->empty;
    c->empty = 0;
  } else if ((s = slab_new(c)) == 0) {
    return 0;
  }
  list_push(&c->partial, s);
  return s;
}

// Take a free object of s, the head of c's partial list, for an n-byte
// request.
static char *slab_take(struct kmclass *c, struct slab *s, uint n) {
  uint i = s->freehead;
  char *o;
  if (s->nfree == 0 || i >= c->perslab || obj_swap_record(c, s, i, n - c->base) != 0)
    broken_free_object();
  o = obj_addr(c, s, i);
  s->freehead = *(ushort *)o;
  if (--s->nfree == 0) {  // full: off the partial list
    c->partial = s->next;
    if (s->next)
      s->next->prev = 0;
  }
  c->objects++;
  c->bytes += n;
  c->allocs++;
  return o;
}

// Would slab s hold no live object if the class's hot object, which is
// in it, were not there? (Its slab counts it as allocated.)
static int idle_with_hot(struct kmclass *c, struct slab *s) {
  return s->nfree + 1 == c->perslab;
}

// How many pages of c hold no live object: the cached empty slab, and
// the hot object's slab if the hot object is all it holds. At most one,
// so that a class keeps at most one page it does not need.
static uint idle_pages(struct kmclass *c) {
  return (c->empty != 0) + (c->hot != 0 && idle_with_hot(c, slab_of(c->hot)));
}

// Put c's hot object back in its slab, to make room for a new hot object
// in slab snew. If that empties the slab, the slab becomes the cached
// empty one, unless a page stays idle anyway (another cached slab, or
// snew holding only the new hot object): then it is returned, for the
// caller to slab_release() once the lock is dropped.
static struct slab *hot_flush(struct kmclass *c, struct slab *snew) {
  char *o = c->hot;
  struct slab *s = slab_of(o);
  uint off, i = obj_index(c, o, &off);

  if (*(uint *)o != HOT_MARK)
    broken_free_object();
  c->hot = 0;
  obj_swap_record(c, s, i, 0);
  *(ushort *)o = s->freehead;
  s->freehead = i;
  c->objects--;
  c->bytes -= c->hotbytes;
  c->frees++;
  if (++s->nfree == 1 && c->perslab > 1)  // was full
    list_push(&c->partial, s);
  if (s->nfree < c->perslab)
    return 0;
  if (c->perslab > 1)
    list_remove(&c->partial, s);
  if (c->empty == 0 && !idle_with_hot(c, snew)) {
    c->empty = s;
    return 0;
  }
  c->pages--;
  return s;
}

// ---- allocation and free ------------------------------------------------
//
// The common case of kmalloc takes the class's hot object; that of kmfree
// checks the object (its slab's magic and class, its index, its size
// record: reads only) and makes it the hot object. Neither changes a slab
// (free list, counts, lists), and the object just freed is the next one
// handed out, while it is still in the cache. What is rare (a class's
// first use, the slab path, a refused free) is in functions of its own,
// out of the common path.

// The hot object o of c, taken for an n-byte request: record n.
static __attribute__((noinline)) void hot_resize(struct kmclass *c, char *o, uint n) {
  uint off;
  obj_swap_record(c, slab_of(o), obj_index(c, o, &off), n - c->base);
  c->bytes += n - c->hotbytes;
}

// The slab path of kmalloc: c has no hot object (lock held; released).
static __attribute__((noinline)) void *alloc_from_slab(struct kmclass *c, uint n, int pid) {
  struct slab *s;
  char *o;
  if ((s = c->partial) == 0 && (s = class_refill(c)) == 0) {
    release(&c->lock);
    return 0;
  }
  o = slab_take(c, s, n);
  trace_emit(EV_KMALLOC, (uint)(uintptr)o, n, s->cls, pid);
  release(&c->lock);
  return o;
}

// An object of at least n bytes charged to pid (0: the kernel), or 0 if
// n is 0 or too large or memory is exhausted. Contents are garbage.
static inline __attribute__((always_inline)) void *km_alloc(uint n, int pid) {
  struct kmclass *c;
  char *o;

  if (n - 1 >= KMALLOC_MAX)  // n == 0 too
    return 0;
  c = size_class[(n - 1) / OBJ_ALIGN];
  acquire(&c->lock);
  if ((o = c->hot) == 0)
    return alloc_from_slab(c, n, pid);
  if (*(uint *)o != HOT_MARK)
    broken_free_object();
  c->hot = 0;
  c->reuses++;
  if (n != c->hotbytes)  // its slab records what it is asked for now
    hot_resize(c, o, n);
  trace_emit(EV_KMALLOC, (uint)(uintptr)o, n, c->index, pid);
  release(&c->lock);
  return o;
}

// Refuse a free: drop c's lock and say why.
static __attribute__((noinline)) int free_refused(struct kmclass *c, int err) {
  release(&c->lock);
  return err;
}

// The rest of a free of p, an object of slab s asked for n bytes, that
// must first make room for p as c's hot object: c has a hot object
// already (unless p is that one: a double free), or s would then hold
// nothing else while c also keeps an empty slab. Keeps at most one idle
// page (idle_pages()).
static __attribute__((noinline)) int free_make_room(struct kmclass *c, struct slab *s,
                                                    char *p, uint n, int pid) {
  struct slab *spare[2] = { 0, 0 };
  if (p == c->hot)
    return free_refused(c, KM_NOTLIVE);
  if (c->hot)
    spare[0] = hot_flush(c, s);
  if (c->empty && idle_with_hot(c, s)) {
    spare[1] = c->empty;
    c->empty = 0;
    c->pages--;
  }
  c->hot = p;
  c->hotbytes = n;
  *(uint *)p = HOT_MARK;
  trace_emit(EV_KMFREE, (uint)(uintptr)p, n, s->cls, pid);
  release(&c->lock);
  if (spare[0])
    slab_release(spare[0]);
  if (spare[1])
    slab_release(spare[1]);
  return KM_OK;
}

// Free the object at p, charged to pid. Returns KM_OK, or why p is not a
// live kmalloc object (and then changes nothing).
static inline __attribute__((always_inline)) int km_free(void *p, int pid) {
  struct slab *s = slab_of(p);
  struct kmclass *c;
  uint cls, off, i, n;

  // Unlocked, only whether s can be a slab: an allocated page (page 0,
  // and so p == 0, never is) with a class number in range. Under that
  // class's lock, where they cannot change, the magic and the class
  // number again, then the object.
  if (krefcount((char *)s) == 0 || (cls = s->cls) >= KM_NCLASS)
    return KM_NOTSLAB;
  c = class_ptr[cls];
  acquire(&c->lock);
  if (s->magic != SLAB_MAGIC || s->cls != c->index)
    return free_refused(c, KM_NOTSLAB);
  i = obj_index(c, p, &off);
  if (!obj_index_ok(c, i, off))
    return free_refused(c, KM_NOTOBJECT);
  if ((n = obj_record(c, s, i)) == 0)
    return free_refused(c, KM_NOTLIVE);
  n += c->base;
  if (c->hot || (c->empty && idle_with_hot(c, s)))
    return free_make_room(c, s, p, n, pid);
  c->hot = p;
  c->hotbytes = n;
  *(uint *)p = HOT_MARK;
  trace_emit(EV_KMFREE, (uint)(uintptr)p, n, c->index, pid);
  release(&c->lock);
  return KM_OK;
}

// Allocate n bytes (1..KMALLOC_MAX) for the kernel; 0 if n is out of
// range or memory is exhausted. The contents are garbage.
void *kmalloc(uint n) {
  return km_alloc(n, 0);
}

static __attribute__((noinline)) void kmfree_refused(void *p, int err) {
  cprintf("kmfree %p: %s\n", p, kmerr_text(err));
  panic("kmfree");
}

// Free an object from kmalloc(). Anything else is a kernel bug.
void kmfree(void *p) {
  int err = km_free(p, 0);
  if (err != KM_OK)
    kmfree_refused(p, err);
}

// ---- statistics ---------------------------------------------------------

// What kmstat() reports for c: the counters without the hot object.
static void class_stat(struct kmclass *c, struct kmclassstat *st) {
  uint hot;
  acquire(&c->lock);
  hot = c->hot != 0;
  st->size = c->size;
  st->perslab = c->perslab;
  st->objects = c->objects - hot;
  st->bytes = c->bytes - (hot ? c->hotbytes : 0);
  st->pages = c->pages;
  st->emptypages = idle_pages(c);
  st->allocs = c->allocs + c->reuses;
  st->frees = c->frees + c->reuses + hot;
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
