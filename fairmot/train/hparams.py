"""The training hyperparameters: one typed schema for the CLI, SageMaker and tuning jobs.

Names follow the reference implementation's options; defaults are the paper's (DLA-34 at
1088x608, Adam lr 1e-4, 30 epochs with a 10x drop at epoch 20, batch 12). SageMaker hands every
hyperparameter over as a string, so `TrainConfig.from_strings` is the one parser for them.
"""

from __future__ import annotations

import argparse
import difflib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# Keys SageMaker itself adds to the hyperparameter map: framework-estimator plumbing
# (sagemaker_program, sagemaker_region, ...) and the tuner's `_tuning_objective_metric`.
SAGEMAKER_RESERVED_PREFIXES = ("sagemaker_", "_")


class HyperparameterError(ValueError):
    """A hyperparameter is unknown or malformed; the message is one line, fit for a failure file."""


class TrainConfig(BaseModel):
    """Every training hyperparameter with its meaning, type and the paper's default."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    arch: str = Field("dla34", description="network: dla34 | dla34_plain | lite")
    reid_dim: int = Field(128, ge=1, description="re-ID embedding size")
    head_conv: int = Field(
        -1, ge=-1, description="channels of each head's 3x3 conv (-1: the arch's own default)"
    )
    input_w: int = Field(1088, ge=32, multiple_of=32, description="network input width")
    input_h: int = Field(608, ge=32, multiple_of=32, description="network input height")
    lr: float = Field(1e-4, gt=0, description="Adam learning rate (for the whole batch)")
    lr_scaling: Literal["none", "linear"] = Field(
        "none", description="none: lr as given | linear: lr x processes (the linear scaling rule)"
    )
    lr_step: list[int] = Field(
        default_factory=lambda: [20], description="epochs where lr drops 10x, e.g. 20 or 20,27"
    )
    num_epochs: int = Field(30, ge=1, description="training epochs")
    batch_size: int = Field(12, ge=1, description="images per step per process")
    num_workers: int = Field(4, ge=0, description="data-loading worker processes")
    conf_thres: float = Field(0.4, gt=0, lt=1, description="detection score threshold shipped")
    wh_weight: float = Field(0.1, ge=0, description="weight of the box-size L1 loss")
    id_loss: Literal["ce", "focal"] = Field("ce", description="re-ID loss: ce | focal")
    multi_loss: Literal["uncertainty", "fix"] = Field(
        "uncertainty", description="task weighting: uncertainty (learned) | fix"
    )
    half_val: int = Field(0, ge=0, le=1, description="1: train on first halves, track second")
    load_model: str = Field("", description="pretrained weights (reference .pth or ours)")
    allow_random_init: int = Field(
        0, ge=0, le=1, description="1: let dla34 train from random weights (the paper never did)"
    )
    seed: int = Field(317, description="random seed (the reference's)")
    amp: int = Field(1, ge=0, le=1, description="1: mixed precision on GPU (ignored on CPU)")
    augment: int = Field(1, ge=0, le=1, description="1: HSV/affine/flip augmentation")
    # Augmentation ranges: the reference's values (jde.py) as defaults.
    aug_hsv: float = Field(0.5, ge=0, lt=1, description="saturation/value jitter, 1 +- this")
    aug_degrees: float = Field(5.0, ge=0, le=45, description="rotation range, +- degrees")
    aug_translate: float = Field(0.1, ge=0, le=0.5, description="shift range, fraction of size")
    aug_scale_min: float = Field(0.5, gt=0, description="smallest random scale")
    aug_scale_max: float = Field(1.2, gt=0, description="largest random scale")
    aug_shear: float = Field(2.0, ge=0, le=45, description="shear range, +- degrees")
    aug_flip: float = Field(0.5, ge=0, le=1, description="probability of a horizontal flip")
    num_iters: int = Field(0, ge=0, description="steps per epoch cap (0: the whole epoch)")
    max_minutes: float = Field(0.0, ge=0, description="stop after this wall time (0: no limit)")
    print_iter: int = Field(0, ge=0, description="metric line every N steps (0: per epoch)")
    val_every: int = Field(
        0, ge=0, description="with half_val: track the halves every N epochs too (0: at the end)"
    )
    track_buffer: int = Field(30, ge=1, description="frames a lost track is kept (validation)")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto | cpu | cuda")

    @field_validator("lr_step", mode="before")
    @classmethod
    def _parse_steps(cls, value: Any) -> Any:
        if isinstance(value, int):
            return [value]
        if isinstance(value, str):
            text = value.strip().strip("[]")
            try:
                return [int(part) for part in text.replace(" ", "").split(",") if part]
            except ValueError:
                raise ValueError("expected epoch numbers like 20 or 20,27") from None
        return value

    @model_validator(mode="after")
    def _scale_range(self) -> TrainConfig:
        if self.aug_scale_min > self.aug_scale_max:
            raise ValueError(
                f"aug_scale_min={self.aug_scale_min} exceeds aug_scale_max={self.aug_scale_max}"
            )
        return self

    def augment_config(self) -> Any:
        """The augmentation ranges as fairmot.data's AugmentConfig."""
        from fairmot.data.augment import AugmentConfig

        return AugmentConfig(
            hsv_fraction=self.aug_hsv,
            degrees=self.aug_degrees,
            translate=self.aug_translate,
            scale=(self.aug_scale_min, self.aug_scale_max),
            shear=self.aug_shear,
            flip=self.aug_flip,
        )

    @classmethod
    def from_strings(cls, values: dict[str, str]) -> TrainConfig:
        """Parse SageMaker's string map; unknown keys and bad values raise HyperparameterError.

        Keys SageMaker adds itself (sagemaker_*, _tuning_objective_metric) are skipped, and the
        JSON quoting some SDKs put around values ('"0.001"') is removed.
        """
        known = set(cls.model_fields)
        cleaned: dict[str, Any] = {}
        unknown = []
        for key, raw in values.items():
            if key.startswith(SAGEMAKER_RESERVED_PREFIXES):
                continue
            if key not in known:
                unknown.append(key)
                continue
            cleaned[key] = _unquote(raw)
        if unknown:
            raise HyperparameterError(
                f"unknown hyperparameter(s) {', '.join(_with_suggestion(k) for k in sorted(unknown))}; "
                f"valid: {', '.join(sorted(known))}"
            )
        return cls.checked(cleaned)

    @classmethod
    def checked(cls, values: dict[str, Any]) -> TrainConfig:
        """Validate values, turning pydantic's report into one HyperparameterError line."""
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise HyperparameterError(describe_validation_error(error, values)) from None

    def updated(self, **changes: Any) -> TrainConfig:
        """A copy with some values replaced and validated again."""
        return self.checked({**self.model_dump(), **changes})

    def as_strings(self) -> dict[str, str]:
        """The SageMaker string form; from_strings(as_strings()) gives back an equal config."""
        out = {}
        for key, value in self.model_dump().items():
            out[key] = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
        return out


def _unquote(raw: Any) -> Any:
    if isinstance(raw, str) and len(raw) >= 2 and raw[0] == raw[-1] == '"':
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _with_suggestion(key: str) -> str:
    """`lr_stp (did you mean lr_step?)`: the closest real name of a misspelt hyperparameter."""
    close = difflib.get_close_matches(key, TrainConfig.model_fields, n=1, cutoff=0.6)
    return f"{key} (did you mean {close[0]}?)" if close else key


def describe_validation_error(error: ValidationError, values: dict[str, Any]) -> str:
    """One line naming each bad hyperparameter, the value given and what was expected."""
    parts = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"][:1]) or "?"
        given = values.get(key, item.get("input"))
        msg = item["msg"]
        if not item["loc"]:  # a rule across fields: its message names them
            parts.append(f"hyperparameters: {msg.removeprefix('Value error, ')}")
        elif item["type"] == "extra_forbidden":
            parts.append(
                f"unknown hyperparameter {key}; valid: {', '.join(sorted(TrainConfig.model_fields))}"
            )
        else:
            parts.append(f"hyperparameter {key}={given!r}: {msg}")
    return "; ".join(parts)


def add_hyperparameter_flags(parser: argparse.ArgumentParser) -> None:
    """`--key-name value` for every hyperparameter (strings, parsed by the schema afterwards);
    fairmot.cli accepts the reference's `--key_name` spelling as well."""
    group = parser.add_argument_group("hyperparameters (defaults: the paper's)")
    for name, field in TrainConfig.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = ",".join(map(str, default)) if isinstance(default, list) else default
        group.add_argument(
            f"--{name.replace('_', '-')}",
            dest=f"hp_{name}",
            metavar="VALUE",
            default=None,
            help=f"{field.description} (default: {shown!r})",
        )


def flag_values(args: argparse.Namespace) -> dict[str, str]:
    """The hyperparameters given as flags, as SageMaker-style strings."""
    values = {}
    for name in TrainConfig.model_fields:
        value = getattr(args, f"hp_{name}", None)
        if value is not None:
            values[name] = str(value)
    return values
