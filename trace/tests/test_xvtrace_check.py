"""The checker: one broken invariant at a time, on top of a clean session."""

from xvtrace_testlib import session
from xvtrace.check import FAIL, INCONCLUSIVE, PASS, check, format_report
from xvtrace.decode import decode


def run(cap):
    trace = decode(cap.to_bytes())
    report = check(trace)
    return report, "\n".join(format_report(trace, report))


def kinds(report):
    return sorted({p.kind for p in report.problems})


def test_clean_session_passes():
    report, text = run(session())
    assert report.status == PASS, text
    assert "verdict: PASS" in text
    assert "1 process(es) not reaped at the end: 1 init (running)" in text
    assert "6 of 1024 pages in use at the end: kstack 1, pgtable 2, user 3" in text


def test_double_free():
    report, text = run(session(extra=[(7.5, "page_free", {"pa": 0x508000})]))
    assert report.status == FAIL
    assert kinds(report) == ["double-free"]
    assert "page 0x508000 freed twice" in text


def test_free_of_a_page_never_allocated():
    report, _ = run(session(extra=[(7.5, "page_free", {"pa": 0x777000})]))
    assert kinds(report) == ["free-unallocated"]


def test_page_allocated_twice():
    report, _ = run(session(extra=[(2.05, "page_alloc", {"pa": 0x502000, "owner": "user"})]))
    assert kinds(report) == ["double-alloc"]


def test_page_freed_while_still_mapped():
    report, text = run(session(extra=[(4.6, "page_free", {"pa": 0x508000})]))
    assert "free-mapped" in kinds(report)
    assert "page 0x508000 freed while pid 2 (sh) still maps it at 0x7fffd000" in text


def test_mapping_a_free_page():
    extra = [(4.7, "page_map", {"va": 0x7FFFE000, "pa": 0x777000, "shared": 0, "pid": 2})]
    report, _ = run(session(extra=extra))
    assert "map-free-page" in kinds(report)


def test_unmapping_what_is_not_mapped():
    extra = [(4.7, "page_unmap", {"va": 0x7FFFE000, "pa": 0x508000, "pid": 2})]
    report, _ = run(session(extra=extra))
    assert kinds(report) == ["unmap-unmapped"]


def test_user_page_leak_shows_at_the_end():
    report, text = run(session(leak_heap=True))
    assert kinds(report) == ["leak-user"]
    assert "at the end: 4 user pages in use, but the live processes hold 3" in text


def test_region_page_still_mapped_at_reap():
    report, text = run(session(skip={"munmap"}))
    assert kinds(report) == ["leak-pages", "leak-region"]
    assert "pid 2 (sh) reaped still mapping 1 region page(s) (e.g. at 0x7fffd000)" in text


def test_kernel_stack_leak():
    report, text = run(session(skip={"reap50a000"}))
    assert kinds(report) == ["leak-kstack"]
    assert "2 kernel stacks in use for 1 live process(es)" in text


def test_shared_pages_without_regions():
    report, _ = run(session(extra=[(5.0, "page_alloc", {"pa": 0x600000, "owner": "shared"})]))
    assert kinds(report) == ["leak-shared"]


def test_kmalloc_leak_at_reap():
    report, text = run(session(skip={"kmfree"}))
    assert kinds(report) == ["leak-kmalloc"]
    assert "1 kmalloc object(s), 64 bytes" in text


def test_kmfree_twice():
    report, _ = run(session(extra=[(5.6, "kmfree", {"addr": 0x80200040, "size": 64,
                                                     "class": 2, "pid": 2})]))
    assert kinds(report) == ["kmfree-double"]


def test_overlapping_regions():
    extra = [(4.1, "mmap", {"hint": 0x7FFFE000, "length": 0x1000, "prot": 1, "flags": 0x32,
                            "running": 2}),
             (4.11, "mmap_ret", {"result": 0x7FFFE000, "running": 2})]
    report, text = run(session(extra=extra))
    assert kinds(report) == ["overlap"]
    assert "mmap 0x7fffe000-0x7ffff000 overlaps region 0x7fffd000-0x7ffff000" in text


def test_map_fixed_after_an_unmap_is_fine():
    extra = [(4.1, "munmap", {"addr": 0x7FFFE000, "length": 0x1000, "result": 0, "running": 2}),
             (4.105, "mmap", {"hint": 0x7FFFE000, "length": 0x1000, "prot": 1, "flags": 0x32,
                              "running": 2}),
             (4.11, "mmap_ret", {"result": 0x7FFFE000, "running": 2})]
    report, text = run(session(extra=extra))
    assert report.status == PASS, text


def test_region_over_the_stack():
    extra = [(4.1, "mmap", {"hint": 0x2000, "length": 0x1000, "prot": 1, "flags": 0x32,
                            "running": 2}),
             (4.11, "mmap_ret", {"result": 0x2000, "running": 2})]
    report, text = run(session(extra=extra))
    assert kinds(report) == ["overlap"] and "its stack" in text


def test_heap_growing_into_a_region():
    extra = [(6.5, "heap", {"old": 0x4000, "new": 0x7FFFE000, "running": 2})]
    report, text = run(session(extra=extra))
    assert "overlap" in kinds(report) and "heap growth" in text


def test_fault_mapped_outside_every_region():
    extra = [(4.6, "fault", {"va": 0x10000000, "errcode": 4, "outcome": "mapped",
                             "eip": 0, "running": 2})]
    report, _ = run(session(extra=extra))
    assert kinds(report) == ["fault-outside"]


def test_refused_fault_is_fine():
    extra = [(4.6, "fault", {"va": 0x10000000, "errcode": 4, "outcome": "bad",
                             "eip": 0, "running": 2})]
    report, _ = run(session(extra=extra))
    assert report.status == PASS


def test_lost_events_make_it_inconclusive():
    report, text = run(session(extra=[(5.0, "lost", {"cpu": 1, "count": 37})]))
    assert report.status == INCONCLUSIVE
    assert "37 events lost in the kernel (cpu 1: 37)" in text
    assert "verdict: INCONCLUSIVE" in text


def test_problems_with_lost_events_are_only_possible_ones():
    report, text = run(session(leak_heap=True, extra=[(5.0, "lost", {"cpu": 0, "count": 3})]))
    assert report.status == INCONCLUSIVE and kinds(report) == ["leak-user"]
    assert "problems above may come from the missing events" in text
    assert "verdict: INCONCLUSIVE (1 possible problem)" in text


def test_tracing_off_makes_it_inconclusive():
    extra = [(5.1, "trace_ctl", {"on": 0, "mask": 0x7FFFFFFF}),
             (5.2, "trace_ctl", {"on": 1, "mask": 0x7FFFFFFF})]
    report, text = run(session(extra=extra))
    assert report.status == INCONCLUSIVE and "tracing was off" in text


def test_masked_events_make_it_inconclusive():
    mask = 0x7FFFFFFF & ~(1 << 5)
    report, text = run(session(extra=[(5.1, "trace_ctl", {"on": 1, "mask": mask})]))
    assert report.status == INCONCLUSIVE and "masked off" in text and "page_free" in text


def test_munmap_that_keeps_the_page():
    report, text = run(session(skip={"munmap"}, extra=[
        (7.0, "page_unmap", {"va": 0x7FFFD000, "pa": 0x508000, "pid": 2}),
        (7.01, "munmap", {"addr": 0x7FFFD000, "length": 0x1000, "result": 0, "running": 2})]))
    assert kinds(report) == ["leak-region"]
    assert "pid 2 (sh): munmap left 1 region page(s) allocated and mapped by no one " \
           "(e.g. 0x508000)" in text


# A file page: read into the page cache, mapped, written back, unmapped, freed.
FILE_PAGE = [(4.6, "page_alloc", {"pa": 0x600000, "owner": "pcache", "running": 2}),
             (4.61, "file_pagein", {"inum": 5, "offset": 0x1000, "pa": 0x600000}),
             (4.62, "page_map", {"va": 0x7FFFE000, "pa": 0x600000, "shared": 1, "pid": 2}),
             (6.5, "file_writeback", {"inum": 5, "offset": 0x1000, "pa": 0x600000,
                                      "bytes": 4096}),
             (6.9, "page_unmap", {"va": 0x7FFFE000, "pa": 0x600000, "pid": 2}),
             (6.95, "page_free", {"pa": 0x600000})]


def test_file_page_cycle_passes():
    report, text = run(session(extra=FILE_PAGE))
    assert report.status == PASS, text


def test_file_cached_twice():
    extra = FILE_PAGE + [(4.7, "page_alloc", {"pa": 0x601000, "owner": "pcache"}),
                         (4.71, "file_pagein", {"inum": 5, "offset": 0x1000, "pa": 0x601000}),
                         (6.96, "page_free", {"pa": 0x601000})]
    report, text = run(session(extra=extra))
    assert kinds(report) == ["pagein-twice"]
    assert "file 5 offset 4096 read into 0x601000 while cached in 0x600000" in text


def test_pagein_into_a_page_not_of_the_cache():
    extra = [(4.7, "file_pagein", {"inum": 5, "offset": 0, "pa": 0x508000})]
    report, _ = run(session(extra=extra))
    assert kinds(report) == ["pagein-bad-page"]


def test_writeback_of_a_page_not_cached():
    extra = FILE_PAGE + [(6.6, "file_writeback", {"inum": 5, "offset": 0, "pa": 0x600000,
                                                  "bytes": 10})]
    report, text = run(session(extra=extra))
    assert kinds(report) == ["writeback-uncached"]
    assert "page 0x600000 written back to file 5 offset 0" in text


def test_cache_pages_left_without_regions():
    report, text = run(session(extra=FILE_PAGE[:2]))
    assert kinds(report) == ["leak-pcache"]
    assert "1 page-cache page(s) in use, but no process has a region" in text


def test_fast_path_finds_what_the_full_replay_finds():
    """The ledger (ledger.py) and the record-by-record replay agree on every problem, on
    sessions with page records duplicated, dropped, mapped and cached at random."""
    import random
    from xvtrace.check import check
    rng = random.Random(5)
    pages = [0x500000 + i * 0x1000 for i in range(16)]
    for _ in range(150):
        extra = []
        for _ in range(rng.randint(1, 8)):
            t = rng.uniform(0.1, 9.4)
            pa = rng.choice(pages)
            what = rng.random()
            if what < 0.4:
                extra.append((t, "page_alloc", {"pa": pa, "owner": rng.choice(
                    ["user", "pgtable", "region", "pcache"]), "running": rng.choice([1, 2])}))
            elif what < 0.8:
                extra.append((t, "page_free", {"pa": pa, "running": rng.choice([1, 2])}))
            elif what < 0.9:
                extra.append((t, "file_pagein", {"inum": 5, "offset": rng.choice([0, 0x1000]),
                                                 "pa": pa}))
            else:
                extra.append((t, "page_map", {"va": 0x7FFFD000, "pa": pa, "shared": 0,
                                              "pid": 2}))
        skip = rng.sample(["heap", "munmap", "fault", "reap50d000", "reap509000"],
                          rng.randint(0, 2))
        trace = decode(session(skip=skip, extra=extra).to_bytes())
        fast, full = check(trace), check(trace, fast=False)
        assert fast.problems == full.problems
        assert fast.state.memory.counts == full.state.memory.counts
        assert fast.state.memory.pages == full.state.memory.pages


def mapping_workload(rng):
    """Region pages of pids 2 (sh) and 3 (seen first in a page_map) allocated, mapped,
    shared, unmapped and freed at random between 4.6 and 7.9 ms, mostly as the kernel
    would, with a slip now and then (a map twice, an unmap too many or of the wrong page,
    a free while mapped, a free after the call that orphaned the page)."""
    extra, live, t = [], {}, 4.6
    free_pages = [0x600000 + i * 0x1000 for i in range(24)]
    vas = {pid: [0x10000000 + i * 0x1000 for i in range(12)] for pid in (2, 3)}

    def add(event, **kw):
        nonlocal t
        t += 0.01
        extra.append((t, event, kw))

    def slip():
        return rng.random() < 0.01

    for _ in range(rng.randint(5, 40)):
        what = rng.random()
        pid = rng.choice((2, 3))
        if what < 0.4 and free_pages and vas[pid]:
            pa, va = free_pages.pop(rng.randrange(len(free_pages))), vas[pid].pop()
            add("page_alloc", pa=pa, owner="region", running=pid)
            add("page_map", va=va, pa=pa, shared=0, pid=pid)
            live[pa] = [(pid, va)]
        elif what < 0.55 and live and vas[pid]:
            pa, va = rng.choice(sorted(live)), vas[pid].pop()
            add("page_map", va=va, pa=pa, shared=1, pid=pid)
            live[pa].append((pid, va))
            if slip():
                add("page_map", va=va, pa=pa, shared=1, pid=pid)
        elif live:
            pa = rng.choice(sorted(live))
            if not live[pa]:
                add("page_free", pa=pa, running=2)
                del live[pa]
                free_pages.append(pa)
                continue
            mpid, va = live[pa].pop(rng.randrange(len(live[pa])))
            add("page_unmap", va=va, pa=pa + 0x1000 * slip(), pid=mpid)
            if rng.random() < 0.2:
                add("kmalloc", addr=0x80300000 + int(t * 1000), size=32, pid=mpid,
                    **{"class": 1})
            vas[mpid].append(va)
            if slip():
                add("page_unmap", va=va, pa=pa, pid=mpid)
            late = slip()
            if not live[pa] and not late:
                add("page_free", pa=pa, running=mpid)
                del live[pa]
                free_pages.append(pa)
            add("munmap", addr=0x20000000, length=0x1000, result=0, running=mpid)
        if slip() and live:
            pa = rng.choice(sorted(live))
            add("page_free", pa=pa, running=2)
            del live[pa]
    for pa, mappers in sorted(live.items()):
        for mpid, va in list(mappers):
            if mpid == 2 and rng.random() < 0.98:
                add("page_unmap", va=va, pa=pa, pid=mpid)
                mappers.remove((mpid, va))
        if not mappers and rng.random() < 0.98:
            add("page_free", pa=pa, running=2)
    return extra


def test_mapped_fast_path_finds_what_the_full_replay_finds():
    """mapledger.py and the record-by-record replay agree on every problem and on the
    pages and mappings left, on random mapping workloads; every clean one is checked
    at once."""
    import random
    from xvtrace import mapledger
    rng = random.Random(7)
    picked = clean = 0
    for _ in range(200):
        trace = decode(session(extra=mapping_workload(rng)).to_bytes())
        fast, full = check(trace), check(trace, fast=False)
        if mapledger.picked(trace) is not None:
            picked += 1
        else:
            assert full.problems, "a clean trace left to the replay"
        clean += not full.problems
        assert fast.problems == full.problems
        assert fast.state.memory.counts == full.state.memory.counts
        assert fast.state.memory.pages == full.state.memory.pages
        assert fast.state.memory.maps == full.state.memory.maps
        assert {pid: p.mapped for pid, p in fast.state.processes.items()} == \
            {pid: p.mapped for pid, p in full.state.processes.items()}
    assert 50 <= clean <= picked < 200, (clean, picked)
