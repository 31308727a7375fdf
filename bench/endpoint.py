"""The tracking endpoint on loopback: requests/s, latency, and the time spent outside the model.

A real `serve` process (the container entry point) loads a lite model at 576x320 and is sent
notebook-protocol requests (one base64 JPEG frame in JSON per request) by 1 and then 4
concurrent streams. Request bodies are encoded before timing, so client-side work is not
counted. The server's `GET /stats` says how long its inference thread spent in forward passes
(plus box decoding) and tracker updates; everything else in a request's latency -- HTTP, JSON,
base64, JPEG decoding, letterboxing, thread hand-offs -- is "outside the model" (target <= 15%
with one stream). With several streams a request also waits for the batch before its own, so
there the telling number is "model busy": the share of wall time the inference thread computed
(near 100%: the endpoint is model-bound and HTTP/JSON/JPEG work overlaps with it). The inference
thread batches frames across streams.

    .venv/bin/python bench/endpoint.py                      # random-init lite, 576x320 frames
    .venv/bin/python bench/endpoint.py --width 960 --height 540 --frames 60
    .venv/bin/python bench/endpoint.py --model path/to/model   # a trained artifact
    .venv/bin/python bench/endpoint.py --load                  # load and faults, below

Load mode (--load): N streams x M frames at once, first clean, then again with hostile traffic
mixed in -- clients sending 12000x12000 JPEG bombs (raw and in JSON) back to back, and a client
opening more streams than the server's cap (FAIRMOT_MAX_STREAMS, set low here) so the cap evicts.
It prints p50/p99 latency of the good streams in both phases and their ratio, errors, the bombs'
answers, and the server's resident memory before and after and at its peak against the bound
the endpoint documents: the RSS of the warmed-up server (model loaded, full batches run) plus
the body and decode budgets plus 128 KiB per open connection.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

BENCH = Path(__file__).resolve().parent
SUPPORT = BENCH.parent / "tests" / "contract" / "sagemaker_support.py"
LITE_INPUT = (576, 320)  # the lite arch's design point: half the paper's 1088x608
JPEG_QUALITY = 90


def _pipeline_bench() -> Any:
    """bench/pipeline.py's synthetic video and calibrated random lite model (one definition)."""
    spec = importlib.util.spec_from_file_location("bench_pipeline", BENCH / "pipeline.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _support() -> Any:
    """tests/contract/sagemaker_support.py: the JPEG bomb and /proc readings (one definition)."""
    spec = importlib.util.spec_from_file_location("sagemaker_support", SUPPORT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(port: int, path: str) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        return dict(json.loads(body))
    finally:
        connection.close()


def start_server(
    model_dir: Path, port: int, threads: int, **settings: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SM_MODEL_DIR": str(model_dir),
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "FAIRMOT_BIND_HOST": "127.0.0.1",
        "OMP_NUM_THREADS": str(threads),
        **settings,
    }
    serve = Path(sys.executable).parent / "serve"
    process = subprocess.Popen([str(serve)], env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            get_json(port, "/ping")
            return process
        except (OSError, RuntimeError):
            if process.poll() is not None:
                raise RuntimeError("serve exited before it was ready") from None
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("serve did not become ready in 120 s")


def request_bodies(frames: list[np.ndarray], stream_id: str) -> list[bytes]:
    bodies = []
    for frame_id, frame in enumerate(frames):
        jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1]
        data: dict[str, Any] = {
            "frame_id": frame_id,
            "frame_data": base64.b64encode(jpeg.tobytes()).decode(),
            "stream_id": stream_id,
        }
        if frame_id == 0:
            data.update(frame_w=frame.shape[1], frame_h=frame.shape[0], batch_size=1)
        bodies.append(json.dumps(data).encode())
    return bodies


def run_stream(port: int, bodies: list[bytes], latencies: list[float]) -> None:
    """One stream's frames in order over one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json"}
    for body in bodies:
        tick = time.perf_counter()
        connection.request("POST", "/invocations", body, headers)
        response = connection.getresponse()
        payload = response.read()
        latencies.append(time.perf_counter() - tick)
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {payload[:200]!r}")
    connection.close()


def measure(port: int, frames: list[np.ndarray], streams: int) -> dict[str, float]:
    bodies = [request_bodies(frames, f"bench-{streams}-{i}") for i in range(streams)]
    latencies: list[list[float]] = [[] for _ in range(streams)]
    before = get_json(port, "/stats")
    threads = [
        threading.Thread(target=run_stream, args=(port, bodies[i], latencies[i]))
        for i in range(streams)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    after = get_json(port, "/stats")
    flat = np.array([t for per in latencies for t in per])
    model = after["model_seconds"] - before["model_seconds"]
    track = after["track_seconds"] - before["track_seconds"]
    batches = after["batches"] - before["batches"]
    # Each request waits for the forward pass of its batch; with one stream that is all of it.
    in_model_per_request = (model + track) / batches if batches else 0.0
    return {
        "streams": streams,
        "requests": len(flat),
        "requests_per_s": len(flat) / wall,
        "p50_ms": 1000 * float(np.percentile(flat, 50)),
        "p95_ms": 1000 * float(np.percentile(flat, 95)),
        "model_ms_per_batch": 1000 * in_model_per_request,
        "frames_per_batch": (after["frames"] - before["frames"]) / max(batches, 1),
        "outside_model_share": 1 - in_model_per_request / float(flat.mean()),
        "model_busy_share": (model + track) / wall,
    }


# Load mode: the server's cap on streams, kept low so the churn client makes it evict.
LOAD_MAX_STREAMS = 32
CHURN_STREAMS = 3 * LOAD_MAX_STREAMS
MIB = 1024 * 1024


def post_status(port: int, body: bytes, content_type: str) -> tuple[int, float]:
    """One request on its own connection: (status, seconds); status 0 if the connection failed."""
    tick = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("POST", "/invocations", body, {"Content-Type": content_type})
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - tick
    except OSError:
        return 0, time.perf_counter() - tick
    finally:
        connection.close()


def load_phase(
    port: int, frames: list[np.ndarray], streams: int, tag: str, *, hostile: bool
) -> dict[str, Any]:
    """Good streams (keep-alive, in order) with, when hostile, bombers and a stream churner."""
    bodies = [request_bodies(frames, f"load-{tag}-{i}") for i in range(streams)]
    latencies: list[list[float]] = [[] for _ in range(streams)]
    errors: list[str] = []
    done = threading.Event()
    bomb_statuses: list[int] = []
    churn_statuses: list[int] = []

    def good(index: int) -> None:
        try:
            run_stream(port, bodies[index], latencies[index])
        except (OSError, RuntimeError) as error:
            errors.append(f"stream {index}: {error}")

    def bomber(number: int) -> None:
        bomb = _support().jpeg_bomb(12000, 12000)
        as_json = json.dumps({"frame_id": 0, "frame_data": base64.b64encode(bomb).decode()})
        while not done.is_set():
            if number % 2:
                bomb_statuses.append(post_status(port, bomb, "image/jpeg")[0])
            else:
                bomb_statuses.append(post_status(port, as_json.encode(), "application/json")[0])

    def churner() -> None:
        for number in range(CHURN_STREAMS):
            if done.is_set():
                break
            body = request_bodies(frames[:1], f"churn-{number}")[0]
            churn_statuses.append(post_status(port, body, "application/json")[0])

    hostile_threads = (
        [threading.Thread(target=bomber, args=(i,)) for i in range(4)]
        + [threading.Thread(target=churner)]
        if hostile
        else []
    )
    good_threads = [threading.Thread(target=good, args=(i,)) for i in range(streams)]
    started = time.perf_counter()
    for thread in hostile_threads + good_threads:
        thread.start()
    for thread in good_threads:
        thread.join()
    wall = time.perf_counter() - started
    done.set()
    for thread in hostile_threads:
        thread.join()
    flat = np.array([t for per in latencies for t in per])
    return {
        "phase": "with bombs + churn" if hostile else "clean",
        "requests": len(flat),
        "requests_per_s": len(flat) / wall,
        "p50_ms": 1000 * float(np.percentile(flat, 50)) if len(flat) else float("nan"),
        "p99_ms": 1000 * float(np.percentile(flat, 99)) if len(flat) else float("nan"),
        "errors": errors,
        "bombs": {str(s): bomb_statuses.count(s) for s in sorted(set(bomb_statuses))},
        "churn": {str(s): churn_statuses.count(s) for s in sorted(set(churn_statuses))},
    }


def run_load(model_dir: Path, frames: list[np.ndarray], streams: int, threads: int) -> int:
    """Load mode: see the module docstring. Exit code 1 if a good request failed, a bomb was
    not refused with 413 or the peak RSS passed the bound."""
    support = _support()
    port = free_port()
    server = start_server(model_dir, port, threads, FAIRMOT_MAX_STREAMS=str(LOAD_MAX_STREAMS))
    try:
        # Warm up with every stream at once: full batches allocate the model's working set,
        # which belongs to "the RSS with the model loaded" the bound starts from.
        warm = [
            threading.Thread(
                target=run_stream, args=(port, request_bodies(frames[:4], f"warm-{i}"), [])
            )
            for i in range(streams)
        ]
        for thread in warm:
            thread.start()
        for thread in warm:
            thread.join()
        before = support.process_status(server.pid)
        phases = [
            load_phase(port, frames, streams, "clean", hostile=False),
            load_phase(port, frames, streams, "hostile", hostile=True),
        ]
        after = support.process_status(server.pid)
        stats = get_json(port, "/stats")
    finally:
        server.terminate()
        server.wait(timeout=30)
    from fairmot.sagemaker.frontend import Limits
    from fairmot.sagemaker.serve import DEFAULT_DECODE_BUDGET_BYTES

    connections = streams + 4 + 1  # good streams, bombers, churner
    budgets = Limits().body_budget_bytes + DEFAULT_DECODE_BUDGET_BYTES
    bound_kib = before["VmRSS"] + (budgets + connections * 128 * 1024) // 1024
    print(
        f"load: {streams} streams x {len(frames)} frames, model input {LITE_INPUT[0]}x"
        f"{LITE_INPUT[1]}, stream cap {LOAD_MAX_STREAMS}, {CHURN_STREAMS} churned stream ids"
    )
    print(f"{'phase':>20} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}  bombs  churn")
    for r in phases:
        print(
            f"{r['phase']:>20} {r['requests_per_s']:>7.2f} {r['p50_ms']:>8.1f} "
            f"{r['p99_ms']:>8.1f} {len(r['errors']):>6}  {r['bombs'] or '-'}  {r['churn'] or '-'}"
        )
    clean, hostile = phases
    print(
        f"p99 with bombs / clean: {hostile['p99_ms'] / clean['p99_ms']:.2f}; "
        f"p50: {hostile['p50_ms'] / clean['p50_ms']:.2f}"
    )
    print(
        f"RSS MiB: before {before['VmRSS'] / 1024:.0f}, after {after['VmRSS'] / 1024:.0f}, "
        f"peak {after['VmHWM'] / 1024:.0f} (peak before the load {before['VmHWM'] / 1024:.0f}); "
        f"bound {bound_kib / 1024:.0f}; decode budget peak "
        f"{stats['decode_budget_peak_bytes'] / MIB:.1f} MiB; streams held {stats['streams']}"
    )
    failed = [e for r in phases for e in r["errors"]]
    for line in failed[:5]:
        print(f"error: {line}")
    bombs_ok = set(hostile["bombs"]) == {"413"}
    within = after["VmHWM"] <= bound_kib
    if not bombs_ok:
        print("a bomb was not refused with 413")
    if not within:
        print("peak RSS passed the documented bound")
    return 0 if not failed and bombs_ok and within else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, help="a model artifact folder (default: random lite)")
    parser.add_argument("--frames", type=int, default=40, help="frames per stream (default 40)")
    parser.add_argument("--width", type=int, default=LITE_INPUT[0], help="frame width (576)")
    parser.add_argument("--height", type=int, default=LITE_INPUT[1], help="frame height (320)")
    parser.add_argument("--streams", default="1,4", help="concurrent streams to try (1,4)")
    parser.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="torch threads in the server (default: all cores)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--load", action="store_true", help="load mode with bombs (see above)")
    parser.add_argument("--load-streams", type=int, default=8, help="good streams in load mode (8)")
    args = parser.parse_args()

    bench = _pipeline_bench()
    with tempfile.TemporaryDirectory(prefix="bench-endpoint-") as tmp:
        video = bench.make_video(
            Path(tmp) / "clip.mp4",
            seconds=args.frames / 10,
            fps=10,
            width=args.width,
            height=args.height,
        )
        from fairmot.video import open_video

        frames = list(open_video(video))[: args.frames]
        model_dir = args.model
        if model_dir is None:
            from fairmot.model import save_artifact

            loaded = bench.random_lite(*LITE_INPUT, sample_frame=frames[0])
            model_dir = Path(tmp) / "model"
            save_artifact(loaded.model, loaded.card, model_dir)
        if args.load:
            return run_load(model_dir, frames, args.load_streams, args.threads)
        port = free_port()
        server = start_server(model_dir, port, args.threads)
        try:
            run_stream(port, request_bodies(frames[:3], "warm-up"), [])
            results = [measure(port, frames, int(n)) for n in args.streams.split(",")]
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"endpoint on loopback: {args.width}x{args.height} JPEG frames, model input "
        f"{LITE_INPUT[0]}x{LITE_INPUT[1]}, {args.frames} frames per stream"
    )
    print(
        f"{'streams':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'model ms/batch':>14} "
        f"{'frames/batch':>12} {'outside model':>13} {'model busy':>10}"
    )
    for r in results:
        print(
            f"{r['streams']:>7} {r['requests_per_s']:>7.2f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
            f"{r['model_ms_per_batch']:>14.1f} {r['frames_per_batch']:>12.2f} "
            f"{100 * r['outside_model_share']:>12.1f}% {100 * r['model_busy_share']:>9.1f}%"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
