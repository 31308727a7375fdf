"""MOT Challenge evaluation: result/ground-truth files, CLEAR MOT, identity metrics and HOTA."""

from fairmot.evaluation.classes import evaluate_classes
from fairmot.evaluation.metrics import evaluate, evaluate_sequence
from fairmot.evaluation.mot_files import (
    load_gt,
    load_results,
    read_mot_gt,
    read_mot_results,
    write_mot_results,
)
from fairmot.evaluation.report import EvalReport

__all__ = [
    "EvalReport",
    "evaluate",
    "evaluate_classes",
    "evaluate_sequence",
    "load_gt",
    "load_results",
    "read_mot_gt",
    "read_mot_results",
    "write_mot_results",
]
