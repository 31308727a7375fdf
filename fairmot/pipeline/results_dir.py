"""Where a run's results go: never silently over an earlier run's (as Ultralytics numbers
`runs/track/exp`, `exp2`, ...)."""

from __future__ import annotations

from pathlib import Path

from fairmot.video.outputs import OUTPUT_NAMES


class ResultsDirError(ValueError):
    """The output path cannot hold results (it is a file)."""


def results_dir(path: str | Path, *, exist_ok: bool = False) -> Path:
    """`path` when it is new, empty, or `exist_ok`; otherwise the first free `path2`, `path3`...

    A folder counts as taken only when it holds another run's results, so a folder made ahead
    of time is used as it is.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ResultsDirError(f"--out {path} is a file, not a folder: choose another path")
    if exist_ok or not _taken(path):
        return path
    number = 2
    while _taken(candidate := path.with_name(f"{path.name}{number}")):
        number += 1
    return candidate


def _taken(path: Path) -> bool:
    if not path.exists():
        return False
    if not path.is_dir():
        return True  # a file that happens to have a numbered name: skip it
    return any((path / name).exists() for name in OUTPUT_NAMES)
