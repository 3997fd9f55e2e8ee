"""`make trace CMD="prog args"`: trace your own program in one command.

    python3 -m viz.trace [--cpus N] [--out DIR] -- prog args [; prog2 &] ...

Boots the kernel headless (hostlib.qemu) on a copy of out/fs.img, turns
the trace on losslessly (`tracectl lossless on`), types the command line at
the shell (`;` sequences and `&` background jobs as the shell takes them),
waits until every process it started has exited (flushing the trace and
reading it back until their exits are in it), stops QEMU, checks the
capture (xvtrace's checker) and draws the pictures of that command's
processes and their children, over their lifetimes. Everything stays in
its own directory, out/trace/NAME-TIMESTAMP/ by default (com2.bin,
console.log, check.txt, the pictures, index.html); the last line printed
is index.html's path. `make demo` is this with the demo program.
"""

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from hostlib import qemu

from . import REPO, procs
from .render import Options, VizError, render
from .web.export import write_page

BOOT_TIMEOUT = 60
SETTLE = 1.0            # the capture must not grow for this long
SETTLE_LIMIT = 20.0
POLL = 1.0              # seconds between looks for background jobs' exits
PRE = ["tracectl lossless on"]
FLUSH = "tracectl flush"


class TraceRunError(Exception):
    pass


def log(prog, msg):
    print(f"{prog}: {msg}", flush=True)


def run_command(console, command, timeout):
    out, trouble = qemu.run_command(console, command, timeout)
    if trouble:
        raise TraceRunError(f"`{command}`: {trouble}" +
                            (f" ({qemu.first_line_with(out, qemu.PANIC)})"
                             if qemu.PANIC in out else ""))
    return out


def wait_until_still(path):
    """Wait until the file has not grown for SETTLE seconds; returns its size."""
    deadline = time.monotonic() + SETTLE_LIMIT
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_size = path.stat().st_size if path.exists() else 0
        if now_size != size:
            size, since = now_size, time.monotonic()
        elif time.monotonic() - since >= SETTLE:
            return size
        time.sleep(0.1)
    return size


def command_roots(table, flushes):
    """The pids the command line started: the shell's children after the
    PRE commands' and before the `flushes` flush commands' (the shell forks
    one child per command, and one per background job)."""
    tracectl = [p for p in sorted(table) if table[p].name == "tracectl"]
    if not tracectl:
        raise TraceRunError("the capture has no `tracectl` process: is the kernel built "
                            "with its trace hooks?")
    shell = table[tracectl[0]].parent
    children = sorted((p for p in table.values() if p.parent == shell and p.born is not None),
                      key=lambda p: (p.born, p.pid))
    mine = children[len(PRE):len(children) - flushes]
    return [p.pid for p in mine]


def still_running(table, roots):
    return [p for root in roots for p in procs.descendants(table, root)
            if table[p].exited is None]


def flush_and_read(console, com2, flushes):
    """Flush the trace, wait for it, decode it; returns (trace, flushes so far)."""
    from xvtrace import TraceError, load
    run_command(console, FLUSH, 60)
    wait_until_still(com2)
    try:
        return load(com2), flushes + 1
    except TraceError as e:
        raise TraceRunError(f"{e} (is tracing wired into the kernel?)") from None


def capture(command, out, cpus, timeout, prog="trace"):
    """Boot, run command traced, wait for everything it started; returns
    (trace, root pids, console output of the command)."""
    missing = [str(p) for p in (qemu.KERNEL, qemu.FS_IMAGE) if not p.exists()]
    if missing:
        raise TraceRunError(f"missing {', '.join(missing)}: run make first")
    com2, console_log = out / "com2.bin", out / "console.log"
    with tempfile.TemporaryDirectory(prefix="xv6-trace-") as tmp:
        fs_copy = Path(tmp) / "fs.img"
        shutil.copyfile(qemu.FS_IMAGE, fs_copy)
        log(prog, f"booting QEMU ({cpus} CPU{'s' if cpus != 1 else ''}), console in {console_log}")
        console = qemu.Console(qemu.qemu_argv(cpus, fs_copy, com2), console_log)
        try:
            text, trouble = console.wait_for_prompt(0, BOOT_TIMEOUT, BOOT_TIMEOUT)
            if trouble:
                raise TraceRunError(f"boot failed: {trouble}")
            for pre in PRE:
                run_command(console, pre, 30)
            log(prog, f"running `{command}`")
            output = run_command(console, command, timeout)
            for line in output.strip("\n").splitlines():
                print(f"  | {line}")
            trace, flushes = flush_and_read(console, com2, 0)
            roots = command_roots(procs.read(trace), flushes)
            deadline = time.monotonic() + timeout
            while still_running(procs.read(trace), roots):
                if time.monotonic() > deadline:
                    left = still_running(procs.read(trace), roots)
                    raise TraceRunError(f"pids {' '.join(map(str, left))} still running "
                                        f"after {timeout:g} s")
                time.sleep(POLL)
                trace, flushes = flush_and_read(console, com2, flushes)
            log(prog, f"captured {com2.stat().st_size} bytes of trace in {com2}")
        finally:
            console.close()
    return trace, command_roots(procs.read(trace), flushes), output


def default_out(command):
    """out/trace/NAME-TIMESTAMP, NAME from the command's first word; never one that exists."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", command.split()[0]).strip("_") or "run"
    base = REPO / "out" / "trace" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def trace_and_draw(command, out, cpus=2, timeout=120, anim=True, prog="trace", expect=None):
    """The whole flow; returns the render Result. Raises TraceRunError or VizError."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in [out / "com2.bin", out / "interactive.html", *out.glob("aspace-*"),
                  *out.glob("animation.*")]:
        stale.unlink(missing_ok=True)   # a directory used again (make demo's) keeps no old pictures
    trace, roots, output = capture(command, out, cpus, timeout, prog)
    if expect is not None and expect not in output:
        raise TraceRunError(f"`{command}` did not print {expect!r} (see {out / 'console.log'})")
    if not roots:
        raise TraceRunError(f"`{command}` started no process")
    for w in trace.warnings[:5]:
        log(prog, f"warning: {w}")
    which = " ".join(map(str, roots))
    log(prog, f"drawing pid {which} and its children" if len(roots) == 1 else
        f"drawing pids {which} and their children")
    page = write_page(out / "com2.bin", out)      # before render, whose index.html links it
    log(prog, f"interactive page: {page}")
    opts = Options(trees=roots, anim=anim, command=command)
    result = render(trace, out, opts, log=lambda msg: log(prog, msg))
    report = result.check
    log(prog, f"checker: {report.verdict}" +
        (f" ({len(report.problems)} problems, see {out / 'check.txt'})"
         if report.problems else ""))
    return result


def build_parser(prog="python3 -m viz.trace"):
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0],
                                epilog="Example: python3 -m viz.trace -- 'labdemo; echo done'")
    p.add_argument("--cpus", type=int, default=2, help="CPUs to boot (default 2)")
    p.add_argument("--out", metavar="DIR",
                   help="directory for the capture, the console log and the pictures "
                        "(default out/trace/NAME-TIMESTAMP, a new one each run)")
    p.add_argument("--timeout", type=float, default=120, metavar="S",
                   help="seconds the command (and its background jobs) may take (default 120)")
    p.add_argument("--no-anim", action="store_true", help="skip the animation (faster)")
    p.add_argument("command", nargs="+", metavar="CMD",
                   help="the command line to type at the xv6 shell (after --)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    command = " ".join(args.command).strip()
    if not command:
        print("trace: error: no command given (make trace CMD=\"prog args\")", file=sys.stderr)
        return 2
    if args.cpus < 1:
        print(f"trace: error: --cpus {args.cpus}: need at least one CPU", file=sys.stderr)
        return 2
    qemu.exit_on_sigterm()
    out = Path(args.out) if args.out else default_out(command)
    return report(lambda: trace_and_draw(command, out, args.cpus, args.timeout,
                                         not args.no_anim))


def report(draw, prog="trace"):
    """Run draw() (a trace_and_draw); print the index path it made, or the
    error in one line. Returns the exit status."""
    try:
        result = draw()
    except (TraceRunError, VizError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{prog}: error: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 1
    print(result.index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
