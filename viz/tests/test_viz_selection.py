"""Choosing processes (--pid, --tree), the window that fits them, the
animation's frame per event, and nothing drawn before its cause."""

import re

import pytest
from PIL import Image

from viz import animate, aspace, procs, render, timeline
from vizlib import rects_of, run_viz


@pytest.fixture(scope="module")
def table(story_trace):
    return procs.read(story_trace)


def test_process_table(table, story):
    _, ids = story
    demo, child = table[ids["demo"]], table[ids["child"]]
    assert child.parent == ids["demo"] and demo.parent == ids["sh"]
    assert demo.name == child.name == "demo"
    assert demo.born < child.born < child.exited < demo.exited


def test_tree_is_the_process_and_its_descendants(table, story):
    _, ids = story
    assert procs.select(table, trees=[ids["demo"]]) == sorted([ids["demo"], ids["child"]])
    assert procs.select(table, pids=[ids["child"]], trees=[ids["demo"]]) == \
        sorted([ids["demo"], ids["child"]])
    everyone = procs.select(table, trees=[ids["init"]])
    assert set(everyone) == set(table)


def test_unknown_pid_names_what_there_is(table):
    with pytest.raises(procs.SelectionError, match=r"no process with pids 77, 78 in this "
                                                   r"trace \(pid:name there: 1:init"):
        procs.select(table, pids=[77], trees=[78])


def test_window_is_the_lifetimes_with_a_margin(table, story, story_trace):
    _, ids = story
    pids = [ids["demo"], ids["child"]]
    first, last = float(story_trace.times[0]), float(story_trace.times[-1])
    start, end = procs.window(table, pids, first, last)
    born, died = table[ids["demo"]].execed, table[ids["demo"]].exited    # demo's own program
    assert table[ids["demo"]].born < born
    pad = (died - born) * procs.MARGIN
    assert start == pytest.approx(born - pad) and end == pytest.approx(min(last, died + pad))
    assert first < start < born and died < end <= last


def test_choose_window_counts_time_from_the_first_selected(story_trace, story, table):
    _, ids = story
    opts = render.Options(pids=[ids["child"], ids["demo"]])
    selected, start, end, origin, since = render.choose_window(story_trace, opts)
    assert selected == sorted([ids["demo"], ids["child"]])
    assert origin == table[ids["demo"]].execed
    assert since == f"after pid {ids['demo']} became demo"
    # A process that never exec'd counts from its fork.
    _, _, _, origin, since = render.choose_window(story_trace, render.Options(pids=[ids["child"]]))
    assert origin == table[ids["child"]].born and since == f"after pid {ids['child']} started"
    # An explicit window wins, and time counts from its start.
    opts = render.Options(pids=[ids["demo"]], start="0.3", end="0.5")
    _, start, end, origin, since = render.choose_window(story_trace, opts)
    assert (start, end, origin) == (0.3, 0.5, 0.3)
    assert since.startswith("after 0.3")


@pytest.mark.parametrize("args, pattern", [
    (["--at", "99"], r"--at 99 is outside the trace \(0\.000 s to 0\.702 s\)"),
    (["--to", "99"], r"--to 99 is outside the trace"),
    (["--pid", "77"], r"no process with pid 77 in this trace \(pid:name there: .*demo"),
    (["--tree", "77"], r"no process with pid 77"),
    (["--pid", "{demo}", "--at", "0.01"], r"--at 0.01 is outside the window drawn"),
    (["--pid", "{child}", "--from", "0.02", "--to", "0.03"], r"nothing to draw: pid \d+ has no"),
    (["--pid", "four"], r"bad pid list 'four'"),
])
def test_errors_are_one_line_and_exit_2(story_file, tmp_path, story, args, pattern):
    _, ids = story
    proc = run_viz(story_file, "-o", tmp_path, "--no-anim", *[a.format(**ids) for a in args])
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(pattern, proc.stderr), proc.stderr
    if not args[0].startswith("--pid") or args[1] != "four":   # argparse adds its usage
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_several_pids_both_ways(story_file, tmp_path, story):
    _, ids = story
    wanted = sorted([f"aspace-{ids['demo']}-demo.png", f"aspace-{ids['child']}-demo.png"])
    for n, args in enumerate((["--pid", ids["demo"], "--pid", ids["child"]],
                              ["--pid", f"{ids['demo']},{ids['child']}"],
                              ["--tree", ids["demo"]])):
        out = tmp_path / str(n)
        proc = run_viz(story_file, "-o", out, "--no-anim", *args)
        assert proc.returncode == 0, proc.stderr
        assert sorted(p.name for p in out.glob("aspace-*")) == wanted, args
        page = (out / "index.html").read_text()
        assert f"the pictures count time after pid {ids['demo']} became demo" in page


def test_window_applies_to_every_picture(story_trace, story, tmp_path):
    _, ids = story
    result = render.render(story_trace, tmp_path, render.Options(trees=[ids["child"]],
                                                                 anim=False))
    tl = result.timeline
    child = tl.procs[ids["child"]]
    assert tl.start < child.born and tl.end > child.exited
    lived = child.exited - child.born
    assert tl.end - tl.start == pytest.approx(lived * (1 + 2 * procs.MARGIN))
    assert tl.memory.times[0] == tl.start and tl.memory.times[-1] == tl.end
    fig, info = aspace.figure(tl, child, whole_window=True)
    assert info["xlim"] == (tl.start, tl.end)
    assert fig.axes[0].get_xlabel() == f"time (ms after pid {ids['child']} started)"


def test_memory_chart_names_the_focus_and_the_others(story_trace, story):
    _, ids = story
    tl = timeline.collect(story_trace, focus=[ids["child"]], samples=50)
    labels = list(tl.memory.procs)
    assert labels[0] == f"demo (pid {ids['child']})" or f"demo (pid {ids['child']})" in labels
    tl = timeline.collect(story_trace, samples=50)
    assert timeline.other_label(["sh", "init"]) == "other processes (sh, init)"
    assert timeline.other_label([]) == "other processes"
    assert timeline.other_label(["cowtest", "echo", "init", "mmaptest", "sh"]) == \
        "other processes\n(cowtest, echo, init, +2)"
    assert timeline.other_label(["averyveryverylongprocessname"]) == \
        "other processes (averyveryverylongprocessname)"


def test_a_frame_per_event_however_close(story_timeline, story):
    _, ids = story
    pids = [ids["demo"], ids["child"]]
    marks = sorted((m for p in pids for m in story_timeline.procs[p].marks),
                   key=lambda m: m.t)
    gaps = [b.t - a.t for a, b in zip(marks, marks[1:])]
    assert min(gaps) < 0.071             # events closer than the old merging distance
    frames = animate.event_frames(story_timeline, pids)
    assert len(frames) == len(marks) + 2
    assert [t for t, _ in frames[1:-1]] == [m.t for m in marks]
    for (t, caption), m in zip(frames[1:-1], marks):
        assert caption.endswith(f"(pid {m.pid}) {m.text}") and caption.startswith("after ")


def test_animation_of_a_selection_has_every_event(story_file, tmp_path, story):
    _, ids = story
    proc = run_viz(story_file, "-o", tmp_path, "--tree", ids["demo"])
    assert proc.returncode == 0, proc.stderr
    with Image.open(tmp_path / "animation.gif") as im:
        frames = im.n_frames
    from xvtrace import load
    tl = timeline.collect(load(tmp_path.parent / story_file.parent.name / story_file.name))
    marks = sum(len(tl.procs[p].marks) for p in (ids["demo"], ids["child"]))
    assert frames == marks + 2


def test_nothing_starts_before_the_fork(story_timeline, story):
    _, ids = story
    child = story_timeline.procs[ids["child"]]
    parent = story_timeline.procs[ids["demo"]]
    fork = child.born
    assert any(m.event == "fork" and m.t == fork for m in parent.marks)
    assert child.resident and child.cow
    assert all(s.t0 >= fork for s in child.spans)
    assert all(r[1] >= fork for r in child.resident)
    assert all(c[1] >= fork for c in child.cow)
    assert all(c[1] >= fork for c in parent.cow)   # the parent's pages turn COW at the fork
    fig, info = aspace.figure(story_timeline, child)
    assert all(x0 >= fork for x0, _, _, _ in rects_of(fig.axes[0], "resident:private"))
    assert all(x0 >= fork for x0, _, _, _ in rects_of(fig.axes[0], "copy-on-write"))


def test_pages_go_with_the_call_that_removed_them(story_timeline):
    """A page leaves at the time of the munmap, exit or exec that unmapped
    it (the kernel unmaps a moment before recording the call), or when a
    copy-on-write fault replaced it."""
    for life in story_timeline.procs.values():
        calls = {m.t for m in life.marks if m.event in ("munmap", "exit", "exec")}
        maps = {r[1] for r in life.resident}
        for va, t0, t1, _ in life.resident:
            assert t1 in calls or t1 in maps or t1 == story_timeline.end, (life.pid, hex(va))


def test_the_checker_in_a_forked_process_says_what_it_says_here(story_trace):
    from xvtrace import check
    here = check.check(story_trace)
    forked = render.BackgroundCheck(story_trace, threshold=0)
    assert forked.proc is not None
    there = forked.result()
    assert there.verdict == here.verdict and there.notes == here.notes
    assert [p.message for p in there.problems] == [p.message for p in here.problems]
    assert render.BackgroundCheck(story_trace).proc is None     # small: no fork


def test_memory_of_the_focus_steps_at_its_calls(story_trace, story):
    """The fork's copy-on-write pages and page tables appear at the fork
    line, not while fork runs (the kernel records the fork when done)."""
    _, ids = story
    child = procs.read(story_trace)[ids["child"]]
    fork = child.born
    first = float(story_trace.times[0])

    def cow_before_fork(focus):
        tl = timeline.collect(story_trace, samples=40000, focus=focus)
        cow = tl.memory.series["shared copy-on-write"]
        during = (tl.memory.times < fork) & (tl.memory.times > fork - 0.001)
        return cow[during].max(), cow[tl.memory.times >= fork][0]

    unfocused, _ = cow_before_fork(None)
    assert unfocused > 0 and first < fork        # drawn as it happens: before the fork line
    focused, after = cow_before_fork([ids["demo"], ids["child"]])
    assert focused == 0 and after > 0
