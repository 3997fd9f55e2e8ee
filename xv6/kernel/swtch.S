# void swtch(struct context **old, struct context *new);
#
# Save the callee-saved registers on the current stack, store the stack
# pointer (which is then a struct context *) in *old, switch to the stack
# of new, restore its registers and return into it.
.globl swtch
swtch:
  movl    4(%esp), %eax    # old
  movl    8(%esp), %edx    # new

  # The return address is already on the stack: it becomes context->eip.
  pushl   %ebp
  pushl   %ebx
  pushl   %esi
  pushl   %edi

  movl    %esp, (%eax)
  movl    %edx, %esp

  popl    %edi
  popl    %esi
  popl    %ebx
  popl    %ebp
  ret
