"""Deploy step: one DescribeEndpoint per turn of the wait loop, with a bound on the turns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from clients import client
from errors import EndpointFailedError, EndpointTimeoutError
from payloads import CheckEndpointPayload
from settings import env_int
from step import logger, pipeline_step

# UpdateRollbackFailed: an update failed and so did its rollback; polling on would take an hour.
FAILED_STATES = {"Failed", "OutOfService", "Deleting", "UpdateRollbackFailed"}


def assess(
    deployed: dict[str, Any], endpoint: Mapping[str, Any], config_name: str, max_polls: int
) -> dict[str, Any]:
    """The next `deployed` record: ready, still waiting, or an error."""
    name = deployed["endpointName"]
    polls = int(deployed.get("polls", 0)) + 1
    status = str(endpoint.get("EndpointStatus"))
    if status in FAILED_STATES:
        raise EndpointFailedError(f"endpoint {name} is {status}: {endpoint.get('FailureReason')}")
    serving = endpoint.get("EndpointConfigName")
    ready = status == "InService" and serving == config_name
    if status == "InService" and not ready:
        # InService on another config after our update: SageMaker rolled the update back
        # (an alarm fired during traffic shifting or the bake); the old model still serves.
        reason = f"{name} serves {serving} again: {endpoint.get('FailureReason') or 'rolled back'}"
        return {**deployed, "polls": polls, "ready": False, "status": status,
                "rolledBack": True, "reason": reason}  # fmt: skip
    if not ready and polls >= max_polls:
        raise EndpointTimeoutError(f"endpoint {name} still {status} after {polls} polls")
    return {**deployed, "polls": polls, "ready": ready, "status": status, "rolledBack": False}


@pipeline_step(payload=CheckEndpointPayload)
def handler(event: CheckEndpointPayload, context: LambdaContext) -> dict[str, Any]:
    """-> deployed (+ polls, ready, status)."""
    deployed = event.deployed
    endpoint = client("sagemaker").describe_endpoint(EndpointName=deployed["endpointName"])
    result = assess(
        deployed, endpoint, event.endpointConfigName, env_int("ENDPOINT_MAX_POLLS", 120)
    )
    logger.info("endpoint status", extra={"status": result["status"], "polls": result["polls"]})
    return result
