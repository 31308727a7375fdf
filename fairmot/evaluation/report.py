"""The evaluation report: per-sequence and overall metrics, as a table or JSON."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Columns of the printed table: (key, header, is a percentage).
TABLE_COLUMNS = (
    ("mota", "MOTA", True),
    ("idf1", "IDF1", True),
    ("hota", "HOTA", True),
    ("idp", "IDP", True),
    ("idr", "IDR", True),
    ("mt", "MT", False),
    ("ml", "ML", False),
    ("fp", "FP", False),
    ("fn", "FN", False),
    ("ids", "IDs", False),
    ("fm", "FM", False),
    ("motp", "MOTP", True),
)


@dataclass
class EvalReport:
    """Metrics as fractions (mota 0.526 = 52.6%) and counts, by sequence and overall."""

    sequences: dict[str, dict[str, float]]
    overall: dict[str, float]
    # Multi-class results: each class's metrics over all sequences (fairmot.evaluation.classes).
    classes: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def clean(metrics: dict[str, float]) -> dict[str, float | None]:
            return {k: (None if math.isnan(v) else v) for k, v in metrics.items()}

        out: dict[str, Any] = {
            "sequences": {name: clean(m) for name, m in self.sequences.items()},
            "overall": clean(self.overall),
        }
        if self.classes:
            out["classes"] = {name: clean(m) for name, m in self.classes.items()}
        return out

    def save_json(self, path: str | os.PathLike[str]) -> None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    def table(self) -> str:
        """A fixed-width text table, one row per sequence, per class (if several) and OVERALL."""
        rows = [*self.sequences.items(), *self.classes.items(), ("OVERALL", self.overall)]
        width = max(len(name) for name, _ in rows)
        header = f"{'':<{width}}" + "".join(f"{h:>8}" for _, h, _ in TABLE_COLUMNS)
        lines = [header]
        for name, metrics in rows:
            cells = []
            for key, _, percent in TABLE_COLUMNS:
                value = metrics.get(key, float("nan"))
                if math.isnan(value):
                    cells.append(f"{'-':>8}")
                elif percent:
                    cells.append(f"{100 * value:>7.1f}%")
                else:
                    cells.append(f"{int(value):>8d}")
            lines.append(f"{name:<{width}}" + "".join(cells))
        return "\n".join(lines)
