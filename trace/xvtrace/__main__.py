"""Command line: bin/xvtrace COMMAND [FILE] ...   (python3 -m xvtrace from the repository root)

Exit status: 0 success (check: PASS); 1 check found problems; 2 unusable
input or bad arguments; 3 the input was damaged, truncated or incomplete
(the command still did what it could; check: INCONCLUSIVE).
"""

import argparse
import sys
import time

import numpy as np

from hostlib import fmt
from hostlib.cli import EXIT_DAMAGED, EXIT_OK, EXIT_PROBLEMS, parse_time, print_warnings, run_main

from . import check as checkmod
from .decode import COMPOUNDS, RECORD_DTYPE, decode, load
from .schema import TraceError

DEFAULT_CAPTURE = "out/com2.bin"


def open_trace(path):
    """Load path, printing decode warnings (the first few) to stderr."""
    trace = load(path)
    print_warnings("xvtrace", trace.warnings)
    return trace


def damaged(trace):
    return bool(trace.damaged or trace.truncated or trace.missing_frames)


def trace_pids(trace):
    """Every pid the trace mentions: processes that ran, and those named in a
    pid, parent or child field."""
    recs = trace.records
    pids = set(np.unique(recs["pid"]).tolist())
    for etype in trace.schema.events.values():
        for slot, field in enumerate(etype.slots):
            if field in ("pid", "child", "parent"):
                pids |= set(np.unique(recs[f"a{slot}"][recs["type"] == etype.id]).tolist())
    pids.discard(0)
    return pids


def pid_list(pids, limit=20):
    shown = sorted(pids)
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(map(str, shown[:limit])) + more


def check_pid(trace, pid):
    """An unknown pid is an error that lists the ones there are, not an empty answer."""
    pids = trace_pids(trace)
    if pid not in pids:
        raise TraceError(f"no process {pid} in this trace; its pids: {pid_list(pids) or 'none'}")


def check_time(trace, t, option):
    """A time outside the trace is an error, not a silent clamp."""
    times = trace.times
    if len(times) and not times[0] <= t <= times[-1]:
        raise TraceError(f"{option} {trace.format_time(t)} is outside the trace, which runs "
                         f"from {trace.format_time(times[0])} to {trace.format_time(times[-1])} "
                         f"{trace.time_unit}")


def select(trace, args):
    """Indexes of the records the --pid/--event/--from/--to options keep."""
    recs = trace.records
    keep = np.ones(len(recs), dtype=bool)
    if args.event:
        wanted = [n.strip().lower() for n in args.event.split(",") if n.strip()]
        ids = []
        for name in wanted:
            etype = trace.schema.by_name.get(name)
            if etype is None:
                raise TraceError(f"unknown event {name!r}; this trace has: "
                                 + ", ".join(sorted(trace.schema.by_name)))
            ids.append(etype.id)
        keep &= np.isin(recs["type"], ids)
    if args.pid is not None:
        check_pid(trace, args.pid)
        mine = recs["pid"] == args.pid
        for etype in trace.schema.events.values():
            for slot, field in enumerate(etype.slots):
                if field in ("pid", "child", "parent"):
                    mine |= (recs["type"] == etype.id) & (recs[f"a{slot}"] == args.pid)
        keep &= mine
    times = trace.times
    if args.start is not None:
        start = parse_time(trace, args.start, TraceError)
        check_time(trace, start, "--from")
        keep &= times >= start
    if args.end is not None:
        end = parse_time(trace, args.end, TraceError)
        check_time(trace, end, "--to")
        keep &= times <= end
    picked = np.flatnonzero(keep)
    if not len(picked):
        raise TraceError(f"no record matches {' '.join(selection(args))} "
                         f"(the trace has {len(recs)} records)")
    return picked


def selection(args):
    """The selecting options given, as typed."""
    given = [("--pid", args.pid), ("--event", args.event), ("--from", args.start),
             ("--to", args.end)]
    return [f"{option} {value}" for option, value in given if value is not None] or ["(all)"]


def cmd_list(args):
    trace = open_trace(args.file)
    picked = select(trace, args)
    if args.limit is not None:
        picked = picked[:args.limit]
    out = sys.stdout
    for i in picked:
        out.write(trace.format_record(i) + "\n")
    return EXIT_DAMAGED if damaged(trace) else EXIT_OK


def cmd_info(args):
    trace = open_trace(args.file)
    h = trace.header
    t = trace.times
    print(f"source      {trace.source}")
    print(f"format      version {h.version}, {h.record_size}-byte records, "
          f"{h.ring_records} per CPU ring")
    print(f"machine     {h.ncpu} CPU(s), page size {h.page_size}, KERNBASE {h.kernbase:#x}")
    print("clock       " + (f"TSC at {h.tsc_hz / 1e6:.3f} MHz" if h.tsc_hz
                             else "TSC rate unknown: times are in ticks"))
    span = f"{trace.format_time(t[-1] - t[0])} {trace.time_unit}" if len(t) else "-"
    print(f"records     {len(trace.records)} in {trace.frames} frames, spanning {span}")
    if trace.expanded:
        print(f"            ({len(trace.records) - trace.expanded} sent: {', '.join(COMPOUNDS)} "
              "records count as the events they stand for)")
    print(f"damage      {trace.damaged} damaged frames, {trace.missing_frames} missing, "
          f"truncated: {'yes' if trace.truncated else 'no'}")
    print(f"lost        {trace.lost} events")
    types, counts = np.unique(trace.records["type"], return_counts=True)
    for type_id, n in zip(types.tolist(), counts.tolist()):
        etype = trace.schema.events.get(type_id)
        print(f"  {etype.name if etype else f'event{type_id}':<12} {n}")
    cpus, counts = np.unique(trace.records["cpu"], return_counts=True)
    print("per CPU     " + ", ".join(f"cpu{c}: {n}" for c, n in zip(cpus.tolist(), counts.tolist())))
    return EXIT_DAMAGED if damaged(trace) else EXIT_OK


def cmd_check(args):
    trace = open_trace(args.file)
    report = checkmod.check(trace)
    for line in checkmod.format_report(trace, report, limit=args.max_problems):
        print(line)
    return report.status


def address_space_lines(p):
    """p's mappings as pmap prints them (hostlib.fmt.pmap_line), a region's
    MAP_ flags after it."""
    out = []
    for m in p.mappings():
        line = fmt.pmap_line(m.start, m.end, m.prot, m.flags, m.kind, m.resident, m.pages)
        out.append(line + (f" {fmt.map_flags(m.flags)}" if m.kind == "region" else ""))
    return out


def cmd_replay(args):
    from .replay import state_at
    trace = open_trace(args.file)
    t = float("inf")
    if args.at is not None:
        t = parse_time(trace, args.at, TraceError)
        check_time(trace, t, "--at")
    if args.pid is not None:
        check_pid(trace, args.pid)
    st = state_at(trace, t)
    if args.pid is not None and args.pid not in st.processes:
        raise TraceError(f"process {args.pid} is not alive at t={trace.format_time(st.time)}; "
                         f"alive then: {pid_list(st.processes) or 'none'}")
    page = trace.header.page_size
    when = trace.format_time(st.time) if st.time is not None else "start"
    print(f"state at t={when} {trace.time_unit} (after {st.index} of {len(trace.records)} records)")
    mem = st.memory
    counts = ", ".join(f"{o} {n}" for o, n in sorted(mem.counts.items()) if n)
    total = f" of {mem.total}" if mem.total else ""
    print(f"physical memory: {mem.used}{total} pages in use" + (f": {counts}" if counts else ""))
    if st.lost:
        print(f"lost events so far: {st.lost}")
    for pid in sorted(st.processes):
        if args.pid is not None and pid != args.pid:
            continue
        p = st.processes[pid]
        print(f"pid {pid} {p.name or '?'} ({p.state}), parent {p.parent}")
        for line in address_space_lines(p):
            print("  " + line)
        objs = st.kmalloc_of(pid)
        if objs:
            print(f"  kmalloc: {len(objs)} objects, {sum(o.size for o in objs)} bytes")
    return EXIT_DAMAGED if damaged(trace) else EXIT_OK


def cmd_step(args):
    from .step import Stepper, run_batch, run_interactive
    trace = open_trace(args.file)
    stepper = Stepper(trace, select(trace, args), args.pid, address_space_lines)
    interactive = args.interactive if args.interactive is not None else sys.stdin.isatty()
    (run_interactive if interactive else run_batch)(stepper)
    return EXIT_DAMAGED if damaged(trace) else EXIT_OK


def cmd_diff(args):
    from .compare import compare
    a, b = open_trace(args.file), open_trace(args.other)

    def line(m):
        text = fmt.pmap_line(m.start, m.end, m.prot, m.flags, m.kind, m.resident, m.pages)
        return text + (f" {fmt.map_flags(m.flags)}" if m.kind == "region" else "")
    lines, differ = compare(a, b, line)
    print("\n".join(lines))
    if damaged(a) or damaged(b):
        return EXIT_DAMAGED
    return EXIT_PROBLEMS if differ else EXIT_OK


def cmd_export(args):
    if not args.perfetto and not args.ctf:
        raise TraceError("export needs --perfetto FILE and/or --ctf DIR")
    trace = open_trace(args.file)
    if args.perfetto:
        from . import perfetto
        perfetto.export(trace, args.perfetto)
    if args.ctf:
        from . import ctf
        ctf.export(trace, args.ctf)
    return EXIT_DAMAGED if damaged(trace) else EXIT_OK


def cmd_events(args):
    from .schema import Schema, schema_text_from_header
    if args.file:
        schema = open_trace(args.file).schema
    else:
        schema = Schema.parse(schema_text_from_header())
    for e in sorted(schema.events.values(), key=lambda e: e.id):
        print(f"{e.id:3} {e.name:<11} {' '.join(e.fields)}")
    for enum, labels in sorted(schema.enums.items()):
        signed = sorted((v - (1 << 32) if v >= 1 << 31 else v, label)
                        for v, label in labels.items())
        print(f"enum {enum}: " + ", ".join(f"{v} {label}" for v, label in signed))
    return EXIT_OK


def bench_check(path):
    """Time decoding and checking a real capture, with the peak memory."""
    import resource
    t0, c0 = time.perf_counter(), time.process_time()
    trace = load(path)
    t1 = time.perf_counter()
    report = checkmod.check(trace)
    t2, c2 = time.perf_counter(), time.process_time()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"check of {path}: {len(trace.records)} events, verdict {report.verdict}: "
          f"{t2 - t0:.2f} s (decode {t1 - t0:.2f} s, check {t2 - t1:.2f} s; "
          f"{c2 - c0:.2f} s of CPU), peak memory {peak:.0f} MB")
    return EXIT_OK


def cmd_bench(args):
    if args.capture:
        return bench_check(args.capture)
    from .writer import Writer
    w = Writer(ncpu=2)
    rng = np.random.default_rng(1)
    recs = np.zeros(args.events, dtype=RECORD_DTYPE)
    recs["tsc"] = np.arange(args.events, dtype=np.uint64) * 100
    from .decode import COMPOUNDS      # a compound record decodes into several: left out here
    recs["type"] = rng.choice([e.id for e in w.schema.events.values()
                               if e.name not in COMPOUNDS], args.events)
    recs["cpu"] = recs["tsc"] // 6400 % 2
    recs["pid"] = rng.integers(1, 50, args.events)
    recs["a0"] = rng.integers(0, 1 << 32, args.events, dtype=np.uint64)
    data = bytearray(w.header_frame())
    for start in range(0, args.events, args.per_frame):
        chunk = recs[start:start + args.per_frame]
        data += w.record_frames(int(chunk["cpu"][0]), chunk.tobytes(), args.per_frame)
    best = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        trace = decode(data)
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    assert len(trace.records) == args.events
    print(f"decoded {args.events} events ({len(data) / 1e6:.1f} MB, "
          f"{args.per_frame} per frame) "
          f"in {best:.3f} s: {args.events / best / 1e6:.2f} million events/s")
    return EXIT_OK


def add_selection(c, pid_note):
    """The options select() reads."""
    c.add_argument("--pid", type=int, help="only records of this process: run by it, "
                   "or naming it in a pid, parent or child field" + pid_note)
    c.add_argument("--event", help="only these events (comma separated names, e.g. "
                   "page_alloc,page_free)")
    c.add_argument("--from", dest="start", metavar="T",
                   help="only records at or after time T (seconds, or with a unit: "
                   "200ms, 15us; TSC ticks if the trace has no TSC rate)")
    c.add_argument("--to", dest="end", metavar="T", help="only records at or before time T")


def build_parser():
    p = argparse.ArgumentParser(
        prog="xvtrace",
        description="Decode, check, replay and export xv6 kernel event traces "
                    "(captures of COM2). See docs/trace.md.",
        epilog="Exit status: 0 ok/PASS, 1 check found problems, 2 unusable input or "
               "arguments, 3 damaged or incomplete input (check: INCONCLUSIVE).")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def command(name, func, help):
        c = sub.add_parser(name, help=help, description=help)
        if name not in ("bench", "events"):
            c.add_argument("file", nargs="?", default=DEFAULT_CAPTURE,
                           help=f"capture to read (default {DEFAULT_CAPTURE})")
        c.set_defaults(func=func)
        return c

    c = command("list", cmd_list, "print records as text, in time order")
    add_selection(c, "")
    c.add_argument("--limit", type=int, help="print at most this many records")

    command("info", cmd_info, "summarise a capture: header, damage, counts per event and CPU")

    c = command("check", cmd_check, "check memory invariants over the whole trace "
                "(exit 0 PASS, 1 FAIL, 3 INCONCLUSIVE)")
    c.add_argument("--max-problems", type=int, default=50,
                   help="print at most this many problems (default 50)")

    c = command("replay", cmd_replay, "print every address space and the physical "
                "memory in use at a time")
    c.add_argument("--at", metavar="T", help="time to stop at (default: end of trace)")
    c.add_argument("--pid", type=int, help="only this process")

    c = command("step", cmd_step, "walk the records one by one, each followed by the "
                "address space after it (interactive when stdin is a terminal: Enter next, "
                "N jump to event N, q quit)")
    add_selection(c, ", and its address space after each (default: the process of each "
                  "record)")
    c.add_argument("--interactive", action=argparse.BooleanOptionalAction, default=None,
                   help="wait after each record (default: when stdin is a terminal)")

    c = command("diff", cmd_diff, "compare two captures process by process (matched by name "
                "and order of creation): event counts, address space at exit, what differs "
                "first (exit 0 same, 1 different)")
    c.add_argument("other", metavar="FILE2", help="the capture to compare with")

    c = command("export", cmd_export, "export for other viewers")
    c.add_argument("--perfetto", metavar="OUT.json",
                   help="write Chrome/Perfetto trace JSON (open in ui.perfetto.dev)")
    c.add_argument("--ctf", metavar="DIR", help="write a CTF 1.8 trace (read with babeltrace2 DIR)")

    c = command("events", cmd_events, "print the event table: from a capture's header, "
                "or from xv6/kernel/traceevents.h")
    c.add_argument("file", nargs="?", help="capture to read the table from")

    c = command("bench", cmd_bench, "measure decoding speed on a synthetic capture, or "
                "decoding and checking a real one (time and peak memory)")
    c.add_argument("capture", nargs="?", help="a capture to decode and check, e.g. "
                   "out/test/com2-cpus2.bin after make test")
    c.add_argument("--events", type=int, default=1_000_000, help="events (default 1000000)")
    c.add_argument("--per-frame", type=int, default=16,
                   help="records per frame (default 16, as the kernel's full frames)")
    c.add_argument("--repeat", type=int, default=3, help="runs; the best counts (default 3)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    return run_main("xvtrace", lambda: args.func(args), TraceError, "XVTRACE_DEBUG")


if __name__ == "__main__":
    sys.exit(main())
