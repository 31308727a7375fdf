"""Metric lines: the names the training job prints as `name=value` and the regex that reads each.

The same regexes serve SageMaker MetricDefinitions, hyperparameter tuning objectives and local
mode, so a metric is printed once and read the same everywhere.
"""

from __future__ import annotations

import re

# Every metric the training job prints. Order is the order on a line.
METRIC_NAMES = (
    "epoch",
    "step",
    "lr",
    "loss",
    "hm_loss",
    "wh_loss",
    "off_loss",
    "id_loss",
    "val_loss",
    "val_mota",
    "val_idf1",
    "val_hota",
    "val_precision",
    "val_recall",
    "val_reid_top1",
)

# Anchored at line start or whitespace so `loss=` never matches inside `hm_loss=`/`val_loss=`.
VALUE_PATTERN = r"(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)"


def metric_regex(name: str) -> str:
    """The regex (one capture group: the value) that reads metric `name` from a log line."""
    return rf"(?:^|\s){re.escape(name)}={VALUE_PATTERN}"


# SageMaker's MetricDefinitions shape ({"Name", "Regex"}); at most 40 per job (AWS limit).
METRIC_DEFINITIONS: list[dict[str, str]] = [
    {"Name": name, "Regex": metric_regex(name)} for name in METRIC_NAMES
]
