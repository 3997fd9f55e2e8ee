"""Tests of the test harness: the suite parser and closing line on text in memory, and whole
boots end to end against a stand-in for QEMU that imitates the console."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import harness, run_tests
from tests.harness import Step, parse_suite

HERE = Path(__file__).resolve().parent


def suite(*lines, nl="\n"):
    return nl.join(lines) + nl


GOOD = suite("BEGIN demo 3", "PASS fork", "PASS exec", "PASS pipe", "END demo")


# ---------------------------------------------------------------- parse_suite

def test_all_pass():
    r = parse_suite(GOOD)
    assert r.ok and r.name == "demo" and r.announced == 3 and r.ended and not r.panicked
    assert r.cases == [("fork", True, ""), ("exec", True, ""), ("pipe", True, "")]
    assert r.problems == []


def test_fail_line():
    r = parse_suite(suite("BEGIN demo 2", "PASS fork", "FAIL exec: returned -1", "END demo"))
    assert not r.ok and r.problems == []
    assert r.cases[1] == ("exec", False, "returned -1")


def test_fail_without_reason():
    r = parse_suite(suite("BEGIN demo 1", "FAIL exec", "END demo"))
    assert r.cases == [("exec", False, "no reason given")]


def test_panic():
    r = parse_suite(suite("BEGIN demo 3", "PASS fork", "cpu1: panic: acquire", "PASS exec"))
    assert not r.ok and r.panicked
    assert r.problems[0] == "kernel panic: acquire"
    assert "no END line" in r.problems


def test_missing_end():
    r = parse_suite(suite("BEGIN demo 3", "PASS fork", "PASS exec", "PASS pipe"))
    assert not r.ok and not r.ended and r.problems == ["no END line"]


def test_too_few_results():
    r = parse_suite(suite("BEGIN demo 3", "PASS fork", "PASS exec", "END demo"))
    assert not r.ok and r.problems == ["announced 3 cases, 2 reported"]


def test_too_many_results():
    r = parse_suite(suite("BEGIN demo 1", "PASS fork", "PASS exec", "END demo"))
    assert r.problems == ["announced 1 cases, 2 reported"]


def test_duplicated_case():
    r = parse_suite(suite("BEGIN demo 3", "PASS fork", "PASS fork", "PASS pipe", "END demo"))
    assert not r.ok and r.problems == ["case fork reported 2 times"]


def test_no_begin():
    r = parse_suite("exec usertests failed\n")
    assert not r.ok and r.name is None
    assert r.problems == ["no BEGIN line (output: 'exec usertests failed')"]


def test_no_output():
    assert parse_suite("").problems == ["no BEGIN line (no output)"]


def test_end_does_not_match_begin():
    r = parse_suite(suite("BEGIN demo 1", "PASS fork", "END other"))
    assert r.problems == ["END other does not match BEGIN demo"]


def test_noise_lines_are_ignored():
    r = parse_suite(suite("usertests starting", "# free pages 1234", "BEGIN demo 3",
                          "PASS fork", "pid 5 demo: trap 14 err 4 on cpu 1 eip 0x1a addr 0x0",
                          "# child killed as expected", "PASS exec", "PASSED nothing",
                          "PASS pipe", "END demo", "ALL TESTS PASSED"))
    assert r.ok and [c[0] for c in r.cases] == ["fork", "exec", "pipe"]


def test_crlf_line_ends():
    r = parse_suite(suite("BEGIN demo 3", "PASS fork", "PASS exec", "FAIL pipe: short", "END demo",
                          nl="\r\n"))
    assert r.cases[2] == ("pipe", False, "short") and r.ended and r.problems == []


def test_command_output_strips_echo_and_prompt():
    assert harness.command_output("echo hi\r\nhi\r\n$ ", "echo hi") == "hi\n"
    assert harness.command_output("hi\n$ ", "echo hi") == "hi\n"     # no echo: keep everything


# ---------------------------------------------------------------- closing line

def test_closing_line_and_status():
    assert run_tests.closing_line(12, 0) == "12 passed, 0 failed"
    assert run_tests.exit_status(12, 0) == 0
    assert run_tests.exit_status(12, 1) != 0
    assert run_tests.exit_status(0, 0) != 0      # nothing ran is a failure


@pytest.mark.parametrize("output, counts", [
    ("....\n4 passed in 0.12s\n", (4, 0)),
    ("..F\nFAILED t.py::x\n1 failed, 2 passed in 0.3s\n", (2, 1)),
    ("E\n1 passed, 1 error in 0.1s\n", (1, 1)),
    ("2 errors in 0.1s\n", (0, 2)),
    ("\nno tests ran in 0.01s\n", (0, 0)),
    ("= 3 passed, 1 skipped, 2 warnings in 1.00s =\n", (3, 0)),
])
def test_pytest_summary(output, counts):
    assert run_tests.parse_pytest_summary(output) == counts


def test_guest_steps_from_tables():
    steps = run_tests.guest_steps(4)
    assert [s.command for s in steps[:len(run_tests.SMOKE)]] == [c for c, _ in run_tests.SMOKE]
    suites = [s for s in steps if s.expect is None]
    tiny = [s.command for s in run_tests.TINY_RING if s.expect is None]
    assert [s.command for s in suites] == \
        [c.format(cpus=4) for c, _ in run_tests.SUITES] + tiny
    assert "usertests ncpu=4" in [s.command for s in suites]
    assert steps[-len(run_tests.TINY_RING) - 2:-2] == run_tests.TINY_RING
    assert [s.command for s in steps[-2:]] == ["tracectl flush", "tracectl status"]
    lossless = run_tests.guest_steps(2, lossless=True)
    assert lossless[0].command == "tracectl lossless on"
    assert lossless[1:] == [s for s in run_tests.guest_steps(2) if s not in run_tests.TINY_RING]
    only = run_tests.guest_steps(2, only_suite="mmaptest")
    assert [s.command for s in only] == ["mmaptest", "tracectl flush", "tracectl status"]


# ---------------------------------------------------------------- end to end, with a fake QEMU

# Imitates the console: boot text, a prompt, and canned replies to typed commands. A reply
# containing <hang> stops there and sleeps; <exit> makes it quit.
FAKE_CONSOLE = r'''
import json, os, sys, time
spec = json.load(open(sys.argv[1]))
open(sys.argv[2], "w").write(str(os.getpid()))

def say(text):
    head, hang, _ = text.partition("<hang>")
    sys.stdout.write(head.replace("<exit>", ""))
    sys.stdout.flush()
    if "<exit>" in head:
        sys.exit(3)
    if hang:
        time.sleep(600)

say(spec.get("boot", "xv6 booting\r\ninit: starting sh\r\n") + "$ ")
while line := sys.stdin.readline():
    command = line.rstrip("\n")
    program = (command.split() or [""])[0]
    say(command + "\r\n")          # the console echoes what is typed
    missing = f"exec {program} failed\n"
    say(spec["replies"].get(command, spec["replies"].get(program, missing)) + "$ ")
'''

REPLIES = {
    "echo hi": "hi\r\n",
    "cat f": "hi\r\n",
    "ls": ".              1 1 512\r\nREADME         2 2 2170\r\nf              2 3 3\r\n",
    "cat README | grep x | wc": "3 20 113 \r\n",
    "echo hi > f": "",
    "usertests": GOOD.replace("demo", "usertests"),
}


@pytest.fixture
def fake(tmp_path):
    """fake(replies, boot=None) -> (argv of a fake QEMU, file that will hold its pid)."""
    script = tmp_path / "fake_console.py"
    script.write_text(FAKE_CONSOLE)

    def make(replies, boot=None):
        spec = tmp_path / "spec.json"
        spec.write_text(json.dumps({"replies": replies, **({"boot": boot} if boot else {})}))
        pidfile = tmp_path / "pid"
        return [sys.executable, str(script), str(spec), str(pidfile)], pidfile
    return make


def boot(tmp_path, argv, steps, **kw):
    kw.setdefault("boot_timeout", 5)
    return harness.run_boot(steps, cpus=2, log_path=tmp_path / "console.log",
                            com2_path=tmp_path / "com2.bin", qemu_cmd=argv, **kw)


def assert_gone(pidfile):
    with pytest.raises(ProcessLookupError):
        os.kill(int(pidfile.read_text()), 0)


def lines(result):
    return [c.line(result.cpus) for c in result.checks]


def test_good_run(tmp_path, fake):
    argv, pidfile = fake(REPLIES)
    steps = [Step("echo hi", r"^hi$"), Step("ls", r"^README\s"), Step("usertests ncpu=2")]
    result = boot(tmp_path, argv, steps)
    assert lines(result) == ["PASS cpus=2 sh/echo hi", "PASS cpus=2 sh/ls",
                             "PASS cpus=2 usertests/fork", "PASS cpus=2 usertests/exec",
                             "PASS cpus=2 usertests/pipe"]
    assert result.ok and "init: starting sh" in (tmp_path / "console.log").read_text()
    assert_gone(pidfile)


def test_expect_mismatch(tmp_path, fake):
    argv, _ = fake({"echo hi": "ho\n"})
    result = boot(tmp_path, argv, [Step("echo hi", r"^hi$")])
    assert lines(result) == ["FAIL cpus=2 sh/echo hi: output does not match '^hi$': 'ho'"]


def test_missing_suite_fails(tmp_path, fake):
    argv, _ = fake(REPLIES)
    result = boot(tmp_path, argv, [Step("kmalloctest"), Step("echo hi", "hi")])
    assert lines(result) == [
        "FAIL cpus=2 kmalloctest: no BEGIN line (output: 'exec kmalloctest failed')",
        "PASS cpus=2 sh/echo hi"]


def test_hang_is_a_timeout(tmp_path, fake):
    argv, pidfile = fake({"usertests": "BEGIN usertests 3\nPASS fork\n<hang>"})
    began = time.monotonic()
    result = boot(tmp_path, argv, [Step("usertests", timeout=1), Step("echo hi", "hi")])
    assert time.monotonic() - began < 5
    assert lines(result) == [
        "PASS cpus=2 usertests/fork",
        "FAIL cpus=2 usertests: no END line",
        "FAIL cpus=2 usertests: announced 3 cases, 1 reported",
        "FAIL cpus=2 usertests: hang: no shell prompt within 1 s",
        "FAIL cpus=2 sh/echo hi: not run: an earlier command ended in "
        "hang: no shell prompt within 1 s"]
    assert_gone(pidfile)


def test_idle_timeout(tmp_path, fake):
    argv, _ = fake({"usertests": "BEGIN usertests 1\n<hang>"})
    result = boot(tmp_path, argv, [Step("usertests", timeout=30)], idle_timeout=0.5)
    assert "FAIL cpus=2 usertests: hang: no output for 0.5 s" in lines(result)


def test_panic_stops_the_run(tmp_path, fake):
    argv, pidfile = fake({"usertests": "BEGIN usertests 2\nPASS fork\npanic: kfree\n<hang>"})
    result = boot(tmp_path, argv, [Step("usertests", timeout=30), Step("echo hi", "hi")])
    assert lines(result) == [
        "PASS cpus=2 usertests/fork",
        "FAIL cpus=2 usertests: kernel panic: kfree",
        "FAIL cpus=2 usertests: no END line",
        "FAIL cpus=2 usertests: announced 2 cases, 1 reported",
        "FAIL cpus=2 sh/echo hi: not run: an earlier command ended in kernel panic"]
    assert_gone(pidfile)


def test_panic_during_boot(tmp_path, fake):
    argv, _ = fake(REPLIES, boot="cpu0: starting\npanic: no init\n<hang>")
    result = boot(tmp_path, argv, [Step("usertests")])
    assert lines(result) == ["FAIL cpus=2 usertests: not run: boot failed: kernel panic "
                             "(panic: no init)"]


def test_boot_timeout(tmp_path, fake):
    argv, pidfile = fake(REPLIES, boot="cpu0: starting\n<hang>")
    result = boot(tmp_path, argv, [Step("usertests")], boot_timeout=0.5)
    assert lines(result) == ["FAIL cpus=2 usertests: not run: boot failed: "
                             "hang: no shell prompt within 0.5 s"]
    assert_gone(pidfile)


def test_qemu_exits(tmp_path, fake):
    argv, _ = fake({"usertests": "BEGIN usertests 1\n<exit>"})
    result = boot(tmp_path, argv, [Step("usertests")])
    assert "FAIL cpus=2 usertests: QEMU exited (status 3)" in lines(result)


def test_harness_command_line(tmp_path, fake):
    argv, _ = fake(REPLIES)
    log = tmp_path / "console.log"
    common = [sys.executable, "-m", "tests.harness", "--qemu-cmd", " ".join(argv),
              "--log", str(log), "--com2", str(tmp_path / "com2.bin")]
    good = subprocess.run(common + ["--run", "usertests", "--run", "echo hi", "--expect", "^hi$"],
                          capture_output=True, text=True, timeout=30, cwd=harness.ROOT)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "PASS cpus=2 sh/echo hi" in good.stdout

    bad = subprocess.run(common + ["--run", "nosuch"], capture_output=True, text=True, timeout=30,
                         cwd=harness.ROOT)
    assert bad.returncode == 1
    assert f"console log: {log}" in bad.stdout and "  | exec nosuch failed" in bad.stdout


def test_run_tests_closing_line(tmp_path, fake, monkeypatch, capsys):
    monkeypatch.setattr(harness, "LOG_DIR", tmp_path)
    monkeypatch.setattr(run_tests, "SUITES", [("usertests ncpu={cpus}", 600)])
    checked = []
    monkeypatch.setattr(run_tests, "TINY_RING", [])
    monkeypatch.setattr(run_tests, "check_trace", lambda path: checked.append(path) or True)
    monkeypatch.setattr(run_tests, "check_lost",
                        lambda path, log: checked.append(path) or True)
    argv, _ = fake(dict(REPLIES, **{"tracectl lossless on": "", "tracectl flush": "",
                                    "tracectl status": "lost 0"}))
    qemu = ["--qemu-cmd", " ".join(argv), "--skip-host"]
    assert run_tests.main(qemu + ["--cpus", "2", "--cpus", "4"]) == 0
    out = capsys.readouterr().out.strip().split("\n")
    # Per boot: the smoke tests, usertests' 3 cases, the flush, the status and the check of
    # its capture; the first boot also turns lossless tracing on.
    per_boot = len(run_tests.SMOKE) + 3 + 3
    assert out[-1] == f"{2 * per_boot + 1} passed, 0 failed"
    assert [p.name for p in checked] == ["com2-cpus2.bin", "com2-cpus4.bin"]
    assert (tmp_path / "console-cpus4.log").exists()

    assert run_tests.main(qemu + ["--suite", "mmaptest"]) == 1
    # lossless on, flush, status and the trace check pass; the missing suite fails
    assert capsys.readouterr().out.strip().split("\n")[-1] == "4 passed, 1 failed"
