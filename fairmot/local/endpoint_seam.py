"""SEAM: SageMaker endpoints -> a local `serve` process per endpoint behind invoke_endpoint.

moto 5.2.5 marks an endpoint InService at once, has no UpdateEndpoint, and its sagemaker-runtime
InvokeEndpoint returns canned data. This module wraps `SageMakerModelBackend.create_endpoint` /
`delete_endpoint`, adds `update_endpoint`, and replaces
`SageMakerRuntimeResponse.invoke_endpoint`:

- create: the endpoint is Creating while the model artifact (ModelDataUrl of the config's first
  variant's model) is downloaded and unpacked, and `serve` starts on a free loopback port
  (SM_MODEL_DIR, SAGEMAKER_BIND_TO_PORT); InService once GET /ping answers 200, Failed with the
  server's log tail otherwise;
- update: Updating while a new server starts; then traffic moves to it and the old one stops
  (a failed update leaves the old one serving, InService with a FailureReason, as on AWS);
- delete: stops the server;
- invoke: the request's bytes (raw, as sent: JSON or JPEG) go to the server's /invocations with
  its Content-Type, Accept and SageMaker session headers; a non-2xx answer becomes ModelError.
"""

from __future__ import annotations

import json
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairmot.local.sagemaker_jobs import LOCAL_CPU_OPT_OUT, entry_point_command
from fairmot.local.seam import Patches, environ_snapshot
from fairmot.upload import s3_parts

START_TIMEOUT_S = 120.0  # model load on CPU; SageMaker itself allows minutes
INVOKE_TIMEOUT_S = 60.0  # SageMaker's InvokeEndpoint limit
_FORWARDED_HEADERS = (
    "Content-Type",
    "Accept",
    "X-Amzn-SageMaker-Custom-Attributes",
    "X-Amzn-SageMaker-Session-Id",
)
_RETURNED_HEADERS = (
    "X-Amzn-SageMaker-New-Session-Id",
    "X-Amzn-SageMaker-Closed-Session-Id",
    "X-Amzn-SageMaker-Custom-Attributes",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class EndpointServer:
    """One running `serve` process."""

    endpoint: str
    port: int
    process: subprocess.Popen[bytes]
    folder: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ping(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/ping", timeout=2) as answer:
                return int(answer.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 15) -> str:
        log = self.folder / "serve.log"
        return (
            " | ".join(log.read_text(errors="replace").splitlines()[-lines:])
            if log.exists()
            else ""
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class LocalEndpoints:
    """Endpoint name -> its local server, and the patches that keep moto in step."""

    def __init__(
        self,
        work_dir: Path,
        s3_client_factory: Callable[[], Any],
        sink: Callable[[str, str], None] = lambda endpoint, line: None,
    ) -> None:
        self.work_dir = work_dir
        self.s3_client_factory = s3_client_factory
        self.sink = sink
        self.servers: dict[str, EndpointServer] = {}
        self._lock = threading.Lock()
        self._generation = 0
        # The update's guardrail (deployment_seam): why to roll back to the old server, or None.
        self.bake: Callable[[Any], str | None] = lambda endpoint: None

    def _model_for(self, backend: Any, config_name: str) -> tuple[str, dict[str, str]]:
        config = backend.endpoint_configs[config_name]
        variant = config.production_variants[0]
        model = backend.describe_model(variant["ModelName"])
        container = model.primary_container or (model.containers or [{}])[0]
        return container["ModelDataUrl"], dict(container.get("Environment") or {})

    def start_server(self, backend: Any, endpoint: str, config_name: str) -> EndpointServer:
        """Download the model, start `serve`, wait for /ping; raise RuntimeError if it fails."""
        model_url, environment = self._model_for(backend, config_name)
        with self._lock:
            self._generation += 1
            folder = self.work_dir / "endpoints" / f"{endpoint}-{self._generation}"
        model_dir = folder / "model"
        model_dir.mkdir(parents=True, exist_ok=True)
        bucket, key = s3_parts(model_url)
        archive = folder / "model.tar.gz"
        self.s3_client_factory().download_file(bucket, key, str(archive))
        with tarfile.open(archive) as tar:
            tar.extractall(model_dir, filter="data")
        port = free_port()
        env = environ_snapshot()
        env.pop("AWS_ENDPOINT_URL", None)
        env.update(environment)
        env.update(LOCAL_CPU_OPT_OUT)
        env.update(
            {
                "SM_MODEL_DIR": str(model_dir),
                "SAGEMAKER_BIND_TO_PORT": str(port),
                "FAIRMOT_BIND_HOST": "127.0.0.1",
                "PYTHONUNBUFFERED": "1",
            }
        )
        log = (folder / "serve.log").open("wb")
        process = subprocess.Popen(
            entry_point_command(None, "serve"),
            env=env,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = EndpointServer(endpoint, port, process, folder)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if server.ping():
                self.sink(endpoint, f"serving {model_url} on {server.url}")
                return server
            if process.poll() is not None:
                break
            time.sleep(0.2)
        server.stop()
        raise RuntimeError(f"the model server did not become healthy: {server.log_tail()}")

    def stop_all(self) -> None:
        with self._lock:
            servers = list(self.servers.values())
            self.servers.clear()
        for server in servers:
            server.stop()

    def forward(
        self, endpoint: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        server = self.servers.get(endpoint)
        if server is None:
            message = f"Endpoint {endpoint} of account 123456789012 not found."
            return (
                400,
                # moto takes the HTTP status from this header, not from the tuple.
                {"x-amzn-ErrorType": "ValidationError", "status": "400"},
                json.dumps({"__type": "ValidationError", "message": message}).encode(),
            )
        sent = {
            k: v for k, v in headers.items() if k.lower() in {h.lower() for h in _FORWARDED_HEADERS}
        }
        request = urllib.request.Request(server.url + "/invocations", data=body, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=INVOKE_TIMEOUT_S) as answer:
                out = {"Content-Type": answer.headers.get("Content-Type", "application/json")}
                for name in _RETURNED_HEADERS:
                    if answer.headers.get(name):
                        out[name] = answer.headers[name]
                return 200, out, answer.read()
        except urllib.error.HTTPError as error:
            original = error.read().decode(errors="replace")
            message = (
                f'Received client error ({error.code}) from primary with message "{original}". '
                f"See the endpoint's log for more information."
            )
            return (
                424,
                {"x-amzn-ErrorType": "ModelError", "status": "424"},
                json.dumps(
                    {
                        "__type": "ModelError",
                        "message": message,
                        "OriginalStatusCode": error.code,
                        "OriginalMessage": original,
                    }
                ).encode(),
            )

    # ---- patches -------------------------------------------------------------------------
    def install(self, patches: Patches) -> None:
        from moto.sagemaker.exceptions import ValidationError
        from moto.sagemaker.models import SageMakerModelBackend
        from moto.sagemaker.responses import SageMakerResponse
        from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

        seam = self
        original_create = patches.patch_attribute(SageMakerModelBackend, "create_endpoint", None)
        original_delete = patches.patch_attribute(SageMakerModelBackend, "delete_endpoint", None)

        def bring_up(backend: Any, endpoint: Any, config_name: str, *, updating: bool) -> None:
            name = endpoint.endpoint_name
            try:
                server = seam.start_server(backend, name, config_name)
            except Exception as error:  # any failure is the endpoint's FailureReason
                endpoint.failure_reason = f"{type(error).__name__}: {error}"[:1024]
                endpoint.endpoint_status = "InService" if updating else "Failed"
                if updating:
                    seam.sink(name, f"update failed, still serving the old model: {error}")
                return
            reason = seam.bake(endpoint) if updating else None
            if reason:
                server.stop()
                endpoint.failure_reason = reason
                endpoint.endpoint_status = "InService"
                seam.sink(name, f"update rolled back, still serving the old model: {reason}")
                return
            with seam._lock:
                old = seam.servers.get(name)
                seam.servers[name] = server
            if old is not None:
                old.stop()
            endpoint.endpoint_config_name = config_name
            endpoint.production_variants = backend.endpoint_configs[config_name].production_variants
            endpoint.failure_reason = None
            endpoint.endpoint_status = "InService"

        def bring_up_later(backend: Any, endpoint: Any, config_name: str, *, updating: bool) -> Any:
            """The call answers at once (Creating/Updating); the server starts on a thread."""
            arguments = (backend, endpoint, config_name)
            keywords = {"updating": updating}
            threading.Thread(target=bring_up, args=arguments, kwargs=keywords, daemon=True).start()
            return endpoint

        def create_endpoint(
            backend: Any, endpoint_name: str, endpoint_config_name: str, tags: Any
        ) -> Any:
            if endpoint_name in backend.endpoints:
                arn = backend.endpoints[endpoint_name].arn
                raise ValidationError(message=f'Cannot create already existing endpoint "{arn}".')
            endpoint = original_create(
                backend,
                endpoint_name=endpoint_name,
                endpoint_config_name=endpoint_config_name,
                tags=tags,
            )
            endpoint.endpoint_status = "Creating"
            return bring_up_later(backend, endpoint, endpoint_config_name, updating=False)

        def update_endpoint(backend: Any, endpoint_name: str, endpoint_config_name: str) -> Any:
            endpoint = backend.endpoints.get(endpoint_name)
            if endpoint is None:
                raise ValidationError(message=f'Could not find endpoint "{endpoint_name}".')
            if endpoint.endpoint_status != "InService":
                raise ValidationError(
                    message=f'Cannot update in-progress endpoint "{endpoint.arn}".'
                )
            if endpoint_config_name not in backend.endpoint_configs:
                raise ValidationError(
                    message=f'Could not find endpoint configuration "{endpoint_config_name}".'
                )
            endpoint.endpoint_status = "Updating"
            return bring_up_later(backend, endpoint, endpoint_config_name, updating=True)

        def delete_endpoint(backend: Any, endpoint_name: str) -> None:
            original_delete(backend, endpoint_name)
            with seam._lock:
                server = seam.servers.pop(endpoint_name, None)
            if server is not None:
                server.stop()

        def update_endpoint_response(response: Any) -> Any:
            from moto.core.responses import ActionResult

            endpoint = response.sagemaker_backend.update_endpoint(
                endpoint_name=response._get_param("EndpointName"),
                endpoint_config_name=response._get_param("EndpointConfigName"),
            )
            return ActionResult({"EndpointArn": endpoint.arn})

        def invoke_endpoint(response: Any) -> Any:
            # The body is the caller's bytes (use_raw_body below): a JPEG is not UTF-8 text.
            body = response.raw_body
            body = body if isinstance(body, bytes) else str(body or "").encode()
            name = response.path.split("/")[2]  # /endpoints/NAME/invocations
            return seam.forward(name, body, dict(response.headers))

        patches.patch_attribute(SageMakerModelBackend, "create_endpoint", create_endpoint)
        patches.patch_attribute(SageMakerModelBackend, "delete_endpoint", delete_endpoint)
        patches.add_attribute(SageMakerModelBackend, "update_endpoint", update_endpoint)
        patches.add_attribute(SageMakerResponse, "update_endpoint", update_endpoint_response)
        patches.patch_attribute(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint)
        # moto decodes every request body as UTF-8 unless told not to (a raw JPEG was a 500).
        patches.patch_attribute(SageMakerRuntimeResponse, "use_raw_body", True)
