"""The local AWS: moto (in-process or a loopback server) with the seams and the deployed template.

`LocalAws` is a context manager: on enter it checks the pinned moto, starts moto with its Step
Functions interpreter on and Docker-less Lambda, installs the seams, and deploys template.yaml;
on exit it stops endpoint servers, undoes the patches and stops moto. In-process mode suits
tests and the demo (boto3 in this process is intercepted); server mode (ThreadedMotoServer on
127.0.0.1) lets other processes and the AWS CLI in through AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from fairmot.local import asl_seam, eventbridge_seam, lambda_seam, request_check, timing_seam
from fairmot.local.deployer import DeployedStack, Deployer
from fairmot.local.endpoint_seam import LocalEndpoints, free_port
from fairmot.local.sagemaker_jobs import terminate_running
from fairmot.local.sagemaker_seam import JobSettings, LocalSageMaker
from fairmot.local.schedule_seam import ScheduleTicker, scaled_windows
from fairmot.local.seam import Patches, check_moto_version
from fairmot.local.template import REGION

MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
# X-Ray has no local daemon: Powertools' Tracer would try to send segments to it.
LAMBDA_LOCAL_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true"}
# The demo shows stages and jobs; the handlers' INFO logs and metric blobs would drown them.
QUIET_LAMBDA_ENVIRONMENT = {
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_METRICS_DISABLED": "true",
}
TERMINAL_EXECUTION = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


class WorkflowError(RuntimeError):
    """A workflow ended other than as expected; the message says where and why."""


@dataclass
class LocalSettings:
    template: Path
    work_dir: Path
    stack_name: str = "fairmot"
    parameters: dict[str, str] = field(default_factory=dict)
    events_log: Path | None = None
    echo_events: bool = True
    wait_scale: float = field(
        default_factory=lambda: float(os.environ.get(timing_seam.WAIT_SCALE_VARIABLE) or 1.0)
    )
    server: bool = False
    port: int | None = None
    job_log: Callable[[str, str], None] = lambda job, line: None
    quiet_lambdas: bool = False


class LocalAws:
    """moto + seams + the deployed template (see the module docstring)."""

    def __init__(self, settings: LocalSettings) -> None:
        # Jobs run with their own folder as working directory: a relative work_dir (the default
        # `.fairmot-local/work`) would name paths that do not exist from there.
        settings.work_dir = settings.work_dir.resolve()
        settings.template = settings.template.resolve()
        self.settings = settings
        self.patches = Patches()
        self.published = eventbridge_seam.PublishedEvents(
            settings.events_log, echo=settings.echo_events
        )
        self.stack: DeployedStack | None = None
        self.endpoint_url: str | None = None
        self._saved_env: dict[str, str | None] = {}
        self._mock: Any = None
        self._server: Any = None
        self.endpoints: LocalEndpoints | None = None
        self.sagemaker: LocalSageMaker | None = None
        self.schedules: ScheduleTicker | None = None
        # Every SageMaker/EventBridge/Step Functions request, checked as AWS would check it.
        self.requests = request_check.CheckedRequests()

    # ---- lifecycle -----------------------------------------------------------------------
    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def __enter__(self) -> LocalAws:
        check_moto_version()
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        self._set_env(_FAKE_CREDENTIALS)
        try:
            self._start_moto()
            self._install_seams()
            deployer = Deployer(
                self.settings.template,
                self.session(),
                stack_name=self.settings.stack_name,
                parameters=scaled_windows(
                    self.settings.template, self.settings.parameters, self.settings.wait_scale
                ),
                extra_environment={
                    **LAMBDA_LOCAL_ENVIRONMENT,
                    **(QUIET_LAMBDA_ENVIRONMENT if self.settings.quiet_lambdas else {}),
                },
            )
            self.stack = deployer.deploy()
            self.schedules = ScheduleTicker(lambda: self.client("events"), self.settings.wait_scale)
            self.schedules.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start_moto(self) -> None:
        if self.settings.server:
            from moto.core.config import default_user_config
            from moto.server import ThreadedMotoServer

            port = self.settings.port or free_port()
            self._saved_config = json.loads(json.dumps(default_user_config))
            default_user_config.update(json.loads(json.dumps(MOTO_CONFIG)))
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            self._server.start()
            self.endpoint_url = f"http://127.0.0.1:{port}"
            # MOTO_PORT: where moto's own Step Functions interpreter sends its service calls.
            self._set_env({"AWS_ENDPOINT_URL": self.endpoint_url, "MOTO_PORT": str(port)})
        else:
            from moto import mock_aws

            self._mock = mock_aws(config=cast(Any, MOTO_CONFIG))
            self._mock.start()

    def _install_seams(self) -> None:
        work = self.settings.work_dir
        request_check.install(self.patches, self.requests)
        lambda_seam.install(self.patches)
        asl_seam.install(self.patches)
        eventbridge_seam.install(self.patches, self.published)
        timing_seam.install(self.patches, self.settings.wait_scale)
        self.sagemaker = LocalSageMaker(
            JobSettings(work, lambda: self.client("s3"), self.settings.job_log)
        )
        self.sagemaker.install(self.patches)
        self.endpoints = LocalEndpoints(work, lambda: self.client("s3"), self.settings.job_log)
        self.endpoints.install(self.patches)

    def close(self) -> None:
        if self.schedules is not None:
            self.schedules.stop()
        if self.endpoints is not None:
            self.endpoints.stop_all()
        terminate_running()
        self.patches.undo()
        lambda_seam.clear_functions()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._server is not None:
            from moto.core.config import default_user_config

            self._server.stop()
            self._server = None
            cast(Any, default_user_config).clear()
            default_user_config.update(self._saved_config)
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    # ---- clients and helpers -------------------------------------------------------------
    def session(self) -> Any:
        import boto3

        return boto3.Session(region_name=REGION)

    _client_lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._client_lock:  # boto3's default session is not thread-safe to create clients
            return self.session().client(
                service, region_name=REGION, endpoint_url=self.endpoint_url
            )

    def wait_for_execution(self, arn: str, timeout_s: float = 600.0) -> dict[str, Any]:
        """Poll describe_execution until the execution ends; return the description."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout_s
        while True:
            description: dict[str, Any] = sfn.describe_execution(executionArn=arn)
            if description["status"] in TERMINAL_EXECUTION:
                return description
            if time.monotonic() > deadline:
                raise WorkflowError(
                    f"execution {arn} still {description['status']} after {timeout_s}s"
                )
            time.sleep(0.5)

    def executions(self, state_machine_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        return list(sfn.list_executions(stateMachineArn=state_machine_arn)["executions"])

    def wait_for_new_execution(
        self, state_machine_arn: str, known: int = 0, timeout_s: float = 60.0
    ) -> dict[str, Any]:
        """Wait until the state machine has more than `known` executions; return the newest."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.executions(state_machine_arn)
            if len(found) > known:
                return max(found, key=lambda e: e["startDate"])
            time.sleep(0.2)
        raise WorkflowError(
            f"no execution of {state_machine_arn.rsplit(':', 1)[-1]} started within {timeout_s}s: "
            "was the triggering event delivered? (check the rule's pattern and the object key)"
        )

    def failure_of(self, arn: str) -> str:
        """The error and cause of a failed execution, from its history."""
        sfn = self.client("stepfunctions")
        history = sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"]
        for event in history:
            for key, value in event.items():
                if key.endswith("EventDetails") and isinstance(value, dict) and "error" in value:
                    return f"{value.get('error')}: {value.get('cause', '')}"
        return "unknown failure"
