// System call dispatch and argument fetching.
//
// Arguments are on the user stack: argument n is the word at
// tf->esp + 4 + 4*n (above the return address the stub's caller pushed).
// Every user address is checked before the kernel touches it, so a bad
// pointer yields -1, never a kernel fault; the bytes move through
// usercopy.c, which faults in lazily mapped pages as they are touched.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"
#include "syscall.h"
#include "trace.h"

// The running system call fails for reason err (an ERR_ value; value is
// the offending argument, if any): say so in the trace. Only the first
// reason of a call is recorded (an argument helper may have given one
// already). Returns -1, for `return syserr(ERR_BADFD, fd);`.
int syserr(int err, uint value) {
  struct proc *p = myproc();
  if (!p->syserr_said) {
    p->syserr_said = 1;
    trace_emit(EV_SYSERR, p->tf->eax, err, value, 0);  // eax: the call's number until it returns
  }
  return -1;
}

// Fetch the int at user address addr.
int fetchint(uint addr, int *ip) {
  return copy_from_user(ip, addr, 4) < 0 ? syserr(ERR_BADADDR, addr) : 0;
}

int argint(int n, int *ip) {
  return fetchint(myproc()->tf->esp + 4 + 4 * n, ip);
}

// The n'th argument as the user address of size bytes the kernel will
// read (or write), checked; the bytes are then moved with copy_from_user
// and copy_to_user. A null pointer is refused even though address 0 is
// user memory (the program's text starts there): passing 0 is always a
// mistake, and honouring it would overwrite the program's own code.
int arguser(int n, uint *uva, int size, int write) {
  int v;
  if (argint(n, &v) < 0)
    return -1;
  if (size < 0)
    return syserr(ERR_BADLEN, size);
  if ((v == 0 && size > 0) || !user_range_ok((uint)v, size, write))
    return syserr(ERR_BADADDR, v);
  *uva = (uint)v;
  return 0;
}

// The n'th argument as a string, copied into buf (max bytes with its
// NUL). Returns its length, or -1.
int argstr(int n, char *buf, int max) {
  int addr, len;
  if (argint(n, &addr) < 0)
    return -1;
  if ((len = copy_str_from_user(buf, addr, max)) < 0)
    return syserr(ERR_BADPATH, addr);
  return len;
}

extern int sys_chdir(void);
extern int sys_close(void);
extern int sys_dup(void);
extern int sys_exec(void);
extern int sys_exit(void);
extern int sys_fork(void);
extern int sys_fstat(void);
extern int sys_getpid(void);
extern int sys_kill(void);
extern int sys_link(void);
extern int sys_mkdir(void);
extern int sys_mknod(void);
extern int sys_open(void);
extern int sys_pipe(void);
extern int sys_read(void);
extern int sys_sbrk(void);
extern int sys_sleep(void);
extern int sys_unlink(void);
extern int sys_wait(void);
extern int sys_write(void);
extern int sys_uptime(void);
extern int sys_sysinfo(void);
extern int sys_kmalloc(void);
extern int sys_kmfree(void);
extern int sys_kmstat(void);
extern int sys_mmap(void);
extern int sys_munmap(void);
extern int sys_mprotect(void);
extern int sys_getmaps(void);
extern int sys_tracectl(void);
extern int sys_msync(void);
extern int sys_madvise(void);
extern int sys_mremap(void);

static int (*syscalls[])(void) = {
  [SYS_fork] sys_fork,
  [SYS_exit] sys_exit,
  [SYS_wait] sys_wait,
  [SYS_pipe] sys_pipe,
  [SYS_read] sys_read,
  [SYS_kill] sys_kill,
  [SYS_exec] sys_exec,
  [SYS_fstat] sys_fstat,
  [SYS_chdir] sys_chdir,
  [SYS_dup] sys_dup,
  [SYS_getpid] sys_getpid,
  [SYS_sbrk] sys_sbrk,
  [SYS_sleep] sys_sleep,
  [SYS_uptime] sys_uptime,
  [SYS_open] sys_open,
  [SYS_write] sys_write,
  [SYS_mknod] sys_mknod,
  [SYS_unlink] sys_unlink,
  [SYS_link] sys_link,
  [SYS_mkdir] sys_mkdir,
  [SYS_close] sys_close,
  [SYS_kmalloc] sys_kmalloc,
  [SYS_kmfree] sys_kmfree,
  [SYS_mmap] sys_mmap,
  [SYS_munmap] sys_munmap,
  [SYS_mprotect] sys_mprotect,
  [SYS_getmaps] sys_getmaps,
  [SYS_sysinfo] sys_sysinfo,
  [SYS_kmstat] sys_kmstat,
  [SYS_tracectl] sys_tracectl,
  [SYS_msync] sys_msync,
  [SYS_madvise] sys_madvise,
  [SYS_mremap] sys_mremap,
};

// Run the call numbered in eax; its result goes back in eax. A call that
// returns -1 without having said why is recorded as ERR_FAILED.
void syscall(void) {
  struct proc *p = myproc();
  uint num = p->tf->eax;
  int r;
  p->syserr_said = 0;
  if (num < NELEM(syscalls) && syscalls[num]) {
    r = syscalls[num]();
    if (r == -1)
      syserr(ERR_FAILED, 0);
    p->tf->eax = r;
  } else {
    p->tf->eax = syserr(ERR_BADARG, num);  // said in the trace, not on the console
  }
}
