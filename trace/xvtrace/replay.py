"""Rebuild every process's address space and the physical page usage at any
instant of a trace.

Use
---
    state = state_at(trace, t)              # one snapshot at time t
    for t, state in states_at(trace, ts):   # snapshots at sorted times, one pass
        ...
    rp = Replayer(trace)
    for change in rp:                       # every record, applied in order
        rp.state                            # the live state just after it

Times are in the trace's unit (``trace.time_unit``): seconds since tracing
started, or TSC ticks when the kernel could not measure the TSC rate. A
state "at t" has every record with time <= t applied.

Data model
----------
State
    index       records applied so far (trace.records[:index])
    time        time of the last applied record (None before the first)
    processes   {pid: Process}: processes seen and not yet reaped
    memory      Memory: physical pages in use
    kmalloc     {addr: KObject}: live kernel objects
    lost        events the kernel dropped so far (LOST records)
    tracing     whether tracing was on; mask: the event mask
    problems    [Problem]: invariant violations seen so far (check.py)
    gaps        [str]: why the trace so far may be incomplete (tracing off,
                events masked); lost events are counted in lost instead

Process
    pid, parent (0 if unknown), name
    state       'new' (seen, fork not finished), 'running', 'zombie'
    text        Range [0, textend) of text and data, or None before exec
    stack       Range of the user stack page, or None
    heap        Range [heapbase, sz), or None
    regions     [Region] sorted by start: the mmap regions
    mapped      {va: pa}: region pages present in its page table
    born, exited   times (exited is None while it runs)
    resident(start, end)  -> sorted [(va, pa)] of region pages mapped there
    user_pages()          -> pages of text, data, guard, stack and heap:
                             the kernel allocates [0, sz) eagerly, so these
                             are all resident and not traced one by one
    mappings()            -> [Mapping] as pmap prints them: text, guard,
                             stack, heap, regions
    parent follows exit(): a process whose parent exits is init's (pid 1)

Mapping         kind ('text', 'guard', 'stack', 'heap', 'region'), start, end,
                prot, flags (regions only), resident, pages

Region (immutable: a split, unmap or mprotect replaces it by new ones)
    uid         unique within one replay, for tracking spans
    start, end  [start, end), page aligned
    prot, flags as passed to mmap/mprotect; rwx() gives "rw-" and flag_names()
                "private|anonymous" (hostlib.fmt, as every tool prints them)
    since       time it took this shape

Page (immutable)
    pa
    owner       what it is for: 'kernel', 'user', 'pgtable', 'region',
                'shared', 'pipe', 'kmalloc', 'kstack' (the OWNER enum)
    pid         process running when it was allocated (0 if none)
    since       time allocated

Memory
    total       pages the allocator manages (MEM_RANGE events; 0 if unknown)
    pages       {pa: Page}: allocated pages
    counts      {owner: pages}; free = total - len(pages)
    maps        {pa: ((pid, va), ...)}: who maps each region page
    cached      {pa: (inum, offset)}: pages of the page cache of mapped files
                (FILE_PAGEIN until the page is freed)

KObject         addr, size, cls (size class), pid (charged to, 0 = kernel), since

Change (what the iterator yields, one per applied record)
    index, time, event (name), pid (process affected, 0 if none)
    kind        'trace' | 'memory' | 'page' | 'map' | 'kmalloc' | 'request' |
                'region' | 'layout' | 'process' | 'fault' | 'error' | 'cache' |
                'other'
    detail      dict: the record's fields, plus for 'page' "page" (the new
                Page, or None once freed) and "old"; for 'region', 'layout'
                and 'process' "added" and "removed" region lists

Problem         time, index, kind, pid, message
"""

import bisect
from collections import Counter, namedtuple
from dataclasses import dataclass, field, replace

import numpy as np

from hostlib import fmt, kconst

from .decode import ARGS

Range = namedtuple("Range", "start end")
Change = namedtuple("Change", "index time event kind pid detail")
Mapping = namedtuple("Mapping", "kind start end prot flags resident pages")
Problem = namedtuple("Problem", "time index kind pid message")
FAILED = 0xFFFFFFFF             # a result of -1
ROW_CHUNK = 1 << 16             # records converted to Python values at a time
INIT_PID = 1                    # userinit's process (proc.c: the first pid); it adopts orphans
# Events whose handlers never look for orphaned region pages (check_orphans):
# mapledger.py needs not see them before an orphaned page is freed.
NO_ORPHAN_CHECK = ("lost", "trace_ctl", "mem_range", "kmalloc", "kmfree", "mmap", "mprotect",
                   "fault", "heap", "fork", "cow_fork", "cow_fault", "procname", "syserr",
                   "file_pagein", "file_writeback")
# The checker's common events (run_except): name -> the leading fields its
# core handler (a Replayer method of the same name) takes, in order.
FAST_EVENTS = {"page_alloc": ("pa", "owner"), "page_free": ("pa",),
               "page_map": ("va", "pa", "shared", "pid"), "page_unmap": ("va", "pa", "pid"),
               "fault": ("va", "errcode", "outcome"),
               "kmalloc": ("addr", "size", "class", "pid"),
               "kmfree": ("addr", "size", "class", "pid")}


@dataclass(frozen=True, slots=True)
class Page:
    pa: int
    owner: str
    pid: int
    since: float


@dataclass(frozen=True, slots=True)
class Region:
    uid: int
    start: int
    end: int
    prot: int
    flags: int
    since: float

    def rwx(self):
        return fmt.prot(self.prot)

    def flag_names(self):
        return fmt.map_flags(self.flags)


@dataclass(frozen=True, slots=True)
class KObject:
    addr: int
    size: int
    cls: int
    pid: int
    since: float


@dataclass(slots=True)
class Process:
    pid: int
    page_size: int = 4096
    parent: int = 0
    name: str = ""
    state: str = "new"
    text: Range = None
    stack: Range = None
    heap: Range = None
    regions: list = field(default_factory=list)
    mapped: dict = field(default_factory=dict)
    born: float = None
    exited: float = None
    cow: dict = field(default_factory=dict)    # va -> share group of a [0, sz) page since fork
    widest: int = 0     # no region of regions is longer: bounds overlap searches

    def copy(self):
        return replace(self, regions=list(self.regions), mapped=dict(self.mapped),
                       cow=dict(self.cow))

    def overlapping(self, start, end):
        """The regions that overlap [start, end), found by bisection: a region
        starting at or below start - widest ends at or below start."""
        regs, key = self.regions, _region_start
        lo = bisect.bisect_right(regs, start - self.widest, key=key)
        hi = bisect.bisect_left(regs, end, key=key)
        return [r for r in regs[lo:hi] if r.end > start]

    def holds(self, va):
        """Whether a region holds address va. The region starting last at or
        below va does, but for regions that overlap (a problem already
        reported): then every candidate is looked at."""
        regs = self.regions
        at = bisect.bisect_right(regs, va, key=_region_start)
        return (at > 0 and regs[at - 1].end > va) or bool(self.overlapping(va, va + 1))

    def resident(self, start, end):
        return sorted((va, pa) for va, pa in self.mapped.items() if start <= va < end)

    def user_pages(self):
        """Pages of [0, sz), or None before the layout is known."""
        if self.heap is None:
            return None
        return (self.heap.end + self.page_size - 1) // self.page_size

    def areas(self):
        """(label, Range) of text, stack and heap, those known."""
        return [(label, r) for label, r in (("text", self.text), ("stack", self.stack),
                                            ("heap", self.heap)) if r and r.end > r.start]

    def mappings(self):
        """The address space as pmap prints it (getmaps() in mmap.c), in its
        order: [Mapping] of text and data, the guard page and stack (if there
        is a stack), the heap (even empty), then each region. Pages of
        [0, sz) are always resident (allocated eagerly); a region's are those
        mapped."""
        k = kconst.kernel
        rw = k["PROT_READ"] | k["PROT_WRITE"]
        out = []

        def add(kind, start, end, prot, flags=0, resident=None):
            pages = (end + self.page_size - 1) // self.page_size - start // self.page_size
            out.append(Mapping(kind, start, end, prot, flags,
                               pages if resident is None else resident, pages))

        if self.text is not None:
            add("text", 0, self.text.end, rw | k["PROT_EXEC"])
        if self.stack is not None and self.text is not None:
            add("guard", self.text.end, self.stack.start, k["PROT_NONE"])
            add("stack", self.stack.start, self.stack.end, rw)
        if self.heap is not None:
            add("heap", self.heap.start, self.heap.end, rw)
        for r in self.regions:
            add("region", r.start, r.end, r.prot, r.flags, len(self.resident(r.start, r.end)))
        return out


@dataclass(slots=True)
class Memory:
    total: int = 0
    pages: dict = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    maps: dict = field(default_factory=dict)
    # Pages of [0, sz) (text, data, stack, heap) shared copy-on-write: the
    # kernel does not name them one by one, so a group stands for one
    # physical page, with the pids still holding it (cow_fork, cow_fault).
    cow_groups: dict = field(default_factory=dict)  # group -> set of pids
    cached: dict = field(default_factory=dict)      # pa -> (inum, offset)

    @property
    def used(self):
        return len(self.pages)

    @property
    def free(self):
        return self.total - len(self.pages) if self.total else None

    def copy(self):
        return Memory(self.total, dict(self.pages), Counter(self.counts), dict(self.maps),
                      {g: set(pids) for g, pids in self.cow_groups.items()},
                      dict(self.cached))

    def cow_shared(self):
        """({pid: its pages shared copy-on-write}, distinct pages shared): private
        region pages mapped by several processes, and [0, sz) pages held by
        several since a fork."""
        per_pid, distinct = Counter(), 0
        for pa, mappers in self.maps.items():
            if len(mappers) > 1 and (page := self.pages.get(pa)) and page.owner == "region":
                distinct += 1
                for pid, _ in mappers:
                    per_pid[pid] += 1
        for pids in self.cow_groups.values():
            if len(pids) > 1:
                distinct += 1
                for pid in pids:
                    per_pid[pid] += 1
        return per_pid, distinct


@dataclass(slots=True)
class State:
    index: int = 0
    time: float = None
    processes: dict = field(default_factory=dict)
    memory: Memory = field(default_factory=Memory)
    kmalloc: dict = field(default_factory=dict)
    lost: int = 0
    tracing: bool = True
    mask: int = 0x7FFFFFFF
    problems: list = field(default_factory=list)
    gaps: list = field(default_factory=list)

    def snapshot(self):
        """A copy that later replay steps do not change."""
        return replace(self, processes={pid: p.copy() for pid, p in self.processes.items()},
                       memory=self.memory.copy(), kmalloc=dict(self.kmalloc),
                       problems=list(self.problems), gaps=list(self.gaps))

    def kmalloc_of(self, pid):
        return [o for o in self.kmalloc.values() if o.pid == pid]


def _region_start(r):
    return r.start


def _ignore(*_):
    pass


def overlaps(a_start, a_end, b_start, b_end):
    return a_start < b_end and b_start < a_end


class Replayer:
    """Applies a trace's records in order to a State."""

    def __init__(self, trace):
        self.trace = trace
        self.schema = trace.schema
        self.page = trace.header.page_size
        self.kernbase = trace.header.kernbase
        self.state = State()
        self._n = len(trace.records)
        self._chunk_start = self._chunk_end = 0     # records[start:end] as lists
        self._rows = self._times = []
        self._fed = False           # feed() gives the rows (a growing capture)
        self._uid = 0
        self._freed = {}            # pa -> time freed, for double-free messages
        self._kfreed = {}           # addr -> time freed
        self._mmap = {}             # pid -> pending MMAP request fields
        self._orphans = {}          # pa -> pid: region page unmapped by its last
                                    # mapper pid, not freed yet
        self._types = {}            # type id -> (EventType, handler or None)
        for etype in self.schema.events.values():
            handler = getattr(self, "_on_" + etype.name, None)
            self._types[etype.id] = (etype, handler, self.field_reader(etype))
        self._owner_names = self.schema.enums.get("owner", {})
        self._mapped = {v: k for k, v in self.schema.enums.get("outcome", {}).items()}.get(
            "mapped", 0)

    def __iter__(self):
        while self.state.index < self._n:
            change = self.step()
            if change is not None:
                yield change

    def field_reader(self, etype):
        """A function from a record row to its {field: value} (schema.fields_of);
        without text fields a plain dict comprehension, the replay's hot path."""
        if any(f in self.schema.text_fields for f in etype.fields):
            return lambda row: self.schema.fields_of(etype, row[5:9])
        named = tuple((f, 5 + slot) for slot, f in enumerate(etype.slots) if f is not None)
        return lambda row: {f: row[col] for f, col in named}

    def row(self, i):
        """Record i and its time as Python values. Records are converted a
        chunk at a time, so memory stays bounded on long traces."""
        if not self._chunk_start <= i < self._chunk_end:
            self._chunk_start, self._chunk_end = i, min(self._n, i + ROW_CHUNK)
            self._rows = self.trace.records[i:self._chunk_end].tolist()
            self._times = self.trace.times[i:self._chunk_end].tolist()
        return self._rows[i - self._chunk_start], self._times[i - self._chunk_start]

    def step(self):
        """Apply the next record; returns its Change (None for records of
        unknown event ids)."""
        i = self.state.index
        return self.apply(i, *self.row(i))

    def apply(self, i, row, t):
        """Apply record i, row its values, t its time (the next record, or one
        after records skipped: see run_except); returns its Change or None."""
        st = self.state
        st.index = i + 1
        known = self._types.get(row[1])
        if known is None:
            return None
        etype, handler, fields_of = known
        st.time = t
        pid = row[4]
        fields = fields_of(row)
        self._i, self._t = i, t
        if handler is None:
            return Change(i, t, etype.name, "other", pid, fields)
        kind, affected = handler(pid, fields)
        return Change(i, t, etype.name, kind, affected, fields)

    def run_to(self, index):
        """Apply records until index records are applied."""
        while self.state.index < min(index, self._n):
            self.step()
        return self.state

    def run_except(self, skip):
        """Apply every record but those where the mask skip is set (the
        checker accounts for them itself: ledger.py); the state ends as
        after the last record, but for the copy-on-write groups of [0, sz)
        pages (Memory.cow_groups, Process.cow: left empty). No Change is
        made: the events of FAST_EVENTS go straight to their handler's core
        with the record's arguments."""
        fast = self.fast_handlers()
        # Which [0, sz) pages are shared copy-on-write (cow_groups) is for
        # the pictures: no check reads it, and a fork of a big heap is costly.
        for name in ("cow_fork", "cow_fault"):
            if name in self.schema.by_name:
                fast[self.schema.by_name[name].id] = _ignore
        recs, times = self.trace.records, self.trace.times
        keep = np.flatnonzero(~skip)
        for at in range(0, len(keep), ROW_CHUNK):
            index = keep[at:at + ROW_CHUNK]
            columns = [recs[name][index].tolist() for name in ("type", "pid") + ARGS]
            for i, t, typ, pid, a0, a1, a2, a3 in zip(index.tolist(), times[index].tolist(),
                                                      *columns):
                handler = fast.get(typ)
                if handler is None:
                    self.apply(i, (None, typ, None, None, pid, a0, a1, a2, a3), t)
                else:
                    self._i, self._t = i, t
                    handler(pid, a0, a1, a2, a3)
        st = self.state
        st.index = self._n
        if self._n:
            st.time = float(times[-1])
        return st

    def fast_handlers(self):
        """{type id: core handler(pid, a0, a1, a2, a3)} of FAST_EVENTS whose
        fields this trace's schema lays out as the handler expects."""
        out = {}
        for name, fields in FAST_EVENTS.items():
            etype = self.schema.by_name.get(name)
            if etype is not None and etype.slots[:len(fields)] == fields:
                out[etype.id] = getattr(self, name)
        return out

    def run_until(self, t):
        """Apply every record with time <= t."""
        return self.run_to(int(np.searchsorted(self.trace.times, t, side="right")))

    # ---- a growing capture (xvtrace.stream, the live view) -------------

    def feed(self, index, records, times):
        """Records from index on are now records (with their times): append
        new ones, or replace a tail that was applied out of order (restore
        a checkpoint from before index first)."""
        if not self._fed:                       # from now on _rows holds every row
            self._rows = self.trace.records[:index].tolist()
            self._times = self.trace.times[:index].tolist()
            self._fed = True
        del self._rows[index:], self._times[index:]
        self._rows += records.tolist()
        self._times += list(times)
        self._chunk_start, self._chunk_end = 0, len(self._rows)
        self._n = self._chunk_end

    def share_rows(self, other):
        """Read the rows other was fed (replaying reads them, never changes them)."""
        self._rows, self._times, self._fed = other._rows, other._times, True
        self._chunk_start, self._chunk_end = 0, len(self._rows)
        self._n = self._chunk_end

    def checkpoint(self):
        """A copy of everything step() changes; restore() goes back to it. Freed kernel
        objects are kept as addresses only (they are many; their times are not said)."""
        kfreed = np.fromiter(self._kfreed, dtype=np.uint32, count=len(self._kfreed))
        return (self.state.snapshot(), self._uid, dict(self._freed), kfreed,
                dict(self._mmap), dict(self._orphans), getattr(self, "_next_group", 0))

    def restore(self, checkpoint):
        state, self._uid, freed, kfreed, mmap, orphans, group = checkpoint
        self.state = state.snapshot()
        self._freed, self._mmap = dict(freed), dict(mmap)
        self._kfreed = dict.fromkeys(kfreed.tolist(), state.time)
        self._orphans, self._next_group = dict(orphans), group

    # ---- helpers ---------------------------------------------------------

    def problem(self, kind, pid, message):
        self.state.problems.append(Problem(self._t, self._i, kind, pid, message))

    def proc(self, pid):
        """Process pid, created on first mention. pid 0 is the kernel, not
        a process: what is done to it is not kept."""
        p = self.state.processes.get(pid)
        if p is None:
            p = Process(pid, self.page, born=self._t)
            if pid != 0:
                self.state.processes[pid] = p
        return p

    def region(self, start, end, prot, flags):
        self._uid += 1
        return Region(self._uid, start, end, prot, flags, self._t)

    def round_up(self, n):
        return (n + self.page - 1) // self.page * self.page

    def describe(self, pid):
        p = self.state.processes.get(pid)
        return f"pid {pid} ({p.name})" if p and p.name else f"pid {pid}"

    def set_page(self, pa, page):
        """Install page (or None to free) at pa, keeping the counts."""
        mem = self.state.memory
        old = mem.pages.get(pa)
        if old is not None:
            mem.counts[old.owner] -= 1
        if page is None:
            mem.pages.pop(pa, None)
        else:
            mem.pages[pa] = page
            mem.counts[page.owner] += 1
        return old

    def unmap(self, pid, va, pa):
        """Forget that pid maps pa at va."""
        maps = self.state.memory.maps
        held = maps.get(pa, ())
        if held == ((pid, va),):        # the common case: its only mapper
            del maps[pa]
        elif held:
            left = tuple(m for m in held if m != (pid, va))
            if left:
                maps[pa] = left
            else:
                del maps[pa]
        p = self.state.processes.get(pid)
        if p is not None and p.mapped.get(va) == pa:
            del p.mapped[va]

    def carve(self, p, start, end):
        """Cut [start, end) out of p's regions. Returns (removed, added):
        the regions touched and the pieces of them left outside."""
        removed, added = p.overlapping(start, end), []
        if not removed:
            return [], []
        for r in removed:
            if r.start < start:
                added.append(self.region(r.start, start, r.prot, r.flags))
            if r.end > end:
                added.append(self.region(end, r.end, r.prot, r.flags))
        gone = {r.uid for r in removed}
        p.regions = sorted([r for r in p.regions if r.uid not in gone] + added,
                           key=_region_start)
        return removed, added

    def check_overlap(self, p, start, end, what):
        for r in p.overlapping(start, end):
            self.problem("overlap", p.pid,
                         f"{self.describe(p.pid)}: {what} {start:#x}-{end:#x} overlaps "
                         f"region {r.start:#x}-{r.end:#x}")
        for label, area in p.areas():
            if overlaps(area.start, area.end, start, end):
                self.problem("overlap", p.pid,
                             f"{self.describe(p.pid)}: {what} {start:#x}-{end:#x} overlaps "
                             f"its {label} {area.start:#x}-{area.end:#x}")

    # ---- event handlers: (running pid, fields) -> (kind, affected pid) ----

    def _on_lost(self, pid, f):
        self.state.lost += f.get("count", 0)
        return "trace", 0

    def _on_trace_ctl(self, pid, f):
        st = self.state
        on, mask = bool(f.get("on", 1)), f.get("mask", st.mask)
        if not on and st.tracing:
            st.gaps.append(f"tracing was off from t={self.trace.format_time(self._t)}")
        if on and mask != 0x7FFFFFFF and (not st.tracing or mask != st.mask):
            missing = [e.name for e in self.schema.events.values()
                       if not mask & (1 << e.id) and e.name not in ("lost", "trace_ctl")]
            if missing:
                st.gaps.append(f"events masked off from t={self.trace.format_time(self._t)}: "
                               + ", ".join(missing))
        st.tracing, st.mask = on, mask
        return "trace", 0

    def _on_mem_range(self, pid, f):
        self.state.memory.total += max(0, f["end"] - f["start"]) // self.page
        return "memory", 0

    def _on_page_alloc(self, pid, f):
        f["page"], f["old"] = self.page_alloc(pid, f["pa"], f.get("owner", 0))
        return "page", pid

    def page_alloc(self, pid, pa, owner, *_):
        """Returns (the new Page, the Page it replaced or None)."""
        pages = self.state.memory.pages
        old = pages.get(pa)
        if old is not None:
            self.problem("double-alloc", pid,
                         f"page {pa:#x} allocated again while in use ({old.owner} page "
                         f"since t={self.trace.format_time(old.since)})")
        page = Page(pa, self._owner_names.get(owner) or str(owner), pid, self._t)
        self.set_page(pa, page)
        self._freed.pop(pa, None)
        return page, old

    def _on_page_free(self, pid, f):
        f["page"], f["old"] = None, self.page_free(pid, f["pa"])
        return "page", pid

    def page_free(self, pid, pa, *_):
        """Returns the Page freed, or None."""
        mem = self.state.memory
        old = self.set_page(pa, None)
        if old is None:
            if pa in self._freed:
                self.problem("double-free", pid,
                             f"page {pa:#x} freed twice (first at t="
                             f"{self.trace.format_time(self._freed[pa])})")
            else:
                self.problem("free-unallocated", pid, f"page {pa:#x} freed but never allocated")
        if pa in mem.maps:
            for mpid, va in mem.maps[pa]:
                self.problem("free-mapped", mpid, f"page {pa:#x} freed while "
                             f"{self.describe(mpid)} still maps it at {va:#x}")
                self.unmap(mpid, va, pa)
        self._freed[pa] = self._t
        self._orphans.pop(pa, None)
        mem.cached.pop(pa, None)
        return old

    def _on_page_map(self, pid, f):
        target = f["pid"]
        self.page_map(pid, f["va"], f["pa"], f.get("shared", 0), target)
        return "map", target

    def page_map(self, pid, va, pa, shared, target):
        mem = self.state.memory
        if pa not in mem.pages:
            self.problem("map-free-page", target, f"{self.describe(target)} maps page {pa:#x} "
                         f"at {va:#x}, but the page is not allocated")
        p = self.state.processes.get(target) or self.proc(target)
        if va in p.mapped:
            self.problem("map-twice", target, f"{self.describe(target)}: {va:#x} mapped again "
                         f"(to {pa:#x}) while mapped to {p.mapped[va]:#x}")
            self.unmap(target, va, p.mapped[va])
        p.mapped[va] = pa
        maps = mem.maps
        maps[pa] = maps[pa] + ((target, va),) if pa in maps else ((target, va),)
        if pa in self._orphans:
            del self._orphans[pa]

    def _on_page_unmap(self, pid, f):
        target = f["pid"]
        self.page_unmap(pid, f["va"], f["pa"], target)
        return "map", target

    def page_unmap(self, pid, va, pa, target, *_):
        mem = self.state.memory
        p = self.state.processes.get(target)
        if p is None or p.mapped.get(va) != pa:
            self.problem("unmap-unmapped", target, f"{self.describe(target)} unmaps {va:#x} -> "
                         f"{pa:#x}, which it does not map")
        self.unmap(target, va, pa)
        page = mem.pages.get(pa)
        if page is not None and page.owner == "region" and pa not in mem.maps:
            self._orphans[pa] = target

    def _on_file_pagein(self, pid, f):
        pa, key = f["pa"], (f["inum"], f["offset"])
        mem = self.state.memory
        page = mem.pages.get(pa)
        if page is None or page.owner != "pcache":
            self.problem("pagein-bad-page", pid, f"file {key[0]} offset {key[1]} read into "
                         f"page {pa:#x}, which is not an allocated page-cache page")
        for other, at in mem.cached.items():
            if at == key:
                self.problem("pagein-twice", pid, f"file {key[0]} offset {key[1]} read into "
                             f"{pa:#x} while cached in {other:#x}: one page cache per file")
        mem.cached[pa] = key
        return "cache", pid

    def _on_file_writeback(self, pid, f):
        pa, key = f["pa"], (f["inum"], f["offset"])
        if self.state.memory.cached.get(pa) != key:
            self.problem("writeback-uncached", pid, f"page {pa:#x} written back to file "
                         f"{key[0]} offset {key[1]}, but it does not cache that part of it")
        return "cache", pid

    def check_orphans(self, pid, what):
        """A private region page whose last mapping pid removed must be
        freed by the time the call that removed it (what) ends."""
        left = sorted(pa for pa, owner in self._orphans.items() if owner == pid)
        for pa in left:
            del self._orphans[pa]
        if left:
            sample = " ".join(hex(pa) for pa in left[:4])
            self.problem("leak-region", pid, f"{self.describe(pid)}: {what} left {len(left)} "
                         f"region page(s) allocated and mapped by no one (e.g. {sample})")

    def _on_kmalloc(self, pid, f):
        self.kmalloc(pid, f["addr"], f["size"], f["class"], f["pid"])
        return "kmalloc", f["pid"]

    def kmalloc(self, pid, addr, size, cls, owner):
        objs = self.state.kmalloc
        if addr in objs:
            self.problem("kmalloc-live", owner, f"kmalloc returned {addr:#x}, "
                         "which is still allocated")
        objs[addr] = KObject(addr, size, cls, owner, self._t)
        self._kfreed.pop(addr, None)

    def _on_kmfree(self, pid, f):
        obj = self.kmfree(pid, f["addr"], f["size"], f["class"], f["pid"])
        return "kmalloc", obj.pid if obj else f["pid"]

    def kmfree(self, pid, addr, size, cls, owner):
        """Returns the KObject freed, or None."""
        obj = self.state.kmalloc.pop(addr, None)
        if obj is None:
            if addr in self._kfreed:
                self.problem("kmfree-double", owner, f"kernel object {addr:#x} freed twice")
            else:
                self.problem("kmfree-unallocated", owner,
                             f"kernel object {addr:#x} freed but never allocated")
        elif obj.size != size or obj.cls != cls:
            self.problem("kmfree-mismatch", obj.pid,
                         f"kernel object {addr:#x} allocated as {obj.size} bytes class "
                         f"{obj.cls}, freed as {size} bytes class {cls}")
        self._kfreed[addr] = self._t
        return obj

    def _on_mmap(self, pid, f):
        self._mmap[pid] = f
        return "request", pid

    def _on_mmap_ret(self, pid, f):
        self.check_orphans(pid, "mmap")
        req = self._mmap.pop(pid, None)
        f["added"], f["removed"] = [], []
        if req is not None:
            f.update(req)
        if f["result"] == FAILED or req is None:
            return "region", pid
        start = f["result"]
        end = start + self.round_up(req["length"])
        p = self.proc(pid)
        if start % self.page or end > self.kernbase or end <= start:
            self.problem("bad-mapping", pid, f"{self.describe(pid)}: mmap returned "
                         f"{start:#x}-{end:#x}, not page aligned user memory")
        self.check_overlap(p, start, end, "mmap")
        r = self.region(start, end, req["prot"], req["flags"])
        bisect.insort(p.regions, r, key=_region_start)
        p.widest = max(p.widest, end - start)
        f["added"] = [r]
        return "region", pid

    def _on_munmap(self, pid, f):
        self.check_orphans(pid, "munmap")
        f["added"], f["removed"] = [], []
        if f["result"] != 0:
            return "region", pid
        start = f["addr"]
        f["removed"], f["added"] = self.carve(self.proc(pid), start,
                                              start + self.round_up(f["length"]))
        return "region", pid

    def _on_mprotect(self, pid, f):
        f["added"], f["removed"] = [], []
        if f["result"] != 0:
            return "region", pid
        p = self.proc(pid)
        start, end = f["addr"], f["addr"] + self.round_up(f["length"])
        removed, outside = self.carve(p, start, end)
        inside = [self.region(max(r.start, start), min(r.end, end), f["prot"], r.flags)
                  for r in removed]
        p.regions = sorted(p.regions + inside, key=lambda r: r.start)
        f["removed"], f["added"] = removed, outside + inside
        return "region", pid

    def _on_mremap(self, pid, f):
        """[old, old+oldlen) became [new, new+newlen): in place (grown or
        shrunk) or moved, replacing what was at the target."""
        self.check_orphans(pid, "mremap")
        f["added"], f["removed"], f["moved"] = [], [], False
        if f["new"] == FAILED:
            return "region", pid
        p = self.proc(pid)
        old, new = f["old"], f["new"]
        removed, outside = self.carve(p, old, old + self.round_up(f["oldlen"]))
        if not removed:
            return "region", pid
        gone, left = self.carve(p, new, new + self.round_up(f["newlen"]))
        r = self.region(new, new + self.round_up(f["newlen"]), removed[0].prot,
                        removed[0].flags)
        bisect.insort(p.regions, r, key=_region_start)
        p.widest = max(p.widest, r.end - r.start)
        f["removed"], f["added"] = removed + gone, outside + left + [r]
        f["moved"] = new != old
        return "region", pid

    def _on_madvise(self, pid, f):
        self.check_orphans(pid, "madvise")
        return "region", pid

    def _on_fault(self, pid, f):
        self.fault(pid, f["va"], f.get("errcode", 0), f.get("outcome", 0))
        return "fault", pid

    def fault(self, pid, va, errcode, outcome, *_):
        p = self.state.processes.get(pid)
        if outcome == self._mapped and p is not None:
            inside = p.holds(va) or any(a.start <= va < a.end for _, a in p.areas())
            if not inside:
                self.problem("fault-outside", pid, f"{self.describe(pid)}: fault at {va:#x} "
                             "was mapped, but no region, heap or stack holds it")

    def _on_heap(self, pid, f):
        p = self.proc(pid)
        old, new = f["old"], f["new"]
        if new > old:
            saved, p.heap = p.heap, None
            self.check_overlap(p, old, new, "heap growth")
            p.heap = saved
        base = p.heap.start if p.heap else min(old, new)
        p.heap = Range(base, max(base, new))
        if new < old:
            self.leave_cow(p, new + self.page - 1 - (new + self.page - 1) % self.page, 1 << 32)
        f["added"], f["removed"] = [], []
        return "layout", pid

    def _on_fork(self, pid, f):
        parent = self.state.processes.get(f["parent"])
        child = self.proc(f["child"])
        child.parent = f["parent"]
        child.state = "running"
        f["removed"], f["added"] = [], []
        if parent is not None:
            child.name = parent.name
            child.text, child.stack, child.heap = parent.text, parent.stack, parent.heap
            child.regions = [self.region(r.start, r.end, r.prot, r.flags) for r in parent.regions]
            child.widest = parent.widest
            f["added"] = list(child.regions)
        return "process", child.pid

    def _on_cow_fork(self, pid, f):
        """The child holds every [0, sz) page of its parent, copy-on-write."""
        parent = self.state.processes.get(f["parent"])
        child = self.proc(f["child"])
        groups = self.state.memory.cow_groups
        if parent is not None and parent.heap is not None:
            for va in range(0, parent.heap.end, self.page):
                g = parent.cow.get(va)
                if g is None or g not in groups:
                    g = parent.cow[va] = self._next_group = getattr(self, "_next_group", 0) + 1
                    groups[g] = {parent.pid}
                groups[g].add(child.pid)
                child.cow[va] = g
        return "process", child.pid

    def _on_cow_fault(self, pid, f):
        """pid's page at va is its own now (a copy, or the last holder's)."""
        p = self.state.processes.get(pid)
        if p is not None:
            self.leave_cow(p, f["va"], f["va"] + 1)
        return "map", pid

    def leave_cow(self, p, start, end):
        """p no longer holds the [0, sz) pages in [start, end) it shared."""
        groups = self.state.memory.cow_groups
        # One page (a copy-on-write fault) is a lookup, not a scan of p.cow.
        pages = ([start] if start in p.cow else []) if end - start == 1 else \
            [va for va in p.cow if start <= va < end]
        for va in pages:
            g = p.cow.pop(va)
            holders = groups.get(g)
            if holders is not None:
                holders.discard(p.pid)
                if not holders:
                    del groups[g]

    def _on_exec(self, pid, f):
        self.check_orphans(pid, "exec")
        p = self.proc(pid)
        self.leave_cow(p, 0, 1 << 32)
        p.state = "running"
        p.text = Range(0, f["textend"])
        p.stack = Range(f["stackbase"], f["stackbase"] + self.page) if f["stackbase"] else None
        p.heap = Range(f["heapbase"], max(f["heapbase"], f["sz"]))
        f["removed"], f["added"] = p.regions, []
        p.regions = []
        return "layout", pid

    def _on_exit(self, pid, f):
        self.check_orphans(f["pid"], "exit")
        p = self.proc(f["pid"])
        p.state = "zombie"
        p.exited = self._t
        # exit() gives the children to init (proc.c): no event says so.
        for child in self.state.processes.values():
            if child.parent == p.pid:
                child.parent = INIT_PID
        return "process", p.pid

    def _on_reap(self, pid, f):
        st = self.state
        self.check_orphans(f["pid"], "reap")
        who = self.describe(f["pid"])
        p = st.processes.pop(f["pid"], None)
        if p is not None:
            self.leave_cow(p, 0, 1 << 32)
        f["removed"], f["added"] = (p.regions if p else []), []
        if p is None:
            return "process", f["pid"]
        if p.mapped:
            sample = " ".join(hex(va) for va in sorted(p.mapped)[:4])
            self.problem("leak-pages", p.pid, f"{who} reaped still mapping {len(p.mapped)} "
                         f"region page(s) (e.g. at {sample})")
            for va, pa in list(p.mapped.items()):
                self.unmap(p.pid, va, pa)
        objs = st.kmalloc_of(p.pid)
        if objs:
            self.problem("leak-kmalloc", p.pid, f"{who} reaped with {len(objs)} kmalloc "
                         f"object(s), {sum(o.size for o in objs)} bytes, still live")
        return "process", p.pid

    def _on_procname(self, pid, f):
        self.proc(pid).name = f.get("name", "")
        return "process", pid

    def _on_syserr(self, pid, f):
        return "error", pid


def changes(trace):
    """Every state change of the trace, in order (see Change)."""
    return iter(Replayer(trace))


def state_at(trace, t):
    """A snapshot of the state with every record up to time t applied."""
    return Replayer(trace).run_until(t).snapshot()


def states_at(trace, times):
    """(t, snapshot) for each of the sorted times, in one pass."""
    rp = Replayer(trace)
    for t in times:
        yield t, rp.run_until(t).snapshot()
