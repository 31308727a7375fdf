"""Turn downloads into a dataset directory (sequences + manifest.json).

MOT16/17/20 sequences are copied as they are. Image collections (the JDE layout of the paper's
MIX data, CrowdHuman) become one sequence each in the same MOT layout, with `sizes.txt` for their
mixed image sizes and identity -1 for detection-only boxes (fairmot.data.jde, .crowdhuman).
Each call adds its sequences to OUT's manifest, so one dataset directory can combine several
sources; each source keeps its own identities (offsets are given per sequence at training).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fairmot.data.errors import DatasetError
from fairmot.data.manifest import MANIFEST_NAME, DatasetManifest, read_manifest, write_manifest
from fairmot.data.mot import SIZES_NAME, read_sequence

# MOT17 ships every sequence three times, once per public detector, with identical images and
# ground truth: keep one so identities and images are not tripled.
MOT17_VARIANT = re.compile(r"^(?P<base>MOT17-\d+)-(?P<detector>DPM|FRCNN|SDP)$")
PREFERRED_DETECTOR = "FRCNN"
LINK_MODES = ("hardlink", "symlink", "copy")


def find_sequences(mot_dir: Path) -> Iterator[Path]:
    """Sequence directories with ground truth under `mot_dir` (test splits have none)."""
    for ini in sorted(mot_dir.rglob("seqinfo.ini")):
        seq = ini.parent
        if (seq / "gt" / "gt.txt").is_file():
            yield seq


def one_variant_each(seqs: list[Path]) -> list[Path]:
    """Drop MOT17 detector duplicates, keeping FRCNN (or the first variant present)."""
    chosen: dict[str, Path] = {}
    for seq in seqs:
        match = MOT17_VARIANT.match(seq.name)
        key = match["base"] if match else str(seq)
        if key not in chosen or (match and match["detector"] == PREFERRED_DETECTOR):
            chosen[key] = seq
    return sorted(chosen.values(), key=lambda p: p.name)


def _place(src: Path, dst: Path, mode: str) -> None:
    if mode == "symlink":
        dst.symlink_to(src.resolve())
        return
    if mode == "hardlink":
        try:
            os.link(src, dst)
            return
        except OSError:
            pass  # another filesystem: fall back to a copy
    shutil.copy2(src, dst)


def prepare_dataset(
    mot_dir: str | Path, out_dir: str | Path, *, name: str | None = None, link: str = "hardlink"
) -> Path:
    """Write `out_dir` with one directory per sequence and manifest.json; returns out_dir."""
    if link not in LINK_MODES:
        raise ValueError(f"link must be one of {', '.join(LINK_MODES)}, got {link!r}")
    mot_dir, out = Path(mot_dir), Path(out_dir)
    if not mot_dir.is_dir():
        raise DatasetError(f"{mot_dir}: not a directory")
    seqs = one_variant_each(list(find_sequences(mot_dir)))
    if not seqs:
        raise DatasetError(
            f"{mot_dir}: no sequences with seqinfo.ini and gt/gt.txt found "
            "(expected e.g. MOT17/train/MOT17-02-FRCNN)"
        )
    names = [s.name for s in seqs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DatasetError(f"{mot_dir}: several sequences named {', '.join(duplicates)}")
    parsed = [read_sequence(seq_dir) for seq_dir in seqs]  # every one valid before any write
    out.mkdir(parents=True, exist_ok=True)
    for seq_dir, seq in zip(seqs, parsed, strict=True):
        dst = out / seq_dir.name
        (dst / "gt").mkdir(parents=True, exist_ok=True)
        (dst / seq.im_dir).mkdir(exist_ok=True)
        shutil.copy2(seq_dir / "seqinfo.ini", dst / "seqinfo.ini")
        shutil.copy2(seq_dir / "gt" / "gt.txt", dst / "gt" / "gt.txt")
        for frame in range(1, seq.length + 1):
            src = seq.image_path(frame)
            if not src.is_file():
                raise DatasetError(f"{src}: missing image (seqinfo.ini says {seq.length} frames)")
            target = dst / seq.im_dir / src.name
            if not target.exists():
                _place(src, target, link)
    add_to_manifest(out, names, name)
    return out


def add_to_manifest(out: Path, sequences: Sequence[str], name: str | None) -> Path:
    """Create OUT's manifest.json or add sequences to the one there (each listed once)."""
    if (out / MANIFEST_NAME).is_file():
        manifest = read_manifest(out, check_sequences=False)
        listed = list(manifest.sequences)
        listed += [seq for seq in sequences if seq not in listed]
        manifest = manifest.model_copy(update={"sequences": listed})
    else:
        manifest = DatasetManifest(name=name or out.resolve().name, sequences=list(sequences))
    return write_manifest(out, manifest)


@dataclass(frozen=True)
class Frame:
    """One image of a collection and its boxes: (N,5) rows `id x y w h` in pixels, id -1 for
    a detection-only box; `classes` (N,) their MOT gt class values (None: all pedestrians, 1)."""

    image: Path
    width: int
    height: int
    boxes: np.ndarray
    classes: np.ndarray | None = None


# Collections have no frame rate; tracking validation of them (half_val) assumes this one.
COLLECTION_FRAME_RATE = 30


def write_collection(
    out: Path, name: str, frames: Sequence[Frame], *, link: str = "hardlink"
) -> str:
    """Write an image collection as sequence OUT/name in the MOT layout: seqinfo.ini,
    img1/%06d<ext>, gt/gt.txt (mark 1, the frame's classes, visibility 1) and sizes.txt."""
    if link not in LINK_MODES:
        raise ValueError(f"link must be one of {', '.join(LINK_MODES)}, got {link!r}")
    if not frames:
        raise DatasetError(f"{name}: no images to convert")
    extensions = sorted({f.image.suffix.lower() for f in frames})
    if len(extensions) > 1:
        raise DatasetError(f"{name}: images of several types ({', '.join(extensions)})")
    dst = out / name
    if dst.exists():
        shutil.rmtree(dst)  # a rerun replaces its own sequence, never another source's
    (dst / "img1").mkdir(parents=True)
    (dst / "gt").mkdir()
    gt_lines, size_lines = [], []
    for number, frame in enumerate(frames, start=1):
        if not frame.image.is_file():
            raise DatasetError(f"{frame.image}: missing image")
        _place(frame.image, dst / "img1" / f"{number:06d}{extensions[0]}", link)
        size_lines.append(f"{number},{frame.width},{frame.height}\n")
        classes = np.ones(len(frame.boxes)) if frame.classes is None else frame.classes
        for (tid, x, y, w, h), gt_class in zip(frame.boxes, classes, strict=True):
            gt_lines.append(
                f"{number},{int(tid)},{x:.2f},{y:.2f},{w:.2f},{h:.2f},1,{int(gt_class)},1\n"
            )
    (dst / "gt" / "gt.txt").write_text("".join(gt_lines))
    (dst / SIZES_NAME).write_text("".join(size_lines))
    widest = max(frames, key=lambda f: f.width * f.height)
    (dst / "seqinfo.ini").write_text(
        "[Sequence]\n"
        f"name={name}\nimDir=img1\nframeRate={COLLECTION_FRAME_RATE}\n"
        f"seqLength={len(frames)}\nimWidth={widest.width}\nimHeight={widest.height}\n"
        f"imExt={extensions[0]}\n"
    )
    return name
