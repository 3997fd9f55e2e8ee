"""Processes and CPUs: ptable.proc[] (proc.c), cpus[] and ncpu (mp.c).

Under QEMU each GDB thread is one CPU: thread 1.N is the CPU with APIC id
N-1. The kernel numbers CPUs in MP-table order (cpus[i].apicid), so a
thread is matched to its struct cpu by APIC id.
"""

import gdb

from .utils import (Xv6Command, Xv6Error, array_length, constants, enum_names, fetch,
                    parse_int, symbol, table, u32)


def proc_table():
    """ptable.proc, read in one go."""
    return fetch(symbol("ptable")["proc"], "ptable")


def live_procs():
    """Every struct proc in ptable that is not UNUSED, in table order."""
    procs = proc_table()
    unused = {v for v, n in enum_names("enum procstate").items() if n == "UNUSED"}
    return [procs[i] for i in range(array_length(procs)) if int(procs[i]["state"]) not in unused]


def state_name(p):
    state = int(p["state"])
    return enum_names("enum procstate").get(state, f"?{state}")


def proc_name(p):
    raw = bytes(int(p["name"][i]) & 0xFF for i in range(array_length(p["name"])))
    raw = raw.split(b"\0", 1)[0]
    return "".join(chr(b) if 32 <= b < 127 else f"\\x{b:02x}" for b in raw)


def find_proc(pid):
    """The live struct proc with pid, or Xv6Error."""
    for p in live_procs():
        if int(p["pid"]) == pid:
            return p
    raise Xv6Error(f"no process with pid {pid} (see 'xv6 ps')")


def ncpu():
    return int(symbol("ncpu"))


def running_cpus():
    """{address of struct proc: index of the CPU running it}."""
    cpus = symbol("cpus")
    out = {}
    for i in range(min(ncpu(), array_length(cpus))):
        p = u32(cpus[i]["proc"])
        if p:
            out[p] = i
    return out


def selected_cpu():
    """Index in cpus[] of the CPU of the selected GDB thread."""
    thread = gdb.selected_thread()
    if thread is None:
        raise Xv6Error("no thread selected: is GDB connected to QEMU?")
    apicid = (thread.ptid[1] or thread.num) - 1
    n = ncpu()
    if n == 0:
        raise Xv6Error("the kernel has not found its CPUs yet (ncpu is 0: stopped before mpinit)")
    cpus = symbol("cpus")
    for i in range(min(n, array_length(cpus))):
        if int(cpus[i]["apicid"]) == apicid:
            return i
    if apicid < n:
        return apicid
    raise Xv6Error(f"GDB thread {thread.num} matches none of the kernel's {n} CPUs")


def lock_holder(lock):
    """'cpu N' if the spinlock is held (by cpus[N]), '' if it is free."""
    if not int(lock["locked"]):
        return ""
    cpu = u32(lock["cpu"])
    cpus = symbol("cpus")
    base, size = u32(cpus[0].address), cpus[0].type.sizeof
    if cpu and base <= cpu < base + size * array_length(cpus):
        return f"cpu {(cpu - base) // size}"
    return "held"


def current_proc():
    """The process the selected CPU is running: the one whose kernel stack
    holds $esp (right even while cpus[].proc is being switched), else the
    selected CPU's cpus[i].proc."""
    esp = u32(gdb.parse_and_eval("$esp"))
    kstacksize = constants["KSTACKSIZE"]
    for p in live_procs():
        kstack = u32(p["kstack"])
        if kstack and kstack <= esp < kstack + kstacksize:
            return p
    cpu = selected_cpu()
    addr = u32(symbol("cpus")[cpu]["proc"])
    if addr == 0:
        raise Xv6Error(f"no process is running on CPU {cpu} (cpus[{cpu}].proc is 0: "
                       "the CPU is in the scheduler or still booting); give a pid")
    for p in live_procs():
        if u32(p.address) == addr:
            return p
    raise Xv6Error(f"cpus[{cpu}].proc is 0x{addr:08x}, not a live entry of ptable")


def proc_from_args(argv, usage):
    """The process named by argv[0] (a pid), or the current one."""
    if len(argv) > 1:
        usage()
    if argv:
        return find_proc(parse_int(argv[0], "pid"))
    return current_proc()


def describe(p):
    return f"pid {int(p['pid'])} ({proc_name(p)})"


class Ps(Xv6Command):
    """List processes: pid, parent, state, name, size, regions, CPU running it.

Usage: xv6 ps
Every ptable entry that is not UNUSED. SIZE is p->sz (text, data, stack
and heap); NREGIONS is p->nregions; CPU is the index i of the cpus[i]
whose proc points at the process, '-' if none does."""

    NAME = "ps"

    def run(self, argv):
        if argv:
            self.usage()
        procs = live_procs()
        if not procs:
            gdb.write("no processes (the kernel has not started init yet)\n")
            return
        cpu_of = running_cpus()
        pid_at = {u32(p.address): int(p["pid"]) for p in procs}
        rows = []
        for p in procs:
            parent = u32(p["parent"])
            cpu = cpu_of.get(u32(p.address))
            rows.append([
                str(int(p["pid"])),
                str(pid_at.get(parent, "?")) if parent else "-",
                state_name(p),
                proc_name(p),
                f"0x{u32(p['sz']):x}",
                str(int(p["nregions"])),
                "-" if cpu is None else str(cpu),
            ])
        gdb.write(table(["PID", "PPID", "STATE", "NAME", "SIZE", "NREGIONS", "CPU"], rows,
                        right=("PID", "PPID", "SIZE", "NREGIONS", "CPU")))


class ProcFunction(gdb.Function):
    """$xv6_proc(PID): a struct proc * for the process with that pid,
    e.g. print *$xv6_proc(3) or print $xv6_proc(3)->regions->end."""

    def __init__(self):
        super().__init__("xv6_proc")

    def invoke(self, pid):
        try:
            return find_proc(int(pid)).address
        except Xv6Error as e:
            raise gdb.GdbError(f"xv6: {e}") from None


class CurrentFunction(gdb.Function):
    """$xv6_current(): the struct proc * the selected CPU is running."""

    def __init__(self):
        super().__init__("xv6_current")

    def invoke(self):
        try:
            return current_proc().address
        except Xv6Error as e:
            raise gdb.GdbError(f"xv6: {e}") from None


Ps()
ProcFunction()
CurrentFunction()
