// Physical and virtual memory layout.
//
//   virtual                         physical
//   0xFE000000.. 4 GiB   devices    same (identity: LAPIC, IOAPIC)
//   KERNBASE+phystop..   (unused)
//   KERNLINK..           kernel text, data, then free pages up to phystop
//   KERNBASE..KERNLINK   I/O space below 1 MiB (VGA, BIOS)
//   0..KERNBASE          user: text+data, guard, stack, heap, mmap regions
#ifndef XV6_MEMLAYOUT_H
#define XV6_MEMLAYOUT_H
#define EXTMEM   0x100000              // start of extended memory (kernel loads here)
#define PHYSMAX  0x40000000            // most physical memory the kernel will use (1 GiB)
#define DEVSPACE 0xFE000000            // memory-mapped devices
#define KERNBASE 0x80000000            // first kernel virtual address
#define KERNLINK (KERNBASE + EXTMEM)   // kernel is linked here

#define V2P(a) (((uint)(a)) - KERNBASE)
#define P2V(a) ((void *)(((char *)(a)) + KERNBASE))
#define V2P_WO(x) ((x) - KERNBASE)     // no casts, for assembly
#define P2V_WO(x) ((x) + KERNBASE)

// User address-space layout (see docs/design.md).
#define MMAPTOP  (KERNBASE - 0x1000)   // regions placed "anywhere" grow down from here
#endif
