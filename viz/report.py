"""index.html: the pictures of one run with the trace summary.

One self-standing page next to the pictures (links are relative, so the
directory can be copied or served anywhere): what the capture holds, what
was lost or damaged, the checker's verdict and problems, the processes,
then every picture. check.txt beside it holds the checker's full report.
"""

import html
import os
from collections import Counter

import numpy as np

from . import style

CSS = """
body { font-family: sans-serif; font-size: 18px; margin: 2em auto; max-width: 1700px;
       padding: 0 1em; color: #111; }
h1 { font-size: 30px; margin-bottom: 0.2em; } h2 { font-size: 24px; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
th { background: #f2f2f2; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: bold; padding: 2px 10px; border-radius: 4px; color: white; }
.PASS { background: #009E73; } .FAIL { background: #D55E00; } .INCONCLUSIVE { background: #E69F00; }
.warn { background: #FFF3D6; border-left: 6px solid #E69F00; padding: 0.4em 0.8em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 17px; color: #333; margin-top: 0.3em; }
code { font-size: 16px; }
"""


def write(trace, result, outdir):
    """Write index.html (and check.txt) into outdir; returns the index path."""
    from xvtrace import check as checkmod

    lines = checkmod.format_report(trace, result.check, limit=1000)
    (outdir / "check.txt").write_text("\n".join(lines) + "\n")
    path = outdir / "index.html"
    path.write_text(page(trace, result, outdir))
    return path


def page(trace, result, outdir):
    tl, rep = result.timeline, result.check
    ticks = tl.unit != "s"

    def when(t, span=None):
        return style.moment(t, tl.end - tl.start if span is None else span, ticks)

    e = html.escape
    out = [f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
           f"<title>xv6 trace: {e(trace.source or 'capture')}</title><style>{CSS}</style>"
           "</head><body>",
           f"<h1>xv6 kernel trace: {e(os.path.basename(trace.source) or 'capture')}</h1>",
           f"<p>Source <code>{e(trace.source or '(in memory)')}</code>. "
           "Pictures below; each links to its full-size file.</p>"]
    if result.command:
        out.append(f"<p>Command traced: <code>{e(result.command)}</code>; the pictures show "
                   f"its processes (pids {e(' '.join(map(str, tl.focus or [])))}).</p>")
    if trace.lost or trace.damaged or trace.missing_frames or trace.truncated:
        out.append(f"<p class='warn'><b>Incomplete trace:</b> {trace.lost} events lost in the "
                   f"kernel, {trace.damaged} damaged frames, {trace.missing_frames} missing "
                   f"frames{', capture cut short' if trace.truncated else ''}. The pictures "
                   "show what was recorded; a region or page may be missing from them.</p>")

    out.append("<h2>Summary</h2><table>")
    h = trace.header
    rows = [
        ("events", f"{len(trace.records)} records in {trace.frames} frames; "
                   f"{tl.window_records} in the window drawn"),
        ("time span", f"{when(tl.trace_start, tl.trace_end - tl.trace_start)} to "
                      f"{when(tl.trace_end, tl.trace_end - tl.trace_start)} "
                      f"({style.duration(tl.trace_end - tl.trace_start, ticks)}) since "
                      "tracing started"),
        ("window drawn", f"{when(tl.start)} to {when(tl.end)} "
                         f"({style.duration(tl.end - tl.start, ticks)}); the pictures count "
                         f"time {tl.since}"),
        ("machine", f"{h.ncpu} CPU(s), {h.page_size}-byte pages, " +
                    (f"TSC at {h.tsc_hz / 1e6:.1f} MHz" if h.tsc_hz else
                     "TSC rate unknown (times in ticks)")),
        ("lost events", str(trace.lost)),
        ("damage", f"{trace.damaged} damaged frames, {trace.missing_frames} missing, "
                   f"truncated: {'yes' if trace.truncated else 'no'}"),
        ("physical memory", f"{tl.memory.total} pages managed "
                            f"({style.size_bytes(tl.memory.total * h.page_size)})"
                            if tl.memory.total else "size not recorded"),
    ]
    for key, value in rows:
        out.append(f"<tr><th>{e(key)}</th><td>{e(value)}</td></tr>")
    out.append("</table>")
    if trace.warnings:
        out.append("<p>Decoder warnings:</p><ul>" +
                   "".join(f"<li>{e(w)}</li>" for w in trace.warnings[:10]) +
                   (f"<li>... and {len(trace.warnings) - 10} more</li>"
                    if len(trace.warnings) > 10 else "") + "</ul>")

    out.append(f"<h2>Checker: <span class='verdict {rep.verdict}'>{rep.verdict}</span></h2>")
    out.append("<p>The kernel's memory invariants over the whole trace "
               "(<code>python3 -m xvtrace check</code>); full report in "
               "<a href='check.txt'>check.txt</a>.</p>")
    if rep.problems:
        out.append("<ul>" + "".join(
            f"<li>{e(p.kind)} at t={e(when(p.time))}: {e(p.message)}</li>"
            for p in rep.problems[:20]) + "</ul>")
        if len(rep.problems) > 20:
            out.append(f"<p>... and {len(rep.problems) - 20} more problems.</p>")
    if rep.incomplete:
        out.append("<p>Incomplete: " + e("; ".join(rep.incomplete)) + "</p>")
    if rep.notes:
        out.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in rep.notes) + "</ul>")

    out.append("<h2>Events</h2>" + _event_table(trace, tl))
    out.append("<h2>Processes</h2>" + _process_table(tl, result, outdir))

    out.append("<h2>Pictures</h2>")
    if (outdir / "interactive.html").exists():
        out.append("<p>Step through this capture in the browser, page by page and event by "
                   "event: <a href='interactive.html'>interactive.html</a> (one file, works "
                   "offline).</p>")
    if not any(p.kind == "aspace" for p in result.pictures):
        out.append("<p>No address-space maps: the trace holds no fork, exec or mmap events "
                   "in this window.</p>")
    for pic in result.pictures:
        rel = os.path.relpath(pic.path, outdir)
        if pic.path.suffix == ".mp4":
            out.append(f"<p>Also as video: <a href='{e(rel)}'>{e(rel)}</a></p>")
            continue
        out.append(f"<figure id='{e(pic.path.stem)}'><a href='{e(rel)}'>"
                   f"<img src='{e(rel)}' alt='{e(pic.caption)}'></a>"
                   f"<figcaption>{e(pic.caption)} (<code>{e(rel)}</code>)</figcaption>"
                   "</figure>")
    out.append("</body></html>\n")
    return "\n".join(out)


def _event_table(trace, tl):
    types = trace.records["type"]
    times = trace.times
    inside = (times >= tl.start) & (times <= tl.end)
    total = Counter(dict(zip(*[a.tolist() for a in np.unique(types, return_counts=True)])))
    window = Counter(dict(zip(*[a.tolist() for a in np.unique(types[inside],
                                                                 return_counts=True)])))
    rows = ["<table><tr><th>event</th><th>whole trace</th><th>window drawn</th></tr>"]
    for type_id in sorted(total):
        etype = trace.schema.events.get(type_id)
        name = etype.name if etype else f"event {type_id}"
        rows.append(f"<tr><td>{html.escape(name)}</td><td class='n'>{total[type_id]}</td>"
                    f"<td class='n'>{window.get(type_id, 0)}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _process_table(tl, result, outdir):
    """One row per process: times since tracing started with the digits
    its lifetime needs, and the lifetime itself."""
    pictures = {p.pid: p for p in result.pictures if p.kind == "aspace"}
    ticks = tl.unit != "s"
    rows = ["<table><tr><th>pid</th><th>name</th><th>parent</th><th>started</th>"
            "<th>exited</th><th>lived</th><th>region calls</th>"
            "<th>region pages mapped in</th><th>picture</th></tr>"]
    for pid in sorted(tl.procs):
        life = tl.procs[pid]
        lived = (life.exited - life.born if life.born is not None and life.exited is not None
                 else None)
        span = lived if lived else tl.end - tl.start
        pic = pictures.get(pid)
        link = (f"<a href='{html.escape(os.path.relpath(pic.path, outdir))}'>map</a>"
                if pic else "")
        rows.append(
            f"<tr><td class='n'>{pid}</td><td>{html.escape(' → '.join(life.names) or '?')}"
            f"</td><td class='n'>{life.parent or ''}</td>"
            f"<td>{style.moment(life.born, span, ticks) if life.born is not None else ''}</td>"
            f"<td>{style.moment(life.exited, span, ticks) if life.exited is not None else ''}"
            f"</td><td>{style.duration(lived, ticks) if lived is not None else ''}</td>"
            f"<td class='n'>{life.region_ops}</td><td class='n'>{len(life.resident)}</td>"
            f"<td>{link}</td></tr>")
    rows.append("</table>")
    if len(pictures) < sum(1 for p in tl.procs.values() if p.spans):
        rows.append("<p>Maps are drawn for the processes with the most to show; "
                    "<code>--pid N</code> draws any other. Times since tracing started.</p>")
    return "\n".join(rows)
