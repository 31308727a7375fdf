"""Typed inputs and outputs of the steps (pydantic v2), parsed once at the handler's edge."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

S3_SCHEME = "s3://"
# What the SageMaker execution role may read (template.yaml, SageMakerExecutionRole ReadInputs).
SAGEMAKER_READABLE_PREFIXES = (
    "datasets/", "models/", "videos/", "training-output/", "checkpoints/", "pretrained/",
    "scenes/", "batches/",
)  # fmt: skip


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key)."""
    if not uri.startswith(S3_SCHEME) or "/" not in uri[len(S3_SCHEME) :]:
        raise ValueError(f"{uri!r} is not an s3://bucket/key URI")
    bucket, key = uri[len(S3_SCHEME) :].split("/", 1)
    return bucket, key


class Meta(BaseModel):
    """Who runs: the execution and the correlation id shared by logs, traces and events."""

    executionArn: str
    correlationId: str


class S3Object(BaseModel):
    """One object version in S3."""

    bucket: str
    key: str
    etag: str = ""
    size: int | None = None
    versionId: str | None = None  # the version the event named (the bucket is versioned)

    @property
    def uri(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.key}"


class TrainingRequest(BaseModel):
    """What starts training: a manifest (and overrides from a request event)."""

    workflow: Literal["training"] = "training"
    manifest: S3Object
    runId: str = ""
    deploy: bool | None = None
    hyperparameters: dict[str, str] = Field(default_factory=dict)


class DeploymentRequest(BaseModel):
    """What starts deploy: a model.tar.gz (and optionally the endpoint to put it behind)."""

    workflow: Literal["deploy"] = "deploy"
    model: S3Object
    runId: str = ""
    endpointName: str | None = None


class VideoRequest(BaseModel):
    """What starts batch: a video (and optionally the model to process it with)."""

    workflow: Literal["batch"] = "batch"
    video: S3Object
    runId: str = ""
    modelUri: str | None = None
    sceneUri: str | None = None  # default scene for a video without <stem>.scene.yaml beside it


class TuningSpec(BaseModel):
    """The manifest's tuning block (mirrors fairmot.data.manifest.TuningSpec)."""

    model_config = ConfigDict(extra="forbid")

    # {"lr": {"min": "1e-5", "max": "1e-3", "scaling": "Logarithmic"}, "id_loss": {"values": [..]}}
    # An optional "type" (Continuous | Integer | Categorical) overrides the inferred one.
    ranges: dict[str, dict[str, str | list[str]]] = Field(default_factory=dict)
    objective: str = "val_idf1"
    objective_type: Literal["Maximize", "Minimize"] = "Maximize"
    max_jobs: int = Field(default=4, ge=1)
    max_parallel_jobs: int = Field(default=2, ge=1)


class DatasetManifest(BaseModel):
    """manifest.json (mirrors fairmot.data.manifest.DatasetManifest)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    sequences: list[str] = Field(min_length=1)
    hyperparameters: dict[str, str] = Field(default_factory=dict)
    tuning: TuningSpec | None = None
    deploy: bool = False
    pretrained: str | None = None  # s3:// URI of the weights the `pretrained` channel gets


class Dataset(BaseModel):
    """A validated dataset as the later training steps see it."""

    name: str
    uri: str  # s3://bucket/datasets/<name>/ (the training channel)
    manifest: S3Object
    sequences: list[str]
    hyperparameters: dict[str, str]
    tuning: TuningSpec | None
    deploy: bool
    runId: str = ""
    pretrained: str | None = None  # the manifest's, else the stack's PretrainedModelUri


class Video(BaseModel):
    """A validated video and where its results go."""

    uri: str
    object: S3Object
    resultsPrefix: str  # s3://bucket/results/<path without suffix>/
