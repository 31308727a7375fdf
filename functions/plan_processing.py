"""Batch step: the CreateProcessingJob request for one video (video + model in, results out).

The model is the request's modelUri, else the one the endpoint serves, else the newest
registered one (registry/latest.json); with none of them the video cannot be processed.
The scene (analytics: lines, zones, calibration) is `<video stem>.scene.yaml` beside the video,
else the request's sceneUri, else none.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any

from aws_errors import is_missing
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from clients import client
from errors import NoModelError
from instances import device_environment
from models import Meta, Video, VideoRequest, parse_s3_uri
from names import object_name
from payloads import PlanProcessingPayload
from plan_deployment import describe_or_none
from plan_training import job_exists
from register_model import LATEST_KEY
from settings import env, env_int, name_prefix
from step import logger, metrics, pipeline_step
from tags import pipeline_tags

# The processing contract (DESIGN section 6).
VIDEO_DIR = "/opt/ml/processing/input/video"
MODEL_DIR = "/opt/ml/processing/input/model"
SCENE_DIR = "/opt/ml/processing/input/scene"
SCENE_SUFFIX = ".scene.yaml"
OUTPUT_DIR = "/opt/ml/processing/output"
VOLUME_SIZE_GB = 50
# Read by fairmot.sagemaker.process: the name of the run's manifest in the output folder.
MANIFEST_NAME_VARIABLE = "FAIRMOT_MANIFEST_NAME"
MAX_PROCESSING_SECONDS = 24 * 3600


def served_model(sagemaker: Any, endpoint_name: str) -> str | None:
    """The ModelDataUrl behind the endpoint, if it exists."""
    endpoint = describe_or_none(sagemaker.describe_endpoint, EndpointName=endpoint_name)
    if not endpoint:
        return None
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    url = model.get("PrimaryContainer", {}).get("ModelDataUrl")
    return str(url) if url else None


def latest_model(s3: Any, bucket: str) -> str | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=LATEST_KEY)["Body"].read()
    except ClientError as error:
        if is_missing(error):
            return None
        raise
    uri = json.loads(body).get("modelUri")
    return str(uri) if uri else None


def resolve_model(s3: Any, sagemaker: Any, request: VideoRequest, endpoint_name: str) -> str:
    uri = (
        request.modelUri
        or served_model(sagemaker, endpoint_name)
        or latest_model(s3, request.video.bucket)
    )
    if not uri:
        raise NoModelError(
            f"no model to process {request.video.uri}: deploy one, train one, or pass modelUri "
            "in a Video Processing Requested event"
        )
    parse_s3_uri(uri)
    return uri


def resolve_scene(s3: Any, request: VideoRequest, video: Video) -> str | None:
    """The video's own scene file if it exists, else the request's default scene."""
    obj = video.object
    key = str(PurePosixPath(obj.key).with_suffix("")) + SCENE_SUFFIX
    try:
        s3.head_object(Bucket=obj.bucket, Key=key)
        return f"s3://{obj.bucket}/{key}"
    except ClientError as error:
        if not is_missing(error):
            raise
    if request.sceneUri:
        parse_s3_uri(request.sceneUri)
    return request.sceneUri


def s3_input(name: str, uri: str, local: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def job_settings(name: str, tracker: str | None) -> dict[str, Any]:
    """What every processing job of this stack shares, one video or a batch: the instances, the
    time limit, the image, the environment (the device rule, the job's own results manifest,
    the request's tracker) and the role."""
    instance_type = env("PROCESSING_INSTANCE_TYPE", "ml.g4dn.xlarge")
    return {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": env_int("PROCESSING_INSTANCE_COUNT", 1),
                "InstanceType": instance_type,
                "VolumeSizeInGB": VOLUME_SIZE_GB,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": MAX_PROCESSING_SECONDS},
        "AppSpecification": {
            "ImageUri": env("PROCESS_IMAGE_URI"),
            "ContainerEntrypoint": ["process"],
        },
        # The video and model URIs travel as inputs (and tags), never as environment values:
        # SageMaker allows 256 characters a value, and S3 keys run to 1,024.
        "Environment": {
            **device_environment(instance_type),
            # results/<dir>/ is shared by every video of <dir>: each job its own manifest.
            MANIFEST_NAME_VARIABLE: f"{name}.manifest.json",
            **({"FAIRMOT_TRACKER": tracker} if tracker else {}),
        },
        "RoleArn": env("SAGEMAKER_ROLE_ARN"),
    }


def plan(
    s3: Any, sagemaker: Any, request: VideoRequest, video: Video, meta: Meta
) -> dict[str, Any]:
    model_uri = resolve_model(s3, sagemaker, request, env("ENDPOINT_NAME", "fairmot-dev-tracker"))
    obj = video.object
    stem = PurePosixPath(obj.key).stem
    name = object_name(
        name_prefix(), "proc", stem, bucket=obj.bucket, key=obj.key, etag=obj.etag,
        salt=f"{request.runId}|{model_uri}" + (f"|{request.tracker}" if request.tracker else ""),
    )  # fmt: skip
    duplicate = job_exists(sagemaker.describe_processing_job, ProcessingJobName=name)
    # The job writes output/<stem>/...; uploading output/ to the parent of the results prefix
    # puts it at results/<same path without suffix>/.
    parent = video.resultsPrefix.rstrip("/").rsplit("/", 1)[0] + "/"
    scene_uri = resolve_scene(s3, request, video)
    scene_inputs = [s3_input("scene", scene_uri, SCENE_DIR)] if scene_uri else []
    request_body = {
        "ProcessingJobName": name,
        "ProcessingInputs": [
            s3_input("video", video.uri, VIDEO_DIR),
            s3_input("model", model_uri, MODEL_DIR),
            *scene_inputs,
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "results",
                    "S3Output": {
                        "S3Uri": parent,
                        "LocalPath": OUTPUT_DIR,
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        **job_settings(name, request.tracker),
        "Tags": pipeline_tags(meta, video=video.uri),
    }
    results = {
        "prefix": video.resultsPrefix,
        "summaryUri": f"{video.resultsPrefix}summary.json",
        "manifestUri": f"{parent}{name}.manifest.json",
    }
    return {
        "duplicate": duplicate,
        "request": request_body,
        "results": results,
        "modelUri": model_uri,
        "sceneUri": scene_uri,
    }


@pipeline_step(payload=PlanProcessingPayload)
def handler(event: PlanProcessingPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {duplicate, request, results, modelUri, sceneUri}."""
    s3, sagemaker = client("s3"), client("sagemaker")
    result = plan(s3, sagemaker, event.request, event.video, event.meta)
    if result["duplicate"]:
        metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
    logger.info("processing planned", extra={"job": result["request"]["ProcessingJobName"]})
    return result
