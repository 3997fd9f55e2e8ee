// The real xv6/kernel/kmalloc.c and kmhandle.c, compiled for the host, with small
// stand-ins for the kernel parts it uses: kalloc pages from a fixed pool,
// spinlocks (each thread is a CPU), processes, system call arguments,
// panic, cprintf and the trace. kmhost.h lists what it offers.
//
// This file includes kernel headers and so no libc header that declares
// a kernel name (exit, kill, sleep, wait, memset...): the stand-ins below
// use only stdio, setjmp and compiler builtins.
#define TRACE_OUT_OF_LINE  // trace_record() is below
// kmalloc.c's fast-path stand-ins (defined below): this thread's slots
// through a thread-local index (on x86-64 Linux, one %fs-relative load,
// as the kernel's is one %gs-relative load), and only the nesting count
// for interrupts off and on.
#define KM_HOST
struct kmcpu;
struct slab;
static inline struct kmcpu *this_kmcpu(void);
static inline unsigned int irq_off(void);
static inline void irq_restore(unsigned int eflags);
static inline int page_mapped(struct slab *s);
#include "kmalloc.c"
#include "kmhandle.c"
#include <stdarg.h>
#include <stdio.h>
#include <setjmp.h>
#include <sched.h>
#include "kmhost.h"

_Static_assert(HOST_KM_NOTSLAB == KM_NOTSLAB && HOST_KM_NOTOBJECT == KM_NOTOBJECT &&
               HOST_KM_NOTLIVE == KM_NOTLIVE, "kmhost.h error codes");

// ---- CPUs, panic, console -------------------------------------------------

static __thread struct cpu host_cpu;       // each thread is a CPU
static __thread struct proc *host_curproc;
static __thread jmp_buf *host_catch;       // set while host_try() runs
static __thread char host_console[128];    // the last cprintf() line
__thread char host_panic_msg[256];

struct cpu *mycpu(void) { return &host_cpu; }
struct proc *myproc(void) { return host_curproc; }

// Threads number themselves as CPUs on their first cpuid(): 0, 1, ...
static int host_ncpu;
static __thread int host_cpuid = -1;

__attribute__((noinline)) int cpuid(void) {
  if (host_cpuid < 0 &&
      (host_cpuid = __atomic_fetch_add(&host_ncpu, 1, __ATOMIC_RELAXED)) >= NCPU)
    panic("cpuid: more threads than NCPU");
  return host_cpuid;
}

static inline struct kmcpu *this_kmcpu(void) {
  return &kmcpus[__builtin_expect(host_cpuid >= 0, 1) ? host_cpuid : cpuid()];
}

static inline uint irq_off(void) {
  host_cpu.ncli++;
  return 0;
}

static inline void irq_restore(uint eflags) {
  if (--host_cpu.ncli < 0)
    panic("irq_restore: unbalanced");
}

// There are no interrupts to turn off; only the nesting is kept, so that
// host_check() sees a pushcli() left without its popcli(). Calls, like
// acquire() and release() below, as in the kernel.
__attribute__((noinline)) void pushcli(void) {
  host_cpu.ncli++;
}

__attribute__((noinline)) void popcli(void) {
  if (--host_cpu.ncli < 0)
    panic("popcli: unbalanced");
}

void cprintf(char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(host_console, sizeof(host_console), fmt, ap);
  va_end(ap);
  if (!host_catch)
    fputs(host_console, stderr);
}

void panic(char *s) {
  snprintf(host_panic_msg, sizeof(host_panic_msg), "%spanic: %s", host_console, s);
  if (host_catch)
    longjmp(*host_catch, 1);
  fprintf(stderr, "%s\n", host_panic_msg);
  __builtin_trap();
}

int host_try(void (*fn)(void *), void *arg) {
  jmp_buf env;
  int ncli = host_cpu.ncli;
  host_console[0] = host_panic_msg[0] = 0;
  host_catch = &env;
  if (setjmp(env)) {
    host_catch = 0;
    host_cpu.ncli = ncli;  // a panic leaves whatever pushcli() it was in
    return 1;
  }
  fn(arg);
  host_catch = 0;
  return 0;
}

// ---- spinlocks ------------------------------------------------------------

void initlock(struct spinlock *lk, char *name) {
  lk->name = name;
  lk->locked = 0;
  lk->cpu = 0;
}

int holding(struct spinlock *lk) {
  return lk->locked && lk->cpu == &host_cpu;
}

// acquire() and release() are calls, not inlined into kmalloc.c (which
// this file includes): so they are in the kernel (spinlock.c) and for
// firstfit.c, and both allocators pay the same for their locks. As in the
// kernel, a lock holder has interrupts off: acquire() begins with
// pushcli() and release() ends with popcli().
__attribute__((noinline)) void acquire(struct spinlock *lk) {
  pushcli();
  if (holding(lk))
    panic("acquire: already held");
  while (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE))
    sched_yield();   // only two real CPUs: let the holder run
  lk->cpu = &host_cpu;
}

__attribute__((noinline)) void release(struct spinlock *lk) {
  if (!holding(lk))
    panic("release: not held");
  lk->cpu = 0;
  __atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
  popcli();
}

// ---- pages ----------------------------------------------------------------

static char pool[HOST_POOL_PAGES][PGSIZE] __attribute__((aligned(PGSIZE)));

static struct {
  struct spinlock lock;
  char *freelist;               // free pages, linked through their first word
  uint used;                    // pages handed out
  uint limit;                   // kalloc() fails at this many (0: never)
  uchar ref[HOST_POOL_PAGES];   // 1 while a page is handed out
} pages = { .lock = { .name = "pages" } };

__attribute__((constructor)) static void pages_init(void) {
  int i;
  for (i = HOST_POOL_PAGES - 1; i >= 0; i--) {
    *(char **)pool[i] = pages.freelist;
    pages.freelist = pool[i];
  }
}

// Index of the pool page at v, or -1 if v is not the start of one.
static int page_index(char *v) {
  uintptr off = (uintptr)v - (uintptr)pool;  // huge if v is below the pool
  if (off >= sizeof(pool) || off % PGSIZE)
    return -1;
  return off / PGSIZE;
}

char *kalloc(void) {
  char *v;
  acquire(&pages.lock);
  v = pages.freelist;
  if (v && pages.limit && pages.used >= pages.limit)
    v = 0;
  if (v) {
    pages.freelist = *(char **)v;
    pages.ref[page_index(v)] = 1;
    pages.used++;
  }
  release(&pages.lock);
  return v;
}

// As the kernel's kfree: junk in freed pages shows use after free.
void kfree(char *v) {
  int i = page_index(v);
  if (i < 0 || pages.ref[i] != 1)
    panic("kfree: bad page");
  __builtin_memset(v, 1, PGSIZE);
  acquire(&pages.lock);
  pages.ref[i] = 0;
  *(char **)v = pages.freelist;
  pages.freelist = v;
  pages.used--;
  release(&pages.lock);
}

char *kalloc_as(int owner) { (void)owner; return kalloc(); }

int krefcount(char *v) {
  int i = page_index(v);
  return i < 0 ? 0 : pages.ref[i];
}

// The kernel's asks whether s is in mapped RAM; here, in the page pool.
static inline int page_mapped(struct slab *s) {
  return page_index((char *)s) >= 0;
}

void *host_kalloc(void) { return kalloc(); }
void host_kfree(void *page) { kfree(page); }
unsigned int host_pages_used(void) { return pages.used; }
void host_pages_limit(unsigned int n) { pages.limit = n; }

// ---- processes and system call arguments ----------------------------------

static __thread int host_arg0;        // argint(0)
static __thread char *host_argptr;    // arguser(0); 0 acts as a bad pointer

static struct {
  struct spinlock lock;
  struct proc proc[NPROC];
  char taken[NPROC];
} procs = { .lock = { .name = "procs" } };

int argint(int n, int *ip) {
  if (n != 0)
    return -1;
  *ip = host_arg0;
  return 0;
}

// A "user address" here is the token HOST_UVA standing for host_argptr
// (a host pointer does not fit in the kernel's 32-bit uint).
#define HOST_UVA 0x1000

int arguser(int n, uint *uva, int size, int write) {
  (void)size;
  (void)write;
  if (n != 0 || host_argptr == 0)
    return syserr(ERR_BADADDR, 0);  // as the kernel's says why
  *uva = HOST_UVA;
  return 0;
}

// The real one (syscall.c) records the running system call's number.
int syserr(int err, uint value) {
  trace_emit(EV_SYSERR, 0, err, value, 0);
  return -1;
}

int copy_to_user(uint dst, const void *src, uint n) {
  if (dst != HOST_UVA || host_argptr == 0)
    return -1;
  __builtin_memcpy(host_argptr, src, n);
  return 0;
}

struct proc *host_proc_new(int pid) {
  int i;
  acquire(&procs.lock);
  for (i = 0; i < NPROC && procs.taken[i]; i++)
    ;
  if (i == NPROC)
    panic("host_proc_new: too many processes");
  procs.taken[i] = 1;
  release(&procs.lock);
  __builtin_memset(&procs.proc[i], 0, sizeof(struct proc));
  procs.proc[i].pid = pid;
  return &procs.proc[i];
}

void host_proc_set(struct proc *p) { host_curproc = p; }

void host_proc_destroy(struct proc *p) {
  kmalloc_proc_exit(p);
  acquire(&procs.lock);
  procs.taken[p - procs.proc] = 0;
  release(&procs.lock);
}

int host_proc_nhandles(struct proc *p) { return p->nkmhandles; }

int host_sys_kmalloc(int n) {
  host_arg0 = n;
  return sys_kmalloc();
}

int host_sys_kmfree(int handle) {
  host_arg0 = handle;
  return sys_kmfree();
}

int host_sys_kmstat(struct kmstat *st) {
  host_argptr = (char *)st;
  return sys_kmstat();
}

int host_kmfree_checked(void *p) {
  return km_free(p, 0);
}

// ---- the trace ------------------------------------------------------------

uint trace_live;

// What the trace says about each 8-byte slot of the pool.
struct shadowobj {
  ushort size;
  uchar cls;
  uchar live;
  int pid;
};
static struct shadowobj shadow[sizeof(pool) / OBJ_ALIGN];

static struct {
  struct spinlock lock;
  uint events, syserrs, problems;
  char first[160];
} tr = { .lock = { .name = "trace" } };

void host_trace(int on) { trace_live = on ? ~0u : 0; }
unsigned int host_trace_events(void) { return tr.events; }
unsigned int host_trace_syserrs(void) { return tr.syserrs; }
unsigned int host_trace_problems(void) { return tr.problems; }
const char *host_trace_problem(void) { return tr.first; }

static void trace_problem(const char *what, uint addr) {
  if (tr.problems++ == 0)
    snprintf(tr.first, sizeof(tr.first), "%s (addr %#x)", what, addr);
}

// Events carry 32-bit addresses; the pool is smaller than 4 GiB, so the
// low 32 bits of an address still say where in the pool it is.
static struct shadowobj *shadow_of(uint addr) {
  uint off = addr - (uint)(uintptr)pool;
  if (off >= sizeof(pool) || off % OBJ_ALIGN)
    return 0;
  return &shadow[off / OBJ_ALIGN];
}

static void trace_kmalloc(uint addr, uint size, uint cls, uint pid) {
  struct shadowobj *o = shadow_of(addr);
  if (o == 0 || cls >= KM_NCLASS || size == 0 || size > kmclasses[cls].size ||
      (cls > 0 && size <= kmclasses[cls - 1].size))
    trace_problem("kmalloc event out of range", addr);
  else if (o->live)
    trace_problem("kmalloc returned a live object", addr);
  else
    *o = (struct shadowobj){ .size = size, .cls = cls, .live = 1, .pid = pid };
}

static void trace_kmfree(uint addr, uint size, uint cls, uint pid) {
  struct shadowobj *o = shadow_of(addr);
  if (o == 0 || !o->live)
    trace_problem("kmfree of an object not live", addr);
  else if (o->size != size || o->cls != cls || o->pid != (int)pid)
    trace_problem("kmfree with another size, class or pid than kmalloc", addr);
  else
    o->live = 0;
}

void trace_record(uint type, uint a0, uint a1, uint a2, uint a3) {
  acquire(&tr.lock);
  if (type == EV_KMALLOC || type == EV_KMFREE)
    tr.events++;
  if (type == EV_KMALLOC)
    trace_kmalloc(a0, a1, a2, a3);
  else if (type == EV_KMFREE)
    trace_kmfree(a0, a1, a2, a3);
  else if (type == EV_SYSERR)
    tr.syserrs++;
  release(&tr.lock);
}

// ---- invariants -------------------------------------------------------------

static int fail(char *why, int len, const char *what, struct kmclass *c) {
  snprintf(why, len, "class %d (%u bytes): %s", (int)(c - kmclasses), c->size, what);
  return -1;
}

// Object i's size record (obj_record_at()).
static uint obj_record(struct kmclass *c, struct slab *s, uint i) {
  uchar *r = obj_record_at(c, s, i);
  return c->sizebytes == 1 ? *r : *(ushort *)r;
}

// How many hot objects class c has in slab s, or in all (s == 0).
static uint hot_count(struct kmclass *c, struct slab *s) {
  uint i, n = 0;
  char *o;
  for (i = 0; i < NCPU; i++)
    if ((o = kmcpus[i].cls[c->index].hot) != 0 && (s == 0 || slab_of(o) == s))
      n++;
  return n;
}

// Check slab s of class c: size records, free list. Adds its live objects
// and their requested bytes to *objects and *bytes, and 1 to *idle if it
// has none.
static int check_slab(struct kmclass *c, struct slab *s, uint *objects, uint *bytes,
                      uint *idle, char *why, int len) {
  uint i, k, live = 0, nfreelist = 0, n;

  for (i = 0; i < c->perslab; i++) {
    if (obj_record(c, s, i) == 0)
      continue;
    live++;
    n = c->base + obj_record(c, s, i);
    if (n <= c->base || n > c->size)
      return fail(why, len, "requested size outside the class", c);
    *bytes += n;
  }
  if (live + hot_count(c, s) != c->perslab - s->nfree)
    return fail(why, len, "nfree disagrees with the size records and hot objects", c);
  for (k = s->freehead; k != FREE_END; k = *(ushort *)obj_addr(c, s, k))
    if (k >= c->perslab || obj_record(c, s, k) != 0 || ++nfreelist > c->perslab)
      return fail(why, len, "free list broken", c);
  if (nfreelist != s->nfree)
    return fail(why, len, "free list length is not nfree", c);
  *objects += live;
  *idle += live == 0;
  return 0;
}

// Check the partial list: links, and that only partial slabs are on it.
static int check_partial(struct kmclass *c, uint *onlist, char *why, int len) {
  struct slab *s, *prev = 0;
  for (s = c->partial; s; prev = s, s = s->next) {
    if (s->prev != prev || ++*onlist > HOST_POOL_PAGES)
      return fail(why, len, "partial list links broken", c);
    if (page_index((char *)s) < 0 || s->nfree == 0 || s->nfree == c->perslab)
      return fail(why, len, "a slab on the partial list is not partial", c);
  }
  return 0;
}

// Is object i of slab s on the slab's free list?
static int on_freelist(struct kmclass *c, struct slab *s, uint i) {
  uint k, n;
  for (k = s->freehead, n = 0; k != FREE_END && n++ <= c->perslab;
       k = *(ushort *)obj_addr(c, s, k))
    if (k == i)
      return 1;
  return 0;
}

// The hot objects: each an object of a slab of c, with size record 0
// (which hotrec points to), not on the free list, the mark intact, and
// the hot object of one CPU only.
static int check_hot(struct kmclass *c, char *why, int len) {
  struct slab *s;
  uint off, i, cpu, other;
  char *o;
  for (cpu = 0; cpu < NCPU; cpu++) {
    if ((o = kmcpus[cpu].cls[c->index].hot) == 0)
      continue;
    s = slab_of(o);
    i = obj_index(c, o, &off);
    if (page_index((char *)s) < 0 || pages.ref[page_index((char *)s)] == 0 ||
        s->magic != SLAB_MAGIC || &kmclasses[s->cls] != c)
      return fail(why, len, "hot object is not in a slab of the class", c);
    if (!obj_index_ok(c, i, off))
      return fail(why, len, "hot object is not the start of an object", c);
    if (obj_record(c, s, i) != 0)
      return fail(why, len, "hot object's size record is not 0", c);
    if (kmcpus[cpu].cls[c->index].hotrec != obj_record_at(c, s, i))
      return fail(why, len, "hotrec is not the hot object's size record", c);
    if (on_freelist(c, s, i))
      return fail(why, len, "hot object is on its slab's free list", c);
    if (*(uint *)o != HOT_MARK)
      return fail(why, len, "hot object's mark is gone", c);
    for (other = 0; other < cpu; other++)
      if (kmcpus[other].cls[c->index].hot == o)
        return fail(why, len, "an object is hot on two CPUs", c);
  }
  return 0;
}

// Check class c against every slab of it in the pool (full slabs are on
// no list, so the pool is the only way to find them all), and its
// counters, summed over the CPUs, against the size records.
static int check_class(struct kmclass *c, char *why, int len) {
  uint i, nslabs = 0, npartial = 0, onlist = 0, objects = 0, bytes = 0, idle = 0;
  uint allocs = 0, frees = 0, cbytes = 0, nhot = hot_count(c, 0);
  struct slab *s;

  for (i = 0; i < NCPU; i++) {
    allocs += kmcpus[i].cls[c->index].allocs;
    frees += kmcpus[i].cls[c->index].frees;
    cbytes += kmcpus[i].cls[c->index].bytes;
  }
  if (c->perslab == 0)
    return c->partial || c->empty || c->pages || allocs || nhot
               ? fail(why, len, "unused class holds something", c) : 0;
  if (c->hdrsize + c->perslab * c->size > PGSIZE || c->hdrsize % OBJ_ALIGN ||
      c->size % OBJ_ALIGN || c->hdrsize < sizeof(struct slab) + c->perslab * c->sizebytes)
    return fail(why, len, "layout does not fit a page", c);
  if (c->base != (c == kmclasses ? 0 : (c - 1)->size) || c->index != c - kmclasses)
    return fail(why, len, "base or index wrong", c);
  for (i = 0; i < PGSIZE; i++)
    if ((i * c->divmul >> c->divshift) != i / c->size)
      return fail(why, len, "divmul and divshift do not divide by size", c);
  if (check_partial(c, &onlist, why, len) < 0)
    return -1;
  for (i = 0; i < HOST_POOL_PAGES; i++) {
    s = (struct slab *)pool[i];
    if (pages.ref[i] == 0 || s->magic != SLAB_MAGIC || &kmclasses[s->cls] != c)
      continue;
    nslabs++;
    if (check_slab(c, s, &objects, &bytes, &idle, why, len) < 0)
      return -1;
    if (s->nfree == c->perslab && s != c->empty)
      return fail(why, len, "an empty slab that is not the cached one", c);
    npartial += s->nfree > 0 && s->nfree < c->perslab;
  }
  if (c->empty && (c->empty->magic != SLAB_MAGIC || &kmclasses[c->empty->cls] != c))
    return fail(why, len, "cached empty slab is not a slab of the class", c);
  if (check_hot(c, why, len) < 0)
    return -1;
  if (idle_pages(c) != idle)
    return fail(why, len, "idle_pages() is not the slabs without a live object", c);
  if (idle > 1 + nhot)
    return fail(why, len, "more slabs without a live object than 1 + hot objects", c);
  if (npartial != onlist)
    return fail(why, len, "a partial slab is not on the partial list", c);
  if (nslabs != c->pages)
    return fail(why, len, "pages is not the number of slabs", c);
  if (objects != allocs - frees || bytes != cbytes)
    return fail(why, len, "objects or bytes counted disagree with the size records", c);
  return 0;
}

int host_check(char *why, int len) {
  int i, r = 0;
  if (host_cpu.ncli != 0) {
    snprintf(why, len, "pushcli() without popcli(): ncli is %d", host_cpu.ncli);
    return -1;
  }
  for (i = 0; i < KM_NCLASS && r == 0; i++) {
    acquire(&kmclasses[i].lock);
    r = check_class(&kmclasses[i], why, len);
    release(&kmclasses[i].lock);
  }
  return r;
}

unsigned int host_cpus(void) {
  return host_ncpu;
}

unsigned int host_empty_slabs(void) {
  uint n = 0;
  int i;
  for (i = 0; i < KM_NCLASS; i++) {
    acquire(&kmclasses[i].lock);
    n += idle_pages(&kmclasses[i]);
    release(&kmclasses[i].lock);
  }
  return n;
}
