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

from . import animate, aspace, physmem, report, snapshot, style, timeline



class VizError(Exception):
    """Bad input or options; the message is meant for the user."""


@dataclass
class Options:
    pid: int = None
    start: str = None            # --from, as typed
    end: str = None              # --to
    at: str = None               # snapshot time
    fmt: str = "png"
    size: tuple = (16, 9)
    dpi: int = 100
    anim: bool = True
    max_procs: int = 8
    frames: int = animate.MAX_FRAMES


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


def slug(text):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "proc"


def render(trace, outdir, opts=None, log=None):
    """Draw everything for trace into outdir; returns a Result."""
    opts = opts or Options()
    log = log or (lambda msg: None)
    outdir = Path(outdir)
    result = Result(outdir)
    clock = time.perf_counter()

    def lap(step):
        nonlocal clock
        now = time.perf_counter()
        result.seconds[step] = result.seconds.get(step, 0.0) + now - clock
        clock = now

    start = parse_time(trace, opts.start, VizError) if opts.start is not None else None
    end = parse_time(trace, opts.end, VizError) if opts.end is not None else None
    if start is not None and end is not None and end < start:
        raise VizError(f"--to {opts.end} is before --from {opts.start}")
    try:
        tl = timeline.collect(trace, start, end)
    except timeline.NoEvents as e:
        raise VizError(f"{trace.source or 'trace'}: {e}") from None
    result.timeline = tl
    lap("replay")
    if opts.pid is not None and opts.pid not in tl.procs:
        known = " ".join(str(p) for p in sorted(tl.procs)) or "none"
        raise VizError(f"no process with pid {opts.pid} in this trace"
                       f"{' window' if start is not None or end is not None else ''} "
                       f"(pids: {known})")
    pids = [opts.pid] if opts.pid is not None else None

    from xvtrace import check
    result.check = check.check(trace)
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

    lives = ([tl.procs[opts.pid]] if pids else
             [p for p in tl.ranked() if p.spans][:opts.max_procs])
    for life in lives:
        fig, _ = aspace.figure(tl, life, opts.size, opts.dpi)
        path = save(fig, f"aspace-{life.pid}-{slug(life.name)}")
        result.pictures.append(Picture("aspace", path, f"Address space of {life.title} over "
                                       "time", life.pid))
        log(f"wrote {path}")
    lap("aspace")

    at = parse_time(trace, opts.at, VizError) if opts.at is not None else tl.busiest_time(pids)
    at = min(max(at, tl.start), tl.end)
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
                                 pids, max_frames=opts.frames):
            result.pictures.append(Picture("animation", Path(path),
                                           "The run, snapshot by snapshot"))
            log(f"wrote {path}")
        lap("animation")

    result.index = report.write(trace, result, outdir)
    lap("report")
    log(f"wrote {result.index}")
    return result
