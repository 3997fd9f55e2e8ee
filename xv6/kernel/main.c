// Kernel start-up: the boot CPU runs main(), the others mpenter().
#include "types.h"
#include "defs.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "x86.h"
#include "trace.h"

extern char end[];            // first address after the kernel (kernel.ld)
extern uint multiboot_info;   // physical address, saved by entry.S
pde_t entrypgdir[];

static void startothers(void);
static void mpmain(void) __attribute__((noreturn));

// Multiboot v1 information: only the memory fields are used.
struct multiboot_info {
  uint flags;        // bit 0: mem_* valid; bit 6: mmap_* valid
  uint mem_lower;    // KiB below 1 MiB
  uint mem_upper;    // KiB above 1 MiB, up to the first hole
  uint unused[8];    // boot device, command line, modules, symbols
  uint mmap_length;  // bytes of memory map
  uint mmap_addr;    // physical address of the first entry
};

// One entry of the BIOS memory map; size does not count itself.
struct multiboot_mmap {
  uint size;
  uint64 addr;
  uint64 len;
  uint type;         // 1: available RAM
};

// First physical address past the RAM that starts at 1 MiB, capped at
// PHYSMAX; 128 MiB if the boot loader says nothing. The memory map is
// preferred to mem_upper: it also excludes what the firmware reserved
// at the top of RAM (its ACPI and other tables).
static uint detect_phystop(void) {
  struct multiboot_info *mb = P2V(multiboot_info);
  struct multiboot_mmap *e;
  uint top = 128 * 1024 * 1024, off;
  if (multiboot_info == 0 || multiboot_info >= 4 * 1024 * 1024)
    return top;
  if (mb->flags & 1)
    top = EXTMEM + mb->mem_upper * 1024;
  if ((mb->flags & (1 << 6)) && mb->mmap_addr < 4 * 1024 * 1024) {
    for (off = 0; off < mb->mmap_length; off += e->size + 4) {
      e = (struct multiboot_mmap *)P2V(mb->mmap_addr + off);
      if (e->type == 1 && e->addr <= EXTMEM && e->addr + e->len > EXTMEM)
        top = e->addr + e->len > PHYSMAX ? PHYSMAX : (uint)(e->addr + e->len);
    }
  }
  if (top > PHYSMAX)
    top = PHYSMAX;
  return PGROUNDDOWN(top);
}

int main(void) {
  seginit();        // %gs for per-CPU data, which the trace uses
  trace_init();     // first, so that it sees every page allocation
  phystop = detect_phystop();
  kinit1(end, P2V(4 * 1024 * 1024));  // pages the entry page table maps
  kvmalloc();       // full kernel page table
  mpinit();         // CPUs and I/O APIC from the MP table
  lapicinit();
  seginit();
  picinit();
  ioapicinit();
  consoleinit();
  uartinit();
  com2init();
  cprintf("\nxv6: %d KiB of RAM up to 0x%x, %d CPUs\n", (phystop - EXTMEM) >> 10, phystop, ncpu);
  pinit();
  tvinit();
  binit();
  fileinit();
  shminit();        // shared memory objects
  pcacheinit();     // the page cache of mapped files
  ideinit();
  startothers();
  kinit2(P2V(4 * 1024 * 1024), P2V(phystop));
  userinit();
  mpmain();
}

// Other CPUs start here (entryother.S), on the kernel page table.
static void mpenter(void) {
  switchkvm();
  seginit();
  lapicinit();
  mpmain();
}

static void mpmain(void) {
  cprintf("cpu%d: starting\n", cpuid());
  idtinit();
  xchg(&mycpu()->started, 1);
  scheduler();
}

// How many CPUs have started (for sysinfo and the SMP tests).
int ncpu_started(void) {
  int i, n = 0;
  for (i = 0; i < ncpu; i++)
    if (cpus[i].started)
      n++;
  return n;
}

// Start every other CPU, one at a time, with the code of entryother.S
// copied to 0x7000.
static void startothers(void) {
  extern uchar _entryother_start[], _entryother_end[];
  uchar *code = P2V(0x7000);
  struct cpu *c;
  char *stack;

  memmove(code, _entryother_start, _entryother_end - _entryother_start);
  for (c = cpus; c < cpus + ncpu; c++) {
    if (c == mycpu())
      continue;
    if ((stack = kalloc()) == 0)
      panic("startothers: out of memory");
    *(void **)(code - 4) = stack + KSTACKSIZE;
    *(void (**)(void))(code - 8) = mpenter;
    *(int **)(code - 12) = (void *)V2P(entrypgdir);
    lapicstartap(c->apicid, V2P(code));
    while (c->started == 0)
      ;
  }
}

// The page directory entry.S turns paging on with: 4 MiB pages mapping
// virtual [0, 4MiB) and [KERNBASE, KERNBASE+4MiB) to physical [0, 4MiB).
// Other CPUs use it too until mpenter() switches to the kernel table.
__attribute__((__aligned__(PGSIZE)))
pde_t entrypgdir[NPDENTRIES] = {
  [0] = (0) | PTE_P | PTE_W | PTE_PS,
  [KERNBASE >> PDXSHIFT] = (0) | PTE_P | PTE_W | PTE_PS,
};
