// x86 memory-management unit: segments, page tables, task state.
#ifndef XV6_MMU_H
#define XV6_MMU_H

// EFLAGS
#define FL_IF 0x00000200  // interrupts enabled

// CR0
#define CR0_PE 0x00000001  // protection enable
#define CR0_WP 0x00010000  // supervisor writes honour read-only pages
#define CR0_PG 0x80000000  // paging

// CR4
#define CR4_PSE 0x00000010  // 4 MiB pages

// Segment selectors in the GDT (index << 3).
#define SEG_KCODE 1
#define SEG_KDATA 2
#define SEG_UCODE 3
#define SEG_UDATA 4
#define SEG_TSS   5
#define SEG_KCPU  6  // based at this CPU's struct cpu: %gs in the kernel
#define NSEGS     7

#define DPL_USER 0x3

#ifndef __ASSEMBLER__
// A segment descriptor, as the CPU reads it.
struct segdesc {
  uint lim_15_0 : 16;
  uint base_15_0 : 16;
  uint base_23_16 : 8;
  uint type : 4;
  uint s : 1;        // 1 = code/data, 0 = system
  uint dpl : 2;
  uint p : 1;        // present
  uint lim_19_16 : 4;
  uint avl : 1;
  uint rsv1 : 1;
  uint db : 1;       // 1 = 32-bit segment
  uint g : 1;        // limit in 4 KiB units
  uint base_31_24 : 8;
};

// Flat segment: base, limit (bytes - 1, page granular), type, privilege.
#define SEGMENT(type_, base, lim, dpl_) (struct segdesc)     \
{ ((lim) >> 12) & 0xffff, (uint)(base) & 0xffff,              \
  ((uint)(base) >> 16) & 0xff, type_, 1, dpl_, 1,             \
  (uint)(lim) >> 28, 0, 0, 1, 1, (uint)(base) >> 24 }
// Byte-granular 16-bit-limit system segment (the TSS).
#define SEGMENT16(type_, base, lim, dpl_) (struct segdesc)   \
{ (lim) & 0xffff, (uint)(base) & 0xffff,                      \
  ((uint)(base) >> 16) & 0xff, type_, 1, dpl_, 1,             \
  (uint)(lim) >> 16, 0, 0, 1, 0, (uint)(base) >> 24 }
#endif

// Segment type bits
#define STA_X 0x8  // executable
#define STA_W 0x2  // writable (data)
#define STA_R 0x2  // readable (code)
#define STS_T32A 0x9  // available 32-bit TSS
#define STS_IG32 0xE  // 32-bit interrupt gate
#define STS_TG32 0xF  // 32-bit trap gate

// A virtual address splits as  | PDX (10) | PTX (10) | offset (12) |
#define PDX(va)  (((uint)(va) >> 22) & 0x3FF)
#define PTX(va)  (((uint)(va) >> 12) & 0x3FF)
#define PGADDR(d, t, o) ((uint)((d) << 22 | (t) << 12 | (o)))

#define NPDENTRIES 1024
#define NPTENTRIES 1024
#define PGSIZE     4096
#define PGSHIFT    12
#define PDXSHIFT   22

#define PGROUNDUP(sz)  (((sz) + PGSIZE - 1) & ~(PGSIZE - 1))
#define PGROUNDDOWN(a) (((a)) & ~(PGSIZE - 1))

// Page table/directory entry flags.
#define PTE_P  0x001  // present
#define PTE_W  0x002  // writeable
#define PTE_U  0x004  // user
#define PTE_A  0x020  // accessed (set by the CPU)
#define PTE_D  0x040  // dirty: written since the bit was cleared (set by the CPU)
#define PTE_COW 0x200 // software bit: writable, but shared copy-on-write
                      // (PTE_W clear until a write gets its own page)
#define PTE_PS 0x080  // 4 MiB page (directory entry)

#define PTE_ADDR(pte)  ((uint)(pte) & ~0xFFF)
#define PTE_FLAGS(pte) ((uint)(pte) & 0xFFF)

#ifndef __ASSEMBLER__
// Task state segment: only the kernel stack fields and the I/O map base matter.
struct taskstate {
  uint link;
  uint esp0;       // stack pointer loaded on a trap from user mode
  ushort ss0, pad1;
  uint esp1;
  ushort ss1, pad2;
  uint esp2;
  ushort ss2, pad3;
  uint cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
  ushort es, pad4, cs, pad5, ss, pad6, ds, pad7, fs, pad8, gs, pad9;
  ushort ldt, pad10;
  ushort t;        // trap on task switch
  ushort iomb;     // I/O map base
};

// An interrupt/trap gate in the IDT.
struct gatedesc {
  uint off_15_0 : 16;
  uint cs : 16;
  uint args : 5;
  uint rsv1 : 3;
  uint type : 4;
  uint s : 1;
  uint dpl : 2;
  uint p : 1;
  uint off_31_16 : 16;
};

// Fill gate g: istrap selects a trap gate (interrupts stay on), sel:off is
// the handler, d the privilege needed to raise it with "int".
#define SETGATE(g, istrap, sel, off, d) do {                  \
  (g).off_15_0 = (uint)(off) & 0xffff;                        \
  (g).cs = (sel);                                             \
  (g).args = 0;                                               \
  (g).rsv1 = 0;                                               \
  (g).type = (istrap) ? STS_TG32 : STS_IG32;                  \
  (g).s = 0;                                                  \
  (g).dpl = (d);                                              \
  (g).p = 1;                                                  \
  (g).off_31_16 = (uint)(off) >> 16;                          \
} while (0)
#endif
#endif
