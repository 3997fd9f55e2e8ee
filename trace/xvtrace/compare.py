"""Compare two captures process by process: a student's run against a
reference.

Pids differ between runs, so processes are matched by their name (the last
one exec gave them) and order of creation among processes of that name:
the second `mmaptest` of one capture is compared with the second of the
other. For each pair: the events that concern it (in order, with the
fields that do not depend on the run: no physical addresses, pids, kernel
addresses or eips), how many of each event, and its address space when it
exited (or at the end). The first event where the two sequences part is
what differs first.
"""

from collections import Counter
from dataclasses import dataclass, field

from .replay import Replayer

# Fields that differ from run to run without meaning anything.
RUN_FIELDS = {"pa", "pid", "parent", "child", "eip", "cpu", "count"}
KERNEL_ADDRESS = {"kmalloc", "kmfree"}          # their addr is a kernel address
# Events about the trace or the machine, not a process.
NOT_PROCESS = {"lost", "trace_ctl", "mem_range"}


@dataclass
class Life:
    """One process of a capture, as compare sees it."""
    pid: int
    name: str = ""
    events: list = field(default_factory=list)      # (event name, text of its fields)
    counts: Counter = field(default_factory=Counter)
    space: list = field(default_factory=list)       # [replay.Mapping] at exit or the end
    peak_pages: int = 0                             # most pages it held at once


def event_key(trace, change):
    """An event as text without its run-dependent fields."""
    skip = RUN_FIELDS | ({"addr"} if change.event in KERNEL_ADDRESS else set())
    etype = trace.schema.by_name.get(change.event)
    values = [(f, v) for f, v in change.detail.items()
              if etype and f in etype.fields and f not in skip]
    return " ".join([change.event] + [f"{f}={trace.schema.format_value(f, v)}"
                                      for f, v in values if not isinstance(v, str)] +
                    [f"{f}={v!r}" for f, v in values if isinstance(v, str)])


def lives(trace):
    """[Life] of every process the capture shows, in order of creation."""
    rp = Replayer(trace)
    out = {}
    for ch in rp:
        if ch.event in NOT_PROCESS or not ch.pid:
            continue
        life = out.setdefault(ch.pid, Life(ch.pid))
        life.events.append(event_key(trace, ch))
        life.counts[ch.event] += 1
        p = rp.state.processes.get(ch.pid)
        if p is not None:
            life.name = p.name or life.name
            life.peak_pages = max(life.peak_pages, (p.user_pages() or 0) + len(p.mapped))
            if ch.event == "exit":
                life.space = p.mappings()
    for pid, p in rp.state.processes.items():     # still running at the end
        if p.state != "zombie" and pid in out:
            out[pid].space = p.mappings()
    return list(out.values())


def matched(a_lives, b_lives):
    """[(key, life in A or None, life in B or None)], key 'name#k'."""
    def keyed(lives_):
        seen, out = Counter(), {}
        for life in lives_:
            seen[life.name] += 1
            out[f"{life.name or '?'}#{seen[life.name]}"] = life
        return out
    a, b = keyed(a_lives), keyed(b_lives)
    keys = list(a) + [k for k in b if k not in a]
    return [(k, a.get(k), b.get(k)) for k in keys]


def first_difference(a, b):
    """(index, A's event or None, B's event or None) where the event lists
    part, or None if they are the same."""
    for i in range(max(len(a.events), len(b.events))):
        ea = a.events[i] if i < len(a.events) else None
        eb = b.events[i] if i < len(b.events) else None
        if ea != eb:
            return i, ea, eb
    return None


def space_lines(life, fmt_line):
    return [fmt_line(m) for m in life.space]


def compare_pair(key, a, b, fmt_line):
    """Lines about one matched pair; empty if they agree."""
    out = []
    counts = [f"{e} {a.counts[e]} vs {b.counts[e]}"
              for e in sorted(a.counts.keys() | b.counts.keys()) if a.counts[e] != b.counts[e]]
    if counts:
        out.append("  event counts: " + ", ".join(counts))
    sa, sb = space_lines(a, fmt_line), space_lines(b, fmt_line)
    if sa != sb:
        out.append("  address space at exit differs:")
        out += [f"    A {line}" for line in sa if line not in sb]
        out += [f"    B {line}" for line in sb if line not in sa]
    if a.peak_pages != b.peak_pages:
        out.append(f"  most pages held at once: {a.peak_pages} vs {b.peak_pages}")
    first = first_difference(a, b)
    if first:
        i, ea, eb = first
        out.append(f"  first difference at its event {i + 1}: A {ea or '(no more events)'}; "
                   f"B {eb or '(no more events)'}")
    if out:
        out.insert(0, f"process {key} (A pid {a.pid}, B pid {b.pid}) differs:")
    return out


def compare(trace_a, trace_b, fmt_line):
    """(lines of the report, whether the captures differ). fmt_line prints a
    replay.Mapping."""
    a_lives, b_lives = lives(trace_a), lives(trace_b)
    lines = [f"A {trace_a.source or 'A'}: {len(a_lives)} processes; "
             f"B {trace_b.source or 'B'}: {len(b_lives)} processes"]
    differ, same, first = False, 0, None
    for key, a, b in matched(a_lives, b_lives):
        if a is None or b is None:
            side, life = ("B", b) if a is None else ("A", a)
            lines.append(f"process {key} only in {side} (pid {life.pid}, "
                         f"{len(life.events)} events)")
            differ = True
            first = first or f"process {key} exists only in {side}"
            continue
        pair = compare_pair(key, a, b, fmt_line)
        if pair:
            lines += pair
            differ = True
            first = first or pair[-1].strip() + f" (process {key})"
        else:
            same += 1
    lines.append(f"{same} process(es) the same" + (f"; first difference: {first}"
                                                  if first else ""))
    return lines, differ
