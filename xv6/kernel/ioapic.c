// The I/O APIC: routes device interrupts (IRQs) to CPUs.
#include "types.h"
#include "defs.h"
#include "param.h"
#include "mmu.h"
#include "proc.h"
#include "traps.h"

#define IOAPIC 0xFEC00000  // default physical address (identity-mapped)

#define REG_ID    0x00
#define REG_VER   0x01
#define REG_TABLE 0x10     // redirection table: two registers per IRQ

#define INT_DISABLED 0x00010000

// Memory-mapped: write the register number to reg, then use data.
struct ioapic {
  uint reg;
  uint pad[3];
  uint data;
};

static volatile struct ioapic *ioapic;

static uint ioapicread(int reg) {
  ioapic->reg = reg;
  return ioapic->data;
}

static void ioapicwrite(int reg, uint data) {
  ioapic->reg = reg;
  ioapic->data = data;
}

// Every IRQ starts disabled, edge-triggered, active high, with vector
// T_IRQ0 + irq.
void ioapicinit(void) {
  int i, maxintr;
  ioapic = (volatile struct ioapic *)IOAPIC;
  maxintr = (ioapicread(REG_VER) >> 16) & 0xFF;
  if (((ioapicread(REG_ID) >> 24) & 0xF) != ioapicid)
    cprintf("ioapicinit: id differs from the MP table; not a MP machine?\n");
  for (i = 0; i <= maxintr; i++) {
    ioapicwrite(REG_TABLE + 2 * i, INT_DISABLED | (T_IRQ0 + i));
    ioapicwrite(REG_TABLE + 2 * i + 1, 0);
  }
}

// Deliver irq to the CPU with index cpunum.
void ioapicenable(int irq, int cpunum) {
  ioapicwrite(REG_TABLE + 2 * irq, T_IRQ0 + irq);
  ioapicwrite(REG_TABLE + 2 * irq + 1, (uint)cpus[cpunum].apicid << 24);
}
