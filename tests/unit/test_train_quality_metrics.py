"""The val_* metrics a half_val job reports: numbers only, so the model card stays servable."""

from __future__ import annotations

import math

from fairmot.model import ModelCard
from fairmot.train.validate import QualityReport


def test_a_metric_without_samples_is_left_out_not_nan() -> None:
    report = QualityReport(
        precision=0.9, recall=0.8, reid_top1=math.nan, reid_queries=0, mota=0.7, idf1=0.6,
        hota=0.5, frames=5,
    )  # fmt: skip
    metrics = report.as_metrics()
    assert "val_reid_top1" not in metrics
    assert metrics["val_idf1"] == 0.6
    # What serving reads back: a card holding these metrics validates.
    card = ModelCard(arch="lite", input_w=160, input_h=96, nID=4, metrics=metrics)
    assert ModelCard.model_validate_json(card.model_dump_json()).metrics == metrics
