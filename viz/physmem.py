"""Physical memory over time, by owner.

The top panel stacks what the processes cost: each of the processes in
focus (or those with the most pages of their own: text, data, stack, heap
and private region pages), the other processes together (named), shared
pages, the page cache of mapped files (each page once, however many map
it), and the kernel's uses for them (their page tables, kernel stacks,
kmalloc slabs, pipes, the rest). The kernel's own page tables, set up at
boot and fixed (about 138 pages), would bury all of that: they are left
out of the stack and said in the subtitle, so that a fork's cost shows as
a step. Free pages are stacked on top, with the axis cut a little above the
peak (and said so); when memory is noticeably used, a strip below shows
in-use (kernel's page tables included) against free at full scale.
"""

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import style
from .timeline import KERNEL_FIXED

LEFT, RIGHT, BOTTOM, TOP = 1.5, 4.2, 0.85, 1.0


def series_style(memory):
    """(label, colour, hatch) of every series, processes first."""
    out = []
    for i, label in enumerate(memory.procs):
        out.append((label, style.PROCESS_COLORS[i % len(style.PROCESS_COLORS)],
                    style.PROCESS_HATCHES[i % len(style.PROCESS_HATCHES)]))
    for label in memory.series:
        if label not in memory.procs and label != KERNEL_FIXED:
            color, hatch = style.owner_style(label)
            out.append((label, color, hatch))
    return out


def figure(timeline, size=(16, 9), dpi=100):
    with style.rc():
        return _figure(timeline, size, dpi)


def _figure(tl, size, dpi):
    mem = tl.memory
    fig = style.new_figure(size, dpi)
    w, h = size
    x = mem.times
    styles = [s for s in series_style(mem) if mem.series[s[0]].any()]
    ys = [mem.series[label] for label, _, _ in styles]
    used = np.sum(ys, axis=0) if ys else np.zeros(len(x))
    fixed = mem.series.get(KERNEL_FIXED, np.zeros(len(x)))
    peak = float(used.max()) if len(x) else 0.0
    # Full scale only says something when memory is noticeably used.
    strip = 1.4 if mem.total and peak >= 0.05 * mem.total else 0.0
    gap = 0.3 if strip else 0.0
    main_h = h - TOP - BOTTOM - strip - gap
    ax = fig.add_axes([LEFT / w, (BOTTOM + strip + gap) / h, (w - LEFT - RIGHT) / w,
                       main_h / h])
    scale = tl.time_scale()
    info = {"series": {label: mem.series[label] for label, _, _ in styles}, "times": x}
    top = max(1.0, peak * 1.15)
    if mem.total:
        # Free pages go on top of the stack; the axis is cut above the peak.
        info["free"] = free = np.maximum(mem.total - used - fixed, 0)
        styles.append(("free", style.OWNER_STYLE["free"][0], ""))
        ys.append(free)
    if ys:
        # Outlines separate the layers of a calm chart; on a busy one they
        # would be all one sees.
        steps = int(np.count_nonzero(np.diff(np.sum(ys, axis=0)))) if len(x) > 1 else 0
        edge = dict(edgecolor="#333333", linewidth=0.5) if steps <= 150 else dict(linewidth=0)
        polys = ax.stackplot(x, ys, step="post", colors=[c for _, c, _ in styles], **edge)
        for poly, (_, _, hatch) in zip(polys, styles):
            if hatch:
                poly.set_hatch(hatch)
    ax.set_xlim(tl.start, tl.end if tl.end > tl.start else tl.start + 1e-9)
    ax.set_ylim(0, top)
    if peak == 0:
        ax.text(0.5, 0.5, "no page allocations recorded in this window", transform=ax.transAxes,
                ha="center", va="center", fontsize=16, color="#555555")
    if mem.total and mem.total > top:
        ax.text(0.995, 0.975, f"free pages continue above ({mem.total} pages, "
                f"{style.size_bytes(mem.total * tl.page)}, managed in all)",
                transform=ax.transAxes, ha="right", va="top", fontsize=12.5, style="italic",
                color="#444444", bbox=dict(facecolor="white", edgecolor="#BBBBBB", alpha=0.9))
    ax.set_ylabel("pages")
    ax.grid(axis="both", color="#DDDDDD", linewidth=0.8)
    ax.set_axisbelow(True)
    scale.apply(ax.xaxis)
    # The same scale in bytes, KiB or MiB, whichever reads better.
    unit, div = ("MiB", 1 << 20) if top * tl.page >= 2 << 20 else ("KiB", 1 << 10)
    per_page = tl.page / div
    sec = ax.secondary_yaxis("right", functions=(lambda p: p * per_page,
                                                  lambda b: b / per_page))
    sec.set_ylabel(unit)

    if strip:
        ax.tick_params(labelbottom=False)
        strip_ax = fig.add_axes([LEFT / w, BOTTOM / h, (w - LEFT - RIGHT) / w, strip / h],
                                sharex=ax)
        strip_ax.stackplot(x, [used + fixed, info["free"]], step="post",
                           colors=["#555555", style.OWNER_STYLE["free"][0]],
                           edgecolor="#333333", linewidth=0.6)
        strip_ax.set_ylim(0, mem.total)
        strip_ax.set_yticks([0, mem.total])
        strip_ax.set_ylabel("all pages", fontsize=13)
        strip_ax.set_xlabel(scale.label)
        scale.apply(strip_ax.xaxis)
        strip_ax.text(0.995, 0.9, "full scale: in use (dark) and free (light)",
                      transform=strip_ax.transAxes, ha="right", va="top", fontsize=12.5,
                      bbox=dict(facecolor="white", edgecolor="none", alpha=0.85))
    else:
        ax.set_xlabel(scale.label)

    marked = _mark_processes(ax, tl)
    handles = [Patch(facecolor=c, edgecolor="#333333", hatch=hatch or None, label=label)
               for label, c, hatch in reversed(styles)]
    if marked:
        handles += [Line2D([], [], color=style.GREEN, linestyle=(0, (4, 3)),
                           label="process starts"),
                    Line2D([], [], color=style.BLACK, linestyle=(0, (4, 3)),
                           label="process exits")]
    pos = ax.get_position()
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(pos.x1 + 0.055, pos.y1),
               frameon=False, handlelength=2.2, handleheight=1.2, borderaxespad=0,
               title="top of the stack first", alignment="left")
    peak_at = float(x[int(np.argmax(used))]) if len(x) else tl.start
    fig.text(LEFT / w, 1 - 0.18 / h, "Physical memory over time, by owner",
             fontsize=style.FONT["axes.titlesize"], fontweight="bold", va="top")
    sub = fig.text(LEFT / w, 1 - 0.6 / h, _subtitle(tl, peak, peak_at, fixed, scale),
                   fontsize=style.FONT["font.size"], color="#333333", va="top")
    info["fixed"] = fixed
    style.fit_width(sub, (w - LEFT - 0.2) * dpi)
    return fig, info


def _mark_processes(ax, tl):
    """Thin lines where the processes shown by name start and exit.
    Returns how many were drawn."""
    n = 0
    for label, pid in tl.memory.procs.items():
        life = tl.procs.get(pid)
        if life is None:
            continue
        for t, color in ((life.born, style.GREEN), (life.exited, style.BLACK)):
            if t is not None and tl.start <= t <= tl.end:
                ax.axvline(t, color=color, linewidth=1.0, linestyle=(0, (4, 3)), alpha=0.7,
                           zorder=2.5)
                n += 1
    return n


def _subtitle(tl, peak, peak_at, fixed, scale):
    """Peak of the stack, and the kernel's own page tables left out of it."""
    text = (f"processes' cost: peak {int(peak)} pages ({style.size_bytes(int(peak) * tl.page)}) "
            f"at {scale.format(peak_at)}")
    if len(fixed) and fixed.max() > 0:
        lo, hi = int(fixed.min()), int(fixed.max())
        pages = f"{hi} pages" if lo == hi else f"up to {hi} pages"
        text += (f" · not stacked: the kernel's own page tables, {pages} "
                 f"({style.size_bytes(hi * tl.page)}), {'fixed' if lo == hi else 'set up at boot'}")
    return text
