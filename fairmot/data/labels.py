"""MOT Challenge ground truth -> `labels_with_ids`, the training label format of the reference.

One label line per object: `class id cx/W cy/H w/W h/H` (class 0 = pedestrian, id -1 = no
re-ID label). Track ids are renumbered per sequence with running offsets, so ids are unique across
the whole dataset and `nID` counts every identity the classifier must tell apart. With several
classes (the manifest's `classes` map: gt class value -> class index) each class numbers its own
identities from 0, for its own ID classifier.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fairmot.data.manifest import read_manifest, sequence_dirs
from fairmot.data.mot import DEFAULT_CLASSES, MOTSequence, read_sequence, training_rows


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
    nID: int  # identities of all classes
    sequences: list[str]
    class_nID: list[int]  # identities per class index (nID is their sum)


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


def identity_numbers(
    seq: MOTSequence,
    frames: range,
    offsets: Sequence[int],
    classes: Mapping[int, int] = DEFAULT_CLASSES,
) -> dict[int, int]:
    """gt track id -> its identity number within its class, numbered dataset-wide from that
    class's offset (offsets[k] for class index k), for the tracks seen in `frames`.

    Each class has its own identities and ID classifier (as the reference's multi-class
    branch), so a track's number counts only the tracks of its class."""
    rows = training_rows(seq.gt, classes)
    rows = rows[(rows[:, 0] >= frames.start) & (rows[:, 0] < frames.stop)]
    # A negative id marks a detection-only box (the JDE datasets' -1): no identity class.
    rows = rows[rows[:, 1] >= 0]
    numbers: dict[int, int] = {}
    for k, offset in enumerate(offsets):
        values = [v for v, index in classes.items() if index == k]
        track_ids = np.unique(rows[np.isin(rows[:, 7], values), 1]).astype(np.int64)
        numbers.update({int(t): offset + n for n, t in enumerate(track_ids)})
    return numbers


def class_counts(
    seq: MOTSequence, id_numbers: dict[int, int], classes: Mapping[int, int]
) -> list[int]:
    """How many of `id_numbers`' identities each class index has."""
    counts = [0] * num_classes(classes)
    class_of = {int(tid): classes[int(c)] for tid, c in training_rows(seq.gt, classes)[:, [1, 7]]}
    for tid in id_numbers:
        counts[class_of[tid]] += 1
    return counts


def num_classes(classes: Mapping[int, int]) -> int:
    return max(classes.values()) + 1


def sequence_labels(
    seq: MOTSequence,
    frames: range,
    id_numbers: dict[int, int],
    classes: Mapping[int, int] = DEFAULT_CLASSES,
) -> list[Sample]:
    """Samples for `frames` of one sequence; tracks absent from id_numbers get id -1."""
    rows = training_rows(seq.gt, classes)
    rows = rows[(rows[:, 0] >= frames.start) & (rows[:, 0] < frames.stop)]
    by_frame: dict[int, list[np.ndarray]] = {}
    for row in rows:
        by_frame.setdefault(int(row[0]), []).append(row)
    samples = []
    for frame in frames:
        frame_rows = by_frame.get(frame, [])
        width, height = seq.size(frame)
        labels = np.zeros((len(frame_rows), 6), np.float32)
        for k, (_, tid, x, y, w, h, _mark, gt_class, *_rest) in enumerate(frame_rows):
            labels[k] = (
                classes[int(gt_class)],
                id_numbers.get(int(tid), -1),
                (x + w / 2) / width,
                (y + h / 2) / height,
                w / width,
                h / height,
            )
        samples.append(Sample(seq.image_path(frame), width, height, labels))
    return samples


def dataset_classes(dataset_dir: str | Path) -> dict[int, int]:
    """The manifest's class map (gt class value -> class index), or MOT17's pedestrians."""
    manifest = read_manifest(dataset_dir)
    return dict(manifest.classes) if manifest.classes is not None else dict(DEFAULT_CLASSES)


def collect_labels(dataset_dir: str | Path, *, half_val: bool) -> LabelSet:
    """Labels for every training frame of every sequence the manifest names."""
    classes = dataset_classes(dataset_dir)
    samples: list[Sample] = []
    offsets = [0] * num_classes(classes)
    names = []
    for seq_dir in sequence_dirs(dataset_dir):
        seq = read_sequence(seq_dir)
        frames = train_frames(seq, half_val)
        id_numbers = identity_numbers(seq, frames, offsets, classes)
        samples.extend(sequence_labels(seq, frames, id_numbers, classes))
        offsets = [
            o + n for o, n in zip(offsets, class_counts(seq, id_numbers, classes), strict=True)
        ]
        names.append(seq.name)
    return LabelSet(samples, sum(offsets), names, offsets)


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
