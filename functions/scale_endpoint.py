"""Deploy step, once the endpoint serves the new model: register its variant with Application
Auto Scaling and attach the planned target-tracking policy (both calls are idempotent, so a
redeploy only refreshes them)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from clients import client
from payloads import ScaleEndpointPayload
from step import logger, pipeline_step


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


@pipeline_step(payload=ScaleEndpointPayload)
def handler(event: ScaleEndpointPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {resourceId, minCapacity, maxCapacity, policyArn}."""
    result = scale(client("application-autoscaling"), event.scaling)
    logger.info("endpoint autoscaling registered", extra=result)
    return result
