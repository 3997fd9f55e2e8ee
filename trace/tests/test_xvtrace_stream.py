"""xvtrace.stream: the incremental decoder gives what the whole-capture decoder gives."""

import numpy as np
import pytest

from xvtrace.decode import decode
from xvtrace.stream import FrameReader, Orderer
from xvtrace.writer import Capture
from xvtrace_testlib import session


def read_in_pieces(data, size):
    reader = FrameReader()
    parts = [reader.feed(data[i:i + size]) for i in range(0, len(data), size)]
    parts.append(reader.finish())
    return reader, np.concatenate(parts)


def by_time(records):
    return records[np.argsort(records["tsc"], kind="stable")]


@pytest.mark.parametrize("size", [1, 7, 32, 4096, 1 << 20])
def test_any_piece_size_gives_the_whole_decode(clean_capture, size):
    whole = decode(clean_capture)
    reader, records = read_in_pieces(clean_capture, size)
    assert reader.header == whole.header
    assert reader.frames == whole.frames
    assert not reader.warnings and not reader.truncated
    assert np.array_equal(by_time(records), whole.records)


def test_records_before_the_header_wait_for_it(clean_capture):
    reader = FrameReader()
    first_frame_end = 16 + int.from_bytes(clean_capture[6:8], "little")
    assert len(reader.feed(clean_capture[first_frame_end - 1:first_frame_end - 1])) == 0
    assert len(reader.feed(clean_capture[:first_frame_end - 1])) == 0
    assert reader.header is None
    rest = reader.feed(clean_capture[first_frame_end - 1:])
    assert reader.header is not None and len(rest) == len(decode(clean_capture).records)


def test_damaged_frame_is_skipped_with_a_warning(clean_capture):
    data = bytearray(clean_capture)
    second = data.find(b"XVTF", 1)
    data[second + 20] ^= 0xFF                       # a payload byte of the second frame
    whole = decode(bytes(data))
    reader, records = read_in_pieces(bytes(data), 100)
    assert reader.damaged == whole.damaged == 1
    assert any("checksum mismatch" in w for w in reader.warnings)
    assert np.array_equal(by_time(records), whole.records)


def test_stray_bytes_and_a_truncated_tail(clean_capture):
    data = b"noise" + clean_capture + clean_capture[:40]
    reader, records = read_in_pieces(data, 13)
    assert reader.truncated
    assert any("stray" in w for w in reader.warnings)
    assert any("ends inside a frame" in w for w in reader.warnings)
    assert len(records) == len(decode(clean_capture).records)


def test_a_later_boot_stops_the_stream(clean_capture):
    reader, records = read_in_pieces(clean_capture + clean_capture, 500)
    assert reader.stopped and "another boot" in reader.stopped
    assert len(records) == len(decode(clean_capture).records)
    assert len(reader.feed(clean_capture)) == 0


def test_missing_frames_are_counted(clean_capture):
    data = bytearray(clean_capture)
    second = data.find(b"XVTF", 1)
    third = data.find(b"XVTF", second + 1)
    del data[second:third]
    reader, _ = read_in_pieces(bytes(data), 64)
    assert reader.missing_frames == 1
    assert any("missing" in w for w in reader.warnings)


def two_cpu_records(n=64):
    cap = Capture(ncpu=2)
    for i in range(n):
        cap.add(i * 1e-6, "kmalloc", cpu=i % 2, addr=0x80000000 + 64 * i, size=64,
                **{"class": 1}, pid=1)
    return FrameReader().feed(cap.to_bytes(per_frame=8))


def test_orderer_releases_in_time_order_once_every_cpu_passed():
    records = two_cpu_records()
    arrived = records[np.argsort(records["cpu"], kind="stable")]    # all of cpu 0 first
    order = Orderer(ncpu=2, hold=10.0)
    order.add(arrived[:32], now=0.0)
    out, late = order.release(now=0.0)
    assert len(out) == 0 and not late                # cpu 1 has sent nothing yet
    order.add(arrived[32:40], now=0.0)
    out, late = order.release(now=0.0)
    assert not late and len(out) > 0
    assert np.all(np.diff(out["tsc"].astype(np.int64)) >= 0)
    assert out["tsc"][-1] <= arrived[32:40]["tsc"].max()
    order.add(arrived[40:], now=0.0)
    rest, late = order.release(now=0.0, everything=True)
    assert not late
    both = np.concatenate([out, rest])
    assert np.array_equal(both, by_time(records))


def test_orderer_lets_go_after_the_hold_and_flags_late_records():
    records = by_time(two_cpu_records())
    cpu0, cpu1 = records[records["cpu"] == 0], records[records["cpu"] == 1]
    order = Orderer(ncpu=2, hold=0.05)
    order.add(cpu0, now=1.0)
    assert len(order.release(now=1.01)[0]) == 0      # waiting for cpu 1
    out, late = order.release(now=1.06)              # the hold is over
    assert len(out) == len(cpu0) and not late
    order.add(cpu1, now=1.07)
    out, late = order.release(now=1.2)
    assert late and len(out) == len(cpu1)


def test_replayer_grows_and_goes_back_to_a_checkpoint(clean_capture):
    from xvtrace.decode import Trace
    from xvtrace.replay import Replayer
    whole = decode(clean_capture)
    n = len(whole.records)
    empty = Trace(header=whole.header, schema=whole.schema, records=whole.records[:0])
    rp = Replayer(empty)
    rp.feed(0, whole.records[:n // 2], whole.times[:n // 2])
    rp.run_to(n)
    assert rp.state.index == n // 2
    saved = rp.checkpoint()
    rp.feed(n // 2, whole.records[n // 2:], whole.times[n // 2:])
    rp.run_to(n)
    end = rp.state.snapshot()
    rp.restore(saved)
    assert rp.state.index == n // 2
    rp.run_to(n)
    fresh = Replayer(whole).run_to(n)
    for state in (rp.state, end):
        assert sorted(state.processes) == sorted(fresh.processes)
        assert state.memory.pages == fresh.memory.pages
        assert state.problems == fresh.problems
