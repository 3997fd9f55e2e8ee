"""Measure make bench's deterministic figures and compare them with bench/baseline.json.

    python3 -m bench.baseline            measure, print, compare (exit 1 if a row got worse)
    python3 -m bench.baseline --update   measure and write them as the new baseline
    python3 -m bench.baseline --from F   compare the figures saved in F (see --save) instead

The figures: every row of mmapbench under QEMU -icount (guest instructions, the same from run
to run) with tracing off, on, and on and lossless; what recording one trace event costs,
(on - off) / 5 on mmap+munmap of one page, which records five events; and, when valgrind is
there, the host's instructions per kmalloc+kmfree pair one at a time (callgrind, 16 bytes, as
`make -C bench callgrind` counts them). A row more than --threshold percent (default 5) above
its baseline is reported as worse; rows new or gone are listed too.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

from bench.guest import ROOT, format_overhead, run_guest

BASELINE = os.path.join(ROOT, "bench", "baseline.json")
MODES = ("tracing off", "tracing on", "lossless")
EVENT_ROW = "mmap+munmap with 1 regions mapped"
EVENTS_IN_ROW = 5   # kmalloc, mmap, mmap_ret, munmap, kmfree
CG_PAIRS = 100000
# Rows that wait for the disk: the IDE completes when the host's I/O does, so under -icount
# their counts follow the host (they vary tenfold). Printed, never compared.
DISK_ROWS = ("file page-in (first touch", "read() of the same page",
             "write() of a whole page", "write-back of a dirty page")


def deterministic(figures):
    return {k: v for k, v in figures.items() if not k.startswith(DISK_ROWS)}


def guest_figures():
    rows = run_guest("mmapbench", 1, trace_overhead=True)
    print("`mmapbench` on 1 CPU under -icount (guest instructions):\n")
    print("\n".join(format_overhead(rows)) + "\n")
    figures = {f"{name} ({mode})": v for name, values in rows for mode, v in zip(MODES, values)}
    for name, (off, on, _) in rows:
        if name == EVENT_ROW:
            figures["trace: one event recorded (instructions)"] = round((on - off) / EVENTS_IN_ROW,
                                                                        1)
    return figures


def callgrind_pair():
    """Instructions per kmalloc+kmfree pair on the host, or None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bench")
        subprocess.run(["make", "--no-print-directory", "-C", os.path.join(ROOT, "bench"),
                        f"OUT={out}", f"{out}/kmalloc_bench"], check=True, capture_output=True)
        counts = []
        for alloc in ("none", "kmalloc"):
            cg = os.path.join(tmp, f"cg.{alloc}")
            subprocess.run(["valgrind", "-q", "--tool=callgrind", f"--callgrind-out-file={cg}",
                            "--toggle-collect=bench_pairs", f"{out}/kmalloc_bench", "--pairs",
                            alloc, "16", str(CG_PAIRS)], check=True, capture_output=True)
            summary = [l for l in open(cg) if l.startswith("summary:")]
            counts.append(int(summary[0].split()[1]))
    return round((counts[1] - counts[0]) / CG_PAIRS, 1)


def compare(base, now, threshold):
    """(lines of the comparison table, number of rows worse by more than threshold %)."""
    lines = ["| figure | baseline | now | change | |", "|---|---|---|---|---|"]
    worse = 0
    for name in list(base) + [n for n in now if n not in base]:
        if name not in now:
            lines.append(f"| {name} | {base[name]} | - | | gone |")
            continue
        if name not in base:
            lines.append(f"| {name} | - | {now[name]} | | new |")
            continue
        b, n = base[name], now[name]
        change = 100.0 * (n - b) / b if b else 0.0
        verdict = "WORSE" if change > threshold else ("better" if change < -threshold else "")
        worse += verdict == "WORSE"
        lines.append(f"| {name} | {b} | {n} | {change:+.1f}% | {verdict} |")
    return lines, worse


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--update", action="store_true", help="write the figures as the baseline")
    ap.add_argument("--threshold", type=float, default=5.0, metavar="PCT",
                    help="percent above the baseline that counts as worse (default 5)")
    ap.add_argument("--baseline", default=BASELINE, metavar="FILE",
                    help="the baseline file (default bench/baseline.json)")
    ap.add_argument("--save", metavar="FILE", help="also write the figures measured to FILE")
    ap.add_argument("--from", dest="source", metavar="FILE",
                    help="compare the figures in FILE (from --save) instead of measuring")
    args = ap.parse_args(argv)
    try:
        if args.source:
            with open(args.source) as f:
                now = json.load(f)["figures"]
        else:
            now = guest_figures()
            pair = callgrind_pair()
            if pair is not None:
                now["kmalloc+kmfree pair, one at a time (host callgrind)"] = pair
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"bench: {e}")
    now = deterministic(now)
    doc = {"about": "make bench's deterministic figures (python3 -m bench.baseline --update)",
           "figures": now}
    if args.save:
        with open(args.save, "w") as f:
            json.dump(doc, f, indent=1)
    if args.update:
        with open(args.baseline, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print(f"baseline written: {args.baseline} ({len(now)} figures)")
        return 0
    try:
        with open(args.baseline) as f:
            base = json.load(f)["figures"]
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"bench: no usable baseline {args.baseline} ({e}); make bench BENCH_UPDATE=1")
    lines, worse = compare(base, now, args.threshold)
    print(f"Against {os.path.relpath(args.baseline, ROOT)} (worse: more than "
          f"{args.threshold:g}% above):\n")
    print("\n".join(lines))
    print(f"\n{worse} figure(s) worse than the baseline" if worse else
          "\nno figure worse than the baseline")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
