# Kernel entry point for the boot CPU.
#
# QEMU's -kernel loader (Multiboot v1) loads this ELF at its physical
# addresses (1 MiB up) and jumps to _start with paging off, flat segments,
# %eax = 0x2BADB002 and %ebx = physical address of the Multiboot info.
# We turn on paging with entrypgdir (main.c), which maps the first 4 MiB
# both at 0 and at KERNBASE, move to the boot stack and call main().

#include "mmu.h"
#include "param.h"
#include "memlayout.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002            /* ask for the memory size */

.section .multiboot
.p2align 2
multiboot_header:
  .long MB_MAGIC
  .long MB_FLAGS
  .long -(MB_MAGIC + MB_FLAGS)

.text
# The ELF entry must be a physical address: paging is still off.
.globl _start
_start = V2P_WO(entry)

.globl entry
entry:
  # Remember the Multiboot info pointer for main() (physical address).
  movl    %ebx, V2P_WO(multiboot_info)

  # 4 MiB pages, so entrypgdir needs no page tables.
  movl    %cr4, %eax
  orl     $(CR4_PSE), %eax
  movl    %eax, %cr4
  movl    $(V2P_WO(entrypgdir)), %eax
  movl    %eax, %cr3
  movl    %cr0, %eax
  orl     $(CR0_PG|CR0_WP), %eax
  movl    %eax, %cr0

  # Now running at low addresses through the identity mapping; switch to
  # the high mapping with an absolute jump.
  movl    $(bootstack + KSTACKSIZE), %esp
  cld                      # C code assumes it; Multiboot does not promise it
  mov     $main, %eax
  jmp     *%eax

.comm bootstack, KSTACKSIZE
.globl multiboot_info
.comm multiboot_info, 4
