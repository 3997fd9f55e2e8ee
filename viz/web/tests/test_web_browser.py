"""The live view in a real browser (headless Chromium through Selenium).

A recorded capture with the scrubber and the keys, the exported page from a
file, a damaged stream, and the kernel itself: boot with COM2 streamed to
viz.web.live, run memstep at the shell and type its steps (map, touch, fork,
unmap) one at a time, checking that the page shows each before the next.
Screenshots go to out/web/; the live test writes the times from typing a step
to seeing it to out/web/latency-steps.txt (docs/demo.md, "Live mode").
"""

import json
import re
import time

import pytest

from hostlib import ROOT, qemu
from viz import synth
from viz.web.export import write_page
from viz.web.live import live_argv
from viz.web.measure import stop_live
from viz.web.model import Model
from viz.web.server import Server
from viz.web.tests import browser
from xvtrace.decode import decode

OUT = ROOT / "out" / "web"
WAIT = 20           # seconds for the page to show something it should

pytestmark = pytest.mark.skipif(not browser.available(),
                                reason="needs chromium, chromium-driver, python3-selenium "
                                       "(scripts/setup.sh)")


@pytest.fixture(scope="module")
def driver():
    OUT.mkdir(parents=True, exist_ok=True)
    d = browser.open_browser()
    yield d
    browser.close_browser(d)


def wait_for(driver, script, what, timeout=WAIT):
    """Poll a JS expression until it is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script("return " + script)
        if value:
            return value
        time.sleep(0.02)
    driver.save_screenshot(str(OUT / "failed.png"))
    pytest.fail(f"the page never showed {what} (screenshot out/web/failed.png)")


def shown_index(driver):
    return int(driver.execute_script("return document.body.dataset.index || -1"))


def areas(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#aspace .area')].map(a => "
        "[a.dataset.kind, +a.dataset.pages, a.dataset.resident])")


# ---- a recorded capture -----------------------------------------------------------------

@pytest.fixture(scope="module")
def story(tmp_path_factory):
    k, ids = synth.story()
    path = tmp_path_factory.mktemp("story") / "com2.bin"
    path.write_bytes(k.to_bytes())
    return path, ids


@pytest.fixture(scope="module")
def recorded(story):
    path, ids = story
    model = Model(source=str(path))
    model.load(decode(path.read_bytes()))
    srv = Server(model, path)
    srv.start()
    yield srv, ids
    srv.stop()


def scrub_to(driver, fraction):
    driver.execute_script(
        "const s = document.getElementById('scrubber'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change'));",
        round(fraction * 1000))


def test_recorded_scrubber_shows_each_moment(driver, recorded):
    srv, ids = recorded
    model = srv.model
    driver.get(srv.url)
    wait_for(driver, f"document.body.dataset.index == {model.count}", "the newest moment")
    assert driver.find_element("id", "status").text == "RECORDED"
    t_end = float(model.times[-1])
    demo = ids["demo"]
    seen = []
    for fraction in (0.1, 0.3, 0.45, 0.6, 0.8, 0.95):
        scrub_to(driver, fraction)
        expect = model.index_at(round(fraction * 1000) / 1000 * t_end)
        wait_for(driver, f"document.body.dataset.index == {expect}", f"moment {fraction}")
        state = model.state_at(expect)
        if demo in state.processes:
            driver.find_element("css selector", f"#procs li[data-pid='{demo}']").click()
            wait_for(driver, f"document.body.dataset.pid == '{demo}' && "
                     f"document.body.dataset.index == {expect}", "the demo process selected")
            regions = sorted((r.end - r.start) // 4096 for r in state.processes[demo].regions)
            shown = sorted(p for kind, p, _ in areas(driver) if kind in ("private", "shared"))
            assert shown == regions, fraction
            seen.append(fraction)
            driver.save_screenshot(str(OUT / f"recorded-{int(fraction * 100):02d}.png"))
    assert len(seen) >= 3      # the demo process lives through most of the story


def test_recorded_keys_step_and_play(driver, recorded):
    srv, _ = recorded
    driver.get(srv.url)
    wait_for(driver, f"document.body.dataset.index == {srv.model.count}", "the newest moment")
    body = driver.find_element("tag name", "body")
    body.send_keys("\ue011")                                      # Home
    wait_for(driver, "document.body.dataset.index == 0", "the start")
    body.send_keys("\ue014")                                      # Right
    wait_for(driver, "document.body.dataset.index == 1", "one event on")
    driver.execute_script("document.getElementById('speed').value = '0.25';"
                          "document.getElementById('speed').dispatchEvent(new Event('change'))")
    body.send_keys(" ")                                           # play
    wait_for(driver, "document.body.dataset.index > 1", "playback moving on")
    body.send_keys(" ")                                           # pause
    assert "play" in driver.find_element("id", "play").text
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element("id", "kind-filter")).select_by_value("fault")
    wait_for(driver, "document.getElementById('log-count').textContent.startsWith('0 ') || "
             "[...document.querySelectorAll('#log div')].every(d => d.textContent.includes("
             "' fault '))", "the log filtered to faults")
    stopped = shown_index(driver)
    time.sleep(0.5)
    assert shown_index(driver) == stopped < srv.model.count


def test_exported_page_works_from_a_file(driver, story, tmp_path):
    path, ids = story
    page = write_page(path, tmp_path)
    driver.get(page.as_uri())
    first = wait_for(driver, "document.body.dataset.index", "a moment")
    assert driver.find_element("id", "status").text == "RECORDED"
    assert any(kind == "private" for kind, _, _ in areas(driver))   # opens where regions are
    body = driver.find_element("tag name", "body")
    body.send_keys("\ue012")                                      # Left: one moment back
    wait_for(driver, f"document.body.dataset.index < {first}", "a step back")
    driver.save_screenshot(str(OUT / "exported.png"))


def test_a_damaged_stream_says_so_and_keeps_the_last_good_state(driver, story):
    path, ids = story
    data = path.read_bytes()
    model = Model(source="damaged", live=True)
    model.feed(data)
    model.tick(now=1e18)
    good = model.count
    model.feed(data[:4000])                                      # the stream restarts
    srv = Server(model, None)
    srv.start()
    try:
        driver.get(srv.url)
        wait_for(driver, "document.getElementById('status').textContent == 'ERROR'", "ERROR")
        banner = driver.find_element("id", "banner")
        assert banner.is_displayed() and "damaged" in banner.text and "another boot" in banner.text
        assert "last good state" in banner.text
        wait_for(driver, f"document.body.dataset.index == {good}", "the last good state")
        driver.save_screenshot(str(OUT / "damaged.png"))
    finally:
        srv.stop()


# ---- the kernel, live ------------------------------------------------------------------------

def type_step(console, line, timeout=30):
    """Type a line at memstep; returns what it printed up to its next prompt."""
    start = console.mark()
    console.send(line + "\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = console.text(start)
        if text.rstrip().endswith("memstep>") or "$ " in text:
            return text
        time.sleep(0.01)
    pytest.fail(f"memstep did not answer {line!r}: {console.text(start)!r}")


def private_area(driver):
    return driver.execute_script(
        "const a = document.querySelector('#aspace .area[data-kind=private]');"
        "return a ? [+a.dataset.pages, +a.dataset.resident] : null")


def selected(driver):
    return driver.execute_script(
        "const li = document.querySelector('#procs li.selected');"
        "return li ? li.textContent : ''")


def memsteps(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#procs li')]"
        ".filter(li => li.textContent.includes(' memstep')).length")


@pytest.mark.skipif(not (qemu.KERNEL.exists() and qemu.FS_IMAGE.exists()),
                    reason="needs out/kernel and out/fs.img (make)")
def test_live_page_shows_each_step(driver, tmp_path):
    """Each step of memstep (map, touch, fork, unmap), typed at the guest's shell,
    shows in the page before the next is typed; the time from typing to seeing
    goes to out/web/latency-steps.txt."""
    console = qemu.Console(live_argv(tmp_path, 2), tmp_path / "console.log")
    seen = []

    def step(line, script, what):
        began = time.monotonic()
        type_step(console, line)
        wait_for(driver, script, what)
        seen.append((what, time.monotonic() - began))

    try:
        text, trouble = console.wait_for_prompt(0, 60, 60)
        assert trouble is None, trouble
        url = re.search(r"live: the view is at (http://127\.0\.0\.1:\d+/)", text).group(1)
        driver.get(url + "?watch=memstep")
        wait_for(driver, "document.getElementById('status').textContent == 'LIVE'", "LIVE")
        step("memstep", "document.querySelector('#procs li.selected .name')"
             ".textContent.endsWith(' memstep')", "memstep selected")
        area = "document.querySelector('#aspace .area[data-kind=private]')"
        step("m", f"{area} && {area}.dataset.pages == 8 && {area}.dataset.resident == 0",
             "the region, nothing resident")
        driver.save_screenshot(str(OUT / "live-mapped.png"))
        for k in (1, 2, 3):
            step("t", f"{area} && {area}.dataset.resident == {k}", f"{k} page(s) resident")
        # The child wrote page 0 (its own copy now); pages 1-2 stay shared copy-on-write.
        cells = "window.xvHistory[window.xvHistory.length - 1].rows" \
                ".find(r => r[0] == 'private')[3]"
        step("f", f"{cells} == '12200000' && document.querySelectorAll('#procs li')"
             ".length >= 4", "the fork, pages shared copy-on-write")
        assert memsteps(driver) == 2
        driver.find_element("id", "zoom").click()
        driver.save_screenshot(str(OUT / "live-fork.png"))
        step("u", f"!{area} && document.body.dataset.pid != ''", "the region gone")
        assert "memstep" in selected(driver)
        step("q", "![...document.querySelectorAll('#procs li')]"
             ".some(li => li.textContent.includes(' memstep'))", "memstep gone")
        latencies = driver.execute_script("return window.xvLatencies")
    finally:
        stop_live(console)
    assert (tmp_path / "com2.bin").stat().st_size > 0
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "latency.json").write_text(json.dumps(latencies))
    with open(OUT / "latency-steps.txt", "w") as f:
        for what, took in seen:
            f.write(f"{took * 1000:6.0f} ms  typed -> shown: {what}\n")
        f.write("host arrival -> shown: " + latency_report(latencies))


def latency_report(latencies):
    if not latencies:
        return "no updates measured\n"
    xs = sorted(latencies)
    pick = lambda q: xs[min(len(xs) - 1, int(q * len(xs)))]
    return (f"updates {len(xs)}  median {pick(0.5) * 1000:.0f} ms  "
            f"p99 {pick(0.99) * 1000:.0f} ms  max {xs[-1] * 1000:.0f} ms\n")
