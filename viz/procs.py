"""The processes of a trace, read straight from its fork, exit and procname
records (no replay): who forked whom, when each started and ended, what it
was called. Used to pick the processes a picture is about (--pid, --tree)
and the time window that fits them, before the replay runs.
"""

from dataclasses import dataclass, field

import numpy as np

MARGIN = 0.05           # of the selection's lifetime, on each side of the window


class SelectionError(Exception):
    """A pid that is not in the trace, or a selection with nothing in it."""


@dataclass
class Proc:
    pid: int
    parent: int = 0
    born: float = None          # fork time; None: running when tracing started
    execed: float = None        # its first exec: when its own program started
    exited: float = None
    names: list = field(default_factory=list)

    @property
    def name(self):
        return self.names[-1] if self.names else "?"


def read(trace):
    """{pid: Proc} from the trace's process records, in time order."""
    schema, recs, times = trace.schema, trace.records, trace.times
    wanted = {schema.by_name[n].id: n for n in ("fork", "exit", "procname", "exec")
              if n in schema.by_name}
    procs = {}

    def proc(pid):
        return procs.setdefault(pid, Proc(pid)) if pid > 0 else Proc(pid)   # 0: no process

    idx = np.flatnonzero(np.isin(recs["type"], list(wanted)))
    for i in idx.tolist():
        etype, f = trace.event(i)
        kind, t = wanted[etype.id], float(times[i])
        if kind == "fork" and f.get("child"):
            p = proc(f["child"])
            p.parent, p.born = f.get("parent", 0), t
            if not p.names and f.get("parent") in procs:
                p.names.append(procs[f["parent"]].name)   # a child starts as its parent
        elif kind == "exit" and f.get("pid"):
            proc(f["pid"]).exited = t
        elif kind == "procname":
            p = proc(int(recs["pid"][i]))
            name = f.get("name", "")
            if name and (not p.names or p.names[-1] != name):
                p.names.append(name)
        elif kind == "exec":
            p = proc(int(recs["pid"][i]))
            if p.execed is None:
                p.execed = t
    return procs


def descendants(procs, root):
    """root and every process forked from it, or from those, by fork parent
    (a background job reparented to init still counts as its forker's)."""
    children = {}
    for p in procs.values():
        children.setdefault(p.parent, []).append(p.pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in out:
            continue
        out.append(pid)
        todo += children.get(pid, [])
    return sorted(out)


def select(procs, pids=(), trees=()):
    """The sorted pids asked for: pids, plus each of trees with its
    descendants. Raises SelectionError naming what the trace has."""
    unknown = sorted({p for p in list(pids) + list(trees) if p not in procs})
    if unknown:
        known = " ".join(f"{p}:{procs[p].name}" for p in sorted(procs)) or "none"
        word = "pid" if len(unknown) == 1 else "pids"
        raise SelectionError(f"no process with {word} {', '.join(map(str, unknown))} in "
                             f"this trace (pid:name there: {known})")
    chosen = set(pids)
    for root in trees:
        chosen |= set(descendants(procs, root))
    return sorted(chosen)


def program_start(proc):
    """When proc's own program started: its first exec (the shell's child
    runs shell code until then), else its fork; None if before tracing."""
    return proc.execed if proc.execed is not None else proc.born


def window(procs, pids, first, last, margin=MARGIN):
    """(start, end): the selected processes' lifetimes, from their programs'
    start (program_start) to their exit, with a little margin, inside
    [first, last] (the trace's times). A process running when tracing
    started starts at first; one still running at the end ends at last."""
    born = [program_start(procs[p]) if program_start(procs[p]) is not None else first
            for p in pids]
    ended = [procs[p].exited if procs[p].exited is not None else last for p in pids]
    lo, hi = min(born), max(ended)
    pad = (hi - lo) * margin if hi > lo else (last - first) * 0.001
    return max(first, lo - pad), min(last, hi + pad)


def origin(procs, pids):
    """(time 0 of a selection's axes, what it is for the axis label): the
    first selected program's start."""
    starts = [(program_start(procs[p]), p) for p in pids if program_start(procs[p]) is not None]
    if not starts:
        return None, "since tracing started"
    t, pid = min(starts)
    p = procs[pid]
    if p.execed is not None and t == p.execed:
        return t, f"after pid {pid} became {p.name}"
    return t, f"after pid {pid} started"
