"""A self-contained interactive page for a recorded capture: no server, one file.

    from viz.web.export import write_page
    write_page("out/demo/com2.bin", "out/demo")     # -> out/demo/interactive.html

    python3 -m viz.web.export TRACE [-o DIR] [--name FILE]

The page is the live view's (static/), with its CSS and JavaScript inlined and
the data embedded: the state at up to MAX_FRAMES moments (every event of a
short capture; for a long one the moments where regions and processes change
and an even spread between them) with every process's address space, and the
event log (the last MAX_EVENTS events). Play, pause, step, the scrubber, the
process list and the log filters all work from the file alone.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from xvtrace.decode import load
from xvtrace.schema import TraceError

from . import views
from .model import Model
from .server import STATIC

SCRIPTS = ("source.js", "draw.js", "live.js")       # in the order index.html loads them
MAX_FRAMES = 600
MAX_EVENTS = 20000
STRUCTURAL = ("mmap_ret", "munmap", "mprotect", "fork", "exec", "exit", "reap", "heap",
              "procname", "cow_fork")


def frame_indices(model, limit=MAX_FRAMES):
    """Moments to keep (records applied): all of them for a short capture;
    else just after each structural event, and an even spread, up to limit."""
    n = model.count
    if n + 1 <= limit:
        return list(range(n + 1))
    by_name = model.trace.schema.by_name
    ids = [by_name[e].id for e in STRUCTURAL if e in by_name]
    structural = np.flatnonzero(np.isin(model.records["type"], ids)) + 1
    if len(structural) > limit // 2:
        structural = structural[np.linspace(0, len(structural) - 1, limit // 2).astype(int)]
    spread = np.linspace(0, n, limit - len(structural)).astype(int)
    return sorted(set(structural.tolist()) | set(spread.tolist()) | {n})


def page_data(trace, limit=MAX_FRAMES, max_events=MAX_EVENTS):
    """The embedded data of an exported page, for a decoded trace."""
    model = Model(source=trace.source)
    model.load(trace)
    frames = []
    for i in frame_indices(model, limit):
        frame = views.view(model, i, None, all_spaces=True)
        del frame["aspace"]
        frames.append(frame)
    start = max(0, model.count - max_events)
    rows = [event_row(model, i) for i in range(start, model.count)]
    summary = views.summary(model)
    summary["exported_events_from"] = start
    return {"summary": summary, "frames": frames, "events": rows}


def event_row(model, i):
    row = views._event_row(model, i)
    r = model.records[i]
    etype = model.trace.schema.events.get(int(r["type"]))
    who = {int(r["pid"])}
    if etype is not None:
        for slot, name in enumerate(etype.slots):
            if name in ("pid", "parent", "child"):
                who.add(int(r[f"a{slot}"]))
    row["who"] = sorted(who)
    return row


def render_page(data):
    """index.html with live.css and live.js inlined and data embedded."""
    html = (STATIC / "index.html").read_text()
    css = (STATIC / "live.css").read_text()
    html = html.replace('<link rel="stylesheet" href="/static/live.css">',
                        f"<style>\n{css}</style>")
    for name in SCRIPTS:
        js = (STATIC / name).read_text()
        html = html.replace(f'<script src="/static/{name}"></script>', f"<script>\n{js}</script>")
    blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return html.replace("<script>", f"<script>window.XV_DATA = {blob};</script>\n<script>", 1)


def write_page(trace_path, out_dir, name="interactive.html"):
    """Write the interactive page for the capture at trace_path into out_dir;
    returns its path. Raises xvtrace's TraceError for an unusable capture."""
    trace = load(trace_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    path.write_text(render_page(page_data(trace)))
    return path


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m viz.web.export",
                                description=__doc__.split("\n")[0])
    p.add_argument("trace", help="the capture (e.g. out/demo/com2.bin)")
    p.add_argument("-o", "--out", default=None, help="directory (default: the capture's)")
    p.add_argument("--name", default="interactive.html", help="file name (default %(default)s)")
    args = p.parse_args(argv)
    try:
        path = write_page(args.trace, args.out or Path(args.trace).parent, args.name)
    except TraceError as e:
        print(f"viz.web.export: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"viz.web.export: error: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
