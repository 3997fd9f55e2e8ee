"""`make demo`: the lecture demo, traced and drawn (docs/demo.md).

    python3 -m viz.demo [--cpus N] [--out DIR] [--no-anim]     (from the repo root)

One use of viz.trace (`make trace`): boot, trace losslessly, run `demo`
(xv6/user/demo.c), wait for it and its child, check the capture and draw
them into DIR (default out/demo, replaced on each run); the last line
printed is index.html's path. The console log is DIR/console.log.
"""

import argparse
import sys
from pathlib import Path

from hostlib import qemu
from viz import REPO
from viz.trace import report, trace_and_draw

DEMO_TIMEOUT = 120


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m viz.demo", description=__doc__.split("\n")[0])
    p.add_argument("--cpus", type=int, default=2, help="CPUs to boot (default 2)")
    p.add_argument("--out", default=str(REPO / "out" / "demo"),
                   help="directory for the capture and the pictures (default out/demo)")
    p.add_argument("--no-anim", action="store_true", help="skip the animation")
    args = p.parse_args(argv)
    qemu.exit_on_sigterm()
    return report(lambda: trace_and_draw("demo", Path(args.out), args.cpus, DEMO_TIMEOUT,
                                         not args.no_anim, prog="demo", expect="demo: done"),
                  prog="demo")


if __name__ == "__main__":
    sys.exit(main())
