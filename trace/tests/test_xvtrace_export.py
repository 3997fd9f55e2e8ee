"""Exporters: Chrome/Perfetto JSON and CTF 1.8 (read back with babeltrace2)."""

import json
import shutil
import subprocess

import pytest

from xvtrace_testlib import session
from xvtrace import ctf, perfetto
from xvtrace.decode import decode


@pytest.fixture
def trace():
    extra = [(5.0, "lost", {"cpu": 1, "count": 7}),
             (5.2, "syserr", {"sysno": 24, "err": "nomem", "value": 0x100000, "running": 2})]
    return decode(session(extra=extra).to_bytes())


def test_perfetto_json(tmp_path, trace):
    out = tmp_path / "trace.json"
    perfetto.export(trace, out)
    doc = json.loads(out.read_text())
    events = doc["traceEvents"]
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    assert {"kernel", "init (pid 1)", "sh (pid 2)"} <= names
    begins = {e["id"] for e in events if e["ph"] == "b" and e["cat"] == "region"}
    ends = {e["id"] for e in events if e["ph"] == "e" and e["cat"] == "region"}
    assert begins == ends and len(begins) == 2             # the mmap, then its remainder
    [fault] = [e for e in events if e["ph"] == "i" and e["cat"] == "fault"]
    assert fault["name"] == "fault mapped" and fault["pid"] == 2 and fault["ts"] == 4520.0
    assert any(e["ph"] == "i" and e["name"] == "LOST 7 events" for e in events)
    assert any(e["ph"] == "i" and e["name"] == "error nomem" for e in events)
    counters = [e for e in events if e["ph"] == "C" and e["name"] == "physical pages"]
    assert counters[-1]["args"]["free"] == 1024 - 6
    pages = [e for e in events if e["ph"] == "C" and e["name"] == "pages" and e["pid"] == 2]
    assert pages[-1]["args"] == {"user": 4, "region": 0}
    slices = {e["name"] for e in events if e["ph"] == "X"}
    assert {"initcode", "init", "sh", "zombie"} <= slices
    assert doc["otherData"]["lost_events"] == 7


def test_ctf_metadata_describes_every_event(trace):
    text = ctf.metadata(trace)
    assert text.startswith("/* CTF 1.8 */")
    for etype in trace.schema.events.values():
        assert f'name = "{etype.name}";' in text
    assert "enum owner_t : uint32_t" in text and "string name;" in text
    assert "freq = 1000000000;" in text


@pytest.mark.skipif(shutil.which("babeltrace2") is None, reason="babeltrace2 not installed")
def test_babeltrace2_reads_the_ctf_export(tmp_path, trace):
    ctf.export(trace, tmp_path / "ctf")
    assert sorted(p.name for p in (tmp_path / "ctf").iterdir()) == \
        ["metadata", "stream_0", "stream_1"]
    run = subprocess.run(["babeltrace2", str(tmp_path / "ctf")], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == len(trace.records)
    out = run.stdout
    assert 'page_alloc: { cpu_id = 0 }, { pid = 2 }, ' \
           '{ pa = 0x508000, owner = ( "region" : container = 3 ) }' in out
    assert "page_map: { cpu_id = 0 }, { pid = 2 }, " \
           "{ va = 0x7FFFD000, pa = 0x508000, shared = 0, pid = 2 }" in out
    assert 'procname: { cpu_id = 0 }, { pid = 2 }, { name = "sh" }' in out
    assert 'errcode = ( "write|user|not-present" : container = 6 ), ' \
           'outcome = ( "mapped" : container = 0 )' in out
    assert "mmap_ret: { cpu_id = 0 }, { pid = 2 }, { result = 0x7FFFD000 }" in out
    assert "[00:00:00.004520000]" in out                  # TSC rate applied
    assert "discarded 7 events" in run.stderr             # LOST became discarded events
