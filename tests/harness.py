"""Boot the kernel headless under QEMU, type commands at its shell and judge what they print.

An in-guest test suite prints `BEGIN <suite> <N>`, then N lines `PASS <case>` or
`FAIL <case>: <reason>`, then `END <suite>`; anything else is ignored (but kept in the log).
parse_suite() judges such output, hostlib.qemu.Console drives one QEMU, run_boot() puts the two together.

    python3 -m tests.harness --cpus 2 --run "usertests ncpu=2" --run "echo hi" --expect '^hi$'

A --run without --expect is a suite. With --expect REGEX it is a plain command whose output
must match REGEX (an empty REGEX only asks that the shell comes back).
"""

import argparse
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hostlib import ROOT
# The QEMU side lives in hostlib.qemu; its names are re-exported for the scripts that use this one.
from hostlib.qemu import (FS_IMAGE, FSCK, KERNEL, PANIC, PROMPT, Console,  # noqa: F401
                          clean, command_output, exit_on_sigterm, first_line_with, qemu_argv)

LOG_DIR = ROOT / "out" / "test"
TAIL_LINES = 30


# ---------------------------------------------------------------- parsing (pure)

@dataclass
class SuiteResult:
    name: str | None          # from BEGIN; None if the suite never began
    announced: int | None     # N from BEGIN
    cases: list               # (case, ok, reason) in output order
    ended: bool
    panicked: bool
    problems: list[str]       # what fails the run besides FAIL lines

    @property
    def ok(self):
        return not self.problems and all(ok for _, ok, _ in self.cases)


BEGIN_RE = re.compile(r"BEGIN (\S+) (\d+)")
END_RE = re.compile(r"END (\S+)")
PASS_RE = re.compile(r"PASS (.+)")
FAIL_RE = re.compile(r"FAIL (.+?)(?:: *(.*))?")


def parse_suite(text):
    """Judge one suite's console output (see the module doc string for the protocol)."""
    text = clean(text)
    name = announced = None
    ended = False
    cases, problems = [], []
    for line in text.split("\n"):
        line = line.strip()
        if m := BEGIN_RE.fullmatch(line):
            if name is not None:
                problems.append("BEGIN printed twice")
            else:
                name, announced = m[1], int(m[2])
        elif m := END_RE.fullmatch(line):
            if ended:
                problems.append("END printed twice")
            ended = True
            if name is not None and m[1] != name:
                problems.append(f"END {m[1]} does not match BEGIN {name}")
        elif m := PASS_RE.fullmatch(line):
            cases.append((m[1].strip(), True, ""))
        elif m := FAIL_RE.fullmatch(line):
            cases.append((m[1].strip(), False, m[2] or "no reason given"))

    panicked = PANIC in text
    if panicked:
        problems.insert(0, "kernel " + first_line_with(text, PANIC))
    if name is None:
        first = next((l.strip() for l in text.split("\n") if l.strip()), "")
        problems.append("no BEGIN line" + (f" (output: {first!r})" if first else " (no output)"))
    elif not ended:
        problems.append("no END line")
    if announced is not None and len(cases) != announced:
        problems.append(f"announced {announced} cases, {len(cases)} reported")
    seen = {}
    for case, _, _ in cases:
        seen[case] = seen.get(case, 0) + 1
    problems += [f"case {case} reported {n} times" for case, n in seen.items() if n > 1]
    return SuiteResult(name, announced, cases, ended, panicked, problems)


# ---------------------------------------------------------------- a boot with its commands

@dataclass
class Step:
    """A command typed at the shell: a suite if expect is None, else a plain command."""
    command: str
    expect: str | None = None
    timeout: float = 300

    @property
    def name(self):
        return self.command.split()[0] if self.expect is None else "sh/" + self.command


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""

    def line(self, cpus):
        head = f"{'PASS' if self.ok else 'FAIL'} cpus={cpus} {self.name}"
        return head if self.ok else f"{head}: {self.detail}"


@dataclass
class BootResult:
    cpus: int
    log_path: Path
    checks: list = field(default_factory=list)
    elapsed: float = 0.0
    image: Path | None = None     # the disk the boot used (None with a stand-in for QEMU)

    @property
    def passed(self):
        return sum(c.ok for c in self.checks)

    @property
    def failed(self):
        return sum(not c.ok for c in self.checks)

    @property
    def ok(self):
        return self.failed == 0 and self.passed > 0


def suite_checks(name, result):
    checks = [Check(f"{name}/{case}", ok, reason) for case, ok, reason in result.cases]
    return checks + [Check(name, False, problem) for problem in result.problems]


def plain_check(step, text, trouble):
    out = command_output(text, step.command)
    if PANIC in out:
        return Check(step.name, False, "kernel " + first_line_with(out, PANIC))
    if trouble:
        return Check(step.name, False, trouble)
    if not re.search(step.expect, out, re.MULTILINE):
        shown = out.strip()[:200]
        return Check(step.name, False, f"output does not match {step.expect!r}: {shown!r}")
    return Check(step.name, True)


def run_boot(steps, cpus=2, log_path=None, com2_path=None, qemu_args=(), qemu_cmd=None,
             boot_timeout=60, idle_timeout=120, image_path=None):
    """Boot once, run every step at the shell, and return what passed and failed.

    The boot gets its own copy of out/fs.img (image_path, default out/test/fs-cpusN.img), which
    out/fsck checks once QEMU has gone (one more check; see check_image).

    qemu_cmd replaces the whole QEMU command line (an argv list): the harness's own tests use it
    to talk to a stand-in that imitates the console.
    """
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = Path(log_path or LOG_DIR / f"console-cpus{cpus}.log")
    com2_path = Path(com2_path or LOG_DIR / f"com2-cpus{cpus}.bin")
    result = BootResult(cpus, log_path)
    began = time.monotonic()
    if qemu_cmd is None:
        missing = [str(p) for p in (KERNEL, FS_IMAGE) if not p.exists()]
        if missing:
            log_path.write_text(f"harness: missing {', '.join(missing)} (run make)\n")
            result.checks = [Check(s.name, False, f"not run: missing {', '.join(missing)}")
                             for s in steps]
            return result
        # A fresh disk per boot, kept afterwards for fsck; out/fs.img never changes.
        result.image = Path(image_path or LOG_DIR / f"fs-cpus{cpus}.img")
        shutil.copyfile(FS_IMAGE, result.image)
        qemu_cmd = qemu_argv(cpus, result.image, com2_path, qemu_args)
    console = Console(qemu_cmd, log_path)
    try:
        run_steps(console, steps, boot_timeout, idle_timeout, result.checks)
    finally:
        console.close()
    if result.image:
        result.checks.append(check_image(result.image))
    result.elapsed = time.monotonic() - began
    return result


def check_image(image):
    """Run out/fsck over a disk image QEMU has finished with; a Check named after the image."""
    name = f"fsck {Path(image).name}"
    if not FSCK.exists():
        return Check(name, False, f"{FSCK} is missing (run make)")
    proc = subprocess.run([str(FSCK), str(image)], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    lines = proc.stdout.strip().splitlines() or ["(no output)"]
    if proc.returncode != 0:
        return Check(name, False, "; ".join(lines[:5]) + (" ..." if len(lines) > 5 else ""))
    return Check(name, True)


def run_steps(console, steps, boot_timeout, idle_timeout, checks):
    text, trouble = console.wait_for_prompt(0, boot_timeout, idle_timeout)
    if trouble:
        trouble = f"boot failed: {trouble}"
        if PANIC in text:
            trouble += f" ({first_line_with(text, PANIC)})"
    for step in steps:
        if trouble:     # the console is unusable: every step left is a failure, not a skip
            checks.append(Check(step.name, False, f"not run: {trouble}"))
            continue
        start = console.mark()
        console.send(step.command + "\n")
        text, trouble = console.wait_for_prompt(start, step.timeout, idle_timeout)
        if step.expect is None:
            result = parse_suite(command_output(text, step.command))
            if trouble and not result.panicked:
                result.problems.append(trouble)
            checks += suite_checks(step.name, result)
        else:
            checks.append(plain_check(step, text, trouble))
        if trouble:
            trouble = f"an earlier command ended in {trouble}"


def log_tail(path, n=TAIL_LINES):
    try:
        lines = clean(Path(path).read_bytes().decode(errors="replace")).rstrip("\n").split("\n")
    except OSError:
        return []
    return lines[-n:]


def print_report(result, out=sys.stdout):
    """Print one line per check, then (on failure) where the log is and how it ends."""
    for check in result.checks:
        print(check.line(result.cpus), file=out)
    print(f"cpus={result.cpus}: {result.passed} passed, {result.failed} failed "
          f"in {result.elapsed:.1f} s", file=out)
    if not result.ok:
        print(f"console log: {result.log_path} (last {TAIL_LINES} lines below)", file=out)
        for line in log_tail(result.log_path):
            print("  | " + line, file=out)
    out.flush()


# ---------------------------------------------------------------- command line

class StepAction(argparse.Action):
    """--run appends a step; --expect turns the latest step into a plain command."""

    def __call__(self, parser, namespace, value, option_string=None):
        if option_string == "--run":
            namespace.steps.append(Step(value))
        elif not namespace.steps:
            parser.error("--expect must follow a --run")
        else:
            namespace.steps[-1].expect = value


def qemu_extra(values):
    return [word for value in values for word in shlex.split(value)]


def add_qemu_options(parser):
    """Options shared with run_tests.py."""
    parser.add_argument("--qemu-arg", action="append", default=[], metavar="ARG",
                        help="extra QEMU argument(s), split like a shell would, e.g. "
                             "--qemu-arg='-icount shift=7' (repeatable)")
    parser.add_argument("--qemu-cmd", metavar="CMD",
                        help="run CMD instead of QEMU (for testing the harness with a stand-in)")
    parser.add_argument("--boot-timeout", type=float, default=60, metavar="S",
                        help="seconds to wait for the first shell prompt (default 60)")
    parser.add_argument("--idle-timeout", type=float, default=120, metavar="S",
                        help="a command that prints nothing for S seconds hangs (default 120)")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(steps=[])
    parser.add_argument("--cpus", type=int, default=2, metavar="N",
                        help="CPUs to boot (default 2)")
    parser.add_argument("--timeout", type=float, default=300, metavar="S",
                        help="time limit in seconds for each --run (default 300)")
    parser.add_argument("--log", metavar="FILE",
                        help="console log (default out/test/console-cpusN.log)")
    parser.add_argument("--com2", metavar="FILE",
                        help="where COM2 (the trace) goes (default out/test/com2-cpusN.bin)")
    add_qemu_options(parser)
    parser.add_argument("--run", action=StepAction, metavar="CMDLINE",
                        help="type CMDLINE at the shell and judge it as a suite (repeatable)")
    parser.add_argument("--expect", action=StepAction, metavar="REGEX",
                        help="the preceding --run is a plain command whose output must match "
                             "REGEX ('' only asks for the prompt to come back)")
    args = parser.parse_args(argv)
    if not args.steps:
        parser.error("nothing to do: give at least one --run")
    for step in args.steps:
        step.timeout = args.timeout
    return args


def main(argv=None):
    exit_on_sigterm()
    args = parse_args(argv)
    result = run_boot(args.steps, cpus=args.cpus, log_path=args.log, com2_path=args.com2,
                      qemu_args=qemu_extra(args.qemu_arg),
                      qemu_cmd=shlex.split(args.qemu_cmd) if args.qemu_cmd else None,
                      boot_timeout=args.boot_timeout, idle_timeout=args.idle_timeout)
    print_report(result)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
