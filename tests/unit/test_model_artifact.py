"""Model artifacts: model.pt + model.json, model.tar.gz, bare checkpoints, bad cards."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
import torch

from fairmot.model import ArtifactError, ModelCard, build_model, load_artifact, save_artifact


def trained_lite(**card_fields: object) -> tuple[torch.nn.Module, ModelCard]:
    torch.manual_seed(3)
    card = ModelCard(arch="lite", reid_dim=64, input_w=320, input_h=192, nID=17, **card_fields)
    model = build_model(card)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.01)
    return model.eval(), card


def outputs(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    with torch.inference_mode():
        return model(torch.linspace(0, 1, 3 * 64 * 64).view(1, 3, 64, 64))


def assert_same_outputs(a: torch.nn.Module, b: torch.nn.Module) -> None:
    out_a, out_b = outputs(a), outputs(b)
    for key in out_a:
        torch.testing.assert_close(out_a[key], out_b[key])


def test_tarball_holds_both_files_at_its_root_and_round_trips(tmp_path: Path) -> None:
    model, card = trained_lite(hyperparameters={"lr": "1e-4"}, metrics={"val_mota": 0.7})
    tarball = save_artifact(model, card, tmp_path / "out", tarball=True)
    assert tarball.name == "model.tar.gz"
    with tarfile.open(tarball) as archive:
        assert sorted(archive.getnames()) == ["model.json", "model.pt"]
    loaded = load_artifact(tarball)
    assert loaded.card == card and not loaded.model.training
    assert loaded.report is not None and loaded.report.clean
    assert_same_outputs(model, loaded.model)


def test_directory_and_pt_with_card_beside_it_load_the_same_model(tmp_path: Path) -> None:
    model, card = trained_lite()
    out = save_artifact(model, card, tmp_path)
    assert json.loads((out / "model.json").read_text())["arch"] == "lite"
    for source in (out, out / "model.pt"):
        loaded = load_artifact(source)
        assert loaded.card.reid_dim == 64 and loaded.card.nID == 17
        assert_same_outputs(model, loaded.model)


def test_serving_builds_the_net_from_the_card_not_defaults(tmp_path: Path) -> None:
    # The public SageMaker sample loads a 128-d ID head into a 32-d one; the card prevents it.
    model, card = trained_lite()
    loaded = load_artifact(save_artifact(model, card, tmp_path))
    assert outputs(loaded.model)["id"].shape[1] == 64


def test_bare_reference_checkpoint_gets_a_dla34_card_sized_from_its_heads(tmp_path: Path) -> None:
    torch.manual_seed(0)
    state = build_model(ModelCard(arch="dla34", reid_dim=64)).state_dict()
    path = tmp_path / "fairmot_dla34.pth"
    torch.save({"epoch": 30, "state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    loaded = load_artifact(path)
    assert loaded.card.arch == "dla34" and loaded.card.reid_dim == 64
    assert loaded.report is not None and loaded.report.clean


def test_unknown_arch_in_card_lists_valid_archs(tmp_path: Path) -> None:
    model, card = trained_lite()
    out = save_artifact(model, card, tmp_path)
    (out / "model.json").write_text(json.dumps({**card.model_dump(), "arch": "yolo"}))
    with pytest.raises(ArtifactError) as error:
        load_artifact(out)
    assert "unknown arch 'yolo': valid archs are dla34, dla34_plain, lite" in str(error.value)


def test_card_that_disagrees_with_weights_is_refused(tmp_path: Path) -> None:
    model, card = trained_lite()
    out = save_artifact(model, card, tmp_path)
    (out / "model.json").write_text(json.dumps({**card.model_dump(), "arch": "dla34"}))
    with pytest.raises(ArtifactError, match="does not fit arch dla34"):
        load_artifact(out)


def test_broken_artifacts_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        load_artifact(tmp_path / "model.tar.gz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactError, match=r"has no model.json"):
        load_artifact(tmp_path / "empty")
    only_card = tmp_path / "only_card.tar.gz"
    (tmp_path / "model.json").write_text(ModelCard().model_dump_json())
    with tarfile.open(only_card, "w:gz") as archive:
        archive.add(tmp_path / "model.json", arcname="model.json")
    with pytest.raises(ArtifactError, match=r"lacks model.pt"):
        load_artifact(only_card)
    (tmp_path / "model.json").write_text('{"arch": "lite", "reid_dim": -1}')
    torch.save({}, tmp_path / "model.pt")
    with pytest.raises(ArtifactError, match="reid_dim"):
        load_artifact(tmp_path / "model.pt")
