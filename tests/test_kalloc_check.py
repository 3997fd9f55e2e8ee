"""The debug page allocator (make KALLOC_CHECK=1): the normal build skips the junk fill of freed
pages, so this build must keep working. It is built into a temporary directory, booted with
the normal fs.img, and must say at boot that its check sees a write to a freed page; then a
suite that frees and reuses many pages (cowtest) runs on it, each reuse checking the junk."""

import shutil
import subprocess

import pytest

from tests import harness

pytestmark = pytest.mark.skipif(
    shutil.which("i686-linux-gnu-gcc") is None or shutil.which("qemu-system-i386") is None,
    reason="needs the cross compiler and QEMU")


def make(*args):
    proc = subprocess.run(["make", "--no-print-directory", *args], cwd=harness.ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_debug_build_checks_freed_pages(tmp_path):
    make("all")
    make("KALLOC_CHECK=1", f"OUT={tmp_path}", f"{tmp_path}/kernel")
    result = harness.run_boot([harness.Step("cowtest", timeout=600)], cpus=2,
                              log_path=tmp_path / "console.log",
                              com2_path=tmp_path / "com2.bin",
                              image_path=tmp_path / "fs.img",
                              qemu_args=["-kernel", str(tmp_path / "kernel")])
    log = (tmp_path / "console.log").read_text(errors="replace")
    assert "kalloc: debug build, junk check works" in log, log[-3000:]
    assert result.failed == 0 and result.passed > 0, log[-3000:]
