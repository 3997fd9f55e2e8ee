"""Helpers for the xvtrace tests: small synthetic captures built in memory.

`session()` writes the life of a tiny system the way the kernel would
trace it: boot, init forked and exec'd, a child that maps, faults, grows
its heap, unmaps, exits and is reaped, leaving nothing behind. Tests add
or remove events to break one invariant at a time.
"""

import os
import subprocess
import sys

from hostlib import ROOT as REPO
from xvtrace.writer import Capture

PAGE = 4096
MS = 1e-3


def session(capture=None, leak_heap=False, skip=(), extra=()):
    """A clean two-CPU session. leak_heap: never free the child's heap page.
    skip: names of steps to leave out. extra: (t, event, kwargs) to add.
    Times are in ms."""
    cap = capture or Capture(ncpu=2, tsc_hz=1_000_000_000)

    def add(step, t, event, **kw):
        if step not in skip:
            cap.add(t * MS, event, **kw)

    add("ctl", 0.0, "trace_ctl", on=1, mask=0x7FFFFFFF)
    add("mem", 0.1, "mem_range", start=0x400000, end=0x800000)
    add("kpgdir", 0.2, "page_alloc", pa=0x500000, owner="pgtable")
    # initcode, pid 1: one page
    add("init", 1.0, "page_alloc", pa=0x501000, owner="kstack")
    add("init", 1.05, "page_alloc", pa=0x50C000, owner="user")
    add("init", 1.1, "fork", parent=0, child=1)
    add("init", 1.15, "exec", textend=0x1000, stackbase=0, heapbase=0x1000, sz=0x1000, pid=1)
    add("init", 1.2, "procname", pid=1, name="initcode")
    # ... which execs init on cpu 1: text, guard and stack pages
    for i, pa in enumerate([0x502000, 0x503000, 0x50B000]):
        add("init", 2.0 + i * 0.1, "page_alloc", pa=pa, owner="user", running=1, cpu=1)
    add("init", 2.3, "page_alloc", pa=0x504000, owner="pgtable", running=1, cpu=1)
    add("init", 2.5, "exec", textend=0x1000, stackbase=0x2000, heapbase=0x3000, sz=0x3000,
        running=1, cpu=1)
    add("init", 2.6, "procname", pid=1, name="init", cpu=1)
    add("init", 2.7, "page_free", pa=0x50C000, running=1, cpu=1)
    # sh, pid 2, forked by init on cpu 0
    add("fork2", 3.0, "page_alloc", pa=0x50A000, owner="kstack", running=1)
    for i, pa in enumerate([0x505000, 0x506000, 0x50D000]):
        add("fork2", 3.1 + i * 0.1, "page_alloc", pa=pa, owner="user", running=1)
    add("fork2", 3.4, "page_alloc", pa=0x507000, owner="pgtable", running=1)
    add("fork2", 3.5, "fork", parent=1, child=2, running=1)
    add("exec2", 3.6, "procname", pid=2, name="sh", running=2)
    add("mmap", 4.0, "mmap", hint=0, length=0x2000, prot=3, flags=0x22, running=2)
    add("mmap", 4.01, "mmap_ret", result=0x7FFFD000, running=2)
    add("fault", 4.5, "page_alloc", pa=0x508000, owner="region", running=2)
    add("fault", 4.51, "page_map", va=0x7FFFD000, pa=0x508000, shared=0, pid=2)
    add("fault", 4.52, "fault", va=0x7FFFD010, errcode=6, outcome="mapped", eip=0x40,
        running=2)
    add("kmalloc", 5.0, "kmalloc", addr=0x80200040, size=64, **{"class": 2}, pid=2)
    add("kmfree", 5.5, "kmfree", addr=0x80200040, size=64, **{"class": 2}, pid=2)
    add("heap", 6.0, "page_alloc", pa=0x509000, owner="user", running=2)
    add("heap", 6.02, "heap", old=0x3000, new=0x4000, running=2)
    add("munmap", 7.0, "page_unmap", va=0x7FFFD000, pa=0x508000, pid=2)
    add("munmap", 7.005, "page_free", pa=0x508000, running=2)
    add("munmap", 7.01, "munmap", addr=0x7FFFD000, length=0x1000, result=0, running=2)
    add("exit", 8.0, "exit", pid=2)
    for i, pa in enumerate([0x505000, 0x506000, 0x50D000, 0x509000, 0x507000, 0x50A000]):
        if not (leak_heap and pa == 0x509000):
            add(f"reap{pa:x}", 9.0 + i * 0.01, "page_free", pa=pa, running=1)
    add("reap", 9.5, "reap", pid=2, running=1)
    for t, event, kw in extra:
        cap.add(t * MS, event, **kw)
    return cap


def run_cli(*args, cwd=None):
    """Run python3 -m xvtrace ARGS from the repository root (or cwd), as a
    user would, without PYTHONPATH; returns the CompletedProcess."""
    env = dict(os.environ)
    env.pop("XVTRACE_DEBUG", None)
    env.pop("PYTHONPATH", None)
    if cwd is not None:
        env["PYTHONPATH"] = str(REPO)       # elsewhere, the root must be on the path
    return subprocess.run([sys.executable, "-m", "xvtrace", *map(str, args)],
                          capture_output=True, text=True, env=env, cwd=cwd or REPO, timeout=120)
