"""Write synthetic scenes as MOT Challenge sequences plus a dataset manifest."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from fairmot.data.manifest import DatasetManifest, write_manifest
from fairmot.data.synth.background import make_background, make_occluders, make_scene
from fairmot.data.synth.carts import (
    CART_CLASS,
    CART_DENSITY,
    CART_IDENTITY_BASE,
    PERSON_CLASS,
    CartPool,
    MixedPool,
    gt_class,
)
from fairmot.data.synth.figures import AppearancePool
from fairmot.data.synth.motion import Crowd
from fairmot.data.synth.render import render_frame
from fairmot.data.synth.truth import PathSample, scene_file, true_analytics

JPEG_QUALITY = 90
# The manifest class map of each --classes choice: gt class value -> training class index.
SYNTH_CLASSES = {1: {PERSON_CLASS: 0}, 2: {PERSON_CLASS: 0, CART_CLASS: 1}}
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
    classes: int = 1,
) -> int:
    """Render one sequence into `seq_dir`; returns the number of identities that appeared.

    With `analytics`, also a scene file and the true analytics of the walkers' paths; with
    classes=2, carts among the people (gt class 6, see fairmot.data.synth.carts)."""
    scene_rng, crowd_rng, look_rng = rng.spawn(3)
    scene = make_scene(scene_rng, width, height)
    background = make_background(scene_rng, scene)
    occluders = make_occluders(scene_rng, scene, int(scene_rng.integers(1, 4)))
    people = AppearancePool(look_rng)
    pool: AppearancePool | MixedPool = people
    crowd = Crowd(crowd_rng, scene, fps, density)
    crowds = [crowd]
    if classes == 2:
        # Spawned after the people's generators: a one-class sequence draws exactly as before.
        cart_rng, cart_look_rng = rng.spawn(2)
        pool = MixedPool(people, CartPool(cart_look_rng))
        cart_density = max(1.0, CART_DENSITY * density)
        crowds.append(Crowd(cart_rng, scene, fps, cart_density, CART_IDENTITY_BASE))
    (seq_dir / "img1").mkdir(parents=True, exist_ok=True)
    (seq_dir / "gt").mkdir(exist_ok=True)
    rows: list[tuple[int, int, float, float, float, float, int, int, float]] = []
    paths: list[PathSample] = []
    for frame_no in range(1, frames + 1):
        placements = [p for c in crowds for p in c.placements(pool.height)]
        image, truth = render_frame(background, occluders, placements, pool)
        feet = {p.identity: (float(p.x), float(p.y)) for p in placements}
        # The true feet of exactly the people the ground truth has in this frame.
        paths.extend(
            (frame_no, v.identity + 1, *feet[v.identity])
            for v in truth
            if gt_class(v.identity) == PERSON_CLASS
        )
        cv2.imwrite(
            str(seq_dir / "img1" / f"{frame_no:06d}.jpg"),
            image,
            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
        )
        for v in truth:
            mark = 1 if v.visibility >= MIN_VISIBILITY else 0
            rows.append(
                (
                    frame_no,
                    v.identity + 1,
                    v.x,
                    v.y,
                    v.w,
                    v.h,
                    mark,
                    gt_class(v.identity),
                    v.visibility,
                )
            )
        for c in crowds:
            c.step()
        if on_frame is not None:
            on_frame()
    rows.sort(key=lambda r: (r[1], r[0]))  # MOT gt files are ordered by id, then frame
    with (seq_dir / "gt" / "gt.txt").open("w") as fh:
        for f, tid, x, y, w, h, mark, cls, vis in rows:
            fh.write(f"{f},{tid},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{mark},{cls},{vis:.3f}\n")
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
    classes: int = 1,
) -> Path:
    """Write `sequences` synthetic MOT Challenge sequences and manifest.json under `out_dir`.

    Deterministic for a seed; a different seed gives different scenes and new identities.
    classes=2 adds carts (gt class 6) and a manifest class map training them as class 1.
    """
    if min(sequences, frames, width, height, fps) <= 0:
        raise ValueError("sequences, frames, width, height and fps must be positive")
    if classes not in SYNTH_CLASSES:
        raise ValueError(f"classes must be 1 (people) or 2 (people and carts), not {classes}")
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
            classes=classes,
        )
    if bar is not None:
        bar.close()
    manifest = DatasetManifest(
        name=name or f"synth-{seed}",
        sequences=names,
        classes=SYNTH_CLASSES[classes] if classes > 1 else None,
    )
    write_manifest(out, manifest)
    return out
