"""The kernel side: trace.c and tracectl.c compile with the kernel's flags,
and trace.c, run as a host program with its kernel calls stubbed
(hostkernel/), writes a stream the decoder reads back exactly."""

import shutil
import subprocess

import pytest

from hostlib import kconst
from xvtrace_testlib import REPO
from xvtrace.check import lost_by_cpu
from xvtrace.decode import load

KERNEL = REPO / "xv6" / "kernel"
CROSS = shutil.which("i686-linux-gnu-gcc")
HOSTCC = shutil.which("gcc")
KFLAGS = ["-m32", "-O2", "-Wall", "-Werror", "-fno-pic", "-fno-pie", "-fno-builtin",
          "-fno-strict-aliasing", "-fno-omit-frame-pointer", "-fno-stack-protector",
          "-ffreestanding", "-nostdinc", "-ggdb", "-I", str(KERNEL)]
TRACESTAT = kconst.kernel.trace_stats()     # names by TRACECTL_STATUS selector


@pytest.mark.skipif(CROSS is None, reason="no i686-linux-gnu-gcc")
@pytest.mark.parametrize("source, extra", [
    (KERNEL / "trace.c", []),
    (REPO / "xv6" / "user" / "tracectl.c", ["-I", str(REPO / "xv6" / "user")]),
])
def test_compiles_with_kernel_flags(tmp_path, source, extra):
    run = subprocess.run([CROSS, *KFLAGS, *extra, "-c", str(source), "-o",
                          str(tmp_path / "out.o")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


@pytest.fixture(scope="module")
def hostrun(tmp_path_factory):
    if HOSTCC is None:
        pytest.skip("no host C compiler")
    work = tmp_path_factory.mktemp("hostkernel")
    # trace.c next to the stub x86.h, so its #include "x86.h" finds the stub.
    shutil.copy(KERNEL / "trace.c", work)
    shutil.copy(REPO / "trace" / "tests" / "hostkernel" / "x86.h", work)
    exe = work / "hostkernel"
    subprocess.run([HOSTCC, "-O2", "-Wall", "-Werror", "-fno-builtin", "-fno-strict-aliasing",
                    "-iquote", str(work), "-I", str(KERNEL), "-o", str(exe), str(work / "trace.c"),
                    str(REPO / "trace" / "tests" / "hostkernel" / "hostkernel.c")],
                   check=True, capture_output=True, text=True)
    run = subprocess.run([str(exe), str(work / "com2.bin")], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    status = {TRACESTAT[int(k)]: int(v) for k, v in (l.split() for l in run.stdout.splitlines())}
    return load(work / "com2.bin"), status


def names(trace):
    return [trace.schema.events[int(t)].name for t in trace.records["type"]]


def test_stream_decodes_cleanly(hostrun):
    trace, status = hostrun
    assert trace.warnings == []
    assert (trace.header.ncpu, trace.header.page_size, trace.header.kernbase) == \
        (2, 4096, 0x80000000)
    assert trace.header.ring_records == status["ring_records"] == 2048
    assert trace.header.tsc_hz == status["tsc_khz"] * 1000 > 0
    assert trace.frames == status["frames"]


def test_counters_match_the_stream(hostrun):
    trace, status = hostrun
    n_lost_records = names(trace).count("lost")
    assert status["sent"] == len(trace.records) == status["emitted"] + n_lost_records
    assert status["buffered"] == 0                       # flushed
    assert status["lost"] == trace.lost == 100
    assert lost_by_cpu(trace) == {1: 100}
    assert status["on"] == 1 and status["mask"] == 0x7FFFFFFF
    assert status["lossless"] == 1 and status["stalls"] > 0


def test_overflow_keeps_the_oldest_and_reports_the_rest(hostrun):
    trace, _ = hostrun
    ev = names(trace)
    frees = [i for i, n in enumerate(ev) if n == "page_free"]
    assert len(frees) == 2048                           # a full ring of them
    pas = [trace.event(i)[1]["pa"] for i in frees]
    assert pas == [0x1000 * i for i in range(2048)]     # the newest were dropped
    i = ev.index("lost")
    assert trace.event(i)[1] == {"cpu": 1, "count": 100}
    assert ev[i + 1] == "heap"                           # then the event that found room


def test_records_carry_cpu_pid_and_fields(hostrun):
    trace, _ = hostrun
    ev = names(trace)
    i = ev.index("procname")
    assert trace.event(i)[1] == {"name": "init"} and trace.records["pid"][i] == 1
    i = ev.index("exec")                                 # recorded with pid 0 running
    assert trace.records["pid"][i] == 1 and trace.event(i)[1]["sz"] == 0x3000
    i = ev.index("mmap")
    assert trace.event(i)[1] == {"hint": 0, "length": 0x2000, "prot": 3, "flags": 0x22}
    assert trace.event(i + 1)[1] == {"result": 0x7FFFD000}
    i = ev.index("heap")
    assert trace.records["cpu"][i] == 1 and trace.records["pid"][i] == 2
    assert trace.records["cpu"][ev.index("mem_range")] == 0      # before mpinit


def test_lossless_mode_waits_instead_of_dropping(hostrun):
    trace, _ = hostrun
    ev = names(trace)
    addrs = [trace.event(i)[1]["addr"] for i, n in enumerate(ev) if n == "kmalloc"]
    assert addrs == [0x80100000 + 16 * i for i in range(2 * 2048)]
    assert ev.count("lost") == 1                        # only the earlier, lossy one


def test_mask_off_and_tracectl(hostrun):
    trace, _ = hostrun
    ev = names(trace)
    allocs = [trace.event(i)[1]["pa"] for i, n in enumerate(ev) if n == "page_alloc"]
    assert allocs == [0x500000]                          # masked, then off: not recorded
    assert "exit" in ev and "reap" in ev
    ctl = [trace.event(i)[1] for i, n in enumerate(ev) if n == "trace_ctl"]
    assert ctl == [{"on": 1, "mask": 0x7FFFFFFF}, {"on": 1, "mask": 0x7FFFFFEF},
                   {"on": 1, "mask": 0x7FFFFFFF}, {"on": 0, "mask": 0x7FFFFFFF},
                   {"on": 1, "mask": 0x7FFFFFFF}]
    errs = [trace.format_record(i) for i, n in enumerate(ev) if n == "syserr"]
    assert errs[0].endswith("sysno=24 err=nomem value=0x0")
    assert errs[1].endswith("sysno=30 err=badarg value=0x63")
    i = ev.index("page_map")
    assert trace.event(i)[1] == {"va": 0x7FFFD000, "pa": 0x500000, "shared": 0, "pid": 1}
    assert trace.event(i - 1)[1] == {"pa": 0x500000, "owner": 3}


@pytest.mark.skipif(CROSS is None, reason="no i686-linux-gnu-gcc")
def test_kernel_constants_agree_with_the_event_tables(tmp_path):
    """Where the kernel has its own names for values that go into events
    (kalloc_as() owners in defs.h, fault_handler() verdicts), they must
    equal the ones traceevents.h gives the host."""
    import re
    from xvtrace.schema import Schema, schema_text_from_header
    schema = Schema.parse(schema_text_from_header())
    defs = (KERNEL / "defs.h").read_text()
    pairs = [(f"PG_{label.upper()}", f"OWNER_{label.upper()}")
             for label in schema.enums["owner"].values()]
    pairs += [(f"FAULT_{label.upper()}", f"OUTCOME_{label.upper()}")
              for label in schema.enums["outcome"].values()]
    pairs = [(k, t) for k, t in pairs if re.search(rf"\b{k}\b", defs)]
    if not pairs:
        pytest.skip("defs.h has no names of its own for these values")
    src = tmp_path / "agree.c"
    src.write_text('#include "types.h"\n#include "defs.h"\n#include "traceevents.h"\n' +
                   "".join(f'_Static_assert((int){k} == (int){t}, "{k} != {t}");\n' for k, t in pairs))
    run = subprocess.run([CROSS, *KFLAGS, "-c", str(src), "-o", str(tmp_path / "agree.o")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
