"""The live model and the JSON the server sends: pure and fast, on synthetic captures."""

import json
import time
import urllib.error
import urllib.request

import pytest

from viz import synth
from viz.web import views
from viz.web.export import frame_indices, page_data, render_page
from viz.web.model import Model
from viz.web.server import Server
from xvtrace.decode import decode
from xvtrace.replay import Replayer


@pytest.fixture(scope="module")
def story():
    k, ids = synth.story()
    return k.to_bytes(), ids


@pytest.fixture(scope="module")
def busy():
    return synth.workload(6000, seed=3).to_bytes()


def shape(state):
    """What the views show of a state, comparable across replays."""
    return ({pid: (p.name, p.state, [(r.start, r.end, r.prot) for r in p.regions],
                   sorted(p.mapped.items()), p.heap) for pid, p in state.processes.items()},
            sorted((pa, pg.owner) for pa, pg in state.memory.pages.items()),
            [pr.message for pr in state.problems])


def fed(data, piece, hold=0.0, every=256):
    model = Model(live=True, hold=hold, every=every)
    for i in range(0, len(data), piece):
        model.feed(data[i:i + piece], arrived=float(i))
    model.end()
    return model


@pytest.mark.parametrize("piece", [97, 4096])
def test_fed_in_pieces_the_model_ends_where_a_whole_replay_ends(busy, piece):
    trace = decode(busy)
    whole = Replayer(trace).run_to(len(trace.records))
    model = fed(busy, piece)
    assert model.status == "ended" and model.count == len(trace.records)
    assert shape(model.state_at(model.count)) == shape(whole)
    assert not whole.problems


def test_any_earlier_moment_matches_a_fresh_replay(busy):
    trace = decode(busy)
    model = fed(busy, 1000)
    assert len(model.checkpoints) > 2
    for index in (0, 1, 17, model.every - 1, model.every, 3 * model.every + 5,
                  model.count // 2, 40, model.count - 1):
        expect = Replayer(trace).run_to(index)
        assert shape(model.state_at(index)) == shape(expect), index


def test_records_arriving_late_are_put_in_their_place(busy):
    """hold=0: every batch is released at once, so frames of one CPU that arrive
    after later ones of the other are late; the model re-applies from a checkpoint."""
    trace = decode(busy)
    model = fed(busy, 600, hold=0.0)
    assert model.records["tsc"].tolist() == sorted(model.records["tsc"].tolist())
    assert shape(model.state_at(model.count)) == shape(Replayer(trace).run_to(len(trace.records)))


def test_a_corrupt_stream_keeps_the_last_good_state(story):
    data, _ = story
    good = data[:len(data) // 2]
    model = Model(live=True)
    model.feed(good)
    model.tick(now=1e18)
    before = model.count
    assert before > 0
    model.feed(good[:4000])                         # the stream restarts: another boot
    model.end()
    assert model.status == "error" and "another boot" in model.error
    assert model.count == before
    assert views.view(model, model.count)["index"] == before
    assert views.summary(model)["error"] == model.error


def test_no_header_is_an_error_not_a_crash():
    model = Model(live=True)
    model.feed(b"this is not a trace" * 10)
    model.end()
    assert model.status == "error" and "no valid stream header" in model.error
    assert views.view(model, 0)["processes"] == []
    assert views.summary(model)["count"] == 0


def loaded(data):
    model = Model()
    model.load(decode(data))
    return model


def test_view_shows_regions_page_by_page(story):
    data, ids = story
    model = loaded(data)
    trace = model.trace
    demo = ids["demo"]
    # The moment the demo process maps 8 private pages: none resident yet.
    i = next(i for i in range(model.count)
             if any(r["kind"] == "private" and r["pages"] == 8
                    for r in (views.view(model, i, demo)["aspace"] or {"rows": []})["rows"]))
    v = views.view(model, i, demo)
    json.dumps(v)
    row = next(r for r in v["aspace"]["rows"] if r["kind"] == "private")
    assert row["cells"] == "0" * 8 and row["resident"] == 0 and row["prot"] == "rw-"
    assert [r["kind"] for r in v["aspace"]["rows"]][:3] == ["text", "guard", "stack"]
    state = model.state_at(model.count)
    end = views.view(model, model.count, demo)
    assert end["pid"] != demo and demo not in state.processes    # reaped: another is shown
    mem = end["memory"]
    assert sum(mem["runs"][1::2]) == mem["pages"] == mem["total"]
    assert mem["free"] == mem["total"] - len(state.memory.pages)
    assert trace.header.page_size == 4096


def test_touched_pages_fill_in_and_fork_shares_them(story):
    data, ids = story
    model = loaded(data)
    demo, child = ids["demo"], ids["child"]
    seen = set()
    for i in range(model.count + 1):
        v = views.view(model, i, demo)
        if v["pid"] != demo:
            continue
        for r in v["aspace"]["rows"]:
            if r["kind"] == "private":
                seen.add(r["cells"])
    assert any(c.count("1") + c.count("2") == 4 for c in seen)   # pages 0-3 touched
    assert any("2" in c for c in seen)                            # shared with the child
    procs = {p["pid"] for p in views.view(model, model.count // 2)["processes"]}
    assert {demo, child} <= procs or child not in procs


def test_events_window_filters_and_flags(story):
    data, ids = story
    model = loaded(data)
    everything = views.events(model, model.count, 500)
    assert everything["matched"] == model.count
    assert [r["i"] for r in everything["rows"]] == list(range(model.count))[-len(everything["rows"]):]
    mine = views.events(model, model.count, 500, pid=ids["child"])
    assert mine["rows"] and all(ids["child"] in (r["pid"],) or "child" in r["text"]
                                or f"pid={ids['child']}" in r["text"] for r in mine["rows"])
    maps = views.events(model, model.count, 3, kinds=["mmap"])
    assert len(maps["rows"]) <= 3 and all(r["event"] == "mmap" for r in maps["rows"])
    early = views.events(model, 10, 500)
    assert early["end"] == 10 and all(r["i"] < 10 for r in early["rows"])


def test_summary_histogram_counts_every_event(busy):
    model = loaded(busy)
    s = views.summary(model)
    assert sum(s["histogram"]) == model.count == s["count"]
    assert s["status"] == "ended" and not s["live"]
    json.dumps(s)


def test_export_frames_and_page(story, busy):
    data, ids = story
    d = page_data(decode(data))
    assert [f["index"] for f in d["frames"]] == list(range(len(d["events"]) + 1))
    assert all(str(f["pid"]) in f["spaces"] for f in d["frames"] if f["pid"] is not None)
    html = render_page(d)
    assert "window.XV_DATA" in html and "/static/" not in html
    big = loaded(busy)
    idx = frame_indices(big, limit=100)
    assert len(idx) <= 100 + 1 and idx[-1] == big.count and idx == sorted(idx)


# ---- the server ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(story, tmp_path_factory):
    data, _ = story
    path = tmp_path_factory.mktemp("cap") / "story.bin"
    path.write_bytes(data)
    srv = Server(loaded(data), path)
    srv.start()
    yield srv
    srv.stop()


def get(srv, path):
    try:
        with urllib.request.urlopen(srv.url.rstrip("/") + path, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, None, b""


def test_server_binds_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"


def test_server_routes(server, story):
    status, ctype, body = get(server, "/")
    assert status == 200 and b"live.js" in body and ctype.startswith("text/html")
    assert get(server, "/static/live.js")[0] == 200
    assert get(server, "/capture")[2] == story[0]
    s = json.loads(get(server, "/api/summary")[2])
    assert s["count"] > 0
    v = json.loads(get(server, "/api/view?at=5")[2])
    assert v["index"] == 5
    v = json.loads(get(server, "/api/view?t=0")[2])
    assert v["index"] == server.model.index_at(0.0)
    e = json.loads(get(server, "/api/events?end=20&n=5&kind=fork,exec")[2])
    assert len(e["rows"]) <= 5 and all(r["event"] in ("fork", "exec") for r in e["rows"])
    assert get(server, "/api/view?at=abc")[0] == 400
    v = json.loads(get(server, "/api/view?at=60&log=4&only=1")[2])
    assert v["log"]["end"] == 60 and len(v["log"]["rows"]) <= 4
    assert v["log"] == views.events(server.model, 60, 4, v["pid"], None)


@pytest.mark.parametrize("path", [
    "/static/../server.py", "/static/..%2fserver.py", "/static/%2e%2e/model.py",
    "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/../../etc/passwd",
    "/etc/passwd", "/static/", "/static/.hidden", "/static/tests", "//etc/passwd",
    "/static/..\\server.py", "/capture/../server.py", "/api/../server.py"])
def test_server_refuses_paths_outside_its_files(server, path):
    assert get(server, path)[0] == 404


def test_server_streams_summaries(server):
    with urllib.request.urlopen(server.url + "api/stream", timeout=10) as r:
        assert r.headers.get("Content-Type") == "text/event-stream"
        line = r.readline()
    assert line.startswith(b"data: ") and json.loads(line[6:])["count"] > 0


# ---- the terminal side -------------------------------------------------------------------

def test_live_says_stream_trouble_on_the_terminal(story, capsys):
    import threading
    from viz.web.live import watch
    data, _ = story
    model = Model(live=True)
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(model, stop))
    thread.start()
    broken = bytearray(data)
    broken[broken.find(b"XVTF", 1) + 20] ^= 0xFF                # a damaged frame
    model.feed(bytes(broken))
    model.feed(data[:4000])                                     # then another boot
    time.sleep(0.6)
    stop.set()
    thread.join()
    err = capsys.readouterr().err
    assert "live: warning: damaged frame" in err
    assert "live: error:" in err and "another boot" in err and "last good state" in err


def test_cli_rejects_a_missing_capture(tmp_path):
    import subprocess
    import sys
    from hostlib import ROOT
    run = subprocess.run([sys.executable, "-B", "-m", "viz.web", str(tmp_path / "nope.bin")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"viz.web: error: {tmp_path / 'nope.bin'}: "
                                               "no such file"]
    run = subprocess.run([sys.executable, "-B", "-m", "viz.web.export", str(tmp_path / "x")],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.startswith("viz.web.export: error:")
