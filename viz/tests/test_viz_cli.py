"""python3 -m viz end to end: the files, their sizes, and bad input."""

import re
from xml.etree import ElementTree

import pytest
from PIL import Image

from vizlib import run_viz


@pytest.fixture(scope="module")
def rendered(story_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("plots")
    proc = run_viz(story_file, "-o", out, "--frames", "12")
    return proc, out


def test_default_set(rendered, story):
    proc, out = rendered
    _, ids = story
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == str(out / "index.html")
    for name in ("snapshot.png", "memory.png", f"aspace-{ids['demo']}-demo.png",
                 f"aspace-{ids['child']}-demo.png"):
        with Image.open(out / name) as im:
            assert im.format == "PNG" and im.size == (1600, 900), name
    with Image.open(out / "animation.gif") as im:
        assert im.format == "GIF" and 6 <= im.n_frames <= 12 and im.size == (960, 540)


def test_index_links_every_picture(rendered):
    proc, out = rendered
    page = (out / "index.html").read_text()
    links = set(re.findall(r"(?:src|href)='([^']+)'", page))
    assert {"snapshot.png", "memory.png", "animation.gif", "check.txt"} <= links
    for link in links:
        assert "/" not in link and (out / link).exists(), link
    assert "PASS" in page and "lost events" in page and "page_alloc" in page
    assert "verdict: PASS" in (out / "check.txt").read_text()


def test_svg_size_and_window(story_file, tmp_path, story):
    _, ids = story
    proc = run_viz(story_file, "-o", tmp_path, "--format", "svg", "--size", "12x7",
                   "--no-anim", "--pid", ids["demo"], "--from", "300ms", "--to", "0.6")
    assert proc.returncode == 0, proc.stderr
    svg = tmp_path / f"aspace-{ids['demo']}-demo.svg"
    root = ElementTree.parse(svg).getroot()
    assert root.get("width") == "864pt" and root.get("height") == "504pt"
    assert not (tmp_path / "animation.gif").exists()
    assert sorted(p.name for p in tmp_path.glob("aspace-*")) == [svg.name]


def test_dpi(story_file, tmp_path):
    proc = run_viz(story_file, "-o", tmp_path, "--no-anim", "--dpi", "50", "--size", "10x5")
    assert proc.returncode == 0, proc.stderr
    with Image.open(tmp_path / "memory.png") as im:
        assert im.size == (500, 250)


def bad(proc, pattern):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert re.search(pattern, lines[0]), lines[0]
    assert lines[0].startswith("viz: error: ")


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    bad(run_viz(empty, "-o", tmp_path / "o"), "empty capture")


def test_corrupt_file(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 64)
    bad(run_viz(junk, "-o", tmp_path / "o"), "not an xv6 trace")


def test_missing_file(tmp_path):
    bad(run_viz(tmp_path / "nope.bin", "-o", tmp_path / "o"), "cannot read")


def test_unknown_pid(story_file, tmp_path):
    bad(run_viz(story_file, "-o", tmp_path, "--pid", "999"), r"no process with pid 999")


def test_bad_time_and_empty_window(story_file, tmp_path):
    bad(run_viz(story_file, "-o", tmp_path, "--from", "soon"), "bad time")
    bad(run_viz(story_file, "-o", tmp_path, "--from", "50s"),
        r"--from 50s is outside the trace \(0\.000 s to 0\.702 s\)")


def test_header_only_capture(tmp_path):
    from xvtrace.writer import Writer
    path = tmp_path / "header.bin"
    path.write_bytes(Writer().header_frame())
    bad(run_viz(path, "-o", tmp_path / "o"), "holds no events")


def test_damaged_capture_is_drawn_with_a_warning(story, tmp_path):
    data = bytearray(story[0])
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "damaged.bin"
    path.write_bytes(bytes(data))
    proc = run_viz(path, "-o", tmp_path / "o", "--no-anim")
    assert proc.returncode == 3, proc.stderr
    assert "viz: warning: damaged frame" in proc.stderr
    assert "Incomplete trace" in (tmp_path / "o" / "index.html").read_text()


def test_trace_without_tsc_rate(tmp_path):
    from viz import synth
    k, ids = synth.story(tsc_hz=0)
    path = tmp_path / "ticks.bin"
    path.write_bytes(k.to_bytes())
    proc = run_viz(path, "-o", tmp_path / "o", "--no-anim", "--pid", ids["demo"],
                   "--from", "2e8")
    assert proc.returncode == 0, proc.stderr
    assert "TSC rate unknown" in (tmp_path / "o" / "index.html").read_text()
    bad(run_viz(path, "-o", tmp_path / "o", "--from", "200ms"), "no TSC rate")
