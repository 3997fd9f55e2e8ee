"""The `xv6` GDB commands against the real kernel, end to end.

One boot serves every test: QEMU waits for GDB; session.py (run inside
gdb-multiarch) stops the kernel before paging, before the first process and
in sys_getmaps called by the gdbdemo program (xv6/user/gdbdemo.c), which
this file types at the shell. The tests compare what the commands printed
with what gdbdemo did (DEMO_REGIONS) and with what the kernel itself
reported to gdbdemo through getmaps() afterwards.

Needs `make` first (out/kernel, out/fs.img with gdbdemo). Set XV6_OUT to
use another build directory.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hostlib import fmt

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = Path(os.environ.get("XV6_OUT", ROOT / "out"))
GDB = "gdb-multiarch"
QEMU = "qemu-system-i386"
TIME_LIMIT = 60          # seconds for the whole session
PROMPT = b"$ "

# What gdbdemo maps (keep in step with xv6/user/gdbdemo.c):
# (start, end, prot, flags, resident pages)
DEMO_REGIONS = [
    (0x40000000, 0x40003000, "rw-", "private|anonymous", 2),
    (0x40010000, 0x40012000, "r--", "shared|anonymous", 1),
    (0x40020000, 0x40024000, "rwx", "private|anonymous", 4),  # MAP_FIXED|MAP_POPULATE: requests, not kept
    (0x40030000, 0x40031000, "---", "private|anonymous", 0),
    (0x40040000, 0x40042000, "rw-", "shared", 1),           # the file gdbdemo.dat
]
TOUCHED = ({0x40000000, 0x40002000, 0x40011000, 0x40040000} |
           {0x40020000 + i * 0x1000 for i in range(4)})

pytestmark = pytest.mark.skipif(
    not (shutil.which(GDB) and shutil.which(QEMU)),
    reason=f"needs {GDB} and {QEMU} (Debian: apt-get install gdb-multiarch qemu-system-x86)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Console:
    """QEMU's serial console: collects output, types gdbdemo at the first prompt."""

    def __init__(self, proc):
        self.proc = proc
        self.data = bytearray()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        typed = False
        while True:
            chunk = self.proc.stdout.read1(4096)
            if not chunk:
                return
            self.data.extend(chunk)
            if not typed and PROMPT in self.data:
                typed = True
                self.proc.stdin.write(b"gdbdemo\n")
                self.proc.stdin.flush()

    def text(self):
        return self.data.decode("latin-1").replace("\r", "")


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """Run the whole GDB session once; returns (results by label, console text, dump path)."""
    kernel, image = OUT / "kernel", OUT / "fs.img"
    for f in (kernel, image):
        if not f.exists():
            pytest.fail(f"{f} is missing: run make first")
    if b"gdbdemo" not in image.read_bytes():
        pytest.fail(f"{image} has no gdbdemo: run make")
    tmp = tmp_path_factory.mktemp("gdb")
    disk = tmp / "fs.img"
    shutil.copy(image, disk)
    port = free_port()
    qemu = subprocess.Popen(
        [QEMU, "-nographic", "-no-reboot", "-net", "none", "-kernel", str(kernel),
         "-drive", f"file={disk},index=0,media=disk,format=raw",
         "-smp", "2,sockets=2,cores=1,threads=1", "-m", "512",
         "-serial", "stdio", "-serial", f"file:{tmp / 'com2.bin'}", "-monitor", "none",
         "-S", "-gdb", f"tcp:127.0.0.1:{port}"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    console = Console(qemu)
    results_file, dump = tmp / "results.json", tmp / "rings.bin"
    env = dict(os.environ, XV6GDB_KERNEL=str(kernel), XV6GDB_PORT=str(port),
               XV6GDB_RESULTS=str(results_file), XV6GDB_DUMP=str(dump),
               PYTHONDONTWRITEBYTECODE="1")
    try:
        try:
            gdb = subprocess.run([GDB, "-nx", "-batch", "-x", str(HERE / "session.py")],
                                 env=env, capture_output=True, text=True, timeout=TIME_LIMIT)
            gdb_log = gdb.stdout + gdb.stderr
        except subprocess.TimeoutExpired as e:
            partial = [x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
                       for x in (e.stdout, e.stderr)]
            gdb_log = f"timed out after {TIME_LIMIT} s\n" + "".join(partial)
        time.sleep(0.2)          # the rest of gdbdemo's output, still on its way
    finally:
        qemu.kill()
        qemu.wait()
    console.thread.join(timeout=2)
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    if "finished" not in results:
        pytest.fail("the GDB session did not finish.\n--- gdb:\n" + gdb_log[-3000:] +
                    "\n--- console:\n" + console.text()[-2000:] +
                    "\n--- last outputs:\n" + "\n".join(f"{k}: {v}" for k, v in
                                                         list(results.items())[-3:]))
    return results, console.text(), dump


# ---- parsing what the commands print ------------------------------------

def rows(output):
    """The rows of the table in output, as dicts by column name. The header
    is the first line of upper-case words; cells are separated by two or
    more spaces and never empty."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if re.fullmatch(r"[A-Z]+(?: +[A-Z]+)+", line.strip()):
            break
    else:
        return []
    names = re.split(r"\s{2,}", lines[i].strip())
    out = []
    for line in lines[i + 1:]:
        if line.startswith(("xv6:", "note:")) or not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        assert len(cells) == len(names), (names, line)
        out.append(dict(zip(names, cells)))
    return out


def getmaps_lines(console):
    """gdbdemo's own report: (start, end, prot, kind, flags, resident) per line."""
    out = []
    for m in re.finditer(r"^0x([0-9a-f]+) 0x([0-9a-f]+) (\S{3}) (\w+) flags 0x([0-9a-f]+) "
                         r"resident (\d+)$", console, re.MULTILINE):
        out.append((int(m[1], 16), int(m[2], 16), m[3], m[4], int(m[5], 16), int(m[6])))
    return out


# ---- the tests ----------------------------------------------------------

def test_no_traceback_anywhere(session):
    results, _, _ = session
    for label, text in results.items():
        assert "Traceback" not in text and "Python Exception" not in text, (label, text)
        if label != "bad.function":
            assert "GDB ERROR" not in text, (label, text)


def test_help_lists_every_command(session):
    results, _, _ = session
    for name in ("ps", "regions", "vmmap", "pagecache", "pte", "pgtable", "kmalloc", "mem",
                 "trace"):
        assert re.search(rf"^xv6 {name} -- \S.*$", results["help"], re.MULTILINE), name


def test_not_connected_and_unknown_command(session):
    results, _, _ = session
    assert results["unconnected"].startswith("xv6: not connected to the kernel")
    assert results["unknown"] == "xv6: no command 'frobnicate'; 'help xv6' lists them\n"


def test_before_paging_is_reported(session):
    results, _, _ = session
    for label in ("reset.ps", "reset.mem"):
        text = results[label]
        assert text.startswith("xv6: ") and text.count("\n") == 1, text
        assert "not mapped" in text and "paging is off" in text, text


def test_before_the_first_process(session):
    results, _, _ = session
    assert results["early.ps"] == "no processes (the kernel has not started init yet)\n"
    assert results["early.regions"].startswith("xv6: no process is running on CPU 0")
    assert results["early.vmmap1"] == "xv6: no process with pid 1 (see 'xv6 ps')\n"
    assert re.match(r"pages: \d+ total .*, \d+ free .*, \d+ in use", results["early.mem"])


def test_ps(session):
    results, console, _ = session
    pid = results["demo.pid"]
    procs = {r["PID"]: r for r in rows(results["demo.ps"])}
    assert set(procs) == {"1", "2", pid}
    assert procs["1"]["NAME"] == "init" and procs["1"]["PPID"] == "-"
    assert procs["2"]["NAME"] == "sh" and procs["2"]["PPID"] == "1"
    assert procs["1"]["STATE"] == procs["2"]["STATE"] == "SLEEPING"
    assert procs["1"]["CPU"] == procs["2"]["CPU"] == "-"
    demo = procs[pid]
    assert (demo["NAME"], demo["PPID"], demo["STATE"], demo["NREGIONS"]) == \
        ("gdbdemo", "2", "RUNNING", "5")
    assert demo["CPU"] in ("0", "1")
    heap = [m for m in getmaps_lines(console) if m[3] == "heap"]
    assert int(demo["SIZE"], 16) == heap[0][1]      # sz is the end of the heap


def test_regions_match_what_gdbdemo_did(session):
    results, _, _ = session
    pid = results["demo.pid"]
    assert results["demo.regions"].startswith(f"pid {pid} (gdbdemo): 5 regions\n")
    assert results["demo.regions"] == results["demo.regions_pid"]
    got = rows(results["demo.regions"])
    assert len(got) == len(DEMO_REGIONS)
    for row, (start, end, prot, flags, resident) in zip(got, DEMO_REGIONS):
        assert int(row["START"], 16) == start and int(row["END"], 16) == end
        assert int(row["LENGTH"], 16) == end - start
        assert row["PROT"] == prot and row["FLAGS"] == flags
        assert row["RESIDENT"] == f"{resident}/{(end - start) // 4096}"
        assert (row["SHM"] != "-") == flags.startswith("shared|anonymous")
        assert row["FILE"].startswith("ino ") == (flags == "shared")
        if flags == "shared":
            assert row["FILE"].endswith(" gdbdemo.dat +0x0"), row["FILE"]
    assert results["demo.regions_init"] == "pid 1 (init): 0 regions\n"


def test_vmmap_matches_getmaps(session):
    """Every line of `xv6 vmmap` agrees with the kernel's own getmaps()."""
    results, console, _ = session
    truth = getmaps_lines(console)
    assert len(truth) == 9, console[-2000:]
    got = rows(results["demo.vmmap"])
    assert len(got) == len(truth)
    for row, (start, end, prot, kind, flags, resident) in zip(got, truth):
        assert (int(row["START"], 16), int(row["END"], 16), row["PROT"], row["KIND"]) == \
            (start, end, prot, kind)
        assert row["RESIDENT"] == f"{resident}/{(end - start + 4095) // 4096}"
        # The same flags value prints as every host tool prints it (hostlib.fmt).
        assert row["FLAGS"] == (fmt.map_flags(flags) if kind == "region" else "-")
    present = sum(t[5] for t in truth)
    pages = sum((t[1] - t[0]) // 4096 for t in truth)
    assert results["demo.vmmap"].startswith(
        f"pid {results['demo.pid']} (gdbdemo): 9 mappings, {present} of {pages} pages resident")
    init = rows(results["demo.vmmap_init"])
    assert [r["KIND"] for r in init] == ["text", "guard", "stack", "heap"]


def test_pagecache_shows_gdbdemo_file(session):
    """gdbdemo's file: 6000 bytes; page 0 cached, written through the shared
    mapping (dirty in the PTE: not yet handed over); page 1 never touched, so
    not cached; the inode is the one xv6 regions names."""
    results, _, _ = session
    pid = results["demo.pid"]
    text = results["demo.pagecache"]
    region = [r for r in rows(results["demo.regions"]) if r["FILE"] != "-"][0]
    inum = region["FILE"].split()[1]
    assert text.startswith(f"inode {inum} (gdbdemo.dat), 6000 bytes, 1 region, "), text
    got = rows(text)
    assert [r["PAGE"] for r in got] == ["0"], text
    page = got[0]
    assert page["OFFSET"] == "0x0" and page["DIRTY"] == "in PTE"
    assert page["MAPPED BY"] == f"{pid}@0x40040000"
    assert page["REFS"] == "2"                          # the cache's and the PTE's
    assert results["demo.pagecache_none"] == "inode 9999 is not mapped (no page cache)\n"


def test_pgtable_lists_present_pages(session):
    results, console, _ = session
    got = rows(results["demo.pgtable"])
    pages = set()
    for r in got:
        start, end = int(r["START"], 16), int(r["END"], 16)
        assert int(r["PAGES"]) == (end - start) // 4096
        pages |= set(range(start, end, 4096))
    assert {p for p in pages if p >= 0x40000000} == TOUCHED
    total = sum(m[5] for m in getmaps_lines(console))
    assert f"{total} user pages present" in results["demo.pgtable"]
    guard = [r for r in got if r["FLAGS"] == "P W"]         # the guard page: no PTE_U
    assert len(guard) == 1 and int(guard[0]["PAGES"]) == 1


def test_pte_translation(session):
    results, _, _ = session
    present = results["demo.pte_present"]
    assert re.search(r"PDE\[256\] at 0x[0-9a-f]{8} = 0x[0-9a-f]{8}  P W U", present)
    assert re.search(r"PTE\[0\] at 0x[0-9a-f]{8} = 0x[0-9a-f]{8}  P W U A D", present)
    assert re.search(r"va 0x40000000 -> pa 0x[0-9a-f]{5}000 \(user read/write\)", present)
    assert "mapping: region [0x40000000, 0x40003000) rw- private|anonymous" in present
    assert "not present: the page is not mapped" in results["demo.pte_untouched"]
    shared = results["demo.pte_shared"]
    assert re.search(r"va 0x40011234 -> pa 0x[0-9a-f]{5}234 \(user read-only\)", shared)
    assert "not present" in results["demo.pte_none"]
    assert "mapping: region [0x40030000, 0x40031000) --- private|anonymous" in \
        results["demo.pte_none"]
    nopde = results["demo.pte_nopde"]
    assert "PDE[128]" in nopde and "no page table covers this address" in nopde
    assert "mapping: none" in nopde
    assert "-> pa" in results["demo.pte_current"]
    assert "mapping: text [0x00000000," in results["demo.pte_expr"]


def test_mem(session):
    results, _, _ = session
    m = re.match(r"pages: (\d+) total .*, (\d+) free .*, (\d+) in use", results["demo.mem"])
    total, free, used = map(int, m.groups())
    assert total > free > 0 and used == total - free
    early = re.match(r"pages: (\d+) total .*, (\d+) free", results["early.mem"])
    assert int(early[1]) == total and int(early[2]) > free


def km_nclass():
    text = (ROOT / "xv6" / "kernel" / "kmstat.h").read_text()
    return int(re.search(r"#define KM_NCLASS\s+(\d+)", text)[1])


def test_kmalloc_classes(session):
    results, _, _ = session
    text = results["demo.kmalloc"]
    assert "note:" not in text, text
    classes = rows(text)
    assert len(classes) == km_nclass()
    sizes = [int(c["SIZE"]) for c in classes]
    assert sizes == sorted(sizes)
    for c in classes:
        assert int(c["SLABS"]) == int(c["PARTIAL"]) + int(c["FULL"]) + int(c["EMPTY"])
        assert int(c["FREE"]) == (int(c["SLABS"]) * int(c["PERSLAB"]) - int(c["OBJECTS"])
                                  - int(c["HOT"]))
        assert int(c["HOT"]) <= 2                          # one per CPU (-smp 2)
        assert int(c["ALLOCS"]) - int(c["FREES"]) == int(c["OBJECTS"])
    node_class, handle_class = map(int, results["kmalloc.classes"].split())
    assert int(classes[node_class]["OBJECTS"]) >= 4        # gdbdemo's region nodes
    assert int(classes[handle_class]["OBJECTS"]) >= 3      # gdbdemo's kmalloc(100) handles
    assert int(classes[handle_class]["BYTES"]) >= 300
    assert int(classes[handle_class]["HOT"]) == 1          # and the one it freed
    largest = classes[-1]                                 # and one of KMALLOC_MAX
    assert int(largest["OBJECTS"]) >= 1
    if largest["PERSLAB"] == "1":
        assert int(largest["FULL"]) >= 1                  # a full slab is on no list
    total = re.match(r"kmalloc: \d+ classes; (\d+) live objects", text)
    assert int(total[1]) == sum(int(c["OBJECTS"]) for c in classes)


def test_kmalloc_slabs_hold_the_region_nodes(session):
    results, _, _ = session
    slabs = {int(r["SLAB"], 16) for r in rows(results["demo.kmalloc_regions"])}
    nodes = [int(r["NODE"], 16) for r in rows(results["demo.regions"])]
    assert len(nodes) == 5 and {n & ~0xFFF for n in nodes} <= slabs
    handles = rows(results["demo.kmalloc_handles"])
    assert sum(int(r["USED"]) for r in handles) >= 3
    hot = re.search(r"^hot objects: cpu[01] 0x([0-9a-f]{8})$", results["demo.kmalloc_handles"],
                    re.MULTILINE)
    assert hot, results["demo.kmalloc_handles"]
    assert [int(r["HOT"]) for r in handles if int(r["SLAB"], 16) == int(hot[1], 16) & ~0xFFF] == [1]
    assert sum(int(r["HOT"]) for r in handles) == 1


def test_kmalloc_damaged_free_list(session):
    results, _, _ = session
    handle_class = results["kmalloc.classes"].split()[1]
    assert re.search(rf"^note: class {handle_class} partial slab 0x[0-9a-f]{{8}}: "
                     "free list loops", results["kmalloc_damaged"], re.MULTILINE)
    assert "free list loops" in results["kmalloc_damaged.class"]
    assert results["kmalloc_repaired"] == results["demo.kmalloc"]
    assert results["bad.kmalloc_class"] == f"xv6: no class 99: classes are 0..{km_nclass() - 1}\n"


def test_trace_rings_decode(session):
    results, _, dump = session
    text = results["demo.trace"]
    assert re.match(r"tracing (on|off), mask 0x[0-9a-f]+; cpu0: \d+ in memory", text)
    m = re.search(r"wrote (\d+) records \(cpu0 (\d+), cpu1 (\d+)\)", results["demo.trace_dump"])
    assert m, results["demo.trace_dump"]
    from xvtrace.decode import load
    trace = load(dump)
    assert trace.header.ncpu == 2 and not trace.damaged and not trace.truncated
    # compound records (fault_map, page_new) are expanded into the events they stand for
    assert len(trace.records) - trace.expanded == int(m[1]) == int(m[2]) + int(m[3])
    shown = [line for line in text.splitlines()[2:] if not line.startswith("note:")]
    assert shown, text
    # The last events `xv6 trace` printed are the last ones of the dump.
    tail = [trace.format_record(i) for i in range(len(trace.records))][-len(shown):]
    assert shown == tail


def test_trace_ring_that_wrapped(session):
    """session.py filled CPU 1's ring as if 2048 + 10 records had been
    written (record k carries on=k) and 5 more dropped: all but the oldest
    slot (which a stopped writer may be overwriting) come out, in order,
    and the drop is reported as a LOST record."""
    results, _, dump = session
    assert "cpu1: 2047 in memory" in results["wrap.trace"]
    # CPU 0's own records may interleave (by time) with CPU 1's.
    assert re.search(r"cpu1 pid 0 +trace_ctl +on=2057 .*\n(.*\n)*?.*cpu1 pid 0 +lost +cpu=1 "
                     r"count=5", results["wrap.trace"])
    assert re.search(r"\(cpu0 \d+, cpu1 2047\)", results["wrap.dump"])
    from xvtrace.decode import load
    trace = load(f"{dump}.wrapped")
    cpu1 = trace.records[trace.records["cpu"] == 1]
    ctl = trace.schema.by_name["trace_ctl"].id
    on = [int(r["a0"]) for r in cpu1 if r["type"] == ctl]
    assert on == list(range(11, 2058))
    assert trace.lost == 5


def test_pretty_printers(session):
    results, _, _ = session
    pid = results["demo.pid"]
    assert re.match(rf'\$\d+ = pid {pid} "gdbdemo" RUNNING, sz 0x[0-9a-f]+, 5 regions = '
                    r"\{sz = ", results["demo.print_proc"])
    assert re.match(r"\$\d+ = \[0x40000000, 0x40003000\) rw- private\|anonymous, "
                    r"next 0x[0-9a-f]{8}$", results["demo.print_region"])
    assert '"gdbdemo' in results["demo.print_current"]


def test_bad_arguments(session):
    results, _, _ = session
    for label in ("bad.nopid", "bad.vmmap_nopid", "bad.pte_nopid"):
        assert results[label] == "xv6: no process with pid 999 (see 'xv6 ps')\n"
    assert results["bad.pidtext"].startswith("xv6: bad pid 'nosuchthing'")
    # Each is a GDB error (gdb.GdbError), which stops a script, not just a printed line.
    assert {"bad.nopid", "bad.vmmap_nopid", "bad.pte_nopid", "bad.pidtext", "bad.pte_args",
            "bad.trace_args", "bad.trace_count", "bad.dump_path",
            "bad.kmalloc_class"} <= set(results["errors"])
    assert results["bad.pte_args"] == "xv6: usage: xv6 pte [PID] VA\n"
    assert results["bad.trace_args"] == "xv6: usage: xv6 trace [N] | dump FILE\n"
    assert results["bad.trace_count"] == "xv6: the count must be positive\n"
    assert results["bad.dump_path"].startswith("xv6: cannot write /nonexistent-dir/x.bin")
    assert "xv6: no process with pid 999" in results["bad.function"]


@pytest.mark.parametrize("label, problem", [
    ("loop", r"the list loops: region node 2 at 0x[0-9a-f]{8} is node 1 again"),
    ("user", r"region node 2 at 0x12345678: not a kernel address \(bad next pointer\)"),
    ("unmapped", r"region node 2 at 0xdead0000 is not mapped \(cannot read it\)"),
    ("garbage", r"region node 2 at 0x[0-9a-f]{8}: range \[.*\) is not page aligned"),
])
def test_corrupt_region_list(session, label, problem):
    """A damaged list: the good nodes, then one clear line; never a hang."""
    results, _, _ = session
    pid = results["demo.pid"]
    for key in (f"corrupt.{label}", f"corrupt.{label}.vmmap"):
        text = results[key]
        good = [(int(r["START"], 16), int(r["END"], 16)) for r in rows(text)]
        assert good[-2:] == [d[:2] for d in DEMO_REGIONS[:2]], text
        last = text.splitlines()[-1]
        assert re.fullmatch(rf"xv6: pid {pid} \(gdbdemo\): region list: {problem}.*", last), last


def test_count_mismatch_lock_and_repair(session):
    results, _, _ = session
    assert "note: the list has 5 regions but p->nregions is 4" in results["corrupt.count"]
    assert results["repaired"] == results["demo.regions"]
    assert results["locked"].endswith(
        "note: p->regionlock is held by cpu 1: the list may be changing\n")


def test_idle_cpu_has_no_process(session):
    results, _, _ = session
    assert re.match(r"xv6: no process is running on CPU \d", results["othercpu.regions"])
    assert results["othercpu.ps"] == results["demo.ps"]


def test_gdbdemo_ran_to_completion(session):
    results, console, _ = session
    assert f"gdbdemo: pid {results['demo.pid']}, 9 mappings" in console
