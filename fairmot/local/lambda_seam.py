"""SEAM: Lambda invoke -> the handler from the template's CodeUri/Handler, in-process.

moto 5.2.5 runs Lambda code only in Docker; with `{"lambda": {"use_docker": False}}` its
`LambdaSimpleBackend.invoke` echoes the payload. This module replaces that method: it imports
the handler module from the function's code directory, sets the function's environment for the
call, passes a Lambda context object, and surfaces an exception the way Lambda does (the
`x-amz-function-error: Unhandled` header and `{"errorType": <class name>, "errorMessage": ...}`),
so a state machine's Catch/Retry match the exception's class name.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from fairmot.local.seam import Patches, environment, guard_environ_copies

DEFAULT_TIMEOUT_S = 3  # Lambda's default function timeout
TIMEOUT_ERROR = "Sandbox.Timedout"  # the error name Lambda gives a function past its Timeout


@dataclass(frozen=True)
class LocalFunction:
    """What the deployer learned about one function from the template."""

    name: str
    code_dir: Path
    handler: str  # "module.function", module path relative to code_dir (dots for packages)
    environment: dict[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = 128
    arn: str = ""
    layer_dirs: tuple[Path, ...] = ()  # Lambda layers: their python/ (or root) joins sys.path


@dataclass
class LambdaContext:
    """The attributes and method of the context object the Lambda Python runtime passes."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: float
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


_functions: dict[str, LocalFunction] = {}
_modules: dict[str, ModuleType] = {}
# os.environ is process-wide: one invocation at a time keeps each function's environment its own.
_invoke_lock = threading.RLock()


def register_function(function: LocalFunction) -> None:
    """Make invocations of `function.name` (or its ARN) run its handler."""
    _functions[function.name] = function
    _modules.pop(function.name, None)


def clear_functions() -> None:
    _functions.clear()
    _modules.clear()


def _function_name(name_or_arn: str) -> str:
    # arn:aws:lambda:region:account:function:name[:qualifier]
    if name_or_arn.startswith("arn:"):
        return name_or_arn.split(":")[6]
    return name_or_arn.split(":")[0]


def _runtime_environment(function: LocalFunction) -> dict[str, str]:
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "LAMBDA_TASK_ROOT": str(function.code_dir),
        **function.environment,
    }


def load_handler(function: LocalFunction) -> Callable[[Any, Any], Any]:
    """Import the handler module from the code directory (once per function)."""
    module_path, _, attribute = function.handler.rpartition(".")
    module = _modules.get(function.name)
    if module is None:
        relative = Path(*module_path.split("."))
        file = function.code_dir / relative.with_suffix(".py")
        if not file.exists():
            file = function.code_dir / relative / "__init__.py"
        if not file.exists():
            raise FileNotFoundError(
                f"function {function.name}: handler {function.handler} not found under "
                f"{function.code_dir}"
            )
        unique = f"fairmot_local_lambda.{function.name.replace('-', '_')}"
        spec = importlib.util.spec_from_file_location(unique, file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        code_dir = str(function.code_dir)
        # Sibling modules of the handler (shared helpers) import as they would in the zip, and
        # layers' modules as Lambda's /opt/python.
        layers = [d / "python" if (d / "python").is_dir() else d for d in function.layer_dirs]
        for folder in [*map(str, layers), code_dir]:
            if folder not in sys.path:
                sys.path.insert(0, folder)
        spec.loader.exec_module(module)
        _modules[function.name] = module
    handler: Callable[[Any, Any], Any] = getattr(module, attribute)
    return handler


def invoke_function(name_or_arn: str, event: Any) -> tuple[Any, str | None]:
    """Run the handler; return (payload, function error or None) as Lambda would."""
    name = _function_name(name_or_arn)
    function = _functions.get(name)
    if function is None:
        error = {
            "errorType": "ResourceNotFoundException",
            "errorMessage": f"local mode has no function {name}",
        }
        return error, "Unhandled"
    with _invoke_lock, environment(_runtime_environment(function)):
        context = LambdaContext(
            function_name=function.name,
            invoked_function_arn=function.arn or name_or_arn,
            memory_limit_in_mb=function.memory_mb,
            timeout_s=function.timeout_s,
        )
        return _run_with_timeout(function, event, context)


def _run_with_timeout(
    function: LocalFunction, event: Any, context: LambdaContext
) -> tuple[Any, str | None]:
    """Run the handler; past the function's Timeout answer as Lambda does (Sandbox.Timedout).

    A Python thread cannot be killed: a timed-out handler runs on, detached, but its answer is
    dropped and the invocation has failed, which is what a state machine's Retry/Catch sees.
    """
    outcome: list[tuple[Any, str | None]] = []

    def call() -> None:
        try:
            handler = load_handler(function)
            outcome.append((handler(event, context), None))
        except Exception as error:  # Lambda reports any exception as the function's error
            payload = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-5:],
            }
            outcome.append((payload, "Unhandled"))

    worker = threading.Thread(target=call, name=f"lambda-{function.name}", daemon=True)
    worker.start()
    worker.join(function.timeout_s)
    if outcome:
        return outcome[0]
    message = f"Task timed out after {function.timeout_s:.2f} seconds"
    return {"errorType": TIMEOUT_ERROR, "errorMessage": message}, "Unhandled"


def install(patches: Patches) -> None:
    """Patch moto's Docker-less Lambda backend to run registered handlers."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    guard_environ_copies(patches)  # the handlers' variables come and go in os.environ

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        text = body.decode() if isinstance(body, bytes) else (body or "")
        event = json.loads(text) if text.strip() else {}
        payload, function_error = invoke_function(function_name, event)
        if function_error:
            response_headers["x-amz-function-error"] = function_error
        return json.dumps(payload, default=str).encode()

    patches.patch_attribute(LambdaSimpleBackend, "invoke", invoke)
