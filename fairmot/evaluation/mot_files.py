"""MOT Challenge text files: tracking results and ground truth, single files or directories."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

RESULT_COLUMNS = 7  # frame, id, x, y, w, h, score
CLASS_COLUMN = 7  # results' 8th column: the class id (-1 where a file has one class only)
NO_CLASS = -1
GT_COLUMNS = 9  # frame, id, x, y, w, h, mark, class, visibility


def _load_rows(path: Path) -> np.ndarray:
    text = Path(path).read_text()
    rows = [line.replace(",", " ").split() for line in text.splitlines() if line.strip()]
    if not rows:
        return np.zeros((0, 0))
    width = min(len(r) for r in rows)
    try:
        return np.array([[float(v) for v in r[:width]] for r in rows], dtype=np.float64)
    except ValueError as error:
        raise ValueError(f"{path}: not a MOT Challenge text file ({error})") from error


def read_mot_results(path: str | os.PathLike[str], *, classes: bool = False) -> np.ndarray:
    """Results file -> (N,7) float64 rows frame, id, x, y, w, h, score (score 1 if absent);
    with `classes`, (N,8) with each row's class id last (0 where the column is -1 or absent)."""
    rows = _load_rows(Path(path))
    columns = RESULT_COLUMNS + 1 if classes else RESULT_COLUMNS
    if rows.size == 0:
        return np.zeros((0, columns))
    if rows.shape[1] < 6:
        raise ValueError(f"{path}: need at least 6 columns (frame,id,x,y,w,h), got {rows.shape[1]}")
    if rows.shape[1] == 6:
        rows = np.concatenate([rows, np.ones((len(rows), 1))], axis=1)
    if not classes:
        return rows[:, :RESULT_COLUMNS]
    if rows.shape[1] == RESULT_COLUMNS:
        rows = np.concatenate([rows, np.full((len(rows), 1), NO_CLASS)], axis=1)
    out = rows[:, :columns].copy()
    out[out[:, CLASS_COLUMN] == NO_CLASS, CLASS_COLUMN] = 0
    return out


def write_mot_results(path: str | os.PathLike[str], rows: np.ndarray) -> None:
    """Write frame, id, x, y, w, h, score[, class id] rows as MOT Challenge
    `frame,id,x,y,w,h,score,class,-1,-1`. The class column holds each track's class id when any
    row's is not 0, else -1: a one-class file reads as it always has (motmetrics, MOT tools)."""
    rows = np.asarray(rows, dtype=np.float64)
    rows = rows.reshape(-1, rows.shape[-1] if rows.size else RESULT_COLUMNS)
    classes = rows[:, CLASS_COLUMN] if rows.shape[1] > RESULT_COLUMNS else np.zeros(len(rows))
    if not np.any(classes != 0):
        classes = np.full(len(rows), NO_CLASS)
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    lines = [
        f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},{r[6]:.4g},"
        f"{int(c)},-1,-1\n"
        for r, c in zip(rows[order], classes[order], strict=True)
    ]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text("".join(lines))
    tmp.replace(target)


def read_mot_gt(path: str | os.PathLike[str]) -> np.ndarray:
    """Ground-truth file -> (N,9) rows frame, id, x, y, w, h, mark, class, visibility.

    MOT15-style files (10 columns with world coordinates, or no classes) are all class 1
    (pedestrian) with visibility 1.
    """
    rows = _load_rows(Path(path))
    if rows.size == 0:
        return np.zeros((0, GT_COLUMNS))
    if rows.shape[1] < 6:
        raise ValueError(f"{path}: need at least 6 columns (frame,id,x,y,w,h), got {rows.shape[1]}")
    out = np.ones((len(rows), GT_COLUMNS))
    width = min(rows.shape[1], GT_COLUMNS)
    out[:, :width] = rows[:, :width]
    classes = out[:, 7]
    # MOT16/17 gt has 9 columns with integer classes >= 1; MOT15 has 10 (world x, y, z or -1).
    has_classes = 8 <= rows.shape[1] <= GT_COLUMNS and np.all(
        (classes >= 1) & (classes == np.round(classes))
    )
    if not has_classes:
        out[:, 7] = 1.0
        out[:, 8] = 1.0
    return out


def _gt_file(seq_dir: Path) -> Path | None:
    for candidate in (seq_dir / "gt" / "gt.txt", seq_dir / "gt.txt"):
        if candidate.is_file():
            return candidate
    return None


def load_gt(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Ground truth by sequence name from a gt.txt, a sequence dir, or a dataset dir of sequences."""
    root = Path(path)
    if root.is_file():
        name = root.parent.parent.name if root.parent.name == "gt" else root.parent.name
        return {name: read_mot_gt(root)}
    if not root.is_dir():
        raise FileNotFoundError(f"ground truth not found: {root}")
    own = _gt_file(root)
    if own is not None:
        return {root.name: read_mot_gt(own)}
    found = {}
    for child in sorted(p for p in root.iterdir() if p.is_dir()):
        gt_file = _gt_file(child)
        if gt_file is not None:
            found[child.name] = read_mot_gt(gt_file)
    if not found:
        raise FileNotFoundError(
            f"no ground truth under {root}: expected gt.txt, <seq>/gt/gt.txt or <seq>/gt.txt"
        )
    return found


def load_results(
    path: str | os.PathLike[str], names: list[str], *, classes: bool = False
) -> dict[str, np.ndarray]:
    """Results by sequence name from a file (one sequence) or a directory of <seq>.txt (rows
    as read_mot_results gives them, with `classes` their class ids).

    A single file is matched to the only sequence in `names`, or to the one named like the file.
    """
    root = Path(path)
    if root.is_file():
        if len(names) == 1:
            return {names[0]: read_mot_results(root, classes=classes)}
        if root.stem in names:
            return {root.stem: read_mot_results(root, classes=classes)}
        raise ValueError(
            f"{root} is one results file but the ground truth has {len(names)} sequences; "
            "pass a directory of <sequence>.txt files"
        )
    if not root.is_dir():
        raise FileNotFoundError(f"results not found: {root}")
    return {p.stem: read_mot_results(p, classes=classes) for p in sorted(root.glob("*.txt"))}
