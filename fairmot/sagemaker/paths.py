"""Where SageMaker puts things inside a container, relocatable by environment variables.

SageMaker itself only fixes the `/opt/ml` layout; the `SM_*` variables are set by its training
toolkit (and by local mode). Precedence for every path: its own variable (SageMaker's `SM_*` name
where one exists, else a `FAIRMOT_*` one) > `FAIRMOT_OPT_ML` (a replacement for the `/opt/ml`
root, used by tests and local mode) > the SageMaker default.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OPT_ML = Path("/opt/ml")
ROOT_VARIABLE = "FAIRMOT_OPT_ML"


def _root(env: Mapping[str, str]) -> Path:
    return Path(env.get(ROOT_VARIABLE) or OPT_ML)


def _path(env: Mapping[str, str], variable: str, relative: str) -> Path:
    value = env.get(variable)
    return Path(value) if value else _root(env) / relative


@dataclass(frozen=True)
class TrainingPaths:
    """The SageMaker training contract's files and folders."""

    config_dir: Path  # hyperparameters.json, inputdataconfig.json, resourceconfig.json
    train_channel: Path
    pretrained_channel: Path
    model_dir: Path
    checkpoint_dir: Path
    output_data_dir: Path
    failure_file: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TrainingPaths:
        env = os.environ if env is None else env
        output_dir = _path(env, "FAIRMOT_OUTPUT_DIR", "output")
        return cls(
            config_dir=_path(env, "SM_INPUT_CONFIG_DIR", "input/config"),
            train_channel=_path(env, "SM_CHANNEL_TRAIN", "input/data/train"),
            pretrained_channel=_path(env, "SM_CHANNEL_PRETRAINED", "input/data/pretrained"),
            model_dir=_path(env, "SM_MODEL_DIR", "model"),
            checkpoint_dir=_path(env, "FAIRMOT_CHECKPOINT_DIR", "checkpoints"),
            output_data_dir=_path(env, "SM_OUTPUT_DATA_DIR", "output/data"),
            failure_file=output_dir / "failure",
        )

    @property
    def hyperparameters_file(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def input_data_config_file(self) -> Path:
        return self.config_dir / "inputdataconfig.json"

    @property
    def resource_config_file(self) -> Path:
        return self.config_dir / "resourceconfig.json"


@dataclass(frozen=True)
class ServingPaths:
    """The SageMaker hosting contract: the model artifact is unpacked in /opt/ml/model."""

    model_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ServingPaths:
        env = os.environ if env is None else env
        return cls(model_dir=_path(env, "SM_MODEL_DIR", "model"))


@dataclass(frozen=True)
class ProcessingPaths:
    """The processing job's inputs and outputs, as our ProcessingInputs/Outputs declare them."""

    video_dir: Path
    model_dir: Path
    output_dir: Path
    message_file: Path  # SageMaker shows its text as the job's FailureReason
    scene_dir: Path  # optional input: the default scene file for videos without their own

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProcessingPaths:
        env = os.environ if env is None else env
        return cls(
            video_dir=_path(env, "FAIRMOT_PROCESSING_VIDEO_DIR", "processing/input/video"),
            model_dir=_path(env, "FAIRMOT_PROCESSING_MODEL_DIR", "processing/input/model"),
            output_dir=_path(env, "FAIRMOT_PROCESSING_OUTPUT_DIR", "processing/output"),
            message_file=_path(env, "FAIRMOT_OUTPUT_DIR", "output") / "message",
            scene_dir=_path(env, "FAIRMOT_PROCESSING_SCENE_DIR", "processing/input/scene"),
        )


@dataclass(frozen=True)
class ClusterSpec:
    """Which hosts take part in a training job and how many GPUs each has."""

    hosts: tuple[str, ...]
    current_host: str
    num_gpus: int

    @property
    def host_rank(self) -> int:
        return self.hosts.index(self.current_host)

    @classmethod
    def from_env(cls, config_dir: Path, env: Mapping[str, str] | None = None) -> ClusterSpec:
        """Read SM_HOSTS/SM_CURRENT_HOST/SM_NUM_GPUS, else SageMaker's resourceconfig.json.

        A bring-your-own container gets only resourceconfig.json from SageMaker; the SM_*
        variables come from the training toolkit or local mode. Without either: one host.
        """
        env = os.environ if env is None else env
        resource: dict[str, Any] = {}
        resource_file = config_dir / "resourceconfig.json"
        if resource_file.is_file():
            resource = json.loads(resource_file.read_text())
        hosts_raw = env.get("SM_HOSTS")
        hosts: list[str] = json.loads(hosts_raw) if hosts_raw else list(resource.get("hosts", []))
        hosts = hosts or ["algo-1"]
        current = env.get("SM_CURRENT_HOST") or str(resource.get("current_host", hosts[0]))
        gpus_raw = env.get("SM_NUM_GPUS")
        num_gpus = int(gpus_raw) if gpus_raw else -1  # -1: ask torch once it is imported
        if not isinstance(hosts, list) or current not in hosts:
            raise ValueError(f"current host {current!r} is not in the host list {hosts!r}")
        return cls(
            hosts=tuple(str(h) for h in sorted(hosts)), current_host=current, num_gpus=num_gpus
        )
