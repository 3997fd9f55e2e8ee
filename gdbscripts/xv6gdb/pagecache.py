"""The page cache of mapped files (pagecache.c): xv6 pagecache.

pcaches[] holds one struct pagecache per mapped file (ip != 0): the inode
it keeps alive, the regions using it (ref) and page[i], the physical
address of the file's page i (0 if not cached) with PC_DIRTY in its low
bit once a store has been handed over for write-back. Which processes map
a page is found the way the kernel would: through each process's file
regions and their page tables.
"""

import gdb

from .utils import (PGSIZE, Xv6Command, Xv6Error, array_length, constants, deref, parse_int,
                    plural, symbol, table, u32)
from . import procs
from .pgtable import ADDR_MASK, page_refs, pagetable_of
from .regions import c_string, proc_regions

PTE_D = 0x40    # the CPU's dirty bit (x86), not a kernel #define


def live_caches():
    """(address, struct pagecache) of every cache in use."""
    caches = symbol("pcaches")
    out = []
    for i in range(array_length(caches)):
        if u32(caches[i]["ip"]):
            out.append((u32(caches[i].address), caches[i]))
    return out


def mappers(cache_addr):
    """{file page index: [(pid, va, dirty PTE)]} over every live process's
    regions that use the cache at cache_addr."""
    out = {}
    for p in procs.live_procs():
        if not u32(p["pgdir"]):
            continue
        pt = pagetable_of(p)
        for _, r in proc_regions(p).nodes:
            if u32(r["pc"]) != cache_addr:
                continue
            start, end, pgoff = u32(r["start"]), u32(r["end"]), u32(r["pgoff"])
            for va in range(start, end, PGSIZE):
                pte = pt.pte(va)
                if pte is not None and pte & 1:
                    idx = pgoff + (va - start) // PGSIZE
                    out.setdefault(idx, []).append((int(p["pid"]), va, pte))
    return out


def page_rows(cache, maps):
    rows = []
    dirty_bit = constants["PC_DIRTY"]
    for i in range(array_length(cache["page"])):
        entry = u32(cache["page"][i])
        if not entry:
            continue
        pa = entry & ADDR_MASK
        users = [(pid, va, pte) for pid, va, pte in maps.get(i, ()) if pte & ADDR_MASK == pa]
        # Dirty: handed over already (PC_DIRTY), or a shared mapping's PTE says so.
        dirty = "yes" if entry & dirty_bit else (
            "in PTE" if any(pte & PTE_D for _, _, pte in users) else "-")
        who = ", ".join(f"{pid}@0x{va:08x}" for pid, va, _ in users) or "-"
        refs = page_refs(pa)
        rows.append([str(i), f"0x{i * PGSIZE:x}", f"0x{pa:08x}",
                     "?" if refs is None else str(refs), dirty, who])
    return rows


class Pagecache(Xv6Command):
    """List the page cache of mapped files: xv6 pagecache [INUM].

Usage: xv6 pagecache [INUM]
For each mapped file (or only inode INUM): its inode number, the name it
was opened by, its size, how many regions use the cache; then one line per
cached page: PAGE (index in the file), OFFSET, PA, REFS (kalloc's
reference count: the cache's own, plus one per PTE mapping it), DIRTY
('yes': stores handed over for write-back; 'in PTE': a shared mapping's
PTE dirty bit is set, handed over at the next msync, munmap or exit; '-':
clean) and MAPPED BY (pid@address of every present mapping of the page;
a private mapping that wrote has its own copy instead)."""

    NAME = "pagecache"
    USAGE = "[INUM]"

    def run(self, argv):
        if len(argv) > 1:
            raise Xv6Error(f"usage: xv6 {self.NAME} {self.USAGE}")
        want = parse_int(argv[0], "inode number") if argv else None
        caches = [(a, c) for a, c in live_caches()
                  if want is None or int(deref(u32(c["ip"]), "struct inode", "inode")["inum"])
                  == want]
        if not caches:
            gdb.write("no file is mapped\n" if want is None else
                      f"inode {want} is not mapped (no page cache)\n")
            return
        for addr, c in caches:
            ip = deref(u32(c["ip"]), "struct inode", "the page cache's inode")
            rows = page_rows(c, mappers(addr))
            gdb.write(f"inode {int(ip['inum'])} ({c_string(c['name']) or '?'}), "
                      f"{u32(ip['size'])} bytes, {plural(int(c['ref']), 'region')}, "
                      f"{len(rows)} of {array_length(c['page'])} pages cached "
                      f"(struct pagecache at 0x{addr:08x})\n")
            if rows:
                gdb.write(table(["PAGE", "OFFSET", "PA", "REFS", "DIRTY", "MAPPED BY"], rows,
                                right=("PAGE", "REFS")))


Pagecache()
