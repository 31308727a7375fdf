"""Requests checked as AWS checks them: botocore's service model, all of it.

moto accepts much that AWS rejects, and botocore's own ParamValidator checks only types,
required members and *minimum* lengths and values. AWS also enforces each shape's `max`,
`pattern` (Java regular expressions, matched whole) and `enum`. This module checks all of them,
plus a few rules that AWS documents but the model cannot express (`SERVICE_RULES`), so a request
that a real account would refuse fails here, in tests and in local mode, with the member path.

`install` wraps botocore's client call (and returns how to undo it) (every boto3 client in this process makes its requests
through it), so each SageMaker, EventBridge and Step Functions call is checked when it is made:
the handlers' own calls and the state machines' service integrations alike.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import regex  # Java-style \p{L}, \p{Alnum} classes in the models' patterns (cfn-lint needs it too)
from botocore.validate import ParamValidator

# The services whose requests the pipeline builds; others (S3 uploads of tests) pass unchecked.
CHECKED_SERVICES = (
    "sagemaker", "events", "stepfunctions", "cloudwatch", "application-autoscaling",
)  # fmt: skip
# SageMaker: "MaxRuntimeInSeconds ... The maximum value is 28 days" (StoppingCondition docs).
MAX_JOB_RUNTIME_S = 28 * 24 * 3600
# SageMaker endpoints on GPU instances: without InferenceAmiVersion they run NVIDIA driver 470
# (CUDA 11.4), older than the serving image's CUDA 12.4 (ProductionVariant docs).
GPU_INSTANCE_FAMILIES = ("ml.g4dn.", "ml.g5.", "ml.g6.", "ml.g6e.", "ml.p3.", "ml.p4d.", "ml.p5.")


class RequestInvalidError(ValueError):
    """A request that AWS would refuse (the message lists every member at fault)."""


@functools.cache
def _service_model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@functools.cache
def _compiled(pattern: str) -> Any:
    try:
        return regex.compile(pattern)
    except regex.error:
        # One SageMaker pattern spells UTF-16 surrogate ranges Java's way; Python has no
        # surrogates in str, so any str matches what that pattern means.
        return None


def _trait_problems(value: Any, shape: Any, path: str) -> Iterator[str]:
    # `shape` is a botocore.model.Shape subclass (structure, list, map, string, number).
    """max / pattern / enum (and recursion): what ParamValidator leaves out."""
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        for name, member in shape.members.items():
            if name in value:
                yield from _trait_problems(value[name], member, f"{path}.{name}")
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path}: {len(value)} items, at most {meta['max']} allowed"
        for index, item in enumerate(value):
            yield from _trait_problems(item, shape.member, f"{path}[{index}]")
    elif kind == "map" and isinstance(value, Mapping):
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path}: {len(value)} entries, at most {meta['max']} allowed"
        for key, item in value.items():
            yield from _trait_problems(key, shape.key, f"{path} (key {key!r})")
            yield from _trait_problems(item, shape.value, f"{path}.{key}")
    elif kind == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            yield f"{path}: {len(value)} characters, at most {meta['max']} allowed"
        compiled = _compiled(meta["pattern"]) if "pattern" in meta else None
        if compiled is not None and not compiled.fullmatch(value):
            yield f"{path}: {value[:80]!r} does not match the pattern {meta['pattern']}"
        if shape.enum and value not in shape.enum:
            yield f"{path}: {value!r} is not one of {', '.join(shape.enum)}"
    elif (
        kind in ("integer", "long", "float", "double")
        and isinstance(value, (int, float))
        and value > meta.get("max", float("inf"))
    ):
        yield f"{path}: {value} is above the maximum {meta['max']}"


# ---- documented rules the model cannot express -----------------------------------------------


def _ranges(config: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    ranges = config.get("ParameterRanges") or {}
    for kind in ("ContinuousParameterRanges", "IntegerParameterRanges"):
        for spec in ranges.get(kind) or []:
            yield kind, spec


def _tuning_rules(params: Mapping[str, Any]) -> Iterator[str]:
    """SageMaker's ScalingType rules (HyperParameterTuningJobConfig docs)."""
    config = params.get("HyperParameterTuningJobConfig") or {}
    for kind, spec in _ranges(config):
        name, scaling = spec.get("Name"), spec.get("ScalingType", "Auto")
        try:
            low, high = float(spec["MinValue"]), float(spec["MaxValue"])
        except (KeyError, TypeError, ValueError):
            yield f"ParameterRanges {name}: MinValue/MaxValue must be numbers"
            continue
        if low > high:
            yield f"ParameterRanges {name}: MinValue {low} is above MaxValue {high}"
        if scaling == "Logarithmic" and low <= 0:
            yield f"ParameterRanges {name}: Logarithmic scaling needs a range above 0"
        if scaling == "ReverseLogarithmic" and (
            kind != "ContinuousParameterRanges" or low < 0 or high >= 1
        ):
            yield f"ParameterRanges {name}: ReverseLogarithmic needs a continuous range in [0, 1)"
    definition = params.get("TrainingJobDefinition") or {}
    yield from _stopping_rules(definition)


def _stopping_rules(params: Mapping[str, Any]) -> Iterator[str]:
    runtime = (params.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    if isinstance(runtime, int) and runtime > MAX_JOB_RUNTIME_S:
        yield f"StoppingCondition.MaxRuntimeInSeconds {runtime} is over 28 days"


def _endpoint_rules(params: Mapping[str, Any]) -> Iterator[str]:
    for index, variant in enumerate(params.get("ProductionVariants") or []):
        instance = str(variant.get("InstanceType", ""))
        if instance.startswith(GPU_INSTANCE_FAMILIES) and not variant.get("InferenceAmiVersion"):
            yield (
                f"ProductionVariants[{index}]: {instance} without InferenceAmiVersion runs "
                "NVIDIA driver 470 / CUDA 11.4, older than the serving image's CUDA"
            )


SERVICE_RULES: dict[tuple[str, str], Callable[[Mapping[str, Any]], Iterator[str]]] = {
    ("sagemaker", "CreateHyperParameterTuningJob"): _tuning_rules,
    ("sagemaker", "CreateTrainingJob"): _stopping_rules,
    ("sagemaker", "CreateProcessingJob"): _stopping_rules,
    ("sagemaker", "CreateEndpointConfig"): _endpoint_rules,
}


def problems(service: str, operation: str, params: Mapping[str, Any]) -> list[str]:
    """Everything AWS would refuse in `params` for `service`:`operation` (empty when valid)."""
    shape = _service_model(service).operation_model(operation).input_shape
    found: list[str] = []
    report = ParamValidator().validate(dict(params), shape)
    if report.has_errors():
        found.extend(report.generate_report().splitlines())
    found.extend(_trait_problems(params, shape, operation))
    rules = SERVICE_RULES.get((service, operation))
    if rules is not None:
        found.extend(rules(params))
    return found


def check(service: str, operation: str, params: Mapping[str, Any]) -> None:
    """Raise RequestInvalidError listing what AWS would refuse in the request."""
    found = problems(service, operation, params)
    if found:
        raise RequestInvalidError(f"{service}:{operation} would be refused: " + "; ".join(found))


@dataclass
class CheckedRequests:
    """What `install` saw: every checked request and the refusals among them."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, service: str, operation: str, error: RequestInvalidError | None) -> None:
        with self._lock:
            self.calls.append((service, operation))
            if error is not None:
                self.refusals.append(str(error))


def install(seen: CheckedRequests) -> Callable[[], None]:
    """Check every SageMaker, EventBridge and Step Functions call made through boto3 here.

    The wrap is on BaseClient._make_api_call, not on the ParamValidator: moto's Step Functions
    interpreter makes its service calls with `parameter_validation=False` clients.
    """
    from botocore.client import BaseClient

    original = BaseClient._make_api_call  # type: ignore[attr-defined]  # botocore's own call

    def make_api_call(self: Any, operation_name: str, api_params: Any) -> Any:
        service = self.meta.service_model.service_name
        if service in CHECKED_SERVICES:
            try:
                check(service, operation_name, api_params)
            except RequestInvalidError as error:
                seen.record(service, operation_name, error)
                raise
            seen.record(service, operation_name, None)
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = make_api_call  # type: ignore[attr-defined]

    def undo() -> None:
        BaseClient._make_api_call = original  # type: ignore[attr-defined]

    return undo
