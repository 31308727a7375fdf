"""The `serve` process under hostile input over real sockets: decompression bombs, hundreds of
slow connections, and a mutation fuzz of raw HTTP requests. Each must end in a 4xx (or a dropped
connection), leave memory and threads within their bounds, keep a good stream answering, and log
one line at most per incident."""

from __future__ import annotations

import base64
import http.client
import json
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from sagemaker_support import (
    BIN,
    free_port,
    jpeg_bomb,
    opt_ml_env,
    process_status,
    random_model,
    wait_for_ping,
)
from test_sagemaker_limits import _mutate, fuzz_case

pytestmark = pytest.mark.slow

WORKERS = 4
DEADLINE_S = 8
SLOW_CONNECTIONS = 300
HTTP_FUZZ_CASES = 300


@dataclass
class Server:
    port: int
    process: subprocess.Popen[str]
    stderr: Path

    def log_lines(self) -> list[str]:
        return self.stderr.read_text().splitlines()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve-faults")
    model = random_model(root / "model")
    port = free_port()
    env = opt_ml_env(
        root,
        SM_MODEL_DIR=str(model),
        SAGEMAKER_BIND_TO_PORT=str(port),
        FAIRMOT_BIND_HOST="127.0.0.1",
        FAIRMOT_WORKERS=str(WORKERS),
        FAIRMOT_REQUEST_DEADLINE_S=str(DEADLINE_S),
        FAIRMOT_SOCKET_TIMEOUT_S="20",
        FAIRMOT_DECODE_BUDGET_MB="64",
    )
    stderr = root / "stderr.log"
    with stderr.open("w") as sink:
        process = subprocess.Popen(
            [str(BIN / "serve")], env=env, stdout=subprocess.DEVNULL, stderr=sink, text=True
        )
    try:
        wait_for_ping(f"http://127.0.0.1:{port}", process, timeout=180)
        yield Server(port, process, stderr)
    finally:
        process.terminate()
        process.wait(timeout=15)


def post(
    port: int, body: bytes, content_type: str = "application/json"
) -> tuple[int, dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/invocations", body, {"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def frame_body(frame_id: int, stream_id: str, image: np.ndarray | None = None) -> bytes:
    image = np.full((96, 160, 3), 100, np.uint8) if image is None else image
    jpeg = cv2.imencode(".jpg", image)[1].tobytes()
    data = {"frame_id": frame_id, "frame_data": base64.b64encode(jpeg).decode()}
    return json.dumps({**data, "stream_id": stream_id}).encode()


def test_bombs_are_413_without_being_decoded_and_a_stream_goes_on(server: Server) -> None:
    assert post(server.port, frame_body(0, "good"))[0] == 200
    before = process_status(server.process.pid)["VmHWM"]
    bomb = jpeg_bomb(12000, 12000)  # 144 megapixels: about 1 GB to decode
    json_bomb = json.dumps({"frame_id": 0, "frame_data": base64.b64encode(bomb).decode()})
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda i: post(
                    server.port, *((bomb, "image/jpeg") if i % 2 else (json_bomb.encode(),))
                ),
                range(8),
            )
        )
    assert all(status == 413 and "12000x12000" in str(body["error"]) for status, body in answers)
    # Refused from the header: the peak resident memory did not move by one decoded image.
    assert process_status(server.process.pid)["VmHWM"] - before < 100 * 1024
    assert post(server.port, frame_body(1, "good"))[0] == 200


def test_concurrent_large_frames_stay_within_the_decode_budget(server: Server) -> None:
    # 2000x1500 frames cost ~21 MB each to decode: eight at once would need 168 MB, the
    # budget is 64 MB, so they take turns and all succeed.
    image = np.zeros((1500, 2000, 3), np.uint8)
    image[:, :, 1] = np.linspace(0, 255, 2000, dtype=np.uint8)  # compresses well: cheap to send
    bodies = [frame_body(0, f"large-{i}", image) for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        statuses = [status for status, _ in pool.map(lambda b: post(server.port, b), bodies)]
    assert statuses == [200] * 8
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/stats")
    stats = json.loads(connection.getresponse().read())
    connection.close()
    assert 2000 * 1500 * 7 <= stats["decode_budget_peak_bytes"] <= 64 * 1024 * 1024


def test_slow_connections_hold_no_threads_and_a_good_stream_keeps_answering(
    server: Server,
) -> None:
    threads_before = process_status(server.process.pid)["Threads"]
    logged_before = len(server.log_lines())
    slow = []
    opened = time.monotonic()
    for _ in range(SLOW_CONNECTIONS):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        slow.append(sock)
    try:
        peak_threads = frame_id = 0
        # A byte per connection per round (trickling, never silent) while a good stream goes
        # on, for half the deadline: the server cuts them at the full deadline.
        while frame_id < 6 and time.monotonic() - opened < DEADLINE_S / 2:
            for sock in slow:
                sock.sendall(b" ")
            status, answer = post(server.port, frame_body(frame_id, "steady"))
            assert status == 200, answer
            peak_threads = max(peak_threads, process_status(server.process.pid)["Threads"])
            frame_id += 1
            time.sleep(0.3)
        assert frame_id >= 2
        # The pool may have grown to its cap (4 workers), never one thread per connection.
        assert peak_threads <= max(threads_before, 4 + WORKERS)
        cut = 0
        for sock in slow:  # each is answered 408 and closed at its deadline
            sock.settimeout(DEADLINE_S + 20)
            answer = b""
            while chunk := sock.recv(4096):
                answer += chunk
            cut += answer.startswith(b"HTTP/1.1 408")
        assert cut == SLOW_CONNECTIONS
    finally:
        for sock in slow:
            sock.close()
    new_lines = server.log_lines()[logged_before:]
    assert len(new_lines) == SLOW_CONNECTIONS  # one line per cut connection, no tracebacks
    assert all(line.startswith("serve: request from") for line in new_lines)


def raw_request(rng: random.Random) -> bytes:
    """A whole HTTP request, valid or not: a fuzzed body with random headers, or a valid
    request whose bytes are mutated anywhere (request line, headers, framing, body)."""
    kind, body, headers = fuzz_case(rng)
    method, path = rng.choice(
        [("POST", "/invocations")] * 6
        + [("GET", "/ping"), ("PUT", "/invocations"), ("POST", "/%%")]
    )
    lines = [f"{method} {path} HTTP/1.1", "Host: fuzz", f"Content-Length: {len(body)}"]
    lines += [f"Content-Type: {kind}"] + [f"{k}: {v}" for k, v in headers.items()]
    head = "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n"
    request = head + body
    return _mutate(rng, request) if rng.random() < 0.3 else request


def exchange(port: int, request: bytes) -> bytes:
    """Send one request, signal the end of input, read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S + 20) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)  # a body shorter than declared ends here, not at a deadline
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_fuzzed_http_requests_get_4xx_never_5xx_and_quiet_logs(server: Server) -> None:
    rng = random.Random(1010)
    logged_before = len(server.log_lines())
    statuses: list[int] = []
    for _ in range(HTTP_FUZZ_CASES):
        answer = exchange(server.port, raw_request(rng))
        if not answer:
            continue  # the request was cut short (its declared body never came): dropped
        status_line = answer.split(b"\r\n", 1)[0]
        assert status_line.startswith(b"HTTP/1."), answer[:200]
        status = int(status_line.split()[1])
        assert status < 500, answer[:300]
        if status >= 400:
            _, _, body = answer.partition(b"\r\n\r\n")
            assert "error" in json.loads(body), answer[:300]
        statuses.append(status)
    assert len(statuses) > HTTP_FUZZ_CASES // 2
    assert sum(s >= 400 for s in statuses) > len(statuses) // 3
    assert post(server.port, frame_body(0, "after-fuzz"))[0] == 200
    # At most one line per request: the server's own (a dropped connection), or libjpeg's and
    # libpng's one-line complaints about a corrupt image; never a traceback.
    new_lines = server.log_lines()[logged_before:]
    assert len(new_lines) <= HTTP_FUZZ_CASES
    assert not any("Traceback" in line or line.startswith(" ") for line in new_lines)
    ours = [line for line in new_lines if line.startswith("serve: ")]
    assert all("dropped" in line for line in ours)


def test_a_client_that_expects_100_continue_is_invited_then_answered(server: Server) -> None:
    body = frame_body(0, "expect")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_deeply_nested_json_is_a_400_not_a_500(server: Server) -> None:
    for body in (b"[" * 200_000, b'{"a":' * 100_000):
        status, answer = post(server.port, body)
        assert status == 400 and "nested too deeply" in str(answer["error"])


def test_sigterm_with_connections_open_exits_0_and_quietly(server: Server) -> None:
    """Last in this module: it stops the shared server."""
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(3)]
    idle[0].sendall(b"POST /invocations HTTP/1.1\r\nContent-Length: 10\r\n\r\n{")
    time.sleep(0.5)
    logged_before = len(server.log_lines())
    server.process.terminate()
    assert server.process.wait(timeout=60) == 0
    assert not any("Traceback" in line for line in server.log_lines()[logged_before:])
    for sock in idle:
        sock.close()
