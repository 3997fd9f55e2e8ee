"""What the page is sent: plain dicts (JSON) built from a Model's states.

summary(model)                   status, size, time span, activity histogram, warnings
view(model, index, pid)          the state after `index` records: processes, pid's
                                 address space page by page, physical memory by owner,
                                 the checker's problems so far
events(model, end, count, ...)   a window of the event log ending at `end`, filtered

Everything is a window or a summary: a view costs the same at the start of a
two-million-event capture as at its end, and no list grows with the trace.
"""

import numpy as np

from hostlib.kconst import kernel as K
from viz import style
from xvtrace.replay import FAILED

MAX_CELLS = 1024            # cells drawn for one area; bigger areas group pages
HISTOGRAM_BINS = 240
MAX_EVENTS = 500
MAX_PROBLEMS = 40

# Physical memory grid: one code per page. 10 + k: the k-th process colour.
OWNER_LEGEND = [
    (0, "free", "free", style.OWNER_STYLE["free"][0]),
    (1, "kernel", "kernel (other)", style.OWNER_STYLE["kernel (other)"][0]),
    (2, "pgtable", "page tables", style.OWNER_STYLE["processes' page tables"][0]),
    (3, "kstack", "kernel stacks", style.OWNER_STYLE["kernel stacks"][0]),
    (4, "kmalloc", "kmalloc", style.OWNER_STYLE["kmalloc"][0]),
    (5, "pipe", "pipes", style.OWNER_STYLE["pipes"][0]),
    (6, "shared", "shared regions", style.OWNER_STYLE["shared regions"][0]),
    (7, "cow", "shared copy-on-write", "#000000"),
    (8, "pcache", "page cache (mapped files)", style.OWNER_STYLE["page cache (mapped files)"][0]),
]
OWNER_CODE = {key: code for code, key, _, _ in OWNER_LEGEND}
PROCESS_BASE = 10
MAP_SHARED = K["MAP_SHARED"]
# The page's palette: the PNGs' (viz/style.py).
PALETTE = {"kinds": style.KIND_COLOR, "kind_labels": style.KIND_LABEL,
           "processes": list(style.PROCESS_COLORS),
           "owners": [{"code": c, "key": k, "label": l, "color": col}
                      for c, k, l, col in OWNER_LEGEND]}


def process_slot(pid):
    return pid % len(style.PROCESS_COLORS)


# ---- summary -------------------------------------------------------------

def summary(model):
    n = model.count
    trace = model.trace
    times = model.times
    t_end = float(times[-1]) if n else 0.0
    hist = np.histogram(times, bins=HISTOGRAM_BINS, range=(0, t_end or 1))[0] if n else []
    warnings = model.warnings()
    return {
        "status": model.status, "error": model.error, "source": model.source,
        "live": model.live, "version": model.version, "count": n, "t_end": t_end,
        "unit": trace.time_unit if trace else "s",
        "ncpu": trace.header.ncpu if trace else 0,
        "page_size": trace.header.page_size if trace else 4096,
        "histogram": [int(h) for h in hist],
        "warnings": warnings[-8:], "nwarnings": len(warnings),
        "arrived": model.last_arrival(),
        "late": model.orderer.late if model.orderer else 0,
        "hold": model.orderer.hold if model.orderer else 0,
        "arrivals": model.arrivals[-64:],
        "events": sorted(trace.schema.by_name) if trace else [],
        "palette": PALETTE,
    }


# ---- one moment --------------------------------------------------------------

def view(model, index, pid=None, all_spaces=False):
    """The state after index records; pid's address space (the first
    process if pid is not alive then); all_spaces: every process's."""
    state = model.state_at(index)
    if state is None:
        return {"index": 0, "time": 0.0, "processes": [], "pid": None, "aspace": None,
                "spaces": {}, "memory": None, "problems": [], "nproblems": 0}
    page = model.trace.header.page_size
    procs = process_list(state)
    alive = {p["pid"] for p in procs}
    if pid not in alive:
        pid = procs[0]["pid"] if procs else None
    out = {
        "index": state.index, "time": state.time or 0.0, "processes": procs, "pid": pid,
        "aspace": aspace(state, state.processes[pid], page) if pid is not None else None,
        "memory": memory(state, model.mem_ranges, page),
        "problems": [{"time": p.time, "index": p.index, "pid": p.pid, "kind": p.kind,
                      "message": p.message} for p in state.problems[-MAX_PROBLEMS:]],
        "nproblems": len(state.problems), "lost": state.lost,
        "kmalloc": len(state.kmalloc),
    }
    if all_spaces:
        out["spaces"] = {str(p): aspace(state, state.processes[p], page) for p in alive}
    return out


def process_list(state):
    procs = []
    for pid in sorted(state.processes):
        p = state.processes[pid]
        procs.append({"pid": pid, "name": p.name or "?", "state": p.state,
                      "parent": p.parent, "regions": len(p.regions),
                      "resident": len(p.mapped), "slot": process_slot(pid),
                      "user_pages": p.user_pages() or 0})
    return procs


def aspace(state, p, page):
    """p's areas, lowest address first: kind, range, protection, cells."""
    rows = []
    if p.text is not None and p.text.end > p.text.start:
        rows.append(_eager(state, p, "text", p.text.start, p.text.end, "rwx", page))
        if p.stack is not None and p.stack.start > p.text.end:
            rows.append(_row("guard", p.text.end, p.stack.start, "---",
                             "0" * ((p.stack.start - p.text.end) // page), page, None))
    if p.stack is not None:
        rows.append(_eager(state, p, "stack", p.stack.start, p.stack.end, "rw-", page))
    if p.heap is not None and p.heap.end > p.heap.start:
        rows.append(_eager(state, p, "heap", p.heap.start, p.heap.end, "rw-", page))
    maps = state.memory.maps
    for r in p.regions:
        kind = "shared" if r.flags & MAP_SHARED else "private"
        cells = []
        for va in range(r.start, r.end, page):
            pa = p.mapped.get(va)
            if pa is None:
                cells.append("0")
            else:
                cells.append("2" if kind == "private" and len(maps.get(pa, ())) > 1 else "1")
        rows.append(_row(kind, r.start, r.end, r.rwx(), "".join(cells), page, r.since))
    rows.sort(key=lambda row: row["start"])
    return {"pid": p.pid, "name": p.name, "state": p.state, "parent": p.parent, "rows": rows,
            "resident": len(p.mapped), "user_pages": p.user_pages() or 0}


def _eager(state, p, kind, start, end, prot, page):
    """Text, stack and heap are allocated whole; a page still shared
    copy-on-write since a fork shows as such."""
    groups = state.memory.cow_groups
    cells = "".join("2" if len(groups.get(p.cow.get(va), ())) > 1 else "1"
                    for va in range(start, end, page))
    return _row(kind, start, end, prot, cells, page, None)


def _row(kind, start, end, prot, cells, page, since):
    pages = (end - start) // page
    group = 1
    if len(cells) > MAX_CELLS:
        group = -(-len(cells) // MAX_CELLS)
        cells = "".join(max(cells[i:i + group]) for i in range(0, len(cells), group))
    return {"kind": kind, "start": start, "end": end, "prot": prot, "pages": pages,
            "resident": cells.count("1") + cells.count("2") if group == 1 else None,
            "cells": cells, "group": group, "since": since}


def memory(state, ranges, page):
    """Every managed physical page's owner code, run-length encoded."""
    mem = state.memory
    free = mem.free
    if not ranges:
        return {"base": 0, "pages": 0, "runs": [], "free": free, "total": mem.total,
                "counts": dict(mem.counts)}
    lo = min(s for s, _ in ranges) // page
    hi = max(e for _, e in ranges) // page
    codes = np.zeros(hi - lo, dtype=np.uint8)
    for pa, pg in mem.pages.items():
        i = pa // page - lo
        if 0 <= i < len(codes):
            codes[i] = _owner_code(pg, mem.maps.get(pa))
    change = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [len(codes)]]))
    runs = np.stack([codes[starts], lengths], axis=1).ravel().tolist() if len(codes) else []
    return {"base": lo * page, "pages": int(hi - lo), "runs": runs, "free": free,
            "total": mem.total, "counts": dict(mem.counts)}


def _owner_code(pg, mappers):
    if pg.owner in ("region", "user"):
        if mappers and len(mappers) > 1:
            return OWNER_CODE["cow"]
        pid = mappers[0][0] if mappers else pg.pid
        return PROCESS_BASE + process_slot(pid) if pid else OWNER_CODE["kernel"]
    return OWNER_CODE.get(pg.owner, OWNER_CODE["kernel"])


# ---- the event log -------------------------------------------------------------

def events(model, end, count=200, pid=None, kinds=None):
    """Up to count events before index end (newest last), of pid and of the
    named event kinds if given; failed calls are flagged."""
    count = max(1, min(count, MAX_EVENTS))
    trace = model.trace
    if trace is None:
        return {"end": 0, "rows": [], "matched": 0}
    recs = model.records[:max(0, min(end, model.count))]
    if pid is None and not kinds:
        rows = [_event_row(model, i) for i in range(max(0, len(recs) - count), len(recs))]
        return {"end": len(recs), "rows": rows, "matched": len(recs)}
    mask = np.ones(len(recs), dtype=bool)
    if pid is not None:
        mask &= _involves(recs, trace.schema, pid)
    if kinds:
        ids = [trace.schema.by_name[k].id for k in kinds if k in trace.schema.by_name]
        mask &= np.isin(recs["type"], ids)
    idx = np.flatnonzero(mask)
    rows = [_event_row(model, int(i)) for i in idx[-count:]]
    return {"end": len(recs), "rows": rows, "matched": int(len(idx))}


def _involves(recs, schema, pid):
    """Records run by pid, or naming it in a pid, parent or child field."""
    hit = recs["pid"] == pid
    for etype in schema.events.values():
        for slot, name in enumerate(etype.slots):
            if name in ("pid", "parent", "child"):
                col = recs[f"a{slot}"]
                hit |= (recs["type"] == etype.id) & (col == pid)
    return hit


def _event_row(model, i):
    r = model.records[i]
    schema = model.trace.schema
    etype = schema.events.get(int(r["type"]))
    args = [r["a0"], r["a1"], r["a2"], r["a3"]]
    name = etype.name if etype else f"event{int(r['type'])}"
    text = schema.format_fields(etype, args) if etype else ""
    failed = bool(etype and "result" in etype.slots and
                  int(args[etype.slots.index("result")]) == FAILED) or name == "syserr"
    return {"i": i, "t": float(model.times[i]), "cpu": int(r["cpu"]), "pid": int(r["pid"]),
            "event": name, "text": text, "failed": failed}
