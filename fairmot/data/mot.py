"""Reader for MOT Challenge sequences (MOT16/17/20 layout).

A sequence directory holds `seqinfo.ini`, `img1/%06d<imExt>` and optionally `gt/gt.txt` with rows
`frame,id,x,y,w,h,mark,class,visibility` (frames from 1).
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fairmot.data.errors import DatasetError

GT_COLUMNS = 9  # frame, id, x, y, w, h, mark, class, visibility
PEDESTRIAN_CLASS = 1  # MOT16/17/20 class id of "pedestrian"; others are distractors or ignored


@dataclass(frozen=True)
class MOTSequence:
    """One MOT Challenge sequence on disk."""

    path: Path
    name: str
    frame_rate: int
    width: int
    height: int
    length: int
    im_dir: str = "img1"
    im_ext: str = ".jpg"
    gt: np.ndarray = field(default_factory=lambda: np.zeros((0, GT_COLUMNS)), repr=False)
    # Per-frame (width, height) where images differ in size (converted image collections such
    # as CrowdHuman or the JDE datasets, from sizes.txt); None: every frame is width x height.
    frame_sizes: dict[int, tuple[int, int]] | None = field(default=None, repr=False)

    @property
    def is_collection(self) -> bool:
        """An image collection converted to a sequence (sizes.txt), not a video: with half_val
        it trains on every image and has no validation half (as MIX in the reference)."""
        return self.frame_sizes is not None

    def size(self, frame: int) -> tuple[int, int]:
        """(width, height) of a frame's image."""
        if self.frame_sizes is not None:
            return self.frame_sizes[frame]
        return self.width, self.height

    def image_path(self, frame: int) -> Path:
        """Path of a frame image, frames numbered from 1."""
        if not 1 <= frame <= self.length:
            raise DatasetError(f"{self.path}: frame {frame} is outside 1..{self.length}")
        return self.path / self.im_dir / f"{frame:06d}{self.im_ext}"

    @property
    def image_paths(self) -> list[Path]:
        return [self.image_path(f) for f in range(1, self.length + 1)]


def read_seqinfo(seq_dir: Path) -> dict[str, str]:
    """The [Sequence] section of seqinfo.ini, keys lower-cased."""
    ini = seq_dir / "seqinfo.ini"
    if not ini.is_file():
        raise DatasetError(f"{ini}: missing (is {seq_dir} a MOT Challenge sequence directory?)")
    parser = configparser.ConfigParser()
    try:
        parser.read(ini)
    except configparser.Error as error:
        raise DatasetError(f"{ini}: not a valid ini file: {error}") from error
    if not parser.has_section("Sequence"):
        raise DatasetError(f"{ini}: no [Sequence] section")
    return {k.lower(): v.strip() for k, v in parser.items("Sequence")}


def _int_field(info: dict[str, str], key: str, ini: Path) -> int:
    if key not in info:
        raise DatasetError(f"{ini}: missing key {key!r}")
    try:
        value = int(float(info[key]))
    except ValueError as error:
        raise DatasetError(f"{ini}: {key}={info[key]!r} is not a number") from error
    if value <= 0:
        raise DatasetError(f"{ini}: {key}={value} must be positive")
    return value


def read_gt(path: Path) -> np.ndarray:
    """gt.txt rows as (N,9) float64; 6-column rows get mark 1, class 1, visibility 1."""
    rows: list[list[float]] = []
    with path.open() as fh:
        for lineno, line in enumerate(fh, start=1):
            text = line.strip()
            if not text:
                continue
            parts = text.replace(" ", "").split(",")
            try:
                values = [float(p) for p in parts]
            except ValueError as error:
                raise DatasetError(f"{path}:{lineno}: not numbers: {text!r}") from error
            if len(values) < 6:
                raise DatasetError(
                    f"{path}:{lineno}: expected frame,id,x,y,w,h,mark,class,visibility, "
                    f"got {len(values)} values"
                )
            values = ([*values, 1.0, 1.0, 1.0])[:GT_COLUMNS]
            if values[0] < 1:
                raise DatasetError(f"{path}:{lineno}: frame {values[0]:g} must be >= 1")
            rows.append(values)
    if not rows:
        return np.zeros((0, GT_COLUMNS), dtype=np.float64)
    return np.asarray(rows, dtype=np.float64)


SIZES_NAME = "sizes.txt"  # optional: `frame,width,height` per line, for mixed-size images


def read_frame_sizes(path: Path, length: int) -> dict[int, tuple[int, int]]:
    """sizes.txt of a sequence whose images differ in size: one line per frame 1..length."""
    sizes: dict[int, tuple[int, int]] = {}
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            frame, width, height = (int(v) for v in line.split(","))
        except ValueError:
            raise DatasetError(f"{path}:{lineno}: expected frame,width,height: {line!r}") from None
        if width <= 0 or height <= 0:
            raise DatasetError(f"{path}:{lineno}: sizes must be positive: {line!r}")
        sizes[frame] = (width, height)
    missing = sorted(set(range(1, length + 1)) - set(sizes))
    if missing:
        raise DatasetError(f"{path}: no size for frame {missing[0]} (seqLength={length})")
    return sizes


def read_sequence(seq_dir: str | Path, *, check_images: bool = True) -> MOTSequence:
    """Read a sequence's metadata and ground truth; fail clearly on missing or bad files."""
    seq_dir = Path(seq_dir)
    info = read_seqinfo(seq_dir)
    ini = seq_dir / "seqinfo.ini"
    length = _int_field(info, "seqlength", ini)
    im_dir = info.get("imdir", "img1")
    im_ext = info.get("imext", ".jpg")
    if not im_ext.startswith("."):
        im_ext = "." + im_ext
    gt_path = seq_dir / "gt" / "gt.txt"
    gt = read_gt(gt_path) if gt_path.is_file() else np.zeros((0, GT_COLUMNS))
    if len(gt) and gt[:, 0].max() > length:
        raise DatasetError(
            f"{gt_path}: frame {int(gt[:, 0].max())} is beyond seqLength={length} in {ini}"
        )
    seq = MOTSequence(
        path=seq_dir,
        name=info.get("name", seq_dir.name),
        frame_rate=_int_field(info, "framerate", ini),
        width=_int_field(info, "imwidth", ini),
        height=_int_field(info, "imheight", ini),
        length=length,
        im_dir=im_dir,
        im_ext=im_ext,
        gt=gt,
        frame_sizes=(
            read_frame_sizes(seq_dir / SIZES_NAME, length)
            if (seq_dir / SIZES_NAME).is_file()
            else None
        ),
    )
    if check_images:
        for frame in (1, length):
            if not seq.image_path(frame).is_file():
                raise DatasetError(
                    f"{seq.image_path(frame)}: missing image (seqinfo.ini says {length} frames)"
                )
    return seq


# gt class value -> training class index when a dataset names none: the reference's pedestrians.
DEFAULT_CLASSES: dict[int, int] = {PEDESTRIAN_CLASS: 0}


def training_rows(gt: np.ndarray, classes: Mapping[int, int] = DEFAULT_CLASSES) -> np.ndarray:
    """Rows that train: mark != 0 and a gt class value the class map names."""
    keep = (gt[:, 6] != 0) & np.isin(gt[:, 7], list(classes))
    return gt[keep]


def pedestrian_rows(gt: np.ndarray) -> np.ndarray:
    """MOT16/17/20 training rule: keep rows with mark != 0 and class pedestrian."""
    return training_rows(gt, DEFAULT_CLASSES)
