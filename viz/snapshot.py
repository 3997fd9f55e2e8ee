"""Every address space at one instant, like pmap: one bar per process.

Each bar is the process's address space on the shared segmented address
axis; areas and regions are coloured by kind, resident pages solid over a
tint, read-only and inaccessible ranges hatched. Beside each bar a label
names every piece ("private rw- 3/8": resident/total pages), spread
vertically so that no two labels overlap, with a leader line to its piece.

draw() paints one snapshot into an existing Axes (the animation calls it
once per frame); figure() makes the stand-alone picture.
"""

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.patches import Patch

from . import labels, mman, style
from .addraxis import AddressAxis
from .rects import collection as rect_collection

MAX_COLUMNS = 8
BAR_LEFT, BAR_RIGHT, LABEL_X = -0.44, -0.14, -0.06   # within a column of width 1
LEFT, RIGHT, BOTTOM, TOP = 1.75, 2.9, 1.05, 1.05   # margins in inches
PRIORITY = {"private": 0, "shared": 0, "file": 0, "heap": 1, "stack": 2, "text": 3, "guard": 4}


def columns_for(timeline, times, pids=None, limit=MAX_COLUMNS, mappers_only=False):
    """The processes to give a column: those alive at any of the times
    (restricted to pids), the most interesting first, at most limit, then
    in pid order. mappers_only: only those with regions, if any has."""
    alive = set()
    for t in times:
        alive |= {p.pid for p in timeline.snapshot_at(t, pids).procs}
    ranked = [p.pid for p in timeline.ranked() if p.pid in alive]
    if mappers_only:
        mappers = [pid for pid in ranked if any(s.kind in style.REGION_KINDS
                                                 for s in timeline.procs[pid].spans)]
        ranked = mappers or ranked
    return sorted(ranked[:limit])


def axis_for(timeline, times, pids, page):
    """A segmented axis holding every area of the pids at the times."""
    ranges = []
    for t in times:
        for p in timeline.snapshot_at(t, pids).procs:
            ranges += [(a.start, a.end) for a in p.areas]
    return AddressAxis(ranges, page)


def figure(timeline, t, pids=None, size=(16, 9), dpi=100):
    """The snapshot at t of the given processes (default: the most
    interesting ones alive then)."""
    with style.rc():
        fig = style.new_figure(size, dpi)
        columns = columns_for(timeline, [t], pids)
        axis = axis_for(timeline, [t], columns, timeline.page)
        ax = add_axes(fig, size)
        snap = timeline.snapshot_at(t, columns)
        info = draw(ax, snap, axis, columns, timeline)
        scale = timeline.time_scale()
        title(fig, size, snap, scale, timeline)
        legend(fig, ax, snap)
        info["axis"] = axis
        return fig, info


def add_axes(fig, size):
    w, h = size
    return fig.add_axes([LEFT / w, BOTTOM / h, (w - LEFT - RIGHT) / w, (h - BOTTOM - TOP) / h])


def title(fig, size, snap, scale, timeline, caption=None):
    """The title says when (relative to the axes' time 0), or, in an
    animation frame for an event, after which event."""
    w, h = size
    head = caption or f"Address spaces at t = {scale.format(snap.t)} {scale.since}"
    top = fig.text(LEFT / w, 1 - 0.15 / h, head,
                   fontsize=style.FONT["axes.titlesize"], fontweight="bold", va="top")
    style.fit_width(top, (w - LEFT - 0.2) * fig.dpi)
    used = f"{snap.used} of {snap.total}" if snap.total else f"{snap.used}"
    n = len(snap.procs)
    sub = fig.text(LEFT / w, 1 - 0.58 / h,
             f"{n} process{'es' if n != 1 else ''} running · {used} physical pages in use · "
             "labels: kind, protection, resident/total pages",
             fontsize=style.FONT["font.size"], color="#333333", va="top")
    style.fit_width(sub, (w - LEFT - 0.2) * fig.dpi)


def draw(ax, snap, axis, columns, timeline):
    """Paint snap into ax (columns: the pids, in column order). Returns
    {'areas': [(pid, SnapArea)], 'resident': [(pid, start, end)],
     'labels': [Text]}."""
    axis.install(ax, fontsize=style.FONT["ytick.labelsize"])
    ax.set_xlim(-0.5, max(len(columns), 2.5) - 0.5)   # one or two bars stay slim
    if not columns:
        ax.text(0.5, 0.5, "no process address space in the trace at this time\n"
                "(no fork, exec or mmap events recorded)", transform=ax.transAxes,
                ha="center", va="center", fontsize=16, color="#555555")
    ax.set_xticks(range(len(columns)))
    by_pid = {p.pid: p for p in snap.procs}
    names = []
    for pid in columns:
        p = by_pid.get(pid)
        life = timeline.procs.get(pid)
        name = p.name if p else (life.name if life else "?")
        names.append(f"{name}\n(pid {pid})" if p else f"{name} (pid {pid})\nnot running")
    ax.set_xticklabels(names)
    ax.tick_params(axis="x", length=0, pad=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    info = {"areas": [], "resident": [], "labels": []}
    band = {k: [] for k in style.KINDS}
    solid = {k: [] for k in style.KINDS}
    hatch = {"ro": [], "none": []}
    page = axis.page
    for col, pid in enumerate(columns):
        p = by_pid.get(pid)
        if p is None:
            continue
        x0, x1 = col + BAR_LEFT, col + BAR_RIGHT
        for a in p.areas:
            rect = [(x0, a.start), (x1, a.start), (x1, a.end), (x0, a.end)]
            band[a.kind].append(rect)
            info["areas"].append((pid, a))
            prot = "none" if a.kind == "guard" else mman.protection(a.prot)
            if prot in hatch:
                hatch[prot].append(rect)
            if a.kind in ("text", "stack", "heap"):
                solid[a.kind].append(rect)
        for start, end, kind in _resident_runs(p, page):
            solid[kind].append([(x0, start), (x1, start), (x1, end), (x0, end)])
            info["resident"].append((pid, start, end))
    for kind in style.KINDS:
        color = style.KIND_COLOR[kind]
        if band[kind]:
            face = "#F4F4F4" if kind == "guard" else color
            alpha = 1.0 if kind in ("text", "stack", "heap", "guard") else style.RESERVED_ALPHA
            ax.add_collection(rect_collection(band[kind], facecolors=face, alpha=alpha,
                                             edgecolors="none", zorder=1))
            ax.add_collection(rect_collection(band[kind], facecolors="none", edgecolors=color,
                                             linewidths=1.4, zorder=3.5))
        if solid[kind]:
            ax.add_collection(rect_collection(solid[kind], facecolors=color, edgecolors="none",
                                             zorder=2))
    for prot, rects in hatch.items():
        if rects:
            ax.add_collection(rect_collection(rects, facecolors="none",
                                             edgecolors=style.HATCH_COLOR, linewidths=0,
                                             hatch=style.PROT_HATCH[prot], zorder=3))
    info["labels"] = _labels(ax, axis, columns, by_pid)
    return info


def _resident_runs(p, page):
    """Runs of adjacent resident region pages, as (start, end, kind)."""
    regions = [a for a in p.areas if a.kind in style.REGION_KINDS]
    runs = []
    i = 0
    vas = p.resident_vas
    for r in regions:
        while i < len(vas) and vas[i] < r.start:
            i += 1
        while i < len(vas) and vas[i] < r.end:
            start = vas[i]
            while i + 1 < len(vas) and vas[i + 1] == vas[i] + page and vas[i + 1] < r.end:
                i += 1
            runs.append((start, vas[i] + page, r.kind))
            i += 1
    return runs


def _label_text(a):
    if a.kind in style.REGION_KINDS:
        return f"{a.kind} {mman.rwx(a.prot)} {a.resident}/{a.pages}"
    if a.kind == "guard":
        return "guard"
    return f"{style.KIND_LABEL[a.kind]} {a.pages}p"


def _labels(ax, axis, columns, by_pid):
    """Labels beside each bar, spread so they do not overlap; the least
    important are left out when a column has no room for all. The font is
    as big as the narrowest column allows. Linear in the number of areas:
    one measurement per distinct label text, one vectorised transform per
    column."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    to_px, to_data = ax.transData, ax.transData.inverted()
    room = to_px.transform((0.5, 0))[0] - to_px.transform((LABEL_X, 0))[0] - 4
    fontsize = 13.0
    probe = ax.text(0, 0, "", fontsize=fontsize)
    widest = {}
    for p in by_pid.values():
        for a in p.areas:
            text = _label_text(a)
            widest.setdefault(len(text), text)      # width grows with length: measure the longest
    for text in sorted(widest.values(), key=len, reverse=True)[:5]:
        probe.set_text(text)
        width = probe.get_window_extent(renderer).width
        if width > room:
            fontsize = min(fontsize, 13.0 * room / width)
    probe.remove()
    fontsize = max(7.0, fontsize)
    line_px = fontsize * 1.4 * fig.dpi / 72
    lo, hi = ax.bbox.y0, ax.bbox.y1
    fits = int((hi - lo) // line_px)        # labels.spread places any n with n * line <= room
    texts, leaders = [], []
    for col, pid in enumerate(columns):
        p = by_pid.get(pid)
        if p is None or fits <= 0:
            continue
        chosen = sorted(p.areas, key=lambda a: (PRIORITY[a.kind], a.start))[:fits]
        shown = sorted(chosen, key=lambda a: a.start)
        mids = axis.inverse((axis.forward(np.array([a.start for a in shown], dtype=float)) +
                             axis.forward(np.array([a.end for a in shown], dtype=float))) / 2)
        wanted = to_px.transform(np.column_stack([np.full(len(mids), col), mids]))[:, 1]
        pos = labels.spread(wanted.tolist(), line_px, lo, hi)
        if pos is None:
            continue
        x_bar, x_text = col + BAR_RIGHT, col + LABEL_X
        ys = to_data.transform(np.column_stack([np.zeros(len(pos)), pos]))[:, 1]
        for a, mid, y_data in zip(shown, mids.tolist(), ys.tolist()):
            texts.append(ax.text(x_text, y_data, _label_text(a), ha="left", va="center",
                                 fontsize=fontsize, zorder=6, clip_on=False))
            leaders.append([(x_bar, mid), (x_text - 0.02, y_data)])
    if leaders:
        ax.add_collection(LineCollection(leaders, colors="#777777", linewidths=0.8, zorder=5))
    return texts


def legend(fig, ax, snap):
    if not snap.procs:
        return
    kinds = {a.kind for p in snap.procs for a in p.areas}
    handles = [Patch(facecolor=style.KIND_COLOR[k], edgecolor=style.KIND_COLOR[k],
                     label=style.KIND_LABEL[k]) for k in style.KINDS
               if k in kinds and k != "guard"]
    if "guard" in kinds:
        handles.append(Patch(facecolor="#F4F4F4", edgecolor=style.GREY, hatch="xx",
                             label="guard page"))
    handles.append(Patch(facecolor="#999999", edgecolor="#555555",
                         label="solid: resident pages"))
    handles.append(Patch(facecolor=(0.6, 0.6, 0.6, style.RESERVED_ALPHA), edgecolor="#555555",
                         label="tint: not touched yet"))
    prots = {mman.protection(a.prot) for p in snap.procs for a in p.areas if a.kind != "guard"}
    for prot in ("ro", "none"):
        if prot in prots:
            handles.append(Patch(facecolor="white", edgecolor=style.HATCH_COLOR,
                                 hatch=style.PROT_HATCH[prot], label=style.PROT_LABEL[prot]))
    pos = ax.get_position()
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(pos.x1 + 0.012, pos.y1),
               frameon=False, handlelength=2.2, handleheight=1.2, borderaxespad=0)
