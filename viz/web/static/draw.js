// The live view's drawing: one moment's view (viz/web/views.py) into the
// page — counts, time line, processes, address space cells, physical memory
// grid, event log, checker problems. Reads the page state S (live.js).
"use strict";

function render(view, log) {
  const began = performance.now();
  renderAll(view, log);
  window.xvHistory.push({index: view.index, pid: view.pid, time: view.time,
    fetchMs: S.fetchMs, renderMs: performance.now() - began,
    procs: view.processes.map((p) => p.pid + " " + p.name),
    rows: view.aspace ? view.aspace.rows.map((r) => [r.kind, r.pages, r.resident, r.cells]) : []});
  if (window.xvHistory.length > 5000) window.xvHistory.splice(0, 1000);
}

function renderAll(view, log) {
  document.body.dataset.index = view.index;
  document.body.dataset.pid = view.pid === null ? "" : view.pid;
  $("clock").textContent = "t = " + fmtTime(view.time);
  $("follow").classList.toggle("on", S.follow);
  renderCounts(view);
  renderHistogram(view);
  renderProcs(view);
  renderAspace(view.aspace);
  renderMemory(view);
  renderLog(log);
  renderProblems(view);
}

function renderSummary(s) {
  const badge = $("status");
  const label = {live: "LIVE", ended: s.live ? "ENDED" : "RECORDED", loading: "LOADING",
                 waiting: "WAITING", error: "ERROR"}[s.status] || s.status;
  badge.textContent = label;
  badge.className = "badge " + s.status;
  $("mode").textContent = s.live ? "live" : "trace";
  $("follow").hidden = !s.live;
  document.title = "xv6 " + ($("mode").textContent) + ": " + (s.source || "");
  if (s.status === "error") {
    showBanner("The trace stream is damaged: " + s.error +
               "\nThe view shows the last good state.", true);
  } else if (s.nwarnings) {
    showBanner(s.nwarnings + " warning(s) about the stream; the newest: " +
               s.warnings[s.warnings.length - 1], false);
  } else {
    $("banner").hidden = true;
  }
  if (!document.querySelector("#kind-filter option[data-event]")) fillKinds(s.events);
  renderHistogram(S.view);
}

function showBanner(text, error) {
  const b = $("banner");
  b.textContent = text;
  b.className = error ? "error" : "";
  b.hidden = false;
}

function fillKinds(names) {
  const sel = $("kind-filter");
  for (const name of names) {
    const o = document.createElement("option");
    o.value = name; o.textContent = name; o.dataset.event = "1";
    sel.appendChild(o);
  }
}

function renderCounts(view) {
  const m = view.memory;
  const total = S.summary ? S.summary.count : view.index;
  const parts = [(view.index < total ? "event " + view.index + " of " : "") + total + " events",
                 view.processes.length + " processes"];
  if (m && m.free !== null) parts.push(m.free + " pages free");
  if (view.lost) parts.push(view.lost + " lost");
  $("counts").textContent = parts.join(" \u00b7 ");
}

function renderHistogram(view) {
  const s = S.summary;
  const c = $("histogram");
  const w = c.clientWidth, h = c.clientHeight;
  if (!s || !w) return;
  c.width = w; c.height = h;
  const g = c.getContext("2d");
  g.clearRect(0, 0, w, h);
  const bins = s.histogram, top = Math.max(1, ...bins);
  g.fillStyle = "#56B4E9";
  const bw = w / Math.max(1, bins.length);
  bins.forEach((n, i) => {
    const bh = n ? Math.max(2, Math.sqrt(n / top) * (h - 4)) : 0;
    g.fillRect(i * bw, h - bh, Math.max(1, bw - 1), bh);
  });
  if (view && s.t_end > 0) {
    const x = view.time / s.t_end * w;
    g.fillStyle = "#D55E00";
    g.fillRect(Math.max(0, x - 2), 0, 4, h);
    if (!S.dragging) $("scrubber").value = Math.round(view.time / s.t_end * 1000);
  }
}

function processColor(slot) {
  return palette().processes[slot % palette().processes.length];
}

function renderProcs(view) {
  const ol = $("procs");
  ol.textContent = "";
  for (const p of view.processes) {
    const li = document.createElement("li");
    li.dataset.pid = p.pid;
    li.className = (p.pid === view.pid ? "selected " : "") + p.state;
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = processColor(p.slot);
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = p.pid + " " + p.name + (p.state === "zombie" ? " (exited)" : "");
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = p.regions + " reg \u00b7 " + p.resident + " pg";
    li.append(sw, name, meta);
    li.onclick = () => selectProcess(p.pid);
    ol.appendChild(li);
  }
  const sel = ol.querySelector(".selected");
  if (sel) sel.scrollIntoView({block: "nearest"});
}

const CELL = 16, GAP = 3;

function renderAspace(space) {
  const box = $("aspace");
  box.textContent = "";
  if (!space) {
    $("aspace-title").textContent = "Address space";
    box.textContent = "no process yet";
    return;
  }
  $("aspace-title").textContent = "Address space of " + space.pid + " " + space.name +
    (space.state === "zombie" ? " (exited)" : "");
  const width = Math.max(200, box.clientWidth - 170);
  for (const row of space.rows) box.appendChild(areaElement(row, width));
  renderAspaceLegend();
}

function areaElement(row, width) {
  const div = document.createElement("div");
  div.className = "area";
  Object.assign(div.dataset, {kind: row.kind, start: row.start, end: row.end,
                              pages: row.pages, resident: row.resident, prot: row.prot});
  const label = document.createElement("div");
  label.className = "label";
  label.textContent = row.kind + " " + row.prot;
  label.style.color = row.kind === "guard" ? "#555" : "#111";
  const canvas = document.createElement("canvas");
  drawCells(canvas, row, width);
  const range = document.createElement("div");
  range.className = "range";
  range.textContent = hex(row.start) + "\u2013" + hex(row.end) + "  " + row.pages + " page" +
    (row.pages === 1 ? "" : "s") + (row.resident !== null && row.kind !== "guard" ?
      ", " + row.resident + " resident" : "") +
    (row.group > 1 ? "  (1 cell = " + row.group + " pages)" : "");
  div.append(label, canvas, range);
  return div;
}

function drawCells(canvas, row, width) {
  const n = row.cells.length;
  const cols = Math.max(1, Math.min(n, Math.floor(width / (CELL + GAP))));
  const rows = Math.max(1, Math.ceil(n / cols));
  canvas.width = cols * (CELL + GAP);
  canvas.height = rows * (CELL + GAP);
  const g = canvas.getContext("2d");
  const color = palette().kinds[row.kind] || "#999";
  for (let i = 0; i < n; i++) {
    const x = (i % cols) * (CELL + GAP), y = Math.floor(i / cols) * (CELL + GAP);
    const c = row.cells[i];
    g.globalAlpha = c === "0" && row.kind !== "guard" ? 0.28 : 1;
    g.fillStyle = row.kind === "guard" ? "#F4F4F4" : color;
    g.fillRect(x, y, CELL, CELL);
    g.globalAlpha = 1;
    g.strokeStyle = "#333";
    g.lineWidth = 1;
    g.strokeRect(x + 0.5, y + 0.5, CELL - 1, CELL - 1);
    hatch(g, x, y, row.kind === "guard" || row.prot === "---" ? "xx"
      : (row.prot[1] !== "w" ? "//" : ""));
    if (c === "2") hatch(g, x, y, "x");
  }
}

function hatch(g, x, y, kind) {
  if (!kind) return;
  g.save();
  g.beginPath();
  g.rect(x, y, CELL, CELL);
  g.clip();
  g.strokeStyle = "#1A1A1A";
  g.lineWidth = kind === "x" ? 2 : 1.2;
  g.beginPath();
  if (kind === "//") {
    for (let d = -CELL; d < CELL; d += 6) { g.moveTo(x + d, y + CELL); g.lineTo(x + d + CELL, y); }
  } else {
    g.moveTo(x + 2, y + 2); g.lineTo(x + CELL - 2, y + CELL - 2);
    g.moveTo(x + CELL - 2, y + 2); g.lineTo(x + 2, y + CELL - 2);
  }
  g.stroke();
  g.restore();
}

function renderAspaceLegend() {
  const box = $("aspace-legend");
  if (box.childElementCount) return;
  const p = palette();
  const items = Object.keys(p.kinds).map((k) => [p.kinds[k], p.kind_labels[k]]);
  for (const [color, text] of items) box.appendChild(swatch(color, text));
  box.appendChild(swatch("rgba(230,159,0,0.28)", "pale: not resident yet"));
  box.appendChild(swatch("#fff", "\u2715: shared copy-on-write", "x"));
  box.appendChild(swatch("#fff", "/// read-only", "//"));
}

function swatch(color, text) {
  const s = document.createElement("span");
  const i = document.createElement("i");
  i.style.background = color;
  s.append(i, document.createTextNode(text));
  return s;
}

const MIN_CELL = 4;      // px: a projector must show a single page's cell
const ZOOM_PAGES = 1024, ZOOM_MIN = 256;

function renderMemory(view) {
  const m = view.memory;
  const c = $("memory");
  if (!m || !m.pages) {
    $("free").textContent = "";
    return;
  }
  $("free").textContent = (m.free !== null ? m.free + " of " + m.total + " pages free" : "");
  const width = c.clientWidth, height = 480;
  const codes = pageCodes(m);
  let cells, group = 1, note;
  if (S.zoom && m.pages > ZOOM_PAGES) {
    const [first, size] = busiestWindow(codes, ZOOM_PAGES);
    cells = codes.subarray(first, first + size);
    note = "pages " + hex(m.base + first * S.summary.page_size) + "\u2013" +
      hex(m.base + (first + size) * S.summary.page_size) +
      ": the busiest " + size + " of " + m.pages + ", 1 cell = 1 page (Z: all pages)";
  } else {
    group = Math.max(1, Math.ceil(m.pages * MIN_CELL * MIN_CELL / (width * height)));
    cells = groupCodes(codes, group);
    note = group > 1 ? "1 cell = " + group + " pages (the most common use among them; " +
      "Z: zoom to the busiest pages)" : "1 cell = 1 page";
  }
  const cell = Math.max(1, Math.floor(Math.sqrt(width * height / cells.length)));
  const cols = Math.floor(width / cell), rows = Math.ceil(cells.length / cols);
  c.width = cols * cell; c.height = rows * cell;
  c.dataset.group = group;
  const g = c.getContext("2d");
  const colors = {};
  for (const o of palette().owners) colors[o.code] = o.color;
  let k = 0;
  while (k < cells.length) {
    let end = k + 1;
    while (end < cells.length && cells[end] === cells[k]) end++;
    g.fillStyle = cells[k] >= 10 ? processColor(cells[k] - 10) : colors[cells[k]];
    fillRun(g, k, end - k, cols, cell);
    k = end;
  }
  $("memory-note").textContent = note;
  renderMemoryLegend(view);
}

// Every page's owner code, from the run-length encoding.
function pageCodes(m) {
  const codes = new Uint8Array(m.pages);
  let page = 0;
  for (let k = 0; k < m.runs.length; k += 2) {
    codes.fill(m.runs[k], page, page + m.runs[k + 1]);
    page += m.runs[k + 1];
  }
  return codes;
}

// Owner codes of cells of `group` pages: each the most common non-free code.
function groupCodes(codes, group) {
  if (group === 1) return codes;
  const cells = new Uint8Array(Math.ceil(codes.length / group));
  const tally = new Uint16Array(256);
  for (let i = 0; i < cells.length; i++) {
    tally.fill(0);
    let best = 0;
    for (let p = i * group; p < Math.min(codes.length, (i + 1) * group); p++) {
      const code = codes[p];
      if (code && ++tally[code] > tally[best]) best = code;
    }
    cells[i] = best;
  }
  return cells;
}

// [first page, pages] of a window around the n pages holding the most process pages
// (user, region, shared, copy-on-write: codes 6 and up), or else the most in use.
function busiestWindow(codes, n) {
  const counts = (keep) => {
    let used = 0;
    for (let p = 0; p < n; p++) used += keep(codes[p]);
    let best = used, first = 0;
    for (let p = n; p < codes.length; p++) {
      used += keep(codes[p]) - keep(codes[p - n]);
      if (used > best) { best = used; first = p - n + 1; }
    }
    return [best, first];
  };
  let keep = (c) => (c >= 6 ? 1 : 0);
  let [most, first] = counts(keep);
  if (!most) {
    keep = (c) => (c ? 1 : 0);
    first = counts(keep)[1];
  }
  // A window twice as long as what is in use there (at least ZOOM_MIN pages), centred.
  let lo = first + n, hi = first;
  for (let p = first; p < first + n; p++) if (keep(codes[p])) { lo = Math.min(lo, p); hi = p; }
  if (lo > hi) return [first, n];
  const size = Math.min(n, Math.max(ZOOM_MIN, Math.ceil(2 * (hi - lo + 1) / 64) * 64));
  return [Math.max(0, Math.min(codes.length - size, Math.floor((lo + hi - size) / 2))), size];
}

function fillRun(g, page, len, cols, cell) {
  while (len > 0) {
    const col = page % cols, n = Math.min(len, cols - col);
    g.fillRect(col * cell, Math.floor(page / cols) * cell, n * cell, cell);
    page += n; len -= n;
  }
}

function renderMemoryLegend(view) {
  const box = $("memory-legend");
  box.textContent = "";
  const counts = view.memory.counts || {};
  for (const o of palette().owners) {
    const n = o.key === "free" ? view.memory.free : counts[o.key];
    if (o.key !== "free" && !n) continue;
    box.appendChild(swatch(o.color, o.label + (n !== undefined && n !== null ? " " + n : "")));
  }
  const seen = new Set();
  for (const p of view.processes.slice(0, 8)) {
    if (seen.has(p.slot)) continue;
    seen.add(p.slot);
    box.appendChild(swatch(processColor(p.slot), "pid " + p.pid + " " + p.name));
  }
}

function renderLog(log) {
  const box = $("log");
  box.textContent = "";
  for (const r of log.rows) {
    const d = document.createElement("div");
    d.className = r.failed ? "failed" : "";
    d.textContent = fmtTime(r.t).padStart(12) + "  cpu" + r.cpu + "  pid " +
      String(r.pid).padEnd(4) + " " + r.event.padEnd(11) + " " + r.text;
    box.appendChild(d);
  }
  if (box.lastChild) box.lastChild.classList.add("current");
  box.scrollTop = box.scrollHeight;
  $("log-count").textContent = log.matched + " matching";
}

function renderProblems(view) {
  const ul = $("problems");
  ul.textContent = "";
  $("nproblems").textContent = view.nproblems ? view.nproblems + " problem(s)" : "";
  if (!view.nproblems) {
    const li = document.createElement("li");
    li.className = "none";
    li.textContent = "no problems so far";
    ul.appendChild(li);
  }
  for (const p of view.problems) {
    const li = document.createElement("li");
    li.textContent = fmtTime(p.time) + "  " + p.kind + ": " + p.message;
    ul.appendChild(li);
  }
}
