"""A SageMaker Python SDK `Processor` for one video: the stack's batch job, run from a notebook.

Inputs, outputs, paths, limits, entry point and environment are those of the batch Lambda's
CreateProcessingJob request (plan_processing), so results land where the stack puts them:
results/<video path without suffix>/<stem>/ holds annotated.mp4, tracks.txt, tracks.json and
summary.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from fairmot.sdk.contracts import (
    MANIFEST_NAME_VARIABLE,
    MAX_PROCESSING_SECONDS,
    MODEL_DIR,
    OUTPUT_DIR,
    PROCESSING_VOLUME_SIZE_GB,
    VIDEO_DIR,
    S3Object,
    device_environment,
    object_name,
    parse_s3_uri,
    results_prefix,
    tags_for,
)
from fairmot.sdk.training import DEFAULT_PREFIX, NOTEBOOK_META

PROCESS_ENTRYPOINT = ["process"]  # the container's exec-form entry point (DESIGN section 6)


@dataclass(frozen=True)
class ProcessingSettings:
    """The stack's processing configuration (template parameters)."""

    role_arn: str
    image_uri: str
    instance_type: str = "ml.g4dn.xlarge"
    instance_count: int = 1


@dataclass(frozen=True)
class BatchJob:
    """A processor ready to `run()`, and where its results will be."""

    processor: Any
    job_name: str
    inputs: list[Any]
    outputs: list[Any]
    results: str  # s3://bucket/results/<path>/ (the stack's resultsPrefix)

    def run(self, wait: bool = True, logs: bool = False) -> None:
        self.processor.run(
            inputs=self.inputs,
            outputs=self.outputs,
            job_name=self.job_name,
            wait=wait,
            logs=logs,
        )


def job_name(
    video: S3Object, model_uri: str, run_id: str = "", prefix: str = DEFAULT_PREFIX
) -> str:
    """The stack's deterministic processing job name (plan_processing's rule)."""
    stem = PurePosixPath(video.key).stem
    return object_name(
        prefix, "proc", stem, bucket=video.bucket, key=video.key, etag=video.etag,
        salt=f"{run_id}|{model_uri}",
    )  # fmt: skip


def _input(name: str, uri: str, local: str) -> Any:
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=uri,
            local_path=local,
            s3_data_type="S3Prefix",
            s3_input_mode="File",
            s3_data_distribution_type="FullyReplicated",
        ),
    )


def build_batch_job(
    settings: ProcessingSettings,
    video: S3Object,
    model_uri: str,
    session: Any,
    run_id: str = "",
    prefix: str = DEFAULT_PREFIX,
) -> BatchJob:
    """The stack's processing job for `video` with the model artifact at `model_uri`."""
    from sagemaker.core.processing import Processor
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

    parse_s3_uri(model_uri)
    results = results_prefix(video.bucket, video.key)
    # The job writes output/<stem>/...; output/ goes to the parent of the results prefix.
    parent = results.rstrip("/").rsplit("/", 1)[0] + "/"
    name = job_name(video, model_uri, run_id, prefix)
    processor = Processor(
        role=settings.role_arn,
        image_uri=settings.image_uri,
        instance_count=settings.instance_count,
        instance_type=settings.instance_type,
        entrypoint=PROCESS_ENTRYPOINT,
        volume_size_in_gb=PROCESSING_VOLUME_SIZE_GB,
        max_runtime_in_seconds=MAX_PROCESSING_SECONDS,
        sagemaker_session=session,
        # As the batch Lambda: the device rule and this job's own results manifest; URIs travel
        # as inputs (SageMaker allows 256 characters an environment value).
        env={
            **device_environment(settings.instance_type),
            MANIFEST_NAME_VARIABLE: f"{name}.manifest.json",
        },
        tags=tags_for(NOTEBOOK_META, video=video.uri),
    )
    outputs = [
        ProcessingOutput(
            output_name="results",
            s3_output=ProcessingS3Output(
                s3_uri=parent, local_path=OUTPUT_DIR, s3_upload_mode="EndOfJob"
            ),
        )
    ]
    return BatchJob(
        processor=processor,
        job_name=name,
        inputs=[_input("video", video.uri, VIDEO_DIR), _input("model", model_uri, MODEL_DIR)],
        outputs=outputs,
        results=results,
    )
