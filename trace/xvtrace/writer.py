"""Write captures in the kernel's stream format.

For tests, benchmarks and tools that make traces outside the kernel (for
example from ring buffers read out with GDB). The schema comes from
xv6/kernel/traceevents.h unless given, so a writer always speaks the
kernel's current event list.

    cap = Capture(ncpu=2)
    cap.add(0.001, "page_alloc", cpu=0, pid=1, pa=0x3ff000, owner="region")
    cap.add(0.002, "page_map", va=0x7fffe000, pa=0x3ff000, shared=0, pid=1)
    data = cap.to_bytes()
"""

import struct

from .decode import (FRAME, frame_sum, KIND_HEADER, KIND_RECORDS, MAGIC, RECORD_SIZE,
                     STREAM_HEADER, SUPPORTED_VERSION)
from .schema import Schema, schema_text_from_header

RECORD = struct.Struct("<QHBBI4I")
FRAME_RECORDS = 16          # as TRACE_FRAME_RECS in the kernel


class Writer:
    """Frames and records, numbered as the kernel numbers them."""

    def __init__(self, schema_text=None, ncpu=1, tsc_hz=1_000_000_000, tsc0=0,
                 page_size=4096, kernbase=0x80000000, ring_records=2048):
        self.schema_text = schema_text or schema_text_from_header()
        self.schema = Schema.parse(self.schema_text)
        self.ncpu = ncpu
        self.tsc_hz = tsc_hz
        self.tsc0 = tsc0
        self.page_size = page_size
        self.kernbase = kernbase
        self.ring_records = ring_records
        self.seq = 0

    def frame(self, kind, cpu, payload):
        seq = self.seq
        self.seq = (seq + 1) & 0xFFFFFFFF
        fsum = frame_sum(struct.pack("<BBHI", kind, cpu, len(payload), seq) + payload)
        return FRAME.pack(MAGIC, kind, cpu, len(payload), seq, fsum) + payload

    def header_frame(self):
        fixed = STREAM_HEADER.pack(SUPPORTED_VERSION, RECORD_SIZE, self.ncpu, self.page_size,
                                   self.kernbase, self.tsc_hz, self.tsc0, self.ring_records, 0)
        return self.frame(KIND_HEADER, 0xFF, fixed + self.schema_text.encode("ascii"))

    def record_frames(self, cpu, records, per_frame=FRAME_RECORDS):
        """Frames carrying records (bytes, a multiple of 32 long) of one CPU."""
        step = per_frame * RECORD_SIZE
        return b"".join(self.frame(KIND_RECORDS, cpu, records[i:i + step])
                        for i in range(0, len(records), step))

    def record(self, tsc, event, cpu=0, pid=0, fields=None):
        """One 32-byte record. event is a name or an id; fields is a dict by
        field name, enumeration values by label or number, text as a str."""
        etype = (self.schema.events[event] if isinstance(event, int)
                 else self.schema.by_name[event])
        args = [0, 0, 0, 0]
        text_slots = [i for i, f in enumerate(etype.slots) if f in self.schema.text_fields]
        for name, value in (fields or {}).items():
            if text_slots and name == self.schema.text_name(etype):
                raw = value.encode("latin-1")[:4 * len(text_slots)].ljust(4 * len(text_slots), b"\0")
                for k, slot in enumerate(text_slots):
                    args[slot] = int.from_bytes(raw[4 * k:4 * k + 4], "little")
                continue
            if name not in etype.slots:
                raise ValueError(f"event {etype.name} has no field {name}")
            if isinstance(value, str):
                value = self.schema.value(name, value)
            args[etype.slots.index(name)] = value & 0xFFFFFFFF
        return RECORD.pack(tsc, etype.id, cpu, 0, pid, *args)


class Capture:
    """Collect events, then frame them the way the kernel drains its rings:
    per CPU, in time order, frames of different CPUs interleaved by time."""

    def __init__(self, ncpu=1, tsc_hz=1_000_000_000, **writer_args):
        self.writer = Writer(ncpu=ncpu, tsc_hz=tsc_hz, **writer_args)
        self.events = []        # (tsc, cpu, record bytes)

    @property
    def schema(self):
        return self.writer.schema

    def tsc(self, t):
        """TSC value for time t: seconds, or ticks if the rate is 0."""
        hz = self.writer.tsc_hz
        return self.writer.tsc0 + (round(t * hz) if hz else int(t))

    def add(self, t, event, cpu=0, pid=0, running=None, **fields):
        """Add an event at time t on cpu, while pid runs. For events with a
        field named cpu or pid, that keyword also sets the field; give
        running= when the running process differs from the pid field."""
        etype = self.schema.by_name[event]
        if "cpu" in etype.slots:
            fields["cpu"] = cpu
        if "pid" in etype.slots:
            fields["pid"] = pid
            if running is not None:
                pid = running
        elif running is not None:
            pid = running
        tsc = self.tsc(t)
        self.events.append((tsc, cpu, self.writer.record(tsc, event, cpu, pid, fields)))
        return self

    def to_bytes(self, per_frame=FRAME_RECORDS):
        out = [self.writer.header_frame()]
        chunks = []
        for cpu in sorted({c for _, c, _ in self.events}):
            mine = sorted((e for e in self.events if e[1] == cpu), key=lambda e: e[0])
            for i in range(0, len(mine), per_frame):
                group = mine[i:i + per_frame]
                chunks.append((group[0][0], cpu, b"".join(r for _, _, r in group)))
        for _, cpu, recs in sorted(chunks, key=lambda c: (c[0], c[1])):
            out.append(self.writer.frame(KIND_RECORDS, cpu, recs))
        return b"".join(out)
