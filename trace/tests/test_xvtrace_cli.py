"""The command line, and what it does with bad input: one line, no traceback."""

import random

import pytest

from xvtrace_testlib import run_cli, session
from xvtrace.check import check
from xvtrace.decode import FRAME, decode
from xvtrace.schema import TraceError


@pytest.fixture
def files(tmp_path):
    clean = session().to_bytes()
    paths = {"clean": clean,
             "leak": session(leak_heap=True).to_bytes(),
             "lost": session(extra=[(5.0, "lost", {"cpu": 1, "count": 2})]).to_bytes(),
             "truncated": clean[:-10],
             "foreign": b"\x7fELF" + bytes(range(256)) * 8,
             "empty": b""}
    damaged = bytearray(clean)
    second = FRAME.size + FRAME.unpack_from(clean, 0)[3]
    damaged[second + FRAME.size + 5] ^= 0x55
    paths["damaged"] = bytes(damaged)
    out = {}
    for name, data in paths.items():
        out[name] = tmp_path / f"{name}.bin"
        out[name].write_bytes(data)
    return out


def assert_clean_failure(run, code, text):
    assert run.returncode == code, run.stderr
    assert "Traceback" not in run.stderr
    errors = [l for l in run.stderr.splitlines() if "error" in l]
    assert len(errors) == 1 and text in errors[0], run.stderr


def test_list_prints_every_record(files):
    run = run_cli("list", files["clean"])
    assert run.returncode == 0 and run.stderr == ""
    lines = run.stdout.splitlines()
    assert len(lines) == 42
    assert "procname    name='sh'" in lines[21]


def test_list_filters(files):
    run = run_cli("list", files["clean"], "--pid", 2, "--event", "page_map,FORK",
                  "--from", "3.2ms", "--to", "0.005")
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    assert len(lines) == 2 and "child=2" in lines[0] and "pid=2" in lines[1]


def test_list_unknown_event_is_an_error(files):
    assert_clean_failure(run_cli("list", files["clean"], "--event", "nosuch"), 2,
                         "unknown event 'nosuch'")


def test_bad_time_is_an_error(files):
    assert_clean_failure(run_cli("list", files["clean"], "--from", "soon"), 2, "bad time")


def test_unknown_pid_is_an_error(files):
    assert_clean_failure(run_cli("list", files["clean"], "--pid", 77), 2,
                         "no process 77 in this trace; its pids: 1, 2")
    assert_clean_failure(run_cli("replay", files["clean"], "--pid", 9), 2, "no process 9")


def test_time_outside_the_trace_is_an_error(files):
    assert_clean_failure(run_cli("replay", files["clean"], "--at", "99"), 2,
                         "is outside the trace, which runs from 0.000000 to 0.009500 s")


def test_damaged_input_warns_and_exits_3(files):
    run = run_cli("list", files["damaged"])
    assert run.returncode == 3 and "Traceback" not in run.stderr
    assert "damaged frame at byte" in run.stderr
    assert len(run.stdout.splitlines()) > 0


def test_truncated_input_warns_and_exits_3(files):
    run = run_cli("list", files["truncated"])
    assert run.returncode == 3 and "Traceback" not in run.stderr
    [warning] = run.stderr.splitlines()
    assert "capture ends inside a frame" in warning


@pytest.mark.parametrize("command", ["list", "check", "info", "replay"])
def test_foreign_input_is_one_line_and_exit_2(files, command):
    assert_clean_failure(run_cli(command, files["foreign"]), 2, "not an xv6 trace")


def test_empty_and_missing_files(files, tmp_path):
    assert_clean_failure(run_cli("list", files["empty"]), 2, "empty capture")
    assert_clean_failure(run_cli("check", tmp_path / "nope.bin"), 2, "cannot read")


def test_default_capture_path(tmp_path):
    assert_clean_failure(run_cli("list", cwd=tmp_path), 2, "out/com2.bin")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "com2.bin").write_bytes(session().to_bytes())
    assert run_cli("check", cwd=tmp_path).returncode == 0


def test_check_exit_codes(files):
    run = run_cli("check", files["clean"])
    assert run.returncode == 0 and "verdict: PASS" in run.stdout
    run = run_cli("check", files["leak"])
    assert run.returncode == 1 and "problem leak-user" in run.stdout
    run = run_cli("check", files["lost"])
    assert run.returncode == 3 and "verdict: INCONCLUSIVE" in run.stdout
    run = run_cli("check", files["truncated"])
    assert run.returncode != 0 and "Traceback" not in run.stderr


def test_replay_and_info(files):
    run = run_cli("replay", files["clean"], "--at", "4.6ms", "--pid", 2)
    assert run.returncode == 0
    # sh's address space as pmap prints it (xv6/user/pmap.c), a region's MAP_ flags after it.
    assert run.stdout.splitlines()[3:] == [
        "  00000000-00001000 rwxp text 1/1",
        "  00001000-00002000 ---p guard 1/1",
        "  00002000-00003000 rw-p stack 1/1",
        "  00003000-00003000 rw-p heap 0/0",
        "  7fffd000-7ffff000 rw-p region 1/2 private|anonymous"]
    run = run_cli("info", files["clean"])
    assert run.returncode == 0 and "2 CPU(s)" in run.stdout and "page_alloc   14" in run.stdout


def test_export(files, tmp_path):
    run = run_cli("export", files["clean"], "--perfetto", tmp_path / "t.json",
                  "--ctf", tmp_path / "ctf")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "t.json").stat().st_size > 0 and (tmp_path / "ctf" / "metadata").exists()
    assert_clean_failure(run_cli("export", files["clean"]), 2, "--perfetto")


def test_mangled_captures_never_crash():
    """Random damage anywhere: decoding either works (with warnings) or
    raises TraceError, and checking what decodes never raises."""
    clean = session().to_bytes()
    rng = random.Random(7)
    for _ in range(300):
        data = bytearray(clean)
        for _ in range(rng.randint(1, 6)):
            what = rng.random()
            pos = rng.randrange(len(data))
            if what < 0.6:
                data[pos] = rng.randrange(256)
            elif what < 0.8:
                del data[pos:pos + rng.randint(1, 40)]
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        data = data[:rng.randint(0, len(data))] if rng.random() < 0.3 else data
        try:
            trace = decode(bytes(data))
        except TraceError:
            continue
        check(trace)


def test_nonsense_events_never_crash(tmp_path):
    """Well-framed records with arbitrary values: every consumer copes."""
    from xvtrace import ctf, perfetto
    from xvtrace.writer import Capture
    rng = random.Random(11)
    cap = Capture(ncpu=3)
    names = sorted(cap.schema.by_name)
    small = [0, 1, 2, 3, 0x1000, 0x7FFFF000, 0xFFFFFFFF]
    for i in range(3000):
        etype = cap.schema.by_name[rng.choice(names)]
        fields = {f: rng.choice(small) if rng.random() < 0.7 else rng.randrange(1 << 32)
                  for f in etype.fields if f not in cap.schema.text_fields}
        fields.pop("cpu", None)
        pid = fields.pop("pid", rng.randrange(4))
        cap.add(i * 1e-6, etype.name, cpu=rng.randrange(3), pid=pid,
                running=rng.randrange(4), **fields)
    trace = decode(cap.to_bytes())
    check(trace)
    perfetto.export(trace, tmp_path / "t.json")
    ctf.export(trace, tmp_path / "ctf")


def test_empty_selection_and_window_outside_are_errors(files):
    assert_clean_failure(run_cli("list", files["clean"], "--pid", 2, "--event", "exec"), 2,
                         "no record matches --pid 2 --event exec (the trace has 42 records)")
    assert_clean_failure(run_cli("list", files["clean"], "--from", "5"), 2,
                         "--from 5.000000 is outside the trace")
    assert_clean_failure(run_cli("list", files["clean"], "--to", "-1"), 2,
                         "--to -1.000000 is outside the trace")
