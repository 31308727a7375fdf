"""Model artifacts: model.pt (state_dict) + model.json (card), packed as SageMaker's model.tar.gz.

`load_artifact` accepts the tarball, a directory holding both files, our `model.pt` (the card is
read from the model.json beside it) or a bare reference checkpoint `.pth` (the card is inferred:
dla34 unless the keys say otherwise, head sizes from the checkpoint's own heads).
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

import pydantic
import torch
from torch import nn

from fairmot.model.card import ModelCard
from fairmot.model.checkpoint import (
    TARBALL_NAME,
    WEIGHTS_NAME,
    CheckpointError,
    CheckpointReport,
    is_tarball,
    load_state_dict_checked,
    read_tar_member,
    read_weights,
)
from fairmot.model.registry import ARCHS, build_model

CARD_NAME = "model.json"


class ArtifactError(ValueError):
    """A model artifact that cannot be read: says which file and what is wrong."""


@dataclass
class LoadedModel:
    """A network in eval mode, the card it was built from and how its weights loaded."""

    model: nn.Module
    card: ModelCard
    report: CheckpointReport | None = None


def save_artifact(
    model: nn.Module, card: ModelCard, out_dir: Path, *, tarball: bool = False
) -> Path:
    """Write model.pt and model.json into out_dir; with tarball, also model.tar.gz (files at its
    root). Returns the tarball's path when made, else out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    torch.save(state, out_dir / WEIGHTS_NAME)
    (out_dir / CARD_NAME).write_text(card.model_dump_json(indent=2) + "\n")
    if not tarball:
        return out_dir
    target = out_dir / TARBALL_NAME
    with tarfile.open(target, "w:gz") as archive:
        for name in (WEIGHTS_NAME, CARD_NAME):
            archive.add(out_dir / name, arcname=name)
    return target


def parse_card(text: str, source: str) -> ModelCard:
    try:
        card = ModelCard.model_validate_json(text)
    except pydantic.ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'card'}: {e['msg']}" for e in error.errors()
        )
        raise ArtifactError(f"model card {source} is invalid: {problems}") from None
    if card.arch not in ARCHS:
        raise ArtifactError(
            f"model card {source} names unknown arch {card.arch!r}: valid archs are "
            f"{', '.join(sorted(ARCHS))}"
        )
    return card


def infer_card(state: dict[str, torch.Tensor]) -> ModelCard:
    """Card for a bare checkpoint: arch from its keys, head sizes from a FairMOT id head."""
    if any(key.endswith("conv_offset_mask.weight") for key in state):
        arch = "dla34"
    elif "stem.0.weight" in state:
        arch = "lite"
    elif any(key.startswith("dla_up.") for key in state):
        arch = "dla34_plain"
    else:
        arch = "dla34"
    fields: dict[str, object] = {"arch": arch}
    # Only a FairMOT checkpoint (with an id head) fixes our heads; a CenterNet one keeps defaults.
    if "id.2.weight" in state and "hm.2.weight" in state:
        fields["reid_dim"] = int(state["id.2.weight"].shape[0])
        fields["num_classes"] = int(state["hm.2.weight"].shape[0])
        fields["head_conv"] = int(state["id.0.weight"].shape[0])
    return ModelCard.model_validate(fields)


def _build_and_load(
    card: ModelCard, state: dict[str, torch.Tensor], source: str, device: str | torch.device
) -> LoadedModel:
    model = build_model(card)
    report = load_state_dict_checked(model, state, source=source, arch=card.arch)
    return LoadedModel(model=model.to(device).eval(), card=card, report=report)


def load_artifact(path: Path | str, device: str | torch.device = "cpu") -> LoadedModel:
    """Build the network a model artifact describes and load its weights (eval mode)."""
    path = Path(path)
    try:
        if path.is_dir():
            tarball = path / TARBALL_NAME
            if not (path / WEIGHTS_NAME).exists() and tarball.exists():
                return load_artifact(tarball, device)
            card_path = path / CARD_NAME
            if not card_path.exists():
                raise ArtifactError(f"model directory {path} has no {CARD_NAME}")
            return load_artifact(path / WEIGHTS_NAME, device)
        if not path.exists():
            raise ArtifactError(f"model artifact {path} does not exist")
        if is_tarball(path):
            card_text = read_tar_member(path, CARD_NAME).decode()
            card = parse_card(card_text, f"{path}:{CARD_NAME}")
            state, _ = read_weights(path)
            return _build_and_load(card, state, f"{path}:{WEIGHTS_NAME}", device)
        state, _ = read_weights(path)
        card_path = path.with_name(CARD_NAME)
        card = (
            parse_card(card_path.read_text(), str(card_path))
            if card_path.exists()
            else infer_card(state)
        )
        return _build_and_load(card, state, str(path), device)
    except CheckpointError as error:
        raise ArtifactError(str(error)) from None
