"""Check a whole trace against the kernel's memory invariants: the kernel
leak detector that tests run over the trace of a suite.

Checked while replaying (replay.py raises the problems):
  - a page is freed only while allocated, once, and not while a process
    still maps it; it is never allocated twice, nor mapped while free;
  - a process maps a virtual page once, and unmaps only what it maps;
  - no mmap region overlaps another region, the heap, stack or text of its
    process, and the heap never grows into a region;
  - a page fault is mapped only inside a region (or the heap or stack);
  - a private region page is freed by the end of the munmap, mmap, exec
    or exit that removed its last mapping;
  - when a process is reaped it maps no region page and no kmalloc object
    is charged to it;
  - a kernel object is freed only while live, once, with the size and
    class it was allocated with;
  - a file page is read into an allocated page-cache page, and no part of
    a file is cached in two pages at once (one page cache per file); a
    page written back is a cached page of that file and offset.

Checked at the end of the trace, when the system should be quiet:
  - user pages in use are exactly those of the live processes' [0, sz);
  - there are no more kernel stacks than live processes;
  - every private region page is mapped by some process;
  - no shared-object or page-cache page is left when no process has a
    region.

A trace with missing events cannot prove anything: events the kernel lost,
frames damaged or missing, a capture cut short or started late, tracing
turned off or events masked make the verdict INCONCLUSIVE (exit 3), and
the problems found are only possible ones. Otherwise FAIL (exit 1) if a
problem was found, else PASS (exit 0).
"""

from collections import Counter
from dataclasses import dataclass, field

from . import ledger, mapledger
from .replay import Problem, Replayer

PASS, FAIL, INCONCLUSIVE = 0, 1, 3


@dataclass
class Report:
    problems: list = field(default_factory=list)    # [replay.Problem]
    incomplete: list = field(default_factory=list)  # why the trace may lack events
    notes: list = field(default_factory=list)       # what was live at the end, etc.
    state: object = None                            # replay.State at the end

    @property
    def status(self):
        # Missing events can both hide problems and make up false ones.
        if self.incomplete:
            return INCONCLUSIVE
        return FAIL if self.problems else PASS

    @property
    def verdict(self):
        return {PASS: "PASS", FAIL: "FAIL", INCONCLUSIVE: "INCONCLUSIVE"}[self.status]


def lost_by_cpu(trace):
    lost = trace.schema.by_name.get("lost")
    out = Counter()
    if lost is None:
        return out
    for r in trace.records[trace.records["type"] == lost.id].tolist():
        fields = trace.schema.fields_of(lost, r[5:9])
        out[fields.get("cpu", r[2])] += fields.get("count", 0)
    return out


def end_problems(trace, st):
    """Problems with the state at the end of the trace (see the module doc)."""
    out = []
    t = st.time
    live = list(st.processes.values())
    counts = st.memory.counts

    def problem(kind, message):
        out.append(Problem(t, None, kind, 0, "at the end: " + message))

    # Processes whose layout the trace never showed (they existed before
    # tracing started) make the user-page count unknowable; half-forked
    # ones ('new') hold no user pages of their own yet.
    unknown = [p for p in live if p.heap is None and p.state != "new"]
    held = sum(p.user_pages() or 0 for p in live)
    if counts["user"] > held and not unknown:
        problem("leak-user", f"{counts['user']} user pages in use, but the live processes "
                f"hold {held}")
    if counts["kstack"] > len(live):
        problem("leak-kstack", f"{counts['kstack']} kernel stacks in use for {len(live)} "
                "live process(es)")
    orphans = sorted(pa for pa, pg in st.memory.pages.items()
                     if pg.owner == "region" and pa not in st.memory.maps)
    if orphans:
        sample = " ".join(hex(pa) for pa in orphans[:4])
        problem("leak-region", f"{len(orphans)} region page(s) mapped by no process "
                f"(e.g. {sample})")
    if counts["pcache"] and not any(p.regions for p in live):
        problem("leak-pcache", f"{counts['pcache']} page-cache page(s) in use, but no "
                "process has a region")
    if counts["shared"] and not any(p.regions for p in live):
        problem("leak-shared", f"{counts['shared']} shared-object page(s) in use, but no "
                "process has a region")
    return out


def check(trace, fast=True):
    """Replay the whole trace and report on it. fast: check the page lifetimes
    no mapping names with ledger.py (the same problems, found sooner)."""
    rp = Replayer(trace)
    grouped = ledger.page_records(trace) if fast else None
    skip = ledger.unmapped_pages(trace, grouped) if fast else None
    if skip is None:
        st = rp.run_to(len(trace.records))
    else:
        # Pages no process maps, and clean lifetimes of mapped pages: their
        # rules checked all at once (ledger.py, mapledger.py).
        mapped = mapledger.picked(trace, grouped)
        st = rp.run_except(skip if mapped is None else skip | mapped.mask)
        problems, live = ledger.check(trace, skip)
        st.problems = sorted(st.problems + problems, key=lambda p: p.index)
        for pa, page in live.items():
            rp.set_page(pa, page)
        if mapped is not None:
            install_mapped(st, rp, mapped)
    report = Report(problems=list(st.problems) + end_problems(trace, st), state=st)

    lost = lost_by_cpu(trace)
    if lost:
        per_cpu = ", ".join(f"cpu {c}: {n}" for c, n in sorted(lost.items()))
        report.incomplete.append(f"{sum(lost.values())} events lost in the kernel ({per_cpu})")
    if trace.damaged:
        report.incomplete.append(f"{trace.damaged} damaged frame(s) skipped")
    if trace.missing_frames:
        report.incomplete.append(f"{trace.missing_frames} frame(s) missing from the capture")
    if trace.truncated:
        report.incomplete.append("the capture ends inside a frame")
    if trace.first_seq:
        report.incomplete.append(f"the capture starts at frame {trace.first_seq}")
    report.incomplete.extend(st.gaps)

    live = st.processes.values()
    if live:
        names = ", ".join(f"{p.pid} {p.name or '?'} ({p.state})"
                          for p in sorted(live, key=lambda p: p.pid))
        report.notes.append(f"{len(st.processes)} process(es) not reaped at the end: {names}")
    mem = st.memory
    counts = ", ".join(f"{o} {n}" for o, n in sorted(mem.counts.items()) if n)
    total = f" of {mem.total}" if mem.total else ""
    report.notes.append(f"{mem.used}{total} pages in use at the end" +
                        (f": {counts}" if counts else ""))
    kobjs = [o for o in st.kmalloc.values() if o.pid == 0]
    if kobjs:
        report.notes.append(f"{len(kobjs)} kernel kmalloc object(s) live at the end, "
                            f"{sum(o.size for o in kobjs)} bytes")
    return report


def install_mapped(st, rp, mapped):
    """Put the pages and mappings mapledger.py left at the end into the state."""
    for pa, page in mapped.pages.items():
        rp.set_page(pa, page)
    for pa, mappers in mapped.maps.items():
        st.memory.maps[pa] = mappers
        for pid, va in mappers:
            p = st.processes.get(pid)
            if p is not None:
                p.mapped[va] = pa


def format_report(trace, report, limit=50):
    """The report as lines of text."""
    t = trace.times
    span = f"{trace.format_time(t[-1] - t[0])} {trace.time_unit}" if len(t) else "empty"
    lines = [f"{trace.source or 'trace'}: {len(trace.records)} records, "
             f"{trace.header.ncpu} CPU(s), {span}"]
    for p in report.problems[:limit]:
        where = f" (record {p.index})" if p.index is not None else ""
        lines.append(f"problem {p.kind} at t={trace.format_time(p.time)}{where}: {p.message}")
    if len(report.problems) > limit:
        lines.append(f"... and {len(report.problems) - limit} more problems")
    lines.extend(report.notes)
    if report.incomplete:
        why = "; ".join(report.incomplete)
        after = " (problems above may come from the missing events)" if report.problems else ""
        lines.append(f"incomplete trace: {why}{after}")
    n = len(report.problems)
    counted = f" ({n} {'possible ' * bool(report.incomplete)}problem{'s' * (n != 1)})"
    lines.append(f"verdict: {report.verdict}" + (counted if n else ""))
    return lines
