"""The middleware every step runs under: payloads parsed by their model, one correlation id."""

from __future__ import annotations

import json

import explain_failure
import plan_training
import pytest
import step
from errors import InvalidPayloadError
from functions_support import CONTEXT

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")


def test_a_payload_its_model_refuses_fails_in_one_line_naming_the_field(
    meta: dict[str, str],
) -> None:
    with pytest.raises(
        InvalidPayloadError, match=r"^PlanTrainingPayload: dataset: Field required$"
    ):
        plan_training.handler({"request": {}, "meta": meta}, CONTEXT)
    with pytest.raises(InvalidPayloadError, match=r"^ExplainFailurePayload: meta: Field required$"):
        explain_failure.handler({"workflow": "training"}, CONTEXT)


def test_log_lines_carry_the_payloads_correlation_id(meta: dict[str, str]) -> None:
    meta = {**meta, "correlationId": "step-test-correlation"}
    error = {"Error": "DatasetInvalidError", "Cause": json.dumps({"errorMessage": "no manifest"})}
    out = explain_failure.handler(
        {"workflow": "training", "error": error, "state": {}, "meta": meta}, CONTEXT
    )
    assert (out["error"], out["duplicate"]) == ("DatasetInvalidError", False)
    # The key the formatter writes on every line of every step (they share one logger).
    assert step.logger.get_correlation_id() == "step-test-correlation"
    assert explain_failure.logger is step.logger
