"""Run an in-guest benchmark under QEMU's -icount and print its table.

With -icount shift=0 every guest instruction advances virtual time by one
nanosecond and the TSC follows virtual time, so a program that reads the
TSC measures instructions: the figures are deterministic, unlike wall-clock
time under TCG.

    python3 -m bench.guest mmapbench [ARGS...]
    python3 -m bench.guest --trace-overhead mmapbench

With --trace-overhead the command runs three times in one boot: tracing off;
on (a ring that fills up drops events, to be sent later: what the traced
operation itself pays); on and lossless (a CPU whose ring is full sends
frames out itself, so every event of the operation is also drained within
it: checksum and COM2 writes included). Each row shows both slowdowns.
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ICOUNT = "-icount shift=0,align=off,sleep=off"


def run_guest(cmd, cpus=1, trace_overhead=False):
    """Boot, run cmd (three times with trace_overhead), and return the table rows it printed:
    [(operation, [figures])], one figure per run (tracing off, on, on and lossless). Exits
    with a message if the run failed."""
    cmds = ["tracectl off", cmd, "tracectl on", cmd, "tracectl lossless on", cmd,
            "tracectl lossless off"] if trace_overhead else [cmd]
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "console.log")
        argv = [sys.executable, "-m", "tests.harness", "--cpus",
                str(cpus), "--qemu-arg=" + ICOUNT, "--timeout", "900", "--log", log]
        for c in cmds:
            argv += ["--run", c, "--expect", ""]
        run = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        lines = open(log, errors="replace").read().splitlines() if os.path.exists(log) else []
    table = [l.rstrip("\r") for l in lines if l.startswith("|")]
    if run.returncode != 0 or not table:
        sys.stderr.write(run.stdout + run.stderr)
        sys.exit(f"bench: `{cmd}` failed")
    nruns = 3 if trace_overhead else 1
    per = len(table) // nruns
    runs = [table[i * per + 2:(i + 1) * per] for i in range(nruns)]
    return [(rows[0].split("|")[1].strip(), [int(r.split("|")[2]) for r in rows])
            for rows in zip(*runs)]


def format_overhead(rows):
    """The --trace-overhead table: each row with both slowdowns."""
    out = ["| operation | tracing off | on | slowdown | on, lossless | slowdown |",
           "|---|---|---|---|---|---|"]
    for name, (off, on, lossless) in rows:
        out.append(f"| {name} | {off} | {on} | {100.0 * (on - off) / off:+.1f}% | {lossless} | "
                   f"{100.0 * (lossless - off) / off:+.1f}% |")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", nargs="+", help="the guest command line, e.g. mmapbench")
    ap.add_argument("--cpus", type=int, default=1, help="CPUs to boot (default 1)")
    ap.add_argument("--trace-overhead", action="store_true",
                    help="run the command with tracing off, then on, and compare")
    args = ap.parse_args()
    cmd = " ".join(args.command)
    rows = run_guest(cmd, args.cpus, args.trace_overhead)
    print(f"`{cmd}` on {args.cpus} CPU, QEMU {ICOUNT} (cycles = guest instructions):\n")
    if args.trace_overhead:
        print("\n".join(format_overhead(rows)))
    else:
        print("| operation | median | unit |\n|---|---|---|")
        print("\n".join(f"| {name} | {v[0]} | cycles |" for name, v in rows))


if __name__ == "__main__":
    main()
