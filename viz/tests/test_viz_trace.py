"""python3 -m viz.trace (make trace): which processes a command started,
and one real run of labdemo under QEMU (skipped without a built kernel)."""

import shutil
import subprocess
import sys

import pytest
from PIL import Image

from hostlib import qemu
from viz import REPO, trace
from viz.procs import Proc


def table(*rows):
    """Proc rows (pid, parent, born, exited, name)."""
    return {pid: Proc(pid, parent=parent, born=born, exited=exited, names=[name])
            for pid, parent, born, exited, name in rows}


SHELL_RUN = table(
    (1, 0, None, None, "init"), (2, 1, 0.1, None, "sh"),
    (3, 2, 1.0, 1.1, "tracectl"),                            # tracectl lossless on
    (4, 2, 2.0, 2.5, "sh"), (5, 4, 2.1, 3.0, "labdemo"),    # `labdemo &`: 5 is the job
    (6, 2, 2.6, 2.7, "echo"), (7, 2, 2.8, 3.5, "labdemo"), (8, 7, 3.0, 3.2, "labdemo"),
    (9, 2, 4.0, 4.1, "tracectl"), (10, 2, 5.0, 5.1, "tracectl"))    # two flushes


def test_command_roots_are_the_shells_children_between_the_tracectls():
    assert trace.command_roots(SHELL_RUN, flushes=2) == [4, 6, 7]
    assert trace.still_running(SHELL_RUN, [4, 6, 7]) == []


def test_a_background_job_is_waited_for():
    rows = dict(SHELL_RUN)
    rows[5] = Proc(5, parent=4, born=2.1, names=["labdemo"])
    assert trace.still_running(rows, [4, 6, 7]) == [5]


def test_no_tracectl_means_no_trace_hooks():
    with pytest.raises(trace.TraceRunError, match="no `tracectl` process"):
        trace.command_roots(table((1, 0, None, None, "init")), flushes=1)


def test_output_directories_are_never_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(trace, "REPO", tmp_path)
    first = trace.default_out("labdemo x; echo")
    assert first.parent == tmp_path / "out" / "trace" and first.name.startswith("labdemo-")
    first.mkdir(parents=True)
    second = trace.default_out("labdemo")
    assert second != first and second.name.startswith(first.name)


def test_empty_command_is_refused():
    proc = subprocess.run([sys.executable, "-m", "viz.trace", "--", " "], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no command given" in proc.stderr


BUILT = qemu.KERNEL.exists() and qemu.FS_IMAGE.exists() and shutil.which("qemu-system-i386")


@pytest.mark.skipif(not BUILT, reason="needs make's out/kernel, out/fs.img and QEMU")
def test_labdemo_end_to_end(tmp_path):
    """Boot, trace labdemo, and draw it: its fork, partial munmap and exit."""
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-B", "-m", "viz.trace", "--out", str(out),
                           "--no-anim", "--", "labdemo"], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == str(out / "index.html")
    assert "checker: PASS" in proc.stdout
    for name in ("com2.bin", "console.log", "check.txt", "snapshot.png", "memory.png"):
        assert (out / name).exists(), name
    maps = sorted(p.name for p in out.glob("aspace-*.png"))
    assert len(maps) == 2 and all(m.endswith("-labdemo.png") for m in maps), maps
    with Image.open(out / maps[0]) as im:
        assert im.size == (1600, 900)
    from xvtrace import load
    from viz import timeline
    parent, child = (int(m.split("-")[1]) for m in maps)
    tl = timeline.collect(load(out / "com2.bin"))
    events = [m.text for m in tl.procs[child].marks]
    assert events[0] == f"forked by {parent}" and "munmap 2p" in events and events[-1] == "exit"
    assert f"fork → {child}" in [m.text for m in tl.procs[parent].marks]
    assert "the pictures count time after pid" in (out / "index.html").read_text()
