// kmalloc/kmfree: the kernel's allocator for small objects (1 to
// KMALLOC_MAX bytes) on top of kalloc() pages. The system calls that lend
// objects to user programs are in kmhandle.c. docs/kmalloc.md has the
// design and a picture.
//
// A request is rounded up to one of KM_NCLASS size classes. Each class
// cuts whole pages ("slabs") into objects of its size. A slab begins with
// a header (struct slab): a free list and the size each object was asked
// for (0 while it is not allocated), so that kmfree finds all it needs
// from the object's address alone. In front of the slabs, each CPU keeps
// per class the object it freed last, its "hot" object, and hands it out
// next: most frees and allocations touch only that CPU's slot, the object
// and its size record, with interrupts off and no lock. Both take
// constant time, with no loop, no division and no search.
//
// Locking: each class has a lock that protects its slab lists and the
// free lists and counts of its slabs. A CPU's slots (struct kmcpu) are
// its own: it uses them with interrupts off (irq_off), and takes a class
// lock only to move objects between them and the slabs. An object's size
// record is written only by whoever owns the object: the CPU allocating
// or freeing it, or the class lock's holder while the object is on a
// free list. No code holds two class locks at once. kalloc() may be
// called with a class lock held (kmem.lock comes after it); pages go back
// to kfree() after the class lock is released.
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
#define HOT_MARK   0x746f686b  // "khot": first word of a hot object
#define OBJ_ALIGN  8           // every object is 8-byte aligned
#define FREE_END   0xFFFF      // end of a slab's free list

// The header at the start of every slab page. Object i sits at
// hdrsize + i * size from the page start (struct kmclass).
//
// An object is on the slab's free list, some CPU's hot object, or live
// (allocated); only a live object has a nonzero size record.
// Invariants, with the class lock held:
//  - nfree == length of the free list; the objects on it and the hot
//    objects are those whose size record is 0;
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
                         // (kmclass.sizebytes): see obj_record_at()
};

// A size class. The layout fields come first: class_setup() sets them
// once, with the lock held, before the class's first slab, and then they
// are read without the lock. The lock and what it protects (lock) start
// a cache line of their own, which other CPUs write.
struct kmclass {
  uint index;            // in kmclasses, as slab.cls
  uint size;             // object size, a multiple of OBJ_ALIGN
  uint base;             // the previous class's size: requests of
                         // (base, size] bytes land here
  uint perslab;          // objects per slab; 0 until first used
  uint sizebytes;        // bytes of one size record: 1 or 2
  uint hdrsize;          // bytes of slab header before object 0
  uint divmul;           // offset / size == offset * divmul >> divshift
  uint divshift;         //   for every offset in a page
  struct spinlock lock __attribute__((aligned(64)));
  struct slab *partial;  // slabs with both free and other objects (lock)
  struct slab *empty;    // one slab with every object free, or 0 (lock)
  uint pages;            // slabs held: partial, full and empty (lock)
};

// What one CPU keeps of one class: its hot object, the object it freed
// last in the class, which its next kmalloc of the class hands out; and
// its counts of the class's allocations and frees, which statistics sum
// over the CPUs. Only that CPU writes it, with interrupts off. A hot
// object counts as free; its slab holds it as neither free nor live
// (size record 0, not on the free list) until the CPU puts it back
// (hot_flush()) to make room for another.
struct kmcpuclass {
  char *hot;             // HOT_MARK in its first word; or 0
  uchar *hotrec;         // its size record, for kmalloc to set
  uint allocs;           // kmalloc()s of the class on this CPU since boot
  uint frees;            // kmfree()s of the class on this CPU since boot
  uint bytes;            // bytes those allocs asked for, less those the
                         // frees gave back (mod 2^32; exact when summed)
};

// One CPU's slots, in cache lines no other CPU writes.
struct kmcpu {
  struct kmcpuclass cls[KM_NCLASS];
} __attribute__((aligned(64)));

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
struct kmcpu kmcpus[NCPU];

// The class of an n-byte request is size_class[(n - 1) / OBJ_ALIGN]
// (class sizes are multiples of OBJ_ALIGN): one load, no loop.
// class_setup() checks the table against kmclasses[].
#define KMRANGE(i, lo, hi) [(lo) / OBJ_ALIGN ... (hi) / OBJ_ALIGN - 1] = &kmclasses[i],
static struct kmclass *const size_class[KMALLOC_MAX / OBJ_ALIGN] = { KM_CLASSES(KMRANGE) };

// &kmclasses[i], as a load: a class found from a slab's cls then stays in
// a register (the compiler would rather recompute &kmclasses[i]).
#define KMPTR(i, lo, hi) [i] = &kmclasses[i],
static struct kmclass *const class_ptr[KM_NCLASS] = { KM_CLASSES(KMPTR) };

// This CPU's slots, and interrupts off and back on, for the fast paths:
// one load through %gs (proc.h) and the bare instructions, where pushcli()
// and cpuid() cost about 30 instructions a pair. The host build
// (bench/kmhost.c) brings its own.
#ifndef KM_HOST
static inline struct kmcpu *this_kmcpu(void) {
  return &kmcpus[CPU_FIELD(id)];
}

static inline uint irq_off(void) {
  uint eflags = readeflags();
  cli();
  return eflags;
}

static inline void irq_restore(uint eflags) {
  if (eflags & FL_IF)
    sti();
}

// May page s be read: is it in the RAM the kernel maps? (Whether it is a
// slab is its magic's to say: a slab's page keeps SLAB_MAGIC while it
// holds a live object and loses it before it is freed.)
static inline int page_mapped(struct slab *s) {
  return (uint)s - KERNBASE < phystop;
}
#endif

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
// live (1 to size - base), 0 while it is free or hot. So it is also the
// object's allocated bit.
static uchar *obj_record_at(struct kmclass *c, struct slab *s, uint i) {
  return c->sizebytes == 1 ? &s->sizes[i] : (uchar *)&((ushort *)s->sizes)[i];
}

// Set the size record at r to v; returns the one it replaces.
static uint record_swap(struct kmclass *c, uchar *r, uint v) {
  uint old;
  if (c->sizebytes == 1) {
    old = *r;
    *r = v;
  } else {
    old = *(ushort *)r;
    *(ushort *)r = v;
  }
  return old;
}

// A free object's bytes are ours. A slab's free list is linked through
// their first two bytes; a hot object's first word is HOT_MARK. A kernel
// write after kmfree that breaks them makes kmalloc panic when it next
// takes the object or the link.
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
  struct slab *s = (struct slab *)kalloc_as(OWNER_KMALLOC);
  int i;
  if (s == 0)
    return 0;
  s->magic = SLAB_MAGIC;
  s->cls = c - kmclasses;
  s->nfree = c->perslab;
  s->next = s->prev = 0;
  s->freehead = FREE_END;
  for (i = c->perslab - 1; i >= 0; i--) {
    record_swap(c, obj_record_at(c, s, i), 0);
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
  kfree((char *)s);
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
  if (s->nfree == 0 || i >= c->perslab ||
      record_swap(c, obj_record_at(c, s, i), n - c->base) != 0)
    broken_free_object();
  o = obj_addr(c, s, i);
  s->freehead = *(ushort *)o;
  if (--s->nfree == 0) {  // full: off the partial list
    c->partial = s->next;
    if (s->next)
      s->next->prev = 0;
  }
  return o;
}

// Put k's hot object, of class c, back on its slab's free list, to make
// room for another. If that empties the slab, it becomes the cached
// empty slab, or, if c has one already, it is returned, for the caller
// to slab_release() once the lock is dropped. So a class keeps at most
// one slab with every object free.
static struct slab *hot_flush(struct kmclass *c, struct kmcpuclass *k) {
  char *o = k->hot;
  struct slab *s = slab_of(o);
  uint off, i = obj_index(c, o, &off);

  if (*(uint *)o != HOT_MARK)
    broken_free_object();
  k->hot = 0;
  *(ushort *)o = s->freehead;
  s->freehead = i;
  if (++s->nfree == 1 && c->perslab > 1)  // was full
    list_push(&c->partial, s);
  if (s->nfree < c->perslab)
    return 0;
  if (c->perslab > 1)
    list_remove(&c->partial, s);
  if (c->empty == 0) {
    c->empty = s;
    return 0;
  }
  c->pages--;
  return s;
}

// The slab of CPU cpu's hot object of c, or 0 if it has none.
static struct slab *hot_slab(struct kmclass *c, int cpu) {
  char *o = kmcpus[cpu].cls[c->index].hot;
  return o ? slab_of(o) : 0;
}

// How many pages of c hold no live object: the cached empty slab, and
// each slab whose objects not on its free list are all hot. Every such
// slab holds a hot object, so there are at most 1 + the number of CPUs.
// The class lock keeps the slabs still; the CPUs' slots are read as they
// are, which is exact while no kmalloc or kmfree runs.
static uint idle_pages(struct kmclass *c) {
  uint idle = c->empty != 0, nhot;
  struct slab *s;
  int i, j, first;

  for (i = 0; i < NCPU; i++) {
    if ((s = hot_slab(c, i)) == 0)
      continue;
    nhot = 0;
    first = 1;  // is CPU i the first with a hot object in s?
    for (j = 0; j < NCPU; j++) {
      if (hot_slab(c, j) == s) {
        nhot++;
        first = first && j >= i;
      }
    }
    if (first && nhot == c->perslab - s->nfree)
      idle++;
  }
  return idle;
}

// ---- allocation and free ------------------------------------------------
//
// The common case of kmalloc takes this CPU's hot object of the class;
// that of kmfree checks the object (its slab's magic and class, its
// index, its size record) and makes it this CPU's hot object. Both run
// with interrupts off, so nothing else uses this CPU's slots meanwhile,
// and neither changes a slab (free list, counts, lists): they need no
// lock, and the object just freed is the next one handed out, while it
// is still in the cache. What is rare (a class's first use, the slab
// path, a refused free) is in functions of their own, out of the common
// path.

// Make p (n bytes, class cls, its size record at rec set to 0) the hot
// object of slot k, which has none; count and trace its free.
static inline void hot_put(struct kmcpuclass *k, char *p, uchar *rec, uint n, uint cls,
                           int pid) {
  *(uint *)p = HOT_MARK;
  k->hot = p;
  k->hotrec = rec;
  k->frees++;
  k->bytes -= n;
  trace_emit_irqoff(EV_KMFREE, (uint)(uintptr)p, n, cls, pid);
}

// The slab path of kmalloc: this CPU's slot k of c has no hot object.
// Called with interrupts off; restores eflags.
static __attribute__((noinline)) void *alloc_from_slab(struct kmclass *c, struct kmcpuclass *k,
                                                       uint n, int pid, uint eflags) {
  struct slab *s;
  char *o = 0;
  acquire(&c->lock);
  if ((s = c->partial) != 0 || (s = class_refill(c)) != 0)
    o = slab_take(c, s, n);
  release(&c->lock);
  if (o) {
    k->allocs++;
    k->bytes += n;
    trace_emit(EV_KMALLOC, (uint)(uintptr)o, n, c->index, pid);
  }
  irq_restore(eflags);
  return o;
}

// An object of at least n bytes charged to pid (0: the kernel), or 0 if
// n is 0 or too large or memory is exhausted. Contents are garbage.
static inline __attribute__((always_inline)) void *km_alloc(uint n, int pid) {
  struct kmcpu *cpu;
  struct kmclass *c;
  struct kmcpuclass *k;
  char *o;
  uint cls, eflags;

  if (n - 1 >= KMALLOC_MAX)  // n == 0 too
    return 0;
  eflags = irq_off();
  cpu = this_kmcpu();
  c = size_class[(n - 1) / OBJ_ALIGN];
  cls = c->index;
  k = &cpu->cls[cls];
  if ((o = k->hot) == 0)
    return alloc_from_slab(c, k, n, pid, eflags);
  if (*(uint *)o != HOT_MARK)
    broken_free_object();
  k->hot = 0;
  k->allocs++;
  k->bytes += n;
  record_swap(c, k->hotrec, n - c->base);
  trace_emit_irqoff(EV_KMALLOC, (uint)(uintptr)o, n, cls, pid);
  irq_restore(eflags);
  return o;
}

// The rest of a free of p (n bytes, class c, size record at rec) when
// this CPU's slot k of c has a hot object already: put that one back in
// its slab, and make p the hot object. Called with interrupts off;
// restores eflags.
static __attribute__((noinline)) int free_flush_hot(struct kmclass *c, struct kmcpuclass *k,
                                                    char *p, uchar *rec, uint n, int pid,
                                                    uint eflags) {
  struct slab *spare;
  acquire(&c->lock);
  spare = hot_flush(c, k);
  release(&c->lock);
  hot_put(k, p, rec, n, c->index, pid);
  irq_restore(eflags);
  if (spare)
    slab_release(spare);
  return KM_OK;
}

// Refuse a free: eflags back, and say why.
static __attribute__((noinline)) int free_refused(int err, uint eflags) {
  irq_restore(eflags);
  return err;
}

// Free the object at p, charged to pid. Returns KM_OK, or why p is not a
// live kmalloc object (and then changes nothing).
static inline __attribute__((always_inline)) int km_free(void *p, int pid) {
  struct kmcpu *cpu;
  struct slab *s = slab_of(p);
  struct kmclass *c;
  struct kmcpuclass *k;
  uint cls, off, i, n, eflags;
  uchar *rec;

  eflags = irq_off();
  cpu = this_kmcpu();
  // No lock: a slab keeps its magic and class while it holds a live
  // object, and only the object's owner changes its size record, so for
  // a correct caller nothing read here changes. A wrong p is refused
  // (not in mapped RAM, and so p == 0 too; not a slab; not the start of
  // an object; a size record of 0), unless it races with what makes it
  // wrong: the same object freed twice at once, or freed while it is
  // handed out again.
  if (!page_mapped(s) || s->magic != SLAB_MAGIC || (cls = s->cls) >= KM_NCLASS)
    return free_refused(KM_NOTSLAB, eflags);
  c = class_ptr[cls];
  i = obj_index(c, p, &off);
  if (!obj_index_ok(c, i, off))
    return free_refused(KM_NOTOBJECT, eflags);
  rec = obj_record_at(c, s, i);
  if ((n = record_swap(c, rec, 0)) == 0)  // free or hot: 0 stays 0
    return free_refused(KM_NOTLIVE, eflags);
  n += c->base;
  k = &cpu->cls[cls];
  if (k->hot)
    return free_flush_hot(c, k, p, rec, n, pid, eflags);
  hot_put(k, p, rec, n, cls, pid);
  irq_restore(eflags);
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

// An object of n bytes charged to pid (a user handle's object), or 0.
void *kmalloc_pid(uint n, int pid) {
  return km_alloc(n, pid);
}

// Free an object from kmalloc_pid(n, pid). Returns 0, or a KM_ error
// (nothing freed) if obj is not such an object.
int kmfree_pid(void *obj, int pid) {
  return km_free(obj, pid);
}

// ---- statistics ---------------------------------------------------------

// What kmstat() reports for c. The counters are the sums of the CPUs'
// slots, read without a lock: exact while no kmalloc or kmfree runs.
// Hot objects count as free.
static void class_stat(struct kmclass *c, struct kmclassstat *st) {
  struct kmcpuclass *k;
  int i;
  st->size = c->size;
  st->perslab = c->perslab;
  st->allocs = st->frees = st->bytes = 0;
  for (i = 0; i < NCPU; i++) {
    k = &kmcpus[i].cls[c->index];
    st->allocs += k->allocs;
    st->frees += k->frees;
    st->bytes += k->bytes;
  }
  st->objects = st->allocs - st->frees;
  acquire(&c->lock);
  st->pages = c->pages;
  st->emptypages = idle_pages(c);
  release(&c->lock);
}

// Live objects, bytes requested by them and pages held (for sysinfo).
// Each class is read on its own, so the sums are not of all classes at
// one instant.
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

// The allocator's part of kmstat(): every class, and the totals.
void kmalloc_stat(struct kmstat *st) {
  int i;
  st->nclass = KM_NCLASS;
  st->maxsize = KMALLOC_MAX;
  st->objects = st->bytes = st->pages = 0;
  for (i = 0; i < KM_NCLASS; i++) {
    class_stat(&kmclasses[i], &st->cls[i]);
    st->objects += st->cls[i].objects;
    st->bytes += st->cls[i].bytes;
    st->pages += st->cls[i].pages;
  }
}
