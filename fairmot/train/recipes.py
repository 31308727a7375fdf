"""Named hyperparameter sets, as SageMaker-style strings (applied before user overrides).

`paper`: the reference defaults (DLA-34 at 1088x608 on a GPU). `lite` and `quick` are the CPU
recipes for synthetic data (`fairmot synth`) at 320x192 with the lite arch; `smoke` is a
handful of steps that only proves the plumbing (local mode's first run, tests). They are step counts,
so a result does not depend on how busy the machine is: `lite` is 1500 steps of 8 images (4.7
minutes measured on this 2-core machine when lightly loaded, ~0.19 s a step; a step took up to
9 s while eight jobs shared the cores), `quick` 450 steps for the demo. Epochs are shortened with
num_iters so that the 10x learning-rate drop (after epoch lr_step) covers the last epoch.
Augmentation is off: synthetic training and test scenes come from the same generator, and many
short sequences (bench/quality.py: 100 x 25 frames, each image seen about five times) give the
diversity instead. bench/quality.py measures what `lite` reaches on held-out sequences.
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
    # max_minutes is a safety net only (a lightly loaded machine finishes the steps first): it
    # keeps the demo's training inside its time limit on a busy machine, at some cost in quality.
    "lite": {
        **_CPU_COMMON,
        "num_iters": "250",
        "num_epochs": "6",
        "lr_step": "5",
        "max_minutes": "12",
    },
    "quick": {
        **_CPU_COMMON,
        "num_iters": "150",
        "num_epochs": "3",
        "lr_step": "2",
        "max_minutes": "4",
    },
    # Not a model worth tracking with: a few seconds of training that exercises every stage.
    "smoke": {
        **_CPU_COMMON,
        "input_w": "160",
        "input_h": "96",
        "batch_size": "4",
        "num_workers": "0",
        "num_iters": "2",
        "num_epochs": "1",
        "lr_step": "1",
    },
}


def recipe(name: str) -> dict[str, str]:
    """The hyperparameter strings of a named recipe."""
    try:
        return dict(RECIPES[name])
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}: choose from {', '.join(RECIPES)}") from None
