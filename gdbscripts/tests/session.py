"""One scripted GDB session against the kernel, run inside gdb-multiarch.

    gdb-multiarch -nx -batch -x session.py    (settings in the environment)

test_gdb.py starts QEMU waiting for GDB, then this script. It stops the
kernel at three points -- before paging is on, before the first process
exists, and in sys_getmaps called by the gdbdemo program -- runs `xv6`
commands at each, damages gdbdemo's region list on purpose, repairs it, and
lets gdbdemo finish. What every command printed is saved as JSON, by label,
for the test to judge.

Environment: XV6GDB_KERNEL (ELF with debug info), XV6GDB_PORT, XV6GDB_RESULTS
(JSON file to write), XV6GDB_DUMP (trace capture file to write).
"""

import json
import os
import sys

import gdb

HERE = os.path.dirname(os.path.abspath(__file__))
results = {}


def run(label, command):
    """Run a GDB command; record its output (or GDB's error) under label."""
    try:
        results[label] = gdb.execute(command, to_string=True)
    except gdb.error as e:
        results[label] = f"GDB ERROR: {e}\n"
    return results[label]


def save():
    with open(os.environ["XV6GDB_RESULTS"], "w") as f:
        json.dump(results, f, indent=1)


def main():
    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("set width 0")
    gdb.execute("set style enabled off")
    gdb.execute(f"symbol-file {os.environ['XV6GDB_KERNEL']}")
    sys.path.insert(0, os.path.join(HERE, ".."))
    import xv6gdb
    from xv6gdb import procs
    gdb.execute(f"target remote 127.0.0.1:{os.environ['XV6GDB_PORT']}")

    run("help", "help xv6")

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
    run("demo.vmmap_init", "xv6 vmmap 1")
    run("demo.regions_init", "xv6 regions 1")
    run("demo.pgtable", f"xv6 pgtable {pid}")
    run("demo.pte_present", f"xv6 pte {pid} 0x40000000")
    run("demo.pte_untouched", f"xv6 pte {pid} 0x40001000")
    run("demo.pte_shared", f"xv6 pte {pid} 0x40011234")
    run("demo.pte_none", f"xv6 pte {pid} 0x40030000")
    run("demo.pte_nopde", f"xv6 pte {pid} 0x20000000")
    run("demo.pte_current", "xv6 pte 0x40020000")
    run("demo.mem", "xv6 mem")
    run("demo.kmalloc", "xv6 kmalloc")
    run("demo.trace", "xv6 trace 8")
    run("demo.trace_dump", f"xv6 trace dump {os.environ['XV6GDB_DUMP']}")
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

    # A damaged region list: the second node's next pointer made to loop,
    # to point into user space, into unmapped kernel space, at a node
    # whose range is garbage; then a wrong count. Restored afterwards.
    second = f"$xv6_proc({pid})->regions->next"
    saved = int(gdb.parse_and_eval(f"(unsigned int){second}->next"))
    for label, value in (("loop", f"{second}"), ("user", "0x12345678"),
                         ("unmapped", "0xdead0000"), ("garbage", "&ptable")):
        gdb.execute(f"set var {second}->next = (struct region *)({value})")
        run(f"corrupt.{label}", "xv6 regions")
        run(f"corrupt.{label}.vmmap", "xv6 vmmap")
    gdb.execute(f"set var {second}->next = (struct region *){saved}")
    gdb.execute(f"set var $xv6_proc({pid})->nregions = 3")
    run("corrupt.count", "xv6 regions")
    gdb.execute(f"set var $xv6_proc({pid})->nregions = 4")
    run("repaired", "xv6 regions")

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
