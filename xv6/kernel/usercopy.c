// Moving bytes between the kernel and the current process's memory.
//
// The kernel runs on the user's page table, so a user address can be
// dereferenced, but only once its page is known to be there: a system
// call first checks that its whole buffer is memory the process may use
// (user_range_ok, which faults nothing in), and then copies with the
// functions below, which fault in each page just before touching it. So
// a 1-byte read() into an untouched 64 MiB buffer makes one page
// resident, and a bad pointer is -1, never a kernel fault.
//
// Nothing can take a checked page away before it is used: only the
// process itself changes its page table, and it is here, in a system
// call. Strings (paths, exec arguments) are copied into kernel memory
// once, so another process changing shared bytes meanwhile cannot make
// the kernel read past what it checked.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"

#define FEC_WRITE 0x2  // page-fault error code: a write
#define FEC_USER  0x4  //   from user mode (as if the user touched it)

// Is the page at va present, and may p read (or write) it as the user
// would, now (cow 0) or once a write has copied a copy-on-write page
// (cow 1)?
static int pte_allows(struct proc *p, uint va, int write, int cow) {
  pte_t *pte = walkpgdir(p->pgdir, (void *)va, 0);
  if (pte == 0 || (*pte & (PTE_P | PTE_U)) != (PTE_P | PTE_U))
    return 0;
  return !write || (*pte & PTE_W) || (cow && (*pte & PTE_COW));
}

// Is [va, va+len) memory the current process may read (or write)? Region
// pages count whether or not they have been touched yet. Below the heap's
// end there are no regions (mmap.c keeps them above it), so text, stack
// and heap pages cost a PTE look-up, not a search of the region list.
int user_range_ok(uint va, uint len, int write) {
  struct proc *p = myproc();
  uint a, end, floor = PGROUNDUP(p->sz);
  if (len == 0)
    return va <= KERNBASE;
  if (va + len < va || va + len > KERNBASE)
    return 0;
  for (a = PGROUNDDOWN(va); a < va + len; a = end) {
    if (a >= floor && (end = region_span(p, a, write)) != 0)
      continue;  // the rest of an allowing region: no need to look at its pages
    if (!pte_allows(p, a, write, 1))
      return 0;
    end = a + PGSIZE;
  }
  return 1;
}

// Make the page at va present and usable as the user would use it,
// faulting it in if need be. Returns 1, or 0 if it cannot be (not the
// process's memory, or out of memory).
static int user_page_ready(struct proc *p, uint va, int write) {
  if (va >= KERNBASE)
    return 0;
  if (pte_allows(p, va, write, 0))
    return 1;
  // Not there yet, or shared copy-on-write: as if the user had touched it.
  if (fault_handler(va, FEC_USER | (write ? FEC_WRITE : 0), 0) != 0)
    return 0;
  return pte_allows(p, va, write, 0);
}

// Fault in every page of [va, va+len), for a caller that must then write
// there with locks held. Returns 0 or -1.
int user_populate(uint va, uint len, int write) {
  struct proc *p = myproc();
  uint a;
  if (len == 0)
    return 0;
  if (va + len < va)
    return -1;
  for (a = PGROUNDDOWN(va); a < va + len; a += PGSIZE)
    if (!user_page_ready(p, a, write))
      return -1;
  return 0;
}

// Copy n bytes between kernel address k and user address u, page by page;
// to_user says which way. Returns 0, or -1 if a page could not be used
// (what was copied before it stays copied).
static int copy_user(char *k, uint u, uint n, int to_user) {
  struct proc *p = myproc();
  uint chunk;
  if (u + n < u)
    return -1;
  while (n > 0) {
    if (!user_page_ready(p, PGROUNDDOWN(u), to_user))
      return -1;
    chunk = PGSIZE - u % PGSIZE;
    if (chunk > n)
      chunk = n;
    if (to_user)
      memmove((char *)u, k, chunk);
    else
      memmove(k, (char *)u, chunk);
    k += chunk;
    u += chunk;
    n -= chunk;
  }
  return 0;
}

int copy_to_user(uint dst, const void *src, uint n) {
  return copy_user((char *)src, dst, n, 1);
}

int copy_from_user(void *dst, uint src, uint n) {
  return copy_user(dst, src, n, 0);
}

// Copy the NUL-terminated string at user address src into dst, which has
// room for max bytes. Returns its length, or -1 if it is not readable or
// does not fit (dst then holds no string).
int copy_str_from_user(char *dst, uint src, uint max) {
  struct proc *p = myproc();
  uint i;
  if (src == 0 || max == 0)
    return -1;
  for (i = 0; i < max; i++) {
    if (src + i < src)
      break;
    if ((i == 0 || (src + i) % PGSIZE == 0) && !user_page_ready(p, PGROUNDDOWN(src + i), 0))
      break;
    if ((dst[i] = *(char *)(src + i)) == 0)
      return i;
  }
  dst[0] = 0;
  return -1;
}

// Copy to a user address (user) or a kernel one: for code such as readi
// that serves both system calls and the kernel itself.
int either_copyout(int user, char *dst, const char *src, uint n) {
  if (user)
    return copy_to_user((uint)dst, src, n);
  memmove(dst, src, n);
  return 0;
}

int either_copyin(int user, char *dst, const char *src, uint n) {
  if (user)
    return copy_from_user(dst, (uint)src, n);
  memmove(dst, src, n);
  return 0;
}
