// The live view's data: from viz/web/server.py, or embedded in an exported
// page (window.XV_DATA, viz/web/export.py). Both answer moment(target, pid,
// n, onlyPid, kind) with [view, log window] and summary(); live.js uses them.
"use strict";

// ---- where the data comes from --------------------------------------------

function serverSource() {
  async function get(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params))
      if (v !== null && v !== undefined && v !== "") q.set(k, v);
    const r = await fetch(path + "?" + q.toString(), {cache: "no-store"});
    if (!r.ok) throw new Error(path + ": HTTP " + r.status);
    return r.json();
  }
  return {
    embedded: false,
    summary: () => get("/api/summary", {}),
    // One request per moment: the view and the log window ending there.
    async moment(target, pid, n, onlyPid, kind) {
      const view = await get("/api/view", {at: target.at, t: target.t, pid: pid, log: n,
                                           only: onlyPid ? 1 : "", kind: kind});
      return [view, view.log];
    },
    subscribe(onSummary, onLost) {
      const es = new EventSource("/api/stream");
      es.onmessage = (e) => onSummary(JSON.parse(e.data));
      es.onerror = onLost;
    },
  };
}

// An exported page: frames are views at chosen moments (sorted), each with
// every live process's address space; events are the log rows.
function embeddedSource(data) {
  const frames = data.frames;
  function lastAtMost(key, value) {
    let lo = 0, hi = frames.length - 1, best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (frames[mid][key] <= value) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return frames[best];
  }
  return {
    embedded: true,
    frames: frames,
    summary: async () => data.summary,
    async view(target, pid) {
      const f = target.t !== undefined ? lastAtMost("time", target.t)
        : lastAtMost("index", target.at === undefined ? Infinity : target.at);
      const v = Object.assign({}, f);
      const alive = f.processes.map((p) => p.pid);
      v.pid = alive.includes(pid) ? pid : (alive.length ? alive[0] : null);
      v.aspace = v.pid === null ? null : f.spaces[String(v.pid)];
      return v;
    },
    async moment(target, pid, n, onlyPid, kind) {
      const view = await this.view(target, pid);
      const who = onlyPid ? view.pid : null;
      const rows = data.events.filter((r) => r.i < view.index &&
        (who === null || r.who.includes(who)) && (!kind || r.event === kind));
      return [view, {end: view.index, rows: rows.slice(-n), matched: rows.length}];
    },
    subscribe() {},
  };
}
