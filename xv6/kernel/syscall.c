// System call dispatch and argument fetching.
//
// Arguments are on the user stack: argument n is the word at
// tf->esp + 4 + 4*n (above the return address the stub's caller pushed).
// Every user address is checked against the page table before the kernel
// touches it, so a bad pointer yields -1, never a kernel fault. Pages of
// a region that are not yet present (lazy mmap) are faulted in here.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"
#include "syscall.h"

// Is the page holding va present and user-accessible (and writable if
// write) in p's page table? Faults in a lazily mapped page if needed.
static int user_page_ok(struct proc *p, uint va, int write) {
  pte_t *pte;
  uint need = PTE_P | PTE_U | (write ? PTE_W : 0);
  if (va >= KERNBASE)
    return 0;
  pte = walkpgdir(p->pgdir, (void *)va, 0);
  if (pte && (*pte & need) == need)
    return 1;
  // Not there (yet): ask the region code, as if the user had touched it.
  if (fault_handler(va, (write ? 2 : 0) | 4, 0) != 0)
    return 0;
  pte = walkpgdir(p->pgdir, (void *)va, 0);
  return pte && (*pte & need) == need;
}

// Is [va, va+len) valid user memory for reading (or writing)?
int user_range_ok(uint va, uint len, int write) {
  struct proc *p = myproc();
  uint a;
  if (len == 0)
    return va <= KERNBASE;
  if (va + len < va || va + len > KERNBASE)
    return 0;
  for (a = PGROUNDDOWN(va); a < va + len; a += PGSIZE)
    if (!user_page_ok(p, a, write))
      return 0;
  return 1;
}

// Fetch the int at addr from the current process.
int fetchint(uint addr, int *ip) {
  if (!user_range_ok(addr, 4, 0))
    return -1;
  *ip = *(int *)addr;
  return 0;
}

// Point *pp at the NUL-terminated string at addr, checking every page
// it spans. Returns its length, or -1.
int fetchstr(uint addr, char **pp) {
  struct proc *p = myproc();
  char *s;
  uint page = 1;  // not a valid page address: forces the first check
  if (addr == 0)
    return -1;    // a null string pointer, as in argbuf()
  for (s = (char *)addr;; s++) {
    if (PGROUNDDOWN((uint)s) != page) {
      page = PGROUNDDOWN((uint)s);
      if ((uint)s < addr || !user_page_ok(p, page, 0))
        return -1;
    }
    if (*s == 0) {
      *pp = (char *)addr;
      return s - (char *)addr;
    }
  }
}

int argint(int n, int *ip) {
  return fetchint(myproc()->tf->esp + 4 + 4 * n, ip);
}

// A null pointer is refused even though address 0 is user memory (the
// program's text starts there): passing 0 is always a mistake, and
// honouring it would overwrite the program's own code.
static int argbuf(int n, char **pp, int size, int write) {
  int v;
  if (argint(n, &v) < 0 || size < 0 || (v == 0 && size > 0) ||
      !user_range_ok((uint)v, size, write))
    return -1;
  *pp = (char *)v;
  return 0;
}

// The n'th argument as a pointer to size bytes the kernel will read.
int argptr(int n, char **pp, int size) {
  return argbuf(n, pp, size, 0);
}

// The n'th argument as a pointer to size bytes the kernel will write.
int argptr_w(int n, char **pp, int size) {
  return argbuf(n, pp, size, 1);
}

// The n'th argument as a string. Returns its length, or -1.
int argstr(int n, char **pp) {
  int addr;
  if (argint(n, &addr) < 0)
    return -1;
  return fetchstr(addr, pp);
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
};

void syscall(void) {
  struct proc *p = myproc();
  uint num = p->tf->eax;
  if (num < NELEM(syscalls) && syscalls[num]) {
    p->tf->eax = syscalls[num]();
  } else {
    cprintf("pid %d %s: unknown system call %d\n", p->pid, p->name, num);
    p->tf->eax = -1;
  }
}
