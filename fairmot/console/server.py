"""The console's HTTP server: the page and a JSON API over a `ConsoleSource`, stdlib only.

Routes: `/` (the page), `/api/overview`, `/api/execution?arn=`, `/api/job?kind=&name=`,
`/api/video?key=` (the annotated mp4, with byte ranges so the browser can seek). It binds to
127.0.0.1 unless told otherwise: it shows logs and data and has no authentication.
"""

from __future__ import annotations

import json
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlparse

from fairmot.console.source import ConsoleError, ConsoleSource

LOOPBACK = "127.0.0.1"
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def page() -> bytes:
    return resources.files("fairmot.console").joinpath("static/index.html").read_bytes()


class ConsoleHandler(BaseHTTPRequestHandler):
    server: ConsoleServer

    def log_message(self, format: str, *args: Any) -> None:
        return  # one line per poll would drown the terminal

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._send(status, json.dumps(value, default=str).encode(), "application/json")

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        source = self.server.source
        try:
            if url.path == "/":
                self._send(HTTPStatus.OK, page(), "text/html; charset=utf-8")
            elif url.path == "/api/overview":
                self._json(HTTPStatus.OK, source.overview())
            elif url.path == "/api/execution":
                self._json(HTTPStatus.OK, source.execution(query.get("arn", "")))
            elif url.path == "/api/job":
                self._json(HTTPStatus.OK, source.job(query.get("kind", ""), query.get("name", "")))
            elif url.path == "/api/video":
                self._video(source.video(query.get("key", "")))
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {url.path}"})
        except ConsoleError as error:
            self._json(HTTPStatus.NOT_FOUND, {"error": str(error)})
        except (BrokenPipeError, ConnectionResetError):
            return  # the browser went away mid-answer (it cancels video requests freely)

    def _video(self, body: bytes) -> None:
        match = _RANGE.match(self.headers.get("Range", ""))
        if not match:
            self._send(HTTPStatus.OK, body, "video/mp4", Accept_Ranges="bytes")
            return
        first = int(match.group(1) or 0)
        last = min(int(match.group(2) or len(body) - 1), len(body) - 1)
        self._send(
            HTTPStatus.PARTIAL_CONTENT,
            body[first : last + 1],
            "video/mp4",
            Accept_Ranges="bytes",
            Content_Range=f"bytes {first}-{last}/{len(body)}",
        )


class ConsoleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, source: ConsoleSource, host: str = LOOPBACK, port: int = 0) -> None:
        super().__init__((host, port), ConsoleHandler)
        self.source = source

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ConsoleServer:
        """Serve on a daemon thread (tests, embedding); `serve_forever` for the command."""
        threading.Thread(target=self.serve_forever, name="console", daemon=True).start()
        return self
