"""The run as an animation: snapshots (snapshot.py) stepping through time.

Frames come just after each event worth seeing (mmap, munmap, mprotect,
fork, exec, exit) and evenly in between, at most max_frames of them. When
processes are selected (--pid, --tree), every event of theirs gets its own
frame, at the event's own time and captioned with it, however close the
events are (up to MAX_EVENT_FRAMES); a frame at t shows the state after
every record up to t. The
processes shown and the address axis are fixed for the whole animation,
so that nothing jumps, unless too many processes come and go (then each
frame shows those alive); a strip at the bottom shows where in the run
each frame is.
Written with matplotlib's PillowWriter (GIF, no external tool) and, when
ffmpeg is on PATH, FFMpegWriter (MP4).
"""

import shutil

import numpy as np
from matplotlib.animation import FFMpegWriter, PillowWriter

from . import snapshot, style
from .addraxis import AddressAxis

MAX_FRAMES = 48
MAX_EVENT_FRAMES = 400
FPS = 2
COLUMNS = 4              # processes per frame: the bars stay wide enough to label
EVENTS = ("mmap", "munmap", "mprotect", "fork", "exec", "exit")


def frame_times(timeline, pids=None, max_frames=MAX_FRAMES):
    """Sorted instants to show: after events first, the rest evenly."""
    start, end = timeline.start, timeline.end
    if end <= start:
        return [end]
    lives = [timeline.procs[p] for p in pids] if pids else timeline.procs.values()
    events = sorted({m.t for life in lives for m in life.marks if m.event in EVENTS})
    # An event's frame shows the state right after it (and its neighbours).
    nudge = (end - start) * 1e-4
    wanted = [min(t + nudge, end) for t in events]
    if len(wanted) > max_frames // 2:
        idx = np.linspace(0, len(wanted) - 1, max_frames // 2).round().astype(int)
        wanted = [wanted[i] for i in sorted(set(idx.tolist()))]
    even = np.linspace(start, end, max(2, max_frames - len(wanted))).tolist()
    times = sorted(set(wanted + even))
    close = (end - start) / (4 * max_frames)
    out = []
    for t in times:
        if out and t - out[-1] < close:
            if t in wanted:
                out[-1] = t         # keep the event frame rather than the even one
            continue
        out.append(t)
    return out[:max_frames]


def event_frames(timeline, pids, limit=MAX_EVENT_FRAMES):
    """(time, caption) of a frame for every event of the pids, in order,
    plus the window's first and last instants: nothing merged."""
    marks = sorted((m for p in pids if p in timeline.procs for m in timeline.procs[p].marks
                    if m.event in style.EVENT_STYLE), key=lambda m: (m.t, m.pid))
    scale = timeline.time_scale()
    def at(t):
        return f"{scale.format(t)} {scale.since}"

    frames = [(timeline.start, f"{at(timeline.start)}: before the first event")]
    for m in marks[:limit]:
        frames.append((m.t, f"after {scale.format(m.t)}: {timeline.procs[m.pid].name} "
                            f"(pid {m.pid}) {m.text}"))
    more = f" ({len(marks) - limit} more events not shown)" if len(marks) > limit else ""
    frames.append((timeline.end, f"{at(timeline.end)}: end of the window{more}"))
    return frames


def save(timeline, paths, pids=None, size=(12, 6.75), dpi=80, max_frames=MAX_FRAMES,
         every_event=False):
    """Write the animation to each path (.gif; .mp4 only if ffmpeg exists).
    every_event: a captioned frame per event of the pids (event_frames).
    Returns the paths written."""
    if every_event and pids:
        times, captions = map(list, zip(*event_frames(timeline, pids)))
    else:
        times = frame_times(timeline, pids, max_frames)
        captions = [None] * len(times)
    frames = _columns(timeline, times, pids)
    if not any(frames):
        return []
    if all(columns == frames[0] for columns in frames):
        axes = [_axis(timeline, times, frames)] * len(times)
    else:       # the bars change anyway: each frame's axis fits its own
        axes = [_axis(timeline, [t], [columns]) for t, columns in zip(times, frames)]
    written = []
    with style.rc():
        for path in paths:
            path = str(path)
            if path.endswith(".mp4"):
                if not shutil.which("ffmpeg"):
                    continue
                writer = FFMpegWriter(fps=FPS)
            else:
                writer = PillowWriter(fps=FPS)
            fig = style.new_figure(size, dpi)
            with writer.saving(fig, path, dpi):
                for t, caption, columns, axis in zip(times, captions, frames, axes):
                    _frame(fig, timeline, t, columns, axis, size, caption)
                    writer.grab_frame()
            written.append(path)
    return written


def _columns(tl, times, pids):
    """The processes each frame shows. The same ones throughout, so that
    nothing jumps, when they fit; on a busy run, where processes come and
    go, the most interesting of those alive at each frame."""
    fixed = snapshot.columns_for(tl, times, pids, limit=COLUMNS + 1, mappers_only=True)
    if len(fixed) <= COLUMNS:
        return [fixed] * len(times)
    return [snapshot.columns_for(tl, [t], pids, limit=COLUMNS, mappers_only=True)
            for t in times]


def _axis(tl, times, frames):
    """An address axis holding every area the frames show."""
    ranges = []
    for t, columns in zip(times, frames):
        for p in tl.snapshot_at(t, columns).procs:
            ranges += [(a.start, a.end) for a in p.areas]
    return AddressAxis(ranges, tl.page)


def _frame(fig, tl, t, columns, axis, size, caption=None):
    fig.clear()
    w, h = size
    ax = fig.add_axes([snapshot.LEFT / w, 1.75 / h, (w - snapshot.LEFT - snapshot.RIGHT) / w,
                       (h - 1.75 - 0.95) / h])
    snap = tl.snapshot_at(t, columns)
    snapshot.draw(ax, snap, axis, columns, tl)
    scale = tl.time_scale()
    snapshot.title(fig, size, snap, scale, tl, caption)
    snapshot.legend(fig, ax, snap)
    _progress(fig, tl, t, columns, scale, size)


def _progress(fig, tl, t, columns, scale, size):
    """A strip under the bars: the run, its events, and where this frame is."""
    w, h = size
    ax = fig.add_axes([snapshot.LEFT / w, 0.32 / h, (w - snapshot.LEFT - snapshot.RIGHT) / w,
                       0.3 / h])
    ax.set_xlim(tl.start, tl.end if tl.end > tl.start else tl.start + 1e-9)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    scale.apply(ax.xaxis)
    ax.tick_params(axis="x", labelsize=10)
    ax.axvspan(tl.start, t, color="#DDDDDD")
    by_event = {}
    for pid in columns:
        for m in tl.procs[pid].marks:
            by_event.setdefault(m.event, []).append(m.t)
    pixel = (tl.end - tl.start) / 2000 or 1.0     # finer than the strip can show
    for event, times in by_event.items():       # one artist per kind of event, not per event
        if event in style.EVENT_STYLE:
            times = np.unique(np.round(np.array(times) / pixel)) * pixel
            ax.vlines(times, 0, 1, colors=style.EVENT_STYLE[event][0], linewidth=1.2)
    ax.axvline(t, color="black", linewidth=3)
    ax.set_title(f"the window ({scale.suffix} {scale.since}): grey so far, lines are events",
                 fontsize=10, loc="left", fontweight="normal", pad=3)
