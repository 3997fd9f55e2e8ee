# Common trap entry: every vector in vectors.S jumps here after pushing
# an error code (real or 0) and its trap number. Build the rest of a
# struct trapframe (x86.h) and call trap(tf).
#include "mmu.h"

.globl alltraps
alltraps:
  # User code may leave the direction flag set (a backward rep movsb,
  # interrupted half way, or a deliberate std), and the trap does not
  # clear it. The kernel's C code assumes it clear: without this, every
  # string operation would run backwards over kernel memory.
  cld
  pushl   %ds
  pushl   %es
  pushl   %fs
  pushl   %gs
  pushal

  # Kernel data segment for C code.
  movw    $(SEG_KDATA<<3), %ax
  movw    %ax, %ds
  movw    %ax, %es
  # This CPU's struct cpu (seginit in vm.c): user code may have changed %gs.
  movw    $(SEG_KCPU<<3), %ax
  movw    %ax, %gs

  pushl   %esp             # argument: the trapframe
  call    trap
  addl    $4, %esp

# Return to whatever the trapframe on the stack describes; forkret and
# new processes start here too.
.globl trapret
trapret:
  popal
  popl    %gs
  popl    %fs
  popl    %es
  popl    %ds
  addl    $8, %esp         # trap number and error code
  iret
