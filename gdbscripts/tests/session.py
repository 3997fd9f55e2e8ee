"""One scripted GDB session against the kernel, run inside gdb-multiarch.

    gdb-multiarch -nx -batch -x session.py    (settings in the environment)

test_gdb.py starts QEMU waiting for GDB, then this script. It stops the
kernel at three points -- before paging is on, before the first process
exists, and in sys_getmaps called by the gdbdemo program -- runs `xv6`
commands at each, damages gdbdemo's region list on purpose, repairs it, and
lets gdbdemo finish. What every command printed is saved as JSON, by label,
for the test to judge.

Environment: XV6GDB_KERNEL (ELF with debug info), XV6GDB_PORT, XV6GDB_RESULTS
(JSON file to write), XV6GDB_DUMP (trace capture file to write; a second
one, of a ring made to wrap around, goes to XV6GDB_DUMP.wrapped).
"""

import json
import os
import struct
import sys
import time

import gdb

HERE = os.path.dirname(os.path.abspath(__file__))
WRAP_EXTRA = 10          # records written to a full ring beyond its size
WRAP_PENDING = 5         # events dropped since its last LOST record
DEMO_OBJSIZE = 100       # bytes of each of gdbdemo's kmalloc() objects
results = {}


def run(label, command):
    """Run a GDB command; record its output (or GDB's error) under label. An
    `xv6` command's error is recorded as the line GDB prints, and its label in
    results["errors"]."""
    try:
        results[label] = gdb.execute(command, to_string=True)
    except gdb.error as e:
        if str(e).startswith("xv6: "):
            results[label] = f"{e}\n"
            results.setdefault("errors", []).append(label)
        else:
            results[label] = f"GDB ERROR: {e}\n"
    save()
    return results[label]


def save():
    with open(os.environ["XV6GDB_RESULTS"], "w") as f:
        json.dump(results, f, indent=1)


def connect(address, seconds=20):
    """target remote, retried while QEMU is still starting up."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            gdb.execute(f"target remote {address}")
            return
        except gdb.error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def trace_ring_wrapped():
    """Fill CPU 1's ring as if WRAP_EXTRA records more than it holds had
    been written, with WRAP_PENDING events dropped since; dump it; put the
    ring back as it was. Record k (k counts from 0 since boot) is a
    trace_ctl event whose 'on' field is k."""
    from xv6gdb.utils import symbol, u32
    ring = symbol("trace_rings")[1]
    size = int(ring["rec"].type.range()[1]) + 1
    base = u32(ring["rec"].address)
    recsize = ring["rec"][0].type.sizeof
    inferior = gdb.selected_inferior()
    saved = bytes(inferior.read_memory(base, size * recsize))
    counters = {f: int(ring[f]) for f in ("head", "tail", "pending", "lost")}
    head = size + WRAP_EXTRA
    event = int(gdb.parse_and_eval("EV_TRACE_CTL"))
    tsc0 = int(symbol("tsc0"))
    slots = bytearray(size * recsize)
    for k in range(head - size, head):
        # Far in the future, so that these are the newest records of all CPUs.
        record = struct.pack("<QHBBI4I", tsc0 + (1 << 50) + k, event, 1, 0, 0, k, 0, 0, 0)
        slot = k % size
        slots[slot * recsize:slot * recsize + len(record)] = record
    inferior.write_memory(base, bytes(slots))
    path = os.environ["XV6GDB_DUMP"] + ".wrapped"
    try:
        for field, value in (("head", head), ("tail", head), ("pending", WRAP_PENDING)):
            gdb.execute(f"set var trace_rings[1].{field} = {value}")
        run("wrap.trace", "xv6 trace 3")
        run("wrap.dump", f"xv6 trace dump {path}")
    finally:
        inferior.write_memory(base, saved)
        for field, value in counters.items():
            gdb.execute(f"set var trace_rings[1].{field} = {value}")


def kmalloc_class(nbytes):
    """Index of the kmalloc size class that serves nbytes."""
    classes = gdb.parse_and_eval("kmclasses")
    for i in range(classes.type.range()[1] + 1):
        if int(classes[i]["size"]) >= nbytes:
            return i
    raise gdb.GdbError(f"no kmalloc class holds {nbytes} bytes")


def kmalloc_freelist_damaged(index):
    """Make the first free object of class index's partial slab link to
    itself, as a write after kmfree might; then put it back."""
    c = f"kmclasses[{index}]"
    head = int(gdb.parse_and_eval(f"{c}.partial->freehead"))
    obj = int(gdb.parse_and_eval(f"(unsigned int){c}.partial + {c}.hdrsize + "
                                 f"{head} * {c}.size"))
    link = f"*(unsigned short *){obj}"
    saved = int(gdb.parse_and_eval(link))
    gdb.execute(f"set var {link} = {head}")
    try:
        run("kmalloc_damaged", "xv6 kmalloc")
        run("kmalloc_damaged.class", f"xv6 kmalloc {index}")
    finally:
        gdb.execute(f"set var {link} = {saved}")
    run("kmalloc_repaired", "xv6 kmalloc")


def main():
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("set width 0")
    gdb.execute("set style enabled off")
    gdb.execute(f"symbol-file {os.environ['XV6GDB_KERNEL']}")
    sys.path.insert(0, os.path.join(HERE, "..", ".."))     # the root, as .gdbinit does
    import xv6gdb  # noqa: F401  (registers the commands)
    from xv6gdb import procs
    run("unconnected", "xv6 ps")
    connect(f"127.0.0.1:{os.environ['XV6GDB_PORT']}")

    run("help", "help xv6")
    run("unknown", "xv6 frobnicate 3")

    # 1. At the reset vector: paging is off, no kernel address is readable.
    run("reset.ps", "xv6 ps")
    run("reset.mem", "xv6 mem")

    # 2. Before the first process exists.
    gdb.execute("break userinit")
    gdb.execute("continue")
    gdb.execute("delete")
    run("early.ps", "xv6 ps")
    run("early.regions", "xv6 regions")
    run("early.vmmap1", "xv6 vmmap 1")
    run("early.mem", "xv6 mem")

    # 3. In sys_getmaps, called by gdbdemo (the test types its name).
    gdb.execute("break sys_getmaps")
    gdb.execute("continue")
    gdb.execute("delete")
    demo = procs.current_proc()
    pid = int(demo["pid"])
    results["demo.pid"] = str(pid)
    run("demo.ps", "xv6 ps")
    run("demo.regions", "xv6 regions")
    run("demo.regions_pid", f"xv6 regions {pid}")
    run("demo.vmmap", "xv6 vmmap")
    run("demo.pagecache", "xv6 pagecache")
    run("demo.pagecache_none", "xv6 pagecache 9999")
    run("demo.vmmap_init", "xv6 vmmap 1")
    run("demo.regions_init", "xv6 regions 1")
    run("demo.pgtable", f"xv6 pgtable {pid}")
    run("demo.pte_present", f"xv6 pte {pid} 0x40000000")
    run("demo.pte_untouched", f"xv6 pte {pid} 0x40001000")
    run("demo.pte_shared", f"xv6 pte {pid} 0x40011234")
    run("demo.pte_none", f"xv6 pte {pid} 0x40030000")
    run("demo.pte_nopde", f"xv6 pte {pid} 0x20000000")
    run("demo.pte_current", "xv6 pte 0x40020000")
    run("demo.pte_expr", "xv6 pte $xv6_current()->tf->eip")
    run("demo.mem", "xv6 mem")
    run("demo.kmalloc", "xv6 kmalloc")
    node_class = kmalloc_class(gdb.lookup_type("struct region").sizeof)
    handle_class = kmalloc_class(DEMO_OBJSIZE)
    results["kmalloc.classes"] = f"{node_class} {handle_class}"
    run("demo.kmalloc_regions", f"xv6 kmalloc {node_class}")
    run("demo.kmalloc_handles", f"xv6 kmalloc {handle_class}")
    kmalloc_freelist_damaged(handle_class)
    run("demo.trace", "xv6 trace 8")
    run("demo.trace_dump", f"xv6 trace dump {os.environ['XV6GDB_DUMP']}")
    trace_ring_wrapped()
    run("demo.print_proc", f"print *$xv6_proc({pid})")
    run("demo.print_region", f"print *$xv6_proc({pid})->regions")
    run("demo.print_current", "print $xv6_current()->name")

    # Bad arguments.
    run("bad.nopid", "xv6 regions 999")
    run("bad.vmmap_nopid", "xv6 vmmap 999")
    run("bad.pte_nopid", "xv6 pte 999 0x1000")
    run("bad.pidtext", "xv6 regions nosuchthing")
    run("bad.pte_args", "xv6 pte 1 2 3")
    run("bad.trace_args", "xv6 trace dump")
    run("bad.trace_count", "xv6 trace 0")
    run("bad.dump_path", "xv6 trace dump /nonexistent-dir/x.bin")
    run("bad.function", "print $xv6_proc(999)")
    run("bad.kmalloc_class", "xv6 kmalloc 99")

    # A damaged region list: the second node's next pointer made to loop,
    # to point into user space, into unmapped kernel space, at a node
    # whose range is garbage; then a wrong count, then the list's lock
    # taken as if another CPU were changing it. Restored afterwards.
    second = f"$xv6_proc({pid})->regions->next"
    saved = int(gdb.parse_and_eval(f"(unsigned int){second}->next"))
    for label, value in (("loop", f"{second}"), ("user", "0x12345678"),
                         ("unmapped", "0xdead0000"), ("garbage", "&ptable")):
        gdb.execute(f"set var {second}->next = (struct region *)({value})")
        run(f"corrupt.{label}", "xv6 regions")
        run(f"corrupt.{label}.vmmap", "xv6 vmmap")
    gdb.execute(f"set var {second}->next = (struct region *){saved}")
    gdb.execute(f"set var $xv6_proc({pid})->nregions = 4")
    run("corrupt.count", "xv6 regions")
    gdb.execute(f"set var $xv6_proc({pid})->nregions = 5")
    run("repaired", "xv6 regions")
    lock = f"$xv6_proc({pid})->regionlock"
    gdb.execute(f"set var {lock}.locked = 1")
    gdb.execute(f"set var {lock}.cpu = &cpus[1]")
    run("locked", "xv6 regions")
    gdb.execute(f"set var {lock}.cpu = 0")
    gdb.execute(f"set var {lock}.locked = 0")

    # The other CPU: idle in the scheduler, running no process.
    this = gdb.selected_thread()
    other = [t for t in gdb.selected_inferior().threads() if t.num != this.num]
    if other:
        other[0].switch()
        run("othercpu.regions", "xv6 regions")
        run("othercpu.ps", "xv6 ps")
        this.switch()

    # Let gdbdemo print its own view (getmaps) and exit.
    gdb.execute("break exit")
    gdb.execute("continue")
    results["finished"] = "yes"
    save()
    gdb.execute("delete")
    gdb.execute("kill")


try:
    main()
finally:
    save()
