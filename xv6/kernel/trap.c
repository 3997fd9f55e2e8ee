// Traps: the interrupt descriptor table and the C side of every trap,
// interrupt and system call.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"
#include "traps.h"
#include "spinlock.h"
#include "trace.h"

struct gatedesc idt[256];
extern uint vectors[];  // vectors.S
struct spinlock tickslock;
uint ticks;             // timer interrupts on CPU 0 since boot (tickslock)

void tvinit(void) {
  int i;
  for (i = 0; i < 256; i++)
    SETGATE(idt[i], 0, SEG_KCODE << 3, vectors[i], 0);
  // System calls run with interrupts on and may be raised from user mode.
  SETGATE(idt[T_SYSCALL], 1, SEG_KCODE << 3, vectors[T_SYSCALL], DPL_USER);
  initlock(&tickslock, "time");
}

void idtinit(void) {
  lidt(idt, sizeof(idt));
}

static void timer_tick(void) {
  trace_tick();  // drain some of this CPU's trace buffer
  if (cpuid() == 0) {
    acquire(&tickslock);
    ticks++;
    wakeup(&ticks);
    release(&tickslock);
  }
  lapiceoi();
}

// A fault in user mode that nothing could resolve: report and kill.
// fault is fault_handler()'s verdict for page faults.
static void user_fault(struct trapframe *tf, int fault) {
  struct proc *p = myproc();
  if (tf->trapno == T_PGFLT && fault == FAULT_BUS)
    cprintf("pid %d %s: bus error: va 0x%x is past the end of the mapped file, eip 0x%x -- killed\n",
            p->pid, p->name, rcr2(), tf->eip);
  else if (tf->trapno == T_PGFLT && fault == FAULT_NOMEM)
    cprintf("pid %d %s: out of memory on page fault at va 0x%x -- killed\n",
            p->pid, p->name, rcr2());
  else if (tf->trapno == T_PGFLT)
    cprintf("pid %d %s: page fault: %s %s va 0x%x, eip 0x%x -- killed\n",
            p->pid, p->name, (tf->err & 2) ? "write to" : "read of",
            (tf->err & 1) ? "protected" : "unmapped", rcr2(), tf->eip);
  else
    cprintf("pid %d %s: trap %d err %d on cpu %d eip 0x%x addr 0x%x -- killed\n",
            p->pid, p->name, tf->trapno, tf->err, cpuid(), tf->eip, rcr2());
  p->killed = 1;
}

// Handle a device interrupt. Returns 0 if tf is not one.
static int devintr(struct trapframe *tf) {
  switch (tf->trapno) {
  case T_IRQ0 + IRQ_TIMER:
    timer_tick();
    break;
  case T_IRQ0 + IRQ_IDE:
    ideintr();
    lapiceoi();
    break;
  case T_IRQ0 + IRQ_IDE + 1:
    // Spurious second-channel IDE interrupt: nothing to do.
    break;
  case T_IRQ0 + IRQ_KBD:
    kbdintr();
    lapiceoi();
    break;
  case T_IRQ0 + IRQ_COM1:
    uartintr();
    lapiceoi();
    break;
  case T_IRQ0 + 7:
  case T_IRQ0 + IRQ_SPURIOUS:
    cprintf("cpu%d: spurious interrupt at %x:%x\n", cpuid(), tf->cs, tf->eip);
    lapiceoi();
    break;
  default:
    return 0;
  }
  return 1;
}

// A fault or exception: resolve a user page fault, kill a user process
// that did something it may not, panic if the kernel did.
static void exception(struct trapframe *tf) {
  int fault = FAULT_BAD;
  if (tf->trapno == T_PGFLT && (tf->cs & 3) == DPL_USER) {
    if ((fault = fault_handler(rcr2(), tf->err, tf->eip)) == 0)
      return;
    trace_emit(EV_FAULT, rcr2(), tf->err, fault, tf->eip);
  }
  if (myproc() == 0 || (tf->cs & 3) == 0) {
    cprintf("unexpected trap %d from cpu %d eip %x (cr2=0x%x)\n",
            tf->trapno, cpuid(), tf->eip, rcr2());
    panic("trap");
  }
  user_fault(tf, fault);
}

void trap(struct trapframe *tf) {
  struct proc *p = myproc();

  if (p && (char *)tf >= p->kstack && (char *)tf < p->kstack + KSTACKSIZE &&
      *(uint *)p->kstack != KSTACK_CANARY)
    panic("trap: kernel stack overflowed");

  if (tf->trapno == T_SYSCALL) {
    if (p->killed)
      exit();
    p->tf = tf;
    syscall();
    if (p->killed)
      exit();
    return;
  }
  if (!devintr(tf))
    exception(tf);

  p = myproc();
  // A killed process exits when it is about to return to user mode (not
  // while in the kernel: it may hold locks or be mid-operation).
  if (p && p->killed && (tf->cs & 3) == DPL_USER)
    exit();

  // The timer forces a switch to the next runnable process.
  if (p && p->state == RUNNING && tf->trapno == T_IRQ0 + IRQ_TIMER)
    yield();

  if (p && p->killed && (tf->cs & 3) == DPL_USER)
    exit();
}
