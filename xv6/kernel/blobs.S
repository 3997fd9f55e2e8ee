# Binary blobs linked into the kernel: the application-processor start-up
# code (entryother.S) and the first user program (initcode.S), each built
# as a flat binary by the Makefile.
.section .rodata
.p2align 2
.globl _entryother_start, _entryother_end
_entryother_start:
  .incbin "entryother.bin"
_entryother_end:

.p2align 2
.globl _initcode_start, _initcode_end
_initcode_start:
  .incbin "initcode.bin"
_initcode_end:
