"""The docs run as written: every block marked runnable in README.md and docs/*.md is run,
and what it shows must be what the commands print.

The convention (docs/cheatsheet.md repeats it for writers):

    <!-- run -->
    ```
    $ bin/xvtrace info docs/captures/demo.bin
    format      version 2, ...
    ...
    lost        0 events
    ```

- A fenced code block right after a line `<!-- run -->` is runnable.
- A line starting with `$ ` is a command: it runs with bash from the project root, in a
  fresh environment: PYTHONPATH unset and a `python3` first on PATH that cannot import
  matplotlib (as on a machine where the docs' reader has another Python), so only the
  wrappers in bin/ (or `make`) work. Each command runs on its own (no `cd` carries over).
- The other lines up to the next command are its expected output: each must match a line
  of what the command printed (stdout and stderr together), in the order shown; lines the
  block leaves out may come in between. A line matches when it is equal once trailing
  spaces are dropped from both, where `...` in the expected line stands for any text
  (nothing included). A line that is only `...` says "more lines here" and matches nothing.
- The command must exit 0, unless its last expected line is `[exit N]`: then it must exit N.
- Captures: docs use the committed ones in docs/captures/ (demo.bin and demo-again.bin: two
  runs of xv6/user/demo.c), so the output is the same on every machine; a command may
  write under out/docs/ (made empty first).
"""

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARK = "<!-- run -->"
TIMEOUT = 300
EXIT_RE = re.compile(r"\[exit (\d+)\]")


def runnable_blocks(text):
    """[(line number, [block lines])] of the blocks marked runnable in text."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.strip() != MARK:
            continue
        if i + 1 >= len(lines) or not lines[i + 1].startswith("```"):
            raise ValueError(f"line {i + 1}: {MARK} is not followed by a fenced block")
        end = next((j for j in range(i + 2, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            raise ValueError(f"line {i + 2}: the block never ends")
        out.append((i + 3, lines[i + 2:end]))
    return out


def commands(block):
    """[(command, [expected lines])] of a block."""
    out = []
    for line in block:
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"output before any command: {line!r}")
    return out


def line_pattern(expected):
    parts = [re.escape(p) for p in expected.rstrip().split("...")]
    return re.compile(".*".join(parts))


def missing_lines(expected, output):
    """The first expected line that does not match, in order, or None."""
    got = [line.rstrip() for line in output.splitlines()]
    at = 0
    for want in expected:
        if want.strip() == "..." or EXIT_RE.fullmatch(want.strip()):
            continue
        pattern = line_pattern(want)
        while at < len(got) and not pattern.fullmatch(got[at]):
            at += 1
        if at == len(got):
            return want
        at += 1
    return None


def expected_status(expected):
    last = [line.strip() for line in expected if line.strip()]
    m = EXIT_RE.fullmatch(last[-1]) if last else None
    return int(m.group(1)) if m else 0


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory):
    """The environment of a fresh shell whose python3 is not Debian's."""
    fake = tmp_path_factory.mktemp("fakebin")
    python3 = fake / "python3"
    python3.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named matplotlib' >&2\n"
                       "exit 1\n")
    python3.chmod(python3.stat().st_mode | stat.S_IXUSR)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = f"{fake}:{env.get('PATH', '/usr/bin:/bin')}"
    out = ROOT / "out" / "docs"
    if out.exists():
        subprocess.run(["rm", "-rf", str(out)], check=True)
    out.mkdir(parents=True)
    return env


def doc_commands():
    cases = []
    for doc in DOCS:
        for line, block in runnable_blocks(doc.read_text()):
            for k, (command, expected) in enumerate(commands(block)):
                cases.append(pytest.param(command, expected,
                                          id=f"{doc.name}:{line}:{k + 1}"))
    return cases


@pytest.mark.parametrize("command, expected", doc_commands())
def test_doc_command(command, expected, fresh_env):
    run = subprocess.run(["bash", "-c", command], cwd=ROOT, env=fresh_env, timeout=TIMEOUT,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    status = expected_status(expected)
    assert run.returncode == status, f"$ {command}\nexit {run.returncode}\n{run.stdout}"
    missing = missing_lines(expected, run.stdout)
    assert missing is None, f"$ {command}\nno line matches {missing!r} in:\n{run.stdout}"


def test_the_docs_have_runnable_blocks():
    assert len(doc_commands()) >= 10


# ---- the matcher itself (a test that cannot fail is no test) --------------------------

def test_matching_rules():
    out = "alpha 1\nbeta  \ngamma 3 of 4\ndelta\n"
    assert missing_lines(["alpha 1", "gamma ... of 4"], out) is None
    assert missing_lines(["beta"], out) is None                      # trailing spaces
    assert missing_lines(["gamma 3 of 4", "alpha 1"], out) == "alpha 1"   # order counts
    assert missing_lines(["alpha"], out) == "alpha"                 # whole lines only
    assert missing_lines(["...", "delta"], out) is None
    assert missing_lines(["a(pha 1"], "a(pha 1\n") is None          # no regex syntax
    assert expected_status(["x", "[exit 2]"]) == 2 and expected_status(["x"]) == 0


def test_blocks_and_commands_are_found():
    text = "intro\n<!-- run -->\n```\n$ echo hi\nhi\n$ true\n```\n```\n$ not run\n```\n"
    [(line, block)] = runnable_blocks(text)
    assert line == 4 and commands(block) == [("echo hi", ["hi"]), ("true", [])]
    with pytest.raises(ValueError):
        runnable_blocks("<!-- run -->\ntext\n")
