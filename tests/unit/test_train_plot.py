"""The loss curve: per step, smoothed without a start-up bias, written as a real PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fairmot.train.plot import plot_loss_curves, smooth


def test_smoothing_follows_a_constant_from_the_first_step_and_damps_noise() -> None:
    np.testing.assert_allclose(smooth([2.0] * 5), [2.0] * 5)
    noisy = 1 + np.random.default_rng(0).normal(0, 0.5, 400)
    assert smooth(noisy)[50:].std() < noisy[50:].std() / 3


def test_the_curve_is_a_png_of_every_step(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    steps = [{"step": float(i), "loss": 3.0 / i, "hm_loss": 1.0 / i} for i in range(1, 200)]
    path = plot_loss_curves(steps, tmp_path / "loss_curve.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
