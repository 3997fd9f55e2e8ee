"""Replay: address spaces and physical memory at a time, and the change stream."""

from xvtrace_testlib import MS, session
from xvtrace import replay
from xvtrace.decode import decode


def trace_of(cap):
    return decode(cap.to_bytes())


def test_state_before_anything():
    st = replay.state_at(trace_of(session()), -1.0)
    assert st.index == 0 and st.time is None and st.processes == {}


def test_state_after_exec_and_fork():
    trace = trace_of(session())
    st = replay.state_at(trace, 3.6 * MS)
    init, sh = st.processes[1], st.processes[2]
    assert (init.name, init.state, init.parent) == ("init", "running", 0)
    assert init.text == (0, 0x1000) and init.stack == (0x2000, 0x3000)
    assert init.heap == (0x3000, 0x3000) and init.user_pages() == 3
    assert (sh.name, sh.parent) == ("sh", 1)
    assert sh.text == init.text and sh.user_pages() == 3      # fork copies the layout
    mem = st.memory
    assert mem.total == 1024 and mem.used == 11 and mem.free == 1013
    assert mem.counts["pgtable"] == 3 and mem.counts["kstack"] == 2 and mem.counts["user"] == 6
    assert mem.pages[0x505000].owner == "user" and mem.pages[0x505000].pid == 1


def test_initcode_image_from_userinit():
    st = replay.state_at(trace_of(session()), 1.5 * MS)
    initcode = st.processes[1]
    assert initcode.name == "initcode" and initcode.text == (0, 0x1000)
    assert initcode.stack is None and initcode.user_pages() == 1


def test_region_and_its_resident_pages():
    st = replay.state_at(trace_of(session()), 4.6 * MS)
    sh = st.processes[2]
    [r] = sh.regions
    assert (r.start, r.end, r.prot, r.flags, r.rwx()) == (0x7FFFD000, 0x7FFFF000, 3, 0x22, "rw-")
    assert sh.resident(r.start, r.end) == [(0x7FFFD000, 0x508000)]
    assert st.memory.pages[0x508000].owner == "region"
    assert st.memory.maps[0x508000] == ((2, 0x7FFFD000),)


def test_munmap_splits_and_heap_grows():
    st = replay.state_at(trace_of(session()), 7.5 * MS)
    sh = st.processes[2]
    assert [(r.start, r.end) for r in sh.regions] == [(0x7FFFE000, 0x7FFFF000)]
    assert sh.heap == (0x3000, 0x4000) and sh.user_pages() == 4
    assert sh.mapped == {} and 0x508000 not in st.memory.pages


def test_mprotect_splits_a_region():
    extra = [(4.2, "mprotect", {"addr": 0x7FFFE000, "length": 0x1000, "prot": 1,
                                "result": 0, "running": 2})]
    st = replay.state_at(trace_of(session(extra=extra)), 4.3 * MS)
    regions = [(r.start, r.end, r.rwx()) for r in st.processes[2].regions]
    assert regions == [(0x7FFFD000, 0x7FFFE000, "rw-"), (0x7FFFE000, 0x7FFFF000, "r--")]


def test_failed_calls_change_nothing():
    extra = [(4.2, "mprotect", {"addr": 0x7FFFE000, "length": 0x1000, "prot": 1,
                                "result": -1, "running": 2}),
             (4.3, "mmap", {"hint": 0, "length": 0x1000, "prot": 3, "flags": 0x22, "running": 2}),
             (4.31, "mmap_ret", {"result": -1, "running": 2})]
    st = replay.state_at(trace_of(session(extra=extra)), 4.4 * MS)
    assert len(st.processes[2].regions) == 1


def test_fork_copies_regions_and_shared_pages_have_two_mappers():
    extra = [(7.2, "page_map", {"va": 0x7FFFE000, "pa": 0x508000, "shared": 1, "pid": 3,
                                "running": 2}),
             (7.3, "fork", {"parent": 2, "child": 3, "running": 2})]
    cap = session(extra=extra, skip={"munmap"})
    st = replay.state_at(trace_of(cap), 7.4 * MS)
    child = st.processes[3]
    assert [(r.start, r.end) for r in child.regions] == [(0x7FFFD000, 0x7FFFF000)]
    assert child.name == "sh" and child.parent == 2
    assert st.memory.maps[0x508000] == ((2, 0x7FFFD000), (3, 0x7FFFE000))


def test_exit_then_reap():
    trace = trace_of(session())
    assert replay.state_at(trace, 8.5 * MS).processes[2].state == "zombie"
    end = replay.state_at(trace, 1.0)
    assert 2 not in end.processes and end.memory.used == 6


def test_snapshots_do_not_change_later():
    trace = trace_of(session())
    (t1, early), (t2, late) = replay.states_at(trace, [4.6 * MS, 9.5 * MS])
    assert len(early.processes[2].regions) == 1 and early.memory.used == 12
    assert early.processes[2].mapped == {0x7FFFD000: 0x508000}
    assert late.memory.used == 6 and 2 not in late.processes


def test_change_stream():
    changes = list(replay.changes(trace_of(session())))
    assert len(changes) == 42
    kinds = {c.event: c.kind for c in changes}
    assert kinds["page_alloc"] == "page" and kinds["page_map"] == "map"
    assert kinds["mmap_ret"] == "region" and kinds["exec"] == "layout"
    assert kinds["fork"] == "process" and kinds["fault"] == "fault" and kinds["mmap"] == "request"
    [unmap] = [c for c in changes if c.event == "munmap"]
    assert [r.start for r in unmap.detail["removed"]] == [0x7FFFD000]
    assert [r.start for r in unmap.detail["added"]] == [0x7FFFE000]
    [fork] = [c for c in changes if c.event == "fork" and c.detail["child"] == 2]
    assert fork.pid == 2
    frees = [c for c in changes if c.event == "page_free"]
    assert all(c.detail["page"] is None and c.detail["old"] is not None for c in frees)


def test_replayer_steps_and_live_state():
    rp = replay.Replayer(trace_of(session()))
    rp.run_until(2.6 * MS)
    assert rp.state.processes[1].name == "init"
    change = rp.step()
    assert change.event == "page_free" and rp.state.index == 15


def test_mremap_moves_a_region_and_its_page():
    # sh's region 0x7FFFD000-0x7FFFF000 (page 0x508000 touched at its start) moves to
    # 0x60000000 and grows to three pages: the page goes along, the old range is free.
    extra = [(4.6, "page_unmap", {"va": 0x7FFFD000, "pa": 0x508000, "pid": 2, "running": 2}),
             (4.61, "page_map", {"va": 0x60000000, "pa": 0x508000, "shared": 0, "pid": 2,
                                 "running": 2}),
             (4.62, "mremap", {"old": 0x7FFFD000, "oldlen": 0x2000, "new": 0x60000000,
                               "newlen": 0x3000, "running": 2})]
    cap = session(extra=extra, skip={"munmap"})
    st = replay.state_at(trace_of(cap), 4.7 * MS)
    sh = st.processes[2]
    assert [(r.start, r.end) for r in sh.regions] == [(0x60000000, 0x60003000)]
    assert sh.mapped == {0x60000000: 0x508000}


def test_mremap_in_place_and_failed():
    extra = [(4.6, "mremap", {"old": 0x7FFFD000, "oldlen": 0x2000, "new": 0x7FFFD000,
                              "newlen": 0x1000, "running": 2}),
             (4.7, "mremap", {"old": 0x7FFFD000, "oldlen": 0x1000, "new": -1,
                              "newlen": 0x9000, "running": 2})]
    st = replay.state_at(trace_of(session(extra=extra)), 4.8 * MS)
    assert [(r.start, r.end) for r in st.processes[2].regions] == [(0x7FFFD000, 0x7FFFE000)]
