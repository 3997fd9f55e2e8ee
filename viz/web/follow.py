"""Capture to a file first, then decode from the file: nothing is lost to a slow reader.

Recorder accepts one connection on a Unix socket (QEMU's COM2, a chardev
socket client) and appends everything it receives to the capture file,
flushed as it comes. Follower reads the file as it grows and feeds a Model;
it runs on its own thread, so however slow the decoding or the pages are,
the recorder keeps draining the socket and QEMU never waits for them.
"""

import os
import socket
import sys
import threading
import time

CHUNK = 1 << 16
POLL = 0.02                 # seconds between looks at a file nobody signals about


class Recorder:
    def __init__(self, sock_path, capture_path):
        self.sock_path = str(sock_path)
        self.capture_path = capture_path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        self.listener.bind(self.sock_path)
        self.listener.listen(1)
        self.out = open(capture_path, "wb")
        self.grew = threading.Event()       # set after each write
        self.done = threading.Event()       # the connection closed
        self.written = 0
        self.last_write = None

    def start(self):
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread

    def run(self):
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return self.finish()
        with conn:
            while True:
                try:
                    data = conn.recv(CHUNK)
                except OSError:
                    data = b""
                if not data:
                    break
                self.out.write(data)
                self.out.flush()
                self.written += len(data)
                self.last_write = time.time()
                self.grew.set()
        self.finish()

    def finish(self):
        if not self.out.closed:
            self.out.close()
        self.done.set()
        self.grew.set()

    def close(self):
        try:
            self.listener.close()
        finally:
            if os.path.exists(self.sock_path):
                os.unlink(self.sock_path)
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
