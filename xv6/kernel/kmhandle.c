// The kmalloc, kmfree and kmstat system calls: user programs borrow
// kernel objects from kmalloc.c through handles.
//
// The kmalloc system call gives a process an opaque handle, never an
// address: handle = serial << HANDLE_SLOTBITS | slot, where slot indexes
// the process's handle table and serial counts allocations since boot
// (never 0, wrapping after 2^25). Handles are unique among live ones in
// the whole system and have bit 31 clear, so 0, negative values and
// kernel addresses are never handles. The process can only give a handle
// back to kmfree; allocations are not inherited by fork, survive exec and
// are released at exit.
//
// Locking: a process's table is its own (below); kmtables.lock protects
// only which tables are taken and the handle serial number.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "spinlock.h"
#include "proc.h"
#include "kmstat.h"
#include "syscall.h"
#include "trace.h"

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

static struct {
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
  if (kmfree_pid(e->obj, p->pid) != 0)
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

// kmalloc fails with a null handle, not -1.
static int refuse_kmalloc(int err, uint value) {
  syserr(err, value);
  return 0;
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
    return 0;  // argint said why
  if (n <= 0 || n > KMALLOC_MAX)
    return refuse_kmalloc(ERR_BADLEN, n);
  if (p->nkmhandles >= KM_QUOTA_OBJECTS || handles_bytes(p) + n > KM_QUOTA_BYTES)
    return refuse_kmalloc(ERR_LIMIT, n);
  if ((obj = kmalloc_pid(n, p->pid)) == 0)
    return refuse_kmalloc(ERR_NOMEM, n);
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
    return -1;  // argint said why
  if ((e = handle_find(p, h)) == 0)
    return syserr(ERR_BADHANDLE, h);
  handle_release(p, e);
  return 0;
}

// int kmstat(struct kmstat *st): the allocator's statistics, and the
// caller's own handle count and bytes. 0, or -1 if st is not writable.
int sys_kmstat(void) {
  struct proc *p = myproc();
  struct kmstat st;
  uint u;

  if (arguser(0, &u, sizeof(st), 1) < 0)
    return -1;  // arguser said why
  memset(&st, 0, sizeof(st));  // no stale kernel stack bytes go out
  kmalloc_stat(&st);
  st.myobjects = p->nkmhandles;
  st.mybytes = handles_bytes(p);
  return copy_to_user(u, &st, sizeof(st));
}
