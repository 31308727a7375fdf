"""`manifest.json`: a dataset's sequences and training options, as written and as validated.

`fairmot synth`/`prepare`/`upload-dataset` write it and the training job reads it (fairmot.data);
the stack's ValidateDataset step parses the uploaded one with the same model.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MANIFEST_NAME = "manifest.json"


class TuningSpec(BaseModel):
    """Hyperparameter tuning request: ranges are strings as SageMaker takes them."""

    model_config = ConfigDict(extra="forbid")

    # {"lr": {"min": "1e-5", "max": "1e-3", "scaling": "Logarithmic"}, "id_loss": {"values": [..]}}
    # An optional "type" (Continuous | Integer | Categorical) overrides the inferred one.
    ranges: dict[str, dict[str, str | list[str]]] = Field(default_factory=dict)
    objective: str = "val_idf1"
    objective_type: Literal["Maximize", "Minimize"] = "Maximize"
    max_jobs: int = Field(default=4, ge=1)
    max_parallel_jobs: int = Field(default=2, ge=1)


class AutoApprove(BaseModel):
    """Register the trained model Approved when `metric` >= `min` (and, with beat_approved,
    above the newest Approved package of its group's value); otherwise PendingManualApproval."""

    model_config = ConfigDict(extra="forbid")

    metric: Literal["val_mota", "val_idf1", "val_hota"] = "val_idf1"  # higher is better
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
    # Which gt.txt class values (column 8) train, and as which class index (heatmap channel,
    # tracks' class_id): {"1": 0, "6": 1} trains pedestrians and non-motorized vehicles as two
    # classes. None: MOT17's pedestrians only ({1: 0}), as the reference; other rows ignored.
    classes: dict[int, int] | None = None

    @field_validator("classes")
    @classmethod
    def _class_indices(cls, value: dict[int, int] | None) -> dict[int, int] | None:
        """Indices must number the classes 0..K-1 (several gt values may share one index)."""
        if value is None:
            return value
        if not value:
            raise ValueError("classes: give at least one gt class value -> class index")
        indices = sorted(set(value.values()))
        if indices != list(range(len(indices))):
            raise ValueError(f"classes: indices must be 0..K-1 without gaps, got {indices}")
        return value

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
