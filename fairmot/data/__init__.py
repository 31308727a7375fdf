"""Datasets: MOT Challenge readers, label conversion, the training dataset, synthetic scenes.

Torch is only needed for `build_training_set`; it is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fairmot.data.errors import DatasetError
from fairmot.data.labels import (
    ValidationSequence,
    collect_labels,
    validation_sequences,
    write_labels,
)
from fairmot.data.manifest import DatasetManifest, read_manifest, write_manifest
from fairmot.data.mot import MOTSequence, read_sequence
from fairmot.data.synth import generate_dataset

if TYPE_CHECKING:
    from fairmot.data.dataset import TrainingSet, build_training_set

__all__ = [
    "DatasetError",
    "DatasetManifest",
    "MOTSequence",
    "TrainingSet",
    "ValidationSequence",
    "build_training_set",
    "collect_labels",
    "generate_dataset",
    "read_manifest",
    "read_sequence",
    "validation_sequences",
    "write_labels",
    "write_manifest",
]


def __getattr__(name: str) -> Any:
    if name in ("TrainingSet", "build_training_set"):
        from fairmot.data import dataset

        return getattr(dataset, name)
    raise AttributeError(f"module 'fairmot.data' has no attribute {name!r}")
