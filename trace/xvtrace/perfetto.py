"""Export a trace as Chrome trace event JSON, which Perfetto (ui.perfetto.dev)
and chrome://tracing open.

Each process is a track (pid 0, "kernel", holds machine-wide data):
  - its program images as slices, one per exec, and "zombie" after exit;
  - its mmap regions as async spans (b/e), since regions overlap in time;
  - page faults, system call errors and lost events as instants;
  - counters: its pages (user memory, mapped region pages), heap size and
    kmalloc bytes; on the kernel track, physical pages by owner and free.

Counter samples are thinned to one per track per 1/100,000 of the trace's
span (see Counters). Timestamps are microseconds since tracing started, or
TSC ticks when the kernel could not measure the TSC rate (otherData.time_unit
says which).
"""

import json
import os
from collections import Counter

from hostlib import fmt

from .replay import Replayer

KERNEL_PID = 0


def _us(trace, t):
    return round(t * 1e6, 3) if trace.rate_known else t


class Counters:
    """Counter samples, at most one per track per resolution: a sample
    that comes sooner waits, and only the newest waiting one is kept. So a
    long trace gives a file a viewer can open, and each series still
    shows every level it stays at for longer than the resolution."""

    def __init__(self, out, resolution):
        self.out = out
        self.resolution = resolution
        self.last = {}          # track -> ts of the last sample written
        self.waiting = {}       # track -> newest sample not written yet

    def sample(self, name, pid, ts, args):
        key = (name, pid)
        event = {"ph": "C", "name": name, "pid": pid, "ts": ts, "args": args}
        held = self.waiting.pop(key, None)
        if held is not None and held["ts"] - self.last[key] >= self.resolution:
            self.out.append(held)
            self.last[key] = held["ts"]
        if key not in self.last or ts - self.last[key] >= self.resolution:
            self.out.append(event)
            self.last[key] = ts
        else:
            self.waiting[key] = event

    def flush(self):
        self.out.extend(self.waiting.values())
        self.waiting.clear()


def events(trace):
    """The trace events, as a list of dicts."""
    out = []
    rp = Replayer(trace)
    st = rp.state
    images = {}             # pid -> [start_ts, name]
    names = {KERNEL_PID: "kernel"}
    regions = {}            # uid -> (pid, name)
    kbytes = Counter()
    last_ts = 0
    times = trace.times
    span = _us(trace, times[-1] - times[0]) if len(times) else 0
    counters = Counters(out, span / 100000)

    def close_image(pid, ts, suffix=""):
        image = images.pop(pid, None)
        if image is not None:
            out.append({"ph": "X", "name": (image[1] or f"pid {pid}") + suffix,
                        "cat": "process", "pid": pid, "tid": pid,
                        "ts": image[0], "dur": max(0, ts - image[0])})

    def region_events(pid, ts, change):
        for r in change.detail.get("removed", []):
            pid_r, name = regions.pop(r.uid, (pid, None))
            if name is not None:
                out.append({"ph": "e", "cat": "region", "id": r.uid, "name": name,
                            "pid": pid_r, "tid": pid_r, "ts": ts})
        for r in change.detail.get("added", []):
            name = f"{r.start:#x}-{r.end:#x} {r.rwx()}"
            regions[r.uid] = (pid, name)
            out.append({"ph": "b", "cat": "region", "id": r.uid, "name": name,
                        "pid": pid, "tid": pid, "ts": ts,
                        "args": {"start": hex(r.start), "end": hex(r.end),
                                 "pages": (r.end - r.start) // trace.header.page_size,
                                 "prot": r.rwx(), "flags": r.flag_names()}})

    # Every counter sample names every series, so each drops back to 0.
    owners = sorted(trace.schema.enums.get("owner", {}).values())

    def process_counter(pid, ts):
        p = st.processes.get(pid)
        if pid and p is not None:
            counters.sample("pages", pid, ts, {"user": p.user_pages() or 0,
                                               "region": len(p.mapped)})

    def memory_counter(ts):
        args = {o: st.memory.counts[o] for o in owners}
        if st.memory.total:
            args["free"] = st.memory.free
        counters.sample("physical pages", KERNEL_PID, ts, args)

    for ch in rp:
        ts = _us(trace, ch.time)
        last_ts = ts
        pid, d = ch.pid, ch.detail
        if ch.kind == "page":
            memory_counter(ts)
        elif ch.kind == "map":
            process_counter(pid, ts)
        elif ch.kind in ("region", "layout", "process"):
            region_events(pid, ts, ch)
            if ch.kind == "layout":
                process_counter(pid, ts)
        if ch.event == "exec":
            close_image(pid, ts)
            images[pid] = [ts, ""]
        elif ch.event == "procname":
            names[pid] = d.get("name", "")
            if pid in images:
                images[pid][1] = names[pid]
        elif ch.event == "fork":
            names[pid] = names.get(d["parent"], "") if d["parent"] != KERNEL_PID else ""
            images[pid] = [ts, names[pid]]
        elif ch.event == "exit":
            close_image(pid, ts)
            images[pid] = [ts, "zombie"]
        elif ch.event == "reap":
            close_image(pid, ts)
        if ch.event == "heap" and pid in st.processes:
            counters.sample("heap bytes", pid, ts,
                            {"heap": max(0, d["new"] - st.processes[pid].heap.start)})
        elif ch.kind == "kmalloc":
            kbytes[pid] += d["size"] if ch.event == "kmalloc" else -d["size"]
            counters.sample("kmalloc bytes", pid, ts, {"bytes": kbytes[pid]})
        elif ch.kind == "fault":
            outcome = trace.schema.label("outcome", d.get("outcome", 0))
            code = d.get("errcode", 0)
            out.append({"ph": "i", "s": "t", "name": f"fault {outcome}", "cat": "fault",
                        "pid": pid, "tid": pid, "ts": ts,
                        "args": {"va": hex(d["va"]), "eip": hex(d.get("eip", 0)),
                                 "errcode": fmt.errcode(code)}})
        elif ch.kind == "error":
            err = trace.schema.label("err", d.get("err", 0))
            out.append({"ph": "i", "s": "t", "name": f"error {err}", "cat": "syscall",
                        "pid": pid, "tid": pid, "ts": ts,
                        "args": {"sysno": d.get("sysno"), "value": hex(d.get("value", 0))}})
        elif ch.event == "lost":
            out.append({"ph": "i", "s": "g", "name": f"LOST {d.get('count')} events",
                        "cat": "trace", "pid": KERNEL_PID, "tid": KERNEL_PID, "ts": ts,
                        "args": {"cpu": d.get("cpu")}})

    counters.flush()
    for pid in list(images):
        close_image(pid, last_ts)
    for uid, (pid, name) in regions.items():
        out.append({"ph": "e", "cat": "region", "id": uid, "name": name,
                    "pid": pid, "tid": pid, "ts": last_ts})
    for pid in sorted({e["pid"] for e in out}):
        label = names.get(pid) or "?"
        out.append({"ph": "M", "name": "process_name", "pid": pid, "tid": pid,
                    "args": {"name": label if pid == KERNEL_PID else f"{label} (pid {pid})"}})
        out.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": pid,
                    "args": {"sort_index": pid}})
    return out


def export(trace, path):
    """Write the Chrome trace JSON for trace to path."""
    doc = {
        "traceEvents": events(trace),
        "displayTimeUnit": "ms",
        "otherData": {
            "source": trace.source,
            "time_unit": "us" if trace.rate_known else "TSC ticks",
            "ncpu": trace.header.ncpu,
            "lost_events": trace.lost,
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
