"""The pictures show what the replay says: regions and their extents,
resident pages, labels present and not overlapping."""

import numpy as np
import pytest

from viz import aspace, physmem, snapshot
from vizlib import boxes_overlap, rects_of, replayed_shapes
from xvtrace.replay import state_at


@pytest.fixture(scope="module")
def parent_map(story_timeline, story):
    _, ids = story
    fig, info = aspace.figure(story_timeline, story_timeline.procs[ids["demo"]])
    fig.canvas.draw()
    return fig, info


def test_map_bands_are_the_replayed_regions(parent_map, story_trace, story):
    fig, info = parent_map
    _, ids = story
    ax = fig.axes[0]
    want = replayed_shapes(story_trace, ids["demo"])
    drawn = []
    for kind in ("private", "shared"):
        drawn += [(kind, int(y0), int(y1), x0, x1) for x0, x1, y0, y1 in
                  rects_of(ax, f"band:{kind}")]
    assert sorted((k, s, e) for k, s, e, _, _ in drawn) == sorted((k, s, e) for k, s, e, *_ in want)
    for (k, s, e, x0, x1), (wk, ws, we, wp, wt0, wt1) in zip(sorted(drawn), sorted(want)):
        assert (x0, x1) == pytest.approx((wt0, wt1), abs=1e-9)
    # The mprotect'd part is hatched read-only, nothing else is.
    hatched = rects_of(ax, "hatch:ro")
    assert [(int(y0), int(y1)) for _, _, y0, y1 in hatched] == \
        [(s, e) for k, s, e, prot, *_ in want if prot == 1]


def test_resident_pages_are_drawn_where_and_when_mapped(parent_map, story_trace,
                                                        story_timeline, story):
    fig, info = parent_map
    _, ids = story
    ax = fig.axes[0]
    rects = rects_of(ax, "resident:private") + rects_of(ax, "resident:shared")
    tl = story_timeline
    life = tl.procs[ids["demo"]]
    for t in np.linspace(life.born, life.exited, 40)[1:-1]:
        st = state_at(story_trace, t)
        mapped = set(st.processes[ids["demo"]].mapped)
        covered = {va for va in range(0x7FF00000, 0x7FFFF000, 4096)
                   if any(x0 <= t < x1 and y0 <= va < y1 for x0, x1, y0, y1 in rects)}
        assert covered == mapped, t


def test_map_axis_keeps_low_and_high_addresses(parent_map):
    fig, info = parent_map
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    assert lo == 0 and hi == 0x7FFFF000
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "0x00000000" in ticks and "0x7FFFF000" in ticks
    assert len(info["axis"].breaks) == 1


def test_map_labels_present_and_apart(parent_map, story):
    fig, info = parent_map
    _, ids = story
    texts = [t.get_text() for t in info["labels"]]
    for want in ("exec demo", "mmap 8p private", "mmap 4p shared", f"fork → {ids['child']}",
                 "mprotect r--", "munmap 2p", "exit"):
        assert want in texts
    assert info["dropped"] == 0
    renderer = fig.canvas.get_renderer()
    assert boxes_overlap(info["labels"], renderer) == []
    assert boxes_overlap(info["band_labels"], renderer) == []
    title = fig.texts[0].get_text()
    assert "demo" in title and f"pid {ids['demo']}" in title
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    for want in ("private region", "shared region", "read-only", "mmap", "munmap", "mprotect"):
        assert want in legend


def test_snapshot_bars_are_the_state(story_timeline, story_trace):
    tl = story_timeline
    t = tl.busiest_time()
    fig, info = snapshot.figure(tl, t)
    fig.canvas.draw()
    st = state_at(story_trace, t)
    drawn = {}
    for pid, area in info["areas"]:
        if area.kind in ("private", "shared"):
            drawn.setdefault(pid, []).append((area.start, area.end, area.prot))
    for pid, proc in st.processes.items():
        if proc.regions:
            assert sorted(drawn[pid]) == sorted((r.start, r.end, r.prot) for r in proc.regions)
    resident = {}
    for pid, start, end in info["resident"]:
        resident.setdefault(pid, set()).update(range(start, end, 4096))
    for pid, proc in st.processes.items():
        assert resident.get(pid, set()) == set(proc.mapped)
    texts = [x.get_text() for x in info["labels"]]
    assert "private r-- 4/4" in texts and "shared rw- 2/4" in texts
    assert boxes_overlap(info["labels"], fig.canvas.get_renderer()) == []
    names = [x.get_text() for x in fig.axes[0].get_xticklabels()]
    assert any("demo" in n for n in names)


def test_memory_chart_stacks_to_the_total(story_timeline):
    fig, info = physmem.figure(story_timeline)
    total = sum(info["series"].values()) + info["free"] + info["fixed"]
    assert np.all(total == story_timeline.memory.total)
    assert info["fixed"].max() > 0      # the kernel's own page tables: said, not stacked
    assert "kernel's own page tables" not in info["series"]
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    for want in ("free", "processes' page tables", "kernel stacks", "shared regions"):
        assert want in labels
    assert any(label.startswith("demo (pid") for label in labels)
