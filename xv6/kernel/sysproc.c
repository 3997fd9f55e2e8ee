// Process-related system calls.
#include "types.h"
#include "x86.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "spinlock.h"
#include "sysinfo.h"

int sys_fork(void) {
  return fork();
}

int sys_exit(void) {
  exit();
  return 0;  // not reached
}

int sys_wait(void) {
  return wait();
}

int sys_kill(void) {
  int pid;
  if (argint(0, &pid) < 0)
    return -1;
  return kill(pid);
}

int sys_getpid(void) {
  return myproc()->pid;
}

// sbrk(n): grow (or shrink) the heap by n bytes; returns the old end.
int sys_sbrk(void) {
  int n;
  uint old;
  if (argint(0, &n) < 0)
    return -1;
  old = myproc()->sz;
  if (growproc(n) < 0)
    return -1;
  return old;
}

// sleep(n): wait n timer ticks (or until killed).
int sys_sleep(void) {
  int n;
  uint start;
  if (argint(0, &n) < 0)
    return -1;
  acquire(&tickslock);
  start = ticks;
  while (n > 0 && ticks - start < (uint)n) {
    if (myproc()->killed) {
      release(&tickslock);
      return syserr(ERR_KILLED, 0);
    }
    sleep(&ticks, &tickslock);
  }
  release(&tickslock);
  return 0;
}

int sys_uptime(void) {
  uint t;
  acquire(&tickslock);
  t = ticks;
  release(&tickslock);
  return t;
}

// sysinfo(struct sysinfo *): counters tests compare to detect leaks.
int sys_sysinfo(void) {
  struct sysinfo si;
  uint u;
  if (arguser(0, &u, sizeof(si), 1) < 0)
    return -1;
  memset(&si, 0, sizeof(si));
  si.ncpu = ncpu_started();
  si.nproc = nprocs_inuse();
  si.freepages = kfreepages();
  si.totalpages = ktotalpages();
  kmalloc_totals(&si.kmalloc_objects, &si.kmalloc_bytes, &si.kmalloc_pages);
  si.ticks = sys_uptime();
  si.freeblocks = bfreecount(ROOTDEV);
  return copy_to_user(u, &si, sizeof(si));
}
