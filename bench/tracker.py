"""Tracker benchmark: update time per frame, and accuracy against a plain IoU-greedy tracker.

Run: .venv/bin/python bench/tracker.py [--frames N] [--seeds S] [--trackers fairbyte,fairmot]

Part 1 times each named tracker's `update` with about 10, 50 and 200 detections a frame (steady
state, the detections generated beforehand) against the targets: 1 ms at 50 and 3 ms at 200
(MOT20-like crowds). Part 2 runs the trackers on the same simulated detections of crossing walkers
(box jitter, noisy identity embeddings, misses, false positives): a greedy IoU tracker, and each
named tracker with uninformative embeddings (motion only) and with embeddings, scored with
fairmot.evaluation (motmetrics). Part 3 times camera-motion compensation (`camera_motion: true`)
per 960x540 frame of a panning camera, as a ratio to fairbyte's update at 50 detections in the
same run. bench/trackers.py compares against other tracking libraries.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from fairmot.evaluation import evaluate
from fairmot.tracking import ClassPools, Detections, create_tracker, tracker_names
from fairmot.tracking.matching import iou_matrix
from fairmot.tracking.simulation import DetectorNoise, WalkerScene, detect, simulate_walkers

NOISE = DetectorNoise(box_jitter=0.04, embedding_noise=0.05, miss_rate=0.1, false_positives=1.0)
# Targets: association should cost about 1 ms of the ~40 ms frame at 50 detections (the paper's
# budget) and stay within 3 ms in MOT20-like crowds of 200.
TARGET_MS = {50: 1.0, 200: 3.0}

Rows = list[list[float]]


class GreedyIoUTracker:
    """Baseline: match each detection to the unmatched previous box of highest IoU (>= 0.3),
    keep unmatched tracks for a few frames on their last box, start a track for anything else."""

    MIN_IOU = 0.3
    MAX_AGE = 5

    def __init__(self) -> None:
        self.boxes = np.zeros((0, 4))
        self.ids = np.zeros(0, int)
        self.age = np.zeros(0, int)
        self.next_id = 1

    def update(self, detections: Detections) -> list[tuple[int, np.ndarray, float]]:
        boxes = detections.boxes.astype(np.float64)
        iou = iou_matrix(self.boxes, boxes)
        det_ids = np.full(len(boxes), -1)
        matched_tracks = np.zeros(len(self.boxes), bool)
        for flat in np.argsort(-iou, axis=None):
            t, d = np.unravel_index(flat, iou.shape)
            if iou[t, d] < self.MIN_IOU:
                break
            if matched_tracks[t] or det_ids[d] >= 0:
                continue
            matched_tracks[t] = True
            det_ids[d] = self.ids[t]
        for d in np.flatnonzero(det_ids < 0):
            det_ids[d] = self.next_id
            self.next_id += 1
        keep = ~matched_tracks & (self.age + 1 < self.MAX_AGE)
        self.boxes = np.concatenate([self.boxes[keep], boxes])
        self.ids = np.concatenate([self.ids[keep], det_ids])
        self.age = np.concatenate([self.age[keep] + 1, np.zeros(len(boxes), int)])
        tlwh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
        return [
            (int(i), tlwh[k], float(s))
            for k, (i, s) in enumerate(zip(det_ids, detections.scores, strict=True))
        ]


def jde_outputs(tracker: ClassPools) -> Callable[[Detections], list[tuple[int, np.ndarray, float]]]:
    def step(detections: Detections) -> list[tuple[int, np.ndarray, float]]:
        return [(t.track_id, t.tlwh, t.score) for t in tracker.update(detections)]

    return step


def run(
    step: Callable[[Detections], list[tuple[int, np.ndarray, float]]], frames: list[Detections]
) -> tuple[np.ndarray, float]:
    rows: Rows = []
    elapsed = 0.0
    for f, detections in enumerate(frames):
        start = time.perf_counter()
        out = step(detections)
        elapsed += time.perf_counter() - start
        rows += [[f + 1, i, *tlwh, s] for i, tlwh, s in out]
    return np.array(rows).reshape(-1, 7), 1000 * elapsed / max(len(frames), 1)


def scene_detections(scene: WalkerScene, seed: int, *, embeddings: bool = True) -> list[Detections]:
    rng = np.random.default_rng(seed)
    return [
        detect(scene, f, NOISE, rng, identity_embeddings=embeddings)
        for f in range(scene.num_frames)
    ]


def timing(names: list[str], frames: int, sizes: list[int]) -> dict[str, list[tuple[int, float]]]:
    """Median update times per tracker and size. The trackers take turns on the same frames and
    each update is timed in this thread's CPU time, so other processes on a shared machine
    inflate the numbers less; the ratio to `fairmot` (the reference) comes from the same run."""
    print(f"update time (thread CPU ms), {frames} frames after 10 warm-up frames")
    print(
        f"{'tracker':<10} {'dets/frame':>11} {'median':>8} {'p5':>8} {'p90':>8} {'vs fairmot':>11}"
    )
    medians: dict[str, list[tuple[int, float]]] = {name: [] for name in names}
    for walkers in sizes:
        # One lane pair per 270 px keeps boxes apart across lanes whatever the walker count, and
        # a wide image keeps every walker in view: exactly `walkers` detections a frame.
        scene = simulate_walkers(
            walkers,
            frames + 10,
            width=10 * (frames + 10) + 2000,
            height=int(270 * (walkers + 1) / 2),
            seed=walkers,
        )
        rng = np.random.default_rng(1)
        timing_noise = DetectorNoise(NOISE.box_jitter, NOISE.embedding_noise)
        dets = [detect(scene, f, timing_noise, rng) for f in range(scene.num_frames)]
        trackers = {name: create_tracker(name) for name in names}
        times: dict[str, list[float]] = {name: [] for name in names}
        for d in dets:
            for name, tracker in trackers.items():
                start = time.thread_time()
                tracker.update(d)
                times[name].append(1000 * (time.thread_time() - start))
        mean_dets = np.mean([len(d) for d in dets[10:]])
        steady = {name: np.array(t[10:]) for name, t in times.items()}
        reference = np.median(steady["fairmot"]) if "fairmot" in steady else float("nan")
        for name in names:
            median = float(np.median(steady[name]))
            verdict = ""
            if walkers in TARGET_MS:
                target = TARGET_MS[walkers]
                verdict = f"  {'meets' if median <= target else 'MISSES'} <= {target} ms"
            print(
                f"{name:<10} {mean_dets:>11.1f} {median:>8.3f} {np.percentile(steady[name], 5):>8.3f} "
                f"{np.percentile(steady[name], 90):>8.3f} {median / reference:>11.3f}{verdict}"
            )
            medians[name].append((walkers, median))
    return medians


def camera_cost(frames: int) -> None:
    """Time `CameraMotion.step` per frame of a camera panning over a textured 960x540 scene (every
    frame rich in corners: the costly case) on what the pipeline hands it, the letterboxed frame's
    content at the default 1088x608 input, and on the frame itself; interleaved with fairbyte
    updates at 50 detections, in wall-clock time (OpenCV may use several threads)."""
    import cv2

    from fairmot.letterbox import letterbox
    from fairmot.tracking.camera_motion import CameraMotion, estimate_camera_motion

    width, height = 960, 540
    rng = np.random.default_rng(0)
    # A 4 px pan a frame over a picture wide enough for every frame.
    wide = width + 4 * (frames + 10)
    noise = rng.uniform(0, 255, (height // 8, wide // 8)).astype(np.float32)
    picture = cv2.resize(noise, (wide, height), interpolation=cv2.INTER_CUBIC)
    picture = cv2.cvtColor(picture.clip(0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    video = [picture[:, 4 * f : 4 * f + width] for f in range(frames + 10)]
    boxed = [letterbox(image, 1088, 608) for image in video]
    contents = [
        (image[int(b.pad_y) : 608 - int(b.pad_y), int(b.pad_x) : 1088 - int(b.pad_x)], b.scale)
        for image, b in boxed
    ]
    scene = simulate_walkers(50, frames + 10, width=10 * frames + 2000, height=6885, seed=50)
    detections = [detect(scene, f, DetectorNoise(), rng) for f in range(frames + 10)]
    tracker, on_content, on_frame = create_tracker("fairbyte"), CameraMotion(), CameraMotion()
    times: dict[str, list[float]] = {"update": [], "content": [], "frame": [], "full": []}
    for f in range(frames + 10):
        start = time.perf_counter()
        tracker.update(detections[f])
        times["update"].append(time.perf_counter() - start)
        start = time.perf_counter()
        on_content.step(*contents[f])
        times["content"].append(time.perf_counter() - start)
        start = time.perf_counter()
        on_frame.step(video[f])
        times["frame"].append(time.perf_counter() - start)
        start = time.perf_counter()
        estimate_camera_motion(video[max(f - 1, 0)], video[f])
        times["full"].append(time.perf_counter() - start)
    median = {name: 1000 * float(np.median(t[10:])) for name, t in times.items()}
    print(f"\ncamera-motion compensation, 960x540 frames, median wall-clock ms of {frames} frames")
    labels = {
        "update": "fairbyte update, 50 detections",
        "content": "CameraMotion.step, letterboxed content (pipeline)",
        "frame": "CameraMotion.step, the 960x540 frame",
        "full": "estimate_camera_motion, full 960x540 (no downscale)",
    }
    for name, label in labels.items():
        print(f"{label:<52} {median[name]:>8.3f} {median[name] / median['update']:>7.2f}x update")


def plot(medians: dict[str, list[tuple[int, float]]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, points in medians.items():
        ax.plot([n for n, _ in points], [ms for _, ms in points], marker="o", label=name)
    ax.plot(list(TARGET_MS), list(TARGET_MS.values()), "k--", marker="x", label="target")
    ax.set(xlabel="detections per frame", ylabel="median update time (ms)", xscale="log")
    ax.set(yscale="log", title="tracker update scaling")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    print(f"plot written to {path}")


def accuracy(frames: int, seeds: int, names: list[str]) -> None:
    scenes = {
        f"walkers-{s}": simulate_walkers(
            20, frames, occlusions={k: (40 + 7 * k, 48 + 7 * k) for k in range(0, 20, 3)}, seed=s
        )
        for s in range(seeds)
    }
    gt = {name: scene.gt_rows() for name, scene in scenes.items()}
    trackers: dict[
        str, tuple[Callable[[], Callable[[Detections], list[tuple[int, np.ndarray, float]]]], bool]
    ] = {"IoU greedy": (lambda: GreedyIoUTracker().update, True)}
    for name in names:
        trackers[f"{name}, motion only"] = (lambda n=name: jde_outputs(create_tracker(n)), False)
        trackers[f"{name}, embeddings"] = (lambda n=name: jde_outputs(create_tracker(n)), True)
    print(
        f"\nAccuracy on {seeds} x {frames} frames of 20 crossing walkers (box jitter "
        f"{NOISE.box_jitter}, embedding noise {NOISE.embedding_noise}, miss rate {NOISE.miss_rate}, "
        f"{NOISE.false_positives} false positive/frame)"
    )
    print(
        f"{'tracker':<24} {'MOTA':>7} {'IDF1':>7} {'HOTA':>7} {'IDs':>5} {'FP':>6} {'FN':>6} {'ms/frame':>9}"
    )
    for label, (make, with_embeddings) in trackers.items():
        results, ms = {}, []
        for s, (name, scene) in enumerate(scenes.items()):
            rows, per_frame = run(
                make(), scene_detections(scene, seed=100 + s, embeddings=with_embeddings)
            )
            results[name] = rows
            ms.append(per_frame)
        m = evaluate(results, gt).overall
        print(
            f"{label:<24} {100 * m['mota']:>6.1f}% {100 * m['idf1']:>6.1f}% {100 * m['hota']:>6.1f}% "
            f"{int(m['ids']):>5d} {int(m['fp']):>6d} {int(m['fn']):>6d} {np.mean(ms):>9.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="frames per timing run / scene")
    parser.add_argument("--seeds", type=int, default=3, help="scenes in the accuracy comparison")
    parser.add_argument(
        "--sizes", default="10,50,200", help="comma-separated walkers (detections) per frame"
    )
    parser.add_argument("--plot", help="also save a time-vs-detections plot (PNG) here")
    parser.add_argument("--trackers", default=",".join(tracker_names()), help="names to compare")
    args = parser.parse_args()
    names = args.trackers.split(",")
    sizes = [int(n) for n in args.sizes.split(",")]
    medians = timing(names, args.frames, sizes)
    camera_cost(min(args.frames, 100))
    if args.plot:
        plot(medians, args.plot)
    accuracy(args.frames, args.seeds, names)


if __name__ == "__main__":
    main()
