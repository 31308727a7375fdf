"""Synthetic street scenes written as MOT Challenge sequences with ground truth."""

from fairmot.data.synth.writer import generate_dataset

__all__ = ["generate_dataset"]
