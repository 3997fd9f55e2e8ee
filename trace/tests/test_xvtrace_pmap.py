"""replay shows the address space pmap shows: boot the real kernel, run `pmap` (its own
space) and `pmap 1` (init's) with the trace on, and compare what they printed with what
the replay of the capture says at the moment pmap exited, line for line.

Needs `make` first (out/kernel, out/fs.img) and qemu-system-i386; skipped without them.
"""

import re
import shutil

import pytest

from hostlib import fmt
from tests import harness
from tests.harness import Step
from xvtrace import replay
from xvtrace.decode import load

PMAP_LINE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{8} \S{4} \w+ \d+/\d+$", re.M)

pytestmark = pytest.mark.skipif(
    not (shutil.which("qemu-system-i386") and harness.KERNEL.exists()
         and harness.FS_IMAGE.exists()),
    reason="needs qemu-system-i386 and a built kernel (make)")


@pytest.fixture(scope="module")
def boot(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pmapboot")
    steps = [Step("tracectl lossless on", "", timeout=30),
             Step("pmap", r"stack", timeout=60), Step("pmap 1", r"stack", timeout=60),
             Step("tracectl flush", "", timeout=120)]
    result = harness.run_boot(steps, cpus=2, log_path=tmp / "console.log",
                              com2_path=tmp / "com2.bin", image_path=tmp / "fs.img")
    assert result.ok, (tmp / "console.log").read_text()[-2000:]
    return (tmp / "console.log").read_text(errors="replace"), load(tmp / "com2.bin")


def printed(console, command):
    """The pmap lines the console shows after `$ command`."""
    after = console.split(f"$ {command}\n", 1)[1]
    block = after.split("$ ", 1)[0]
    return PMAP_LINE.findall(block.replace("\r", ""))


def replayed(trace, pid, at_pid):
    """pid's mappings as pmap lines, when process at_pid (a pmap) exited."""
    exit_id = trace.schema.by_name["exit"].id
    recs = trace.records
    [i] = [i for i in range(len(recs))
           if recs["type"][i] == exit_id and recs["a0"][i] == at_pid]
    st = replay.state_at(trace, trace.times[i])
    return [fmt.pmap_line(m.start, m.end, m.prot, m.flags, m.kind, m.resident, m.pages)
            for m in st.processes[pid].mappings()]


def pmap_pids(trace):
    """Pids of the processes named pmap, in order."""
    name_id = trace.schema.by_name["procname"].id
    out = []
    for i in range(len(trace.records)):
        if trace.records["type"][i] == name_id:
            etype, fields = trace.event(i)
            if fields.get("name") == "pmap":
                out.append(int(trace.records["pid"][i]))
    return out


def test_replay_of_pmap_itself(boot):
    console, trace = boot
    first, _ = pmap_pids(trace)
    lines = printed(console, "pmap")
    assert [line.split()[2] for line in lines] == ["text", "guard", "stack", "heap"]
    assert replayed(trace, first, first) == lines


def test_replay_of_init(boot):
    console, trace = boot
    _, second = pmap_pids(trace)
    lines = printed(console, "pmap 1")
    assert lines and replayed(trace, 1, second) == lines
