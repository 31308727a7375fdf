"""invoke_endpoint through local mode's moto server carries the body's bytes as sent."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fairmot.local.endpoint_seam import EndpointServer, free_port
from fairmot.local.stack import LocalAws, LocalSettings
from tests.workflow.conftest import MINI

pytestmark = pytest.mark.slow

# A real HTTP server standing in for `serve`: it answers with what it received.
ECHO = """
import http.server, json, sys
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = json.dumps({"type": self.headers["Content-Type"], "head": body[:4].hex(),
                             "size": len(body)}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.end_headers(); self.wfile.write(answer)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
"""


def test_a_raw_jpeg_body_reaches_the_endpoint_through_the_server(tmp_path: Path) -> None:
    settings = LocalSettings(template=MINI / "template.yaml", work_dir=tmp_path / "work",
                             echo_events=False, server=True)  # fmt: skip
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", ECHO, str(port)])
    server = EndpointServer("cam", port, process, tmp_path)
    try:
        deadline = time.monotonic() + 30
        while not server.ping() and time.monotonic() < deadline:
            time.sleep(0.2)
        with LocalAws(settings) as aws:
            assert aws.endpoints is not None and aws.endpoint_url is not None
            aws.endpoints.servers["cam"] = server
            jpeg = bytes([0xFF, 0xD8, 0xFF, 0xE0]) + bytes(range(256)) * 4  # not UTF-8
            answer = aws.client("sagemaker-runtime").invoke_endpoint(
                EndpointName="cam", ContentType="image/jpeg", Body=jpeg
            )
            echoed = json.loads(answer["Body"].read())
    finally:
        server.stop()
    assert echoed == {"type": "image/jpeg", "head": "ffd8ffe0", "size": len(jpeg)}
