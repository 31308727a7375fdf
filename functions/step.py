"""The middleware every pipeline step runs under, in the Powertools style.

Each handler is `@pipeline_step(payload=<its model>)` over `handler(event: <model>, context)`:
the middleware parses the state machine's payload once, at the edge, binds the payload's
correlation id to logs and X-Ray, traces the call and flushes the step's metrics. The handler
body starts with a typed payload and does nothing else by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.middleware_factory import lambda_handler_decorator
from aws_lambda_powertools.utilities.typing import LambdaContext
from correlation import bind_correlation_id
from errors import InvalidPayloadError
from payloads import StepPayload
from pydantic import ValidationError

# Created once for all steps (the handler modules import them): Powertools shares one logger per
# service and one metric set anyway, so a step's own Logger() or Metrics() would join these.
logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="FairMOT")


@lambda_handler_decorator
def pipeline_step(
    handler: Callable[[Any, LambdaContext], dict[str, Any]],
    event: dict[str, Any],
    context: LambdaContext,
    payload: type[StepPayload],
) -> dict[str, Any]:
    """Parse `event` as `payload`, bind its correlation id, trace the call, flush metrics."""

    def step(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            parsed = payload.model_validate(event)
        except ValidationError as error:
            # The state machine and the handler disagree on the payload: name what is wrong.
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in error.errors()
            )
            raise InvalidPayloadError(f"{payload.__name__}: {problems}") from error
        bind_correlation_id(logger, tracer, parsed.meta.correlationId)
        return handler(parsed, context)

    step.__name__ = handler.__name__  # the trace's subsegment is named after the handler
    traced: Callable[[dict[str, Any], LambdaContext], dict[str, Any]] = metrics.log_metrics(
        tracer.capture_lambda_handler(step)
    )
    return traced(event, context)
