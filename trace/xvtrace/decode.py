"""Decode a COM2 capture into a Trace: frames, stream header, records.

The byte stream is a sequence of frames (docs/trace.md, "Frames"):

    u32 magic "XVTF" | u8 kind | u8 cpu | u16 length | u32 seq | u32 sum | payload

A frame whose checksum does not match is skipped with a warning and
decoding resumes at the next magic; so are stray bytes between frames. A
capture that ends inside a frame loses only that frame. Records are
fixed-size and go straight into a numpy structured array (RECORD_DTYPE),
merged across CPUs by timestamp.
"""

import struct
from dataclasses import dataclass, field

import numpy as np

from . import framescan
from .schema import Schema, TraceError

MAGIC = 0x46545658
MAGIC_BYTES = struct.pack("<I", MAGIC)
KIND_HEADER = 1
KIND_RECORDS = 2
FRAME = struct.Struct("<IBBHII")            # magic kind cpu length seq sum
STREAM_HEADER = struct.Struct("<IHHIIQQII")  # see Header
RECORD_SIZE = 32
RECORD_DTYPE = np.dtype([
    ("tsc", "<u8"), ("type", "<u2"), ("cpu", "u1"), ("flags", "u1"),
    ("pid", "<u4"), ("a0", "<u4"), ("a1", "<u4"), ("a2", "<u4"), ("a3", "<u4"),
])
ARGS = ("a0", "a1", "a2", "a3")
SUPPORTED_VERSION = 2
assert RECORD_DTYPE.itemsize == RECORD_SIZE


# Weights for frame_sum: the i-th of k words counts k - i times in s2.
_WEIGHTS = np.arange(65536 // 4 + 4, 0, -1, dtype=np.uint64)


def frame_sum(data):
    """The kernel's frame checksum (trace.c, csum_add) of data: frame bytes 4..11, then the
    payload. Over 32-bit little-endian words, the last zero-padded: s1 is their sum and s2
    the sum of the successive s1, both mod 2^32; the checksum is s1 ^ rotl(s2, 16)."""
    if len(data) % 4:
        data = bytes(data) + bytes(4 - len(data) % 4)
    words = np.frombuffer(data, dtype="<u4").astype(np.uint64)
    s1 = int(words.sum()) & 0xFFFFFFFF
    s2 = int(words @ _WEIGHTS[-len(words):]) & 0xFFFFFFFF
    return s1 ^ ((s2 << 16 | s2 >> 16) & 0xFFFFFFFF)


def frame_sums(data, starts, lengths):
    """frame_sum of many frames at once, as {start: checksum}: see
    frame_sum_array."""
    sums = frame_sum_array(data, starts, lengths)
    return dict(zip(starts.tolist(), sums.tolist()))


def frame_sum_array(data, starts, lengths):
    """frame_sum of the frames at byte offsets starts with payload lengths
    lengths (each a multiple of 4), in batches of one length and alignment.
    One numpy pass per batch instead of a call per frame: a capture has ~10^5
    frames, most of one length."""
    out = np.zeros(len(starts), dtype=np.uint64)
    size = len(data)
    views = [np.frombuffer(data, dtype="<u4", count=(size - a) // 4, offset=a)
             for a in range(min(4, size))]
    align = starts % 4
    for length in np.unique(lengths).tolist():
        # Words 1-2 of the header (bytes 4..11), then the payload (after the sum).
        offsets = np.concatenate([[1, 2], FRAME.size // 4 + np.arange(length // 4)])
        # s2 in float64 goes through BLAS; it is exact while the sum of n words
        # < 2^32 with weights <= n stays below 2^53: n < 1448 (a full frame of
        # 16 records is 130 words). Longer frames take the integer product.
        n = len(offsets)
        weights = _WEIGHTS[-n:].astype(np.float64 if n < 1448 else np.uint64)
        for a in range(len(views)):
            which = np.flatnonzero((lengths == length) & (align == a))
            for i in range(0, len(which), 4096):
                batch = which[i:i + 4096]
                words = views[a][((starts[batch] - a) // 4)[:, None] + offsets]
                words = words if n < 1448 else words.astype(np.uint64)
                s1 = words.sum(axis=1, dtype=np.uint64) & 0xFFFFFFFF
                s2 = (words @ weights).astype(np.uint64) & 0xFFFFFFFF
                out[batch] = s1 ^ ((s2 << np.uint64(16) | s2 >> np.uint64(16)) & 0xFFFFFFFF)
    return out


def precomputed_sums(data):
    """Checksums of the frames a quick walk finds (magic, then length, then the
    next frame), for decode to look up; a frame it does not reach is summed
    on its own."""
    starts, lengths = [], []
    pos, size = data.find(MAGIC_BYTES), len(data)
    while 0 <= pos and pos + FRAME.size <= size:
        magic, _, _, length, _, _ = FRAME.unpack_from(data, pos)
        if magic != MAGIC or pos + FRAME.size + length > size:
            break
        if length % 4 == 0:
            starts.append(pos)
            lengths.append(length)
        pos += FRAME.size + length
    if not starts:
        return {}
    return frame_sums(data, np.array(starts, dtype=np.int64), np.array(lengths))


@dataclass(frozen=True)
class Header:
    """The fixed part of the stream header."""
    version: int
    record_size: int
    ncpu: int
    page_size: int
    kernbase: int
    tsc_hz: int          # TSC ticks per second, 0 if the kernel could not tell
    tsc0: int            # TSC when tracing started: time 0
    ring_records: int    # records per CPU ring
    reserved: int = 0


@dataclass
class Trace:
    """A decoded capture. records is sorted by time; warnings says what was
    wrong with the input (damage, gaps); lost counts events the kernel
    dropped (from LOST records)."""
    header: Header
    schema: Schema
    records: np.ndarray
    source: str = ""
    frames: int = 0
    damaged: int = 0             # frames skipped: bad checksum or layout
    missing_frames: int = 0      # gaps in frame sequence numbers
    first_seq: int = 0           # 0 unless the capture started late
    truncated: bool = False      # the capture ends inside a frame
    unknown: int = 0             # records of event ids the schema lacks
    expanded: int = 0            # records added by expanding compound events
    warnings: list = field(default_factory=list)

    @property
    def rate_known(self):
        return self.header.tsc_hz > 0

    @property
    def time_unit(self):
        return "s" if self.rate_known else "ticks"

    @property
    def times(self):
        """Time of each record: seconds since tracing started, or TSC ticks
        since then if the TSC rate is unknown."""
        if "_times" not in self.__dict__:
            t = self.records["tsc"].astype(np.int64) - np.int64(self.header.tsc0)
            t = t.astype(np.float64)
            self.__dict__["_times"] = t / self.header.tsc_hz if self.rate_known else t
        return self.__dict__["_times"]

    def time_of(self, tsc):
        t = float(int(tsc) - self.header.tsc0)
        return t / self.header.tsc_hz if self.rate_known else t

    def format_time(self, t):
        return f"{t:.6f}" if self.rate_known else f"{t:.0f}"

    @property
    def lost(self):
        """Events the kernel reported as dropped (sum of LOST records)."""
        lost = self.schema.by_name.get("lost")
        if lost is None or "count" not in lost.slots:
            return 0
        column = ARGS[lost.slots.index("count")]
        return int(self.records[column][self.records["type"] == lost.id].sum())

    def event(self, i):
        """Record i as (EventType or None, {field: value})."""
        r = self.records[i]
        etype = self.schema.events.get(int(r["type"]))
        if etype is None:
            return None, {}
        return etype, self.schema.fields_of(etype, [r[a] for a in ARGS])

    def format_record(self, i):
        r = self.records[i]
        etype = self.schema.events.get(int(r["type"]))
        name = etype.name if etype else f"event{int(r['type'])}"
        fields = self.schema.format_fields(etype, [r[a] for a in ARGS]) if etype else ""
        return (f"{self.format_time(self.times[i]):>14} cpu{int(r['cpu'])} "
                f"pid {int(r['pid']):<4} {name:<11} {fields}")


def load(path):
    """Read and decode the capture at path; raises TraceError."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TraceError(f"cannot read {path}: {e.strerror}") from None
    scanned = scan(data, str(path))
    del data                        # as large as the capture: gone before the records come
    return build(scanned, str(path))


def parse_header(payload):
    if len(payload) < STREAM_HEADER.size:
        raise TraceError("stream header too short")
    header = Header(*STREAM_HEADER.unpack_from(payload))
    if header.version != SUPPORTED_VERSION:
        raise TraceError(f"trace format version {header.version} is not supported "
                         f"(this reader knows version {SUPPORTED_VERSION})")
    if header.record_size != RECORD_SIZE:
        raise TraceError(f"record size {header.record_size} is not {RECORD_SIZE}")
    try:
        text = bytes(payload[STREAM_HEADER.size:]).decode("ascii")
    except UnicodeDecodeError:
        raise TraceError("stream header schema is not ASCII text") from None
    return header, Schema.parse(text)


# Compound events: the kernel records a common sequence as one record, and the decoder expands
# it into the events it stands for, in order, at its time, so that every reader sees one model.
# Each part: (event, its four arguments from the compound's (a0, a1, a2, a3, running pid),
# with "page" the page of a0 and "region" the owner label).
COMPOUNDS = {
    # a fault that mapped a zeroed private page: va, pa, errcode, eip
    "fault_map": [("page_alloc", ("a1", "region", 0, 0)),
                  ("page_map", ("page", "a1", 0, "running")),
                  ("fault", ("a0", "a2", 0, "a3"))],
    # a private page allocated and mapped outside a fault: va, pa, pid
    "page_new": [("page_alloc", ("a1", "region", 0, 0)),
                 ("page_map", ("a0", "a1", 0, "a2"))],
    # a region page unmapped, and freed with its last reference: va, pa, pid
    "page_drop": [("page_unmap", ("a0", "a1", "a2", 0)),
                  ("page_free", ("a1", 0, 0, 0))],
}


def as_words(records):
    """records as rows of four u64: numpy moves these several times faster than
    structured rows (take, repeat)."""
    return records.view(np.uint64).reshape(-1, RECORD_SIZE // 8)


def as_records(words):
    return np.ascontiguousarray(words).reshape(-1).view(RECORD_DTYPE)


def expand_and_sort(records, schema, page_size):
    """The records in time order (stable), each compound record (COMPOUNDS) replaced by the
    records it stands for. Records of other events pass unchanged; a schema without an event
    involved leaves its compound alone. The result is made in one take from records: the
    largest array a decode holds, so it is made once."""
    names = schema.by_name
    hits = {}
    copies = np.ones(len(records), dtype=np.int8)
    for compound, parts in COMPOUNDS.items():
        if not {compound, *(e for e, _ in parts)} <= names.keys() or \
                "region" not in schema.enums.get("owner", {}).values():
            continue
        hit = records["type"] == names[compound].id
        if hit.any():
            hits[compound] = hit
            copies[hit] = len(parts)
    # Indices as int32 where they fit: these arrays are the decode's peak memory.
    index = np.int32 if len(records) * 4 < 2 ** 31 else np.int64
    source = np.repeat(np.arange(len(records), dtype=index), copies)  # expanded row -> record
    order = np.argsort(records["tsc"][source], kind="stable").astype(index)
    out = as_records(as_words(records)[source[order]])
    del source
    if not hits:
        return out
    where = np.empty_like(order)                # expanded row -> its place in out
    where[order] = np.arange(len(order), dtype=index)
    del order
    firsts = np.cumsum(copies) - copies         # each record's first expanded row
    for compound, hit in hits.items():
        first = firsts[hit]
        src = records[hit]
        value = {"a0": src["a0"], "a1": src["a1"], "a2": src["a2"], "a3": src["a3"],
                 "running": src["pid"], "page": src["a0"] & ~np.uint32(page_size - 1),
                 "region": schema.value("owner", "region")}
        for k, (event, args) in enumerate(COMPOUNDS[compound]):
            rows = where[first + k]
            out["type"][rows] = names[event].id
            for field, arg in zip(ARGS, args):
                out[field][rows] = value[arg] if isinstance(arg, str) else arg
    return out


def decode(data, source=""):
    """Decode a capture held in memory (bytes-like); raises TraceError if
    the input is not a usable trace at all."""
    return build(scan(bytes(data), source), source)


def scan(data, source):
    """Walk the frames of data: (the record payloads joined, and what build()
    needs besides: header, schema, frame counts, warnings). The payloads are a
    copy, so data can go before the records are built."""
    label = source or "input"
    if not data:
        raise TraceError(f"{label}: empty capture")
    mv = memoryview(data)
    size = len(data)
    warnings = []
    parts = []
    header = schema = None
    header_payload = None
    frames = damaged = missing = 0
    first_seq = None
    expect = None
    truncated = False
    whole = framescan.clean(data, source)
    if whole is not None:
        return whole
    sums = precomputed_sums(data)

    pos = data.find(MAGIC_BYTES)
    if pos < 0:
        raise TraceError(f"{label}: not an xv6 trace (no frame found)")
    if pos > 0:
        warnings.append(f"skipped {pos} bytes before the first frame")
    while pos < size:
        if size - pos < FRAME.size:
            truncated = True
            warnings.append(f"capture ends inside a frame header at byte {pos}")
            break
        magic, kind, cpu, length, seq, fsum = FRAME.unpack_from(data, pos)
        end = pos + FRAME.size + length
        problem = None
        if magic != MAGIC:
            problem = "no frame magic"
        elif end > size:
            if data.find(MAGIC_BYTES, pos + 1) < 0:
                truncated = True
                warnings.append(f"capture ends inside a frame at byte {pos} "
                                f"({size - pos - FRAME.size} of {length} payload bytes)")
                break
            problem = "frame length runs past a later frame"
        elif (sums[pos] if pos in sums else
              frame_sum(data[pos + 4:pos + 12] + data[pos + FRAME.size:end])) != fsum:
            problem = "checksum mismatch"
        elif kind == KIND_RECORDS and length % RECORD_SIZE:
            problem = f"record frame of {length} bytes"
        elif kind not in (KIND_HEADER, KIND_RECORDS):
            problem = f"unknown frame kind {kind}"
        if problem:
            nxt = data.find(MAGIC_BYTES, pos + 1)
            nxt = size if nxt < 0 else nxt
            if magic == MAGIC:
                damaged += 1
                warnings.append(f"damaged frame at byte {pos}: {problem}; skipped")
            else:
                warnings.append(f"skipped {nxt - pos} stray bytes at byte {pos}")
            pos = nxt
            continue

        frames += 1
        if first_seq is None:
            first_seq = seq
        elif seq != expect:
            gap = (seq - expect) & 0xFFFFFFFF
            if gap < 0x80000000:
                missing += gap
                warnings.append(f"{gap} frame(s) missing before byte {pos} "
                                f"(sequence {expect} to {seq - 1})")
            else:
                warnings.append(f"frame sequence went back from {expect - 1} to {seq} "
                                f"at byte {pos}: another boot; decoding stops there")
                break
        expect = (seq + 1) & 0xFFFFFFFF
        payload = mv[pos + FRAME.size:end]
        if kind == KIND_HEADER:
            if header is None:
                header, schema = parse_header(payload)
                header_payload = bytes(payload)
            elif bytes(payload) != header_payload:
                newer, newer_schema = parse_header(payload)
                if newer.tsc0 != header.tsc0:
                    warnings.append(f"stream header at byte {pos} is from another boot; "
                                    "decoding stops there")
                    break
                # Same boot, later header (e.g. all CPUs counted now): it wins.
                header, schema, header_payload = newer, newer_schema, bytes(payload)
        else:
            parts.append(payload)
        pos = end

    if header is None:
        raise TraceError(f"{label}: no valid stream header in {frames} frame(s); "
                         "cannot decode events")
    joined = b"".join(parts)
    del parts, mv
    return joined, dict(header=header, schema=schema, frames=frames, damaged=damaged,
                        missing_frames=missing, first_seq=first_seq or 0,
                        truncated=truncated, warnings=warnings)


def build(scanned, source):
    """The Trace of what scan() found."""
    joined, found = scanned
    header, schema, warnings = found["header"], found["schema"], found["warnings"]
    sent = np.frombuffer(joined, dtype=RECORD_DTYPE)
    records = expand_and_sort(sent, schema, header.page_size)
    known = np.isin(records["type"], np.fromiter(schema.events, dtype=np.uint16))
    unknown = int(len(records) - known.sum())
    if unknown:
        warnings.append(f"{unknown} record(s) of event ids this schema lacks; ignored")
    if found["first_seq"]:
        warnings.append(f"capture starts at frame {found['first_seq']}: earlier events "
                        "are missing")
    return Trace(records=records, source=source, unknown=unknown,
                 expanded=len(records) - len(sent), **found)
