"""Kernel memory: the page allocator (kalloc.c) and kmalloc (kmalloc.c).

`xv6 mem` reads kmem's counters. `xv6 kmalloc` reads the size classes
(kmclasses[]) field by field from the debug info, so it follows the struct
as it is; a free list (a pointer field named free...) is walked for at most
MAX_WALK nodes with cycle detection.
"""

import gdb

from .utils import (PGSIZE, Xv6Command, Xv6Error, array_length, fetch, has_symbol,
                    read_u32, symbol, table, u32)

MAX_WALK = 4096          # free-list nodes counted per class, at most


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


def count_list(head, limit=MAX_WALK):
    """Nodes of a list linked through each node's first word: (count, problem)."""
    seen = set()
    addr = head
    while addr:
        if addr in seen:
            return len(seen), f"loops back to 0x{addr:08x}"
        if len(seen) >= limit:
            return len(seen), f"stopped counting after {limit}"
        seen.add(addr)
        try:
            addr = read_u32(addr, "free-list node")
        except Xv6Error as e:
            return len(seen), str(e)
    return len(seen), None


def scalar(value):
    code = value.type.strip_typedefs().code
    if code in (gdb.TYPE_CODE_INT, gdb.TYPE_CODE_ENUM, gdb.TYPE_CODE_BOOL, gdb.TYPE_CODE_CHAR):
        return str(int(value))
    if code == gdb.TYPE_CODE_PTR:
        return f"0x{u32(value):08x}"
    return None


class Kmalloc(Xv6Command):
    """Kernel object allocator: per-size-class statistics and free lists (kmalloc.c)."""

    NAME = "kmalloc"
    CLASSES = "kmclasses"

    def run(self, argv):
        if argv:
            self.usage()
        if not has_symbol(self.CLASSES):
            raise Xv6Error(f"no kmalloc statistics: the kernel has no symbol '{self.CLASSES}' "
                           "(kmalloc.c is not part of this kernel; kmalloc falls back to "
                           "whole pages)")
        classes = symbol(self.CLASSES)
        fields = [f.name for f in classes[0].type.strip_typedefs().fields()]
        header = ["CLASS"] + fields
        rows, problems = [], []
        for i in range(array_length(classes)):
            c = classes[i]
            row = [str(i)]
            for name in fields:
                text = scalar(c[name])
                if text is None:
                    text = "..."
                elif name.startswith("free") and c[name].type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
                    n, problem = count_list(u32(c[name]))
                    text = f"{n} nodes"
                    if problem:
                        problems.append(f"class {i} {name}: {problem}")
                row.append(text)
            rows.append(row)
        gdb.write(table(header, rows, right=header))
        for p in problems:
            gdb.write(f"note: {p}\n")


Mem()
Kmalloc()
