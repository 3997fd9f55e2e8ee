// Runs xv6/kernel/trace.c as a host program: the kernel functions it calls
// are stubbed, COM2 is a file. A scenario drives two "CPUs" through
// recording, overflow, draining, masking and tracectl, then prints the
// tracectl status counters for the Python test to compare with the stream.
//
// usage: hostkernel OUT.bin
#include <stdio.h>
#include "types.h"
#include "param.h"
#include "mmu.h"
#include "x86.h"     // the stub beside this file, before trace.h would take the real one
#include "spinlock.h"
#include "proc.h"
#include "syscall.h"
#include "trace.h"

uint64 fake_tsc = 1000000;
uint fake_eflags = 0x200;
int fake_pit_reads = 1000;

struct cpu cpus[NCPU];
int ncpu;
uchar cpu_of_apicid[256];  // filled as mpinit() would, when ncpu is set
uint ticks;
static int curcpu;
static int sysargs[2];
static FILE *com2;

// As xv6's: only with interrupts off, and only once mpinit() found the CPUs.
struct cpu *mycpu(void) {
  if ((fake_eflags & 0x200) || ncpu == 0) {
    fprintf(stderr, "mycpu with interrupts on or before mpinit\n");
    __builtin_trap();
  }
  return &cpus[curcpu];
}
// The running CPU's APIC id is its index here; only with interrupts off.
int lapicid(void) {
  if (fake_eflags & 0x200) {
    fprintf(stderr, "lapicid with interrupts on\n");
    __builtin_trap();
  }
  return curcpu;
}
// The CPU that %gs would select; only with interrupts off.
int host_cpu_here(void) {
  if (fake_eflags & 0x200) {
    fprintf(stderr, "per-CPU data read with interrupts on\n");
    __builtin_trap();
  }
  return curcpu;
}
void com2write(const uchar *buf, int n) { fwrite(buf, 1, n, com2); }
int argint(int n, int *ip) { *ip = sysargs[n]; return 0; }
// Only tracectl fails here (syscall.c records the real call's number).
int syserr(int err, uint value) { trace_emit(EV_SYSERR, SYS_tracectl, err, value, 0); return -1; }
void initlock(struct spinlock *lk, char *name) { lk->locked = 0; lk->name = name; }
void acquire(struct spinlock *lk) {
  if (ncpu == 0) {                  // xv6's pushcli() -> mycpu() would panic
    fprintf(stderr, "acquire before mpinit\n");
    __builtin_trap();
  }
  lk->locked = 1;
}
void release(struct spinlock *lk) { lk->locked = 0; }
void *memmove(void *dst, const void *src, uint n) {
  char *d = dst;
  const char *s = src;
  if (d < s)
    while (n-- > 0) *d++ = *s++;
  else
    while (n-- > 0) d[n] = s[n];
  return dst;
}

static int tracectl(int op, int arg) {
  sysargs[0] = op;
  sysargs[1] = arg;
  return sys_tracectl();
}

static void oncpu(int cpu, struct proc *p) {
  curcpu = cpu;
  cpus[cpu].proc = p;
  cpus[cpu].pid = p->pid;
}

int main(int argc, char *argv[]) {
  static struct proc init, sh;
  int i;

  if (argc != 2 || !(com2 = fopen(argv[1], "wb")))
    return 2;
  init.pid = 1;
  sh.pid = 2;

  // Boot: before mpinit() there are no CPUs yet; seginit() has given the
  // boot CPU cpus[0].
  cpus[0].tracering = trace_ring_of(0);
  trace_init();
  trace_emit(EV_MEM_RANGE, 0x400000, 0x800000, 0, 0);
  ncpu = 2;
  for (i = 0; i < ncpu; i++) {
    cpu_of_apicid[i] = i + 1;
    cpus[i].id = i;                     // as seginit() does
    cpus[i].tracering = trace_ring_of(i);
  }
  trace_exec(1, 0x1000, 0x2000, 0x3000, 0x3000);  // as userinit: no process runs

  oncpu(0, &init);
  trace_emit(EV_PAGE_ALLOC, 0x500000, OWNER_REGION, 0, 0);
  trace_emit(EV_PAGE_MAP, 0x7FFFD000, 0x500000, 0, 1);
  trace_emit(EV_SYSERR, SYS_mmap, ERR_NOMEM, 0, 0);
  trace_procname(1, "init");
  trace_mmap(0, 0x2000, 3, 0x22, 0x7FFFD000);

  // CPU 1 overflows its ring: 100 events more than it holds.
  oncpu(1, &sh);
  for (i = 0; i < TRACE_RING + 100; i++)
    trace_emit(EV_PAGE_FREE, 0x1000 * i, 0, 0, 0);
  trace_idle();                         // no tick since: only full-ish rings go
  trace_emit(EV_HEAP, 0x3000, 0x4000, 0, 0);  // room again: LOST goes first
  ticks++;
  trace_tick();

  // Masked and disabled events are not recorded.
  oncpu(0, &init);
  tracectl(TRACECTL_MASK, TRACE_ALL_EVENTS & ~(1 << EV_PAGE_ALLOC));
  trace_emit(EV_PAGE_ALLOC, 0xBAD000, 0, 0, 0);
  trace_emit(EV_EXIT, 1, 0, 0, 0);
  tracectl(TRACECTL_MASK, TRACE_ALL_EVENTS);
  tracectl(TRACECTL_OFF, 0);
  trace_emit(EV_PAGE_ALLOC, 0xBAD000, 0, 0, 0);
  tracectl(TRACECTL_ON, 0);
  if (tracectl(99, 0) != -1)            // bad op: -1, and a SYSERR record
    return 3;
  trace_emit(EV_REAP, 1, 0, 0, 0);
  tracectl(TRACECTL_FLUSH, 0);

  // Lossless mode: CPU 1 writes twice its ring's worth; nothing is lost.
  tracectl(TRACECTL_LOSSLESS, 1);
  oncpu(1, &sh);
  for (i = 0; i < 2 * TRACE_RING; i++)
    trace_emit(EV_KMALLOC, 0x80100000 + 16 * i, 16, 0, 2);
  oncpu(0, &init);
  tracectl(TRACECTL_FLUSH, 0);

  for (i = 0; i < TRACESTAT_COUNT; i++)
    printf("%d %d\n", i, tracectl(TRACECTL_STATUS, i));
  fclose(com2);
  return fake_eflags == 0x200 ? 0 : 4;
}
