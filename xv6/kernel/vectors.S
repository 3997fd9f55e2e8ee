# The 256 interrupt entry points, and the table vectors[] that tvinit()
# loads into the IDT. The CPU pushes an error code for vectors 8, 10-14
# and 17; for the others we push 0 so every trapframe has the same shape.
.altmacro

.macro vector n
  .globl vector\n
vector\n:
  .if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17)
  .else
    pushl $0
  .endif
  pushl $\n
  jmp alltraps
.endm

.macro vecaddr n
  .long vector\n
.endm

.text
.set i, 0
.rept 256
  vector %i
  .set i, i + 1
.endr

.data
.globl vectors
vectors:
.set i, 0
.rept 256
  vecaddr %i
  .set i, i + 1
.endr
