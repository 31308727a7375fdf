"""MOT Challenge ground truth -> `labels_with_ids`, the training label format of the reference.

One label line per object: `class id cx/W cy/H w/W h/H` (class 0 = pedestrian, id -1 = no
re-ID label). Track ids are renumbered per sequence with running offsets, so ids are unique across
the whole dataset and `nID` counts every identity the classifier must tell apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fairmot.data.manifest import sequence_dirs
from fairmot.data.mot import MOTSequence, pedestrian_rows, read_sequence

LABEL_CLASS = 0  # the reference writes pedestrians as class 0 in labels_with_ids


@dataclass(frozen=True)
class Sample:
    """One training image and its labels, (N,6) float32 rows `class id cx cy w h` normalised."""

    image_path: Path
    width: int
    height: int
    labels: np.ndarray


@dataclass(frozen=True)
class LabelSet:
    samples: list[Sample]
    nID: int
    sequences: list[str]


@dataclass(frozen=True)
class ValidationSequence:
    """The second half of a sequence, frames renumbered from 1 (for tracking validation)."""

    name: str
    frame_rate: int
    width: int
    height: int
    image_paths: list[Path]
    gt: np.ndarray  # (N,9) MOT rows, unfiltered (evaluation applies the MOT rules)


def train_frames(seq: MOTSequence, half_val: bool) -> range:
    """Frames used for training: all, or the first half of a video with half_val."""
    return range(1, (seq.length // 2 if half_val and not seq.is_collection else seq.length) + 1)


def validation_frames(seq: MOTSequence) -> range:
    """Frames of the half_val validation split: a video's second half (none of a collection)."""
    if seq.is_collection:
        return range(seq.length + 1, seq.length + 1)
    return range(seq.length // 2 + 1, seq.length + 1)


def identity_numbers(seq: MOTSequence, frames: range, id_offset: int) -> dict[int, int]:
    """Dataset-wide class numbers, from id_offset, of the pedestrians seen in `frames`."""
    rows = pedestrian_rows(seq.gt)
    rows = rows[(rows[:, 0] >= frames.start) & (rows[:, 0] < frames.stop)]
    track_ids = np.unique(rows[:, 1]).astype(np.int64)
    # A negative id marks a detection-only box (the JDE datasets' -1): no identity class.
    track_ids = track_ids[track_ids >= 0]
    return {int(t): id_offset + k for k, t in enumerate(track_ids)}


def sequence_labels(seq: MOTSequence, frames: range, id_numbers: dict[int, int]) -> list[Sample]:
    """Samples for `frames` of one sequence; tracks absent from id_numbers get id -1."""
    rows = pedestrian_rows(seq.gt)
    rows = rows[(rows[:, 0] >= frames.start) & (rows[:, 0] < frames.stop)]
    by_frame: dict[int, list[np.ndarray]] = {}
    for row in rows:
        by_frame.setdefault(int(row[0]), []).append(row)
    samples = []
    for frame in frames:
        frame_rows = by_frame.get(frame, [])
        width, height = seq.size(frame)
        labels = np.zeros((len(frame_rows), 6), np.float32)
        for k, (_, tid, x, y, w, h, *_rest) in enumerate(frame_rows):
            labels[k] = (
                LABEL_CLASS,
                id_numbers.get(int(tid), -1),
                (x + w / 2) / width,
                (y + h / 2) / height,
                w / width,
                h / height,
            )
        samples.append(Sample(seq.image_path(frame), width, height, labels))
    return samples


def collect_labels(dataset_dir: str | Path, *, half_val: bool) -> LabelSet:
    """Labels for every training frame of every sequence the manifest names."""
    samples: list[Sample] = []
    offset = 0
    names = []
    for seq_dir in sequence_dirs(dataset_dir):
        seq = read_sequence(seq_dir)
        frames = train_frames(seq, half_val)
        id_numbers = identity_numbers(seq, frames, offset)
        samples.extend(sequence_labels(seq, frames, id_numbers))
        offset += len(id_numbers)
        names.append(seq.name)
    return LabelSet(samples, offset, names)


@dataclass(frozen=True)
class DataConfig:
    """Where written labels live: like the reference's `.train` list plus its label root."""

    image_list: Path  # one image path per line
    label_root: Path  # labels_with_ids/<sequence>/img1/<frame>.txt
    nID: int


def write_labels(dataset_dir: str | Path, out_dir: str | Path, *, half_val: bool) -> DataConfig:
    """Write `labels_with_ids` text files and an image list for inspection or other tools."""
    out = Path(out_dir)
    label_set = collect_labels(dataset_dir, half_val=half_val)
    root = out / "labels_with_ids"
    lines = []
    for sample in label_set.samples:
        seq_name = sample.image_path.parent.parent.name
        label_path = (
            root / seq_name / sample.image_path.parent.name / f"{sample.image_path.stem}.txt"
        )
        label_path.parent.mkdir(parents=True, exist_ok=True)
        label_path.write_text(
            "".join(
                f"{int(c)} {int(i)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n"
                for c, i, cx, cy, w, h in sample.labels
            )
        )
        lines.append(f"{sample.image_path}\n")
    image_list = out / ("train_half.train" if half_val else "train.train")
    image_list.write_text("".join(lines))
    return DataConfig(image_list, root, label_set.nID)


def validation_sequences(dataset_dir: str | Path) -> list[ValidationSequence]:
    """Second halves of the sequences (the half_val validation split), frames from 1."""
    out = []
    for seq_dir in sequence_dirs(dataset_dir):
        seq = read_sequence(seq_dir)
        frames = validation_frames(seq)
        if not frames:
            continue
        gt = seq.gt[seq.gt[:, 0] >= frames.start].copy()
        gt[:, 0] -= frames.start - 1
        paths = [seq.image_path(f) for f in frames]
        out.append(ValidationSequence(seq.name, seq.frame_rate, seq.width, seq.height, paths, gt))
    return out
