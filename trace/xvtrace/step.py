"""Walk a capture event by event, with the address space after each: what
`xvtrace step` prints.

Without a terminal on stdin every event is printed, each followed by the
address space of the process it concerns (or of --pid). With one, it waits
after each: Enter shows the next, a number jumps to that event (earlier ones
too), q quits.
"""

import sys

from .replay import Replayer


def describe_process(p):
    return f"pid {p.pid} {p.name or '?'} ({p.state}), parent {p.parent}"


class Stepper:
    """The events picked (record indexes), replayed up to the one shown."""

    def __init__(self, trace, picked, pid, space_lines):
        self.trace, self.picked, self.pid = trace, picked, pid
        self.space_lines = space_lines
        self.replayer = Replayer(trace)

    def show(self, k):
        """Lines for the k-th picked event (from 0): the record, then the
        address space after it."""
        i = int(self.picked[k])
        if self.replayer.state.index > i:           # a jump back: replay again
            self.replayer = Replayer(self.trace)
        self.replayer.run_to(i + 1)
        lines = [f"[{k + 1}/{len(self.picked)}] {self.trace.format_record(i).strip()}"]
        pid = self.pid if self.pid is not None else int(self.trace.records["pid"][i])
        p = self.replayer.state.processes.get(pid)
        if p is None:
            lines.append(f"  pid {pid}: not alive")
        else:
            lines.append("  " + describe_process(p))
            lines += ["    " + line for line in self.space_lines(p)]
        return lines


def run_batch(stepper, out=sys.stdout):
    for k in range(len(stepper.picked)):
        out.write("\n".join(stepper.show(k)) + "\n")


def run_interactive(stepper, read=input, out=sys.stdout):
    """Enter: next event; N: event N; q: quit. Ends after the last event."""
    k = 0
    while 0 <= k < len(stepper.picked):
        out.write("\n".join(stepper.show(k)) + "\n")
        try:
            answer = read("step [Enter next, N jump, q quit]> ").strip()
        except EOFError:
            return
        if answer.lower() in ("q", "quit"):
            return
        if answer.isdigit() and 1 <= int(answer) <= len(stepper.picked):
            k = int(answer) - 1
        elif answer:
            out.write(f"'{answer}': Enter, a number from 1 to {len(stepper.picked)}, or q\n")
        else:
            k += 1
