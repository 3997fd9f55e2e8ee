"""The live view: a page in the browser that shows the trace as it arrives.

    make live                         boot with the console here, the view in a browser
    python3 -m viz.web TRACE          the same page for a recorded capture
    export.write_page(trace, dir)     a self-contained interactive page (no server)

follow.py records COM2 to a file and follows the file; model.py decodes
(xvtrace.stream) and replays it with checkpoints, for any moment; views.py
turns a moment into the JSON the page draws; server.py serves it on
127.0.0.1; static/ is the page (plain JS, no build step). docs/demo.md,
"Live mode", is the lecture script.
"""
