"""Command line: python3 -m viz [TRACE] -o DIR [options]   (from the repo root)

Exit status: 0 done; 2 unusable input or bad options; 3 the input was
damaged or incomplete (the pictures show what could be decoded).
"""

import argparse
import sys

from hostlib.cli import EXIT_DAMAGED, EXIT_OK, print_warnings, run_main

from . import animate
from .render import Options, VizError, render

DEFAULT_CAPTURE = "out/com2.bin"
DEFAULT_OUT = "out/viz"


def size(text):
    try:
        w, h = (float(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: expected WxH in inches, "
                                         "e.g. 16x9") from None
    if not (2 <= w <= 60 and 2 <= h <= 60):
        raise argparse.ArgumentTypeError(f"size {text!r} out of range (2 to 60 inches)")
    return (w, h)


def pid_list(text):
    try:
        pids = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad pid list {text!r}: expected numbers, "
                                         "e.g. 4 or 4,5") from None
    if not pids or any(p <= 0 for p in pids):
        raise argparse.ArgumentTypeError(f"bad pid list {text!r}: pids are positive")
    return pids


def positive(text):
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return n


def build_parser():
    p = argparse.ArgumentParser(
        prog="python3 -m viz",
        description="Draw an xv6 kernel trace (a COM2 capture): each process's address "
                    "space over time, a pmap-like snapshot, physical memory by owner, an "
                    "animation, and index.html gathering them with the trace summary and "
                    "the checker's verdict.",
        epilog="Times given (--from, --to, --at) are seconds since tracing started, or with "
               "a unit (200ms, 15us); TSC ticks when the trace has no TSC rate. Axes count "
               "from the first selected process's start (--pid, --tree), else from the "
               "window's start. Exit status: 0 done, 2 unusable input "
               "or options, 3 damaged or incomplete input (drawn anyway).")
    p.add_argument("trace", nargs="?", default=DEFAULT_CAPTURE,
                   help=f"capture to draw (default {DEFAULT_CAPTURE})")
    p.add_argument("-o", "--out", default=DEFAULT_OUT, metavar="DIR",
                   help=f"directory for the pictures and index.html (default {DEFAULT_OUT})")
    p.add_argument("--pid", type=pid_list, action="extend", default=[], metavar="PID[,PID]",
                   help="draw only these processes (repeatable, or comma-separated); the "
                        "window defaults to their lifetimes")
    p.add_argument("--tree", type=pid_list, action="extend", default=[], metavar="PID",
                   help="draw this process and every process forked from it (repeatable)")
    p.add_argument("--from", dest="start", metavar="T",
                   help="start of the time window, for every picture (default: the selected "
                        "processes' lifetimes with a 5%% margin, else the whole trace)")
    p.add_argument("--to", dest="end", metavar="T", help="end of the time window")
    p.add_argument("--at", metavar="T", help="time of the snapshot (default: when the most "
                   "regions are mapped)")
    p.add_argument("--format", choices=("png", "svg"), default="png",
                   help="picture format (default png; the animation is always GIF)")
    p.add_argument("--size", type=size, default=(16, 9), metavar="WxH",
                   help="picture size in inches (default 16x9; the animation is 12x6.75 "
                        "at 80 dpi)")
    p.add_argument("--dpi", type=positive, default=100,
                   help="dots per inch of PNG pictures (default 100: 1600x900 pixels)")
    p.add_argument("--no-anim", action="store_true", help="skip the animation (faster)")
    p.add_argument("--frames", type=positive, default=animate.MAX_FRAMES,
                   help=f"most frames in the animation of an unselected trace (default "
                        f"{animate.MAX_FRAMES}); with --pid or --tree every event of those "
                        f"processes gets a frame (at most {animate.MAX_EVENT_FRAMES})")
    p.add_argument("--max-procs", type=positive, default=8, metavar="N",
                   help="address-space maps for at most N processes, those with the most "
                        "to show (default 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the index path")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    return run_main("viz", lambda: draw(args), VizError, "VIZ_DEBUG")


def draw(args):
    from xvtrace import TraceError, load
    try:
        trace = load(args.trace)
    except TraceError as e:
        raise VizError(str(e)) from None
    print_warnings("viz", trace.warnings)
    opts = Options(pids=args.pid, trees=args.tree, start=args.start, end=args.end, at=args.at,
                   fmt=args.format, size=args.size, dpi=args.dpi, anim=not args.no_anim,
                   max_procs=args.max_procs, frames=args.frames)
    log = (lambda msg: None) if args.quiet else print
    result = render(trace, args.out, opts, log=log)
    log("seconds: " + ", ".join(f"{step} {t:.1f}" for step, t in result.seconds.items()))
    print(result.index)
    if trace.damaged or trace.truncated or trace.missing_frames:
        return EXIT_DAMAGED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
