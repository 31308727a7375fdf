"""Local mode's quota and schedule emulation: parsing, refusal past the limit, rates."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from fairmot.local.quota_seam import ProcessingQuota, parse_quotas
from fairmot.local.schedule_seam import rate_seconds, scaled_windows

REPO = Path(__file__).resolve().parents[2]


def test_quotas_parse_and_bad_entries_name_the_variable() -> None:
    assert parse_quotas("ml.g4dn.xlarge=2, ml.g5.xlarge=1,") == {
        "ml.g4dn.xlarge": 2, "ml.g5.xlarge": 1,
    }  # fmt: skip
    assert parse_quotas("") == {}
    for bad in ("g4dn=2", "ml.g5.xlarge=0", "ml.g5.xlarge=two", "ml.g5.xlarge"):
        with pytest.raises(ValueError, match="FAIRMOT_LOCAL_QUOTAS"):
            parse_quotas(bad)


def test_past_the_quota_a_create_is_refused_as_resource_limit_exceeded() -> None:
    from moto.sagemaker.exceptions import SagemakerClientError

    quota = ProcessingQuota({"ml.g4dn.xlarge": 2})
    backend = SimpleNamespace(processing_jobs={})
    for name in ("a", "b"):
        quota.admit(backend, name, "ml.g4dn.xlarge")
        backend.processing_jobs[name] = SimpleNamespace(processing_job_status="InProgress")
    quota.admit(backend, "other", "ml.g5.xlarge")  # another type has no limit here
    with pytest.raises(SagemakerClientError, match="service limit") as refused:
        quota.admit(backend, "c", "ml.g4dn.xlarge")
    assert refused.value.code == "ResourceLimitExceeded"
    backend.processing_jobs["a"].processing_job_status = "Completed"  # a slot frees
    quota.admit(backend, "c", "ml.g4dn.xlarge")
    assert quota.peak["ml.g4dn.xlarge"] == 2


def test_schedule_rates_and_windows_scale_like_wait_states() -> None:
    assert rate_seconds("rate(1 minute)") == 60
    assert rate_seconds("rate(5 minutes)") == 300
    assert rate_seconds("rate(2 hours)") == 7200
    assert rate_seconds("cron(0 * * * ? *)") is None
    scaled = scaled_windows(REPO / "template.yaml", {}, 0.01)
    assert scaled["BatchWindowSeconds"] == "1"  # 60 s x 0.01, at least 1 s
    assert scaled_windows(REPO / "template.yaml", {"BatchWindowSeconds": "7"}, 0.01) == {
        "BatchWindowSeconds": "7"
    }


def test_local_endpoint_polls_cover_a_real_server_start_at_any_wait_scale() -> None:
    # Polls come 1/scale times faster locally, but a local endpoint starts in real seconds: 120
    # polls of 0.3 s (36 s) ran out while a loaded machine still started the update's server.
    from fairmot.local.stack import LOCAL_ENDPOINT_BUDGET_S, local_parameters

    template = REPO / "template.yaml"
    for scale in (0.01, 0.1, 1.0):
        polls = int(local_parameters(template, {}, scale)["EndpointMaxPolls"])
        assert polls * 30 * scale >= LOCAL_ENDPOINT_BUDGET_S and polls >= 120
    assert local_parameters(template, {"EndpointMaxPolls": "5"}, 0.01)["EndpointMaxPolls"] == "5"
