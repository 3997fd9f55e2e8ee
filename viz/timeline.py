"""One replay pass over a trace, keeping what the pictures need.

xvtrace's Replayer applies the records in order; collect() watches its
Change stream and keeps, per process, *spans* (an area or region shape
alive over [t0, t1) at [start, end)), *resident intervals* (a region page
present in the page table over [t0, t1)) and *marks* (events worth a label).
It also probes physical memory by owner at evenly spaced instants, for the
stacked chart. Snapshots at any instant (the pmap-like bars, the animation)
are rebuilt from the spans afterwards, without replaying again. Nothing
here draws.

Memory stays bounded by what is drawn: spans, resident intervals and marks
(one small object each) and a fixed number of memory samples; never a copy
of the state per record.
"""

import bisect
from dataclasses import dataclass, field

import numpy as np

from . import mman, style


class NoEvents(Exception):
    """The trace, or the window asked for, holds no events."""


FAILED = 0xFFFFFFFF                 # a result of -1
MEMORY_SAMPLES = 1200               # probes of physical memory over the window
# Page owners (the OWNER enumeration) as the memory chart groups them.
KERNEL_FIXED = "kernel's own page tables"
PAGE_CACHE = "page cache (mapped files)"
KERNEL_OWNERS = (("pgtable", "processes' page tables"), ("kstack", "kernel stacks"),
                 ("kmalloc", "kmalloc"), ("pipe", "pipes"), ("kernel", "kernel (other)"))
PROCESS_OWNERS = ("user", "region")   # pages attributed to processes
# What a resident region page is: a private page, a shared object's, a file's
# (a page of its page cache, mapped shared or not yet copied by a private map).
RESIDENT_KINDS = ("private", "shared", "file")
# Events after which the replay's copy-on-write groups of [0, sz) pages may differ.
COW_GROUP_EVENTS = frozenset(("heap", "cow_fork", "cow_fault", "exec", "reap"))


@dataclass(slots=True)
class Span:
    """Something of kind at [start, end) in pid's address space over [t0, t1)."""
    pid: int
    kind: str            # text, guard, stack, heap, private, shared, file
    start: int
    end: int
    prot: int
    t0: float
    t1: float = None     # None while it lives


@dataclass(slots=True)
class Mark:
    """An event on a process's time line; start/end: the range it touched."""
    t: float
    pid: int
    event: str           # mmap, munmap, mprotect, mremap, fork, exec, exit, fault, failed
    text: str
    start: int = None
    end: int = None
    moved_from: tuple = None  # mremap that moved: the old range (start, end)


@dataclass
class ProcLife:
    pid: int
    parent: int = 0
    names: list = field(default_factory=list)
    born: float = None
    exited: float = None
    reaped: float = None
    spans: list = field(default_factory=list)
    resident: list = field(default_factory=list)    # [va, t0, t1, kind]: RESIDENT_KINDS
    writebacks: list = field(default_factory=list)  # (t, va): a page written back to its file
    cow: list = field(default_factory=list)         # [va, t0, t1]: shared copy-on-write
    marks: list = field(default_factory=list)
    region_ops: int = 0
    _arrays: dict = field(default=None, repr=False)

    def resident_arrays(self):
        """The resident intervals as numpy arrays va, t0, t1, kind (an index
        of RESIDENT_KINDS) and shared (kind is not private)."""
        if self._arrays is None or len(self._arrays["va"]) != len(self.resident):
            r = self.resident
            self._arrays = {
                "va": np.array([e[0] for e in r], dtype=np.int64),
                "t0": np.array([e[1] for e in r], dtype=np.float64),
                "t1": np.array([e[2] for e in r], dtype=np.float64),
                "kind": np.array([e[3] for e in r], dtype=np.int8)}
            self._arrays["shared"] = self._arrays["kind"] != 0
        return self._arrays

    @property
    def name(self):
        return self.names[-1] if self.names else "?"

    @property
    def title(self):
        """'demo (pid 3)', or 'sh → demo (pid 3)' after an exec."""
        return f"{' → '.join(self.names[-2:]) or '?'} (pid {self.pid})"

    def interest(self):
        """How much there is to see: region work first, then anything."""
        return self.region_ops * 10 + len(self.resident) + len(self.spans)


@dataclass
class SnapArea:
    kind: str
    start: int
    end: int
    prot: int
    resident: int        # pages present
    pages: int


@dataclass
class SnapProc:
    pid: int
    name: str
    parent: int
    areas: list          # [SnapArea] by address
    resident_vas: list   # sorted region pages present

    @property
    def title(self):
        return f"{self.name or '?'} (pid {self.pid})"


@dataclass
class Snapshot:
    t: float
    procs: list          # [SnapProc] by pid
    used: int
    total: int


@dataclass
class MemorySeries:
    """Pages in use over time: times[k] and one array per label, stacked in
    order; procs maps a process label to its pid."""
    times: np.ndarray
    series: dict
    procs: dict
    total: int

    def used_at(self, t):
        """(pages in use, pages managed) at the last sample at or before t."""
        if len(self.times) == 0:
            return 0, self.total
        k = max(0, int(np.searchsorted(self.times, t, side="right")) - 1)
        return int(sum(v[k] for v in self.series.values())), self.total


@dataclass
class Timeline:
    source: str
    unit: str                   # 's' or 'ticks'
    page: int
    start: float                # the window drawn
    end: float
    trace_start: float
    trace_end: float
    procs: dict                 # {pid: ProcLife}
    memory: MemorySeries
    records: int
    window_records: int
    origin: float = 0.0         # time 0 of the axes (see style.TimeScale)
    since: str = "since tracing started"
    focus: list = None          # the pids asked for (--pid, --tree), or None

    def time_scale(self, span=None):
        """The TimeScale of every picture of this timeline."""
        from .style import TimeScale
        return TimeScale(self.unit, self.end - self.start if span is None else span,
                         self.origin, self.since)

    def ranked(self):
        """Processes with something in the window, most interesting first."""
        live = [p for p in self.procs.values() if p.spans or p.marks]
        return sorted(live, key=lambda p: (-p.interest(), p.pid))

    def alive(self, span, t):
        """Is span alive at t? (At the window's end, what is still open is.)"""
        return span.t0 <= t and (t < span.t1 or t == span.t1 == self.end)

    def snapshot_at(self, t, pids=None):
        """Every address space at t, rebuilt from the spans: the state after
        every record with time <= t."""
        procs = []
        page = self.page
        for pid in sorted(self.procs if pids is None else pids):
            life = self.procs.get(pid)
            if life is None:
                continue
            live = [s for s in life.spans if self.alive(s, t)]
            if not live:
                continue
            res = life.resident_arrays()
            here = res["va"][(res["t0"] <= t) & ((t < res["t1"]) | (res["t1"] == self.end)
                                                 & (t == self.end))]
            vas = sorted(set(here.tolist()))
            areas = []
            for s in sorted(live, key=lambda s: s.start):
                n = (s.end - s.start) // page
                if s.kind in style.REGION_KINDS:
                    present = bisect.bisect_left(vas, s.end) - bisect.bisect_left(vas, s.start)
                else:
                    present = 0 if s.kind == "guard" else n
                areas.append(SnapArea(s.kind, s.start, s.end, s.prot, present, n))
            procs.append(SnapProc(pid, life.name, life.parent, areas, vas))
        return Snapshot(t, procs, *self.memory.used_at(t))

    def busiest_time(self, pids=None):
        """An instant worth a snapshot: when the most regions are mapped
        (the middle of the longest such stretch), among pids if given."""
        edges = []
        for life in (self.procs[p] for p in pids) if pids else self.procs.values():
            for s in life.spans:
                if s.kind in style.REGION_KINDS:
                    edges += [(s.t0, 1), (s.t1, -1)]
        if not edges:
            return self.end
        edges.sort(key=lambda e: (e[0], e[1]))
        best, best_len, best_t = -1, -1.0, self.end
        live = 0
        for i, (t, d) in enumerate(edges):
            live += d
            nxt = edges[i + 1][0] if i + 1 < len(edges) else self.end
            if nxt == t and i + 1 < len(edges):
                continue
            if live > best or live == best and nxt - t > best_len:
                best, best_len, best_t = live, nxt - t, (t + nxt) / 2
        return best_t


# ---- the pass -----------------------------------------------------------

class _ByPid:
    """A dict keyed by (pid, va) that also hands back all of one pid's
    entries at once (an exit must not scan every page of every process)."""

    def __init__(self):
        self.by_pid = {}

    def __contains__(self, key):
        return key[1] in self.by_pid.get(key[0], ())

    def __setitem__(self, key, value):
        self.by_pid.setdefault(key[0], {})[key[1]] = value

    def pop(self, key, *default):
        mine = self.by_pid.get(key[0])
        if mine is None or key[1] not in mine:
            if default:
                return default[0]
            raise KeyError(key)
        value = mine.pop(key[1])
        if not mine:
            del self.by_pid[key[0]]
        return value

    def pop_pid(self, pid):
        """Remove and return every entry of pid."""
        return list(self.by_pid.pop(pid, {}).values())

    def values(self):
        return [v for mine in self.by_pid.values() for v in mine.values()]


class _Collector:
    """Watches a Replayer and records spans, residency and marks."""

    def __init__(self, trace, start, end):
        self.trace = trace
        self.schema = trace.schema
        self.page = trace.header.page_size
        self.start, self.end = start, end
        self.procs = {}
        self.open_regions = {}       # region uid -> Span
        self.open_areas = {}         # (pid, kind) -> Span
        self.open_pages = _ByPid()   # (pid, va) -> resident entry
        self.open_cow = _ByPid()     # (pid, va) -> cow entry, while the page is shared
        self.cow_pages = {}          # pa -> its mappers, while a region page is shared COW
        self.groups_dirty = True     # the replay's cow_groups may have changed
        self.group_counts = ({}, 0)
        self.private = {}            # pid -> private region pages mapped
        self.pending_exec = {}       # pid -> exec Mark waiting for its name
        self.mapped_outcome = self._enum("outcome", "mapped", 0)
        self.kernel_pgtables = 0     # page-table pages allocated outside any process
        # The kernel maps and unmaps pages a moment before it records the
        # call that did it (fork copies, munmap, exit): entries a pid's page
        # maps opened or closed wait for its next call record and take its time.
        self.unborn = set()          # pids seen mapping pages before their fork record
        self.pending_open = {}       # unborn pid -> entries it opened
        self.pending_close = {}      # pid -> entries its unmaps closed

    def _enum(self, enum, label, default):
        try:
            return self.schema.value(enum, label)
        except KeyError:
            return default

    def life(self, pid, t):
        p = self.procs.get(pid)
        if p is None:
            p = self.procs[pid] = ProcLife(pid, born=t)
            self.unborn.add(pid)
        return p

    def settle(self, pid, t):
        """pid's call record at t: what its page maps changed just before
        happened at t, as far as the pictures go."""
        for entry in self.pending_open.pop(pid, ()):
            entry[1] = max(entry[1], t)
        for entry in self.pending_close.pop(pid, ()):
            entry[2] = max(entry[2], t)

    def mark(self, p, t, event, text, start=None, end=None):
        if self.start <= t <= self.end:
            m = Mark(t, p.pid, event, text, start, end)
            p.marks.append(m)
            return m
        return None

    # -- spans

    def open_span(self, p, kind, start, end, prot, t):
        span = Span(p.pid, kind, start, end, prot, t)
        p.spans.append(span)
        return span

    def close(self, span, t):
        if span is not None and span.t1 is None:
            span.t1 = t

    def sync_areas(self, proc, life, t):
        """Open and close area spans so they match proc's text, stack, heap."""
        want = {}
        if proc.text is not None and proc.text.end > proc.text.start:
            want["text"] = (proc.text.start, proc.text.end)
            if proc.stack is not None and proc.stack.start > proc.text.end:
                want["guard"] = (proc.text.end, proc.stack.start)
        if proc.stack is not None:
            want["stack"] = (proc.stack.start, proc.stack.end)
        if proc.heap is not None and proc.heap.end > proc.heap.start:
            want["heap"] = (proc.heap.start, proc.heap.end)
        for kind in ("text", "guard", "stack", "heap"):
            key = (life.pid, kind)
            have = self.open_areas.get(key)
            if have is not None and (have.start, have.end) == want.get(kind):
                continue
            self.close(have, t)
            self.open_areas.pop(key, None)
            if kind in want:
                prot = 0 if kind == "guard" else mman.all_access()
                self.open_areas[key] = self.open_span(life, kind, *want[kind], prot, t)

    def region_changes(self, life, detail, t):
        for r in detail.get("removed", ()):
            self.close(self.open_regions.pop(r.uid, None), t)
        if life.exited is not None:
            return
        for r in detail.get("added", ()):
            self.open_regions[r.uid] = self.open_span(life, region_kind(r.flags), r.start,
                                                      r.end, r.prot, t)

    def end_of(self, life, t):
        """pid exited: its address space is gone."""
        for key in [k for k in self.open_areas if k[0] == life.pid]:
            self.close(self.open_areas.pop(key), t)
        for uid in [u for u, s in self.open_regions.items() if s.pid == life.pid]:
            self.close(self.open_regions.pop(uid), t)
        for entry in self.open_pages.pop_pid(life.pid) + self.open_cow.pop_pid(life.pid):
            entry[2] = t
        self.private.pop(life.pid, None)

    def sync_cow(self, state, pa, t, gone=None, opened=None, closed=None):
        """A private region page is shared copy-on-write while more than one
        process maps it: open or close the intervals of its mappers (and of
        gone, the (pid, va) that just unmapped it); the entries opened and
        closed are appended to those lists."""
        mem = state.memory
        mappers = mem.maps.get(pa, ())
        page = mem.pages.get(pa)
        shared = page is not None and page.owner == "region" and len(mappers) > 1
        opened = [] if opened is None else opened
        closed = [] if closed is None else closed
        if shared:
            self.cow_pages[pa] = list(mappers)
        else:
            self.cow_pages.pop(pa, None)
        for key in mappers:
            if shared and key not in self.open_cow:
                entry = [key[1], t, None]
                self.life(key[0], t).cow.append(entry)
                self.open_cow[key] = entry
                opened.append(entry)
            elif not shared and key in self.open_cow:
                entry = self.open_cow.pop(key)
                entry[2] = t
                closed.append(entry)
        if gone in self.open_cow and gone not in mappers:
            entry = self.open_cow.pop(gone)
            entry[2] = t
            closed.append(entry)

    # -- the change stream

    def apply(self, ch, state):
        kind = ch.kind
        if ch.event in COW_GROUP_EVENTS:
            self.groups_dirty = True
        if kind == "page":
            self.on_page(ch.detail)
        elif kind == "map":
            self.on_map(ch, state)
        elif kind == "cache":
            self.on_cache(ch, state)
        elif kind in ("region", "layout", "process", "fault"):
            pid = ch.pid
            if pid <= 0:
                return
            life = self.life(pid, ch.time)
            if kind == "fault":
                self.pending_close.pop(pid, None)
            else:
                if ch.event == "fork":
                    self.unborn.discard(pid)
                self.settle(pid, ch.time)
            if kind == "region":
                self.on_region(ch, life)
            elif kind == "fault":
                self.on_fault(ch, life)
            else:
                self.on_process(ch, life, state)

    def on_page(self, d):
        """Count the kernel's own page tables (its fixed overhead, set up at
        boot with no process running) apart from the processes' ones."""
        old, page = d.get("old"), d.get("page")
        if old is not None and old.owner == "pgtable" and old.pid <= 0:
            self.kernel_pgtables -= 1
        if page is not None and page.owner == "pgtable" and page.pid <= 0:
            self.kernel_pgtables += 1

    def on_map(self, ch, state):
        d = ch.detail
        pid, va, t = d.get("pid", ch.pid), d.get("va"), ch.time
        if not pid or va is None:
            return
        life = self.life(pid, t)
        key = (pid, va)
        opened, closed = [], []
        if ch.event == "page_map":
            self.pending_close.pop(pid, None)     # a fault or fork mapping: not teardown
        old = self.open_pages.pop(key, None)
        if old is not None:
            old[2] = t
            closed.append(old)
            if not old[3]:
                self.private[pid] = self.private.get(pid, 0) - 1
        if ch.event == "page_map" and life.exited is None:
            shared = bool(d.get("shared", 0))
            entry = [va, t, None, self.resident_kind(state, d.get("pa"), shared)]
            life.resident.append(entry)
            opened.append(entry)
            self.open_pages[key] = entry
            if not entry[3]:            # private: the process's own page
                self.private[pid] = self.private.get(pid, 0) + 1
        if d.get("pa") is not None:
            self.sync_cow(state, d["pa"], t, key, opened, closed)
        if pid in self.unborn:
            self.pending_open.setdefault(pid, []).extend(opened)
        if closed and ch.event != "page_map":
            self.pending_close.setdefault(pid, []).extend(closed)

    def resident_kind(self, state, pa, shared):
        """The RESIDENT_KINDS index of a page mapped at pa."""
        if pa in state.memory.cached:
            return RESIDENT_KINDS.index("file")
        return RESIDENT_KINDS.index("shared" if shared else "private")

    def on_cache(self, ch, state):
        """A page written back to its file: a tick on each mapper's row."""
        if ch.event != "file_writeback":
            return
        for pid, va in state.memory.maps.get(ch.detail.get("pa"), ()):
            life = self.procs.get(pid)
            if life is not None and life.exited is None:
                life.writebacks.append((ch.time, va))

    def on_region(self, ch, life):
        d, t = ch.detail, ch.time
        ok = d.get("result", 0) != FAILED if ch.event == "mmap_ret" else d.get("result", 0) == 0
        self.region_changes(life, d, t)
        page = self.page
        if ch.event == "mmap_ret":
            life.region_ops += 1
            pages = (d.get("length", 0) + page - 1) // page
            if ok:
                kind = region_kind(d.get("flags", 0))
                start = d["result"]
                self.mark(life, t, "mmap", f"mmap {pages}p {kind}", start, start + pages * page)
            else:
                self.mark(life, t, "failed", "mmap failed")
        elif ch.event in ("munmap", "mprotect"):
            life.region_ops += 1
            start = d.get("addr", 0)
            end = start + (d.get("length", 0) + page - 1) // page * page
            if not ok:
                self.mark(life, t, "failed", f"{ch.event} failed", start, end)
            elif ch.event == "munmap":
                self.mark(life, t, "munmap", f"munmap {(end - start) // page}p", start, end)
            else:
                self.mark(life, t, "mprotect", f"mprotect {mman.rwx(d.get('prot', 0))}",
                          start, end)
        elif ch.event == "mremap":
            self.on_mremap(life, d, t)

    def on_mremap(self, life, d, t):
        """A move is one mark at the new range that remembers the old one
        (drawn as an arrow), not an munmap and an unrelated mmap."""
        life.region_ops += 1
        page = self.page
        old, new = d.get("old", 0), d.get("new", FAILED)
        if new == FAILED:
            self.mark(life, t, "failed", "mremap failed", old,
                      old + (d.get("oldlen", 0) + page - 1) // page * page)
            return
        end = new + (d.get("newlen", 0) + page - 1) // page * page
        pages = (end - new) // page
        if not d.get("moved"):
            self.mark(life, t, "mremap", f"mremap → {pages}p", new, end)
            return
        m = self.mark(life, t, "mremap", f"moved {pages}p from {old:#x}", new, end)
        if m is not None:
            m.moved_from = (old, old + (d.get("oldlen", 0) + page - 1) // page * page)

    def on_fault(self, ch, life):
        d = ch.detail
        if d.get("outcome", self.mapped_outcome) != self.mapped_outcome:
            va = d.get("va", 0)
            self.mark(life, ch.time, "fault", f"killed: fault at {va:#x}",
                      va - va % self.page, va - va % self.page + self.page)

    def on_process(self, ch, life, state):
        d, t, event = ch.detail, ch.time, ch.event
        proc = state.processes.get(life.pid)
        if event == "fork":
            life.parent = d.get("parent", 0)
            life.born = t
            parent = self.procs.get(life.parent)
            if parent is not None:
                self.mark(parent, t, "fork", f"fork → {life.pid}")
            if not life.names and proc is not None and proc.name:
                life.names.append(proc.name)    # the replay's rule: a child starts with its parent's name
            self.mark(life, t, "fork", f"forked by {life.parent}" if life.parent else "created")
        elif event == "exec":
            for entry in self.open_pages.pop_pid(life.pid):
                entry[2] = t
            self.private.pop(life.pid, None)
            m = self.mark(life, t, "exec", "exec")
            if m is not None:
                self.pending_exec[life.pid] = m
        elif event == "procname":
            name = d.get("name", "")
            if name and (not life.names or life.names[-1] != name):
                life.names.append(name)
            m = self.pending_exec.pop(life.pid, None)
            if m is not None:
                m.text = f"exec {name}"
        elif event == "exit":
            self.mark(life, t, "exit", "exit")
            self.region_changes(life, d, t)
            self.end_of(life, t)
            life.exited = t
            return
        elif event == "reap":
            life.reaped = t
            self.region_changes(life, d, t)
            self.end_of(life, t)
            return
        self.region_changes(life, d, t)
        if proc is not None and life.exited is None:
            self.sync_areas(proc, life, t)

    # -- probes of the live state

    def memory_sample(self, state):
        """(owner counts, {pid: pages of its own}) now. Pages shared
        copy-on-write are nobody's own: they count once, as "cow"."""
        shared, distinct = self.cow_counts(state)
        procs = {}
        for pid, proc in state.processes.items():
            user = proc.user_pages() if hasattr(proc, "user_pages") else None
            n = (user or 0) + max(0, self.private.get(pid, 0)) - shared.get(pid, 0)
            if n > 0:
                procs[pid] = n
        counts = dict(state.memory.counts)
        counts["cow"] = distinct
        counts["kernel pgtable"] = self.kernel_pgtables
        counts["pgtable"] = counts.get("pgtable", 0) - self.kernel_pgtables
        return counts, procs

    def cow_counts(self, state):
        """What state.memory.cow_shared() says, kept up to date as pages
        are mapped instead of scanning every mapped page for each sample:
        ({pid: its pages shared copy-on-write}, distinct pages shared)."""
        if self.groups_dirty:
            per_pid, distinct = {}, 0
            for pids in state.memory.cow_groups.values():
                if len(pids) > 1:
                    distinct += 1
                    for pid in pids:
                        per_pid[pid] = per_pid.get(pid, 0) + 1
            self.group_counts = (per_pid, distinct)
            self.groups_dirty = False
        per_pid, distinct = dict(self.group_counts[0]), self.group_counts[1]
        for mappers in self.cow_pages.values():
            distinct += 1
            for pid, _ in mappers:
                per_pid[pid] = per_pid.get(pid, 0) + 1
        return per_pid, distinct

    def finish(self, end):
        for span in list(self.open_areas.values()) + list(self.open_regions.values()):
            self.close(span, end)
        for entry in self.open_pages.values() + self.open_cow.values():
            entry[2] = end
        for life in self.procs.values():
            _not_before_birth(life)
            life.spans = [s for s in life.spans if s.t1 > self.start and s.t1 > s.t0]
            for s in life.spans:
                s.t0 = max(s.t0, self.start)
            life.resident = [r for r in life.resident if r[2] > self.start and r[2] > r[1]]
            for r in life.resident:
                r[1] = max(r[1], self.start)
            life.cow = [c for c in life.cow if c[2] > self.start and c[2] > c[1]]
            for c in life.cow:
                c[1] = max(c[1], self.start)


class _CallClock:
    """Physical memory of the processes in focus at the time of their calls.

    The kernel allocates and maps pages inside a call and records the call
    (fork, exit, munmap...) when it is done: drawn as they happen, a fork's
    page tables and copy-on-write pages would rise before the fork line.
    From a focus process's first page record after its last call record
    until its next call record, memory probes see the state from before
    that first record (held), so the chart steps at the call's line. A
    process that makes page records outside any recorded call (a pipe, a
    long wait) is held for at most HOLD_LIMIT."""

    PAGE_EVENTS = ("page_alloc", "page_free", "page_map", "page_unmap", "kmalloc", "kmfree")
    CALL_EVENTS = ("mmap_ret", "munmap", "mprotect", "fork", "exec", "exit", "reap", "fault",
                   "cow_fault", "heap", "mremap", "madvise")
    HOLD_LIMIT = 2e-3               # seconds; 2 million ticks when the TSC rate is unknown

    def __init__(self, trace, focus, col, state):
        ids = trace.schema.by_name
        self.page_ids = {ids[e].id for e in self.PAGE_EVENTS if e in ids}
        self.call_ids = {ids[e].id for e in self.CALL_EVENTS if e in ids}
        self.types = trace.records["type"]
        self.pids = trace.records["pid"]
        self.focus = set(focus)
        self.col, self.state = col, state
        self.pending = {}           # focus pid -> time of its first page record since its call
        self.sample = None          # memory_sample from before the earliest pending record
        self.hold_limit = self.HOLD_LIMIT * (1 if trace.rate_known else 1e9)

    def before(self, i, t):
        pid = int(self.pids[i])
        if pid in self.focus and pid not in self.pending and int(self.types[i]) in self.page_ids:
            if not self.pending:
                self.sample = self.col.memory_sample(self.state)
            self.pending[pid] = t

    def after(self, i, ch):
        """Record i was a call: its process (and a forked child, whose pages
        the parent mapped) is done with the pages it touched."""
        if self.pending and int(self.types[i]) in self.call_ids:
            self.pending.pop(int(self.pids[i]), None)
            if ch is not None and ch.event == "fork":
                self.pending.pop(ch.detail.get("child"), None)

    def held(self, t):
        """The sample a probe at t shows, or None for the live state."""
        for pid in [p for p, since in self.pending.items() if t - since > self.hold_limit]:
            del self.pending[pid]
        return self.sample if self.pending else None


def _not_before_birth(life):
    """A child's pages are mapped while fork copies the parent, a moment
    before the fork record itself: nothing of a process starts before the
    fork line that made it."""
    if life.born is None:
        return
    for s in life.spans:
        s.t0 = max(s.t0, life.born)
    for entry in life.resident + life.cow:
        entry[1] = max(entry[1], life.born)
        entry[2] = max(entry[2], entry[1])


def collect(trace, start=None, end=None, samples=MEMORY_SAMPLES, focus=None):
    """Replay trace up to end and return its Timeline for the window
    [start, end] (default: the whole trace). focus: pids the memory chart
    names first."""
    from xvtrace.replay import Replayer

    times = trace.times
    if len(times) == 0:
        raise NoEvents("the trace holds no events")
    first, last = float(times[0]), float(times[-1])
    start = first if start is None else max(start, first)
    end = last if end is None else min(end, last)
    if end < start:
        raise NoEvents(f"no events between {start:g} and {end:g} {trace.time_unit} "
                       f"(the trace runs from {first:g} to {last:g})")
    stop = int(np.searchsorted(times, end, side="right"))
    in_window = stop - int(np.searchsorted(times, start, side="left"))

    col = _Collector(trace, start, end)
    rp = Replayer(trace)
    # Memory is probed at evenly spaced instants: a probe at t sees every
    # record with time <= t applied (for processes in focus, see _CallClock).
    n = max(2, samples)
    probes = [start + (end - start) * k / (n - 1) for k in range(n)]
    mem_rows = []
    k = 0
    state = rp.state
    clock = _CallClock(trace, focus, col, state) if focus else None
    i = 0
    for chunk in range(0, stop, 1 << 16):         # times as floats, a slice at a time
        for ti in times[chunk:min(stop, chunk + (1 << 16))].tolist():
            while k < n and probes[k] < ti:
                held = clock.held(probes[k]) if clock else None
                mem_rows.append(held or col.memory_sample(state))
                k += 1
            if clock:
                clock.before(i, ti)
            ch = rp.step()
            if ch is not None:
                col.apply(ch, state)
            if clock:
                clock.after(i, ch)
            i += 1
    while k < n:
        mem_rows.append(col.memory_sample(state))
        k += 1
    col.finish(end)
    memory = _memory_series(probes, mem_rows, col.procs, state.memory.total, focus)
    return Timeline(source=trace.source, unit=trace.time_unit, page=col.page, start=start,
                    end=end, trace_start=first, trace_end=last, procs=col.procs,
                    memory=memory, records=len(times), window_records=in_window)


def _memory_series(times, rows, lives, total, focus=None, top=6):
    """Stackable series, bottom first: the kernel's own page tables (its
    fixed overhead), then the processes in focus (else the `top` with the
    most pages of their own), the other processes together (named), shared
    pages, then the kernel's uses for processes."""
    n = len(times)
    peak = {}
    for _, procs in rows:
        for pid, pages in procs.items():
            peak[pid] = max(peak.get(pid, 0), pages)
    ranked = sorted(peak, key=lambda pid: (-peak[pid], pid))
    if focus:
        ranked = [p for p in focus if p in peak] + [p for p in ranked if p not in focus]
    chosen = sorted(ranked[:top])
    series, labels = {}, {}
    series[KERNEL_FIXED] = np.array([c.get("kernel pgtable", 0) for c, _ in rows], dtype=float)
    for pid in chosen:
        life = lives.get(pid)
        label = f"{life.name if life else '?'} (pid {pid})"
        labels[label] = pid
        series[label] = np.array([procs.get(pid, 0) for _, procs in rows], dtype=float)
    own = sum(series.values()) if series else np.zeros(n)
    user = np.array([sum(c.get(o, 0) for o in PROCESS_OWNERS) for c, _ in rows], dtype=float)
    cow = np.array([c.get("cow", 0) for c, _ in rows], dtype=float)
    others = [p for p in ranked if p not in chosen]
    names = sorted({lives[p].name for p in others if p in lives})
    series[other_label(names)] = np.maximum(user - own - cow, 0)
    series["shared copy-on-write"] = cow
    series["shared regions"] = np.array([c.get("shared", 0) for c, _ in rows], dtype=float)
    series[PAGE_CACHE] = np.array([c.get("pcache", 0) for c, _ in rows], dtype=float)
    known = ({o for o, _ in KERNEL_OWNERS} | set(PROCESS_OWNERS) |
             {"shared", "pcache", "cow", "kernel pgtable"})
    for owner, label in KERNEL_OWNERS:
        values = [c.get(owner, 0) for c, _ in rows]
        if owner == "kernel":       # anything the chart has no name for
            values = [v + sum(m for o, m in c.items() if o not in known)
                      for v, (c, _) in zip(values, rows)]
        series[label] = np.array(values, dtype=float)
    return MemorySeries(np.array(times, dtype=float), series, labels, total)


def region_kind(flags):
    """A region's kind, as the pictures colour it: file, shared or private."""
    if mman.is_file(flags):
        return "file"
    return "shared" if mman.is_shared(flags) else "private"


def other_label(names, width=24):
    """'other processes (sh, init)': the rest of the processes, by name, as
    many as fit in width characters ('+N' for the rest), on a second line
    when there are more than two (it is a legend entry)."""
    if not names:
        return "other processes"
    shown = []
    for name in names:
        if shown and len(", ".join(shown + [name])) > width:
            break
        shown.append(name)
    more = f", +{len(names) - len(shown)}" if len(names) > len(shown) else ""
    sep = "\n" if len(shown) > 2 or more else " "
    return f"other processes{sep}({', '.join(shown)}{more})"
