// Processes: the process table, creation (fork), termination (exit,
// wait, kill), sleeping and waking, and the per-CPU scheduler.
//
// Locking: ptable.lock protects every proc's state, parent, chan and
// killed fields, and is held across swtch() into and out of the
// scheduler. A process's other fields belong to the process itself.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "proc.h"
#include "spinlock.h"
#include "trace.h"

struct {
  struct spinlock lock;
  struct proc proc[NPROC];
} ptable;

static struct proc *initproc;
static int nextpid = 1;

extern void forkret(void);
extern void trapret(void);

void pinit(void) {
  initlock(&ptable.lock, "ptable");
}

// Index of this CPU in cpus[]. Interrupts must be off, or the caller
// could move to another CPU between the read and its use.
int cpuid(void) {
  if (readeflags() & FL_IF)
    panic("cpuid called with interrupts on");
  return CPU_FIELD(id);
}

// This CPU, through %gs (seginit). Every spin lock asks.
struct cpu *mycpu(void) {
  if (readeflags() & FL_IF)
    panic("mycpu called with interrupts on");
  return CPU_FIELD(self);
}

// This CPU found from its local APIC id, for seginit() to point %gs at.
// Before mpinit() only the boot CPU runs: cpus[0].
struct cpu *cpu_by_apicid(void) {
  int i;
  if ((i = cpu_of_apicid[lapicid() & 0xFF]) != 0)
    return &cpus[i - 1];
  if (ncpu == 0)
    return &cpus[0];
  panic("cpu_by_apicid: unknown apic id");
}

// The process running on this CPU, or 0.
// One load, so interrupts may stay on: whichever CPU the caller runs on,
// its proc is the caller's process.
struct proc *myproc(void) {
  return CPU_FIELD(proc);
}

// Find an UNUSED slot, make it an EMBRYO with a kernel stack arranged to
// "return" into forkret and then trapret. Returns 0 if none is free.
static struct proc *allocproc(void) {
  struct proc *p;
  char *sp;

  acquire(&ptable.lock);
  for (p = ptable.proc; p < &ptable.proc[NPROC]; p++)
    if (p->state == UNUSED)
      break;
  if (p == &ptable.proc[NPROC]) {
    release(&ptable.lock);
    return 0;
  }
  // A slot starts clean, whatever its last user left behind.
  p->state = EMBRYO;
  p->pid = nextpid++;
  p->killed = 0;
  p->parent = 0;
  p->chan = 0;
  release(&ptable.lock);

  if ((p->kstack = kalloc_as(OWNER_KSTACK)) == 0) {
    acquire(&ptable.lock);
    p->pid = 0;
    p->state = UNUSED;
    release(&ptable.lock);
    return 0;
  }
  *(uint *)p->kstack = KSTACK_CANARY;  // overwritten only if the stack overflows
  // Kernel stack, from the top:  trapframe | &trapret | context
  sp = p->kstack + KSTACKSIZE;
  sp -= sizeof *p->tf;
  p->tf = (struct trapframe *)sp;
  sp -= 4;
  *(uint *)sp = (uint)trapret;
  sp -= sizeof *p->context;
  p->context = (struct context *)sp;
  memset(p->context, 0, sizeof *p->context);
  p->context->eip = (uint)forkret;

  regions_init(p);
  p->kmhandles = 0;
  p->nkmhandles = 0;
  return p;
}

static void user_segments(struct trapframe *tf) {
  tf->cs = (SEG_UCODE << 3) | DPL_USER;
  tf->ds = (SEG_UDATA << 3) | DPL_USER;
  tf->es = tf->ds;
  tf->ss = tf->ds;
  tf->eflags = FL_IF;
}

// Create process 1, running initcode (initcode.S).
void userinit(void) {
  struct proc *p;
  extern char _initcode_start[], _initcode_end[];

  if ((p = allocproc()) == 0)
    panic("userinit: no process slot");
  initproc = p;
  if ((p->pgdir = setupkvm()) == 0)
    panic("userinit: out of memory");
  inituvm(p->pgdir, _initcode_start, _initcode_end - _initcode_start);
  p->sz = PGSIZE;
  p->textend = PGSIZE;
  p->stackbase = 0;
  p->heapbase = PGSIZE;
  memset(p->tf, 0, sizeof(*p->tf));
  user_segments(p->tf);
  p->tf->esp = PGSIZE;
  p->tf->eip = 0;
  safestrcpy(p->name, "initcode", sizeof(p->name));
  p->cwd = namei("/");
  trace_emit(EV_FORK, 0, p->pid, 0, 0);
  trace_image(p);

  acquire(&ptable.lock);
  p->state = RUNNABLE;
  release(&ptable.lock);
}

// Grow or shrink the heap by n bytes. Fails (-1, nothing changed) when
// growing would reach a region or the kernel, memory runs out, or
// shrinking would go below the start of the heap.
int growproc(int n) {
  struct proc *p = myproc();
  uint sz = p->sz, newsz = sz + n;

  if (n > 0) {
    if (newsz < sz || newsz > heap_limit(p))
      return syserr(ERR_OVERLAP, n);
    if ((newsz = allocuvm(p->pgdir, sz, newsz)) == 0)
      return syserr(ERR_NOMEM, n);
  } else if (n < 0 && (newsz > sz || newsz < p->heapbase)) {
    return syserr(ERR_BADLEN, n);
  }
  // Another process's getmaps reads sz and walks the page tables that
  // shrinking frees, with regionlock held.
  acquire(&p->regionlock);
  if (n < 0)
    newsz = deallocuvm(p->pgdir, sz, newsz);
  p->sz = newsz;
  release(&p->regionlock);
  trace_emit(EV_HEAP, sz, newsz, 0, 0);
  switchuvm(p);  // flush the TLB
  return 0;
}

// Create a child: a copy of the caller with its own memory. Returns the
// child's pid to the parent (0 in the child), or -1.
int fork(void) {
  struct proc *np, *cur = myproc();
  uint cowed = 0;
  int i, pid;

  if ((np = allocproc()) == 0)
    return syserr(ERR_LIMIT, NPROC);
  if ((np->pgdir = copyuvm(cur->pgdir, cur->sz, &cowed)) == 0)
    goto bad;
  np->sz = cur->sz;
  np->textend = cur->textend;
  np->stackbase = cur->stackbase;
  np->heapbase = cur->heapbase;
  if (regions_fork(cur, np, &cowed) < 0) {
    freevm(np->pgdir);
    lcr3(V2P(cur->pgdir));  // pages became copy-on-write before it failed
    goto bad;
  }
  lcr3(V2P(cur->pgdir));    // the parent's pages are now copy-on-write
  np->parent = cur;
  *np->tf = *cur->tf;
  np->tf->eax = 0;  // fork returns 0 in the child

  for (i = 0; i < NOFILE; i++)
    if (cur->ofile[i])
      np->ofile[i] = filedup(cur->ofile[i]);
  np->cwd = idup(cur->cwd);
  safestrcpy(np->name, cur->name, sizeof(cur->name));
  pid = np->pid;
  trace_emit(EV_FORK, cur->pid, pid, 0, 0);
  trace_emit(EV_COW_FORK, cur->pid, pid, cowed, 0);
  trace_procname(pid, np->name);

  acquire(&ptable.lock);
  np->state = RUNNABLE;
  release(&ptable.lock);
  return pid;

bad:
  kfree(np->kstack);
  np->kstack = 0;
  np->pgdir = 0;
  acquire(&ptable.lock);
  np->pid = 0;
  np->killed = 0;
  np->state = UNUSED;
  release(&ptable.lock);
  return syserr(ERR_NOMEM, 0);
}

// Tell the trace about p's new image and name (exec, userinit).
void trace_image(struct proc *p) {
  trace_exec(p->pid, p->textend, p->stackbase, p->heapbase, p->sz);
  trace_procname(p->pid, p->name);
}

// Give p's children to init. Caller holds ptable.lock.
static void reparent(struct proc *p) {
  struct proc *q;
  for (q = ptable.proc; q < &ptable.proc[NPROC]; q++) {
    if (q->parent == p) {
      q->parent = initproc;
      if (q->state == ZOMBIE)
        wakeup1(initproc);
    }
  }
}

// End the current process. It stays a ZOMBIE until its parent wait()s.
void exit(void) {
  struct proc *cur = myproc();
  int fd;

  if (cur == initproc)
    panic("init exiting");
  for (fd = 0; fd < NOFILE; fd++) {
    if (cur->ofile[fd]) {
      fileclose(cur->ofile[fd]);
      cur->ofile[fd] = 0;
    }
  }
  begin_op();
  iput(cur->cwd);
  end_op();
  cur->cwd = 0;
  // Memory that is not tied to the page directory goes now; the page
  // directory itself is freed by the parent's wait().
  regions_exit(cur);
  kmalloc_proc_exit(cur);
  trace_emit(EV_EXIT, cur->pid, 0, 0, 0);

  acquire(&ptable.lock);
  wakeup1(cur->parent);
  reparent(cur);
  cur->state = ZOMBIE;
  sched();
  panic("zombie exit");
}

// Free a ZOMBIE child's remaining resources. Caller holds ptable.lock.
static void reap(struct proc *p) {
  kfree(p->kstack);
  p->kstack = 0;
  freevm(p->pgdir);
  p->pgdir = 0;
  trace_emit(EV_REAP, p->pid, 0, 0, 0);
  p->pid = 0;
  p->parent = 0;
  p->name[0] = 0;
  p->killed = 0;
  p->sz = 0;
  p->state = UNUSED;
}

// Wait for a child to exit; returns its pid, or -1 if there are no
// children (or the caller was killed).
int wait(void) {
  struct proc *p, *cur = myproc();
  int havekids, pid;

  acquire(&ptable.lock);
  for (;;) {
    havekids = 0;
    for (p = ptable.proc; p < &ptable.proc[NPROC]; p++) {
      if (p->parent != cur)
        continue;
      havekids = 1;
      if (p->state == ZOMBIE) {
        pid = p->pid;
        reap(p);
        release(&ptable.lock);
        return pid;
      }
    }
    if (!havekids || cur->killed) {
      release(&ptable.lock);
      return syserr(havekids ? ERR_KILLED : ERR_NOCHILD, 0);
    }
    sleep(cur, &ptable.lock);  // exit() of a child wakes us
  }
}

// Each CPU runs this loop forever after setting itself up: pick a
// RUNNABLE process, switch to it, and come back here when it gives up
// the CPU. Round robin over the table.
void scheduler(void) {
  struct proc *p;
  struct cpu *c = mycpu();
  int ran;

  c->proc = 0;
  for (;;) {
    sti();  // let devices interrupt while we look
    ran = 0;
    acquire(&ptable.lock);
    for (p = ptable.proc; p < &ptable.proc[NPROC]; p++) {
      if (p->state != RUNNABLE)
        continue;
      c->proc = p;
      c->pid = p->pid;
      switchuvm(p);
      p->state = RUNNING;
      swtch(&c->scheduler, p->context);
      switchkvm();
      c->proc = 0;  // the process changed its state before returning
      c->pid = 0;
      ran = 1;
    }
    release(&ptable.lock);
    if (!ran) {
      trace_idle();  // drain this CPU's trace buffer while idle
      // Nothing to run: sleep until the next interrupt.
      sti();
      hlt();
    }
  }
}

// Switch to the scheduler. The caller holds exactly ptable.lock and has
// changed its state from RUNNING. intena belongs to this kernel thread,
// not to the CPU, so it is saved and restored around the switch.
void sched(void) {
  int intena;
  struct proc *p = myproc();

  if (!holding(&ptable.lock))
    panic("sched: ptable.lock not held");
  if (mycpu()->ncli != 1)
    panic("sched: other locks held");
  if (p->state == RUNNING)
    panic("sched: process still running");
  if (readeflags() & FL_IF)
    panic("sched: interrupts on");
  if (*(uint *)p->kstack != KSTACK_CANARY)
    panic("sched: kernel stack overflowed");
  intena = mycpu()->intena;
  swtch(&p->context, mycpu()->scheduler);
  mycpu()->intena = intena;
}

// Give up the CPU for one round.
void yield(void) {
  acquire(&ptable.lock);
  myproc()->state = RUNNABLE;
  sched();
  release(&ptable.lock);
}

// A new process's first switch lands here, still holding ptable.lock
// from the scheduler; it then "returns" to trapret into user mode.
void forkret(void) {
  static int first = 1;
  release(&ptable.lock);
  if (first) {
    // Initialisation that must sleep, so cannot run from main().
    first = 0;
    iinit(ROOTDEV);
    initlog(ROOTDEV);
  }
}

// Sleep on chan, releasing lk while asleep and holding it again on
// return. Taking ptable.lock before releasing lk means no wakeup(chan)
// can be missed in between.
void sleep(void *chan, struct spinlock *lk) {
  struct proc *p = myproc();
  if (p == 0)
    panic("sleep: no process");
  if (lk == 0)
    panic("sleep: no lock");
  if (lk != &ptable.lock) {
    acquire(&ptable.lock);
    release(lk);
  }
  p->chan = chan;
  p->state = SLEEPING;
  sched();
  p->chan = 0;
  if (lk != &ptable.lock) {
    release(&ptable.lock);
    acquire(lk);
  }
}

// Wake every process sleeping on chan. Caller holds ptable.lock.
void wakeup1(void *chan) {
  struct proc *p;
  for (p = ptable.proc; p < &ptable.proc[NPROC]; p++)
    if (p->state == SLEEPING && p->chan == chan)
      p->state = RUNNABLE;
}

void wakeup(void *chan) {
  acquire(&ptable.lock);
  wakeup1(chan);
  release(&ptable.lock);
}

// Mark pid killed; it exits when it next returns to user mode. A
// sleeping victim is woken so that it notices. init cannot be killed (the
// system would stop), nor a process still being created (its fork may
// yet fail, and the slot must not carry the mark to its next user).
int kill(int pid) {
  struct proc *p;
  acquire(&ptable.lock);
  for (p = ptable.proc; p < &ptable.proc[NPROC]; p++) {
    if (p->pid == pid && p != initproc &&
        (p->state == SLEEPING || p->state == RUNNABLE || p->state == RUNNING)) {
      p->killed = 1;
      if (p->state == SLEEPING)
        p->state = RUNNABLE;
      release(&ptable.lock);
      return 0;
    }
  }
  release(&ptable.lock);
  return syserr(pid == 1 ? ERR_PERM : ERR_NOPROC, pid);
}

// Run fn(p, arg) on the live process pid with ptable.lock held, so that
// p cannot be freed meanwhile. Returns fn's result, or -1 if no such pid.
int with_proc(int pid, int (*fn)(struct proc *, void *), void *arg) {
  struct proc *p;
  int r = -1;
  acquire(&ptable.lock);
  for (p = ptable.proc; p < &ptable.proc[NPROC]; p++) {
    if (p->pid == pid && p->state != UNUSED && p->state != EMBRYO && p->state != ZOMBIE) {
      r = fn(p, arg);
      break;
    }
  }
  release(&ptable.lock);
  return r;
}

int nprocs_inuse(void) {
  struct proc *p;
  int n = 0;
  acquire(&ptable.lock);
  for (p = ptable.proc; p < &ptable.proc[NPROC]; p++)
    if (p->state != UNUSED)
      n++;
  release(&ptable.lock);
  return n;
}

// Print the process table (^P on the console). Takes no lock, so that
// it works on a wedged machine.
void procdump(void) {
  static char *states[] = {
    [UNUSED] "unused", [EMBRYO] "embryo", [SLEEPING] "sleep ",
    [RUNNABLE] "runble", [RUNNING] "run   ", [ZOMBIE] "zombie",
  };
  struct proc *p;
  uint pc[10];
  int i;

  for (p = ptable.proc; p < &ptable.proc[NPROC]; p++) {
    if (p->state == UNUSED)
      continue;
    cprintf("%d %s %s sz 0x%x", p->pid, states[p->state], p->name, p->sz);
    if (p->state == SLEEPING) {
      getcallerpcs((uint *)p->context->ebp + 2, pc);
      for (i = 0; i < 10 && pc[i] != 0; i++)
        cprintf(" %p", pc[i]);
    }
    cprintf("\n");
    regions_dump(p);
  }
}
