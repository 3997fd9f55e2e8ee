"""How fast the default set of pictures renders from a big trace.

    python3 -m viz.bench [--events 1000000] [--out out/viz-bench]
    python3 -m viz.bench --capture out/test/com2-cpus2.bin

Writes a synthetic capture of a busy machine (synth.workload), or takes a
real one (--capture: `make test`'s lossless 2-CPU capture, about 2.6
million records), then times `python3 -m viz` on it in a fresh process and
reports its wall time, CPU time and peak resident memory (ru_maxrss of the
child). `make bench` runs both when the test capture exists.

Figures on the shared 2-core development machine (load average 2 to 6
from other work, so wall times vary; CPU time includes the checker's own
process, which replays the trace beside the pictures' replay):

  make test's lossless 2-CPU capture (usertests, kmalloctest, mmaptest,
  mmapstress, mmapfuzz, cowtest: 2.6 million records, 75 MB, 1862
  processes): 49 to 62 s at load 3 to 4, 74 to 87 s at load 5; 48 s of CPU; peak
  950 MiB. Most of it is the replay (xvtrace's Replayer, about 25 s of
  CPU); the maps take 7 s, the animation 10 s. It took more than 15
  minutes before the snapshot's labels and the address axis stopped being
  quadratic (millions of axis-transform calls) and rectangles became one
  path per collection.
  A million synthetic events: 50 s at load 6, 26 s of CPU, peak 550 MiB.
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
    """(seconds, peak RSS in MiB, CompletedProcess) of python3 -m viz;
    the CPU seconds it used are in proc.cpu."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = usage.ru_maxrss
    cpu0 = usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "viz", str(trace), "-o", str(outdir),
                           *extra], cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss
    proc.cpu = usage.ru_utime + usage.ru_stime - cpu0
    # ru_maxrss of children is the largest of them: only meaningful if this
    # child is the biggest so far, which holds when it runs first.
    return seconds, max(peak, before) / 1024, proc


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m viz.bench", description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--out", default=str(REPO / "out" / "viz-bench"))
    p.add_argument("--capture", metavar="FILE",
                   help="time this capture instead of a synthetic one")
    p.add_argument("--no-anim", action="store_true")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    trace = Path(args.capture) if args.capture else out / f"workload-{args.events}.bin"
    if args.capture and not trace.exists():
        print(f"viz.bench: error: {trace}: no such capture (make test writes "
              "out/test/com2-cpus2.bin)", file=sys.stderr)
        return 2
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
    lines = proc.stdout.strip().splitlines()
    steps = next((l for l in lines if l.startswith("seconds: ")), "")
    print(f"rendered the default set from {trace.name} ({trace.stat().st_size / 1e6:.0f} MB) "
          f"in {seconds:.1f} s ({proc.cpu:.1f} s of CPU, the checker's process included), "
          f"peak memory {peak:.0f} MiB: {lines[-1] if lines else ''}")
    if steps:
        print(f"  {steps} (the checker runs beside the replay)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
