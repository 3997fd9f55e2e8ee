# Start-up code for the other CPUs (application processors).
#
# startothers() in main.c copies this code to physical 0x7000 and sends the
# CPU a STARTUP IPI naming that page; the CPU starts in 16-bit real mode
# with CS:IP = 0x0700:0000. Just below the code, startothers() leaves:
#   0x7000 - 4:  top of this CPU's kernel stack
#   0x7000 - 8:  address of mpenter()
#   0x7000 - 12: physical address of the page directory to use
# We enter protected mode, turn on paging and call mpenter().

#include "asm.h"
#include "memlayout.h"
#include "mmu.h"

.code16
.globl start
start:
  cli
  xorw    %ax, %ax
  movw    %ax, %ds
  movw    %ax, %es
  movw    %ax, %ss

  lgdt    gdtdesc
  movl    %cr0, %eax
  orl     $CR0_PE, %eax
  movl    %eax, %cr0
  ljmpl   $(SEG_KCODE<<3), $(start32)

.code32
start32:
  movw    $(SEG_KDATA<<3), %ax
  movw    %ax, %ds
  movw    %ax, %es
  movw    %ax, %ss
  xorw    %ax, %ax
  movw    %ax, %fs
  movw    %ax, %gs

  movl    %cr4, %eax
  orl     $(CR4_PSE), %eax
  movl    %eax, %cr4
  movl    (start-12), %eax
  movl    %eax, %cr3
  movl    %cr0, %eax
  orl     $(CR0_PE|CR0_PG|CR0_WP), %eax
  movl    %eax, %cr0

  movl    (start-4), %esp
  call    *(start-8)

  # mpenter() does not return; stop here if it does.
spin:
  hlt
  jmp     spin

.p2align 2
gdt:
  SEG_NULLASM
  SEG_ASM(STA_X|STA_R, 0, 0xffffffff)
  SEG_ASM(STA_W, 0, 0xffffffff)

gdtdesc:
  .word   (gdtdesc - gdt - 1)
  .long   gdt
