"""The training dataset: letterboxed, augmented images with CenterNet/FairMOT targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from torch.utils.data import Dataset

from fairmot.data.augment import AugmentConfig, hflip, hsv_jitter, random_affine, visible
from fairmot.data.errors import DatasetError
from fairmot.data.labels import Sample, collect_labels
from fairmot.data.targets import DOWN_RATIO, MAX_OBJECTS, build_targets
from fairmot.image_header import is_complete
from fairmot.letterbox import letterbox

CACHE_BYTES = 1 << 30  # per process: letterboxed inputs stay in memory while they fit


def read_image(path: Path) -> np.ndarray:
    """BGR image; a missing, corrupt or truncated file is one clear error naming it."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        data = b""
    # libjpeg decodes a file cut short, pads it with grey and only warns on stderr.
    if data and not is_complete(data):
        raise DatasetError(f"{path}: truncated image (no end marker); copy or extract it again")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise DatasetError(f"{path}: cannot read image (missing, empty or corrupt)")
    return image


class TrainingSet(Dataset[dict[str, np.ndarray]]):
    """Items are dicts: input (3,H,W) float32 RGB in [0,1]; hm (C,H/4,W/4); reg_mask (K,) uint8;
    ind (K,) int64; wh (K,4) ltrb at output stride; reg (K,2); ids (K,) int64 (-1 none), numbered
    within each object's class; cls (K,) int64 class index."""

    def __init__(
        self,
        samples: list[Sample],
        nID: int,
        input_w: int,
        input_h: int,
        *,
        augment: bool,
        augment_config: AugmentConfig | None = None,
        num_classes: int = 1,
        max_objects: int = MAX_OBJECTS,
        down_ratio: int = DOWN_RATIO,
        cache: bool = True,
        seed: int = 0,
        class_nID: list[int] | None = None,
    ) -> None:
        if input_w % down_ratio or input_h % down_ratio:
            raise ValueError(f"input size {input_w}x{input_h} must be a multiple of {down_ratio}")
        if not samples:
            raise DatasetError("the dataset has no training images")
        self.samples = samples
        self.nID = nID
        # Identities per class (one ID classifier each); one class: all nID.
        self.class_nID = class_nID if class_nID is not None else [nID]
        if len(self.class_nID) != num_classes:
            raise ValueError(f"class_nID has {len(self.class_nID)} classes, not {num_classes}")
        self.input_w, self.input_h = input_w, input_h
        self.augment = augment
        self.augment_config = augment_config or AugmentConfig()
        self.num_classes, self.max_objects, self.down_ratio = num_classes, max_objects, down_ratio
        per_image = input_w * input_h * 3
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] | None = (
            {} if cache and per_image * len(samples) <= CACHE_BYTES else None
        )
        self.seed = seed
        self.epoch = 0

    @property
    def num_samples(self) -> int:
        return len(self.samples)

    def __len__(self) -> int:
        return len(self.samples)

    def _load(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Letterboxed image and its boxes as xyxy input pixels (cached when small)."""
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        sample = self.samples[index]
        image, box = letterbox(read_image(sample.image_path), self.input_w, self.input_h)
        lab = sample.labels
        src_w, src_h = box.src_w, box.src_h
        xyxy = np.c_[
            (lab[:, 2] - lab[:, 4] / 2) * src_w,
            (lab[:, 3] - lab[:, 5] / 2) * src_h,
            (lab[:, 2] + lab[:, 4] / 2) * src_w,
            (lab[:, 3] + lab[:, 5] / 2) * src_h,
        ]
        boxes = box.to_input(xyxy) if len(lab) else np.zeros((0, 4), np.float32)
        if self._cache is not None:
            self._cache[index] = (image, boxes)
        return image, boxes

    def set_epoch(self, epoch: int) -> None:
        """Augmentation of the coming epoch (call before making its DataLoader)."""
        self.epoch = epoch

    def _rng(self, index: int) -> np.random.Generator:
        # Keyed by (seed, epoch, index) only, not by worker or draw order: a job resumed
        # mid-epoch, with any number of workers, augments every image as the uninterrupted one.
        return np.random.default_rng((self.seed % 2**63, self.epoch, index))

    def __getitem__(self, index: int) -> dict[str, Any]:
        image, boxes = self._load(index)
        labels = self.samples[index].labels
        keep = np.arange(len(boxes))
        if self.augment:
            rng = self._rng(index)
            cfg = self.augment_config
            image = hsv_jitter(image, rng, cfg.hsv_fraction)
            image, boxes, keep = random_affine(image, boxes, rng, cfg)
            if rng.random() < cfg.flip:
                image, boxes = hflip(image, boxes)
        else:
            # Amodal boxes, not clipped: a person half out of frame keeps their full extent.
            keep = np.nonzero(visible(boxes, self.input_w, self.input_h))[0]
            boxes = boxes[keep]
        targets = build_targets(
            boxes,
            labels[keep, 1].astype(np.int64),
            labels[keep, 0].astype(np.int64),
            self.input_w,
            self.input_h,
            num_classes=self.num_classes,
            max_objects=self.max_objects,
            down_ratio=self.down_ratio,
        )
        rgb = image[:, :, ::-1].transpose(2, 0, 1).astype(np.float32)
        rgb *= 1.0 / 255.0
        return {"input": np.ascontiguousarray(rgb), **targets}


def build_training_set(
    dataset_dir: str | Path,
    input_w: int,
    input_h: int,
    *,
    half_val: bool,
    augment: bool,
    augment_config: AugmentConfig | None = None,
    seed: int = 0,
) -> TrainingSet:
    """The training dataset for a dataset directory (manifest.json + MOT sequences)."""
    label_set = collect_labels(dataset_dir, half_val=half_val)
    return TrainingSet(
        label_set.samples,
        label_set.nID,
        input_w,
        input_h,
        augment=augment,
        augment_config=augment_config,
        num_classes=len(label_set.class_nID),
        seed=seed,
        class_nID=label_set.class_nID,
    )
