"""Colours, hatches, fonts and time formatting shared by every picture.

The palette is Okabe & Ito's, safe for the common colour-vision
deficiencies. It also survives a greyscale projector: the kinds of memory
are chosen (the heap's green darkened) so that any two differ in
luminance, most of all those next to each other in the legend and on the
address axis (viz/tests/test_viz_style.py measures it); protection is
carried by hatching, residency by tint against solid fill.
"""

import math

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter, Locator, MaxNLocator

# Okabe-Ito.
ORANGE, SKY, GREEN, YELLOW = "#E69F00", "#56B4E9", "#009E73", "#F0E442"
BLUE, VERMILLION, PURPLE, BLACK = "#0072B2", "#D55E00", "#CC79A7", "#000000"
GREY = "#BBBBBB"
DARK_GREEN = "#004D3A"       # Okabe-Ito's green, darker: apart from the stack in greyscale
DARK_ORANGE = "#DE9300"      # Okabe-Ito's orange, a little darker: apart from file regions
LIGHT_PURPLE = "#DDA0C8"     # Okabe-Ito's reddish purple, lighter: between text and private

# Luminance (greyscale) of the kinds, in legend order: 0.84, 0.47, 0.20, 0.60, 0.34, 0.72.
# A file region is a mapping of a file (shared or private); its pages are the
# file's page cache until a private mapping's write copies one (then private).
KIND_COLOR = {"text": YELLOW, "guard": GREY, "stack": VERMILLION, "heap": DARK_GREEN,
              "private": DARK_ORANGE, "shared": BLUE, "file": LIGHT_PURPLE}
KIND_LABEL = {"text": "text + data", "guard": "guard page", "stack": "stack",
              "heap": "heap (sbrk)", "private": "private region", "shared": "shared region",
              "file": "file region"}
REGION_KINDS = ("private", "shared", "file")
KINDS = tuple(KIND_COLOR)
RESERVED_ALPHA = 0.28        # mapped but not yet touched: a tint of the kind's colour

PROT_HATCH = {"rw": "", "ro": "///", "none": "xx"}
PROT_LABEL = {"ro": "read-only", "none": "no access"}
HATCH_COLOR = "#1A1A1A"

# Events: (colour, marker, legend text).
EVENT_STYLE = {
    "mmap": (BLUE, "v", "mmap"),
    "munmap": (VERMILLION, "X", "munmap"),
    "mprotect": (PURPLE, "D", "mprotect"),
    "mremap": (BLUE, ">", "mremap (arrow: moved)"),
    "fork": (GREEN, "|", "fork"),
    "exec": (SKY, "|", "exec"),
    "exit": (BLACK, "|", "exit"),
    "fault": (VERMILLION, "*", "fault (killed)"),
    "failed": (VERMILLION, "x", "failed call"),
}
PROCESS_EVENTS = ("fork", "exec", "exit")
# A page written back to its file: a short tick across the page's row.
WRITEBACK_COLOR, WRITEBACK_LABEL = BLACK, "written back to file"

# Region pages shared copy-on-write since a fork: a hatch over their colour.
COW_HATCH = "#000000"
COW_HATCH_PATTERN = "xx"

# Physical memory chart: processes cycle through these, kernel uses are greys.
PROCESS_COLORS = (ORANGE, SKY, GREEN, YELLOW, PURPLE, VERMILLION)
PROCESS_HATCHES = ("", "..", "", "..", "", "..")
OWNER_STYLE = {
    "other processes": ("#E6E6E6", "//"),
    "shared copy-on-write": ("#FFFFFF", "xxx"),
    "shared regions": (BLUE, ".."),
    "page cache (mapped files)": (LIGHT_PURPLE, "--"),
    "processes' page tables": ("#4D4D4D", ""),
    "kernel stacks": ("#808080", ""),
    "kmalloc": ("#A6A6A6", "\\\\"),
    "pipes": ("#C8C8C8", ""),
    "kernel (other)": ("#DADADA", "++"),
    "free": ("#F2F2F2", ""),
}

FONT = {
    "font.size": 14,
    "axes.titlesize": 19,
    "axes.titleweight": "bold",
    "axes.labelsize": 15,
    "xtick.labelsize": 13,
    "ytick.labelsize": 12.5,
    "legend.fontsize": 12.5,
    "legend.title_fontsize": 13,
    "hatch.linewidth": 1.2,
    "hatch.color": HATCH_COLOR,
    "svg.fonttype": "none",
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


def luminance(color):
    """Grey level of a colour as a greyscale conversion gives it (ITU-R
    BT.601 weights, as PIL's convert('L')): 0 black, 1 white."""
    from matplotlib.colors import to_rgb
    r, g, b = to_rgb(color)
    return 0.299 * r + 0.587 * g + 0.114 * b


def owner_style(label):
    """(colour, hatch) of a memory-chart series that is not one process."""
    if label.startswith("other processes"):
        return OWNER_STYLE["other processes"]
    return OWNER_STYLE.get(label, ("#DDDDDD", ""))


def rc():
    """Context manager with the fonts and line styles of every picture."""
    return matplotlib.rc_context(FONT)


def new_figure(size, dpi):
    """A Figure drawn by Agg, without pyplot: no global state, nothing to close."""
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def fit_width(text, pixels, smallest=9.0):
    """Shrink text's font until it is at most pixels wide."""
    renderer = text.figure.canvas.get_renderer()
    width = text.get_window_extent(renderer).width
    if width > pixels:
        text.set_fontsize(max(smallest, text.get_fontsize() * pixels / width))


# ---- time ----------------------------------------------------------------

class TimeScale:
    """How to show trace times: relative to origin (the window's time 0:
    tracing's start, or when the first process shown started), in s, ms or
    µs by the span shown; TSC ticks (a trace without a clock rate) in
    thousands or millions. since says what origin is, for the axis label."""

    def __init__(self, unit, span, origin=0.0, since="since tracing started"):
        self.origin, self.since = origin, since
        if unit != "s":
            self.ticks = True
            self.factor, self.suffix = next((f, s) for f, s in (
                (1e-6, "million TSC ticks"), (1e-3, "thousand TSC ticks"), (1.0, "TSC ticks"))
                if span * f >= 5 or f == 1.0)
        else:
            self.ticks = False
            self.factor, self.suffix = next((f, s) for f, s in (
                (1.0, "s"), (1e3, "ms"), (1e6, "µs")) if span * f >= 5 or f == 1e6)

    @property
    def label(self):
        return f"time ({self.suffix} {self.since})"

    def format(self, t):
        """One time relative to the origin, for titles and labels."""
        if t == self.origin:
            return f"0 {self.suffix}"
        return duration(t - self.origin, self.ticks)

    def formatter(self):
        return _TimeFormatter(self.factor, self.origin)

    def apply(self, axis):
        """Give a matplotlib x axis this scale: ticks at round times after
        the origin, labelled in the scale's unit."""
        axis.set_major_locator(_TimeLocator(self.factor, self.origin))
        axis.set_major_formatter(self.formatter())


def duration(d, ticks=False):
    """A time or a length of time with the precision it needs: three
    significant figures in the largest unit it fills ('12.3 ms', '1.25 s',
    '870 µs', '15.1 M ticks'), never rounded into the next unit up."""
    scales = (((1e-6, "M ticks"), (1e-3, "k ticks"), (1.0, "ticks")) if ticks else
              ((1.0, "s"), (1e3, "ms"), (1e6, "µs")))
    for factor, suffix in scales:
        if abs(d) * factor >= 1 or factor == scales[-1][0]:
            v = d * factor
            digits = max(0, 2 - int(math.floor(math.log10(abs(v))))) if v else 0
            return f"{v:.{digits}f} {suffix}"


def moment(t, span, ticks=False):
    """An absolute trace time, with enough digits to tell apart instants
    span apart: '8.6912 s' when a 12 ms lifetime starts there."""
    if ticks:
        return f"{t:.0f} ticks"
    step = max(abs(span) / 100, 1e-6)
    digits = min(6, max(0, -int(math.floor(math.log10(step)))))
    return f"{t:.{digits}f} s"


class _TimeLocator(Locator):
    """Round ticks in the scale's unit, counted from the origin."""

    def __init__(self, factor, origin):
        self.factor, self.origin = factor, origin
        self.inner = MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10])

    def __call__(self):
        vmin, vmax = self.axis.get_view_interval()
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin, vmax):
        f, o = self.factor, self.origin
        self.inner.set_params(nbins=max(3, min(10, self.axis.get_tick_space()))
                              if self.axis is not None else 9)
        return [o + v / f for v in self.inner.tick_values((vmin - o) * f, (vmax - o) * f)]


class _TimeFormatter(Formatter):
    """Tick labels in the scale's unit, with as many decimals as the tick
    step needs."""

    def __init__(self, factor, origin=0.0):
        self.factor, self.origin = factor, origin
        self.decimals = 0

    def set_locs(self, locs):
        super().set_locs(locs)
        if len(locs) > 1:
            step = abs(locs[1] - locs[0]) * self.factor
            self.decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0

    def __call__(self, x, pos=None):
        v = (x - self.origin) * self.factor
        return f"{0.0 if abs(v) < 10 ** -(self.decimals + 1) else v:.{self.decimals}f}"


def size_bytes(n):
    """A size in plain units: '512 bytes', '12 KiB', '1 GiB', '1.5 MiB'
    (never '1.02e+03 MiB'); whole numbers shown whole."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            if unit == "bytes" or float(n).is_integer():
                return f"{int(n)} {unit}"
            return f"{n:.1f} {unit}" if n < 100 else f"{n:.0f} {unit}"
        n /= 1024


def pages_text(n):
    return f"{n} page" + ("s" if n != 1 else "")
