// Per-CPU state and the process table entry.
#ifndef XV6_PROC_H
#define XV6_PROC_H
#include "spinlock.h"

struct cpu {
  uchar apicid;                // local APIC id
  struct context *scheduler;   // swtch() here to enter the scheduler
  struct taskstate ts;         // gives the kernel stack for traps from user mode
  struct segdesc gdt[NSEGS];
  volatile uint started;       // set once the CPU is running
  int ncli;                    // depth of pushcli nesting
  int intena;                  // were interrupts on before the first pushcli?
  struct proc *proc;           // running process, or 0
  struct cpu *self;            // this struct: what mycpu() reads through %gs
  uint id;                     // index in cpus[]
  int pid;                     // proc's pid, or 0 (for the trace's records)
  struct tracering *tracering; // this CPU's trace ring (trace.c)
};

// In the kernel %gs selects SEG_KCPU, a segment of this CPU's GDT based at
// its struct cpu (seginit), so a field of this CPU's struct cpu is one
// load, with no APIC read and no search. Interrupts must be off, or the
// caller could move to another CPU between the load and its use. The asm
// is volatile: the value depends on the CPU, which the compiler cannot
// see, so a load must never be merged with an earlier one (from before a
// sleep, say, on another CPU). (A host build of a kernel file may define
// its own.)
#ifndef CPU_FIELD
#define CPU_FIELD(field) ({                                                        \
  __typeof__(((struct cpu *)0)->field) v_;                                        \
  asm volatile("mov %%gs:%c1, %0" : "=r"(v_) : "i"(__builtin_offsetof(struct cpu, field)));\
  v_; })
#endif

extern struct cpu cpus[NCPU];
extern int ncpu;
extern uchar cpu_of_apicid[256];

// Callee-saved registers for kernel context switches (swtch.S).
// %eax, %ecx, %edx are caller-saved; segment registers are constant in the
// kernel; %esp is the address of the context itself; %eip is the return
// address swtch's caller pushed.
struct context {
  uint edi;
  uint esi;
  uint ebx;
  uint ebp;
  uint eip;
};

enum procstate { UNUSED, EMBRYO, SLEEPING, RUNNABLE, RUNNING, ZOMBIE };

// The lowest word of every kernel stack holds this value; a different
// value means the stack overflowed into whatever lies below it.
#define KSTACK_CANARY 0x5AFE57AC

// Fields marked (ptable.lock) may only change with ptable.lock held.
struct proc {
  uint sz;                     // bytes of memory from 0: text, data, stack, heap
  pde_t *pgdir;                // page directory
  char *kstack;                // bottom of the kernel stack
  enum procstate state;        // (ptable.lock)
  int pid;
  struct proc *parent;         // (ptable.lock)
  struct trapframe *tf;        // trap frame of the current system call
  struct context *context;     // swtch() here to run the process
  void *chan;                  // sleeping on this, if non-zero (ptable.lock)
  int killed;                  // exit at the next return to user mode
  int syserr_said;             // the running system call's failure reason is traced
  struct file *ofile[NOFILE];
  struct inode *cwd;
  char name[16];               // for debugging

  // Address-space layout from exec, for introspection (pmap, trace, gdb).
  uint textend;                // end of text+data (page aligned)
  uint stackbase;              // lowest address of the user stack page
  uint heapbase;               // where the heap starts (== sz after exec)

  // Memory regions from mmap (mmap.c): a list sorted by address, and an
  // index of them for look-ups and placement. The process changes them
  // only with regionlock held; other readers (getmaps of another pid)
  // take ptable.lock and then regionlock.
  struct region *regions;
  int nregions;
  struct rnode *rindex;        // the same regions in a search tree (regionindex.c)
  struct spinlock regionlock;

  // kmalloc allocations made through the kmalloc system call (kmalloc.c).
  struct kmhandle *kmhandles;
  int nkmhandles;
};
#endif
