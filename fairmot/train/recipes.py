"""Named hyperparameter sets, as SageMaker-style strings (applied before user overrides).

`paper`: the reference defaults (DLA-34 at 1088x608 on a GPU). `lite` and `quick` are the CPU
recipes for synthetic data (`fairmot synth`) at 320x192 with the lite arch; `smoke` is a
handful of steps that only proves the plumbing (local mode's first run, tests). They are step
counts, so a result does not depend on how busy the machine is: `lite` (the demo's) is 2000 steps
of 8 images (~0.2 s a step on this 2-core machine when quiet, so ~7 minutes; a step took up to 9 s
while eight jobs shared the cores), `quick` 450 steps for `fairmot local demo --quick` and tests.
Epochs are shortened with num_iters so that the 10x learning-rate drop (after epoch lr_step)
covers the last epoch.
Augmentation is off: synthetic training and test scenes come from the same generator, and many
short sequences (bench/quality.py: 100 x 25 frames, each image seen about six times) give the
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
    # With augment=1: shrink less (a small model at low resolution loses tiny people) and rotate
    # less than the reference's 0.5-1.2 and 5 degrees.
    "aug_scale_min": "0.75",
    "aug_scale_max": "1.25",
    "aug_degrees": "2",
    "conf_thres": "0.4",
}

RECIPES: dict[str, dict[str, str]] = {
    "paper": {},
    # The reference's experiments/*.sh (DLA-34, 1088x608, lr 1e-4, batch 12 unless given); each
    # needs load_model: the start the reference names (README, Training as the paper trained).
    "mix_mot17_half_dla34": {"half_val": "1"},  # from ctdet_coco_dla_2x.pth, on MIX + MOT17 half
    "crowdhuman_dla34": {"num_epochs": "60", "lr_step": "50", "batch_size": "8"},  # from COCO
    "mix_ft_ch_dla34": {},  # from crowdhuman_dla34's model, on MIX + all of MOT17
    "mot20_ft_mix_dla34": {"num_epochs": "20", "lr_step": "15"},  # from fairmot_dla34.pth
    # The demo's recipe: 2000 steps, ~8 minutes on a quiet 2-core machine. The steps bound it,
    # so its result does not depend on the machine's load; max_minutes is only a far safety net
    # against a wedged machine (it stopped an earlier 12-minute cap's runs mid-schedule).
    "lite": {
        **_CPU_COMMON,
        "num_iters": "250",
        "num_epochs": "8",
        "lr_step": "7",
        "max_minutes": "45",
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
