"""The event trace still held in the per-CPU rings (trace.c, docs/trace.md).

Each CPU's ring (trace_rings[i]) keeps its last TRACE_RING records: slots up to
head were written, those from tail on are not yet sent to the host. The
records in memory are already in the wire format, so the rings are turned
into a capture exactly like the one the host reads from COM2 -- a stream
header (with the schema text the kernel itself would send) followed by
record frames -- and the host package trace/xvtrace decodes it. Nothing
here knows the event list.

The oldest slot of a full ring is left out: a CPU stopped in the middle of
writing its next record is overwriting that slot. Events dropped since the
last LOST record (a ring's pending count) become a LOST record at the end.
"""

import gdb

from .utils import Xv6Command, Xv6Error, array_length, parse_int, read_bytes, types, u32
from . import procs

DEFAULT_COUNT = 20


def xvtrace():
    """The host package xvtrace (its decoder and capture writer)."""
    try:
        import xvtrace.decode
        import xvtrace.writer
    except ImportError as e:
        raise Xv6Error(f"cannot import the host trace package xvtrace: {e} (is the "
                       "repository root on sys.path? .gdbinit puts it there)") from None
    return xvtrace


class Ring:
    """What one CPU's ring holds: its counters and the raw records in memory."""

    def __init__(self, cpu, ring):
        self.cpu = cpu
        self.head, self.tail = u32(ring["head"]), u32(ring["tail"])
        self.pending, self.lost = u32(ring["pending"]), u32(ring["lost"])
        # Records put in the ring, less the LOST records among them.
        self.emitted = (self.head - u32(ring["reports"])) & 0xFFFFFFFF
        slots = ring["rec"]
        self.size = array_length(slots)
        self.base = u32(slots.address)
        self.recsize = slots[0].type.sizeof
        self.unsent = (self.head - self.tail) & 0xFFFFFFFF
        self.count = min(self.head, self.size - 1)

    def records(self, last=None):
        """Bytes of the last `last` records in memory (all if None), oldest first."""
        n = self.count if last is None else min(last, self.count)
        first = (self.head - n) % self.size
        chunks = []
        while n > 0:
            run = min(n, self.size - first)
            chunks.append(read_bytes(self.base + first * self.recsize, run * self.recsize,
                                     f"cpu{self.cpu} trace ring"))
            n -= run
            first = 0
        return b"".join(chunks)


def trace_var(name):
    """A variable of trace.c (most are static there), or None."""
    try:
        return gdb.parse_and_eval(f"'trace.c'::{name}")
    except gdb.error:
        return None


def read_rings():
    rings = trace_var("trace_rings")
    if rings is None:
        raise Xv6Error("the kernel has no trace rings ('trace_rings' in trace.c)")
    n = procs.ncpu() or 1
    return [Ring(i, rings[i]) for i in range(min(n, array_length(rings)))]


def schema_text(pkg):
    """The schema the kernel sends (its 'schema' string), else the one
    built from traceevents.h."""
    s = trace_var("schema")
    if s is not None and s.type.strip_typedefs().code == gdb.TYPE_CODE_ARRAY:
        raw = read_bytes(u32(s.address), array_length(s), "trace schema")
        return raw.split(b"\0", 1)[0].decode("ascii", "replace")
    return pkg.schema.schema_text_from_header()


def capture(rings, last=None):
    """A capture (bytes) of what the rings hold, plus the records it has."""
    pkg = xvtrace()
    recsize = types.get("struct tracerec").sizeof
    if recsize != pkg.decode.RECORD_SIZE:
        raise Xv6Error(f"struct tracerec is {recsize} bytes but the host decoder reads "
                       f"{pkg.decode.RECORD_SIZE}-byte records")
    tschz, tsc0 = trace_var("tschz"), trace_var("tsc0")
    tsc0 = int(tsc0) if tsc0 is not None else 0
    writer = pkg.writer.Writer(schema_text=schema_text(pkg), ncpu=len(rings),
                               tsc_hz=int(tschz) if tschz is not None else 0, tsc0=tsc0,
                               ring_records=rings[0].size if rings else 0)
    out = [writer.header_frame()]
    total = 0
    for ring in rings:
        data = ring.records(last)
        if ring.pending and "lost" in writer.schema.by_name:
            last_tsc = int.from_bytes(data[-ring.recsize:][:8], "little") if data else tsc0
            data += writer.record(last_tsc, "lost", ring.cpu, 0,
                                  {"cpu": ring.cpu, "count": ring.pending})
        total += len(data) // recsize
        if data:
            out.append(writer.record_frames(ring.cpu, data))
    return b"".join(out), total


def summary(rings):
    on = ""
    ctl = trace_var("ctl")
    if ctl is not None:
        on = f"tracing {'on' if int(ctl['on']) else 'off'}, mask 0x{u32(ctl['mask']):x}; "
    parts = [f"cpu{r.cpu}: {r.count} in memory, {r.unsent} unsent, {r.lost} lost" for r in rings]
    return on + "; ".join(parts)


class Trace(Xv6Command):
    """Decode the last N events in the trace rings (default 20), or dump them to FILE.

Usage: xv6 trace [N]
       xv6 trace dump FILE
The records still in the per-CPU rings, sent to the host or not, merged
by time and decoded with the host package trace/xvtrace. 'dump' writes
them as a capture in the COM2 stream format (docs/trace.md), which
'bin/xvtrace list FILE' and the other xvtrace
commands read."""

    NAME = "trace"
    USAGE = "[N] | dump FILE"

    def run(self, argv):
        if argv and argv[0] == "dump":
            if len(argv) != 2:
                self.usage()
            self.dump(argv[1])
            return
        if len(argv) > 1:
            self.usage()
        n = parse_int(argv[0], "count") if argv else DEFAULT_COUNT
        if n <= 0:
            raise Xv6Error("the count must be positive")
        rings = read_rings()
        data, _ = capture(rings, last=n)
        trace = xvtrace().decode.decode(data, source="trace rings")
        records = len(trace.records)
        gdb.write(summary(rings) + "\n")
        shown = min(n, records)
        gdb.write(f"last {shown} of the events in memory (time in {trace.time_unit} "
                  f"since tracing started):\n")
        for i in range(records - shown, records):
            gdb.write(trace.format_record(i) + "\n")
        for w in trace.warnings:
            gdb.write(f"note: {w}\n")

    def dump(self, path):
        rings = read_rings()
        data, total = capture(rings)
        try:
            with open(path, "wb") as f:
                f.write(data)
        except OSError as e:
            raise Xv6Error(f"cannot write {path}: {e.strerror}") from None
        per_cpu = ", ".join(f"cpu{r.cpu} {r.count}" for r in rings)
        gdb.write(f"wrote {total} records ({per_cpu}), {len(data)} bytes, to {path}\n"
                  f"read it with: bin/xvtrace list {path}\n")


Trace()
