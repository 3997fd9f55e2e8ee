"""Decode a COM2 capture as it arrives, a chunk at a time.

decode.py reads a whole capture; a live view cannot wait for the end. A
FrameReader takes bytes in any pieces (feed) and hands back the records of
every complete frame, with the same rules as decode.decode: a frame with a
bad checksum or layout is skipped with a warning and reading resumes at the
next magic, stray bytes are skipped, a gap in sequence numbers is counted, a
later boot stops the stream, and finish() says whether the capture ended
inside a frame.

Records of one CPU arrive in time order, but the CPUs' frames interleave, so
a record may arrive after a later one of another CPU. Orderer holds records
back until no CPU can still send an earlier one (every CPU has sent a later
record) or they have waited `hold` seconds, then releases them sorted by
TSC. A record that arrives later than that is "late": its release says so,
and the reader of the release (the live model) re-applies from before it;
the hold doubles after a late record and halves again when they stop.
"""

import numpy as np

from .decode import (FRAME, KIND_HEADER, KIND_RECORDS, MAGIC_BYTES, RECORD_DTYPE,
                     RECORD_SIZE, expand_and_sort, frame_sum, parse_header)
from .schema import TraceError


class StreamStop(TraceError):
    """The stream cannot go on (another boot, an unusable header)."""


class FrameReader:
    """Incremental frame decoder. feed(data) -> new records (RECORD_DTYPE,
    compound events expanded, in arrival order); header and schema are set
    once the first stream header has arrived (records before it are kept
    and returned with it)."""

    def __init__(self):
        self.buf = bytearray()
        self.offset = 0             # stream byte offset of buf[0]
        self.header = self.schema = None
        self._header_payload = None
        self.frames = self.damaged = self.missing_frames = 0
        self.first_seq = None
        self._expect = None
        self.truncated = False
        self.stopped = None         # why decoding stopped, or None
        self.warnings = []
        self._early = []            # record payloads before the first header

    @property
    def bytes_read(self):
        return self.offset + len(self.buf)

    def warn(self, pos, message):
        self.warnings.append(message.format(at=self.offset + pos))

    def feed(self, data):
        """Add bytes; returns the records of the frames they completed."""
        if self.stopped:
            return self._empty()
        self.buf += data
        parts = []
        pos = self._scan(parts)
        del self.buf[:pos]
        self.offset += pos
        return self._records(parts)

    def finish(self):
        """The capture ended: returns the records of frames still waiting
        behind a damaged one, and notes a partial frame left over."""
        if self.stopped:
            return self._empty()
        parts = []
        pos = self._scan(parts, final=True)
        if pos < len(self.buf):
            self.truncated = True
            self.warn(pos, "capture ends inside a frame at byte {at}")
        self.offset += len(self.buf)
        self.buf.clear()
        return self._records(parts)

    def _empty(self):
        return np.zeros(0, dtype=RECORD_DTYPE)

    def _records(self, parts):
        if self.header is None:
            self._early += parts
            return self._empty()
        if self._early:
            parts, self._early = self._early + parts, []
        if not parts:
            return self._empty()
        sent = np.frombuffer(b"".join(parts), dtype=RECORD_DTYPE)
        return expand_and_sort(sent, self.schema, self.header.page_size)  # one CPU: in order

    def _scan(self, parts, final=False):
        """Take every complete frame from buf into parts; returns how many
        bytes of buf are done with."""
        buf, pos = self.buf, 0
        while not self.stopped:
            start = buf.find(MAGIC_BYTES, pos)
            if start < 0:
                keep = len(buf) if final else max(pos, len(buf) - 3)  # a magic may be split
                if keep > pos:
                    self.warn(pos, f"skipped {keep - pos} stray bytes at byte {{at}}")
                return keep
            if start > pos:
                self.warn(pos, f"skipped {start - pos} stray bytes at byte {{at}}")
            pos = start
            if len(buf) - pos < FRAME.size:
                return pos
            magic, kind, cpu, length, seq, fsum = FRAME.unpack_from(buf, pos)
            end = pos + FRAME.size + length
            if end > len(buf):
                if not final or buf.find(MAGIC_BYTES, pos + 1) < 0:
                    return pos
                self.damaged += 1
                self.warn(pos, "damaged frame at byte {at}: frame length runs past a "
                          "later frame; skipped")
                pos += 1
                continue
            problem = self._check(pos, kind, length, end, fsum)
            if problem:
                self.damaged += 1
                self.warn(pos, f"damaged frame at byte {{at}}: {problem}; skipped")
                pos += 1
                continue
            self._frame(pos, kind, seq, bytes(buf[pos + FRAME.size:end]), parts)
            pos = end
        return len(buf)

    def _check(self, pos, kind, length, end, fsum):
        buf = self.buf
        if frame_sum(bytes(buf[pos + 4:pos + 12]) + bytes(buf[pos + FRAME.size:end])) != fsum:
            return "checksum mismatch"
        if kind == KIND_RECORDS and length % RECORD_SIZE:
            return f"record frame of {length} bytes"
        if kind not in (KIND_HEADER, KIND_RECORDS):
            return f"unknown frame kind {kind}"
        return None

    def _frame(self, pos, kind, seq, payload, parts):
        self.frames += 1
        if self.first_seq is None:
            self.first_seq = seq
            if seq:
                self.warn(pos, f"capture starts at frame {seq}: earlier events are missing")
        elif seq != self._expect:
            gap = (seq - self._expect) & 0xFFFFFFFF
            if gap >= 0x80000000:
                self.stop(pos, f"frame sequence went back to {seq} at byte {{at}}: "
                          "another boot; decoding stops there")
                return
            self.missing_frames += gap
            self.warn(pos, f"{gap} frame(s) missing before byte {{at}}")
        self._expect = (seq + 1) & 0xFFFFFFFF
        if kind == KIND_RECORDS:
            parts.append(payload)
        elif self.header is None:
            self.header, self.schema = parse_header(payload)
            self._header_payload = payload
        elif payload != self._header_payload:
            newer, schema = parse_header(payload)
            if newer.tsc0 != self.header.tsc0:
                self.stop(pos, "stream header at byte {at} is from another boot; "
                          "decoding stops there")
                return
            self.header, self.schema, self._header_payload = newer, schema, payload

    def stop(self, pos, message):
        self.warn(pos, message)
        self.stopped = self.warnings[-1]


class Orderer:
    """Merges the CPUs' records by TSC as they arrive (see the module doc).

    add(records, now) queues records that arrived at host time now;
    release(now) returns (records, late): records ready to apply, sorted by
    TSC, and whether some are older than records released before."""

    MAX_HOLD = 0.1          # seconds: the longest wait the hold grows to
    CALM = 1.0              # seconds without a late record before the hold halves

    def __init__(self, ncpu, hold=0.05):
        self.ncpu = max(1, ncpu)
        self.hold = self.base_hold = hold
        self.late = 0                   # releases that held a late record
        self._last_late = None
        self.pending = []               # (arrival of each record, records)
        self.last_tsc = {}              # cpu -> newest TSC received from it
        self.released_tsc = -1          # newest TSC released so far
        self.oldest_released = None     # arrival of the longest-waiting record of the
                                        # last release: the delay it measures from

    def add(self, records, now):
        if len(records):
            self.pending.append((np.full(len(records), now), records))
            for cpu in np.unique(records["cpu"]):
                mine = records["tsc"][records["cpu"] == cpu]
                self.last_tsc[int(cpu)] = max(self.last_tsc.get(int(cpu), 0), int(mine.max()))

    def release(self, now, everything=False):
        if not self.pending:
            return np.zeros(0, dtype=RECORD_DTYPE), False
        arrivals = np.concatenate([a for a, _ in self.pending])
        recs = np.concatenate([r for _, r in self.pending])
        order = np.argsort(recs["tsc"], kind="stable")
        recs, arrivals = recs[order], arrivals[order]
        if everything or arrivals.min() + self.hold <= now:
            cut = len(recs)
        elif len(self.last_tsc) >= self.ncpu:
            cut = int(np.searchsorted(recs["tsc"], min(self.last_tsc.values()), side="right"))
        else:
            cut = 0
        out = recs[:cut]
        self.pending = [(arrivals[cut:], recs[cut:])] if cut < len(recs) else []
        if not len(out):
            return out, False
        self.oldest_released = float(arrivals[:cut].min())
        late = int(out["tsc"][0]) < self.released_tsc
        self.released_tsc = max(self.released_tsc, int(out["tsc"][-1]))
        self._adapt(late, now)
        return out, late

    def _adapt(self, late, now):
        """A late record costs its reader a replay: after one, wait twice as long (up
        to MAX_HOLD); after CALM seconds without one, half as long (down to the base)."""
        if late:
            self.late += 1
            self.hold = min(self.MAX_HOLD, self.hold * 2)
            self._last_late = now
        elif self._last_late is not None and now - self._last_late > self.CALM:
            self.hold = max(self.base_hold, self.hold / 2)
            self._last_late = now if self.hold > self.base_hold else None
