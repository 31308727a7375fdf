"""The demo's stage bookkeeping: a failure names its stage and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from fairmot.demo import DemoConfig, StageFailed, _finite, stage


def test_a_failing_stage_is_named_with_its_reason(tmp_path: Path) -> None:
    config = DemoConfig(out=tmp_path)
    with pytest.raises(StageFailed) as failure, stage(config, 3, "Training workflow"):
        raise FileNotFoundError("no manifest")
    assert failure.value.stage == "Training workflow"
    assert "FileNotFoundError: no manifest" in str(failure.value)
    assert "Training workflow" in config.timings


def test_metrics_without_detections_stay_valid_json() -> None:
    assert _finite({"a": [float("nan"), 1.0], "b": float("inf")}) == {"a": [None, 1.0], "b": None}
