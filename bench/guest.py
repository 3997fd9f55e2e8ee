"""Run an in-guest benchmark under QEMU's -icount and print its table.

With -icount shift=0 every guest instruction advances virtual time by one
nanosecond and the TSC follows virtual time, so a program that reads the
TSC measures instructions: the figures are deterministic, unlike wall-clock
time under TCG.

    python3 bench/guest.py mmapbench [ARGS...]
    python3 bench/guest.py --trace-overhead mmapbench

With --trace-overhead the command runs twice in one boot, first with tracing
off, then on, and each row shows the slowdown tracing causes.
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ICOUNT = "-icount shift=0,align=off,sleep=off"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", nargs="+", help="the guest command line, e.g. mmapbench")
    ap.add_argument("--cpus", type=int, default=1, help="CPUs to boot (default 1)")
    ap.add_argument("--trace-overhead", action="store_true",
                    help="run the command with tracing off, then on, and compare")
    args = ap.parse_args()
    cmd = " ".join(args.command)
    cmds = ["tracectl off", cmd, "tracectl on", cmd] if args.trace_overhead else [cmd]
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "console.log")
        argv = [sys.executable, os.path.join(ROOT, "tests", "harness.py"), "--cpus",
                str(args.cpus), "--qemu-arg=" + ICOUNT, "--timeout", "900", "--log", log]
        for c in cmds:
            argv += ["--run", c, "--expect", ""]
        run = subprocess.run(argv, capture_output=True, text=True)
        lines = open(log, errors="replace").read().splitlines() if os.path.exists(log) else []
    table = [l.rstrip("\r") for l in lines if l.startswith("|")]
    if run.returncode != 0 or not table:
        sys.stderr.write(run.stdout + run.stderr)
        sys.exit(f"bench: `{cmd}` failed")
    print(f"`{cmd}` on {args.cpus} CPU, QEMU {ICOUNT} (cycles = guest instructions):\n")
    if not args.trace_overhead:
        print("\n".join(table))
        return
    half = len(table) // 2
    off, on = table[:half], table[half:]
    print("| operation | tracing off | tracing on | slowdown |\n|---|---|---|---|")
    for a, b in zip(off[2:], on[2:]):
        name, x = a.split("|")[1].strip(), int(a.split("|")[2])
        y = int(b.split("|")[2])
        print(f"| {name} | {x} | {y} | {100.0 * (y - x) / x:+.1f}% |")


if __name__ == "__main__":
    main()
