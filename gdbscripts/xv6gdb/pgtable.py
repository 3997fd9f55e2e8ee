"""Page tables: translate a user address, list a process's user mappings.

32-bit x86 paging: the page directory (p->pgdir, a kernel virtual address)
holds 1024 PDEs; a present PDE gives the physical address of a page table
of 1024 PTEs (or, with PS, a 4 MiB page). The kernel maps all physical
memory at KERNBASE, so a page table at physical address pa is read at
pa + KERNBASE.
"""

import gdb

from .utils import (PGSIZE, PTE_COW, PTE_P, PTE_PS, PTE_U, PTE_W, Xv6Command, Xv6Error, constants,
                    parse_int, read_u32s, table, u32)
from . import procs

NENTRIES = 1024
ADDR_MASK = 0xFFFFF000

_FLAG_NAMES = ((0x001, "P"), (0x002, "W"), (0x004, "U"), (0x008, "PWT"), (0x010, "PCD"),
               (0x020, "A"), (0x040, "D"), (0x080, "PS"), (0x100, "G"),
               (0x200, "COW"))  # PTE_COW, a software bit: shared copy-on-write


def flag_names(entry, pde=False):
    """'P W U A' for the flag bits of a PDE or PTE (bit 7 is PS in a PDE)."""
    return " ".join(name for bit, name in _FLAG_NAMES
                    if entry & bit and (pde or name != "PS")) or "-"


def page_refs(pa):
    """kalloc.c's reference count of the page at pa, or None if unreadable."""
    try:
        return int(gdb.parse_and_eval(f"kmem.ref[{pa >> 12}]"))
    except gdb.error:
        return None


def pdx(va):
    return (va >> 22) & 0x3FF


def ptx(va):
    return (va >> 12) & 0x3FF


class PageTable:
    """The page table rooted at pgdir (a kernel virtual address). Each
    directory or table page is read once, when first needed."""

    def __init__(self, pgdir):
        self.pgdir = pgdir
        self.kernbase = constants["KERNBASE"]
        self._pd = None
        self._pts = {}

    def p2v(self, pa):
        return (pa + self.kernbase) & 0xFFFFFFFF

    def pdes(self):
        if self._pd is None:
            if self.pgdir == 0:
                raise Xv6Error("the process has no page directory (pgdir is 0)")
            self._pd = read_u32s(self.pgdir, NENTRIES, "page directory")
        return self._pd

    def pde(self, va):
        return self.pdes()[pdx(va)]

    def ptes(self, index):
        """The 1024 PTEs under PDE index, or None if that PDE is not present
        or maps a 4 MiB page."""
        pde = self.pdes()[index]
        if not pde & PTE_P or pde & PTE_PS:
            return None
        if index not in self._pts:
            self._pts[index] = read_u32s(self.p2v(pde & ADDR_MASK), NENTRIES,
                                         f"page table of PDE[{index}]")
        return self._pts[index]

    def pte(self, va):
        ptes = self.ptes(pdx(va))
        return None if ptes is None else ptes[ptx(va)]

    def translate(self, va):
        """Physical address of va, or None if it is not mapped."""
        pde = self.pde(va)
        if not pde & PTE_P:
            return None
        if pde & PTE_PS:
            return (pde & 0xFFC00000) | (va & 0x3FFFFF)
        pte = self.pte(va)
        if pte is None or not pte & PTE_P:
            return None
        return (pte & ADDR_MASK) | (va & 0xFFF)

    def resident(self, start, end, need=PTE_P):
        """Pages in [start, end) whose PTE has the bits need (present, or
        present and copy-on-write)."""
        n = 0
        va = start & ADDR_MASK
        while va < end:
            pde = self.pde(va)
            if not pde & PTE_P:
                va = ((pdx(va) + 1) << 22) & 0xFFFFFFFF
                if va == 0:
                    break
                continue
            if pde & PTE_PS:
                n += need == PTE_P
            elif self.pte(va) & need == need:
                n += 1
            va += PGSIZE
        return n

    def user_pages(self):
        """(va, pte) of every present page below KERNBASE, in address order.
        A 4 MiB page is reported as its 1024 pages."""
        for index in range(pdx(self.kernbase)):
            pde = self.pdes()[index]
            if not pde & PTE_P:
                continue
            if pde & PTE_PS:
                base = pde & 0xFFC00000
                for i in range(NENTRIES):
                    yield (index << 22) | (i << 12), (base + i * PGSIZE) | (pde & 0xFFF)
                continue
            for i, pte in enumerate(self.ptes(index)):
                if pte & PTE_P:
                    yield (index << 22) | (i << 12), pte


def pagetable_of(p):
    return PageTable(u32(p["pgdir"]))


def runs(pages):
    """Group (va, pte) pairs into runs of consecutive pages with the same
    W/U bits: [start, end, flags, first pa, physically contiguous?]."""
    out = []
    for va, pte in pages:
        pa = pte & ADDR_MASK
        key = pte & (PTE_P | PTE_W | PTE_U)
        last = out[-1] if out else None
        if last and last[1] == va and last[2] == key:
            last[4] = last[4] and pa == last[3] + (va - last[0])
            last[1] = va + PGSIZE
        else:
            out.append([va, va + PGSIZE, key, pa, True])
    return out


class Pte(Xv6Command):
    """Translate a user address: xv6 pte [PID] VA shows PDE, PTE, flags, physical address.

Usage: xv6 pte [PID] VA
VA may be any expression (0x40001000, $esp, tf->eip). Shows the page
directory entry and page table entry that map VA (address and value),
their flag bits, the physical address, and which mapping of the process
(text, guard, stack, heap or a region) holds VA."""

    NAME = "pte"
    USAGE = "[PID] VA"

    def run(self, argv):
        if len(argv) == 2:
            p = procs.find_proc(parse_int(argv[0], "pid"))
        elif len(argv) == 1:
            p = procs.current_proc()
        else:
            self.usage()
        va = parse_int(argv[-1], "address") & 0xFFFFFFFF
        pt = pagetable_of(p)
        gdb.write(f"{procs.describe(p)}: va 0x{va:08x}, pgdir 0x{pt.pgdir:08x}\n")
        for line in self.walk(pt, va):
            gdb.write(f"  {line}\n")
        # Imported here: regions imports this module.
        from .regions import mapping_at
        mapping = mapping_at(p, va)
        gdb.write(f"  mapping: {mapping or 'none (the address is in no mapping)'}\n")

    @staticmethod
    def walk(pt, va):
        """The lines describing each step of translating va."""
        pde = pt.pde(va)
        yield (f"PDE[{pdx(va)}] at 0x{pt.pgdir + 4 * pdx(va):08x} = 0x{pde:08x}  "
               f"{flag_names(pde, pde=True)}")
        if not pde & PTE_P:
            yield "not present: no page table covers this address"
            return
        if pde & PTE_PS:
            yield f"4 MiB page: va 0x{va:08x} -> pa 0x{pt.translate(va):08x}"
            return
        pte = pt.pte(va)
        yield (f"PTE[{ptx(va)}] at 0x{pt.p2v(pde & ADDR_MASK) + 4 * ptx(va):08x} = "
               f"0x{pte:08x}  {flag_names(pte)}")
        if not pte & PTE_P:
            yield "not present: the page is not mapped"
            return
        if pte & PTE_U and pte & PTE_COW:
            access = "user read/write, copy-on-write: the next write copies it if shared"
        elif pte & PTE_U:
            access = "user read/write" if pte & PTE_W else "user read-only"
        else:
            access = "kernel only"
        pa = pt.translate(va)
        yield f"va 0x{va:08x} -> pa 0x{pa:08x} ({access})"
        refs = page_refs(pa)
        if refs is not None:
            yield f"page 0x{pa & ADDR_MASK:08x}: {refs} reference(s) (mappings and holders)"


class Pgtable(Xv6Command):
    """List a process's user page mappings, compressed into runs: xv6 pgtable [PID].

Usage: xv6 pgtable [PID]
Every present page below KERNBASE, consecutive pages with the same
P/W/U bits merged into one line. FIRST PA is the physical address of
the run's first page; '(scattered)' means the run is not physically
contiguous."""

    NAME = "pgtable"
    USAGE = "[PID]"

    def run(self, argv):
        p = procs.proc_from_args(argv, self.usage)
        pt = pagetable_of(p)
        grouped = runs(pt.user_pages())
        tables = sum(1 for i in range(pdx(pt.kernbase)) if pt.pdes()[i] & PTE_P)
        pages = sum((end - start) // PGSIZE for start, end, *_ in grouped)
        gdb.write(f"{procs.describe(p)}: pgdir 0x{pt.pgdir:08x}, {tables} user page "
                  f"table(s), {pages} user pages present\n")
        rows = []
        for start, end, flags, pa, contiguous in grouped:
            rows.append([f"0x{start:08x}", f"0x{end:08x}", str((end - start) // PGSIZE),
                         flag_names(flags),
                         f"0x{pa:08x}" + ("" if contiguous or end - start == PGSIZE
                                          else " (scattered)")])
        gdb.write(table(["START", "END", "PAGES", "FLAGS", "FIRST PA"], rows, right=("PAGES",)))


Pte()
Pgtable()
