"""How fast the default set of pictures renders from a big trace.

    python3 -m viz.bench [--events 1000000] [--out out/viz-bench]

Writes a synthetic capture of a busy machine (synth.workload), then times
`python3 -m viz` on it in a fresh process and reports its wall time and
peak resident memory (ru_maxrss of the child).

On a 2-core development machine a million events take about 19 s (half
of it the animation; 10 s with --no-anim) and peak at about 510 MiB, most
of which is the replay's own copy of the records (xvtrace's Replayer).
"""

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

from . import REPO, synth


def make_trace(path, events, seed=1):
    k = synth.workload(events, seed=seed)
    data = k.to_bytes()
    path.write_bytes(data)
    return k.events, len(data)


def run_viz(trace, outdir, extra=()):
    """(seconds, peak RSS in MiB, CompletedProcess) of python3 -m viz."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "viz", str(trace), "-o", str(outdir), "-q",
                           *extra], cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of them: only meaningful if this
    # child is the biggest so far, which holds when it runs first.
    return seconds, max(peak, before) / 1024, proc


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m viz.bench", description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--out", default=str(REPO / "out" / "viz-bench"))
    p.add_argument("--no-anim", action="store_true")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    trace = out / f"workload-{args.events}.bin"
    if not trace.exists():
        t0 = time.perf_counter()
        n, size = make_trace(trace, args.events)
        print(f"wrote {trace}: {n} events, {size / 1e6:.1f} MB in "
              f"{time.perf_counter() - t0:.1f} s")
    seconds, peak, proc = run_viz(trace, out / "plots",
                                  ["--no-anim"] if args.no_anim else [])
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return 1
    print(f"rendered the default set from {trace.name} in {seconds:.1f} s, "
          f"peak memory {peak:.0f} MiB: {proc.stdout.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
