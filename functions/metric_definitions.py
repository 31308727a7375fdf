"""SageMaker MetricDefinitions for the training job's `name=value` log lines.

Lambdas cannot import fairmot, so this mirrors fairmot.train.metrics.METRIC_DEFINITIONS; a test
checks that both lists are equal.
"""

from __future__ import annotations

import re

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


METRIC_DEFINITIONS: list[dict[str, str]] = [
    {"Name": name, "Regex": metric_regex(name)} for name in METRIC_NAMES
]
