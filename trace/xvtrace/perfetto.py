"""Export a trace as Chrome trace event JSON, which Perfetto (ui.perfetto.dev)
and chrome://tracing open.

Each process is a track (pid 0, "kernel", holds machine-wide data):
  - its program images as slices, one per exec, and "zombie" after exit;
  - its mmap regions as async spans (b/e), since regions overlap in time;
  - page faults, system call errors and lost events as instants;
  - counters: pages by owner per process and for the whole machine, heap
    size and kmalloc bytes.

Timestamps are microseconds since tracing started, or TSC ticks when the
kernel could not measure the TSC rate (otherData.time_unit says which).
"""

import json
from collections import Counter

from .replay import Replayer

KERNEL_PID = 0


def _us(trace, t):
    return round(t * 1e6, 3) if trace.rate_known else t


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
                                 "prot": r.prot, "flags": hex(r.flags)}})

    # Every counter sample names every series, so each drops back to 0.
    owners = sorted(trace.schema.enums.get("owner", {}).values())

    def process_counter(pid, ts):
        p = st.processes.get(pid)
        if pid and p is not None:
            out.append({"ph": "C", "name": "pages", "pid": pid, "ts": ts,
                        "args": {"user": p.user_pages() or 0, "region": len(p.mapped)}})

    def memory_counter(ts):
        args = {o: st.memory.counts[o] for o in owners}
        if st.memory.total:
            args["free"] = st.memory.free
        out.append({"ph": "C", "name": "physical pages", "pid": KERNEL_PID, "ts": ts,
                    "args": args})

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
            out.append({"ph": "C", "name": "heap bytes", "pid": pid, "ts": ts,
                        "args": {"heap": max(0, d["new"] - st.processes[pid].heap.start)}})
        elif ch.kind == "kmalloc":
            size = d["size"] if ch.event == "kmalloc" else -d["size"]
            kbytes[pid] += size
            out.append({"ph": "C", "name": "kmalloc bytes", "pid": pid, "ts": ts,
                        "args": {"bytes": kbytes[pid]}})
        elif ch.kind == "fault":
            outcome = trace.schema.label("outcome", d.get("outcome", 0))
            code = d.get("errcode", 0)
            out.append({"ph": "i", "s": "t", "name": f"fault {outcome}", "cat": "fault",
                        "pid": pid, "tid": pid, "ts": ts,
                        "args": {"va": hex(d["va"]), "eip": hex(d.get("eip", 0)),
                                 "access": "write" if code & 2 else "read"}})
        elif ch.kind == "error":
            reason = trace.schema.label("err", d.get("err", 0))
            out.append({"ph": "i", "s": "t", "name": f"error {reason}", "cat": "syscall",
                        "pid": pid, "tid": pid, "ts": ts,
                        "args": {"sysno": d.get("sysno"), "value": hex(d.get("value", 0))}})
        elif ch.event == "lost":
            out.append({"ph": "i", "s": "g", "name": f"LOST {d.get('count')} events",
                        "cat": "trace", "pid": KERNEL_PID, "tid": KERNEL_PID, "ts": ts,
                        "args": {"cpu": d.get("cpu")}})

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
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
