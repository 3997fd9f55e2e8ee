"""The tools agree: the same value prints the same way in `xvtrace list`,
`replay`, the Perfetto and CTF exports (hostlib.fmt); replay's parents follow
exit(); the CTF clock starts where `xvtrace list`'s time starts."""

import json
import re
import shutil
import subprocess

import pytest

from hostlib import fmt
from xvtrace_testlib import MS, run_cli, session
from xvtrace import replay
from xvtrace.decode import decode
from xvtrace.writer import Capture

# The session's mmap: prot 3, flags 0x22; its fault: errcode 6.
PROT, FLAGS, ERRCODE = "rw-", "private|anonymous", "write|user|not-present"


def test_formatter_names():
    assert [fmt.prot(v) for v in (0, 1, 3, 7)] == ["---", "r--", "rw-", "rwx"]
    assert fmt.map_flags(0x22) == FLAGS and fmt.map_flags(0) == "-"
    assert fmt.map_flags(0x21) == "shared|anonymous"
    assert fmt.map_flags(0x22 | 0x80000000) == "private|anonymous|0x80000000"
    assert fmt.errcode(6) == ERRCODE and fmt.errcode(7) == "write|user|present"
    assert fmt.errcode(0) == "read|kernel|not-present"
    assert fmt.errcode(0x15) == "fetch|user|present"
    assert fmt.pmap_perms(3, 0x21, "region") == "rw-s"
    assert fmt.pmap_perms(3, 0x21, "heap") == "rw-p"


@pytest.fixture
def capture(tmp_path):
    path = tmp_path / "s.bin"
    path.write_bytes(session(Capture(ncpu=2, tsc_hz=1_000_000_000, tsc0=69_000_000))
                     .to_bytes())
    return path


def test_list_and_replay_print_the_formatter_strings(capture):
    listed = run_cli("list", capture, "--event", "mmap,fault").stdout
    assert f"prot={PROT} flags={FLAGS}" in listed and f"errcode={ERRCODE}" in listed
    replayed = run_cli("replay", capture, "--at", "4.6ms", "--pid", "2").stdout
    assert f"{PROT}p region 1/2 {FLAGS}" in replayed


def test_perfetto_args_print_the_formatter_strings(capture, tmp_path):
    assert run_cli("export", capture, "--perfetto", tmp_path / "p.json").returncode == 0
    events = json.loads((tmp_path / "p.json").read_text())["traceEvents"]
    region = next(e for e in events if e.get("cat") == "region" and e["ph"] == "b")
    assert (region["args"]["prot"], region["args"]["flags"]) == (PROT, FLAGS)
    [fault] = [e for e in events if e.get("cat") == "fault"]
    assert fault["args"]["errcode"] == ERRCODE


needs_babeltrace = pytest.mark.skipif(not shutil.which("babeltrace2"),
                                      reason="needs babeltrace2 (apt-get install babeltrace2)")


def babeltrace(directory):
    return subprocess.run(["babeltrace2", "--clock-seconds", str(directory)],
                          capture_output=True, text=True, timeout=60, check=True).stdout


@needs_babeltrace
def test_ctf_labels_and_clock_agree_with_list(capture, tmp_path):
    assert run_cli("export", capture, "--ctf", tmp_path / "ctf").returncode == 0
    shown = babeltrace(tmp_path / "ctf")
    assert f'prot = ( "{PROT}"' in shown and f'errcode = ( "{ERRCODE}"' in shown
    first_ctf = float(re.match(r"\[(\d+\.\d+)\]", shown).group(1))
    listed = run_cli("list", capture).stdout.splitlines()
    first_list = float(listed[0].split()[0])
    # The capture starts 69 ms after the TSC's zero: both must say 0.
    assert first_ctf == pytest.approx(first_list, abs=1e-6)
    last_ctf = float(re.findall(r"^\[(\d+\.\d+)\]", shown, re.M)[-1])
    assert last_ctf == pytest.approx(float(listed[-1].split()[0]), abs=1e-6)


def test_parent_follows_exit_to_init():
    """sh (2) forks 3 and exits; init (1) adopts 3, as exit() does."""
    extra = [(7.5, "fork", {"parent": 2, "child": 3, "running": 2}),
             (7.6, "procname", {"pid": 3, "name": "child", "running": 3})]
    trace = decode(session(extra=extra).to_bytes())
    assert replay.state_at(trace, 7.7 * MS).processes[3].parent == 2
    assert replay.state_at(trace, 8.1 * MS).processes[3].parent == 1


def test_replay_address_space_is_pmaps():
    """text, guard, stack, heap, region: pmap's kinds, order and page counts."""
    st = replay.state_at(decode(session().to_bytes()), 4.6 * MS)
    maps = st.processes[2].mappings()
    assert [(m.kind, m.start, m.end, fmt.prot(m.prot), m.resident, m.pages) for m in maps] == [
        ("text", 0, 0x1000, "rwx", 1, 1), ("guard", 0x1000, 0x2000, "---", 1, 1),
        ("stack", 0x2000, 0x3000, PROT, 1, 1), ("heap", 0x3000, 0x3000, PROT, 0, 0),
        ("region", 0x7FFFD000, 0x7FFFF000, PROT, 1, 2)]
