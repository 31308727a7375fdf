"""Loading reference-layout checkpoints: module. prefixes, task changes, other archs."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch

from fairmot.model import CheckpointError, ModelCard, build_model, load_reference_checkpoint
from fairmot.model.checkpoint import CheckpointReport


def save_reference_layout(state: dict[str, torch.Tensor], path: Path, epoch: int = 30) -> Path:
    """The layout of the public FairMOT / CenterNet model zoo: DataParallel keys and an epoch."""
    torch.save({"epoch": epoch, "state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    return path


def perturbed_state(arch: str, **card: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    state = build_model(ModelCard(arch=arch, **card)).state_dict()
    return {k: v + 1 if v.is_floating_point() else v for k, v in state.items()}


def test_reference_layout_checkpoint_loads_every_tensor(tmp_path: Path) -> None:
    state = perturbed_state("dla34")
    path = save_reference_layout(state, tmp_path / "fairmot_dla34.pth")
    model = build_model(ModelCard(arch="dla34"))
    report = load_reference_checkpoint(model, path)
    assert report.clean and report.epoch == 30 and report.loaded == len(state)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_centernet_checkpoint_skips_other_task_heads_and_says_so(tmp_path: Path) -> None:
    # ctdet_coco_dla_2x.pth: same DLA-34 + neck, 80-class heatmap, 2-channel wh, no id head.
    state = perturbed_state("dla34", num_classes=80)
    state = {k: v for k, v in state.items() if not k.startswith("id.")}
    state["wh.2.weight"] = torch.zeros(2, 256, 1, 1)
    state["wh.2.bias"] = torch.zeros(2)
    path = save_reference_layout(state, tmp_path / "ctdet_coco_dla_2x.pth", epoch=230)
    model = build_model(ModelCard(arch="dla34"))
    report = load_reference_checkpoint(model, path)
    assert sorted(report.missing) == ["id.0.bias", "id.0.weight", "id.2.bias", "id.2.weight"]
    assert {key for key, _, _ in report.mismatched} == {
        "hm.2.weight",
        "hm.2.bias",
        "wh.2.weight",
        "wh.2.bias",
    }
    assert torch.equal(
        model.state_dict()["base.level5.root.conv.weight"], state["base.level5.root.conv.weight"]
    )
    lines = report.lines()
    assert (
        "shape mismatch (skipped): hm.2.weight checkpoint [80, 256, 1, 1] model [1, 256, 1, 1]"
        in lines
    )
    assert "missing in checkpoint: id.2.weight" in lines
    assert all("\n" not in line for line in lines)


def test_checkpoints_without_batchnorm_counters_are_not_reported_missing(tmp_path: Path) -> None:
    state = {k: v for k, v in perturbed_state("lite").items() if "num_batches_tracked" not in k}
    report = load_reference_checkpoint(
        build_model(ModelCard(arch="lite")), save_reference_layout(state, tmp_path / "old.pth")
    )
    assert report.clean


def test_checkpoint_of_another_arch_is_refused_in_one_line(tmp_path: Path) -> None:
    path = save_reference_layout(perturbed_state("lite"), tmp_path / "lite.pth")
    with pytest.raises(CheckpointError) as error:
        load_reference_checkpoint(build_model(ModelCard(arch="dla34")), path, arch="dla34")
    message = str(error.value)
    assert "\n" not in message
    assert str(path) in message and "does not fit arch dla34" in message


def test_unreadable_and_missing_files_name_the_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    model = build_model(ModelCard(arch="lite"))
    with pytest.raises(CheckpointError, match=r"junk.pth is not a readable PyTorch file") as info:
        load_reference_checkpoint(model, junk)
    assert "\n" not in str(info.value) and "weights_only" not in str(info.value)
    torch.save({"state_dict": {}, "options": argparse.Namespace(arch="dla34")}, tmp_path / "o.pth")
    with pytest.raises(CheckpointError, match=r"o.pth is not a readable .* other than tensors"):
        load_reference_checkpoint(model, tmp_path / "o.pth")
    truncated = tmp_path / "cut.pth"
    torch.save(model.state_dict(), truncated)
    truncated.write_bytes(truncated.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match=r"cut.pth is not a readable PyTorch file") as info:
        load_reference_checkpoint(model, truncated)
    assert "\n" not in str(info.value)
    with pytest.raises(CheckpointError, match=r"nothing.pth does not exist"):
        load_reference_checkpoint(model, tmp_path / "nothing.pth")
    torch.save({"epoch": 1, "state_dict": [1, 2]}, tmp_path / "odd.pth")
    with pytest.raises(CheckpointError, match="holds no state_dict"):
        load_reference_checkpoint(model, tmp_path / "odd.pth")


def test_report_lines_cover_every_problem() -> None:
    report = CheckpointReport(missing=["a"], unexpected=["b"], mismatched=[("c", (1,), (2,))])
    assert report.lines() == [
        "missing in checkpoint: a",
        "unexpected in checkpoint (ignored): b",
        "shape mismatch (skipped): c checkpoint [1] model [2]",
    ]
    assert not report.clean


def test_our_artifacts_load_as_pretrained_weights(tmp_path: Path) -> None:
    from fairmot.model import save_artifact

    state = perturbed_state("lite")
    source = build_model(ModelCard(arch="lite"))
    source.load_state_dict(state)
    tarball = save_artifact(source, ModelCard(arch="lite"), tmp_path / "art", tarball=True)
    for path in (tarball, tmp_path / "art", tmp_path / "art" / "model.pt"):
        model = build_model(ModelCard(arch="lite"))
        assert load_reference_checkpoint(model, path).clean
        assert torch.equal(model.state_dict()["stem.0.weight"], state["stem.0.weight"])


@pytest.mark.parametrize(("saved", "loaded"), [("dla34", "dla34_plain"), ("dla34_plain", "dla34")])
def test_deformable_and_plain_checkpoints_are_not_mixed(
    tmp_path: Path, saved: str, loaded: str
) -> None:
    path = save_reference_layout(perturbed_state(saved), tmp_path / f"{saved}.pth")
    with pytest.raises(CheckpointError, match=f"use arch {saved} for it"):
        load_reference_checkpoint(build_model(ModelCard(arch=loaded)), path, arch=loaded)


def test_imagenet_dla34_classifier_loads_into_the_backbone_only(tmp_path: Path) -> None:
    # dla34-ba72cf86.pth: a bare state_dict of the DLA classifier, keys without `base.`.
    state = perturbed_state("dla34")
    backbone = {k.removeprefix("base."): v for k, v in state.items() if k.startswith("base.")}
    assert "fc.weight" in backbone and "base_layer.0.weight" in backbone
    path = tmp_path / "dla34-ba72cf86.pth"
    torch.save(backbone, path)
    model = build_model(ModelCard(arch="dla34"))
    fresh_neck = model.state_dict()["ida_up.node_1.conv.weight"].clone()
    report = load_reference_checkpoint(model, path)
    assert report.loaded == len(backbone) and not report.mismatched and not report.unexpected
    loaded = model.state_dict()
    for key, value in backbone.items():
        assert torch.equal(loaded[f"base.{key}"], value), key
    assert torch.equal(loaded["ida_up.node_1.conv.weight"], fresh_neck)
    assert report.missing and all(not k.startswith("base.") for k in report.missing)
    assert "ida_up.node_1.conv.weight" in report.missing


def test_an_imagenet_classifier_of_another_depth_is_refused(tmp_path: Path) -> None:
    state = perturbed_state("dla34")
    backbone = {k.removeprefix("base."): v for k, v in state.items() if k.startswith("base.")}
    backbone["level5.root.conv.weight"] = torch.zeros(512, 9, 1, 1)
    torch.save(backbone, tmp_path / "dla60.pth")
    with pytest.raises(CheckpointError, match="ImageNet DLA classifier but not DLA-34's"):
        load_reference_checkpoint(build_model(ModelCard(arch="dla34")), tmp_path / "dla60.pth")
    with pytest.raises(CheckpointError, match="only the dla34 archs start from it"):
        load_reference_checkpoint(build_model(ModelCard(arch="lite")), tmp_path / "dla60.pth")
