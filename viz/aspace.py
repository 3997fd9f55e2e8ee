"""One process's address space over time.

Time runs left to right, virtual addresses bottom to top on a segmented
axis (addraxis.py). Every area and region is a band from the moment it took
its shape to the moment it changed or went: a tint where pages are only
reserved, solid colour where pages are resident (filling in as faults map
them), hatching where the region is read-only or inaccessible. Events
(fork, exec, exit, mmap, munmap, mprotect) are lines and markers, labelled
in lanes above the plot without overlapping.

figure() returns the Figure and a dict describing what was drawn (the
spans, the resident rectangles, the label artists) for tests and callers.
"""

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import labels, mman, style
from .addraxis import AddressAxis
from .rects import collection as rect_collection
from .timeline import RESIDENT_KINDS

LANES = 3
MAX_LABELS = 150            # event-label candidates (3 lanes hold far fewer); all markers drawn
MAX_BAND_LABELS = 80
EXACT_RESIDENT = 4000       # below this many intervals, draw them unrounded
REGION_KINDS = style.REGION_KINDS

# Figure margins in inches.
LEFT, RIGHT, BOTTOM, TITLE, LANE = 1.75, 3.25, 0.85, 1.0, 0.34


def figure(timeline, life, size=(16, 9), dpi=100, whole_window=False):
    """The address-space map of one process (a timeline.ProcLife): over its
    own life, or over the whole window (so that every picture of a
    selection shares one time axis)."""
    with style.rc():
        return _figure(timeline, life, size, dpi, whole_window)


def _figure(tl, life, size, dpi, whole_window):
    fig = style.new_figure(size, dpi)
    width, height = size
    lane_h = LANE * LANES
    main_h = height - TITLE - lane_h - BOTTOM
    ax = fig.add_axes([LEFT / width, BOTTOM / height, (width - LEFT - RIGHT) / width,
                       main_h / height])
    lane_ax = fig.add_axes([LEFT / width, (BOTTOM + main_h) / height,
                            (width - LEFT - RIGHT) / width, lane_h / height], sharex=ax)

    if whole_window:
        x0, x1 = tl.start, max(tl.end, tl.start + 1e-9)
        scale = tl.time_scale(x1 - x0)
    else:       # zoomed on this process: its time counts from its own start
        x0, x1 = _time_range(tl, life)
        own = life.born is not None and x0 <= life.born <= x1
        scale = style.TimeScale(tl.unit, x1 - x0, life.born if own else x0,
                                f"after pid {life.pid} started" if own else
                                f"after {style.moment(x0, x1 - x0, tl.unit != 's')}")
    axis = AddressAxis([(s.start, s.end) for s in life.spans], tl.page)
    ax.set_xlim(x0, x1)
    axis.install(ax, fontsize=style.FONT["ytick.labelsize"])
    scale.apply(ax.xaxis)
    ax.set_xlabel(scale.label)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.8, zorder=0)

    info = {"axis": axis, "xlim": (x0, x1), "scale": scale}
    info["spans"] = _draw_spans(ax, life.spans)
    info["resident"] = _draw_resident(ax, life, tl.page, (x0, x1), ax.bbox.width)
    info["cow"] = _draw_cow(ax, life, tl.page)
    info["writebacks"] = _draw_writebacks(ax, life, tl.page)
    _draw_marks(ax, axis, life.marks)
    info["labels"], info["dropped"] = _label_marks(fig, lane_ax, life.marks, ax)
    info["band_labels"] = _label_bands(fig, ax, axis, life.spans)
    _legend(fig, ax, life)

    lane_ax.set_axis_off()
    lane_ax.set_ylim(0, LANES)
    fig.text(LEFT / width, 1 - 0.18 / height, f"Address space of {life.title}",
             fontsize=style.FONT["axes.titlesize"], fontweight="bold", va="top")
    sub = fig.text(LEFT / width, 1 - 0.6 / height, _subtitle(tl, life, scale),
                   fontsize=style.FONT["font.size"], color="#333333", va="top")
    style.fit_width(sub, (width - LEFT - 0.2) * dpi)
    return fig, info


def _time_range(tl, life):
    ts = [s.t0 for s in life.spans] + [s.t1 for s in life.spans] + [m.t for m in life.marks]
    if not ts:
        return tl.start, max(tl.end, tl.start + 1e-9)
    lo, hi = min(ts), max(ts)
    if hi <= lo:
        hi = lo + max(1e-6 if tl.unit == "s" else 1000, (tl.end - tl.start) * 0.01)
    pad = (hi - lo) * 0.02
    return lo - pad, hi + pad


def _subtitle(tl, life, scale):
    parts = []
    if life.parent:
        parts.append(f"child of pid {life.parent}")
    if life.born is not None and life.born < scale.origin:
        parts.append(f"forked {style.duration(scale.origin - life.born, scale.ticks)} before "
                     "time 0")
    elif life.born is not None:
        parts.append(f"from {scale.format(life.born)}")
    if life.exited is not None:
        parts.append(f"exited at {scale.format(life.exited)}")
    else:
        parts.append("running at the end of the " +
                     ("trace" if tl.end >= tl.trace_end else "window"))
    ops = sum(1 for m in life.marks if m.event in ("mmap", "munmap", "mprotect"))
    parts.append(f"{ops} mmap/munmap/mprotect calls")
    moves = sum(1 for m in life.marks if m.event == "mremap")
    if moves:
        parts.append(f"{moves} mremap calls")
    pages = len(life.resident)
    parts.append(f"{pages} region pages mapped in")
    return " · ".join(parts)


def _rects(items):
    """(t0, t1, start, end) -> rectangle vertex lists, in data coordinates."""
    return [[(t0, a), (t1, a), (t1, b), (t0, b)] for t0, t1, a, b in items]


def _draw_spans(ax, spans):
    """Bands: regions as a tint (resident pages are drawn over them), text,
    stack and heap solid (the kernel allocates them eagerly), guard pages
    grey; then hatching by protection. Returns the spans drawn."""
    drawn = []
    for kind in style.KINDS:
        mine = [s for s in spans if s.kind == kind]
        if not mine:
            continue
        rects = _rects((s.t0, s.t1, s.start, s.end) for s in mine)
        color = style.KIND_COLOR[kind]
        alpha = style.RESERVED_ALPHA if kind in REGION_KINDS else 1.0
        face = "#F4F4F4" if kind == "guard" else color
        ax.add_collection(rect_collection(rects, facecolors=face, alpha=alpha, edgecolors="none",
                                         zorder=1, label=f"band:{kind}"))
        ax.add_collection(rect_collection(rects, facecolors="none", edgecolors=color,
                                         linewidths=1.4, zorder=3.5, label=f"edge:{kind}"))
        drawn += mine
    for prot in ("ro", "none"):
        mine = [s for s in spans if mman.protection(s.prot) == prot]
        if mine:
            rects = _rects((s.t0, s.t1, s.start, s.end) for s in mine)
            ax.add_collection(rect_collection(rects, facecolors="none",
                                             edgecolors=style.HATCH_COLOR, linewidths=0,
                                             hatch=style.PROT_HATCH[prot], zorder=3,
                                             label=f"hatch:{prot}"))
    return drawn


def _draw_resident(ax, life, page, xlim, width_px):
    """Resident region pages as solid runs: vertically adjacent pages
    mapped and unmapped at the same times merge into one rectangle. With
    many intervals, times are rounded to the pixel first, so the number of
    rectangles is bounded by what can be seen. Returns the rectangles as
    (t0, t1, start, end, kind): kind as timeline.RESIDENT_KINDS, coloured as
    the region kind of that name."""
    res = life.resident_arrays()
    n = len(res["va"])
    if n == 0:
        return []
    t0, t1 = res["t0"], res["t1"]
    if n > EXACT_RESIDENT:
        px = (xlim[1] - xlim[0]) / max(width_px, 1)
        t0 = np.floor((t0 - xlim[0]) / px) * px + xlim[0]
        t1 = np.ceil((t1 - xlim[0]) / px) * px + xlim[0]
    order = np.lexsort((res["va"], t1, t0, res["kind"]))
    va, t0, t1, kinds = res["va"][order], t0[order], t1[order], res["kind"][order]
    # A new run starts where the key changes or the pages are not adjacent.
    new = np.ones(n, dtype=bool)
    new[1:] = ((kinds[1:] != kinds[:-1]) | (t0[1:] != t0[:-1]) | (t1[1:] != t1[:-1])
               | (va[1:] != va[:-1] + page))
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n) - 1
    runs = [(float(t0[s]), float(t1[s]), float(va[s]), float(va[e]) + page,
             RESIDENT_KINDS[int(kinds[s])]) for s, e in zip(starts.tolist(), ends.tolist())]
    for kind in RESIDENT_KINDS:
        mine = [r[:4] for r in runs if r[4] == kind]
        if mine:
            ax.add_collection(rect_collection(_rects(mine), facecolors=style.KIND_COLOR[kind],
                                             edgecolors="none", zorder=2,
                                             label=f"resident:{kind}"))
    return runs


def _draw_cow(ax, life, page):
    """Pages shared copy-on-write, hatched over their resident colour while
    another process still maps them: the hatch ends where a write split the
    page (or the other side let go). Returns the rectangles as (t0, t1, va)."""
    runs = [(c[1], c[2], c[0]) for c in life.cow if c[2] is not None]
    if runs:
        ax.add_collection(rect_collection(_rects([(t0, t1, va, va + page) for t0, t1, va in runs]),
                                         facecolors="none", edgecolors=style.COW_HATCH,
                                         linewidths=0, hatch=style.COW_HATCH_PATTERN, zorder=3,
                                         label="copy-on-write"))
    return runs


def _draw_writebacks(ax, life, page):
    """A tick across a page's row when it was written back to its file
    (msync, munmap, exit). Returns the (t, va) drawn."""
    if life.writebacks:
        ts = [t for t, _ in life.writebacks]
        ys = [va + page / 2 for _, va in life.writebacks]
        ax.scatter(ts, ys, marker="|", s=260, c=style.WRITEBACK_COLOR, linewidths=2.4,
                   zorder=5, label="writeback")
    return list(life.writebacks)


def _draw_marks(ax, axis, marks):
    """Process events as full-height lines, region events as markers on the
    range they touched (over a faint line)."""
    for event, (color, marker, _) in style.EVENT_STYLE.items():
        mine = [m for m in marks if m.event == event]
        if not mine:
            continue
        if event in style.PROCESS_EVENTS:
            ax.vlines([m.t for m in mine], 0, 1, transform=ax.get_xaxis_transform(),
                      colors=color, linewidths=2.2, linestyles=(0, (5, 3)), zorder=4)
            continue
        ax.vlines([m.t for m in mine], 0, 1, transform=ax.get_xaxis_transform(),
                  colors=color, linewidths=0.9, linestyles=":", alpha=0.7, zorder=4)
        placed = [m for m in mine if m.start is not None]
        if placed:
            starts = np.array([m.start for m in placed], dtype=float)
            ends = np.array([m.end for m in placed], dtype=float)
            ys = axis.inverse((axis.forward(starts) + axis.forward(ends)) / 2)
            outline = {} if marker in ("x", "|") else {"edgecolors": "white"}  # unfilled: no edge
            ax.scatter([m.t for m in placed], ys, marker=marker, s=110, c=color,
                       linewidths=1.2, zorder=5, **outline)
        _draw_moves(ax, axis, [m for m in placed if m.moved_from is not None], color)


def _draw_moves(ax, axis, moves, color):
    """An mremap that moved a region: an arrow from the middle of the old
    range to the middle of the new one, at the time of the call."""
    for m in moves:
        lo, hi = m.moved_from
        y0 = float(axis.inverse((axis.forward(float(lo)) + axis.forward(float(hi))) / 2))
        y1 = float(axis.inverse((axis.forward(float(m.start)) + axis.forward(float(m.end))) / 2))
        ax.annotate("", xy=(m.t, y1), xytext=(m.t, y0), zorder=5,
                    arrowprops=dict(arrowstyle="->", color=color, linewidth=1.6))


def _label_marks(fig, lane_ax, marks, ax):
    """Event labels in lanes above the plot: process events first, then
    the rest by time; a label that fits in no lane is dropped (counted).
    Returns (label artists, dropped count)."""
    renderer = fig.canvas.get_renderer()
    order = sorted(marks, key=lambda m: (m.event not in style.PROCESS_EVENTS, m.t))
    xlim = ax.get_xlim()
    order = [m for m in order if xlim[0] <= m.t <= xlim[1]]
    candidates = order[:MAX_LABELS]
    dropped = len(order) - len(candidates)
    fontsize = style.FONT["font.size"] * 0.9
    texts, extents = [], []
    for m in candidates:
        color = style.EVENT_STYLE[m.event][0]
        t = lane_ax.text(m.t, 0, m.text, ha="center", va="center", fontsize=fontsize,
                         color="black", clip_on=False,
                         bbox=dict(boxstyle="round,pad=0.18", facecolor="white",
                                   edgecolor=color, linewidth=1.3))
        bb = t.get_window_extent(renderer)
        texts.append(t)
        extents.append((bb.x0, bb.x1))
    left, right = lane_ax.bbox.x0, lane_ax.bbox.x1
    widest = max((b - a for a, b in extents), default=0)
    places = labels.assign_lanes(extents, LANES, max_shift=1.5 * widest)
    kept, ticks = [], []
    to_data = lane_ax.transData.inverted()
    for t, m, place, (a, b) in zip(texts, candidates, places, extents):
        if place is None or a + place[1] < left - 60 or b + place[1] > right + 60:
            t.remove()
            dropped += 1
            continue
        lane, shift = place
        x = m.t
        if shift:
            x = to_data.transform((lane_ax.transData.transform((m.t, 0))[0] + shift, 0))[0]
        t.set_position((x, lane + 0.5))
        kept.append(t)
        ticks.append([(m.t, 0), (m.t, lane + 0.15), (x, lane + 0.5)])
    if ticks:
        lane_ax.add_collection(LineCollection(ticks, colors="#888888", linewidths=0.8,
                                              zorder=0))
    if dropped:
        lane_ax.text(1.0, 1.0, f"+{dropped} more events not labelled",
                     transform=lane_ax.transAxes, ha="right", va="bottom",
                     fontsize=fontsize * 0.9, color="#555555", style="italic")
    return kept, dropped


def _label_bands(fig, ax, axis, spans):
    """Name each band where it starts, if it has room and hits nothing."""
    renderer = fig.canvas.get_renderer()
    fontsize = style.FONT["font.size"] * 0.82
    boxes, out = [], []
    trans = ax.transData
    xlim = ax.get_xlim()
    candidates = sorted(spans, key=lambda s: (s.kind == "guard", s.t0))
    named = set()
    for s in candidates:
        if len(out) >= MAX_BAND_LABELS:
            break
        if s.kind not in REGION_KINDS and s.kind in named:
            continue                # text, stack, heap: once is enough
        (px0, py0), (px1, py1) = trans.transform([(max(s.t0, xlim[0]), s.start),
                                                   (min(s.t1, xlim[1]), s.end)])
        if py1 - py0 < fontsize * 1.45 * fig.dpi / 72:
            continue
        text = _band_text(s, axis.page)
        # A little right of where the band starts: the event marker is there.
        t = ax.annotate(text, (max(s.t0, xlim[0]), axis.middle(s.start, s.end)),
                        xytext=(14, 0), textcoords="offset points", ha="left", va="center",
                        fontsize=fontsize, zorder=6, annotation_clip=True,
                        bbox=dict(boxstyle="round,pad=0.15", facecolor="white", alpha=0.85,
                                  edgecolor="none"))
        bb = t.get_window_extent(renderer)
        box = (bb.x0, bb.y0, bb.x1, bb.y1)
        if bb.x1 > px1 - 2 or any(labels.overlaps(box, b, pad=2) for b in boxes):
            t.remove()
            continue
        boxes.append(box)
        out.append(t)
        named.add(s.kind)
    return out


def _band_text(s, page):
    pages = (s.end - s.start) // page
    if s.kind in REGION_KINDS:
        return f"{s.kind} {mman.rwx(s.prot)} {pages}p"
    return style.KIND_LABEL[s.kind]


def _legend(fig, ax, life):
    kinds = [k for k in style.KINDS if any(s.kind == k for s in life.spans)]
    handles = [Patch(facecolor=style.KIND_COLOR[k], edgecolor=style.KIND_COLOR[k],
                     label=style.KIND_LABEL[k], hatch="xx" if k == "guard" else None)
               for k in kinds if k != "guard"]
    if "guard" in kinds:
        handles.append(Patch(facecolor="#F4F4F4", edgecolor=style.GREY, hatch="xx",
                             label="guard page"))
    if any(s.kind in REGION_KINDS for s in life.spans):
        handles.append(Patch(facecolor="#999999", edgecolor="#555555",
                             label="solid: resident pages"))
        handles.append(Patch(facecolor=(0.6, 0.6, 0.6, style.RESERVED_ALPHA),
                             edgecolor="#555555", label="tint: not touched yet"))
    if life.writebacks:
        handles.append(Line2D([], [], color=style.WRITEBACK_COLOR, marker="|", linestyle="none",
                              markersize=14, markeredgewidth=2.4, label=style.WRITEBACK_LABEL))
    if life.cow:
        handles.append(Patch(facecolor="#999999", edgecolor=style.COW_HATCH,
                             hatch=style.COW_HATCH_PATTERN,
                             label="hatched: copy-on-write"))
    prots = {mman.protection(s.prot) for s in life.spans if s.kind != "guard"}
    for prot in ("ro", "none"):
        if prot in prots:
            handles.append(Patch(facecolor="white", edgecolor=style.HATCH_COLOR,
                                 hatch=style.PROT_HATCH[prot], label=style.PROT_LABEL[prot]))
    events = {m.event for m in life.marks}
    for event, (color, marker, text) in style.EVENT_STYLE.items():
        if event not in events:
            continue
        if event in style.PROCESS_EVENTS:
            handles.append(Line2D([], [], color=color, linewidth=2.2, linestyle=(0, (5, 3)),
                                  label=text))
        else:
            edge = color if marker in ("x", "|") else "white"     # an unfilled marker is its edge
            handles.append(Line2D([], [], color=color, marker=marker, linestyle="none",
                                  markersize=10, markeredgecolor=edge, label=text))
    pos = ax.get_position()
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(pos.x1 + 0.012, pos.y1),
               frameon=False, handlelength=2.2, handleheight=1.2, borderaxespad=0)
