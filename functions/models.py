"""Typed inputs and outputs of the steps (pydantic v2), parsed once at the handler's edge."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from fairmot_contracts.manifest import AutoApprove, TuningSpec

S3_SCHEME = "s3://"
# A tracker's name (its YAML file's stem); the processing job says which names exist.
TRACKER_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
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
    modelPackageArn: str | None = None  # set when a registry approval started the deployment


class VideoRequest(BaseModel):
    """What starts batch: a video (and optionally the model to process it with)."""

    workflow: Literal["batch"] = "batch"
    video: S3Object
    runId: str = ""
    modelUri: str | None = None
    sceneUri: str | None = None  # default scene for a video without <stem>.scene.yaml beside it
    # A tracker name (fairmot/tracking/configs/) for the job: FAIRMOT_TRACKER in its environment.
    tracker: str | None = Field(None, pattern=TRACKER_NAME_PATTERN)


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
    auto_approve: AutoApprove | None = None


class Video(BaseModel):
    """A validated video and where its results go."""

    uri: str
    object: S3Object
    resultsPrefix: str  # s3://bucket/results/<path without suffix>/
