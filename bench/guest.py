"""Run an in-guest benchmark under QEMU's -icount and print its table.

With -icount shift=0 every guest instruction advances virtual time by one
nanosecond and the TSC follows virtual time, so a program that reads the
TSC measures instructions: the figures are deterministic, unlike wall-clock
time under TCG.

    python3 bench/guest.py mmapbench [ARGS...]
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
    args = ap.parse_args()
    cmd = " ".join(args.command)
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "console.log")
        run = subprocess.run(
            [sys.executable, os.path.join(ROOT, "tests", "harness.py"), "--cpus", str(args.cpus),
             "--qemu-arg=" + ICOUNT, "--run", cmd, "--expect", "", "--timeout", "900",
             "--log", log], capture_output=True, text=True)
        lines = open(log, errors="replace").read().splitlines() if os.path.exists(log) else []
    table = [l.rstrip("\r") for l in lines if l.startswith("|")]
    if run.returncode != 0 or not table:
        sys.stderr.write(run.stdout + run.stderr)
        sys.exit(f"bench: `{cmd}` failed")
    print(f"`{cmd}` on {args.cpus} CPU, QEMU {ICOUNT} (cycles = guest instructions):\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
