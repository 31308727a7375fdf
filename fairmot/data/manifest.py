"""`manifest.json`: what a dataset directory holds and how to train on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fairmot.data.errors import DatasetError

MANIFEST_NAME = "manifest.json"


class TuningSpec(BaseModel):
    """Hyperparameter tuning request: ranges are strings as SageMaker takes them."""

    model_config = ConfigDict(extra="forbid")

    # e.g. {"lr": {"min": "1e-5", "max": "1e-3", "scaling": "Logarithmic"},
    #       "id_loss": {"values": ["ce", "focal"]}}
    ranges: dict[str, dict[str, Any]] = Field(default_factory=dict)
    objective: str = "val_idf1"
    objective_type: str = "Maximize"
    max_jobs: int = Field(default=4, ge=1)
    max_parallel_jobs: int = Field(default=2, ge=1)


class AutoApprove(BaseModel):
    """Register the trained model Approved when `metric` >= `min` (and, with beat_approved,
    above the newest Approved package of its group); otherwise PendingManualApproval."""

    model_config = ConfigDict(extra="forbid")

    metric: Literal["val_mota", "val_idf1", "val_hota"] = "val_idf1"
    min: float | None = None
    beat_approved: bool = False


class DatasetManifest(BaseModel):
    """A dataset: MOT Challenge sequence directories (relative to the dataset dir) and options."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    sequences: list[str] = Field(min_length=1)
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    tuning: TuningSpec | None = None
    deploy: bool = False
    # s3:// URI of weights to start from (a FairMOT or CenterNet checkpoint, or a model
    # artifact): the SageMaker training job gets it as its `pretrained` channel.
    pretrained: str | None = None
    auto_approve: AutoApprove | None = None

    @field_validator("hyperparameters", mode="before")
    @classmethod
    def _as_strings(cls, value: Any) -> Any:
        """SageMaker takes hyperparameters as strings; accept JSON numbers and booleans too."""
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            if isinstance(item, bool):
                out[key] = "1" if item else "0"
            elif isinstance(item, int | float):
                out[key] = str(item)
            else:
                out[key] = item
        return out


def read_manifest(dataset_dir: str | Path, *, check_sequences: bool = True) -> DatasetManifest:
    """Parse `<dataset_dir>/manifest.json`; with check_sequences, every sequence must exist."""
    dataset_dir = Path(dataset_dir)
    path = dataset_dir / MANIFEST_NAME
    if not path.is_file():
        raise DatasetError(f"{path}: missing; a dataset directory needs a manifest.json")
    try:
        manifest = DatasetManifest.model_validate_json(path.read_text())
    except ValidationError as error:
        raise DatasetError(f"{path}: invalid manifest: {error}") from error
    if check_sequences:
        for seq in manifest.sequences:
            if not (dataset_dir / seq / "seqinfo.ini").is_file():
                raise DatasetError(
                    f"{path}: sequence {seq!r} not found "
                    f"(expected {dataset_dir / seq / 'seqinfo.ini'})"
                )
    return manifest


def write_manifest(dataset_dir: str | Path, manifest: DatasetManifest) -> Path:
    """Write manifest.json (atomically: it is the file whose arrival starts training)."""
    path = Path(dataset_dir) / MANIFEST_NAME
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest.model_dump(exclude_none=True), indent=2) + "\n")
    tmp.replace(path)
    return path


def sequence_dirs(dataset_dir: str | Path) -> list[Path]:
    """The sequence directories a dataset's manifest names."""
    dataset_dir = Path(dataset_dir)
    return [dataset_dir / seq for seq in read_manifest(dataset_dir).sequences]
