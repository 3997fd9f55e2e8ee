"""Kernel memory: the page allocator (kalloc.c) and kmalloc (kmalloc.c).

`xv6 mem` reads kmem's counters. `xv6 kmalloc` reads the size classes,
kmclasses[], and the CPUs' slots, kmcpus[]. A class keeps its slab pages
with free objects on a partial list (struct slab, linked by next) and at
most one cached empty slab; full slabs are on no list, so they are
counted, not walked. Each slab has its own free list of object indices
(freehead, then the first two bytes of each free object, up to
FREE_END). Each CPU keeps per class a hot object (off its slab's free
list, but free) and its counts of allocations, frees and bytes, which
are summed over the CPUs. The walks are bounded (a class has at most
c->pages slabs, a slab at most perslab free objects) and notice loops,
so a damaged or half-updated allocator gives notes, not a hang.
"""

import gdb

from .utils import (PGSIZE, Xv6Command, Xv6Error, array_length, constants, deref, fetch,
                    has_symbol, parse_int, plural, read_bytes, symbol, table, u32)
from . import procs


class Mem(Xv6Command):
    """Physical pages: free, in use and total (kalloc.c's kmem)."""

    NAME = "mem"

    def run(self, argv):
        if argv:
            self.usage()
        kmem = symbol("kmem")
        nfree = u32(fetch(kmem["nfree"], "kmem.nfree"))
        ntotal = u32(fetch(kmem["ntotal"], "kmem.ntotal"))
        used = ntotal - nfree if ntotal >= nfree else 0
        mib = PGSIZE / (1 << 20)
        gdb.write(f"pages: {ntotal} total ({ntotal * mib:.1f} MiB), {nfree} free "
                  f"({nfree * mib:.1f} MiB), {used} in use ({used * mib:.1f} MiB)\n")
        if ntotal == 0:
            gdb.write("note: the page allocator has no pages yet (stopped before kinit1?)\n")
        elif nfree > ntotal:
            gdb.write("note: nfree > ntotal: kmem is inconsistent (or being changed)\n")


# ---- walking the allocator ---------------------------------------------

class Slab:
    """One slab page as read from memory, with its free list walked."""

    def __init__(self, addr, value, listname):
        self.addr = addr
        self.value = value
        self.list = listname     # "partial" or "empty"
        self.nfree = int(value["nfree"])
        self.free = []           # indices on the free list, in order
        self.problem = None


def walk_freelist(slab, cls):
    """Follow slab's free list of object indices: each must be below
    perslab and appear once."""
    size, hdr, perslab = u32(cls["size"]), u32(cls["hdrsize"]), u32(cls["perslab"])
    end = constants["FREE_END"]
    seen = set()
    index = int(slab.value["freehead"])
    while index != end:
        if index in seen:
            slab.problem = f"free list loops at object {index}"
            return
        if index >= perslab:
            slab.problem = f"free list holds object {index}, but a slab has {perslab}"
            return
        seen.add(index)
        slab.free.append(index)
        try:
            link = read_bytes(slab.addr + hdr + index * size, 2, "free object")
        except Xv6Error as e:
            slab.problem = str(e)
            return
        index = int.from_bytes(link, "little")
    if len(slab.free) != slab.nfree:
        slab.problem = f"nfree is {slab.nfree} but the free list has {len(slab.free)} objects"


def read_slab(addr, index, listname, problems):
    """The slab at addr, checked to be a slab of class index, or None."""
    where = f"class {index} {listname} slab 0x{addr:08x}"
    if addr % PGSIZE:
        problems.append(f"{where}: not page aligned (bad pointer)")
        return None
    try:
        value = deref(addr, "struct slab", f"slab of class {index}")
    except Xv6Error as e:
        problems.append(f"class {index} {listname} list: {e}")
        return None
    magic = constants.get("SLAB_MAGIC")
    if magic is not None and u32(value["magic"]) != magic:
        problems.append(f"{where}: magic is 0x{u32(value['magic']):08x}, not a slab")
        return None
    if int(value["cls"]) != index:
        problems.append(f"{where}: belongs to class {int(value['cls'])}")
        return None
    return value


def class_slabs(cls, index, problems):
    """The slabs of a class that can be reached: the partial list, then
    the cached empty slab."""
    ntotal = u32(symbol("kmem")["ntotal"])
    limit = min(u32(cls["pages"]), ntotal) + 1
    slabs, seen = [], set()
    addr = u32(cls["partial"])
    while addr:
        if addr in seen:
            problems.append(f"class {index} partial list loops at slab 0x{addr:08x}")
            break
        if len(slabs) >= limit:
            problems.append(f"class {index} partial list: more slabs than c->pages allows")
            break
        value = read_slab(addr, index, "partial", problems)
        if value is None:
            break
        seen.add(addr)
        slabs.append(Slab(addr, value, "partial"))
        addr = u32(value["next"])
    empty = u32(cls["empty"])
    if empty:
        value = read_slab(empty, index, "empty", problems)
        if value is not None:
            slabs.append(Slab(empty, value, "empty"))
    for slab in slabs:
        walk_freelist(slab, cls)
        if slab.problem:
            problems.append(f"class {index} {slab.list} slab 0x{slab.addr:08x}: {slab.problem}")
    return slabs


class Counts:
    """A class's counters, summed over the CPUs' slots (mod 2^32, as the
    kernel sums them), and its hot objects as (cpu, address)."""

    def __init__(self, index):
        cpus = fetch(symbol("kmcpus"), "kmcpus")
        self.allocs = self.frees = self.bytes = 0
        self.hot = []
        for cpu in range(array_length(cpus)):
            slot = cpus[cpu]["cls"][index]
            self.allocs += u32(slot["allocs"])
            self.frees += u32(slot["frees"])
            self.bytes += u32(slot["bytes"])
            if u32(slot["hot"]):
                self.hot.append((cpu, u32(slot["hot"])))
        self.allocs &= 0xFFFFFFFF
        self.frees &= 0xFFFFFFFF
        self.bytes &= 0xFFFFFFFF
        self.objects = (self.allocs - self.frees) & 0xFFFFFFFF


def full_slabs(cls, slabs):
    """Slabs on no list: those c->pages counts beyond the ones reached."""
    return u32(cls["pages"]) - len(slabs)


def check_class(cls, index, slabs, counts, problems):
    """Compare the class's counters with its slabs: the objects not on a
    free list are the live ones and the hot ones."""
    perslab = u32(cls["perslab"])
    full = full_slabs(cls, slabs)
    if full < 0:
        problems.append(f"class {index}: c->pages is {u32(cls['pages'])} but {len(slabs)} "
                        "slabs are on its lists")
        return
    taken = sum(perslab - s.nfree for s in slabs) + full * perslab
    if taken != counts.objects + len(counts.hot):
        problems.append(f"class {index}: the CPUs count {counts.objects} live and "
                        f"{len(counts.hot)} hot objects but its slabs hold {taken} objects "
                        "off their free lists")
    for s in slabs:
        ok = 0 < s.nfree < perslab if s.list == "partial" else s.nfree == perslab
        if not ok:
            problems.append(f"class {index}: slab 0x{s.addr:08x} with {s.nfree} free of "
                            f"{perslab} is the {s.list} slab")


def classes():
    if not has_symbol("kmclasses"):
        raise Xv6Error("no kmalloc statistics: the kernel has no symbol 'kmclasses' "
                       "(kmalloc.c is not part of this kernel)")
    return fetch(symbol("kmclasses"), "kmclasses")


class Kmalloc(Xv6Command):
    """Kernel object allocator: per-size-class statistics and free lists (kmalloc.c).

Usage: xv6 kmalloc          one line per size class
       xv6 kmalloc CLASS    the CPUs' hot objects of one class, and its
                            partial and empty slabs with their free lists
OBJECTS, BYTES, ALLOCS and FREES are summed over the CPUs (kmcpus[]).
SLABS is c->pages: PARTIAL slabs (on the partial list), the cached EMPTY
one, and FULL ones (on no list: the rest). FREE is the objects on the
free lists of the partial and empty slabs; HOT the CPUs' hot objects,
free but on no free list. LOCK names the CPU holding the class lock
(its lists may be half-updated then). Counters that disagree with what
the lists hold are reported as notes."""

    NAME = "kmalloc"
    USAGE = "[CLASS]"

    def run(self, argv):
        if len(argv) > 1:
            self.usage()
        kmclasses = classes()
        if argv:
            index = parse_int(argv[0], "class")
            if not 0 <= index < array_length(kmclasses):
                raise Xv6Error(f"no class {index}: classes are 0..{array_length(kmclasses) - 1}")
            self.one_class(kmclasses[index], index)
            return
        rows, problems = [], []
        totals = [0, 0, 0]
        for i in range(array_length(kmclasses)):
            c = kmclasses[i]
            counts = Counts(i)
            slabs = class_slabs(c, i, problems)
            check_class(c, i, slabs, counts, problems)
            partial = sum(1 for s in slabs if s.list == "partial")
            pages = u32(c["pages"])
            totals = [totals[0] + counts.objects, totals[1] + counts.bytes, totals[2] + pages]
            rows.append([str(i), str(u32(c["size"])), str(u32(c["perslab"])),
                         str(counts.objects), str(counts.bytes), str(pages), str(partial),
                         str(full_slabs(c, slabs)), str(len(slabs) - partial),
                         str(sum(s.nfree for s in slabs)), str(len(counts.hot)),
                         str(counts.allocs), str(counts.frees),
                         procs.lock_holder(c["lock"]) or "-"])
        gdb.write(f"kmalloc: {len(rows)} classes; {totals[0]} live objects, {totals[1]} bytes "
                  f"requested, {totals[2]} slab pages\n")
        header = ["CLASS", "SIZE", "PERSLAB", "OBJECTS", "BYTES", "SLABS", "PARTIAL", "FULL",
                  "EMPTY", "FREE", "HOT", "ALLOCS", "FREES", "LOCK"]
        gdb.write(table(header, rows, right=header[:-1]))
        for p in problems:
            gdb.write(f"note: {p}\n")

    def one_class(self, c, index):
        problems = []
        counts = Counts(index)
        slabs = class_slabs(c, index, problems)
        check_class(c, index, slabs, counts, problems)
        perslab, size, hdr = u32(c["perslab"]), u32(c["size"]), u32(c["hdrsize"])
        gdb.write(f"class {index}: {size}-byte objects, {perslab} per slab, "
                  f"{counts.objects} live, {plural(u32(c['pages']), 'slab page')} "
                  f"({max(full_slabs(c, slabs), 0)} full, on no list)\n")
        hot = ", ".join(f"cpu{cpu} 0x{addr:08x}" for cpu, addr in counts.hot)
        gdb.write(f"hot objects: {hot or 'none'}\n")
        rows = []
        for s in slabs:
            first = ", ".join(f"0x{s.addr + hdr + i * size:08x}" for i in s.free[:3])
            more = f" +{len(s.free) - 3}" if len(s.free) > 3 else ""
            hot = sum(1 for _, addr in counts.hot if addr - addr % PGSIZE == s.addr)
            rows.append([f"0x{s.addr:08x}", s.list, str(perslab - s.nfree - hot), str(hot),
                         str(s.nfree), (first + more) or "-"])
        if rows:
            gdb.write(table(["SLAB", "LIST", "USED", "HOT", "FREE", "FREE LIST"], rows,
                            right=("USED", "HOT", "FREE")))
        for p in problems:
            gdb.write(f"note: {p}\n")


Mem()
Kmalloc()
