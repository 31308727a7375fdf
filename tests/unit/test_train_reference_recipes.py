"""The reference's dla34 experiments as data: a manifest combining the sources each trained on
(tiny fixtures in the real layouts) plus the recipe's hyperparameters, one step each, started
from a checkpoint in CenterNet's COCO layout as the reference's runs are."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fairmot.cli import main
from fairmot.data import read_manifest
from fairmot.train.hparams import TrainConfig
from fairmot.train.loop import train
from fairmot.train.recipes import recipe

FIXTURES = Path(__file__).parents[1] / "fixtures"
JDE = FIXTURES / "JDE"
MIX = [
    "--format",
    "jde",
    "--list",
    str(JDE / "caltech.train"),
    "--list",
    str(JDE / "cuhksysu.train"),
]
# Which sources each experiment's data_cfg combines (src/lib/cfg/*.json in the reference);
# CrowdHuman pretraining gave every box its own identity (gen_labels_crowd_id.py).
SOURCES = {
    "mix_mot17_half_dla34": [[str(FIXTURES / "MOT17")], [str(JDE), *MIX]],
    "crowdhuman_dla34": [
        [str(FIXTURES / "CrowdHuman"), "--format", "crowdhuman", "--ids", "per-box"]
    ],
    "mix_ft_ch_dla34": [[str(FIXTURES / "MOT17")], [str(JDE), *MIX]],
    "mot20_ft_mix_dla34": [[str(FIXTURES / "MOT20")]],
}
# One step at a small input instead of 1088x608 and 30 epochs: what this test changes.
TINY = {
    "input_w": "128",
    "input_h": "64",
    "batch_size": "2",
    "num_iters": "1",
    "num_epochs": "1",
    "num_workers": "0",
    "device": "cpu",
}


@pytest.fixture(scope="module")
def coco_start(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ctdet_coco_dla_2x.pth-shaped file: 80-class heatmap, 2-channel wh, no id head."""
    from fairmot.model import ModelCard, build_model

    state = build_model(ModelCard(arch="dla34", num_classes=80)).state_dict()
    state = {k: v for k, v in state.items() if not k.startswith("id.")}
    state["wh.2.weight"], state["wh.2.bias"] = torch.zeros(2, 256, 1, 1), torch.zeros(2)
    path = tmp_path_factory.mktemp("models") / "ctdet_coco_dla_2x.pth"
    torch.save({"epoch": 230, "state_dict": state}, path)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SOURCES))
def test_reference_recipe_runs_one_step(name: str, coco_start: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    for source in SOURCES[name]:
        assert main(["prepare", *source[:1], str(data), *source[1:], "--link", "copy"]) == 0
    assert read_manifest(data).sequences
    values = {**recipe(name), **TINY, "load_model": str(coco_start)}
    config = TrainConfig.from_strings(values)
    assert config.arch == "dla34" and config.lr == 1e-4
    lines: list[str] = []
    result = train(config, data, tmp_path / "model", log=lines.append)
    assert result.epochs_done == 1 and result.metrics["loss"] > 0
    assert any(line.startswith("loaded ") and "of another shape" in line for line in lines)
    if config.half_val:
        assert "val_idf1" in result.metrics


def test_recipes_carry_the_references_schedules() -> None:
    assert recipe("mot20_ft_mix_dla34") == {"num_epochs": "20", "lr_step": "15"}
    crowd = TrainConfig.from_strings(recipe("crowdhuman_dla34"))
    assert (crowd.num_epochs, crowd.lr_step, crowd.batch_size) == (60, [50], 8)
    assert TrainConfig.from_strings(recipe("mix_mot17_half_dla34")).half_val == 1
