"""Synthetic scene speed: frames per second at 640x360 on one core, JPEG writing included."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import cv2

from fairmot.data.synth import generate_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--density", type=float, default=6.0)
    args = parser.parse_args()
    cv2.setNumThreads(1)  # one core, as the target says
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        generate_dataset(
            Path(tmp),
            sequences=1,
            frames=args.frames,
            width=args.width,
            height=args.height,
            seed=0,
            density=args.density,
        )
        elapsed = time.perf_counter() - start
    fps = args.frames / elapsed
    print(
        f"synth {args.width}x{args.height} density={args.density:g}: {args.frames} frames in "
        f"{elapsed:.2f} s = {fps:.0f} frames/s on one core (target >= 100)"
    )


if __name__ == "__main__":
    main()
