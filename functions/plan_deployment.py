"""Deploy step: CreateModel / CreateEndpointConfig requests named from the artifact, and what
already exists (a duplicate event, or a retry after a partial run)."""

from __future__ import annotations

from typing import Any

from aws_errors import is_missing
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from clients import client
from errors import InvalidNameError
from instances import device_environment, is_gpu
from models import DeploymentRequest, Meta
from names import object_name, validate_name
from payloads import PlanDeploymentPayload
from settings import env, env_int, name_prefix
from step import logger, metrics, pipeline_step
from tags import pipeline_tags

VARIANT_NAME = "AllTraffic"
# NVIDIA driver 580 / CUDA 13.0 (botocore's ProductionVariant docs): what torch 2.13.0 needs.
GPU_INFERENCE_AMI = "al2023-ami-sagemaker-inference-gpu-4-1"
# CloudWatch publishes SageMaker endpoint metrics every minute.
ALARM_PERIOD_S = 60
SCALE_OUT_COOLDOWN_S = 60
SCALE_IN_COOLDOWN_S = 900
# Endpoint states in which the endpoint already is (or is becoming) what we would deploy.
SERVING_STATES = {"InService", "Creating", "Updating", "SystemUpdating"}


def describe_or_none(describe: Any, **name: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = describe(**name)
    except ClientError as error:
        if is_missing(error):
            return None
        raise
    return result


def deploys_config(endpoint: dict[str, Any] | None, config_name: str) -> bool:
    """True when the endpoint serves this config or is being created or updated to it."""
    if not endpoint or endpoint.get("EndpointStatus") not in SERVING_STATES:
        return False
    # During an update DescribeEndpoint still names the old config; the new one is pending.
    pending = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
    return config_name in (endpoint.get("EndpointConfigName"), pending)


def model_label(key: str) -> str:
    """models/<name>/model.tar.gz -> <name>; training-output/<job>/output/model.tar.gz -> <job>."""
    parts = [p for p in key.split("/")[:-1] if p not in ("models", "output", "training-output")]
    return parts[-1] if parts else "model"


def endpoint_name_for(requested: str | None) -> str:
    """The stack's endpoint, or a requested one inside the name prefix its IAM policies allow."""
    configured = env("ENDPOINT_NAME")
    name = validate_name(requested or configured)
    # SageMaker lower-cases names in ARNs, which is what the policies match.
    allowed = name.lower() == configured.lower() or name.lower().startswith(f"{name_prefix()}-")
    if not allowed:
        raise InvalidNameError(
            f"endpoint {name!r} is outside this stack's names: use {configured!r} or a name "
            f"starting with {name_prefix()}-"
        )
    return name


def production_variant(model_name: str, instance_type: str, count: int) -> dict[str, Any]:
    """The one variant; on a GPU instance it names the AMI whose driver runs the image's CUDA."""
    variant: dict[str, Any] = {
        "VariantName": VARIANT_NAME,
        "ModelName": model_name,
        "InitialInstanceCount": count,
        "InstanceType": instance_type,
        "InitialVariantWeight": 1.0,
    }
    if is_gpu(instance_type):
        # Without it ml.g4dn/g5 endpoints get driver 470 (CUDA 11.4): CannotStartContainerError.
        variant["InferenceAmiVersion"] = env("SERVING_INFERENCE_AMI_VERSION", GPU_INFERENCE_AMI)
    return variant


def alarm_requests(endpoint_name: str, tags: list[dict[str, str]]) -> list[dict[str, Any]]:
    """PutMetricAlarm requests for the endpoint's variant: the update's rollback triggers."""
    dimensions = [
        {"Name": "EndpointName", "Value": endpoint_name},
        {"Name": "VariantName", "Value": VARIANT_NAME},
    ]
    common = {
        "Namespace": "AWS/SageMaker", "Dimensions": dimensions, "Period": ALARM_PERIOD_S,
        "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold",
        # No traffic during the bake is no evidence against the new model.
        "TreatMissingData": "notBreaching", "Tags": tags,
    }  # fmt: skip
    return [
        {**common, "AlarmName": f"{name_prefix()}-{endpoint_name}-5xx", "MetricName":
         "Invocation5XXErrors", "Statistic": "Sum", "Threshold": 0.0,
         "AlarmDescription": f"{endpoint_name}: the model answered 5xx"},
        {**common, "AlarmName": f"{name_prefix()}-{endpoint_name}-latency", "MetricName":
         "ModelLatency", "Statistic": "Average",
         # ModelLatency is in microseconds.
         "Threshold": float(env_int("MODEL_LATENCY_ALARM_MS", 1000) * 1000),
         "AlarmDescription": f"{endpoint_name}: model latency above the stack's bound"},
    ]  # fmt: skip


def deployment_config(alarms: list[dict[str, Any]]) -> dict[str, Any]:
    """Blue/green traffic shifting (the stack's ALL_AT_ONCE, CANARY or LINEAR) with automatic
    rollback when an alarm fires while traffic moves or bakes."""
    routing_type = env("DEPLOYMENT_TRAFFIC_ROUTING", "ALL_AT_ONCE")
    routing: dict[str, Any] = {
        "Type": routing_type, "WaitIntervalInSeconds": env_int("DEPLOYMENT_WAIT_SECONDS", 300),
    }  # fmt: skip
    step = {"Type": "CAPACITY_PERCENT", "Value": env_int("DEPLOYMENT_STEP_PERCENT", 50)}
    if routing_type == "CANARY":
        routing["CanarySize"] = step
    elif routing_type == "LINEAR":
        routing["LinearStepSize"] = step
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": env_int("DEPLOYMENT_WAIT_SECONDS", 300),
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": a["AlarmName"]} for a in alarms]},
    }


def scaling_requests(endpoint_name: str) -> dict[str, Any]:
    """RegisterScalableTarget and PutScalingPolicy requests: target tracking on invocations per
    instance for the variant, between the stack's minimum and maximum instance counts."""
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": f"endpoint/{endpoint_name}/variant/{VARIANT_NAME}",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    return {
        "target": {**target, "MinCapacity": env_int("SCALING_MIN_INSTANCES", 1),
                   "MaxCapacity": env_int("SCALING_MAX_INSTANCES", 1)},
        "policy": {**target, "PolicyName": f"{name_prefix()}-{endpoint_name}-invocations",
                   "PolicyType": "TargetTrackingScaling",
                   "TargetTrackingScalingPolicyConfiguration": {
                       "TargetValue": float(env_int("SCALING_INVOCATIONS_PER_INSTANCE", 600)),
                       "PredefinedMetricSpecification": {
                           "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
                       # Scale out fast; scale in slowly: an instance removed takes its stateful
                       # sessions (and their trackers) with it.
                       "ScaleOutCooldown": SCALE_OUT_COOLDOWN_S,
                       "ScaleInCooldown": SCALE_IN_COOLDOWN_S}},
    }  # fmt: skip


def plan(sagemaker: Any, request: DeploymentRequest, meta: Meta) -> dict[str, Any]:
    image = env("SERVE_IMAGE_URI")
    instance_type = env("SERVING_INSTANCE_TYPE", "ml.g4dn.xlarge")
    instance_count = env_int("SERVING_INSTANCE_COUNT", 1)
    endpoint_name = endpoint_name_for(request.endpointName)
    m = request.model
    label = model_label(m.key)
    model_name = object_name(
        name_prefix(), "model", label, bucket=m.bucket, key=m.key, etag=m.etag,
        salt=f"{request.runId}|{image}",
    )  # fmt: skip
    # The config also depends on the instances, so changing them deploys anew.
    config_name = object_name(
        name_prefix(), "cfg", label, bucket=m.bucket, key=m.key, etag=m.etag,
        salt=f"{request.runId}|{image}|{instance_type}|{instance_count}",
    )  # fmt: skip
    endpoint = describe_or_none(sagemaker.describe_endpoint, EndpointName=endpoint_name)
    duplicate = deploys_config(endpoint, config_name)
    tags = pipeline_tags(meta, model=m.uri)
    alarms = alarm_requests(endpoint_name, tags)
    return {
        "duplicate": duplicate,
        "modelExists": describe_or_none(sagemaker.describe_model, ModelName=model_name) is not None,
        "endpointConfigExists": describe_or_none(
            sagemaker.describe_endpoint_config, EndpointConfigName=config_name
        )
        is not None,
        "endpointName": endpoint_name,
        "modelUri": m.uri,
        "pollSeconds": env_int("ENDPOINT_POLL_SECONDS", 30),
        "model": {
            "ModelName": model_name,
            "PrimaryContainer": {
                "Image": image,
                "ModelDataUrl": m.uri,
                "Environment": {"FAIRMOT_MODEL_URI": m.uri, **device_environment(instance_type)},
            },
            "ExecutionRoleArn": env("SAGEMAKER_ROLE_ARN"),
            "Tags": tags,
        },
        "endpointConfig": {
            "EndpointConfigName": config_name,
            "ProductionVariants": [production_variant(model_name, instance_type, instance_count)],
            "Tags": tags,
        },
        "alarms": alarms,
        "deploymentConfig": deployment_config(alarms),
        "scaling": scaling_requests(endpoint_name),
    }


@pipeline_step(payload=PlanDeploymentPayload)
def handler(event: PlanDeploymentPayload, context: LambdaContext) -> dict[str, Any]:
    """-> plan."""
    result = plan(client("sagemaker"), event.request, event.meta)
    if result["duplicate"]:
        metrics.add_metric(name="DuplicateEvents", unit=MetricUnit.Count, value=1)
    logger.info("deployment planned", extra={k: result[k] for k in ("duplicate", "endpointName")})
    return result
