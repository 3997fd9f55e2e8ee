// Stand-ins for xv6/kernel/x86.h so that trace.c runs as a host program:
// no privileged instructions, a fake TSC and a fake PIT.
#ifndef XV6_X86_H
#define XV6_X86_H

extern uint64 fake_tsc;        // advances on every read
extern uint fake_eflags;       // FL_IF while "interrupts" are on
extern int fake_pit_reads;     // inb(0x61) calls until the PIT fires

// What %gs gives the kernel (proc.h): a field of the running CPU's struct
// cpu; only with interrupts off (hostkernel.c checks).
int host_cpu_here(void);
#define CPU_FIELD(field) (cpus[host_cpu_here()].field)

static inline uint readeflags(void) { return fake_eflags; }
static inline void cli(void) { fake_eflags &= ~0x200; }
static inline void sti(void) { fake_eflags |= 0x200; }

static inline uint64 rdtsc(void) {
  fake_tsc += 100;
  return fake_tsc;
}

static inline uint xchg(volatile uint *addr, uint newval) {
  return __atomic_exchange_n(addr, newval, __ATOMIC_SEQ_CST);
}

static inline uchar inb(ushort port) {
  if (port == 0x61 && --fake_pit_reads <= 0)
    return 0x20;
  return 0;
}

static inline void outb(ushort port, uchar v) { (void)port; (void)v; }
#endif
