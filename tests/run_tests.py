"""Run every test: what `make test` does.

For each CPU count, one boot runs the shell smoke tests and every suite in SUITES, and out/fsck
checks the disk it leaves; then the power-cut test (crashtest.py) kills QEMU during a file-system
workload --crash-kills times on each CPU count; then pytest runs the host tests. The last
line printed is always `N passed, N failed`.

    python3 -m tests.run_tests --cpus 2 --cpus 4
"""

import argparse
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from tests import crashtest, harness
from tests.harness import Step

# In-guest suites: (command typed at the shell, time limit in seconds). {cpus} is the CPU count.
# A suite whose program is missing from fs.img fails ("no BEGIN line"); it is never skipped.
SUITES = [
    ("usertests ncpu={cpus}", 600),
    ("kmalloctest", 300),
    ("mmaptest", 600),
    ("remaptest", 600),
    ("mmapstress", 600),
    ("mmapfuzz", 600),
    ("cowtest", 600),
    ("filetest", 600),
    ("attacktest", 600),
    ("storm calls=8000", 600),      # about 80 s on 2 CPUs; make fuzz runs 1,000,000 calls
]

# Shell smoke tests, in order: (command, regex its output must match; "" only needs the prompt).
SMOKE = [
    ("echo hi", r"^hi$"),
    ("echo hi > f", r""),
    ("cat f", r"^hi$"),
    ("ls", r"^README\s"),
    ("cat README | grep x | wc", r"^\s*\d+\s+\d+\s+\d+"),
]

# Host test directories; those that exist are handed to pytest.
HOST_TEST_DIRS = ["tests", "trace", "viz", "gdbscripts"]

# A boot without the lossless trace ends by shrinking every CPU's ring to a few records under an
# event-heavy case, so that events are certainly dropped: the capture must report every one of
# them in LOST records (check_lost).
TINY_RING = [Step("tracectl ring 8", r"^ring 8 records", timeout=30),
             Step("mmaptest populate munmap-frees fork-private", timeout=120),
             Step("tracectl ring 2048", r"^ring 2048 records", timeout=30)]


def guest_steps(cpus, only_suite=None, lossless=False, suite_timeout=600):
    """The steps of one boot: smoke tests, then the suites (or just only_suite).

    With lossless, the trace runs lossless (a CPU whose ring is full sends it out itself instead
    of dropping events, which slows the suites down) so that the checker can judge the whole
    run. Either way the trace is flushed at the end."""
    steps = [Step("tracectl lossless on", "", timeout=30)] if lossless else []
    if not only_suite:
        steps += [Step(cmd, expect, timeout=30) for cmd, expect in SMOKE]
    suites = [(cmd.format(cpus=cpus), limit) for cmd, limit in SUITES]
    if only_suite:
        suites = [s for s in suites if s[0].split()[0] == only_suite] or [(only_suite,
                                                                         suite_timeout)]
    steps += [Step(cmd, timeout=limit) for cmd, limit in suites]
    if not lossless and not only_suite:
        steps += TINY_RING
    return steps + [Step("tracectl flush", "", timeout=120),
                    Step("tracectl status", r"^lost \d+", timeout=30)]


def check_trace(capture):
    """Run the trace checker over a boot's capture: the kernel leak detector."""
    began = time.monotonic()
    proc = subprocess.run(["/usr/bin/python3", "-B", "-m", "xvtrace", "check", str(capture)],
                          cwd=harness.ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    verdict = proc.stdout.strip().splitlines()[-1:] or ["(no output)"]
    ok = proc.returncode == 0
    if not ok:
        print("\n".join(proc.stdout.strip().splitlines()[-15:]))
    print(f"{'PASS' if ok else 'FAIL'} trace check of {capture.name}: {verdict[0]} "
          f"({time.monotonic() - began:.1f} s)", flush=True)
    return ok


def run_guest(args):
    """Boot once per CPU count; returns (passed, failed)."""
    passed = failed = 0
    for i, cpus in enumerate(args.cpus):
        lossless = i == 0       # the first boot's whole trace goes through the checker
        print(f"== guest tests, cpus={cpus}{', lossless trace' if lossless else ''}", flush=True)
        result = harness.run_boot(guest_steps(cpus, args.suite, lossless, args.suite_timeout),
                                  cpus=cpus,
                                  qemu_args=harness.qemu_extra(args.qemu_arg),
                                  qemu_cmd=shlex.split(args.qemu_cmd) if args.qemu_cmd else None,
                                  boot_timeout=args.boot_timeout, idle_timeout=args.idle_timeout)
        harness.print_report(result)
        passed += result.passed
        failed += result.failed
        if not lossless and args.suite:
            continue                        # the tiny-ring steps ran only with every suite
        capture = harness.ROOT / "out" / "test" / f"com2-cpus{cpus}.bin"
        ok = check_trace(capture) if lossless else check_lost(capture, result.log_path)
        passed += ok
        failed += not ok
    return passed, failed


def check_lost(capture, console_log):
    """The LOST records of a capture add up to the kernel's count of dropped events (the last
    `lost N` that `tracectl status` printed), which the tiny ring made non-zero."""
    from xvtrace.check import lost_by_cpu
    from xvtrace.decode import load
    from xvtrace.schema import TraceError
    said = re.findall(r"^lost (\d+)", Path(console_log).read_text(errors="replace"), re.M)
    try:
        reported = sum(lost_by_cpu(load(capture)).values())
    except TraceError as e:
        reported, said = None, [str(e)]
    ok = bool(said) and said[-1].isdigit() and int(said[-1]) > 0 and reported == int(said[-1])
    print(f"{'PASS' if ok else 'FAIL'} lost events of {capture.name}: kernel dropped "
          f"{said[-1] if said else '?'}, LOST records in the capture report {reported}",
          flush=True)
    return ok


def run_crash(args):
    """The power-cut test on each CPU count, with seeds of its own; returns (passed,
    failed), one per run of the workload."""
    passed = failed = 0
    for i, cpus in enumerate(args.cpus):
        print(f"== power-cut test, cpus={cpus}, {args.crash_kills} kills", flush=True)
        p, f = crashtest.run(args.crash_kills, args.crash_seed + 1000 * i, cpus=cpus)
        passed, failed = passed + p, failed + f
    return passed, failed


def parse_pytest_summary(output):
    """(passed, failed) from pytest's closing summary; errors count as failures."""
    counts = {}
    for line in reversed(output.strip().split("\n")):
        found = re.findall(r"(\d+) (passed|failed|errors?)\b", line)
        if found or "no tests ran" in line:
            for n, word in found:
                counts[word.rstrip("s")] = int(n)
            break
    return counts.get("passed", 0), counts.get("failed", 0) + counts.get("error", 0)


def run_host():
    """Run pytest over the host test directories; returns (passed, failed)."""
    dirs = [d for d in HOST_TEST_DIRS if (harness.ROOT / d).is_dir()]
    print(f"== host tests: {' '.join(dirs)}", flush=True)
    began = time.monotonic()
    pytest = ["/usr/bin/python3", "-B", "-m", "pytest", "-q", "-p", "no:cacheprovider", *dirs]
    proc = subprocess.run(pytest, cwd=harness.ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    print(proc.stdout, end="")
    passed, failed = parse_pytest_summary(proc.stdout)
    if proc.returncode not in (0, 5) and failed == 0:     # 5: no tests collected
        print(f"pytest exited with status {proc.returncode}")
        failed = 1
    elapsed = time.monotonic() - began
    print(f"host: {passed} passed, {failed} failed in {elapsed:.1f} s", flush=True)
    return passed, failed


def closing_line(passed, failed):
    return f"{passed} passed, {failed} failed"


def exit_status(passed, failed):
    """Success only if something ran and nothing failed."""
    return 0 if failed == 0 and passed > 0 else 1


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cpus", type=int, action="append", metavar="N",
                        help="boot with N CPUs (repeatable; default 2)")
    parser.add_argument("--suite", metavar="NAME",
                        help="run only this in-guest suite (no smoke tests)")
    parser.add_argument("--suite-timeout", type=int, default=600, metavar="S",
                        help="time limit in seconds for a --suite not in SUITES (default 600)")
    parser.add_argument("--skip-guest", action="store_true", help="do not boot the kernel")
    parser.add_argument("--skip-host", action="store_true", help="do not run pytest")
    parser.add_argument("--crash-kills", type=int, default=20, metavar="N",
                        help="power cuts the crash test survives on each CPU count (default 20; "
                             "0: no crash test; "
                             "not run with --suite or --skip-guest)")
    parser.add_argument("--crash-seed", type=int, default=1, metavar="S",
                        help="seed of the crash test's workloads and kill delays (default 1)")
    harness.add_qemu_options(parser)
    args = parser.parse_args(argv)
    args.cpus = args.cpus or [2]
    return args


def main(argv=None):
    harness.exit_on_sigterm()
    args = parse_args(argv)
    passed = failed = 0
    if not args.skip_guest:
        p, f = run_guest(args)
        passed, failed = passed + p, failed + f
        if args.crash_kills > 0 and not args.suite and not args.qemu_cmd:
            p, f = run_crash(args)
            passed, failed = passed + p, failed + f
    if not args.skip_host:
        p, f = run_host()
        passed, failed = passed + p, failed + f
    print(closing_line(passed, failed), flush=True)
    return exit_status(passed, failed)


if __name__ == "__main__":
    sys.exit(main())
