"""The one error type for bad datasets: a ValueError whose message names the file (and line)."""

from __future__ import annotations


class DatasetError(ValueError):
    """A dataset file is missing, malformed or empty; the message says which and where."""
