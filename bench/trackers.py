"""Peer benchmark: the project's trackers against roboflow `trackers` on the same detections.

Peers: SORT, ByteTrack, OC-SORT and BoT-SORT (camera-motion compensation off: fixed cameras) from
the roboflow `trackers` package, with their default settings (what a user who installs them gets).
They are motion-only: they never see the embeddings. Every tracker gets the same detections,
and the results are scored with fairmot.evaluation (motmetrics, TrackEval's HOTA).

Settings:
  sim   simulated crowded scenes (fairmot.tracking.simulation.simulate_crowd: 30 people, mutual
        and static occlusion, perspective, drifting identity embeddings blended with the
        occluder's when occluded, false positives scoring 0.3-0.65), held-out seeds.
  lite  the detections and embeddings of a trained `lite` model on held-out synthetic video,
        cached by `--dump-lite` (needs torch: run that step with the project venv).

    make bench-venv
    PYTHONPATH=. .venv-bench/bin/python bench/trackers.py sim --scenes 4
    PYTHONPATH=. .venv/bin/python bench/trackers.py --dump-lite MODEL_DIR TEST_DATASET lite.npz
    PYTHONPATH=. .venv-bench/bin/python bench/trackers.py lite --detections lite.npz

Prints MOTA, IDF1, HOTA, ID switches, FP, FN and ms/frame per tracker, and each tracker's ratio
to the best peer on MOTA, IDF1 and HOTA (above 1: better than every peer).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from tracker import run  # bench/tracker.py: one timed loop over the frames for both benches

from fairmot.evaluation import evaluate
from fairmot.tracking import Detections, create_tracker, tracker_names
from fairmot.tracking.simulation import CrowdDetectorNoise, detect_crowd, simulate_crowd

# This file is named like the roboflow package it benchmarks: drop its folder from the import path
# (Python puts it first) so that `import trackers` finds the package, not this script.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

# Scene seeds of the sim setting; the tracker defaults were chosen on other seeds (0-9).
SIM_SEEDS = range(1000, 1100)
PEERS = ("SORT", "ByteTrack", "OC-SORT", "BoT-SORT")
METRICS = ("mota", "idf1", "hota")

# One sequence: (frame rate, detections per frame, ground-truth rows).
Sequence = tuple[float, list[Detections], np.ndarray]
Step = Callable[[Detections], list[tuple[int, list[float], float]]]


def project_step(name: str, frame_rate: float) -> Step:
    tracker = create_tracker(name, frame_rate=frame_rate)

    def step(detections: Detections) -> list[tuple[int, list[float], float]]:
        return [(t.track_id, t.tlwh.tolist(), t.score) for t in tracker.update(detections)]

    return step


def peer_step(name: str, frame_rate: float) -> Step:
    import supervision as sv
    import trackers

    make: dict[str, Callable[[], Any]] = {
        "SORT": lambda: trackers.SORTTracker(frame_rate=frame_rate),
        "ByteTrack": lambda: trackers.ByteTrackTracker(frame_rate=frame_rate),
        "OC-SORT": lambda: trackers.OCSORTTracker(frame_rate=frame_rate),
        "BoT-SORT": lambda: trackers.BoTSORTTracker(frame_rate=frame_rate, enable_cmc=False),
    }
    tracker = make[name]()

    def step(detections: Detections) -> list[tuple[int, list[float], float]]:
        sv_dets = sv.Detections(
            xyxy=detections.boxes.astype(np.float32),
            confidence=detections.scores.astype(np.float32),
            class_id=np.zeros(len(detections), int),
        )
        out = tracker.update(sv_dets)
        keep = out.tracker_id >= 0 if len(out) else np.zeros(0, bool)
        xyxy, ids, conf = out.xyxy[keep], out.tracker_id[keep], out.confidence[keep]
        tlwh = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
        return [(int(i), box.tolist(), float(s)) for i, box, s in zip(ids, tlwh, conf, strict=True)]

    return step


def sim_sequences(scenes: int, frames: int, seeds: Iterable[int]) -> dict[str, Sequence]:
    out = {}
    for seed in list(seeds)[:scenes]:
        scene = simulate_crowd(num_frames=frames, seed=seed)
        rng = np.random.default_rng(seed + 1)
        noise = CrowdDetectorNoise()
        dets = [detect_crowd(scene, f, noise, rng) for f in range(scene.num_frames)]
        out[f"crowd-{seed}"] = (30.0, dets, scene.gt_rows())
    return out


def dump_lite(model_dir: Path, dataset: Path, out: Path) -> None:
    """Run a trained model over a held-out dataset; save every frame's detections (at a low
    score threshold, so BYTE-style trackers see the low band) and the ground truth."""
    import cv2

    from fairmot.data import read_manifest, read_sequence
    from fairmot.model import load_artifact
    from fairmot.pipeline.frames import FramePipeline

    loaded = load_artifact(model_dir)
    arrays: dict[str, np.ndarray] = {}
    names = read_manifest(dataset).sequences
    for name in names:
        sequence = read_sequence(dataset / name)
        runner = FramePipeline(loaded, conf_thres=0.05)
        counts, boxes, scores, embeddings = [], [], [], []
        for path in sequence.image_paths:
            detections = runner.detect([cv2.imread(str(path))])[0]
            counts.append(len(detections))
            boxes.append(detections.boxes)
            scores.append(detections.scores)
            embeddings.append(detections.embeddings)
        arrays[f"{name}/counts"] = np.array(counts)
        arrays[f"{name}/boxes"] = np.concatenate(boxes)
        arrays[f"{name}/scores"] = np.concatenate(scores)
        arrays[f"{name}/embeddings"] = np.concatenate(embeddings)
        arrays[f"{name}/gt"] = sequence.gt
        arrays[f"{name}/fps"] = np.array(sequence.frame_rate)
    np.savez_compressed(out, **arrays)
    print(f"{len(names)} sequences of detections written to {out}")


def lite_sequences(path: Path) -> dict[str, Sequence]:
    data = np.load(path)
    out = {}
    for name in sorted({key.split("/")[0] for key in data.files}):
        bounds = np.concatenate([[0], np.cumsum(data[f"{name}/counts"])])
        frames = [
            Detections(
                data[f"{name}/boxes"][a:b],
                data[f"{name}/scores"][a:b],
                data[f"{name}/embeddings"][a:b],
            )
            for a, b in itertools.pairwise(bounds)
        ]
        out[name] = (float(data[f"{name}/fps"]), frames, data[f"{name}/gt"])
    return out


def benchmark(sequences: dict[str, Sequence], ours: list[str]) -> dict[str, dict[str, float]]:
    gt = {name: rows for name, (_, _, rows) in sequences.items()}
    makers: dict[str, Callable[[float], Step]] = {
        name: (lambda fps, n=name: project_step(n, fps)) for name in ours
    }
    makers.update({name: (lambda fps, n=name: peer_step(n, fps)) for name in PEERS})
    table = {}
    for label, make in makers.items():
        results, ms = {}, []
        for name, (fps, frames, _) in sequences.items():
            results[name], per_frame = run(make(fps), frames)
            ms.append(per_frame)
        table[label] = {**evaluate(results, gt).overall, "ms": float(np.mean(ms))}
    return table


def print_table(table: dict[str, dict[str, float]], title: str) -> None:
    best = {m: max(table[p][m] for p in PEERS) for m in METRICS}
    print(title)
    header = f"{'tracker':<10} {'MOTA':>6} {'IDF1':>6} {'HOTA':>6} {'IDs':>5} {'FP':>6} {'FN':>6}"
    print(header + f" {'ms/frame':>8}   ratio to best peer (MOTA IDF1 HOTA)")
    for label, m in table.items():
        ratios = " ".join(f"{m[k] / best[k]:.3f}" for k in METRICS)
        print(
            f"{label:<10} {100 * m['mota']:>6.1f} {100 * m['idf1']:>6.1f} {100 * m['hota']:>6.1f} "
            f"{int(m['ids']):>5d} {int(m['fp']):>6d} {int(m['fn']):>6d} {m['ms']:>8.2f}   {ratios}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("setting", nargs="?", choices=("sim", "lite"), default="sim")
    parser.add_argument("--scenes", type=int, default=4, help="sim: scenes (held-out seeds)")
    parser.add_argument("--frames", type=int, default=300, help="sim: frames per scene")
    parser.add_argument("--seed-offset", type=int, default=0, help="sim: first seed offset")
    parser.add_argument("--detections", type=Path, help="lite: the --dump-lite file")
    parser.add_argument("--trackers", default=",".join(tracker_names()), help="ours, by name")
    parser.add_argument(
        "--dump-lite", nargs=3, type=Path, metavar=("MODEL", "DATASET", "OUT"), default=None
    )
    args = parser.parse_args()
    if args.dump_lite:
        dump_lite(*args.dump_lite)
        return
    ours = args.trackers.split(",")
    if args.setting == "sim":
        seeds = range(SIM_SEEDS.start + args.seed_offset, SIM_SEEDS.stop)
        sequences = sim_sequences(args.scenes, args.frames, seeds)
        title = f"sim: {len(sequences)} crowded scenes x {args.frames} frames (held-out seeds)"
    else:
        if args.detections is None:
            parser.error("lite needs --detections (made by --dump-lite)")
        sequences = lite_sequences(args.detections)
        title = f"lite: trained lite model on {len(sequences)} held-out synthetic sequences"
    print_table(benchmark(sequences, ours), title)


if __name__ == "__main__":
    main()
