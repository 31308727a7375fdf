"""What batching videos into one processing job saves: the job's start-up, paid once.

In one run, the `process` entry point (the processing container's command) runs as a fresh
process twice on the same CPU threads: once with one video, once with N copies of it. The
difference gives the time per video; what is left of the single-video job is the start-up
(interpreter, torch import, model load) that every job pays. The ratio printed is the wall time
per video in a batch of N over the wall time of a job per video. docs/scale.md uses these
numbers; SageMaker adds minutes of instance provisioning and image pull per job on top.

    .venv/bin/python bench/batching.py                       # 8 videos of 5 s at 576x320
    .venv/bin/python bench/batching.py --videos 4 --seconds 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline import make_video  # bench/pipeline.py: the synthetic H.264 video

from fairmot.model import ModelCard, build_model, save_artifact

LITE_INPUT = (576, 320)  # the lite arch's design point


def run_job(root: Path, videos: list[Path], model: Path, threads: int) -> float:
    """Wall seconds of one `process` run over `videos` (a fresh process, as each job is)."""
    if root.exists():
        shutil.rmtree(root)
    video_dir = root / "input" / "video"
    video_dir.mkdir(parents=True)
    for n, video in enumerate(videos):
        shutil.copy(video, video_dir / f"v{n:03d}.mp4")
    env = {
        **os.environ,
        "FAIRMOT_PROCESSING_VIDEO_DIR": str(video_dir),
        "FAIRMOT_PROCESSING_MODEL_DIR": str(model),
        "FAIRMOT_PROCESSING_OUTPUT_DIR": str(root / "output"),
        "FAIRMOT_OUTPUT_DIR": str(root / "job-output"),
        "OMP_NUM_THREADS": str(threads),
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "fairmot.sagemaker.process"], env=env, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=8, help="videos in the batched job")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each video")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.videos < 2:
        parser.error("--videos must be at least 2 (one job of one video is the baseline)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video = make_video(work / "clip.mp4", seconds=args.seconds, fps=args.fps, width=960,
                           height=540)  # fmt: skip
        card = ModelCard(arch="lite", input_w=LITE_INPUT[0], input_h=LITE_INPUT[1])
        save_artifact(build_model(card), card, work / "model")
        single = run_job(work / "single", [video], work / "model", args.threads)
        batched = run_job(work / "batch", [video] * args.videos, work / "model", args.threads)
    per_video = (batched - single) / (args.videos - 1)
    startup = single - per_video
    frames = round(args.seconds * args.fps)
    print(f"one video ({frames} frames of 960x540, lite at 576x320, {args.threads} thread(s)):")
    print(f"  job of 1 video:          {single:7.2f} s")
    print(f"  job of {args.videos} videos:         {batched:7.2f} s")
    print(f"  per video:               {per_video:7.2f} s ({frames / per_video:.1f} frames/s)")
    print(f"  start-up per job:        {startup:7.2f} s")
    print(f"  wall per video, batched / one job each: {batched / args.videos / single:.2f}")


if __name__ == "__main__":
    main()
