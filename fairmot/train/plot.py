"""The loss-curve figure written next to the model (a curve says more than a table)."""

from __future__ import annotations

from pathlib import Path


def plot_loss_curves(history: list[dict[str, float]], path: Path) -> Path:
    """One line per loss component against the epoch, log scale; PNG via the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [row["epoch"] for row in history]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for name in ("loss", "hm_loss", "wh_loss", "off_loss", "id_loss"):
        values = [row[name] for row in history if name in row]
        if len(values) == len(epochs):
            ax.plot(epochs, values, marker="o" if len(epochs) < 20 else None, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_yscale("symlog", linthresh=0.1)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
