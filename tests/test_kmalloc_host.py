"""Host tests of the kernel's kmalloc.c: build bench/ with the host's gcc and run the unit test
(plain and under AddressSanitizer/UBSan) and a short benchmark. Each build goes to a fresh
temporary directory, so these tests never touch out/."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("make") is None,
                                reason="needs gcc and make")


def make(target, out, timeout=300):
    return subprocess.run(["make", "--no-print-directory", "-C", str(BENCH), target, f"OUT={out}"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)


def check_unit_output(proc):
    failures = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    assert proc.returncode == 0 and not failures, proc.stdout[-4000:]
    m = re.search(r"^(\d+) passed, (\d+) failed$", proc.stdout, re.M)
    assert m, proc.stdout[-4000:]
    assert int(m.group(1)) >= 10 and m.group(2) == "0"


def test_unit(tmp_path):
    check_unit_output(make("test", tmp_path))


def test_unit_sanitized(tmp_path):
    check_unit_output(make("test-sanitized", tmp_path))


def test_benchmark_runs(tmp_path):
    build = make(f"{tmp_path}/kmalloc_bench", tmp_path)
    assert build.returncode == 0, build.stdout[-4000:]
    run = subprocess.run([str(tmp_path / "kmalloc_bench"), "--quick"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:]
    for size in ("16", "64", "256", "1024", "2048", "mixed"):
        assert re.search(rf"^\s+{size}\s+[\d.]+\s+[\d.]+\s+[\d.]+x", run.stdout, re.M), run.stdout
    assert "first-fit" in run.stdout and "efficiency" in run.stdout
