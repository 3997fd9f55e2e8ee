"""xvtrace step (each event, then the address space after it) and xvtrace diff
(two captures, process by process)."""

import io

from xvtrace_testlib import run_cli, session
from xvtrace.decode import decode
from xvtrace.step import Stepper, run_interactive

# sh (pid 2) touches a second page of its region: one more fault than session().
SECOND_PAGE = [(4.55, "page_alloc", {"pa": 0x50E000, "owner": "region", "running": 2}),
               (4.56, "page_map", {"va": 0x7FFFE000, "pa": 0x50E000, "shared": 0, "pid": 2}),
               (4.57, "fault", {"va": 0x7FFFE000, "errcode": 6, "outcome": "mapped",
                                "eip": 0x40, "running": 2}),
               (6.9, "page_unmap", {"va": 0x7FFFE000, "pa": 0x50E000, "pid": 2}),
               (6.95, "page_free", {"pa": 0x50E000, "running": 2})]


def write(tmp_path, name, cap):
    path = tmp_path / name
    path.write_bytes(cap.to_bytes())
    return path


def test_step_prints_each_event_then_the_address_space(tmp_path):
    path = write(tmp_path, "a.bin", session())
    run = run_cli("step", path, "--pid", 2, "--event", "mmap_ret,fault,munmap")
    assert run.returncode == 0, run.stderr
    blocks = run.stdout.split("\n[")
    assert len(blocks) == 3
    assert blocks[0].startswith("[1/3] 0.004010 cpu0 pid 2    mmap_ret    result=0x7fffd000")
    assert "  pid 2 sh (running), parent 1" in blocks[0]
    assert "7fffd000-7ffff000 rw-p region 0/2 private|anonymous" in blocks[0]
    assert "errcode=write|user|not-present" in blocks[1]
    assert "7fffd000-7ffff000 rw-p region 1/2 private|anonymous" in blocks[1]
    assert "7fffe000-7ffff000 rw-p region 0/1 private|anonymous" in blocks[2]
    assert "00001000-00002000 ---p guard 1/1" in blocks[2]


def test_step_errors():
    run = run_cli("step", "/nonexistent.bin")
    assert run.returncode == 2 and "cannot read" in run.stderr


def test_step_interactive_keys():
    trace = decode(session().to_bytes())
    picked = [i for i in range(len(trace.records))][:6]
    stepper = Stepper(trace, picked, None, lambda p: [])
    answers = iter(["", "5", "2", "x", "q"])
    out = io.StringIO()
    run_interactive(stepper, read=lambda prompt: next(answers), out=out)
    shown = [line.split("]")[0] for line in out.getvalue().splitlines() if line.startswith("[")]
    # Enter: next; 5: jump ahead; 2: jump back; x: not understood, same event again; q: quit.
    assert shown == ["[1/6", "[2/6", "[5/6", "[2/6", "[2/6"]
    assert "'x': Enter, a number from 1 to 6, or q" in out.getvalue()


def test_diff_same_and_different(tmp_path):
    a = write(tmp_path, "a.bin", session())
    b = write(tmp_path, "b.bin", session(extra=SECOND_PAGE))
    same = run_cli("diff", a, a)
    assert same.returncode == 0 and same.stdout.splitlines()[-1] == "2 process(es) the same"
    run = run_cli("diff", a, b)
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert "process sh#1 (A pid 2, B pid 2) differs:" in lines
    assert "  event counts: fault 1 vs 2, page_alloc 2 vs 3, page_free 1 vs 2, " \
           "page_map 1 vs 2, page_unmap 1 vs 2" in lines
    assert "  most pages held at once: 5 vs 6" in lines
    assert "  first difference at its event 8: A kmalloc size=64 class=2; " \
           "B page_alloc owner=region" in lines


def test_diff_names_a_process_only_one_capture_has(tmp_path):
    """An extra process is reported by name; the others still match."""
    a = write(tmp_path, "a.bin", session())
    extra = [(0.5, "fork", {"parent": 0, "child": 7}), (0.6, "procname",
                                                         {"pid": 7, "name": "early"})]
    b = write(tmp_path, "b.bin", session(extra=extra))
    run = run_cli("diff", a, b)
    assert run.returncode == 1
    assert "process early#1 only in B (pid 7, 2 events)" in run.stdout
    assert "2 process(es) the same" in run.stdout
