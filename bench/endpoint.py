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
LITE_INPUT = (576, 320)  # the lite arch's design point: half the paper's 1088x608
JPEG_QUALITY = 90


def _pipeline_bench() -> Any:
    """bench/pipeline.py's synthetic video and calibrated random lite model (one definition)."""
    spec = importlib.util.spec_from_file_location("bench_pipeline", BENCH / "pipeline.py")
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


def start_server(model_dir: Path, port: int, threads: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SM_MODEL_DIR": str(model_dir),
        "SAGEMAKER_BIND_TO_PORT": str(port),
        "FAIRMOT_BIND_HOST": "127.0.0.1",
        "OMP_NUM_THREADS": str(threads),
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
