"""Host test of the kernel's region index (xv6/kernel/regionindex.c): bench/regionindex_test.c
drives it with random inserts, removals and resizes and compares every look-up and placement
with a plain sorted list searched as mmap.c searched its list before (plain, and under
AddressSanitizer/UBSan). Builds go to a temporary directory."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("make") is None,
                                reason="needs gcc and make")


def test_index_agrees_with_a_list(tmp_path):
    proc = subprocess.run(["make", "--no-print-directory", "-C", str(BENCH), "regionindex",
                           f"OUT={tmp_path}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:]
    sums = re.findall(r"^(\d+) passed, (\d+) failed$", proc.stdout, re.M)
    assert len(sums) == 2, proc.stdout[-4000:]
    assert all(int(p) == 5 and f == "0" for p, f in sums), proc.stdout[-4000:]
