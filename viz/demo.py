"""`make demo`: boot the kernel headless, run the demo workload with the
trace on, and draw the run.

    python3 -m viz.demo [--cpus N] [--out DIR]        (from the repo root)

Steps: boot QEMU with COM2 going to DIR/com2.bin (hostlib.qemu, the
console runner the tests use too); type `demo` (xv6/user/demo.c) at the shell, then
`tracectl flush`; wait until the capture stops growing; stop QEMU; check
the trace (xvtrace's checker); render every picture and index.html into
DIR (default out/demo) and print the index's path. The console log is
DIR/console.log.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from hostlib import qemu
from viz import REPO
from viz.render import Options, VizError, render

BOOT_TIMEOUT = 60
DEMO_TIMEOUT = 120
SETTLE = 1.0            # the capture must not grow for this long
SETTLE_LIMIT = 20.0


class DemoError(Exception):
    pass


def log(msg):
    print(f"demo: {msg}", flush=True)


def run_command(console, command, timeout):
    out, trouble = qemu.run_command(console, command, timeout)
    if trouble:
        raise DemoError(f"`{command}`: {trouble}" +
                        (f" ({qemu.first_line_with(out, qemu.PANIC)})"
                         if qemu.PANIC in out else ""))
    return out


def wait_until_still(path):
    """Wait until the file has not grown for SETTLE seconds."""
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


def capture(out, cpus):
    """Boot, run the demo, flush the trace; returns the capture's path."""
    missing = [str(p) for p in (qemu.KERNEL, qemu.FS_IMAGE) if not p.exists()]
    if missing:
        raise DemoError(f"missing {', '.join(missing)}: run make first")
    com2 = out / "com2.bin"
    com2.unlink(missing_ok=True)
    console_log = out / "console.log"
    with tempfile.TemporaryDirectory(prefix="xv6-demo-") as tmp:
        fs_copy = Path(tmp) / "fs.img"
        shutil.copyfile(qemu.FS_IMAGE, fs_copy)
        log(f"booting QEMU ({cpus} CPUs), console in {console_log}")
        console = qemu.Console(qemu.qemu_argv(cpus, fs_copy, com2), console_log)
        try:
            text, trouble = console.wait_for_prompt(0, BOOT_TIMEOUT, BOOT_TIMEOUT)
            if trouble:
                raise DemoError(f"boot failed: {trouble}")
            log("running the demo workload (about 2 s)")
            out_text = run_command(console, "demo", DEMO_TIMEOUT)
            for line in out_text.strip().splitlines():
                print(f"  | {line}")
            if "demo: done" not in out_text:
                raise DemoError("the demo program did not finish (no 'demo: done')")
            run_command(console, "tracectl flush", 30)
            size = wait_until_still(com2)
            log(f"captured {size} bytes of trace in {com2}")
        finally:
            console.close()
    return com2


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m viz.demo", description=__doc__.split("\n")[0])
    p.add_argument("--cpus", type=int, default=2, help="CPUs to boot (default 2)")
    p.add_argument("--out", default=str(REPO / "out" / "demo"),
                   help="directory for the capture and the pictures (default out/demo)")
    p.add_argument("--no-anim", action="store_true", help="skip the animation")
    args = p.parse_args(argv)
    qemu.exit_on_sigterm()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        com2 = capture(out, args.cpus)
        from xvtrace import TraceError, load
        try:
            trace = load(com2)
        except TraceError as e:
            raise DemoError(f"{e} (is tracing wired into the kernel?)") from None
        for w in trace.warnings[:5]:
            log(f"warning: {w}")
        result = render(trace, out, Options(anim=not args.no_anim), log=log)
        if not result.timeline.procs:
            log("warning: the capture has no process or mmap events (is the kernel built "
                "with its trace hooks?); the pictures have nothing to show")
        report = result.check
        log(f"checker: {report.verdict}" +
            (f" ({len(report.problems)} problems, see {out / 'check.txt'})"
             if report.problems else ""))
        print(result.index)
        return 0
    except (DemoError, VizError) as e:
        print(f"demo: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"demo: error: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
