"""Metric lines: `name=value` tokens that one anchored regex per metric reads back.

The names and regexes live in fairmot_contracts.metrics (the stack's Lambdas build SageMaker
MetricDefinitions from the same module); this module writes and reads the lines.
"""

from __future__ import annotations

import re

from fairmot_contracts.metrics import METRIC_DEFINITIONS, METRIC_NAMES, metric_regex

__all__ = ["METRIC_DEFINITIONS", "METRIC_NAMES", "format_metrics", "metric_regex", "parse_metrics"]


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
