"""Synthetic captures for tests and benchmarks.

SynthKernel is a small model of the kernel's memory bookkeeping: it keeps
processes, regions, shared objects and a page allocator, and for every
operation writes the records the real kernel writes (docs/trace.md), compound
ones (fault_map, page_new, page_drop) and copy-on-write fork included, in the
same order, through xvtrace's Capture writer. A trace it writes replays
cleanly: the checker passes on it.

    k = SynthKernel()
    sh = k.spawn(k.init, "sh")
    a = k.mmap(sh, 4)
    k.touch(sh, a)
    data = k.to_bytes()

story() is the demo's story (xv6/user/demo.c) with made-up timing;
workload(n) is a busy random run of about n events, for bench.py.

    python3 -m viz.synth story FILE        the story as a capture (no QEMU needed)
    python3 -m viz.synth workload N FILE   a busy run of about N events
"""

import random
import sys
from dataclasses import dataclass, field

from xvtrace.writer import Capture

from hostlib.kconst import kernel as K
from xvtrace.decode import COMPOUNDS

PAGE = K["PGSIZE"]
KERNBASE = K["KERNBASE"]
MMAPTOP = K["MMAPTOP"]
PROT_READ, PROT_WRITE, MAP_SHARED = K["PROT_READ"], K["PROT_WRITE"], K["MAP_SHARED"]
MAP_PRIVATE_ANON = K["MAP_PRIVATE"] | K["MAP_ANONYMOUS"]
MAP_SHARED_ANON = K["MAP_SHARED"] | K["MAP_ANONYMOUS"]
RW = PROT_READ | PROT_WRITE


@dataclass
class SharedObject:
    pages: dict = field(default_factory=dict)   # va -> pa
    users: int = 0                              # regions referring to it


@dataclass
class SRegion:
    start: int
    end: int
    prot: int
    flags: int
    node: int                                   # its kmalloc'd node
    obj: SharedObject = None


@dataclass
class SProc:
    pid: int
    parent: int
    name: str = ""
    kstack: int = 0
    pgtable: int = 0
    user: list = field(default_factory=list)    # pages of [0, sz)
    textend: int = 0
    stackbase: int = 0
    heapbase: int = 0
    sz: int = 0
    regions: list = field(default_factory=list)
    mapped: dict = field(default_factory=dict)  # va -> pa, region pages present
    cow: set = field(default_factory=set)       # private vas shared copy-on-write


class SynthKernel:
    """Emits a consistent event stream; every method is one kernel action."""

    def __init__(self, ncpu=2, mem_pages=16384, seed=1, tsc_hz=1_000_000_000,
                 step=2e-6):
        self.cap = Capture(ncpu=ncpu, tsc_hz=tsc_hz)
        self.ticks = 1e9 if tsc_hz == 0 else 1      # no rate: times are TSC ticks
        self.ncpu = ncpu
        self.rng = random.Random(seed)
        self.t = 0.0
        self.step = step
        base = 0x400000
        self.free = list(range(base + (mem_pages - 1) * PAGE, base - PAGE, -PAGE))
        self.refs = {}                  # pa -> holders, for pages shared copy-on-write
        self.procs = {}
        self.next_pid = 1
        self.next_node = 0x80400000
        self.events = 0
        self.emit("trace_ctl", 0, on=1, mask=0x7FFFFFFF)
        self.emit("mem_range", 0, start=base, end=base + mem_pages * PAGE)
        self.alloc("pgtable", 0)                # the kernel's page directory
        self.init = self._userinit()

    # ---- recording ---------------------------------------------------

    def emit(self, event, running, target=None, **fields):
        self.t += self.step * (0.5 + self.rng.random())
        cpu = running % self.ncpu
        t = self.t * self.ticks
        if target is None:
            self.cap.add(t, event, cpu=cpu, pid=running, **fields)
        else:
            self.cap.add(t, event, cpu=cpu, pid=target, running=running, **fields)
        self.events += len(COMPOUNDS.get(event, (event,)))     # as decoded: a compound is several

    def sleep(self, seconds):
        self.t += seconds

    def to_bytes(self):
        return self.cap.to_bytes()

    # ---- pages and kernel objects ------------------------------------

    def alloc(self, owner, running):
        pa = self.free.pop()
        self.emit("page_alloc", running, pa=pa, owner=owner)
        return pa

    def release(self, pa, running):
        """Drop one reference to pa: freed with the last (kfree)."""
        if self._unshare(pa):
            return
        self.emit("page_free", running, pa=pa)
        self.free.append(pa)

    def _unshare(self, pa):
        """Drop a reference to a page shared copy-on-write; True if others still hold it."""
        if self.refs.get(pa, 1) > 1:
            self.refs[pa] -= 1
            return True
        self.refs.pop(pa, None)
        return False

    def node(self, pid):
        addr = self.next_node
        self.next_node += 32
        self.emit("kmalloc", pid, target=pid, addr=addr, size=32, **{"class": 1})
        return addr

    def drop_node(self, pid, addr):
        self.emit("kmfree", pid, target=pid, addr=addr, size=32, **{"class": 1})

    # ---- processes ---------------------------------------------------

    def _new_proc(self, parent, running):
        p = SProc(self.next_pid, parent)
        self.next_pid += 1
        self.procs[p.pid] = p
        p.kstack = self.alloc("kstack", running)
        p.pgtable = self.alloc("pgtable", running)
        return p

    def _userinit(self):
        p = self._new_proc(0, 0)
        p.user = [self.alloc("user", 0)]
        p.textend = p.heapbase = p.sz = PAGE
        self.emit("fork", 0, parent=0, child=p.pid)
        self.emit("exec", 0, textend=PAGE, stackbase=0, heapbase=PAGE, sz=PAGE)
        self.emit("procname", p.pid, name="initcode")
        self.exec(p.pid, "init")
        return p.pid

    def exec(self, pid, name, text_pages=2):
        """Replace pid's image: text and data, a guard page, a stack page."""
        p = self.procs[pid]
        for r in list(p.regions):
            self._unmap_range(p, r.start, r.end)
        old_user, old_pgtable = p.user, p.pgtable
        p.pgtable = self.alloc("pgtable", pid)
        p.user = [self.alloc("user", pid) for _ in range(text_pages + 2)]
        p.textend = text_pages * PAGE
        p.stackbase = p.textend + PAGE
        p.heapbase = p.sz = p.stackbase + PAGE
        self.emit("exec", pid, textend=p.textend, stackbase=p.stackbase,
                  heapbase=p.heapbase, sz=p.sz)
        self.emit("procname", pid, name=name)
        p.name = name
        for pa in old_user + [old_pgtable]:
            self.release(pa, pid)

    def fork(self, pid):
        """A child sharing pid's memory copy-on-write; shared regions stay shared."""
        parent = self.procs[pid]
        child = self._new_proc(pid, pid)
        child.name = parent.name
        child.user = list(parent.user)
        for pa in parent.user:
            self.refs[pa] = self.refs.get(pa, 1) + 1
        child.textend, child.stackbase = parent.textend, parent.stackbase
        child.heapbase, child.sz = parent.heapbase, parent.sz
        for r in parent.regions:
            child.regions.append(SRegion(r.start, r.end, r.prot, r.flags, self.node(child.pid),
                                         r.obj))
            if r.obj:
                r.obj.users += 1
        for va, pa in sorted(parent.mapped.items()):
            r = self._region_at(parent, va)
            if r.obj:
                self.emit("page_map", pid, target=child.pid, va=va, pa=pa, shared=1)
            else:               # shared copy-on-write: one more mapping of the page
                self.refs[pa] = self.refs.get(pa, 1) + 1
                self.emit("page_map", pid, target=child.pid, va=va, pa=pa, shared=0)
                parent.cow.add(va)
                child.cow.add(va)
            child.mapped[va] = pa
        self.emit("fork", pid, parent=pid, child=child.pid)
        self.emit("cow_fork", pid, parent=pid, child=child.pid,
                  pages=len(parent.user) + len(child.cow))
        return child.pid

    def spawn(self, parent, name, text_pages=2):
        child = self.fork(parent)
        self.exec(child, name, text_pages)
        return child

    def exit(self, pid):
        p = self.procs[pid]
        for r in list(p.regions):
            self._unmap_range(p, r.start, r.end)
        self.emit("exit", pid, target=pid)

    def reap(self, pid):
        p = self.procs.pop(pid)
        for pa in p.user + [p.pgtable, p.kstack]:
            self.release(pa, p.parent)
        self.emit("reap", p.parent, target=pid)

    def sbrk(self, pid, npages):
        p = self.procs[pid]
        old = p.sz
        p.user += [self.alloc("user", pid) for _ in range(npages)]
        p.sz += npages * PAGE
        self.emit("heap", pid, old=old, new=p.sz)

    # ---- regions -----------------------------------------------------

    def _region_at(self, p, va):
        return next((r for r in p.regions if r.start <= va < r.end), None)

    def _place(self, p, length):
        """Top-down: the top of the highest free gap that holds length."""
        top = MMAPTOP
        for r in sorted(p.regions, key=lambda r: r.start, reverse=True):
            if top - r.end >= length:
                break
            top = min(top, r.start)
        return top - length

    def mmap(self, pid, npages, prot=RW, flags=MAP_PRIVATE_ANON):
        p = self.procs[pid]
        length = npages * PAGE
        start = self._place(p, length)
        self.emit("mmap", pid, hint=0, length=length, prot=prot, flags=flags)
        obj = SharedObject(users=1) if flags & MAP_SHARED else None
        p.regions.append(SRegion(start, start + length, prot, flags, self.node(pid), obj))
        self.emit("mmap_ret", pid, result=start)
        return start

    def touch(self, pid, va):
        """A write to the page at va: a fault that maps it, or a copy-on-write
        fault if it is shared since a fork."""
        p = self.procs[pid]
        va -= va % PAGE
        if va in p.cow:
            self._cow_write(p, va)
        if va in p.mapped:
            return
        r = self._region_at(p, va)
        if r.obj is not None:
            pa = r.obj.pages.get(va)
            if pa is None:
                pa = r.obj.pages[va] = self.alloc("shared", pid)
            p.mapped[va] = pa
            self.emit("page_map", pid, target=pid, va=va, pa=pa, shared=1)
            self.emit("fault", pid, va=va + 16, errcode=6, outcome="mapped", eip=0x1040)
        else:               # a private page: one fault_map record (alloc + map + fault)
            pa = p.mapped[va] = self.free.pop()
            self.emit("fault_map", pid, va=va + 16, pa=pa, errcode=6, eip=0x1040)

    def _cow_write(self, p, va):
        """The write fault on a copy-on-write page: copied while another holds it."""
        p.cow.discard(va)
        old = p.mapped[va]
        if self.refs.get(old, 1) == 1:
            self.refs.pop(old, None)
            self.emit("cow_fault", p.pid, va=va, pa=old, cow="reused", eip=0x1040)
            return
        self.refs[old] -= 1
        self.emit("page_unmap", p.pid, target=p.pid, va=va, pa=old)
        new = p.mapped[va] = self.free.pop()
        self.emit("page_new", p.pid, target=p.pid, va=va, pa=new)
        self.emit("cow_fault", p.pid, va=va, pa=new, cow="copied", eip=0x1040)

    def _split(self, p, start, end):
        """Cut regions at start and end so that none straddles them."""
        for cut in (start, end):
            r = self._region_at(p, cut)
            if r is not None and r.start < cut:
                right = SRegion(cut, r.end, r.prot, r.flags, self.node(p.pid), r.obj)
                if r.obj:
                    r.obj.users += 1
                r.end = cut
                p.regions.append(right)

    def _unmap_range(self, p, start, end):
        self._split(p, start, end)
        for r in [r for r in p.regions if start <= r.start and r.end <= end]:
            for va in range(r.start, r.end, PAGE):
                pa = p.mapped.pop(va, None)
                p.cow.discard(va)
                if pa is None:
                    continue
                if r.obj is None and self._unshare(pa):
                    self.emit("page_unmap", p.pid, target=p.pid, va=va, pa=pa)
                elif r.obj is None:     # unmap + free: one page_drop record
                    self.emit("page_drop", p.pid, target=p.pid, va=va, pa=pa)
                    self.free.append(pa)
                else:
                    self.emit("page_unmap", p.pid, target=p.pid, va=va, pa=pa)
            if r.obj is not None:
                r.obj.users -= 1
                if r.obj.users == 0:
                    for pa in r.obj.pages.values():
                        self.release(pa, p.pid)
            self.drop_node(p.pid, r.node)
            p.regions.remove(r)

    def munmap(self, pid, addr, npages):
        p = self.procs[pid]
        self._unmap_range(p, addr, addr + npages * PAGE)
        self.emit("munmap", pid, addr=addr, length=npages * PAGE, result=0)

    def mprotect(self, pid, addr, npages, prot):
        p = self.procs[pid]
        end = addr + npages * PAGE
        self._split(p, addr, end)
        for r in p.regions:
            if addr <= r.start and r.end <= end:
                r.prot = prot
        self.emit("mprotect", pid, addr=addr, length=npages * PAGE, prot=prot, result=0)


def story(seed=1, tsc_hz=1_000_000_000):
    """The demo's story: a parent maps a private and a shared region,
    touches them, forks; the child writes to both; the parent makes part
    of the private region read-only and unmaps a piece of it; the child
    exits, then the parent. Returns (SynthKernel, pids dict)."""
    k = SynthKernel(seed=seed, step=20e-6, tsc_hz=tsc_hz)
    k.sleep(0.05)
    sh = k.spawn(k.init, "sh")
    k.sleep(0.1)
    demo = k.spawn(sh, "demo")
    k.sbrk(demo, 1)
    k.sleep(0.05)
    priv = k.mmap(demo, 8)
    shared = k.mmap(demo, 4, flags=MAP_SHARED_ANON)
    k.sleep(0.05)
    for i in range(4):
        k.touch(demo, priv + i * PAGE)
    k.touch(demo, shared)
    k.sleep(0.1)
    child = k.fork(demo)
    k.sleep(0.05)
    for i in (4, 5):
        k.touch(child, priv + i * PAGE)
    k.touch(child, shared + PAGE)
    k.sleep(0.05)
    k.mprotect(demo, priv, 4, PROT_READ)
    k.sleep(0.05)
    k.munmap(demo, priv + 5 * PAGE, 2)
    k.sleep(0.1)
    k.exit(child)
    k.reap(child)
    k.sleep(0.05)
    k.munmap(demo, shared, 4)
    k.munmap(demo, priv, 5)
    k.munmap(demo, priv + 7 * PAGE, 1)
    k.sleep(0.05)
    k.exit(demo)
    k.reap(demo)
    return k, {"init": k.init, "sh": sh, "demo": demo, "child": child,
               "private": priv, "shared": shared}


def workload(events, seed=1, workers=4):
    """About `events` events of a busy machine: a shell keeps `workers`
    programs running that map, touch, protect, unmap, grow their heap and
    fork children that write to what they inherited. Returns SynthKernel."""
    k = SynthKernel(seed=seed, mem_pages=65536)
    rng = k.rng
    sh = k.spawn(k.init, "sh")
    live = {}                                   # pid -> operations left
    serial = 0
    while k.events < events or live:
        if len(live) < workers and k.events < events:
            serial += 1
            pid = k.spawn(sh, f"work{serial}")
            live[pid] = rng.randint(20, 200)
        pid = rng.choice(list(live))
        _work_step(k, pid, rng)
        live[pid] -= 1
        if live[pid] <= 0 or k.events >= events:
            del live[pid]
            k.exit(pid)
            k.reap(pid)
    k.exit(sh)
    k.reap(sh)
    return k


def _work_step(k, pid, rng):
    p = k.procs[pid]
    roll = rng.random()
    if roll < 0.15 or not p.regions:
        if len(p.regions) < 40:
            flags = MAP_SHARED_ANON if rng.random() < 0.3 else MAP_PRIVATE_ANON
            k.mmap(pid, rng.choice((1, 2, 4, 8, 16, 64)), flags=flags)
    elif roll < 0.65:
        r = rng.choice(p.regions)
        if r.prot & PROT_WRITE:
            npages = (r.end - r.start) // PAGE
            first = rng.randrange(npages)
            for i in range(first, min(npages, first + rng.randint(1, 8))):
                k.touch(pid, r.start + i * PAGE)
    elif roll < 0.72:
        r = rng.choice(p.regions)
        k.mprotect(pid, r.start, 1, PROT_READ)
    elif roll < 0.84:
        r = rng.choice(p.regions)
        npages = (r.end - r.start) // PAGE
        first = rng.randrange(npages)
        k.munmap(pid, r.start + first * PAGE, rng.randint(1, npages - first))
    elif roll < 0.9:
        k.sbrk(pid, rng.randint(1, 3))
    elif roll < 0.95:
        child = k.fork(pid)
        for r in list(k.procs[child].regions)[:3]:
            if r.prot & PROT_WRITE:
                k.touch(child, r.start)
        k.exit(child)
        k.reap(child)
    else:
        k.sleep(rng.random() * 1e-3)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "story":
        k, ids = story()
        what = f"the demo's story (demo pid {ids['demo']}, its child pid {ids['child']})"
    elif len(argv) == 3 and argv[0] == "workload" and argv[1].isdigit():
        k = workload(int(argv[1]))
        what = "a busy random run"
    else:
        print("usage: python3 -m viz.synth story FILE | workload N FILE", file=sys.stderr)
        return 2
    data = k.to_bytes()
    try:
        with open(argv[-1], "wb") as f:
            f.write(data)
    except OSError as e:
        print(f"synth: error: {argv[-1]}: {e.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {argv[-1]}: {what}, {k.events} events, {len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
