"""Decoding: frames, header, records, damage, and foreign input."""

import ast
import shutil
import struct
import subprocess

import numpy as np
import pytest

from xvtrace_testlib import REPO
from xvtrace.decode import FRAME, MAGIC_BYTES, RECORD_DTYPE, decode
from xvtrace.schema import Schema, TraceError, schema_text_from_header
from xvtrace.writer import Capture, Writer


def frame_offsets(data):
    """Byte offsets of the frames in a well-formed capture."""
    pos, out = 0, []
    while pos < len(data):
        out.append(pos)
        pos += FRAME.size + FRAME.unpack_from(data, pos)[3]
    return out


def test_schema_text_matches_the_kernel_macro():
    cpp = shutil.which("i686-linux-gnu-cpp") or shutil.which("cpp")
    if cpp is None:
        pytest.skip("no C preprocessor")
    src = '#include "traceevents.h"\nTRACE_SCHEMA\n'
    out = subprocess.run([cpp, "-P", "-I", str(REPO / "xv6" / "kernel"), "-"], input=src,
                         capture_output=True, text=True, check=True).stdout
    # The macro expands to adjacent C string literals; Python joins them alike.
    literal = out[out.index('"xvtrace "'):].strip()
    assert ast.literal_eval("(" + literal + ")") == schema_text_from_header()


def test_schema_parses_events_and_enums():
    s = Schema.parse(schema_text_from_header())
    assert s.by_name["page_map"].fields == ("va", "pa", "shared", "pid")
    assert s.value("owner", "region") == 3
    assert s.label("err", s.value("err", "nomem")) == "nomem"
    assert s.label("outcome", 0xFFFFFFFF) == "bad"          # -1 in traceevents.h
    assert "pa" in s.hex_fields
    assert len(s.events) == len(s.by_name) and all(0 < e < 31 for e in s.events)


def test_decode_round_trip(clean_capture):
    trace = decode(clean_capture)
    assert trace.warnings == []
    assert trace.header.ncpu == 2 and trace.header.page_size == 4096
    assert trace.header.kernbase == 0x80000000 and trace.header.tsc_hz == 10**9
    assert trace.records.dtype == RECORD_DTYPE
    assert np.all(np.diff(trace.records["tsc"].astype(np.int64)) >= 0)  # merged by time
    assert set(trace.records["cpu"].tolist()) == {0, 1}
    etype, fields = trace.event(0)
    assert etype.name == "trace_ctl" and fields == {"on": 1, "mask": 0x7FFFFFFF}
    names = [trace.schema.events[int(t)].name for t in trace.records["type"]]
    i = names.index("procname")
    assert trace.event(i)[1] == {"name": "initcode"}
    assert trace.times[i] == pytest.approx(1.2e-3)
    assert "page_alloc  pa=0x500000 owner=pgtable" in trace.format_record(2)


def test_damaged_frame_in_the_middle_is_skipped():
    cap = Capture(ncpu=1)
    for i in range(300):
        cap.add(i * 1e-6, "page_alloc", pa=0x1000 * i)
    data = bytearray(cap.to_bytes(per_frame=50))
    offsets = frame_offsets(data)
    assert len(offsets) == 7          # header + 6 frames of 50
    data[offsets[3] + 40] ^= 0xFF     # one byte of frame 3's payload
    trace = decode(data)
    assert len(trace.records) == 250
    assert trace.damaged == 1 and trace.missing_frames == 1
    assert any("damaged frame" in w and "checksum" in w for w in trace.warnings)
    kept = trace.records["a0"] // 0x1000
    assert set(kept.tolist()) == set(range(300)) - set(range(100, 150))


def test_damaged_length_and_stray_bytes_resynchronise():
    cap = Capture(ncpu=1)
    for i in range(200):
        cap.add(i * 1e-6, "page_free", pa=0x1000 * i)
    data = bytearray(cap.to_bytes(per_frame=50))
    offsets = frame_offsets(data)
    struct.pack_into("<H", data, offsets[2] + 6, 0xFFF0)   # wild length
    data[offsets[4]:offsets[4]] = b"noise\x00XVT"           # junk before a frame
    trace = decode(data)
    assert len(trace.records) == 150
    assert trace.damaged == 1
    assert any("stray bytes" in w for w in trace.warnings)


def test_truncated_tail_keeps_complete_frames(clean_capture):
    offsets = frame_offsets(clean_capture)
    cut = clean_capture[:offsets[-1] + 20]
    trace = decode(cut)
    assert trace.truncated
    assert any("ends inside a frame" in w for w in trace.warnings)
    whole = decode(clean_capture)
    assert 0 < len(trace.records) < len(whole.records)


@pytest.mark.parametrize("data, message", [
    (b"", "empty capture"),
    (b"\x7fELF\x01\x01\x01" + bytes(200), "not an xv6 trace"),
    (bytes(range(256)) * 40, "not an xv6 trace"),
])
def test_foreign_input_is_rejected(data, message):
    with pytest.raises(TraceError, match=message):
        decode(data)


def test_records_without_a_header_cannot_be_decoded():
    w = Writer(ncpu=1)
    data = w.record_frames(0, w.record(5, "page_alloc", fields={"pa": 0x1000}))
    with pytest.raises(TraceError, match="no valid stream header"):
        decode(data)


def test_unsupported_version_is_rejected():
    w = Writer(ncpu=1)
    frame = bytearray(w.header_frame())
    struct.pack_into("<I", frame, FRAME.size, 99)
    w2 = Writer(ncpu=1)
    data = w2.frame(1, 0xFF, bytes(frame[FRAME.size:]))
    with pytest.raises(TraceError, match="version 99"):
        decode(data)


def test_unknown_event_ids_are_skipped():
    w = Writer(ncpu=1)
    recs = w.record(10, "page_alloc", fields={"pa": 0x1000})
    recs += struct.pack("<QHBBI4I", 20, 999, 0, 0, 0, 1, 2, 3, 4)  # id 999: not in schema
    recs += w.record(30, "page_free", fields={"pa": 0x1000})
    trace = decode(w.header_frame() + w.record_frames(0, recs))
    assert trace.unknown == 1
    assert trace.event(1) == (None, {})
    assert "event999" in trace.format_record(1)


def test_missing_frame_is_counted(clean_capture):
    offsets = frame_offsets(clean_capture)
    data = clean_capture[:offsets[1]] + clean_capture[offsets[2]:]
    trace = decode(data)
    assert trace.missing_frames == 1
    assert any("1 frame(s) missing" in w for w in trace.warnings)


def test_capture_that_starts_late_is_flagged():
    cap = Capture(ncpu=1)
    cap.writer.seq = 700          # the kernel repeats its header: we caught a later one
    cap.add(0.001, "page_alloc", pa=0x1000)
    trace = decode(cap.to_bytes())
    assert trace.first_seq == 700
    assert any("starts at frame 700" in w for w in trace.warnings)


def test_a_later_header_of_the_same_boot_wins():
    w = Writer(ncpu=1)
    early = w.header_frame()          # sent before all CPUs were counted
    w.ncpu = 4
    data = early + w.record_frames(0, w.record(5, "page_alloc", fields={"pa": 0x1000}))
    data += w.header_frame()
    trace = decode(data)
    assert trace.header.ncpu == 4 and trace.warnings == []


def test_rate_unknown_uses_ticks():
    cap = Capture(ncpu=1, tsc_hz=0, tsc0=1000)
    cap.add(500, "page_alloc", pa=0x1000)
    trace = decode(cap.to_bytes())
    assert not trace.rate_known and trace.time_unit == "ticks"
    assert trace.times[0] == 500


def test_decodes_a_large_capture_of_full_frames():
    # Speed is for `python3 -m xvtrace bench` (make bench); here only the result counts.
    w = Writer(ncpu=2)
    n = 300_000
    recs = np.zeros(n, dtype=RECORD_DTYPE)
    recs["tsc"] = np.arange(n, dtype=np.uint64) * 10
    recs["type"] = w.schema.by_name["page_alloc"].id
    recs["cpu"] = (np.arange(n) // 16) % 2              # the kernel's full frames
    raw = recs.tobytes()
    data = w.header_frame() + b"".join(
        w.record_frames(int(recs["cpu"][i]), raw[i * 32:(i + 16) * 32]) for i in range(0, n, 16))
    trace = decode(data)
    assert len(trace.records) == n
    assert list(trace.records["cpu"][:32]) == [0] * 16 + [1] * 16


def test_magic_bytes_spell_the_format():
    assert MAGIC_BYTES == b"XVTF"


def test_fault_map_reads_as_alloc_map_and_fault():
    """The kernel records the common fault as one fault_map record; readers see the three
    events it stands for, exactly as if they had been recorded one by one."""
    from xvtrace_testlib import session
    from xvtrace.check import PASS, check
    one = decode(session(skip={"fault"}, extra=[
        (4.5, "fault_map", {"va": 0x7FFFD010, "pa": 0x508000, "errcode": 6, "eip": 0x40,
                            "running": 2})]).to_bytes())
    three = decode(session().to_bytes())
    events = [(one.schema.events[int(r["type"])].name, int(r["pid"]),
               *(int(r[a]) for a in ("a0", "a1", "a2", "a3"))) for r in one.records]
    fault = events.index(("page_alloc", 2, 0x508000, one.schema.value("owner", "region"), 0, 0))
    assert events[fault:fault + 3] == [
        ("page_alloc", 2, 0x508000, one.schema.value("owner", "region"), 0, 0),
        ("page_map", 2, 0x7FFFD000, 0x508000, 0, 2),
        ("fault", 2, 0x7FFFD010, 6, one.schema.value("outcome", "mapped"), 0x40)]
    assert len(one.records) == len(three.records) and one.expanded == 2
    assert check(one).status == PASS


def test_page_new_reads_as_alloc_and_map():
    """A fork's copy of a private page (or MAP_POPULATE's page) is one page_new record; readers
    see its page_alloc, charged to the running process, and the page_map into the child."""
    from xvtrace.writer import Capture
    cap = Capture(ncpu=1)
    cap.add(0.001, "page_new", pid=3, running=2, va=0x7FFFD000, pa=0x508000)
    trace = decode(cap.to_bytes())
    region = trace.schema.value("owner", "region")
    assert [(trace.schema.events[int(r["type"])].name, int(r["pid"]),
             *(int(r[a]) for a in ("a0", "a1", "a2", "a3"))) for r in trace.records] == [
        ("page_alloc", 2, 0x508000, region, 0, 0),
        ("page_map", 2, 0x7FFFD000, 0x508000, 0, 3)]


def test_page_drop_reads_as_unmap_and_free():
    """A region page unmapped with its last reference is one page_drop record; readers see the
    page_unmap and then the page_free."""
    from xvtrace.writer import Capture
    cap = Capture(ncpu=1)
    cap.add(0.001, "page_drop", pid=3, running=3, va=0x7FFFD000, pa=0x508000)
    trace = decode(cap.to_bytes())
    assert [(trace.schema.events[int(r["type"])].name, int(r["pid"]),
             *(int(r[a]) for a in ("a0", "a1", "a2", "a3"))) for r in trace.records] == [
        ("page_unmap", 3, 0x7FFFD000, 0x508000, 3, 0),
        ("page_free", 3, 0x508000, 0, 0, 0)]


def test_whole_capture_fast_path_decodes_as_frame_by_frame(monkeypatch):
    """framescan.py (the frames of an undamaged capture checked at once) gives what the
    frame-by-frame walk gives; anything odd (a flipped bit, a frame gone, stray bytes
    between frames or at the start, a cut end, a second, different header) is left to
    the walk."""
    from xvtrace import decode as decoding, framescan
    from xvtrace_testlib import session
    cap = session(Capture(ncpu=2, tsc_hz=1_000_000_000))
    for k in range(300):        # frames of several lengths, on both CPUs
        cap.add(10e-3 + k * 1e-6, "kmalloc", cpu=k % 2, addr=0x80200000 + 64 * k, size=64,
                pid=2, **{"class": 2})
    data = cap.to_bytes(per_frame=7)
    offsets = frame_offsets(data)
    stray = data[:offsets[5]] + b"\x00\x01" + data[offsets[5]:]
    flipped = bytearray(data)
    flipped[offsets[9] + FRAME.size + 3] ^= 0x10
    variants = {"whole": data, "front": b"junk" + data, "flipped": bytes(flipped),
                "gone": data[:offsets[7]] + data[offsets[8]:], "stray": stray,
                "cut": data[:-5], "header again": data + Writer(ncpu=1).header_frame()}
    for name, variant in variants.items():
        fast = framescan.clean(variant, name)
        assert (fast is not None) == (name in ("whole", "front")), name
        with monkeypatch.context() as m:
            m.setattr(framescan, "clean", lambda *_: None)
            slow = decoding.scan(variant, name)
        if fast is not None:
            assert bytes(fast[0]) == slow[0] and plain(fast[1]) == plain(slow[1]), name
        assert plain(decoding.scan(variant, name)[1]) == plain(slow[1]), name


def plain(found):
    """scan()'s findings, the schema as its event and enumeration tables."""
    schema = found["schema"]
    return dict(found, schema=(schema.events, schema.enums) if schema else None)
