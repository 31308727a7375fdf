"""The Python API against the CLI on the same video and model, in one run: API fps / CLI fps.

Each round runs both as fresh processes, as a user would (`python -c "import fairmot; ..."` and
`fairmot track`), alternating, and reads the pipeline's own frames/s from the result (load time
excluded for both). The best of each over the rounds is kept, since the machine is shared. The
thread policy belongs to the library, so the ratio should be ~1 (target >= 0.95).

    .venv/bin/python bench/api.py                      # random-init lite at 576x320, 10 s video
    .venv/bin/python bench/api.py --model runs/lite --seconds 5 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pipeline import LITE_INPUT, make_video, random_lite

import fairmot  # noqa: F401  # first: its thread policy must be set before torch loads
from fairmot.model import save_artifact
from fairmot.video import open_video

API_SCRIPT = (
    "import sys, fairmot; "
    "model = fairmot.load(sys.argv[1], backend=sys.argv[4]); "
    "result = model.track(sys.argv[2], out=sys.argv[3], exist_ok=True, save_video=sys.argv[5] == '1'); "
    "print(result.fps)"
)


def api_fps(model: Path, video: Path, out: Path, backend: str, save_video: bool) -> float:
    args = [str(model), str(video), str(out), backend, "1" if save_video else "0"]
    result = subprocess.run(
        [sys.executable, "-c", API_SCRIPT, *args], capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip().splitlines()[-1])


def cli_fps(model: Path, video: Path, out: Path, backend: str, save_video: bool) -> float:
    command = [sys.executable, "-m", "fairmot", "track", str(video), "--model", str(model)]
    command += ["--out", str(out), "--exist-ok", "--quiet", "--backend", backend]
    if not save_video:
        command.append("--no-video")
    subprocess.run(command, capture_output=True, text=True, check=True)
    return float(json.loads((out / "summary.json").read_text())["fps"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="a model artifact (default: random-init lite)")
    parser.add_argument("--seconds", type=float, default=10.0, help="video length")
    parser.add_argument("--size", default="960x540", help="video size WxH")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; best kept")
    parser.add_argument("--backend", default="auto", help="auto, torch or onnxruntime")
    parser.add_argument("--no-video", action="store_true", help="both without annotated.mp4")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        video = make_video(
            Path(tmp) / "synthetic.mp4", seconds=args.seconds, fps=30, width=width, height=height
        )
        model = args.model
        if model is None:
            loaded = random_lite(*LITE_INPUT, sample_frame=next(iter(open_video(video))))
            model = save_artifact(loaded.model, loaded.card, Path(tmp) / "model")
        print(
            f"video {width}x{height} {args.seconds:g} s, backend {args.backend}, "
            f"OMP_NUM_THREADS {os.environ.get('OMP_NUM_THREADS', 'unset')}"
        )
        best_api = best_cli = 0.0
        save_video = not args.no_video
        for number in range(1, args.rounds + 1):
            fps_api = api_fps(model, video, Path(tmp) / "api", args.backend, save_video)
            fps_cli = cli_fps(model, video, Path(tmp) / "cli", args.backend, save_video)
            print(
                f"round {number}: API {fps_api:.1f} frames/s, CLI {fps_cli:.1f} frames/s, "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
                flush=True,
            )
            best_api, best_cli = max(best_api, fps_api), max(best_cli, fps_cli)
        print(f"API: {best_api:.1f} frames/s")
        print(f"CLI: {best_cli:.1f} frames/s")
        print(f"ratio API/CLI: {best_api / best_cli:.2f} (target >= 0.95)")


if __name__ == "__main__":
    main()
