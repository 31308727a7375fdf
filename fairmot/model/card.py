"""The model card (model.json): everything needed to rebuild a network from its weights."""

from __future__ import annotations

from typing import Any

import pydantic

# The lite arch runs its four heads at stride 4 on a CPU: 256-wide head convs alone would cost
# ~13 GFLOP at 576x320, so its heads default to a narrow hidden layer (recorded in the card).
LITE_HEAD_CONV = 32


class ModelCard(pydantic.BaseModel):
    """Architecture, head sizes, input size and training record of one model artifact."""

    model_config = pydantic.ConfigDict(extra="forbid")

    arch: str = "dla34"
    num_classes: int = pydantic.Field(1, ge=1)
    reid_dim: int = pydantic.Field(128, ge=1)
    head_conv: int = pydantic.Field(256, ge=0)
    input_w: int = pydantic.Field(1088, ge=32)
    input_h: int = pydantic.Field(608, ge=32)
    down_ratio: int = 4
    nID: int = pydantic.Field(0, ge=0)
    # Identities per class (one ID classifier each; they sum to nID) when num_classes > 1;
    # None: one class with all nID identities (every single-class card).
    class_nID: list[int] | None = None
    hyperparameters: dict[str, Any] = pydantic.Field(default_factory=dict)
    metrics: dict[str, float] = pydantic.Field(default_factory=dict)
    # The tracker settings the metrics were measured with (a tracker YAML file's content, see
    # fairmot.tracking.config_to_mapping): a model's tested tracker travels with it. None on
    # cards written before it was recorded.
    tracker: dict[str, Any] | None = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _lite_head_conv(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("arch") == "lite" and "head_conv" not in data:
            return {**data, "head_conv": LITE_HEAD_CONV}
        return data

    @pydantic.field_validator("input_w", "input_h")
    @classmethod
    def _multiple_of_32(cls, value: int) -> int:
        # The backbone downsamples 5 times; other sizes misalign the upsampling neck.
        if value % 32:
            raise ValueError(f"input size {value} must be a multiple of 32")
        return value

    @pydantic.field_validator("tracker")
    @classmethod
    def _tracker_config(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        from fairmot.tracking import config_from_mapping

        if value is not None:
            config_from_mapping(value, "model card tracker")  # a TrackerConfigError names the key
        return value

    @pydantic.field_validator("down_ratio")
    @classmethod
    def _stride_four(cls, value: int) -> int:
        if value != 4:
            raise ValueError(f"down_ratio {value} is not supported: every arch outputs stride 4")
        return value

    @property
    def heads(self) -> dict[str, int]:
        """Output channels per head: heatmap, box sizes (ltrb), centre offset, re-ID embedding."""
        return {"hm": self.num_classes, "wh": 4, "reg": 2, "id": self.reid_dim}
