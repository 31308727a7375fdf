"""The loss-curve figure written next to the model (a curve says more than a table)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

LOSS_COMPONENTS = ("loss", "hm_loss", "wh_loss", "off_loss", "id_loss")
# Exponential smoothing of per-step losses, as TensorBoard's slider: 0.9 averages over about ten
# steps of a noisy mini-batch curve without hiding a trend across an epoch.
SMOOTHING = 0.9


def smooth(values: Sequence[float], weight: float = SMOOTHING) -> np.ndarray:
    """Bias-corrected exponential moving average (the first points are not pulled to zero)."""
    out = np.empty(len(values))
    average = 0.0
    for i, value in enumerate(values):
        average = weight * average + (1 - weight) * value
        out[i] = average / (1 - weight ** (i + 1))
    return out


def plot_loss_curves(steps: list[dict[str, float]], path: Path) -> Path:
    """One line per loss component against the training step: each step faint, smoothed bold;
    log scale; PNG via the Agg backend. `steps` rows: {"step": n, "loss": ..., ...}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [row["step"] for row in steps]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for name in LOSS_COMPONENTS:
        values = [row[name] for row in steps if name in row]
        if len(values) != len(x):
            continue
        (line,) = ax.plot(x, smooth(values), label=name, linewidth=1.6)
        ax.plot(x, values, color=line.get_color(), alpha=0.25, linewidth=0.8)
    ax.set_xlabel("training step")
    ax.set_ylabel(f"training loss (bold: smoothed {SMOOTHING:g})")
    ax.set_yscale("symlog", linthresh=0.1)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
