"""Write synthetic scenes as MOT Challenge sequences plus a dataset manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from fairmot.data.manifest import DatasetManifest, write_manifest
from fairmot.data.synth.background import make_background, make_occluders, make_scene
from fairmot.data.synth.figures import AppearancePool
from fairmot.data.synth.motion import Crowd
from fairmot.data.synth.render import render_frame
from fairmot.data.synth.truth import PathSample, scene_file, true_analytics

JPEG_QUALITY = 90
# Rows less visible than this are written with mark 0 ("ignore"), as MOT17 does for people
# hidden behind others: neither training nor evaluation asks for a box there.
MIN_VISIBILITY = 0.25
# With `analytics`, each sequence also gets these (see fairmot.data.synth.truth).
SCENE_FILE = "scene.yaml"
TRUTH_FILE = "analytics_truth.json"
SEQINFO = """[Sequence]
name={name}
imDir=img1
frameRate={fps}
seqLength={frames}
imWidth={width}
imHeight={height}
imExt=.jpg
"""


def write_sequence(
    seq_dir: Path,
    *,
    frames: int,
    width: int,
    height: int,
    fps: int,
    density: float,
    rng: np.random.Generator,
    on_frame: Callable[[], None] | None = None,
    analytics: bool = False,
) -> int:
    """Render one sequence into `seq_dir`; returns the number of identities that appeared.

    With `analytics`, also a scene file and the true analytics of the walkers' paths."""
    scene_rng, crowd_rng, look_rng = rng.spawn(3)
    scene = make_scene(scene_rng, width, height)
    background = make_background(scene_rng, scene)
    occluders = make_occluders(scene_rng, scene, int(scene_rng.integers(1, 4)))
    pool = AppearancePool(look_rng)
    crowd = Crowd(crowd_rng, scene, fps, density)
    (seq_dir / "img1").mkdir(parents=True, exist_ok=True)
    (seq_dir / "gt").mkdir(exist_ok=True)
    rows: list[tuple[int, int, float, float, float, float, int, float]] = []
    paths: list[PathSample] = []
    for frame_no in range(1, frames + 1):
        placements = crowd.placements(pool.height)
        image, truth = render_frame(background, occluders, placements, pool)
        feet = {p.identity: (float(p.x), float(p.y)) for p in placements}
        # The true feet of exactly the people the ground truth has in this frame.
        paths.extend((frame_no, v.identity + 1, *feet[v.identity]) for v in truth)
        cv2.imwrite(
            str(seq_dir / "img1" / f"{frame_no:06d}.jpg"),
            image,
            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
        )
        for v in truth:
            mark = 1 if v.visibility >= MIN_VISIBILITY else 0
            rows.append((frame_no, v.identity + 1, v.x, v.y, v.w, v.h, mark, v.visibility))
        crowd.step()
        if on_frame is not None:
            on_frame()
    rows.sort(key=lambda r: (r[1], r[0]))  # MOT gt files are ordered by id, then frame
    with (seq_dir / "gt" / "gt.txt").open("w") as fh:
        for f, tid, x, y, w, h, mark, vis in rows:
            fh.write(f"{f},{tid},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{mark},1,{vis:.3f}\n")
    (seq_dir / "seqinfo.ini").write_text(
        SEQINFO.format(name=seq_dir.name, fps=fps, frames=frames, width=width, height=height)
    )
    if analytics:
        import yaml

        (seq_dir / SCENE_FILE).write_text(
            yaml.safe_dump(scene_file(scene), sort_keys=False, default_flow_style=None)
        )
        (seq_dir / TRUTH_FILE).write_text(json.dumps(true_analytics(scene, paths, fps)) + "\n")
    return len({r[1] for r in rows})


def generate_dataset(
    out_dir: str | Path,
    *,
    sequences: int,
    frames: int,
    width: int,
    height: int,
    seed: int,
    density: float = 6.0,
    fps: int = 30,
    name: str | None = None,
    progress: bool = False,
    analytics: bool = False,
) -> Path:
    """Write `sequences` synthetic MOT Challenge sequences and manifest.json under `out_dir`.

    Deterministic for a seed; a different seed gives different scenes and new identities.
    """
    if min(sequences, frames, width, height, fps) <= 0:
        raise ValueError("sequences, frames, width, height and fps must be positive")
    if width < 32 or height < 32:
        raise ValueError(f"frames of {width}x{height} are too small for figures; use >= 32x32")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    root = np.random.default_rng(seed)
    seq_rngs = root.spawn(sequences)
    names = [f"SYN{seed}-{i + 1:02d}" for i in range(sequences)]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=sequences * frames, unit="frame", desc="synth")
    for seq_name, rng in zip(names, seq_rngs, strict=True):
        write_sequence(
            out / seq_name,
            frames=frames,
            width=width,
            height=height,
            fps=fps,
            density=density,
            rng=rng,
            on_frame=bar.update if bar else None,
            analytics=analytics,
        )
    if bar is not None:
        bar.close()
    write_manifest(out, DatasetManifest(name=name or f"synth-{seed}", sequences=names))
    return out
