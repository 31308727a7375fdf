"""Metric lines: `name=value` tokens that one anchored regex per metric reads back.

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


def _format_value(value: float | int) -> str:
    if isinstance(value, bool | int):
        return str(int(value))
    # nan/inf do not match the regex on purpose: a non-number must never reach a tuner.
    return f"{value:.6g}"


def format_metrics(**values: float | int) -> str:
    """`epoch=3 loss=1.21 hm_loss=0.93 ...`: known names first in their order, then the rest."""
    order = {name: i for i, name in enumerate(METRIC_NAMES)}
    names = sorted(values, key=lambda n: (order.get(n, len(order)), n))
    return " ".join(f"{name}={_format_value(values[name])}" for name in names)


def parse_metrics(text: str) -> dict[str, list[float]]:
    """Every value of every known metric in text, in order of appearance."""
    found: dict[str, list[float]] = {}
    for name in METRIC_NAMES:
        values = [float(m) for m in re.findall(metric_regex(name), text, flags=re.MULTILINE)]
        if values:
            found[name] = values
    return found
