"""Helpers for the viz tests: what the replay says, and what was drawn."""

import os
import subprocess
import sys

from matplotlib.collections import PathCollection

from viz import REPO, mman, rects


def rects_of(ax, label):
    """The rectangles (x0, x1, y0, y1) of ax's collection labelled label."""
    out = []
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_label() == label:
            for path in coll.get_paths():
                out += rects.split(path)
    return out


def replayed_shapes(trace, pid):
    """Every region shape pid had, from the replay's own change stream:
    (kind, start, end, prot, t_from, t_to), cut at the process's exit."""
    from xvtrace.replay import Replayer
    live, done, exited = {}, [], None
    for ch in Replayer(trace):
        if ch.pid != pid or exited is not None:
            continue
        for r in ch.detail.get("removed", ()) if isinstance(ch.detail, dict) else ():
            if r.uid in live:
                done.append(live.pop(r.uid) + (ch.time,))
        if ch.event == "exit":
            exited = ch.time
            break
        for r in ch.detail.get("added", ()) if isinstance(ch.detail, dict) else ():
            kind = "shared" if mman.is_shared(r.flags) else "private"
            live[r.uid] = (kind, r.start, r.end, r.prot, ch.time)
    end = exited if exited is not None else float(trace.times[-1])
    return sorted(done + [v + (end,) for v in live.values()])


def run_viz(*args, cwd=REPO):
    env = dict(os.environ)
    env.pop("VIZ_DEBUG", None)
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-m", "viz", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=180)


def boxes_overlap(texts, renderer, pad=0):
    """Pairs of Text artists whose boxes overlap."""
    boxes = [t.get_window_extent(renderer) for t in texts]
    bad = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            a, b = boxes[i], boxes[j]
            if a.x0 < b.x1 - pad and b.x0 < a.x1 - pad and a.y0 < b.y1 - pad and b.y0 < a.y1 - pad:
                bad.append((texts[i].get_text(), texts[j].get_text()))
    return bad
