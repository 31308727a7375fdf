"""Batch step: after a refused CreateProcessingJob, wait for a free slot or give up.

SageMaker answers ResourceLimitExceeded past the account's concurrent-job quota and throttles
bursts of API calls; both clear when a slot frees. The state machine catches every SageMaker API
error here: a quota or throttling refusal waits (exponential backoff with full jitter, so
batches refused together do not retry together) for as long as QUOTA_WAIT_SECONDS allows in
total; any other error, or the budget spent, goes on to the failure path, where an exhausted
budget sends the batch's events to the dead-letter queue for `fairmot replay`.
"""

from __future__ import annotations

import random
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from payloads import QuotaBackoffPayload
from settings import env_int
from step import logger, metrics, pipeline_step

# What a refusal that a free slot would cure looks like: the Catch's Error (the integration's
# names) or the API error code inside its Cause ("... Error Code: ResourceLimitExceeded; ...").
RETRYABLE_ERRORS = {
    "SageMaker.ResourceLimitExceededException", "SageMaker.ThrottlingException",
    "ThrottlingException",
}  # fmt: skip
RETRYABLE_CODES = ("Error Code: ResourceLimitExceeded", "Error Code: ThrottlingException")
BASE_SECONDS = 30  # first wait up to 30 s: a processing job takes minutes to free its slot
CAP_SECONDS = 900  # never more than 15 min between tries
DEFAULT_BUDGET_SECONDS = 6 * 3600


def retryable(error: dict[str, Any]) -> bool:
    cause = str(error.get("Cause", ""))
    return str(error.get("Error")) in RETRYABLE_ERRORS or any(c in cause for c in RETRYABLE_CODES)


def next_wait(
    backoff: dict[str, Any], error: dict[str, Any], budget: int, rng: random.Random
) -> dict[str, Any]:
    """{retry, quota, seconds, attempt, waitedSeconds[, error, reason]} for the next step."""
    attempt, waited = int(backoff.get("attempt", 0)), int(backoff.get("waitedSeconds", 0))
    state = {"attempt": attempt, "waitedSeconds": waited, "seconds": 0}
    if not retryable(error):
        return {**state, "retry": False, "quota": False}
    seconds = max(1, round(rng.uniform(0, min(CAP_SECONDS, BASE_SECONDS * 2**attempt))))
    if waited + seconds > budget:
        reason = (
            f"no processing slot after {waited} s of retries (QuotaWaitSeconds {budget}): the "
            "batch's events are in the batch dead-letter queue; `fairmot replay` re-admits them"
        )
        return {**state, "retry": False, "quota": True, "error": "QuotaWaitExhausted",
                "reason": reason}  # fmt: skip
    return {"retry": True, "quota": True, "seconds": seconds, "attempt": attempt + 1,
            "waitedSeconds": waited + seconds}  # fmt: skip


@pipeline_step(payload=QuotaBackoffPayload)
def handler(event: QuotaBackoffPayload, context: LambdaContext) -> dict[str, Any]:
    """-> the next backoff state (see next_wait)."""
    budget = env_int("QUOTA_WAIT_SECONDS", DEFAULT_BUDGET_SECONDS)
    error = event.error or {}
    result = next_wait(event.backoff or {}, error, budget, random.Random())
    if result["quota"]:
        metrics.add_metric(name="QuotaRefusals", unit=MetricUnit.Count, value=1)
    logger.info("create refused", extra={"error": error.get("Error"), **result})
    return result
