"""The live view's HTTP server: the page, its files, the capture and the JSON API.

Bound to 127.0.0.1 only. Routes (GET):

    /                       the page (static/index.html)
    /static/NAME            a file of viz/web/static, by its plain name
    /capture                the capture being shown, as raw bytes
    /api/summary            views.summary
    /api/view?at=I&pid=P    views.view after I records (or ?t=T: at time T; default: newest);
                            &log=N[&only=1][&kind=a,b]: with the log window ending there
    /api/events?end=I&n=N&pid=P&kind=a,b    views.events
    /api/stream             Server-Sent Events: the summary, whenever the model changes

Anything else, and any path with `..`, a backslash or an absolute part, is
404: only the project's own files and the capture are served.
"""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from . import views

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".txt": "text/plain; charset=utf-8",
         ".png": "image/png"}
STREAM_INTERVAL = 0.02      # at most 50 updates a second to each page
KEEPALIVE = 15.0


def static_file(name):
    """The file of static/ called name, or None: one plain file name, no
    directories, nothing hidden."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
        return None
    path = STATIC / name
    return path if path.is_file() and path.parent == STATIC else None


class Handler(BaseHTTPRequestHandler):
    server_version = "xv6-live"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):     # the terminal is the guest's console
        pass

    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # browser's delayed ACK hold each answer back by tens of milliseconds.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if ".." in path or "\\" in path or "//" in path:
            return self.not_found()
        try:
            route = ROUTES.get(path)
            if route is not None:
                return route(self, query)
            if path.startswith("/static/"):
                return self.send_static(path[len("/static/"):])
            return self.not_found()
        except (BrokenPipeError, ConnectionResetError):
            pass
        except ValueError as e:
            self.send_json({"error": f"bad request: {e}"}, 400)

    # ---- answers ---------------------------------------------------------

    def send_bytes(self, body, ctype, status=200):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, obj, status=200):
        self.send_bytes(json.dumps(obj, separators=(",", ":")).encode(),
                        "application/json", status)

    def not_found(self):
        self.send_bytes(b"not found\n", "text/plain; charset=utf-8", 404)

    def send_static(self, name):
        path = static_file(name)
        if path is None:
            return self.not_found()
        self.send_bytes(path.read_bytes(), TYPES.get(path.suffix, "application/octet-stream"))

    # ---- routes -------------------------------------------------------------

    def page(self, query):
        self.send_static("index.html")

    def capture(self, query):
        path = self.server.capture_path
        if path is None or not Path(path).is_file():
            return self.not_found()
        self.send_bytes(Path(path).read_bytes(), "application/octet-stream")

    def api_summary(self, query):
        model = self.server.model
        with model.lock:
            self.send_json(views.summary(model))

    def api_view(self, query):
        model = self.server.model
        with model.lock:
            at = self.position(query, "at")
            pid = int(query["pid"]) if query.get("pid", "") != "" else None
            view = views.view(model, at, pid)
            if query.get("log", "") != "":      # the log window too: one request per moment
                who = view["pid"] if query.get("only") == "1" else None
                kinds = [k for k in query.get("kind", "").split(",") if k]
                view["log"] = views.events(model, view["index"], int(query["log"]), who, kinds)
            self.send_json(view)

    def api_events(self, query):
        model = self.server.model
        with model.lock:
            end = self.position(query, "end")
            pid = int(query["pid"]) if query.get("pid", "") != "" else None
            kinds = [k for k in query.get("kind", "").split(",") if k]
            self.send_json(views.events(model, end, int(query.get("n", 200)), pid, kinds))

    def position(self, query, name):
        """Records applied at the moment asked for: ?NAME=index, or ?t=time
        (the trace's unit), or the newest."""
        model = self.server.model
        if query.get(name, "") != "":
            return int(query[name])
        if query.get("t", "") != "":
            return model.index_at(float(query["t"]))
        return model.count

    def api_stream(self, query):
        """Push the summary each time the model changes (at most every
        STREAM_INTERVAL), and a comment now and then to keep the line open."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        model = self.server.model
        seen = -1
        while not self.server.stopping.is_set():
            with model.changed:
                if model.version == seen:
                    model.changed.wait(KEEPALIVE)
                if model.version == seen:
                    self.wfile.write(b": keepalive\n\n")
                    self.wfile.flush()
                    continue
                seen = model.version
                body = json.dumps(views.summary(model), separators=(",", ":"))
            self.wfile.write(f"data: {body}\n\n".encode())
            self.wfile.flush()
            time.sleep(STREAM_INTERVAL)


ROUTES = {"/": Handler.page, "/index.html": Handler.page, "/capture": Handler.capture,
          "/api/summary": Handler.api_summary, "/api/view": Handler.api_view,
          "/api/events": Handler.api_events, "/api/stream": Handler.api_stream}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, model, capture_path=None, port=0):
        super().__init__(("127.0.0.1", port), Handler)
        self.model = model
        self.capture_path = capture_path
        self.stopping = threading.Event()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def start(self):
        """Serve from a background thread."""
        thread = threading.Thread(target=self.serve_forever, daemon=True)
        thread.start()
        return thread

    def stop(self):
        self.stopping.set()
        with self.model.changed:
            self.model.changed.notify_all()
        self.shutdown()
        self.server_close()
