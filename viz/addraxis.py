"""A segmented virtual-address axis.

A 32-bit user address space is 2 GiB of which a program uses a few pages
at the bottom (text, stack, heap) and a few just under MMAPTOP. On a linear
axis both would be invisible lines. Here the axis is piecewise linear:

  - occupied addresses form *clusters* (ranges closer than GAP_PAGES pages
    merge); a cluster gets room growing with the log of its size, and is
    linear inside, so pages within one cluster have equal height (except
    that no piece between two boundaries gets less than MIN_PIECE);
  - the empty stretches between clusters shrink to a fixed BREAK height
    and are drawn as a grey band saying how much is unused.

The axis is installed as a matplotlib 'function' scale, so artists keep
real addresses as data (tests can compare them with the replayed state)
and ticks are hex addresses at cluster edges, thinned to never overlap.
"""

import bisect
import math

import numpy as np
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from .style import size_bytes

GAP_PAGES = 8
BREAK = 1.2
MIN_PIECE = 0.7


class AddressAxis:
    def __init__(self, ranges, page=4096, gap_pages=GAP_PAGES):
        """ranges: (start, end) address pairs that must be readable."""
        ranges = sorted((int(s), int(e)) for s, e in ranges if e > s)
        if not ranges:
            ranges = [(0, page)]
        self.page = page
        self.clusters = _clusters(ranges, gap_pages * page)
        bounds = sorted({a for r in ranges for a in r})
        self.breaks = []
        knots_a, knots_y = [self.clusters[0][0]], [0.0]
        for i, (c0, c1) in enumerate(self.clusters):
            if i:
                prev = self.clusters[i - 1][1]
                self.breaks.append((prev, c0))
                knots_a.append(c0)
                knots_y.append(knots_y[-1] + BREAK)
            inner = bounds[bisect.bisect_right(bounds, c0):bisect.bisect_left(bounds, c1)]
            pieces = [c0] + inner + [c1]
            pages = (c1 - c0) / page
            height = 1.0 + 2.0 * math.log2(1 + pages)
            # Many boundaries (a heap grown in small steps) must not inflate
            # the cluster: the floor shrinks as pieces multiply.
            floor = min(MIN_PIECE, 0.5 * height / (len(pieces) - 1))
            for a, b in zip(pieces, pieces[1:]):
                knots_a.append(b)
                knots_y.append(knots_y[-1] + max(floor, height * (b - a) / (c1 - c0)))
        self.knots_a = np.array(knots_a, dtype=float)
        self.knots_y = np.array(knots_y, dtype=float)
        self.lo, self.hi = float(self.knots_a[0]), float(self.knots_a[-1])
        self._ext_a, self._ext_y = _extend(self.knots_a, self.knots_y)

    # The scale's two functions: address -> axis units and back. Outside
    # the knots they continue the first and last pieces linearly (one far
    # knot on each side does that: a single np.interp per call, which
    # matplotlib makes for every path it draws).

    def forward(self, a):
        return np.interp(a, self._ext_a, self._ext_y)

    def inverse(self, y):
        return np.interp(y, self._ext_y, self._ext_a)

    @property
    def height(self):
        """Total axis units: what the figure's vertical room is shared by."""
        return float(self.knots_y[-1])

    def middle(self, start, end):
        """The address drawn halfway between start and end."""
        return float(self.inverse((self.forward(start) + self.forward(end)) / 2))

    def ticks(self, min_sep):
        """Tick addresses at least min_sep axis units apart: cluster edges
        first, then inner boundaries."""
        edges = [float(a) for c in self.clusters for a in c]
        edge_set = set(edges)
        inner = [float(a) for a in self.knots_a if a not in edge_set]
        chosen_y = []           # sorted axis positions of the ticks chosen so far
        chosen = []
        for a, y in zip(edges + inner, self.forward(np.array(edges + inner)).tolist()):
            i = bisect.bisect_left(chosen_y, y)
            near = chosen_y[max(0, i - 1):i + 1]
            if all(abs(y - b) >= min_sep for b in near):
                chosen_y.insert(i, y)
                chosen.append(a)
        return sorted(chosen)

    def install(self, ax, fontsize=12.5, label=True):
        """Make ax's y axis this axis: scale, limits, hex ticks, break bands."""
        ax.set_yscale("function", functions=(self.forward, self.inverse))
        ax.set_ylim(self.lo, self.hi)
        height_pt = ax.get_position().height * ax.figure.get_figheight() * 72
        min_sep = self.height * fontsize * 1.25 / max(height_pt, 1)
        ax.yaxis.set_major_locator(FixedLocator(self.ticks(min_sep)))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter(FuncFormatter(lambda a, pos: hex_address(a)))
        for a, b in self.breaks:
            ax.axhspan(a, b, facecolor="#EFEFEF", edgecolor="none", zorder=0.5)
            room_pt = (self.forward(b) - self.forward(a)) / self.height * height_pt
            if room_pt >= fontsize * 0.9:
                ax.text(0.5, self.middle(a, b), f"{size_bytes(b - a)} not mapped",
                        transform=ax.get_yaxis_transform(), ha="center", va="center",
                        fontsize=fontsize * 0.85, style="italic", color="#666666", zorder=0.6)
        if label:
            ax.set_ylabel("virtual address (segmented axis)")


def hex_address(a):
    return f"0x{int(round(a)):08X}"


def _clusters(ranges, gap):
    out = []
    for s, e in ranges:
        if out and s <= out[-1][1] + gap:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [tuple(c) for c in out]


FAR = float(1 << 40)        # beyond any 32-bit address, and any axis position


def _extend(xs, ys):
    """The knots with one far knot added at each end, on the line of the
    first and last pieces."""
    if len(xs) < 2:
        return np.array([xs[0] - FAR, xs[0] + FAR]), np.array([ys[0] - FAR, ys[0] + FAR])
    lo_slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    hi_slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    ext_x = np.concatenate(([xs[0] - FAR], xs, [xs[-1] + FAR]))
    ext_y = np.concatenate(([ys[0] - FAR * lo_slope], ys, [ys[-1] + FAR * hi_slope]))
    return ext_x, ext_y
