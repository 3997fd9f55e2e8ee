// Virtual memory: segments, page tables, and user address spaces.
//
// Every page directory maps the kernel in its upper half (KERNBASE up)
// and the process in the lower half. The kernel half is built once, in
// kpgdir, and its page tables are shared by every page directory:
// setupkvm() copies only the directory entries. So freevm() frees the
// page tables of the user half and never those of the kernel half.
#include "param.h"
#include "types.h"
#include "defs.h"
#include "x86.h"
#include "memlayout.h"
#include "mmu.h"
#include "proc.h"
#include "elf.h"
#include "trace.h"

extern char data[];  // start of kernel data (kernel.ld)
pde_t *kpgdir;       // the kernel-only page directory (scheduler, boot)

// Per-CPU GDT: kernel and user code/data, and the task state segment
// that switchuvm() fills in.
// SEG_KCPU covers this CPU's struct cpu; %gs holds it in the kernel
// (alltraps reloads it on every trap from user mode), so that mycpu()
// and the per-CPU fast paths (trace, kmalloc) are one load.
// main() calls this twice on the boot CPU: first thing, for cpus[0], so
// that %gs works from the first event on, and again once mpinit() has
// numbered the CPUs.
void seginit(void) {
  struct cpu *c = cpu_by_apicid();
  c->gdt[SEG_KCODE] = SEGMENT(STA_X | STA_R, 0, 0xffffffff, 0);
  c->gdt[SEG_KDATA] = SEGMENT(STA_W, 0, 0xffffffff, 0);
  c->gdt[SEG_UCODE] = SEGMENT(STA_X | STA_R, 0, 0xffffffff, DPL_USER);
  c->gdt[SEG_UDATA] = SEGMENT(STA_W, 0, 0xffffffff, DPL_USER);
  c->gdt[SEG_KCPU] = SEGMENT(STA_W, (uint)c, sizeof(*c) - 1, 0);
  c->self = c;
  c->id = c - cpus;
  c->tracering = trace_ring_of(c->id);
  lgdt(c->gdt, sizeof(c->gdt));
  loadgs(SEG_KCPU << 3);
}

// Address of the PTE for va in pgdir. With alloc, create a missing page
// table; otherwise return 0 for one. Returns 0 if a page table is needed
// and no memory is left.
pte_t *walkpgdir(pde_t *pgdir, const void *va, int alloc) {
  pde_t *pde = &pgdir[PDX(va)];
  pte_t *pgtab;
  if (*pde & PTE_P) {
    pgtab = (pte_t *)P2V(PTE_ADDR(*pde));
  } else {
    if (!alloc || (pgtab = (pte_t *)kalloc_as(OWNER_PGTABLE)) == 0)
      return 0;
    memset(pgtab, 0, PGSIZE);
    // Permissions are enforced by the PTEs; the PDE is permissive.
    *pde = V2P(pgtab) | PTE_P | PTE_W | PTE_U;
  }
  return &pgtab[PTX(va)];
}

// For walking a range of user pages: the PTE of the first page at or
// after *va, below end, that has a page table, with *va moved to it;
// 0 when none is left. Whole 4 MiB ranges without a page table are
// skipped, so walking a sparse range (a 1 GiB region) stays cheap.
pte_t *next_pte(pde_t *pgdir, uint *va, uint end) {
  pte_t *pte;
  while (*va < end) {
    if ((pte = walkpgdir(pgdir, (void *)*va, 0)) != 0)
      return pte;
    *va = PGADDR(PDX(*va) + 1, 0, 0);
    if (*va == 0)  // wrapped past 4 GiB
      break;
  }
  return 0;
}

// Like next_pte(), but the PTE of the first present page: the scan of a
// page table is a tight loop over its entries, with no call per page, so
// unmapping a large, sparsely touched range costs little per page.
pte_t *next_present_pte(pde_t *pgdir, uint *va, uint end) {
  uint a = *va, stop;
  pte_t *pte;
  while (a < end) {
    stop = PGADDR(PDX(a) + 1, 0, 0);  // this page table's end (0 past 4 GiB)
    if (stop == 0 || stop > end)
      stop = end;
    if (pgdir[PDX(a)] & PTE_P) {
      for (pte = (pte_t *)P2V(PTE_ADDR(pgdir[PDX(a)])) + PTX(a); a < stop; a += PGSIZE, pte++) {
        if (*pte & PTE_P) {
          *va = a;
          return pte;
        }
      }
    }
    a = stop;
    if (a == 0)
      break;
  }
  return 0;
}

// Map [va, va+size) to physical [pa, pa+size). va and size need not be
// page aligned. Returns -1 if a page table could not be allocated (the
// pages mapped so far stay mapped; the caller frees the whole pgdir).
int mappages(pde_t *pgdir, void *va, uint size, uint pa, int perm) {
  char *a = (char *)PGROUNDDOWN((uint)va);
  char *last = (char *)PGROUNDDOWN(((uint)va) + size - 1);
  pte_t *pte;
  for (;;) {
    if ((pte = walkpgdir(pgdir, a, 1)) == 0)
      return -1;
    if (*pte & PTE_P)
      panic("mappages: remap");
    *pte = pa | perm | PTE_P;
    if (a == last)
      break;
    a += PGSIZE;
    pa += PGSIZE;
  }
  return 0;
}

// The kernel's part of every address space.
struct kmap {
  void *virt;
  uint phys_start;
  uint phys_end;
  int perm;
};

static pde_t *build_kpgdir(void) {
  struct kmap kmap[] = {
    { (void *)KERNBASE, 0, EXTMEM, PTE_W },               // I/O space
    { (void *)KERNLINK, V2P(KERNLINK), V2P(data), 0 },    // text + rodata
    { (void *)data, V2P(data), phystop, PTE_W },          // data + free memory
    { (void *)DEVSPACE, DEVSPACE, 0, PTE_W },             // devices, to 4 GiB
  };
  pde_t *pgdir;
  struct kmap *k;
  if ((pgdir = (pde_t *)kalloc_as(OWNER_PGTABLE)) == 0)
    return 0;
  memset(pgdir, 0, PGSIZE);
  for (k = kmap; k < &kmap[NELEM(kmap)]; k++) {
    uint size = k->phys_end - k->phys_start;   // wraps to 4GiB-DEVSPACE for the last
    if (mappages(pgdir, k->virt, size, k->phys_start, k->perm) < 0)
      panic("build_kpgdir: out of memory");
  }
  return pgdir;
}

// A new page directory with the kernel mapped and nothing else.
pde_t *setupkvm(void) {
  pde_t *pgdir;
  if ((pgdir = (pde_t *)kalloc_as(OWNER_PGTABLE)) == 0)
    return 0;
  memset(pgdir, 0, PGSIZE / 2);
  memmove(&pgdir[PDX(KERNBASE)], &kpgdir[PDX(KERNBASE)], PGSIZE / 2);
  return pgdir;
}

// Build the kernel page table and switch to it (boot CPU).
void kvmalloc(void) {
  kpgdir = build_kpgdir();
  switchkvm();
}

void switchkvm(void) {
  lcr3(V2P(kpgdir));
}

// Run process p: its kernel stack for traps, its page directory.
void switchuvm(struct proc *p) {
  struct cpu *c;
  if (p == 0 || p->kstack == 0 || p->pgdir == 0)
    panic("switchuvm: no process");
  pushcli();
  c = mycpu();
  c->gdt[SEG_TSS] = SEGMENT16(STS_T32A, &c->ts, sizeof(c->ts) - 1, 0);
  c->gdt[SEG_TSS].s = 0;
  c->ts.ss0 = SEG_KDATA << 3;
  c->ts.esp0 = (uint)p->kstack + KSTACKSIZE;
  // An I/O map base beyond the segment limit forbids user in/out.
  c->ts.iomb = (ushort)0xFFFF;
  ltr(SEG_TSS << 3);
  lcr3(V2P(p->pgdir));
  popcli();
}

// Load initcode into address 0 of pgdir (sz < one page).
void inituvm(pde_t *pgdir, char *init, uint sz) {
  char *mem;
  if (sz >= PGSIZE)
    panic("inituvm: more than a page");
  if ((mem = kalloc_as(OWNER_USER)) == 0)
    panic("inituvm: out of memory");
  memset(mem, 0, PGSIZE);
  if (mappages(pgdir, 0, PGSIZE, V2P(mem), PTE_W | PTE_U) < 0)
    panic("inituvm: out of memory");
  memmove(mem, init, sz);
}

// Read sz bytes at offset from ip into the already-mapped pages at addr
// (page aligned). Returns 0, or -1 on a read error.
int loaduvm(pde_t *pgdir, char *addr, struct inode *ip, uint offset, uint sz) {
  uint i, pa, n;
  pte_t *pte;
  if ((uint)addr % PGSIZE != 0)
    panic("loaduvm: addr not page aligned");
  for (i = 0; i < sz; i += PGSIZE) {
    if ((pte = walkpgdir(pgdir, addr + i, 0)) == 0 || !(*pte & PTE_P))
      panic("loaduvm: page not mapped");
    pa = PTE_ADDR(*pte);
    n = sz - i < PGSIZE ? sz - i : PGSIZE;
    if (readi(ip, 0, P2V(pa), offset + i, n) != n)
      return -1;
  }
  return 0;
}

// Grow the user memory from oldsz to newsz with zeroed, writable pages.
// Returns newsz, or 0 (with nothing changed) if memory ran out.
int allocuvm(pde_t *pgdir, uint oldsz, uint newsz) {
  char *mem;
  uint a;
  if (newsz >= KERNBASE)
    return 0;
  if (newsz < oldsz)
    return oldsz;
  for (a = PGROUNDUP(oldsz); a < newsz; a += PGSIZE) {
    if ((mem = kalloc_as(OWNER_USER)) == 0)
      goto fail;
    memset(mem, 0, PGSIZE);
    if (mappages(pgdir, (char *)a, PGSIZE, V2P(mem), PTE_W | PTE_U) < 0) {
      kfree(mem);
      goto fail;
    }
  }
  return newsz;
fail:
  deallocuvm(pgdir, a, oldsz);
  return 0;
}

// Unmap and free the user pages in [newsz, oldsz). Returns newsz.
int deallocuvm(pde_t *pgdir, uint oldsz, uint newsz) {
  uint a;
  pte_t *pte;
  if (newsz >= oldsz)
    return oldsz;
  for (a = PGROUNDUP(newsz); (pte = next_pte(pgdir, &a, oldsz)) != 0; a += PGSIZE) {
    if (*pte & PTE_P) {
      kfree(P2V(PTE_ADDR(*pte)));
      *pte = 0;
    }
  }
  free_empty_pgtables(pgdir, PGROUNDUP(newsz), oldsz);
  return newsz;
}

// Free the page tables covering [start, end) that map nothing any more,
// so that unmapping memory also returns its page tables.
void free_empty_pgtables(pde_t *pgdir, uint start, uint end) {
  uint d, i;
  pte_t *pgtab;
  if (end <= start)
    return;
  for (d = PDX(start); d <= PDX(end - 1) && d < PDX(KERNBASE); d++) {
    if (!(pgdir[d] & PTE_P))
      continue;
    pgtab = (pte_t *)P2V(PTE_ADDR(pgdir[d]));
    for (i = 0; i < NPTENTRIES && pgtab[i] == 0; i++)
      ;
    if (i == NPTENTRIES) {
      pgdir[d] = 0;
      kfree((char *)pgtab);
    }
  }
}

// Free every user page, the user page tables and the directory itself.
void freevm(pde_t *pgdir) {
  uint i;
  if (pgdir == 0)
    panic("freevm: no pgdir");
  deallocuvm(pgdir, KERNBASE, 0);
  for (i = 0; i < PDX(KERNBASE); i++)
    if (pgdir[i] & PTE_P)
      kfree(P2V(PTE_ADDR(pgdir[i])));
  kfree((char *)pgdir);
}

// Make the page at uva inaccessible to user mode (the stack guard page).
void clearpteu(pde_t *pgdir, char *uva) {
  pte_t *pte = walkpgdir(pgdir, uva, 0);
  if (pte == 0)
    panic("clearpteu");
  *pte &= ~PTE_U;
}

// Share the present page *pte of a parent with its child: a writable
// page becomes copy-on-write in the parent (PTE_W off, PTE_COW on), and
// the page gains a reference for the child's PTE. Returns the flags the
// child's PTE gets. The caller flushes the parent's TLB.
uint cow_share(pte_t *pte) {
  if (*pte & (PTE_W | PTE_COW))
    *pte = (*pte & ~PTE_W) | PTE_COW;
  kref(P2V(PTE_ADDR(*pte)));
  return PTE_FLAGS(*pte);
}

// The parent's memory [0, sz) for a child, shared copy-on-write: no page
// is copied, each is copied when either side first writes it. Adds the
// number of pages shared to *shared. Returns 0 if memory (for page
// tables) ran out.
pde_t *copyuvm(pde_t *pgdir, uint sz, uint *shared) {
  pde_t *d;
  pte_t *pte;
  uint pa, flags, i;
  if ((d = setupkvm()) == 0)
    return 0;
  for (i = 0; i < sz; i += PGSIZE) {
    if ((pte = walkpgdir(pgdir, (void *)i, 0)) == 0 || !(*pte & PTE_P))
      panic("copyuvm: page not present");
    pa = PTE_ADDR(*pte);
    flags = cow_share(pte);
    if (mappages(d, (void *)i, PGSIZE, pa, flags & ~PTE_P) < 0) {
      kfree(P2V(pa));
      freevm(d);
      return 0;
    }
    (*shared)++;
  }
  return d;
}

// A write to the copy-on-write page at va (its PTE pte) of the current
// process p: if another process still holds the page, give p its own
// copy, else make the page writable again. owner says what the page is
// (OWNER_REGION, or OWNER_USER for text, data, stack and heap), for the
// trace; eip is where the user was (0: the kernel wrote). Returns 0, or
// FAULT_NOMEM.
int cow_fault(struct proc *p, uint va, pte_t *pte, int owner, uint eip) {
  uint pa = PTE_ADDR(*pte), flags = (PTE_FLAGS(*pte) | PTE_W) & ~PTE_COW;
  char *mem;
  // Only p could add a reference (by forking), and p is here: a count of
  // 1 stays 1. A count above 1 may drop meanwhile: then the copy was not
  // needed, but is still right.
  if (krefcount(P2V(pa)) == 1) {
    *pte = pa | flags;
    invlpg((void *)va);
    trace_emit(EV_COW_FAULT, va, pa, COW_REUSED, eip);
    return 0;
  }
  mem = owner == OWNER_REGION ? kalloc_untraced() : kalloc_as(owner);
  if (mem == 0)
    return FAULT_NOMEM;
  memmove(mem, P2V(pa), PGSIZE);
  *pte = V2P(mem) | flags;
  invlpg((void *)va);
  if (owner == OWNER_REGION) {
    kfree_unmapped(P2V(pa), va, p->pid);        // PAGE_UNMAP, or PAGE_DROP if last
    trace_emit(EV_PAGE_NEW, va, V2P(mem), p->pid, 0);
  } else {
    kfree(P2V(pa));
  }
  trace_emit(EV_COW_FAULT, va, V2P(mem), COW_COPIED, eip);
  return 0;
}

// Kernel address of the user page holding uva, or 0 if the page is not
// present and user-accessible.
char *uva2ka(pde_t *pgdir, char *uva) {
  pte_t *pte = walkpgdir(pgdir, uva, 0);
  if (pte == 0 || (*pte & (PTE_P | PTE_U)) != (PTE_P | PTE_U))
    return 0;
  return (char *)P2V(PTE_ADDR(*pte)) + ((uint)uva % PGSIZE);
}

// Copy len bytes from p to user address va in pgdir (which need not be
// the current one). Returns 0, or -1 if a page is not user-accessible.
int copyout(pde_t *pgdir, uint va, void *p, uint len) {
  char *buf = p, *pa0;
  uint n, va0;
  while (len > 0) {
    va0 = PGROUNDDOWN(va);
    if ((pa0 = uva2ka(pgdir, (char *)va0)) == 0)
      return -1;
    n = PGSIZE - (va - va0);
    if (n > len)
      n = len;
    memmove(pa0 + (va - va0), buf, n);
    len -= n;
    buf += n;
    va = va0 + PGSIZE;
  }
  return 0;
}
