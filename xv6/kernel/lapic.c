// The local APIC of each CPU: its timer, end-of-interrupt, and the
// inter-processor interrupts that start the other CPUs.
#include "param.h"
#include "types.h"
#include "defs.h"
#include "memlayout.h"
#include "traps.h"
#include "mmu.h"
#include "x86.h"

// Register offsets, in 32-bit words.
#define ID      (0x0020 / 4)
#define VER     (0x0030 / 4)
#define TPR     (0x0080 / 4)   // task priority
#define EOI     (0x00B0 / 4)
#define SVR     (0x00F0 / 4)   // spurious vector
#define  SVR_ENABLE 0x00000100
#define ESR     (0x0280 / 4)   // error status
#define ICRLO   (0x0300 / 4)   // interrupt command
#define  ICR_INIT     0x00000500
#define  ICR_STARTUP  0x00000600
#define  ICR_DELIVS   0x00001000  // delivery pending
#define  ICR_ASSERT   0x00004000
#define  ICR_DEASSERT 0x00000000
#define  ICR_LEVEL    0x00008000
#define  ICR_BCAST    0x00080000  // all including self
#define ICRHI   (0x0310 / 4)
#define TIMER   (0x0320 / 4)
#define  TIMER_X1       0x0000000B  // divide by 1
#define  TIMER_PERIODIC 0x00020000
#define PCINT   (0x0340 / 4)   // performance counter
#define LINT0   (0x0350 / 4)
#define LINT1   (0x0360 / 4)
#define ERROR   (0x0370 / 4)
#define  MASKED 0x00010000
#define TICR    (0x0380 / 4)   // timer initial count
#define TCCR    (0x0390 / 4)   // timer current count
#define TDCR    (0x03E0 / 4)   // timer divide

volatile uint *lapic;  // set by mpinit(); identity-mapped in DEVSPACE

static void lapicw(int reg, int value) {
  lapic[reg] = value;
  (void)lapic[ID];  // wait for the write to finish
}

void lapicinit(void) {
  if (!lapic)
    return;
  lapicw(SVR, SVR_ENABLE | (T_IRQ0 + IRQ_SPURIOUS));

  // Periodic timer, counting down at bus speed.
  lapicw(TDCR, TIMER_X1);
  lapicw(TIMER, TIMER_PERIODIC | (T_IRQ0 + IRQ_TIMER));
  lapicw(TICR, 10000000);

  lapicw(LINT0, MASKED);
  lapicw(LINT1, MASKED);
  if (((lapic[VER] >> 16) & 0xFF) >= 4)
    lapicw(PCINT, MASKED);

  lapicw(ERROR, T_IRQ0 + IRQ_ERROR);
  lapicw(ESR, 0);  // clearing needs two writes
  lapicw(ESR, 0);
  lapicw(EOI, 0);  // acknowledge anything pending

  // Synchronise arbitration ids with an INIT level de-assert broadcast.
  lapicw(ICRHI, 0);
  lapicw(ICRLO, ICR_BCAST | ICR_INIT | ICR_LEVEL);
  while (lapic[ICRLO] & ICR_DELIVS)
    ;
  lapicw(TPR, 0);  // accept all interrupts
}

int lapicid(void) {
  if (!lapic)
    return 0;
  return lapic[ID] >> 24;
}

void lapiceoi(void) {
  if (lapic)
    lapicw(EOI, 0);
}

// Busy-wait about us microseconds. QEMU needs no real delay.
void microdelay(int us) {
  (void)us;
}

#define CMOS_PORT 0x70
#define CMOS_RETURN 0x71

// Start the CPU with the given APIC id running real-mode code at addr
// (page aligned, below 1 MiB): the INIT, STARTUP, STARTUP sequence.
void lapicstartap(uchar apicid, uint addr) {
  ushort *warm_reset;
  int i;

  // Shutdown code 0x0A and the warm reset vector (40:67) point at addr,
  // for CPUs that take the BIOS path after INIT.
  outb(CMOS_PORT, 0xF);
  outb(CMOS_PORT + 1, 0x0A);
  warm_reset = (ushort *)P2V((0x40 << 4 | 0x67));
  warm_reset[0] = 0;
  warm_reset[1] = addr >> 4;

  lapicw(ICRHI, apicid << 24);
  lapicw(ICRLO, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
  microdelay(200);
  lapicw(ICRLO, ICR_INIT | ICR_LEVEL);
  microdelay(100);

  for (i = 0; i < 2; i++) {
    lapicw(ICRHI, apicid << 24);
    lapicw(ICRLO, ICR_STARTUP | (addr >> 12));
    microdelay(200);
  }
}
