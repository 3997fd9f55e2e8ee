"""Capture to a file first, then decode from the file: nothing is lost to a slow reader.

Recorder reads QEMU's COM2 from a FIFO (a pipe chardev) and appends
everything to the capture file, flushed as it comes. Follower reads the file as it grows and feeds a Model;
it runs on its own thread, so however slow the decoding or the pages are,
the recorder keeps draining the socket and QEMU never waits for them.
"""

import fcntl
import os
import sys
import threading
import time

CHUNK = 1 << 16
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
POLL = 0.02                 # seconds between looks at a file nobody signals about


class Recorder:
    """QEMU writes COM2 into the FIFO BASE.out (a `-chardev pipe,path=BASE`; BASE.in is
    its input, never written). A FIFO, not a socket: QEMU's serial port writes a byte
    at a time and gives a byte up when a write would block a few times over, and a
    socket's buffer holds only a few hundred one-byte writes, a pipe's PIPE_SIZE bytes."""

    PIPE_SIZE = 1 << 20

    def __init__(self, base, capture_path):
        self.base = str(base)
        self.capture_path = capture_path
        for path in self.fifos:
            if os.path.exists(path):
                os.unlink(path)
            os.mkfifo(path, 0o600)
        self.out = open(capture_path, "wb")
        self.grew = threading.Event()       # set after each write
        self.done = threading.Event()       # QEMU closed its end
        self.written = 0
        self.last_write = None

    @property
    def fifos(self):
        return (self.base + ".in", self.base + ".out")

    def start(self):
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread

    def run(self):
        try:
            fd = os.open(self.base + ".out", os.O_RDONLY)   # waits for QEMU to open it
        except OSError:
            return self.finish()
        try:
            fcntl.fcntl(fd, F_SETPIPE_SZ, self.PIPE_SIZE)
        except OSError:
            pass                # a smaller pipe still works, with less slack
        try:
            self._copy(fd)
        finally:
            os.close(fd)
            self.finish()

    def _copy(self, fd):
        while True:
            try:
                data = os.read(fd, CHUNK)
            except OSError:
                data = b""
            if not data:
                return
            self.out.write(data)
            self.out.flush()
            self.written += len(data)
            self.last_write = time.time()
            self.grew.set()

    def finish(self):
        if not self.out.closed:
            self.out.close()
        self.done.set()
        self.grew.set()

    def close(self):
        for path in self.fifos:
            if os.path.exists(path):
                os.unlink(path)
        self.finish()


class Follower:
    """Feeds model from the file at path as it grows, until done() is true
    and the file is read to its end; then ends the model."""

    def __init__(self, model, path, grew=None, done=None, arrival=None):
        self.model = model
        self.path = path
        self.grew = grew or threading.Event()
        self.done = done or (lambda: False)
        self.arrival = arrival or time.time     # when the newest bytes arrived

    def start(self):
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread

    def run(self):
        try:
            with open(self.path, "rb") as f:
                self._follow(f)
        except OSError as e:
            self.model.fail(f"cannot read {self.path}: {e.strerror}")
            return
        self.model.end()

    def _follow(self, f):
        while True:
            finished = self.done()
            data = f.read(CHUNK)
            if data:
                self.model.feed(data, self.arrival())
                continue
            if finished:
                return
            self.model.tick()
            self.grew.wait(POLL)
            self.grew.clear()


def say(message):
    """One line on the terminal, which QEMU may have put in raw mode."""
    end = "\r\n" if sys.stderr.isatty() else "\n"
    sys.stderr.write(message + end)
    sys.stderr.flush()
