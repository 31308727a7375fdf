"""Turn an unpacked MOT16/17/20 download into a dataset directory (sequences + manifest.json)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from fairmot.data.errors import DatasetError
from fairmot.data.manifest import DatasetManifest, write_manifest
from fairmot.data.mot import read_sequence

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
    write_manifest(out, DatasetManifest(name=name or out.resolve().name, sequences=names))
    return out
