"""viz: pictures of a kernel event trace.

    python3 -m viz out/com2.bin -o out/plots      (run from the repository root)

From one capture (decoded and replayed by trace/xvtrace) it draws, for a
lecture or for debugging:

    aspace.py     each process's address space over time
    snapshot.py   every address space at one instant, one bar per process
    physmem.py    physical pages in use over time, by owner
    animate.py    snapshots stepping through the run (GIF; MP4 with ffmpeg)
    report.py     index.html: the plots, the trace summary, the checker verdict

The pipeline is pure until the last step: trace -> procs.py (who forked
whom, lifetimes: the processes asked for and their window) -> timeline.py
(one replay pass collecting spans, resident pages, events and memory
samples) -> matplotlib Figures -> files; render.py runs it. addraxis.py is
the segmented address axis, rects.py draws many rectangles as one path,
labels.py places labels without overlaps, style.py holds the palette, the
time and size formats. synth.py writes synthetic captures (tests, bench.py:
the speed on a million events or on `make test`'s capture). trace.py is
`make trace CMD=...` (boot, trace a command, draw its processes) and
demo.py `make demo`, one use of it (docs/demo.md).
"""

import matplotlib

from hostlib import ROOT as REPO  # noqa: F401  (for the tools and tests of this package)

matplotlib.use("Agg")      # files only: never needs a display
