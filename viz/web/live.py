"""`make live`: boot the kernel with its console here and watch it in a browser.

    python3 -m viz.web.live [--port P] [--out DIR] -- QEMU-COMMAND...

QEMU-COMMAND is the whole QEMU command line with the console on this
terminal (the Makefile passes its qemu-nox one, without COM2); this adds
COM2 as a pipe chardev, FIFOs DIR/com2.pipe.{in,out}, that the recorder
(follow.py) reads. The
capture goes to DIR/com2.bin (default out/live) as it arrives; the page at
the printed URL (127.0.0.1 only) shows it live. Quitting QEMU (Ctrl-A x)
ends it all; the capture stays, for `python3 -m viz.web DIR/com2.bin`.
"""

import argparse
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from hostlib import ROOT
from hostlib.qemu import FS_IMAGE, boot_argv
from hostlib.qemu import _die_with_parent as die_with_parent

from .follow import Follower, Recorder, say
from .model import Model
from .server import Server

WATCH = 0.25        # seconds between looks for new stream warnings


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m viz.web.live", description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0, help="HTTP port on 127.0.0.1 (default: any free)")
    p.add_argument("--out", default=str(ROOT / "out" / "live"),
                   help="directory for the capture com2.bin and the FIFOs (default out/live)")
    p.add_argument("qemu", nargs=argparse.REMAINDER, help="-- then the QEMU command line")
    args = p.parse_args(argv)
    if args.qemu[:1] == ["--"]:
        args.qemu = args.qemu[1:]
    if not args.qemu:
        p.error("no QEMU command given (after --)")
    return args


def watch(model, stop):
    """Say stream warnings and a stop on the terminal as they arise."""
    said = 0
    failed = False
    while not stop.wait(WATCH):
        with model.lock:
            warnings, status, error = model.warnings(), model.status, model.error
        for w in warnings[said:said + 5]:
            say(f"live: warning: {w}")
        if len(warnings) > said + 5:
            say(f"live: ... and {len(warnings) - said - 5} more warnings")
        said = len(warnings)
        if status == "error" and not failed:
            say(f"live: error: {error} (the page keeps the last good state)")
            failed = True


def live_argv(out, cpus):
    """This command (on a copy of the file system in out) as the tests and
    measurements run it: `make live` without make."""
    fs_copy = out / "fs.img"
    shutil.copyfile(FS_IMAGE, fs_copy)
    run = f"import sys; sys.path.insert(0, {str(ROOT)!r}); from viz.web.live import main; " \
          "sys.exit(main())"
    return [sys.executable, "-B", "-c", run, "--out", str(out), "--",
            *boot_argv(cpus, fs_copy)]


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    capture, fifo = out / "com2.bin", out / "com2.pipe"
    recorder = Recorder(fifo, capture)
    model = Model(source=str(capture), live=True)
    try:
        server = Server(model, capture, args.port)
    except OSError as e:
        say(f"live: error: cannot listen on 127.0.0.1:{args.port}: {e.strerror}")
        return 2
    recorder.start()
    Follower(model, capture, recorder.grew, recorder.done.is_set,
             lambda: recorder.last_write).start()
    server.start()
    stop = threading.Event()
    threading.Thread(target=watch, args=(model, stop), daemon=True).start()
    say(f"live: the view is at {server.url}  (capture: {capture}; quit QEMU: Ctrl-A x)")
    qemu = args.qemu + ["-chardev", f"pipe,id=xvcom2,path={fifo}", "-serial", "chardev:xvcom2"]
    try:
        proc = subprocess.Popen(qemu, preexec_fn=die_with_parent)
    except OSError as e:
        say(f"live: error: cannot run {qemu[0]}: {e.strerror}")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
    while True:
        try:
            status = proc.wait()
            break
        except KeyboardInterrupt:
            proc.terminate()
    recorder.done.wait(5)
    recorder.close()
    stop.set()
    server.stop()
    say(f"live: QEMU exited ({status}); {recorder.written} bytes of trace in {capture}")
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
