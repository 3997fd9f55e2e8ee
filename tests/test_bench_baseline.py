"""bench/baseline.py: the comparison of make bench's figures with the baseline file."""

import json

from bench import baseline


def test_compare_flags_rows_more_than_the_threshold_worse():
    base = {"a": 100, "b": 100, "c": 100, "gone": 5}
    now = {"a": 105, "b": 106, "c": 80, "new": 7}
    lines, worse = baseline.compare(base, now, 5.0)
    text = "\n".join(lines)
    assert worse == 1
    assert "| a | 100 | 105 | +5.0% |  |" in text
    assert "| b | 100 | 106 | +6.0% | WORSE |" in text
    assert "| c | 100 | 80 | -20.0% | better |" in text
    assert "| gone | 5 | - | | gone |" in text and "| new | - | 7 | | new |" in text


def test_main_exits_1_on_a_regression_and_0_otherwise(tmp_path, capsys):
    base, now = tmp_path / "base.json", tmp_path / "now.json"
    base.write_text(json.dumps({"figures": {"x": 100}}))
    now.write_text(json.dumps({"figures": {"x": 110}}))
    assert baseline.main(["--baseline", str(base), "--from", str(now)]) == 1
    now.write_text(json.dumps({"figures": {"x": 101}}))
    assert baseline.main(["--baseline", str(base), "--from", str(now)]) == 0
    assert "no figure worse" in capsys.readouterr().out


def test_the_repository_baseline_has_the_goal_rows():
    figures = json.load(open(baseline.BASELINE))["figures"]
    assert "trace: one event recorded (instructions)" in figures
    assert "mmap+munmap with 4096 regions mapped (tracing off)" in figures
    assert "munmap 64 MiB with 1,024 pages touched (tracing off)" in figures
