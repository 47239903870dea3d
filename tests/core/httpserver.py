"""A loopback HTTP server for data tests: serves bytes by path, honours Range requests,
counts GETs, and can cut a response short to simulate a dropped connection."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FileServer:
    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)
        self.gets: list[tuple[str, str | None]] = []  # (path, Range header)
        self.cut_after: dict[str, list[int]] = {}  # path -> byte counts at which to drop, one per request
        self.delay = 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                server.gets.append((self.path, self.headers.get("Range")))
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                payload = body[start:]
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                cuts = server.cut_after.get(self.path)
                if cuts:
                    n = cuts.pop(0)
                    self.wfile.write(payload[:n])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                for i in range(0, len(payload), 4096):
                    if server.delay:
                        time.sleep(server.delay)
                    self.wfile.write(payload[i:i + 4096])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FileServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
