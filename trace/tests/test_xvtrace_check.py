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
    assert "2 process(es)" not in text and "1 process(es) not reaped" in text   # init lives on


def test_double_free():
    report, text = run(session(extra=[(7.5, "page_free", {"pa": 0x508000})]))
    assert report.status == FAIL
    assert kinds(report) == ["double-free"]
    assert "page 0x508000 freed twice" in text


def test_free_of_a_page_never_allocated():
    report, _ = run(session(extra=[(7.5, "page_free", {"pa": 0x777000})]))
    assert kinds(report) == ["free-unallocated"]


def test_page_allocated_twice():
    report, _ = run(session(extra=[(2.05, "page_alloc", {"pa": 0x502000})]))
    assert kinds(report) == ["double-alloc"]


def test_leaked_page_at_reap():
    report, text = run(session(leak_heap=True))
    assert kinds(report) == ["leak-pages"]
    assert "pid 2 (sh) reaped still holding 1 page(s): 1 proc (e.g. 0x509000)" in text


def test_kmalloc_leak_at_reap():
    report, text = run(session(skip={"kmfree"}))
    assert kinds(report) == ["leak-kmalloc"]
    assert "1 kmalloc object(s), 64 bytes" in text


def test_kmfree_of_unknown_object():
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


def test_region_over_the_stack():
    extra = [(4.1, "mmap", {"hint": 0x2000, "length": 0x1000, "prot": 1, "flags": 0x32,
                            "running": 2}),
             (4.11, "mmap_ret", {"result": 0x2000, "running": 2})]
    report, text = run(session(extra=extra))
    assert kinds(report) == ["overlap"] and "its stack" in text


def test_heap_growing_into_a_region():
    extra = [(6.5, "heap", {"old": 0x4000, "new": 0x7FFFE000, "running": 2})]
    report, text = run(session(extra=extra))
    assert kinds(report) == ["overlap"] and "heap growth" in text


def test_fault_mapped_outside_every_region():
    extra = [(4.6, "fault", {"va": 0x10000000, "access": "read", "outcome": "mapped",
                             "eip": 0, "running": 2})]
    report, _ = run(session(extra=extra))
    assert kinds(report) == ["fault-outside"]


def test_killed_fault_is_fine():
    extra = [(4.6, "fault", {"va": 0x10000000, "access": "read", "outcome": "killed",
                             "eip": 0, "running": 2})]
    report, _ = run(session(extra=extra))
    assert report.status == PASS


def test_lost_events_make_it_inconclusive():
    report, text = run(session(extra=[(5.0, "lost", {"cpu": 1, "count": 37})]))
    assert report.status == INCONCLUSIVE
    assert "37 events lost in the kernel (cpu 1: 37)" in text
    assert "verdict: INCONCLUSIVE" in text


def test_problems_with_lost_events_still_fail_and_say_why():
    report, text = run(session(leak_heap=True, extra=[(5.0, "lost", {"cpu": 0, "count": 3})]))
    assert report.status == FAIL
    assert "problems above may come from the missing events" in text


def test_tracing_off_makes_it_inconclusive():
    extra = [(5.1, "trace_ctl", {"on": 0, "mask": 0x7FFFFFFF}),
             (5.2, "trace_ctl", {"on": 1, "mask": 0x7FFFFFFF})]
    report, text = run(session(extra=extra))
    assert report.status == INCONCLUSIVE and "tracing was off" in text


def test_masked_events_make_it_inconclusive():
    report, text = run(session(extra=[(5.1, "trace_ctl", {"on": 1, "mask": 0x7FFFFFFF & ~(1 << 5)})]))
    assert report.status == INCONCLUSIVE and "masked off" in text and "page_free" in text
