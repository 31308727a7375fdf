"""The JDE/FairMOT data layout (the paper's MIX: Caltech, CityPersons, CUHK-SYSU, PRW, ETHZ, ...).

A dataset is an image list (`<name>.train`, one path per line relative to a data root) and, for
each image, a `labels_with_ids` text file at the image's path with `images` replaced by
`labels_with_ids` and the extension by `.txt` (the reference's rule). A label line is
`class id cx/W cy/H w/W h/H`; id -1 marks a box with no identity (detection only), other ids are
numbered from 0 within the dataset. An image without a label file has no boxes. Label classes
count from 0 (pedestrian), MOT gt classes from 1: label class c becomes gt class c + 1, so the
MIX data's pedestrians are MOT17's class 1 and a dataset's `classes` map picks what trains.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from fairmot.data.errors import DatasetError
from fairmot.data.prepare import Frame

LABEL_COLUMNS = 6
# labels_with_ids count classes from 0, MOT gt.txt from 1 (pedestrian: 0 -> 1).
GT_CLASS_OFFSET = 1


def label_path(image: Path) -> Path:
    """The reference's label file of an image path."""
    text = str(image).replace("images", "labels_with_ids")
    return Path(text).with_suffix(".txt")


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file; a missing or unreadable one is named."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DatasetError(f"{path}: cannot read image (missing, empty or corrupt)")
    return int(image.shape[1]), int(image.shape[0])


def read_label_file(path: Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(N,5) rows `id x y w h` in pixels and their (N,) MOT gt class values from a
    labels_with_ids file."""
    if not path.is_file():
        return np.zeros((0, 5)), np.zeros((0,), np.int64)
    rows, classes = [], []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values = [float(v) for v in line.split()]
        except ValueError:
            raise DatasetError(f"{path}:{lineno}: not numbers: {line!r}") from None
        if len(values) != LABEL_COLUMNS:
            raise DatasetError(
                f"{path}:{lineno}: expected `class id cx cy w h`, got {len(values)} values"
            )
        label_class, tid, cx, cy, w, h = values
        if label_class < 0 or label_class != int(label_class):
            raise DatasetError(f"{path}:{lineno}: class {label_class:g} must be an integer >= 0")
        classes.append(int(label_class) + GT_CLASS_OFFSET)
        rows.append(
            (
                tid if tid >= 0 else -1,
                (cx - w / 2) * width,
                (cy - h / 2) * height,
                w * width,
                h * height,
            )
        )
    return np.asarray(rows, np.float64).reshape(-1, 5), np.asarray(classes, np.int64)


def read_jde_list(root: Path, image_list: Path) -> list[Frame]:
    """The frames of one JDE dataset: its image list, paths relative to root."""
    if not image_list.is_file():
        raise DatasetError(f"{image_list}: image list not found")
    frames = []
    for line in image_list.read_text().splitlines():
        if not line.strip():
            continue
        image = root / line.strip()
        width, height = image_size(image)
        boxes, classes = read_label_file(label_path(image), width, height)
        frames.append(Frame(image, width, height, boxes, classes))
    if not frames:
        raise DatasetError(f"{image_list}: lists no images")
    return frames


def dataset_name(image_list: Path) -> str:
    """The sequence name of a list file: `caltech.train` -> `caltech` (the reference's keys)."""
    return image_list.name.split(".")[0]
