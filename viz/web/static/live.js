// The live view's page: its state, moving in time, the controls and keys.
// Plain JavaScript, no build step, no library: source.js fetches a moment,
// draw.js draws it.
"use strict";

const source = window.XV_DATA ? embeddedSource(window.XV_DATA) : serverSource();

// ---- page state ----------------------------------------------------------------

const S = {
  summary: null, view: null, follow: true, target: {}, pid: null,
  playing: false, speed: 1, kind: "", onlyPid: false, zoom: false,
  busy: false, again: false, dragging: false,
  measured: Infinity,    // updates up to this many records are measured (set at the first render)
  // ?watch=NAME: select the first process called NAME whenever one runs
  // (type the program at the shell and its address space comes up).
  watch: new URLSearchParams(location.search).get("watch"),
};
window.xvLatencies = [];     // seconds from bytes arriving at the host to the page showing them
window.xvHistory = [];       // what each render showed (for tests and for measuring)

const $ = (id) => document.getElementById(id);
const hex = (n) => "0x" + Number(n).toString(16);
const palette = () => S.summary.palette;

function fmtTime(t) {
  if (!S.summary || S.summary.unit !== "s") return Math.round(t) + " ticks";
  return t.toFixed(3) + " s";
}

// ---- fetching ------------------------------------------------------------------------

async function refresh() {
  if (S.busy) { S.again = true; return; }
  S.busy = true;
  try {
    do {
      S.again = false;
      const target = S.follow ? {} : S.target;
      const began = performance.now();
      const [view, log] = await source.moment(target, S.pid, 200, S.onlyPid, S.kind);
      S.fetchMs = performance.now() - began;
      S.view = view;
      if (view.pid !== null) S.pid = view.pid;
      if (watchProcess(view)) continue;
      render(view, log);
      noteLatency(view);
    } while (S.again);
  } catch (e) {
    showBanner("The page lost the server: " + e.message +
               ". The view keeps the last state it had.", true);
  } finally {
    S.busy = false;
  }
}

// With ?watch=NAME, true (fetch again) when a NAME process runs but is not shown.
function watchProcess(view) {
  if (!S.watch) return false;
  const named = view.processes.filter((p) => p.name === S.watch);
  if (!named.length || named.some((p) => p.pid === view.pid)) return false;
  S.pid = named[0].pid;
  S.again = true;
  return true;
}

// Each update the server applied (summary.arrivals: [records, host time its
// longest-waiting record arrived]) is measured once, when a render first shows it.
function noteLatency(view) {
  if (!S.follow || !S.summary || !S.summary.arrivals) return;
  const fresh = S.summary.arrivals.filter(([n, _]) => n > S.measured && n <= view.index);
  if (!fresh.length) return;
  S.measured = view.index;
  requestAnimationFrame(() => {
    const now = Date.now() / 1000;
    for (const [_, arrived] of fresh) window.xvLatencies.push(now - arrived);
  });
}

function onSummary(summary) {
  S.summary = summary;
  if (S.measured === Infinity) S.measured = summary.count;   // only what arrives from now on
  renderSummary(summary);
  if (S.follow) refresh();
}

// ---- moving in time ----------------------------------------------------------------

function goTo(target) {
  S.follow = false;
  S.target = target;
  refresh();
}

function follow() {
  S.follow = true;
  S.target = {};
  refresh();
}

function step(delta) {
  if (!S.view) return;
  if (source.embedded) {
    const frames = source.frames;
    let k = frames.findIndex((f) => f.index >= S.view.index);
    k = Math.max(0, Math.min(frames.length - 1, (k < 0 ? frames.length - 1 : k) + delta));
    return goTo({at: frames[k].index});
  }
  goTo({at: Math.max(0, Math.min(S.summary.count, S.view.index + delta))});
}

function jump(fraction) {
  if (!S.view || !S.summary) return;
  const t = Math.max(0, Math.min(S.summary.t_end, S.view.time + fraction * S.summary.t_end));
  goTo({t: t});
}

function setPlaying(on) {
  S.playing = on;
  $("play").innerHTML = on ? "&#10074;&#10074; pause" : "&#9654; play";
  $("play").classList.toggle("on", on);
  if (on && S.view && S.summary && S.view.time >= S.summary.t_end) goTo({t: 0});
}

const PLAY_TICK = 100;   // ms
setInterval(() => {
  if (!S.playing || !S.view || !S.summary || S.busy) return;
  const perSecond = S.summary.unit === "s" ? 1 : S.summary.t_end / 30;
  const t = S.view.time + S.speed * perSecond * PLAY_TICK / 1000;
  if (t >= S.summary.t_end) {
    setPlaying(false);
    if (S.summary.live) return follow();
  }
  goTo({t: Math.min(t, S.summary.t_end)});
}, PLAY_TICK);

function selectProcess(pid) {
  S.pid = pid;
  S.watch = null;
  refresh();
}

function selectRelative(delta) {
  if (!S.view || !S.view.processes.length) return;
  const pids = S.view.processes.map((p) => p.pid);
  const k = Math.max(0, Math.min(pids.length - 1, pids.indexOf(S.view.pid) + delta));
  selectProcess(pids[k]);
}

// ---- controls -------------------------------------------------------------------------

function wire() {
  $("play").onclick = () => setPlaying(!S.playing);
  $("step-back").onclick = () => step(-1);
  $("step-fwd").onclick = () => step(1);
  $("follow").onclick = follow;
  $("zoom").onclick = () => {
    S.zoom = !S.zoom;
    $("zoom").classList.toggle("on", S.zoom);
    if (S.view) renderMemory(S.view);
  };
  $("speed").onchange = (e) => { S.speed = Number(e.target.value); };
  $("only-pid").onchange = (e) => { S.onlyPid = e.target.checked; refresh(); };
  $("kind-filter").onchange = (e) => { S.kind = e.target.value; refresh(); };
  $("help-button").onclick = () => { $("help").hidden = !$("help").hidden; };
  const scrub = $("scrubber");
  scrub.oninput = () => {
    S.dragging = true;
    if (S.summary) goTo({t: scrub.value / 1000 * S.summary.t_end});
  };
  scrub.onchange = () => { S.dragging = false; };
  document.addEventListener("keydown", onKey);
  window.addEventListener("resize", () => S.view && render(S.view, {rows: [], matched: 0}));
}

function onKey(e) {
  if (e.target.tagName === "SELECT" || (e.target.tagName === "INPUT" && e.target.type !== "range"))
    return;
  const keys = {
    " ": () => setPlaying(!S.playing),
    "ArrowLeft": () => e.shiftKey ? jump(-0.01) : step(-1),
    "ArrowRight": () => e.shiftKey ? jump(0.01) : step(1),
    "ArrowUp": () => selectRelative(-1),
    "ArrowDown": () => selectRelative(1),
    "Home": () => goTo({at: 0}),
    "End": () => follow(),
    "f": () => follow(),
    "z": () => $("zoom").click(),
    "?": () => { $("help").hidden = !$("help").hidden; },
  };
  let act = keys[e.key];
  if (!act && e.key >= "1" && e.key <= "9" && S.view) {
    const p = S.view.processes[Number(e.key) - 1];
    if (p) act = () => selectProcess(p.pid);
  }
  if (act) { e.preventDefault(); act(); }
}

// Where an exported page opens: the moment with the most regions mapped.
function busiestFrame() {
  let best = source.frames[source.frames.length - 1], most = -1;
  for (const f of source.frames) {
    const n = f.processes.reduce((sum, p) => sum + p.regions + p.resident, 0);
    if (n > most) { best = f; most = n; }
  }
  return best;
}

async function start() {
  wire();
  if (source.embedded) S.follow = false;
  try {
    onSummary(await source.summary());
  } catch (e) {
    showBanner("Cannot reach the server: " + e.message, true);
    return;
  }
  if (source.embedded) {
    const f = busiestFrame();
    const p = f.processes.reduce((a, b) => (b.regions + b.resident > a.regions + a.resident ? b : a),
                                 f.processes[0] || {pid: null});
    S.pid = p.pid;
    S.follow = false;
    goTo({at: f.index});
  }
  source.subscribe(onSummary, () => {
    if (S.summary && S.summary.status !== "ended")
      showBanner("The connection to the server is lost (QEMU or the server ended?). " +
                 "The view keeps the last state it had.", false);
  });
}

start();
