"""CrowdHuman (`.odgt`) annotations as a detection-only image collection.

One JSON object per line: `ID` (the image is `Images/<ID>.jpg`) and `gtboxes`, each with a
`tag` ("person", or "mask" for crowds and reflections), the amodal full-body box `fbox`
[x, y, w, h], and `extra.ignore`. As the reference's gen_labels_crowd scripts: people's full
boxes, ignored ones and masks skipped. Boxes have no identity (-1) by default; `per_box_ids`
gives each box its own identity, as the reference's gen_labels_crowd_id.py did for pretraining.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fairmot.data.errors import DatasetError
from fairmot.data.jde import image_size
from fairmot.data.prepare import Frame

IMAGES_DIR = "Images"


def person_boxes(record: dict, where: str) -> list[list[float]]:
    boxes = []
    for box in record.get("gtboxes", []):
        extra = box.get("extra", {})
        if box.get("tag") != "person" or extra.get("ignore", 0) == 1:
            continue
        fbox = box.get("fbox")
        if not (isinstance(fbox, list) and len(fbox) == 4):
            raise DatasetError(f"{where}: a person without an fbox [x, y, w, h]")
        boxes.append([float(v) for v in fbox])
    return boxes


def read_odgt(annotations: Path, images: Path, *, per_box_ids: bool = False) -> list[Frame]:
    """The frames of a CrowdHuman annotation file; images under `images`."""
    if not annotations.is_file():
        raise DatasetError(f"{annotations}: annotation file not found")
    frames = []
    next_id = 0
    for lineno, line in enumerate(annotations.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{annotations}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DatasetError(f"{where}: not JSON: {error.msg}") from None
        if not isinstance(record, dict) or "ID" not in record:
            raise DatasetError(f"{where}: a record needs an ID")
        image = images / f"{record['ID']}.jpg"
        width, height = image_size(image)
        boxes = person_boxes(record, where)
        ids = np.full(len(boxes), -1.0)
        if per_box_ids:
            ids = np.arange(next_id, next_id + len(boxes), dtype=np.float64)
            next_id += len(boxes)
        rows = np.c_[ids, np.asarray(boxes, np.float64).reshape(-1, 4)]
        frames.append(Frame(image, width, height, rows))
    if not frames:
        raise DatasetError(f"{annotations}: no records")
    return frames


def collection_name(annotations: Path) -> str:
    """`annotation_train.odgt` -> `CrowdHuman-train`."""
    return f"CrowdHuman-{annotations.stem.removeprefix('annotation_')}"
