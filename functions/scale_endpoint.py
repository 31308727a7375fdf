"""Deploy step, once the endpoint serves the new model: register its variant with Application
Auto Scaling and attach the planned target-tracking policy (both calls are idempotent, so a
redeploy only refreshes them)."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from correlation import bind_correlation_id
from models import Meta

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="FairMOT")


def scale(autoscaling: Any, scaling: dict[str, Any]) -> dict[str, Any]:
    """Make the planned RegisterScalableTarget and PutScalingPolicy requests, whole."""
    autoscaling.register_scalable_target(**scaling["target"])
    policy = autoscaling.put_scaling_policy(**scaling["policy"])
    return {
        "resourceId": scaling["target"]["ResourceId"],
        "minCapacity": scaling["target"]["MinCapacity"],
        "maxCapacity": scaling["target"]["MaxCapacity"],
        "policyArn": policy["PolicyARN"],
    }


@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Payload {scaling: {target, policy}, meta} -> {resourceId, min/maxCapacity, policyArn}."""
    meta = Meta.model_validate(event["meta"])
    bind_correlation_id(logger, tracer, meta.correlationId)
    result = scale(boto3.client("application-autoscaling"), event["scaling"])
    logger.info("endpoint autoscaling registered", extra=result)
    return result
