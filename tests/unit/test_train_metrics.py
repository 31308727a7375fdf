"""Metric lines and the anchored regexes SageMaker, tuning and local mode read them with."""

from __future__ import annotations

import re

from fairmot.train.metrics import METRIC_DEFINITIONS, format_metrics, metric_regex, parse_metrics


def test_loss_regex_does_not_match_inside_other_losses() -> None:
    line = "epoch=3 hm_loss=0.93 val_loss=1.4 loss=1.21"
    assert re.findall(metric_regex("loss"), line) == ["1.21"]
    assert re.findall(metric_regex("loss"), "hm_loss=0.93 val_loss=1.4") == []


def test_regex_matches_at_line_start_and_reads_exponents_and_signs() -> None:
    assert re.findall(metric_regex("lr"), "lr=1e-05 x") == ["1e-05"]
    assert re.findall(metric_regex("val_mota"), "a val_mota=-0.25") == ["-0.25"]
    assert re.findall(metric_regex("loss"), "loss=2.5E+03") == ["2.5E+03"]


def test_format_then_parse_round_trips() -> None:
    line = format_metrics(epoch=3, loss=1.2134, hm_loss=0.93, lr=1e-5, val_idf1=0.74)
    assert line.startswith("epoch=3 lr=1e-05 loss=1.2134 hm_loss=0.93")
    parsed = parse_metrics(f"noise\n{line}\nval_idf1=0.8\n")
    assert parsed["loss"] == [1.2134]
    assert parsed["val_idf1"] == [0.74, 0.8]
    assert parsed["lr"] == [1e-5]


def test_non_finite_values_are_not_read_as_numbers() -> None:
    assert "loss" not in parse_metrics(format_metrics(loss=float("nan")))


def test_definitions_have_sagemaker_shape_and_cover_the_design_metrics() -> None:
    names = {d["Name"] for d in METRIC_DEFINITIONS}
    assert {"loss", "hm_loss", "wh_loss", "off_loss", "id_loss", "val_loss"} <= names
    assert {"val_mota", "val_idf1"} <= names
    assert len(METRIC_DEFINITIONS) <= 40  # SageMaker's limit per training job
    for definition in METRIC_DEFINITIONS:
        assert set(definition) == {"Name", "Regex"}
        assert re.compile(definition["Regex"]).groups == 1
