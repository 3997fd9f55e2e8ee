// System call stubs: one tiny function per call in user.h.
//
// A C caller has already pushed the arguments, so they sit on the user stack
// just above the return address; the kernel fetches them from there
// (esp+4, esp+8, ...). The stub only loads the call number into %eax and
// traps; the kernel leaves the result in %eax, which is the C return value.
#include "syscall.h"
#include "traps.h"

#define STUB(name)                 \
  .globl name;                     \
  .type name, @function;           \
  name:                            \
    movl $SYS_##name, %eax;        \
    int $T_SYSCALL;                \
    ret;                           \
  .size name, . - name

STUB(fork)
STUB(exit)
STUB(wait)
STUB(pipe)
STUB(read)
STUB(write)
STUB(close)
STUB(kill)
STUB(exec)
STUB(open)
STUB(mknod)
STUB(unlink)
STUB(fstat)
STUB(link)
STUB(mkdir)
STUB(chdir)
STUB(dup)
STUB(getpid)
STUB(sbrk)
STUB(sleep)
STUB(uptime)
STUB(kmalloc)
STUB(kmfree)
STUB(mmap)
STUB(munmap)
STUB(mprotect)
STUB(getmaps)
STUB(sysinfo)
STUB(kmstat)
STUB(tracectl)
STUB(msync)
STUB(madvise)
STUB(mremap)

// The stubs need no executable stack.
.section .note.GNU-stack, "", @progbits
