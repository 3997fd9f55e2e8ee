"""The live view's state: a growing capture, replayed, and what the page asks of it.

A Model takes bytes as they arrive (feed, from xvtrace.stream's FrameReader
and Orderer) or a whole decoded trace (load), applies the records to a
replay head (xvtrace.replay.Replayer) and keeps a checkpoint of the replay
every `every` records, so that the state at any earlier moment is a restore
and a short replay away (state_at). The JSON the server sends is built from
those states in views.py; this module keeps no page logic.

All methods take the model's lock; `changed` is notified after every change,
for the server's event stream.
"""

import threading
import time

import numpy as np

from xvtrace.decode import RECORD_DTYPE, Header, Trace
from xvtrace.replay import Replayer
from xvtrace.schema import TraceError
from xvtrace.stream import FrameReader, Orderer

EVERY = 4096                # records between checkpoints, to start with
LIVE_EVERY = 2048           # live: closer, so that putting a late record in place is cheaper
HOLD = 0.01                 # seconds a record may wait for another CPU (xvtrace.stream.Orderer)
MAX_CHECKPOINTS = 512       # past that, keep every other one and double EVERY
APPLY_CHUNK = 20000         # records applied under the lock at a time
CHECKPOINT_SHARE = 10       # replaying between checkpoints takes >= 10 times a copy
MAX_EVERY = 1 << 14       # a scrub replays at most this many records (about 0.1 s)


class Model:
    def __init__(self, source="", live=False, hold=HOLD, every=None):
        self.source = source
        self.live = live
        self.hold = hold
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.reader = FrameReader()
        self.orderer = None
        self.trace = None           # header and schema; records stay empty
        self.head = None            # Replayer following the newest record
        self._rbuf = np.zeros(0, dtype=RECORD_DTYPE)     # applied records, in order: the
        self._tbuf = np.zeros(0)                          # first _n of these, and their times
        self._n = 0
        self.arrivals = []          # (records applied, host time the longest-waiting
                                    # record of that update had arrived)
        self.checkpoints = []       # (index, Replayer.checkpoint())
        self.every = every or (LIVE_EVERY if live else EVERY)
        self._replay_time = 0.0     # replaying since the last checkpoint, seconds
        self.mem_ranges = []        # (first pa, end pa) from mem_range
        self.version = 0
        self.status = "waiting"     # waiting, live, ended, error
        self.error = None
        self._scratch = None

    # ---- input ---------------------------------------------------------

    def feed(self, data, arrived=None):
        """Bytes of the capture as they arrive (arrived: host time.time())."""
        arrived = time.time() if arrived is None else arrived
        with self.lock:
            if self.status == "error":
                return
            try:
                records = self.reader.feed(data)
            except TraceError as e:
                return self.fail(str(e))
            self._take(records, arrived)
            if self.reader.stopped:
                self.fail(self.reader.stopped)

    def tick(self, now=None):
        """Release records held back for ordering whose wait is over."""
        with self.lock:
            if self.orderer is not None:
                self._release(time.time() if now is None else now)

    def end(self):
        """The capture is complete."""
        with self.lock:
            if self.status == "error":
                return
            try:
                records = self.reader.finish()
            except TraceError as e:
                return self.fail(str(e))
            self._take(records, time.time())
            if self.orderer is not None:
                self._release(0, everything=True)
            if self.trace is None:
                return self.fail(f"{self.source or 'capture'}: no valid stream header "
                                 f"in {self.reader.frames} frame(s); nothing to show")
            self.status = "ended"
            self._notify()

    def fail(self, message):
        """Stop taking input; the views keep the last good state."""
        self.status, self.error = "error", message
        self._notify()

    def load(self, trace):
        """A whole decoded capture (sorted already)."""
        with self.lock:
            self._start(trace.header, trace.schema)
        n = len(trace.records)
        for i in range(0, n, APPLY_CHUNK):
            with self.lock:
                self._apply(trace.records[i:i + APPLY_CHUNK], False)
        with self.lock:
            self.reader.warnings[:0] = trace.warnings
            self.status = "ended"
            self._notify()

    def _take(self, records, arrived):
        if self.trace is None and self.reader.header is not None:
            self._start(self.reader.header, self.reader.schema)
        if self.orderer is None:
            return
        self.orderer.add(records, arrived)
        self._release(arrived)

    def _release(self, now, everything=False):
        records, late = self.orderer.release(now, everything)
        self._apply(records, late, self.orderer.oldest_released if len(records) else None)

    def _start(self, header, schema):
        self.trace = Trace(header=header, schema=schema,
                           records=np.zeros(0, dtype=RECORD_DTYPE), source=self.source)
        self.orderer = Orderer(header.ncpu, self.hold)
        self.head = Replayer(self.trace)
        self.checkpoints = [(0, self.head.checkpoint())]
        self.status = "live" if self.live else "loading"

    # ---- applying ------------------------------------------------------

    def times_of(self, records):
        h = self.trace.header
        t = records["tsc"].astype(np.int64) - np.int64(h.tsc0)
        t = t.astype(np.float64)
        return t / h.tsc_hz if h.tsc_hz else t

    def _apply(self, records, late, arrived=None):
        if not len(records):
            return
        at = self._n
        if late:
            at = int(np.searchsorted(self.records["tsc"], records["tsc"][0], side="right"))
            merged = np.concatenate([self.records[at:], records])
            records = merged[np.argsort(merged["tsc"], kind="stable")]
            self._rewind(at)
        self._store(at, records)
        self.head.feed(at, records, self._tbuf[at:self._n])
        self._scratch = None if late else self._scratch
        self._note_ranges(records)
        self._run_head()
        if arrived is not None:
            self.arrivals.append((self._n, arrived))
            del self.arrivals[:-4096]
        self._notify()

    def _store(self, at, records):
        """Records from index at on are records; the arrays grow by doubling, so that
        a long live run does not copy everything at every update."""
        need = at + len(records)
        if need > len(self._rbuf):
            cap = max(need, 2 * len(self._rbuf), 4096)
            rbuf, tbuf = np.zeros(cap, dtype=RECORD_DTYPE), np.zeros(cap)
            rbuf[:at], tbuf[:at] = self._rbuf[:at], self._tbuf[:at]
            self._rbuf, self._tbuf = rbuf, tbuf
        self._rbuf[at:need] = records
        self._tbuf[at:need] = self.times_of(records)
        self._n = need

    def _rewind(self, index):
        """Go back to the newest checkpoint at or before index."""
        while self.checkpoints[-1][0] > index:
            self.checkpoints.pop()
        self.head.restore(self.checkpoints[-1][1])

    def _run_head(self):
        n = self._n
        while self.head.state.index < n:
            mark = (self.head.state.index // self.every + 1) * self.every
            began = time.perf_counter()
            self.head.run_to(min(mark, n))
            self._replay_time += time.perf_counter() - began
            if self.head.state.index == mark:
                self._checkpoint(mark)

    def _checkpoint(self, mark):
        """Keep a checkpoint at mark. A large state is dear to copy: while copies
        cost more than a tenth of the replaying between them, space them wider."""
        began = time.perf_counter()
        self.checkpoints.append((mark, self.head.checkpoint()))
        took = time.perf_counter() - began
        if took * CHECKPOINT_SHARE > self._replay_time and self.every < MAX_EVERY:
            self.every *= 2
        self._replay_time = 0.0
        self._thin()

    def _thin(self):
        if len(self.checkpoints) > MAX_CHECKPOINTS:
            self.every *= 2
            self.checkpoints = [c for c in self.checkpoints if c[0] % self.every == 0]

    def _note_ranges(self, records):
        rng = self.trace.schema.by_name.get("mem_range")
        if rng is None:
            return
        for r in records[records["type"] == rng.id]:
            self.mem_ranges.append((int(r["a0"]), int(r["a1"])))

    def _notify(self):
        self.version += 1
        self.changed.notify_all()

    # ---- reading -------------------------------------------------------

    @property
    def count(self):
        return self._n

    @property
    def records(self):
        return self._rbuf[:self._n]

    @property
    def times(self):
        return self._tbuf[:self._n]

    def index_at(self, t):
        """Records with time <= t."""
        return int(np.searchsorted(self.times, t, side="right"))

    def state_at(self, index):
        """The replayed state with the first index records applied. The
        head's own state when index is the newest: callers only read it."""
        index = max(0, min(index, self.count))
        if self.head is None:
            return None
        if index == self.head.state.index:
            return self.head.state
        rp = self._scratch
        if rp is None or not (rp.state.index <= index < rp.state.index + self.every):
            rp = self._scratch = Replayer(self.trace)
            at, cp = next(c for c in reversed(self.checkpoints) if c[0] <= index)
            rp.restore(cp)
        rp.share_rows(self.head)        # the head's rows, as many as it has now
        return rp.run_to(index)

    def warnings(self):
        return list(self.reader.warnings)

    def last_arrival(self):
        """Host time at which the longest-waiting record of the newest update
        had arrived (the start of its latency), or None."""
        return self.arrivals[-1][1] if self.arrivals else None
