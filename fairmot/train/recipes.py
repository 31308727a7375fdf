"""Named hyperparameter sets, as SageMaker-style strings (applied before user overrides).

`paper`: the reference defaults (DLA-34 at 1088x608 on a GPU). `lite` and `quick` are the CPU
recipes for synthetic data (`fairmot synth`) at 320x192 with the lite arch. They are fixed step
counts, not time budgets, so a result does not depend on how busy the machine is: `lite` is
400 steps of 8 images (about 10 minutes on 2 idle cores at ~1.3 s a step; 3-5x longer on a
shared machine), `quick` 90 steps for the demo. Epochs are shortened with num_iters so the
10x learning-rate drop lands on the last epoch. Augmentation is off: synthetic training and test
scenes come from the same generator, and in so few steps the network never sees an image twice
(many short sequences give the diversity instead).
"""

from __future__ import annotations

_CPU_COMMON = {
    "arch": "lite",
    "input_w": "320",
    "input_h": "192",
    "lr": "1e-3",
    "batch_size": "8",
    "num_workers": "1",
    "augment": "0",
    "conf_thres": "0.4",
}

RECIPES: dict[str, dict[str, str]] = {
    "paper": {},
    # max_minutes is a safety net only (an idle machine finishes the steps first): it keeps
    # the demo's training inside its time limit on a busy machine, at some cost in quality.
    "lite": {
        **_CPU_COMMON,
        "num_iters": "80",
        "num_epochs": "5",
        "lr_step": "5",
        "max_minutes": "12",
    },
    "quick": {
        **_CPU_COMMON,
        "num_iters": "30",
        "num_epochs": "3",
        "lr_step": "3",
        "max_minutes": "4",
    },
}


def recipe(name: str) -> dict[str, str]:
    """The hyperparameter strings of a named recipe."""
    try:
        return dict(RECIPES[name])
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}: choose from {', '.join(RECIPES)}") from None
