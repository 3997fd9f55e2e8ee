"""Memory regions (mmap.c) and whole address spaces.

A process's regions are a singly linked list of struct region sorted by
start address (p->regions, p->nregions). The walk trusts nothing: it stops
after NREGION + 1 nodes, notices a node it has seen before, and checks that
every node lies in kernel memory and describes a page-aligned range above
the previous one. Whatever it read before a problem is still shown.
"""

import gdb

from .utils import (PGSIZE, Xv6Command, Xv6Error, constants, deref, flag_string, plural,
                    prot_string, size_string, table, u32)
from . import procs
from .pgtable import pagetable_of
from .utils import PTE_COW, PTE_P


class RegionList:
    """The outcome of walking one list: nodes as (address, struct region
    value) in list order, and the reason the walk stopped early, if any."""

    def __init__(self, nodes, problem):
        self.nodes = nodes
        self.problem = problem


def node_problem(r, prev_end, kernbase):
    """Why node r cannot be part of a sorted list of user regions, or None."""
    start, end = u32(r["start"]), u32(r["end"])
    if start % PGSIZE or end % PGSIZE:
        return f"range [0x{start:08x}, 0x{end:08x}) is not page aligned"
    if start >= end:
        return f"range [0x{start:08x}, 0x{end:08x}) is empty or reversed"
    if end > kernbase:
        return f"range [0x{start:08x}, 0x{end:08x}) reaches into the kernel"
    if start < prev_end:
        return (f"range [0x{start:08x}, 0x{end:08x}) starts below the end of the "
                f"previous region (0x{prev_end:08x}): list not sorted, or regions overlap")
    return None


def walk_regions(head):
    """Walk the list starting at address head (a struct region *)."""
    limit = constants["NREGION"] + 1
    kernbase = constants["KERNBASE"]
    nodes, seen = [], {}
    addr, prev_end = head, 0
    while addr:
        where = f"region node {len(nodes)} at 0x{addr:08x}"
        if addr in seen:
            return RegionList(nodes, f"the list loops: {where} is node {seen[addr]} again")
        if len(nodes) >= limit:
            return RegionList(nodes, f"gave up after {limit} nodes, more than NREGION "
                                     f"({limit - 1}) allows: corrupt list?")
        if addr < kernbase:
            return RegionList(nodes, f"{where}: not a kernel address (bad next pointer)")
        try:
            r = deref(addr, "struct region", f"region node {len(nodes)}")
        except Xv6Error as e:
            return RegionList(nodes, f"{e}: bad next pointer")
        problem = node_problem(r, prev_end, kernbase)
        if problem:
            return RegionList(nodes, f"{where}: {problem}")
        seen[addr] = len(nodes)
        nodes.append((addr, r))
        prev_end = u32(r["end"])
        addr = u32(r["next"])
    return RegionList(nodes, None)


def proc_regions(p):
    return walk_regions(u32(p["regions"]))


def c_string(chars):
    """A char array as text, up to its first NUL."""
    raw = bytes(int(chars[i]) & 0xFF for i in range(chars.type.sizeof)).split(b"\0", 1)[0]
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in raw)


def file_string(r):
    """A file region's file and offset, 'ino 5 data.txt +0x1000' (as pmap
    prints it), or '-' for an anonymous region."""
    pc = u32(r["pc"])
    if not pc:
        return "-"
    cache = deref(pc, "struct pagecache", "page cache")
    ip = deref(u32(cache["ip"]), "struct inode", "the page cache's inode")
    return (f"ino {int(ip['inum'])} {c_string(cache['name']) or '?'} "
            f"+0x{u32(r['pgoff']) * PGSIZE:x}")


def resident_string(pt, start, end, errors):
    """'present/total' pages of [start, end); '?' and a note in errors if the
    page table cannot be read."""
    total = (end - start + PGSIZE - 1) // PGSIZE
    try:
        return f"{pt.resident(start, end)}/{total}"
    except Xv6Error as e:
        if str(e) not in errors:
            errors.append(str(e))
        return f"?/{total}"


def report_list_problems(p, walk):
    """Warnings after a table: the walk's problem, a count mismatch. A damaged
    list is a finding about the kernel, printed after what could be read, not a
    failed command (a GdbError would hide the table in a script's output)."""
    nregions = int(p["nregions"])
    holder = procs.lock_holder(p["regionlock"])
    if holder:
        gdb.write(f"note: p->regionlock is held by {holder}: the list may be changing\n")
    if walk.problem:
        gdb.write(f"xv6: {procs.describe(p)}: region list: {walk.problem}\n")
        return
    if len(walk.nodes) != nregions:
        gdb.write(f"note: the list has {len(walk.nodes)} regions but p->nregions is "
                  f"{nregions} (list being changed right now?)\n")


class Regions(Xv6Command):
    """Walk a process's mmap region list: xv6 regions [PID] (default: this CPU's process).

Usage: xv6 regions [PID]
One line per node of p->regions, in list order: the range, its length,
PROT (rwx), FLAGS (MAP_ names), RESIDENT (pages present in the page
table / pages in the region), SHM (the shared object and the page index
of the region's start in it), FILE (a file region's inode number, the
name it was opened by and the file offset of its start; `xv6 pagecache`
shows the file's cached pages) and NODE (the struct region's address).
A damaged list (a loop, a bad pointer, a bad range, more than NREGION
nodes) ends the walk with one line saying what is wrong."""

    NAME = "regions"
    USAGE = "[PID]"

    def run(self, argv):
        p = procs.proc_from_args(argv, self.usage)
        walk = proc_regions(p)
        pt = pagetable_of(p)
        errors = []
        rows = []
        for addr, r in walk.nodes:
            start, end = u32(r["start"]), u32(r["end"])
            shm = u32(r["shm"])
            rows.append([f"0x{start:08x}", f"0x{end:08x}", f"0x{end - start:x}",
                         prot_string(int(r["prot"])), flag_string(int(r["flags"])),
                         resident_string(pt, start, end, errors),
                         f"0x{shm:08x}+{u32(r['shmoff'])}" if shm else "-",
                         file_string(r), f"0x{addr:08x}"])
        gdb.write(f"{procs.describe(p)}: {plural(len(walk.nodes), 'region')}\n")
        if rows:
            gdb.write(table(["START", "END", "LENGTH", "PROT", "FLAGS", "RESIDENT", "SHM",
                             "FILE", "NODE"], rows, right=("LENGTH", "RESIDENT")))
        for e in errors:
            gdb.write(f"note: resident pages unknown: {e}\n")
        report_list_problems(p, walk)


def address_space(p, walk):
    """The mappings getmaps() reports, in its order: (start, end, kind,
    prot, flags) for text/data, guard and stack (if the process has a
    stack), heap, then each region of walk."""
    c = constants
    rw = c["PROT_READ"] | c["PROT_WRITE"]
    textend, stackbase = u32(p["textend"]), u32(p["stackbase"])
    out = [(0, textend, "text", rw | c["PROT_EXEC"], 0)]
    if stackbase:
        out.append((textend, stackbase, "guard", c["PROT_NONE"], 0))
        out.append((stackbase, stackbase + PGSIZE, "stack", rw, 0))
    out.append((u32(p["heapbase"]), u32(p["sz"]), "heap", rw, 0))
    for _, r in walk.nodes:
        out.append((u32(r["start"]), u32(r["end"]), "region", int(r["prot"]), int(r["flags"])))
    return out


def mapping_at(p, va):
    """The mapping of p that holds va, as text ('region [...) rw- private'), or None."""
    for start, end, kind, prot, flags in address_space(p, proc_regions(p)):
        if start <= va < end:
            extra = " " + flag_string(flags) if kind == "region" else ""
            return f"{kind} [0x{start:08x}, 0x{end:08x}) {prot_string(prot)}{extra}"
    return None


class Vmmap(Xv6Command):
    """Show a whole address space like pmap: text, guard, stack, heap, regions: xv6 vmmap [PID].

Usage: xv6 vmmap [PID]
The mappings getmaps() reports, in the same order: text and data
[0, textend), the guard page, the stack page, the heap [heapbase, sz),
then each region; with the pages present in the page table, and of those
the ones shared copy-on-write since a fork (COW: the first write copies
them if another process still holds them; `xv6 pte` shows a page's
reference count), and for a file region its file (as `xv6 regions`)."""

    NAME = "vmmap"
    USAGE = "[PID]"

    def run(self, argv):
        p = procs.proc_from_args(argv, self.usage)
        walk = proc_regions(p)
        pt = pagetable_of(p)
        errors = []
        rows = []
        present = total = 0
        files = {u32(r["start"]): file_string(r) for _, r in walk.nodes}
        for start, end, kind, prot, flags in address_space(p, walk):
            res = resident_string(pt, start, end, errors)
            n, pages = res.split("/")
            present += int(n) if n != "?" else 0
            total += int(pages)
            cow = "?" if res.startswith("?") else str(pt.resident(start, end, PTE_P | PTE_COW))
            rows.append([f"0x{start:08x}", f"0x{end:08x}", size_string(end - start),
                         prot_string(prot), kind,
                         flag_string(flags), res, cow,
                         files.get(start, "-") if kind == "region" else "-"])
        gdb.write(f"{procs.describe(p)}: {len(rows)} mappings, {present} of {total} pages "
                  f"resident\n")
        gdb.write(table(["START", "END", "SIZE", "PROT", "KIND", "FLAGS", "RESIDENT", "COW",
                         "FILE"], rows, right=("SIZE", "RESIDENT", "COW")))
        for e in errors:
            gdb.write(f"note: resident pages unknown: {e}\n")
        report_list_problems(p, walk)


Regions()
Vmmap()
