# The first user program, copied into process 1's memory by userinit():
# exec("/init", {"/init", 0}); if that returns, exit forever.
#include "syscall.h"
#include "traps.h"

.globl start
start:
  pushl   $argv
  pushl   $init
  pushl   $0               # fake return address
  movl    $SYS_exec, %eax
  int     $T_SYSCALL

fail:
  movl    $SYS_exit, %eax
  int     $T_SYSCALL
  jmp     fail

init:
  .string "/init\0"

.p2align 2
argv:
  .long   init
  .long   0
