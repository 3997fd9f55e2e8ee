"""Boot the kernel under QEMU and talk to its console.

Console runs one QEMU (or a stand-in that imitates it) with the console on
its stdin/stdout; wait_for_prompt() reads until the shell's prompt comes
back, or says why it will not (a panic, a hang, QEMU gone). Used by the
test harness (tests/harness.py), the demo (viz/demo.py) and the benchmarks.
"""

import atexit
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time

from . import ROOT

KERNEL = ROOT / "out" / "kernel"
FS_IMAGE = ROOT / "out" / "fs.img"
FSCK = ROOT / "out" / "fsck"

PROMPT = "$ "
PANIC = "panic:"
SETTLE = 0.2         # seconds of quiet after a prompt before we believe it
PANIC_GRACE = 1.0    # seconds to keep reading after a panic, for the rest of its message


def clean(text):
    """Console text with \\r\\n line ends (and stray \\r) turned into plain \\n."""
    return text.replace("\r\n", "\n").replace("\r", "")


def first_line_with(text, word):
    line = next(l for l in text.split("\n") if word in l)
    return line[line.index(word):].strip()


def command_output(text, command):
    """What a command printed: the text after typing it, minus its echo and the next prompt."""
    text = clean(text)
    first, sep, rest = text.partition("\n")
    if sep and first.strip().endswith(command.strip()):
        text = rest
    if text.endswith(PROMPT):
        text = text[:-len(PROMPT)]
    return text


# ---------------------------------------------------------------- one QEMU

def _die_with_parent():
    """Runs in the child before exec: the kernel kills it if its parent dies, even by SIGKILL."""
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class Console:
    """One QEMU (or stand-in) process; a reader thread keeps all it prints, in memory and log."""

    def __init__(self, argv, log_path):
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        atexit.register(self.close)
        self.cond = threading.Condition()   # protects output, eof, last_output; re-entrant
        self.output = bytearray()
        self.eof = False
        self.last_output = time.monotonic()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            with self.cond:
                if data:
                    self.output += data
                    self.log.write(data)
                    self.last_output = time.monotonic()
                else:
                    self.eof = True
                self.cond.notify_all()
            if not data:
                return

    def mark(self):
        """Position in the output; text(mark) is what was printed after it."""
        with self.cond:
            return len(self.output)

    def text(self, start=0):
        with self.cond:
            return clean(self.output[start:].decode(errors="replace"))

    def send(self, line):
        try:
            self.proc.stdin.write(line.encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass    # QEMU is gone; wait_for_prompt() reports that

    def wait_for_prompt(self, start, time_limit, idle_limit):
        """Read until the shell prompt ends the output after start.

        Returns (text, trouble): trouble is None when the prompt came, otherwise why the console is
        no longer usable (a panic, a hang, QEMU gone). Never waits longer than time_limit.
        """
        began = time.monotonic()
        deadline = began + time_limit
        with self.cond:
            while True:
                text = self.text(start)
                now = time.monotonic()
                quiet = now - max(self.last_output, began)
                if PANIC in text and (quiet >= PANIC_GRACE or self.eof or now >= deadline):
                    return text, "kernel panic"
                if PANIC not in text and text.endswith(PROMPT) and quiet >= SETTLE:
                    return text, None
                if self.eof:
                    return text, f"QEMU exited (status {self.exit_status()})"
                if now >= deadline:
                    return text, f"hang: no shell prompt within {time_limit:g} s"
                if quiet >= idle_limit:
                    return text, f"hang: no output for {idle_limit:g} s"
                self.cond.wait(0.05)

    def exit_status(self):
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None     # closed its output but still running

    def close(self):
        """Kill QEMU and wait for it. Safe to call more than once."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        self.log.close()
        atexit.unregister(self.close)


def run_command(console, command, timeout):
    """Type command at the shell; returns (what it printed, trouble or None)."""
    start = console.mark()
    console.send(command + "\n")
    text, trouble = console.wait_for_prompt(start, timeout, timeout)
    return command_output(text, command), trouble


def boot_argv(cpus, fs_copy, extra=()):
    """QEMU booting the kernel on fs_copy, its console (COM1) on stdio; extra
    may add COM2 (a second -serial)."""
    return ["qemu-system-i386", "-nographic", "-no-reboot", "-kernel", str(KERNEL),
            "-drive", f"file={fs_copy},index=0,media=disk,format=raw",
            "-smp", f"{cpus},sockets={cpus},cores=1,threads=1", "-m", "512",
            "-serial", "stdio", "-monitor", "none", "-net", "none", *extra]


def qemu_argv(cpus, fs_copy, com2_path, extra=()):
    """boot_argv with COM2 (the trace) written to com2_path."""
    return boot_argv(cpus, fs_copy, ["-serial", f"file:{com2_path}", *extra])


def exit_on_sigterm():
    """Turn SIGTERM into SystemExit so that finally blocks kill QEMU."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
