"""Serve the live view of a recorded capture.

    python3 -m viz.web TRACE [--port P] [--follow]

Opens TRACE (a COM2 capture, e.g. out/demo/com2.bin), prints the URL of the
page (127.0.0.1 only) and serves until Ctrl-C. --follow keeps reading a
capture that is still being written (e.g. by `make qemu`) and shows it live.
"""

import argparse
import sys
import threading
from pathlib import Path

from xvtrace.decode import load
from xvtrace.schema import TraceError

from .follow import Follower, say
from .model import Model
from .server import Server


def load_into(model, path):
    try:
        model.load(load(path))
    except TraceError as e:
        model.fail(str(e))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python3 -m viz.web", description=__doc__.split("\n")[0])
    p.add_argument("trace", help="the capture to show")
    p.add_argument("--port", type=int, default=0, help="HTTP port on 127.0.0.1 (default: any free)")
    p.add_argument("--follow", action="store_true",
                   help="the capture is still growing: show it live, never stop reading")
    args = p.parse_args(argv)
    path = Path(args.trace)
    if not path.is_file():
        print(f"viz.web: error: {path}: no such file", file=sys.stderr)
        return 2
    model = Model(source=str(path), live=args.follow)
    try:
        server = Server(model, path, args.port)
    except OSError as e:
        print(f"viz.web: error: cannot listen on 127.0.0.1:{args.port}: {e.strerror}",
              file=sys.stderr)
        return 2
    if args.follow:
        Follower(model, path).start()
    else:
        threading.Thread(target=load_into, args=(model, path), daemon=True).start()
    server.start()
    say(f"viz.web: {path} at {server.url}  (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    server.stop()
    with model.lock:
        if model.error:
            say(f"viz.web: error: {model.error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
