"""Named hyperparameter sets, as SageMaker-style strings (applied before user overrides).

`paper`: the reference defaults (GPU). `lite`: the CPU recipe, about 10 minutes on 2 cores, on
synthetic data at 320x192. `quick`: a ~2-minute version for the demo.
"""

from __future__ import annotations

RECIPES: dict[str, dict[str, str]] = {
    "paper": {},
    "lite": {
        "arch": "lite",
        "input_w": "320",
        "input_h": "192",
        "lr": "1e-3",
        "lr_step": "2",
        "num_epochs": "3",
        "batch_size": "8",
        "num_workers": "1",
        "conf_thres": "0.4",
        "max_minutes": "10",
    },
    "quick": {
        "arch": "lite",
        "input_w": "320",
        "input_h": "192",
        "lr": "1e-3",
        "lr_step": "4",
        "num_epochs": "5",
        "batch_size": "8",
        "num_workers": "1",
        "conf_thres": "0.4",
        "max_minutes": "2",
    },
}


def recipe(name: str) -> dict[str, str]:
    """The hyperparameter strings of a named recipe."""
    try:
        return dict(RECIPES[name])
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}: choose from {', '.join(RECIPES)}") from None
