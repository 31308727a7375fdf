"""Deploy step: create the endpoint, or update it in place when it exists: blue/green with the
planned traffic shifting, rolled back by SageMaker when one of the endpoint's alarms (put here,
before the update) fires, so the old model keeps serving until the new one has proved itself."""

from __future__ import annotations

from typing import Any, NamedTuple

from aws_lambda_powertools.utilities.typing import LambdaContext
from clients import client
from errors import EndpointBusyError, EndpointFailedError
from models import Meta
from payloads import DeployEndpointPayload
from plan_deployment import deploys_config, describe_or_none
from step import logger, pipeline_step
from tags import pipeline_tags

# UpdateEndpoint is refused while one of these is in progress: wait and retry.
BUSY_STATES = {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}


class Guard(NamedTuple):
    """What guards an update: the planned alarms and the DeploymentConfig that names them."""

    cloudwatch: Any
    alarms: list[dict[str, Any]]
    deployment_config: dict[str, Any]


def choose_action(endpoint: dict[str, Any] | None) -> str:
    """ "create" or "update"; raises when the endpoint cannot take an update now."""
    if endpoint is None:
        return "create"
    status = endpoint.get("EndpointStatus")
    name = endpoint.get("EndpointName")
    if status in BUSY_STATES:
        raise EndpointBusyError(f"endpoint {name} is {status}; retrying later")
    if status == "Failed":
        raise EndpointFailedError(
            f"endpoint {name} is Failed ({endpoint.get('FailureReason')}); delete it "
            f"(aws sagemaker delete-endpoint --endpoint-name {name}) and deploy again"
        )
    return "update"


def deploy(
    sagemaker: Any, endpoint_name: str, config_name: str, model_uri: str, meta: Meta,
    guard: Guard | None = None,
) -> dict[str, Any]:  # fmt: skip
    endpoint = describe_or_none(sagemaker.describe_endpoint, EndpointName=endpoint_name)
    if endpoint and deploys_config(endpoint, config_name):
        # A redelivered event or a retry after the request went through: the wait loop
        # watches the deployment already under way instead of asking for it twice.
        status = str(endpoint["EndpointStatus"])
        return {"endpointName": endpoint_name, "endpointArn": endpoint["EndpointArn"],
                "action": "create" if status == "Creating" else "update", "polls": 0,
                "ready": False, "status": status, "rolledBack": False,
                "reason": ""}  # fmt: skip
    action = choose_action(endpoint)
    if guard is not None:
        for alarm in guard.alarms:
            guard.cloudwatch.put_metric_alarm(**alarm)
    if action == "create":
        arn = sagemaker.create_endpoint(
            EndpointName=endpoint_name, EndpointConfigName=config_name,
            Tags=pipeline_tags(meta, model=model_uri),
        )["EndpointArn"]  # fmt: skip
    else:
        arn = sagemaker.update_endpoint(
            EndpointName=endpoint_name, EndpointConfigName=config_name,
            **({"DeploymentConfig": guard.deployment_config} if guard else {}),
        )["EndpointArn"]  # fmt: skip
    return {"endpointName": endpoint_name, "endpointArn": arn, "action": action, "polls": 0,
            "ready": False, "status": "Creating" if action == "create" else "Updating",
            "rolledBack": False, "reason": ""}  # fmt: skip


@pipeline_step(payload=DeployEndpointPayload)
def handler(event: DeployEndpointPayload, context: LambdaContext) -> dict[str, Any]:
    """-> deployed."""
    guard = Guard(client("cloudwatch"), event.alarms, event.deploymentConfig)
    result = deploy(
        client("sagemaker"), event.endpointName, event.endpointConfigName,
        event.modelUri, event.meta, guard,
    )  # fmt: skip
    logger.info("endpoint requested", extra=result)
    return result
