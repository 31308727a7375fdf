"""Idle-cleanup step: delete this stack's endpoints that had no invocations for IDLE_HOURS.

An endpoint bills per instance-hour whether or not anyone calls it. Candidates are InService
endpoints with the stack's names, unchanged for at least the idle window (a fresh one has had
no chance to be called); one whose CloudWatch `Invocations` sum over the window is 0 is deleted,
its scalable target deregistered first. The model and endpoint config stay, so a deployment
brings it back. The tag `fairmot:keep-alive` = `true` opts an endpoint out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from clients import client
from payloads import IdleEndpointsPayload
from plan_deployment import VARIANT_NAME
from settings import env, env_int, name_prefix
from step import logger, metrics, pipeline_step

KEEP_ALIVE_TAG = "fairmot:keep-alive"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


def ours(name: str) -> bool:
    """The endpoints this stack's policies let it manage (plan_deployment.endpoint_name_for)."""
    return name.lower() == env("ENDPOINT_NAME").lower() or name.lower().startswith(
        f"{name_prefix()}-"
    )


def invocations(cloudwatch: Any, endpoint: str, start: datetime, end: datetime) -> float:
    """The Invocations sum of the endpoint's variant between start and end."""
    seconds = int((end - start).total_seconds())
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/SageMaker", MetricName="Invocations",
        Dimensions=[{"Name": "EndpointName", "Value": endpoint},
                    {"Name": "VariantName", "Value": VARIANT_NAME}],
        StartTime=start, EndTime=end, Period=max(60, seconds // 60 * 60), Statistics=["Sum"],
    )["Datapoints"]  # fmt: skip
    return float(sum(p.get("Sum", 0.0) for p in points))


def idle_endpoints(
    sagemaker: Any, cloudwatch: Any, hours: int, now: datetime
) -> list[dict[str, str]]:
    """This stack's endpoints with no invocations in the last `hours` (not opted out)."""
    start = now - timedelta(hours=hours)
    found: list[dict[str, str]] = []
    pages = sagemaker.get_paginator("list_endpoints").paginate(
        StatusEquals="InService", LastModifiedTimeBefore=start
    )
    for page in pages:
        for summary in page["Endpoints"]:
            name, arn = summary["EndpointName"], summary["EndpointArn"]
            if not ours(name):
                continue
            tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}
            if tags.get(KEEP_ALIVE_TAG, "").lower() == "true":
                continue
            if invocations(cloudwatch, name, start, now) == 0:
                found.append({"endpointName": name, "endpointArn": arn})
    return found


def delete(sagemaker: Any, autoscaling: Any, endpoint: str) -> None:
    """Deregister the variant's scalable target (if any), then delete the endpoint."""
    resource = f"endpoint/{endpoint}/variant/{VARIANT_NAME}"
    registered = autoscaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[resource], ScalableDimension=SCALABLE_DIMENSION
    )["ScalableTargets"]
    if registered:
        autoscaling.deregister_scalable_target(
            ServiceNamespace="sagemaker", ResourceId=resource, ScalableDimension=SCALABLE_DIMENSION
        )
    sagemaker.delete_endpoint(EndpointName=endpoint)


@pipeline_step(payload=IdleEndpointsPayload)
def handler(event: IdleEndpointsPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {deleted: [{endpointName, endpointArn}], idleHours}."""
    hours = env_int("IDLE_HOURS", 0)
    sagemaker = client("sagemaker")
    deleted: list[dict[str, str]] = []
    if hours > 0:
        deleted = idle_endpoints(sagemaker, client("cloudwatch"), hours, datetime.now(UTC))
        autoscaling = client("application-autoscaling")
        for endpoint in deleted:
            delete(sagemaker, autoscaling, endpoint["endpointName"])
    metrics.add_metric(name="IdleEndpointsDeleted", unit=MetricUnit.Count, value=len(deleted))
    logger.info("idle endpoints deleted", extra={"deleted": deleted, "hours": hours})
    return {"deleted": deleted, "idleHours": hours}
