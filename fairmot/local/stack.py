"""The local AWS: moto (in-process or a loopback server) with the seams and the deployed template.

`LocalAws` is a context manager: on enter it checks the pinned moto, starts moto with its Step
Functions interpreter on and Docker-less Lambda, installs the seams, and deploys template.yaml;
on exit it stops endpoint servers, undoes the patches and stops moto. In-process mode suits
tests and the demo (boto3 in this process is intercepted); server mode (ThreadedMotoServer on
127.0.0.1) lets other processes and the AWS CLI in through AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import copy
import math
import os
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from unittest.mock import patch

from fairmot.aws import request_check
from fairmot.local import (
    asl_seam,
    deployer,
    deployment_seam,
    eventbridge_seam,
    lambda_seam,
    registry_seam,
    timing_seam,
)
from fairmot.local.deployer import REGION, DeployedStack, Deployer
from fairmot.local.endpoint_seam import LocalEndpoints, free_port
from fairmot.local.sagemaker_jobs import terminate_running
from fairmot.local.sagemaker_seam import JobSettings, LocalSageMaker
from fairmot.local.sam import load_template
from fairmot.local.schedule_seam import ScheduleTicker, scaled_windows
from fairmot.local.seam import Patches, check_moto_version, environment

# A local endpoint starts a real `serve` process (seconds to a minute on a loaded machine) while
# the deploy workflow's polls come 1/wait_scale times faster than on AWS: the poll budget must
# still cover this much real time.
LOCAL_ENDPOINT_BUDGET_S = 600.0


def local_parameters(template: Path, given: dict[str, str], scale: float) -> dict[str, str]:
    """`given`, with waits scaled (scaled_windows) and, unless given, enough endpoint polls for
    LOCAL_ENDPOINT_BUDGET_S of real time at the scaled poll interval."""
    parameters = scaled_windows(template, given, scale)
    defaults = load_template(template).get("Parameters", {})
    if "EndpointMaxPolls" not in given and "EndpointPollSeconds" in defaults:
        poll_s = float(given.get("EndpointPollSeconds", defaults["EndpointPollSeconds"]["Default"]))
        needed = math.ceil(LOCAL_ENDPOINT_BUDGET_S / max(poll_s * scale, 1e-3))
        default = int(defaults.get("EndpointMaxPolls", {}).get("Default", 0))
        parameters["EndpointMaxPolls"] = str(max(default, needed))
    return parameters


MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
FAKE_CREDENTIALS = {
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
        self._restore = ExitStack()  # environment variables and moto's config, put back by close()
        self._mock: Any = None
        self._server: Any = None
        self.endpoints: LocalEndpoints | None = None
        self.sagemaker: LocalSageMaker | None = None
        self.schedules: ScheduleTicker | None = None
        # Every SageMaker/EventBridge/Step Functions request, checked as AWS would check it.
        self.requests = request_check.CheckedRequests()

    # ---- lifecycle -----------------------------------------------------------------------
    def _set_env(self, values: dict[str, str]) -> None:
        self._restore.enter_context(environment(values))

    def __enter__(self) -> LocalAws:
        check_moto_version()
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        self._set_env(FAKE_CREDENTIALS)
        try:
            self._start_moto()
            self._install_seams()
            self.stack = Deployer(
                self.settings.template,
                self.client,
                stack_name=self.settings.stack_name,
                parameters=local_parameters(
                    self.settings.template, self.settings.parameters, self.settings.wait_scale
                ),
                extra_environment={
                    **LAMBDA_LOCAL_ENVIRONMENT,
                    **(QUIET_LAMBDA_ENVIRONMENT if self.settings.quiet_lambdas else {}),
                },
            ).deploy()
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
            # The in-process server reads moto's global config (mock_aws patches it likewise).
            self._restore.enter_context(patch.dict(default_user_config, copy.deepcopy(MOTO_CONFIG)))
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
        self.patches.undo_steps.append(request_check.install(self.requests))
        lambda_seam.install(self.patches)
        deployer.install(self.patches)
        asl_seam.install(self.patches)
        eventbridge_seam.install(self.patches, self.published)
        timing_seam.install(self.patches, self.settings.wait_scale)
        registry_seam.install(self.patches)
        self.sagemaker = LocalSageMaker(
            JobSettings(work, lambda: self.client("s3"), self.settings.job_log)
        )
        self.sagemaker.install(self.patches)
        self.endpoints = LocalEndpoints(work, lambda: self.client("s3"), self.settings.job_log)
        self.endpoints.install(self.patches)
        deployment_seam.install(self.patches, self.endpoints, self.settings.wait_scale)

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
            self._server.stop()
            self._server = None
        self._restore.close()

    # ---- clients and helpers -------------------------------------------------------------
    _client_lock = threading.Lock()

    def client(self, service: str) -> Any:
        import boto3

        with self._client_lock:  # boto3's default session is not thread-safe to create clients
            # boto3-stubs types client() per literal service name; `service` is any of them.
            make_client: Any = boto3.Session(region_name=REGION).client
            return make_client(service, region_name=REGION, endpoint_url=self.endpoint_url)
