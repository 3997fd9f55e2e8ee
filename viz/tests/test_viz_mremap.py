"""An mremap that moves a region is drawn as a move: one mark at the new range that
remembers the old one, and an arrow between them; in place it is a plain mark."""

import matplotlib
matplotlib.use("Agg")

from viz import timeline
from xvtrace.decode import decode
from xvtrace.writer import Capture

MS = 1_000_000


def capture_with_moves():
    cap = Capture(ncpu=1, tsc_hz=1_000_000_000)
    cap.add(0.0, "trace_ctl", on=1, mask=0x7FFFFFFF)
    cap.add(0.1 * MS, "mem_range", start=0x400000, end=0x800000)
    cap.add(1.0 * MS, "page_alloc", pa=0x501000, owner="user", running=1)
    cap.add(1.1 * MS, "fork", parent=0, child=1)
    cap.add(1.2 * MS, "exec", textend=0x1000, stackbase=0, heapbase=0x1000, sz=0x1000, pid=1)
    cap.add(1.3 * MS, "procname", pid=1, name="mover")
    cap.add(2.0 * MS, "mmap", hint=0, length=0x2000, prot=3, flags=0x22, running=1)
    cap.add(2.01 * MS, "mmap_ret", result=0x40000000, running=1)
    cap.add(2.5 * MS, "page_alloc", pa=0x508000, owner="region", running=1)
    cap.add(2.51 * MS, "page_map", va=0x40000000, pa=0x508000, shared=0, pid=1)
    cap.add(3.0 * MS, "mremap", old=0x40000000, oldlen=0x2000, new=0x40000000, newlen=0x3000,
            running=1)
    cap.add(4.0 * MS, "page_unmap", va=0x40000000, pa=0x508000, pid=1, running=1)
    cap.add(4.01 * MS, "page_map", va=0x60000000, pa=0x508000, shared=0, pid=1, running=1)
    cap.add(4.02 * MS, "mremap", old=0x40000000, oldlen=0x3000, new=0x60000000, newlen=0x4000,
            running=1)
    cap.add(5.0 * MS, "exit", pid=1)
    return decode(cap.to_bytes())


def test_a_move_is_one_mark_that_remembers_the_old_range():
    tl = timeline.collect(capture_with_moves())
    marks = [m for m in tl.procs[1].marks if m.event == "mremap"]
    assert [(m.start, m.end, m.moved_from) for m in marks] == [
        (0x40000000, 0x40003000, None),
        (0x60000000, 0x60004000, (0x40000000, 0x40003000))]
    assert not [m for m in tl.procs[1].marks if m.event in ("munmap", "mmap") and
                m.start == 0x60000000]
