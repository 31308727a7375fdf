"""SEAM: guarded endpoint updates: DeploymentConfig's automatic rollback on CloudWatch alarms.

moto 5.2.5 has alarms but no SageMaker deployment guardrails (endpoint_seam adds UpdateEndpoint,
without DeploymentConfig), and its PutMetricAlarm resets an existing alarm's state where AWS
keeps it ("When you update an existing alarm, its state is left unchanged"). This module:

- wraps `CloudWatchBackend.put_metric_alarm` so an updated alarm keeps its state;
- wraps the UpdateEndpoint response to remember each endpoint's DeploymentConfig;
- gives `LocalEndpoints.bake`: once the new server is healthy, the update bakes for the
  traffic-shifting WaitIntervalInSeconds (scaled like the state machines' waits) and rolls back
  when an AutoRollbackConfiguration alarm is in ALARM, as SageMaker does.
"""

from __future__ import annotations

import time
from typing import Any

from fairmot.local.endpoint_seam import LocalEndpoints
from fairmot.local.seam import Patches

POLL_S = 0.1


class Guardrails:
    """Each endpoint's requested DeploymentConfig, and the bake that enforces it."""

    def __init__(self, wait_scale: float) -> None:
        self.wait_scale = wait_scale
        self.configs: dict[str, dict[str, Any]] = {}

    def bake(self, endpoint: Any) -> str | None:
        """Why the update must roll back (an alarm in ALARM), or None once the bake is over."""
        from moto.cloudwatch.models import cloudwatch_backends

        config = self.configs.pop(endpoint.endpoint_name, None) or {}
        names = [
            a["AlarmName"] for a in config.get("AutoRollbackConfiguration", {}).get("Alarms", [])
        ]
        routing = config.get("BlueGreenUpdatePolicy", {}).get("TrafficRoutingConfiguration", {})
        _, _, _, region, account, _ = endpoint.arn.split(":", 5)
        alarms = cloudwatch_backends[account][region].alarms
        deadline = (
            time.monotonic() + float(routing.get("WaitIntervalInSeconds", 0)) * self.wait_scale
        )
        while True:
            firing = [n for n in names if n in alarms and alarms[n].state_value == "ALARM"]
            if firing:
                return f"rolled back: alarm {', '.join(firing)} in ALARM during the update"
            if time.monotonic() >= deadline:
                return None
            time.sleep(POLL_S)


def install(patches: Patches, endpoints: LocalEndpoints, wait_scale: float) -> Guardrails:
    """Wrap PutMetricAlarm and UpdateEndpoint; hook the bake into the endpoint seam."""
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.sagemaker.responses import SageMakerResponse

    guardrails = Guardrails(wait_scale)
    original_put = CloudWatchBackend.put_metric_alarm
    # endpoint_seam's addition (moto has no UpdateEndpoint of its own).
    original_update = SageMakerResponse.update_endpoint  # type: ignore[attr-defined]

    def put_metric_alarm(backend: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        previous = backend.alarms.get(name)
        alarm = original_put(backend, name, *args, **kwargs)
        if previous is not None:
            for field in ("state_value", "state_reason", "state_reason_data",
                          "state_updated_timestamp"):  # fmt: skip
                setattr(alarm, field, getattr(previous, field))
        return alarm

    def update_endpoint(response: Any) -> Any:
        config = response._get_param("DeploymentConfig")
        if config:
            guardrails.configs[response._get_param("EndpointName")] = config
        return original_update(response)

    patches.patch_attribute(CloudWatchBackend, "put_metric_alarm", put_metric_alarm)
    patches.patch_attribute(SageMakerResponse, "update_endpoint", update_endpoint)
    patches.patch_attribute(endpoints, "bake", guardrails.bake)
    return guardrails
