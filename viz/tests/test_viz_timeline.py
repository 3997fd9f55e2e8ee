"""The timeline (one replay pass) agrees with xvtrace's replay."""

import numpy as np
import pytest

from viz import timeline
from xvtrace.replay import state_at


def region_key(kind_of, start, end, prot):
    return (kind_of, start, end, prot)


def test_snapshots_match_the_replayed_state(story_trace, story_timeline):
    tl = story_timeline
    times = np.linspace(tl.start, tl.end, 23).tolist() + [m.t for p in tl.procs.values()
                                                          for m in p.marks]
    for t in times:
        st = state_at(story_trace, t)
        snap = {p.pid: p for p in tl.snapshot_at(t).procs}
        running = {pid for pid, p in st.processes.items() if p.state == "running"}
        assert set(snap) == {pid for pid in running if st.processes[pid].text is not None}, t
        for pid, sp in snap.items():
            proc = st.processes[pid]
            drawn = sorted((a.start, a.end, a.prot) for a in sp.areas
                           if a.kind in ("private", "shared"))
            assert drawn == sorted((r.start, r.end, r.prot) for r in proc.regions), (t, pid)
            assert sp.resident_vas == sorted(proc.mapped), (t, pid)
            heap = [a for a in sp.areas if a.kind == "heap"]
            if proc.heap and proc.heap.end > proc.heap.start:
                assert (heap[0].start, heap[0].end) == tuple(proc.heap)
            text = [a for a in sp.areas if a.kind == "text"][0]
            assert (text.start, text.end) == tuple(proc.text)


def test_region_counts_per_snapshot(story_timeline, story):
    _, ids = story
    tl = story_timeline
    t = tl.busiest_time()
    snap = {p.pid: p for p in tl.snapshot_at(t).procs}
    parent = snap[ids["demo"]]
    child = snap[ids["child"]]
    # After the mprotect and the munmap in the middle, before the child exits.
    assert sum(a.kind == "private" for a in parent.areas) == 3
    assert sum(a.kind == "private" for a in child.areas) == 1
    shared = [a for a in child.areas if a.kind == "shared"][0]
    assert (shared.resident, shared.pages) == (2, 4)


def test_memory_samples_match_the_page_counts(story_trace, story_timeline):
    mem = story_timeline.memory
    assert mem.total == 16384
    assert mem.series["shared copy-on-write"].max() > 0     # the story forks
    names = {"kernel stacks": "kstack", "shared regions": "shared"}
    for k in range(0, len(mem.times), 97):
        st = state_at(story_trace, mem.times[k])
        used = sum(series[k] for series in mem.series.values())
        assert used == st.memory.used
        for label, owner in names.items():
            assert mem.series[label][k] == st.memory.counts.get(owner, 0)
        # Page tables: the kernel's own (allocated outside any process) and the processes'.
        kernel = sum(1 for p in st.memory.pages.values() if p.owner == "pgtable" and p.pid <= 0)
        assert mem.series["kernel's own page tables"][k] == kernel
        assert (mem.series["processes' page tables"][k] ==
                st.memory.counts.get("pgtable", 0) - kernel)
        shared, distinct = st.memory.cow_shared()
        assert mem.series["shared copy-on-write"][k] == distinct
        for label, pid in mem.procs.items():
            proc = st.processes.get(pid)
            if proc is not None and proc.heap is not None:
                private = sum(1 for pa in proc.mapped.values()
                              if st.memory.pages[pa].owner == "region")
                own = proc.user_pages() + private - shared.get(pid, 0)
                assert mem.series[label][k] == max(own, 0)


def test_marks_name_the_events(story_timeline, story):
    _, ids = story
    texts = [m.text for m in story_timeline.procs[ids["demo"]].marks]
    for want in ("exec demo", "mmap 8p private", "mmap 4p shared", f"fork → {ids['child']}",
                 "mprotect r--", "munmap 2p", "exit"):
        assert want in texts


def test_window_clips_spans(story_trace):
    full = timeline.collect(story_trace)
    a, b = full.start + 0.3, full.start + 0.5
    tl = timeline.collect(story_trace, a, b)
    assert (tl.start, tl.end) == (a, b)
    for life in tl.procs.values():
        for s in life.spans:
            assert a <= s.t0 < s.t1 <= b
        for m in life.marks:
            assert a <= m.t <= b
    assert tl.window_records < full.window_records


def test_empty_window_is_an_error(story_trace):
    with pytest.raises(timeline.NoEvents):
        timeline.collect(story_trace, 100.0, 200.0)


def test_copy_on_write_intervals_follow_the_sharing(story_timeline, story):
    _, ids = story
    parent = story_timeline.procs[ids["demo"]]
    child = story_timeline.procs[ids["child"]]
    # Both sides hold the parent's private pages from the fork until the child lets go.
    assert parent.cow and child.cow
    assert {c[0] for c in child.cow} <= {c[0] for c in parent.cow}
    for c in parent.cow + child.cow:
        assert c[1] < c[2] <= child.exited


def file_mapping_trace():
    """pid 2 maps a file shared (flags without MAP_ANONYMOUS), touches two pages (read
    into the page cache), msyncs one back, unmaps, exits: as the kernel traces it."""
    from xvtrace.decode import decode
    from xvtrace.writer import Capture
    cap = Capture(ncpu=1, tsc_hz=1_000_000_000)
    ms = 1e-3
    base, pages = 0x7FFFC000, (0x600000, 0x601000)
    steps = [(0.0, "mem_range", {"start": 0x400000, "end": 0x800000}),
             (0.1, "fork", {"parent": 1, "child": 2, "running": 1}),
             (0.2, "exec", {"textend": 0x1000, "stackbase": 0x2000, "heapbase": 0x3000,
                            "sz": 0x3000, "running": 2}),
             (0.3, "procname", {"pid": 2, "name": "filer", "running": 2}),
             (1.0, "mmap", {"hint": 0, "length": 0x2000, "prot": 3, "flags": 0x01,
                            "running": 2}),
             (1.01, "mmap_ret", {"result": base, "running": 2})]
    for k, pa in enumerate(pages):
        t = 2.0 + k
        steps += [(t, "page_alloc", {"pa": pa, "owner": "pcache", "running": 2}),
                  (t + 0.01, "file_pagein", {"inum": 9, "offset": k * 0x1000, "pa": pa,
                                             "running": 2}),
                  (t + 0.02, "page_map", {"va": base + k * 0x1000, "pa": pa, "shared": 1,
                                          "pid": 2})]
    steps += [(5.0, "file_writeback", {"inum": 9, "offset": 0x1000, "pa": pages[1],
                                       "bytes": 4096, "running": 2}),
              (6.0, "page_unmap", {"va": base, "pa": pages[0], "pid": 2}),
              (6.01, "page_unmap", {"va": base + 0x1000, "pa": pages[1], "pid": 2}),
              (6.02, "page_free", {"pa": pages[0], "running": 2}),
              (6.03, "page_free", {"pa": pages[1], "running": 2}),
              (6.04, "munmap", {"addr": base, "length": 0x2000, "result": 0, "running": 2}),
              (7.0, "exit", {"pid": 2, "running": 2})]
    for t, event, kw in steps:
        cap.add(t * ms, event, **kw)
    return decode(cap.to_bytes())


def test_file_regions_page_cache_and_writebacks():
    """A file region is its own kind, its resident pages are file pages (not the
    process's own), the page cache has its band in the memory chart, and the page
    written back has a tick at its row and time."""
    from viz import aspace
    tl = timeline.collect(file_mapping_trace())
    life = tl.procs[2]
    assert [s.kind for s in life.spans if s.start == 0x7FFFC000] == ["file"]
    assert [m.text for m in life.marks if m.event == "mmap"] == ["mmap 2p file"]
    kinds = life.resident_arrays()["kind"]
    assert [timeline.RESIDENT_KINDS[k] for k in kinds] == ["file", "file"]
    assert life.writebacks == [(pytest.approx(5e-3), 0x7FFFD000)]
    cache = tl.memory.series[timeline.PAGE_CACHE]
    assert cache.max() == 2 and cache[-1] == 0
    assert tl.memory.series["kernel (other)"].max() == 0
    _, info = aspace.figure(tl, life)
    assert info["writebacks"] == [(pytest.approx(5e-3), 0x7FFFD000)]
    assert {r[4] for r in info["resident"]} == {"file"}
