"""The run as an animation: snapshots (snapshot.py) stepping through time.

Frames come just after each event worth seeing (mmap, munmap, mprotect,
fork, exec, exit) and evenly in between, at most max_frames of them. The
columns and the address axis are fixed for the whole animation so nothing
jumps; a strip at the bottom shows where in the run each frame is.
Written with matplotlib's PillowWriter (GIF, no external tool) and, when
ffmpeg is on PATH, FFMpegWriter (MP4).
"""

import shutil

import numpy as np
from matplotlib.animation import FFMpegWriter, PillowWriter
from matplotlib.figure import Figure

from . import snapshot, style

MAX_FRAMES = 48
FPS = 2
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


def save(timeline, paths, pids=None, size=(12, 6.75), dpi=80, max_frames=MAX_FRAMES):
    """Write the animation to each path (.gif; .mp4 only if ffmpeg exists).
    Returns the paths written."""
    times = frame_times(timeline, pids, max_frames)
    columns = snapshot.columns_for(timeline, times, pids, limit=4, mappers_only=True)
    if not columns:
        return []
    axis = snapshot.axis_for(timeline, times, columns, timeline.page)
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
            fig = _figure(size, dpi)
            with writer.saving(fig, path, dpi):
                for t in times:
                    _frame(fig, timeline, t, columns, axis, size)
                    writer.grab_frame()
            written.append(path)
    return written


def _figure(size, dpi):
    fig = Figure(figsize=size, dpi=dpi)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(fig)
    return fig


def _frame(fig, tl, t, columns, axis, size):
    fig.clear()
    w, h = size
    ax = fig.add_axes([snapshot.LEFT / w, 1.75 / h, (w - snapshot.LEFT - snapshot.RIGHT) / w,
                       (h - 1.75 - 0.95) / h])
    snap = tl.snapshot_at(t, columns)
    snapshot.draw(ax, snap, axis, columns, tl)
    scale = style.TimeScale(tl.unit, tl.end - tl.start)
    snapshot.title(fig, size, snap, scale, tl)
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
    ax.xaxis.set_major_formatter(scale.formatter())
    ax.tick_params(axis="x", labelsize=10)
    ax.axvspan(tl.start, t, color="#DDDDDD")
    for pid in columns:
        for m in tl.procs[pid].marks:
            if m.event in style.EVENT_STYLE:
                ax.axvline(m.t, color=style.EVENT_STYLE[m.event][0], linewidth=1.2)
    ax.axvline(t, color="black", linewidth=3)
    ax.set_title(f"the run ({scale.suffix}): grey so far, lines are events",
                 fontsize=10, loc="left", fontweight="normal", pad=3)
