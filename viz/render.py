"""Render the default set of pictures of one trace into a directory.

    result = render(trace, "out/plots", Options(fmt="png"))
    result.index        # out/plots/index.html

The command line (__main__.py) and `make demo` (demo.py) both come here.
"""

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from hostlib.cli import parse_time

from . import animate, aspace, physmem, procs, report, snapshot, style, timeline



class VizError(Exception):
    """Bad input or options; the message is meant for the user."""


@dataclass
class Options:
    pids: list = field(default_factory=list)     # --pid: these processes
    trees: list = field(default_factory=list)    # --tree: these and their descendants
    start: str = None            # --from, as typed
    end: str = None              # --to
    at: str = None               # snapshot time
    fmt: str = "png"
    size: tuple = (16, 9)
    dpi: int = 100
    anim: bool = True
    max_procs: int = 8
    frames: int = animate.MAX_FRAMES
    command: str = None          # the command line traced (viz.trace), for index.html


@dataclass
class Picture:
    kind: str                    # aspace, snapshot, memory, animation
    path: Path
    caption: str
    pid: int = None


@dataclass
class Result:
    outdir: Path
    pictures: list = field(default_factory=list)
    index: Path = None
    timeline: object = None
    check: object = None
    seconds: dict = field(default_factory=dict)   # time spent per step
    command: str = None


def slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "proc"


def render(trace, outdir, opts=None, log=None):
    """Draw everything for trace into outdir; returns a Result."""
    opts = opts or Options()
    log = log or (lambda msg: None)
    outdir = Path(outdir)
    result = Result(outdir, command=opts.command)
    clock = time.perf_counter()

    def lap(step):
        nonlocal clock
        now = time.perf_counter()
        result.seconds[step] = result.seconds.get(step, 0.0) + now - clock
        clock = now

    selected, start, end, origin, since = choose_window(trace, opts)
    checking = BackgroundCheck(trace)   # on the other core, for a big trace
    try:
        tl = _collect(trace, selected, start, end)
        tl.origin, tl.since, tl.focus = origin, since, selected
        at = _snapshot_time(trace, opts, tl)
    except VizError:
        checking.cancel()
        raise
    result.timeline = tl
    pids = selected
    lap("replay")
    result.check = checking.result()
    lap("check")

    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise VizError(f"cannot create {outdir}: {e.strerror}") from None
    ext = opts.fmt

    def save(fig, name):
        path = outdir / f"{name}.{ext}"
        with style.rc():        # some settings (hatch width, SVG text) apply when drawn
            fig.savefig(path, format=ext, dpi=opts.dpi)
        return path

    _draw_maps(tl, pids, opts, save, result, log)
    lap("aspace")

    if at is None:
        at = tl.busiest_time(pids)
    fig, _ = snapshot.figure(tl, at, pids, opts.size, opts.dpi)
    path = save(fig, "snapshot")
    result.pictures.append(Picture("snapshot", path, "Every address space at one instant"))
    log(f"wrote {path}")
    lap("snapshot")

    fig, _ = physmem.figure(tl, opts.size, opts.dpi)
    path = save(fig, "memory")
    result.pictures.append(Picture("memory", path, "Physical memory over time, by owner"))
    log(f"wrote {path}")
    lap("memory")

    if opts.anim:
        for path in animate.save(tl, [outdir / "animation.gif", outdir / "animation.mp4"],
                                 pids, max_frames=opts.frames,
                                 every_event=pids is not None):
            result.pictures.append(Picture("animation", Path(path),
                                           "The run, snapshot by snapshot"))
            log(f"wrote {path}")
        lap("animation")

    result.index = report.write(trace, result, outdir)
    lap("report")
    log(f"wrote {result.index}")
    return result


def _collect(trace, selected, start, end):
    """The timeline of the window; VizError if it, or the selection in it, is empty."""
    try:
        tl = timeline.collect(trace, start, end, focus=selected)
    except timeline.NoEvents as e:
        raise VizError(f"{trace.source or 'trace'}: {e}") from None
    pids = selected
    if pids is not None and not any(p in tl.procs and (tl.procs[p].spans or tl.procs[p].marks)
                                    for p in pids):
        who = f"pid {pids[0]} has" if len(pids) == 1 else \
            f"pids {' '.join(map(str, pids))} have"
        raise VizError(f"nothing to draw: {who} no address space or event between "
                       f"{style.moment(start, end - start)} and {style.moment(end, end - start)}")
    return tl


def _snapshot_time(trace, opts, tl):
    """--at, which must lie in the window drawn; None: the busiest instant."""
    if opts.at is None:
        return None
    at = parse_time(trace, opts.at, VizError)
    if not tl.start <= at <= tl.end:
        where = "window drawn" if (tl.start, tl.end) != (tl.trace_start, tl.trace_end) \
            else "trace"
        raise VizError(f"--at {opts.at} is outside the {where} "
                       f"({style.moment(tl.start, tl.end - tl.start)} to "
                       f"{style.moment(tl.end, tl.end - tl.start)})")
    return at


def _draw_maps(tl, pids, opts, save, result, log):
    """An address-space map for each selected process (or the most
    interesting ones), over the whole window when a selection was asked for."""
    lives = [p for p in tl.ranked() if p.spans and (pids is None or p.pid in pids)]
    if len(lives) > opts.max_procs:
        log(f"address-space maps for {opts.max_procs} of {len(lives)} processes "
            "(--max-procs N for more)")
    for life in sorted(lives[:opts.max_procs], key=lambda p: p.pid):
        fig, _ = aspace.figure(tl, life, opts.size, opts.dpi, whole_window=pids is not None)
        path = save(fig, f"aspace-{life.pid}-{slug(life.name)}")
        result.pictures.append(Picture("aspace", path, f"Address space of {life.title} over "
                                       "time", life.pid))
        log(f"wrote {path}")


def choose_window(trace, opts):
    """(selected pids or None, start, end, origin, since) from the options:
    --from/--to as given, else the selected processes' lifetimes, else the
    whole trace; time 0 of the axes is the first selected process's start,
    or the window's, or tracing's. Raises VizError on a pid not in the trace
    or a time outside it."""
    times = trace.times
    if len(times) == 0:
        raise VizError(f"{trace.source or 'trace'}: the trace holds no events")
    first, last = float(times[0]), float(times[-1])
    span = last - first
    table = procs.read(trace)
    selected = None
    if opts.pids or opts.trees:
        try:
            selected = procs.select(table, opts.pids, opts.trees)
        except procs.SelectionError as e:
            raise VizError(str(e)) from None
    start = parse_time(trace, opts.start, VizError) if opts.start is not None else None
    end = parse_time(trace, opts.end, VizError) if opts.end is not None else None
    for name, value, text in (("--from", start, opts.start), ("--to", end, opts.end)):
        if value is not None and not first <= value <= last:
            raise VizError(f"{name} {text} is outside the trace ({style.moment(first, span)} "
                           f"to {style.moment(last, span)})")
    if start is not None and end is not None and end < start:
        raise VizError(f"--to {opts.end} is before --from {opts.start}")
    if selected is not None and start is None and end is None:
        start, end = procs.window(table, selected, first, last)
        origin, since = procs.origin(table, selected)
        return selected, start, end, first if origin is None else origin, since
    start = first if start is None else start
    end = last if end is None else end
    if start > first:
        return selected, start, end, start, \
            f"after {style.moment(start, end - start)} into the trace"
    return selected, start, end, first, "since tracing started"


PARALLEL_CHECK = 200_000        # records: below this the checker runs in this process


class BackgroundCheck:
    """xvtrace's checker over the whole trace, a second replay: for a big
    trace it runs in a forked process while this one replays for the
    pictures (the two take about as long); result() waits for its Report
    (without the end state, which the pictures do not use)."""

    def __init__(self, trace, threshold=PARALLEL_CHECK):
        self.trace, self.proc, self.conn = trace, None, None
        if len(trace.records) < threshold:
            return
        import multiprocessing
        try:
            ctx = multiprocessing.get_context("fork")
            self.conn, child = ctx.Pipe(duplex=False)
            self.proc = ctx.Process(target=_check_child, args=(trace, child), daemon=True)
            self.proc.start()
            child.close()
        except (OSError, ValueError):
            self.proc = None            # no fork here: check in this process

    def result(self):
        from xvtrace import check
        if self.proc is not None:
            try:
                report = self.conn.recv()
            except (EOFError, OSError):
                report = None           # the child died: check here instead
            self.proc.join()
            self.proc = None
            if report is not None:
                return report
        return check.check(self.trace)

    def cancel(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
            self.proc = None


def _check_child(trace, conn):
    from xvtrace import check
    report = check.check(trace)
    report.state = None
    conn.send(report)
    conn.close()
