"""Load weights from reference FairMOT/CenterNet checkpoints and from our own model.pt.

Reference checkpoints are `{'epoch': int, 'state_dict': {...}}` saved from DataParallel, so keys
may carry a `module.` prefix. Heads of another task (e.g. CenterNet's 80-class heatmap) are
reported and skipped, as the reference loader does; a checkpoint of another arch is refused.
An ImageNet DLA-34 classifier (`dla34-ba72cf86.pth`: a bare state_dict whose keys are the
backbone's own, `base_layer.*` ... `level5.*`, `fc.*`) loads into the backbone (`base.`) only,
as the reference's `DLASeg` starts from it; the neck and heads then start at random.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import torch
from torch import nn

# Below this share of the model's tensors found with the right shape, the checkpoint is taken to
# belong to another arch (a task change only touches the few head tensors).
MIN_MATCHED_FRACTION = 0.5
DATAPARALLEL_PREFIX = "module."
WEIGHTS_NAME = "model.pt"
OFFSET_KEY = "conv_offset_mask"  # the offset/mask predictor of every DCN layer
TARBALL_NAME = "model.tar.gz"  # the name SageMaker gives a training job's output
BACKBONE_PREFIX = "base."  # where DLASeg keeps its DLA-34 backbone
# Keys only an ImageNet DLA classifier has at the top level (no `base.`, no neck, no heads).
IMAGENET_MARKERS = ("base_layer.0.weight", "level5.root.conv.weight")


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded into the model: unreadable or of another arch."""


@dataclass
class CheckpointReport:
    """What did not load: missing/unexpected keys and (key, checkpoint shape, model shape)."""

    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    loaded: int = 0
    epoch: int | None = None

    @property
    def clean(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def lines(self) -> list[str]:
        """One line per problem, for logs."""
        out = [f"missing in checkpoint: {key}" for key in self.missing]
        out += [f"unexpected in checkpoint (ignored): {key}" for key in self.unexpected]
        out += [
            f"shape mismatch (skipped): {key} checkpoint {list(ckpt)} model {list(model)}"
            for key, ckpt, model in self.mismatched
        ]
        return out


def read_state_dict(
    path: Path | BinaryIO, *, name: str | None = None
) -> tuple[dict[str, torch.Tensor], int | None]:
    """The tensors of a checkpoint (reference layout or bare state_dict), `module.` removed."""
    name = name or str(path)
    try:
        raw: Any = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {name} does not exist") from None
    except pickle.UnpicklingError:
        # torch's own message is several lines advising weights_only=False: never for us.
        raise CheckpointError(
            f"checkpoint {name} is not a readable PyTorch file: corrupt, or it holds objects "
            "other than tensors (only plain weights are loaded)"
        ) from None
    except Exception as error:  # torch.load raises many types for corrupt files
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(
            f"checkpoint {name} is not a readable PyTorch file: {first[:200]}"
        ) from None
    epoch = raw.get("epoch") if isinstance(raw, dict) else None
    state = raw.get("state_dict", raw) if isinstance(raw, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(
            f"checkpoint {name} holds no state_dict (expected a dict of tensors or "
            "{'epoch', 'state_dict'})"
        )
    cleaned = {key.removeprefix(DATAPARALLEL_PREFIX): value for key, value in state.items()}
    return cleaned, epoch if isinstance(epoch, int) else None


def load_state_dict_checked(
    model: nn.Module, state: dict[str, torch.Tensor], *, source: str, arch: str = "this model"
) -> CheckpointReport:
    """Copy the matching tensors into `model`; refuse a state_dict of another arch."""
    own = model.state_dict()
    report = CheckpointReport()
    usable: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key not in own:
            report.unexpected.append(key)
        elif value.shape != own[key].shape:
            report.mismatched.append((key, tuple(value.shape), tuple(own[key].shape)))
        else:
            usable[key] = value
    # BatchNorm step counters are not weights; checkpoints from PyTorch < 0.4.1 lack them.
    report.missing = [
        key for key in own if key not in state and not key.endswith("num_batches_tracked")
    ]
    if len(usable) < MIN_MATCHED_FRACTION * len(own):
        example = (report.missing + [m[0] for m in report.mismatched] + report.unexpected)[:1]
        raise CheckpointError(
            f"checkpoint {source} does not fit arch {arch}: only {len(usable)} of {len(own)} "
            f"tensors match (first problem: {example[0] if example else '-'}); "
            "is it from another arch? set the model card's arch to match"
        )
    # Deformable and plain aggregation convs share their weight names, but a DCN's weights only
    # mean what they were trained for with its learned offsets: mixing the two is another arch.
    offsets_in_ckpt = any(OFFSET_KEY in key for key in report.unexpected)
    offsets_missing = any(OFFSET_KEY in key for key in report.missing)
    if offsets_in_ckpt or offsets_missing:
        raise CheckpointError(
            f"checkpoint {source} does not fit arch {arch}: the checkpoint "
            f"{'has' if offsets_in_ckpt else 'lacks'} deformable-conv offsets ({OFFSET_KEY}) "
            f"that the model {'lacks' if offsets_in_ckpt else 'has'}; use arch "
            f"{'dla34' if offsets_in_ckpt else 'dla34_plain'} for it"
        )
    model.load_state_dict(usable, strict=False)
    report.loaded = len(usable)
    return report


def is_tarball(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz", ".tar"))


def read_tar_member(path: Path, name: str) -> bytes:
    """The bytes of the regular file `name` (at any depth) inside a tar archive."""
    try:
        with tarfile.open(path, "r:*") as archive:
            members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
            data = archive.extractfile(members[name]) if name in members else None
            if data is None:
                raise CheckpointError(
                    f"model archive {path} lacks {name} "
                    f"(found: {', '.join(sorted(members)) or 'nothing'})"
                )
            return data.read()
    except (tarfile.TarError, OSError) as error:
        raise CheckpointError(f"model archive {path} is not a readable tar.gz: {error}") from None


def read_weights(path: Path) -> tuple[dict[str, torch.Tensor], int | None]:
    """Tensors from a checkpoint file, an artifact directory or a model.tar.gz."""
    if path.is_dir():
        inside = path / WEIGHTS_NAME
        if inside.exists() or not (path / TARBALL_NAME).exists():
            return read_state_dict(inside)
        path = path / TARBALL_NAME
    if is_tarball(path) and path.is_file():
        data = read_tar_member(path, WEIGHTS_NAME)
        return read_state_dict(io.BytesIO(data), name=f"{path}:{WEIGHTS_NAME}")
    return read_state_dict(path)


def is_imagenet_backbone(state: dict[str, torch.Tensor]) -> bool:
    """Whether a state_dict is an ImageNet DLA classifier (the backbone's keys at top level)."""
    return all(key in state for key in IMAGENET_MARKERS)


def load_backbone_checked(
    model: nn.Module, state: dict[str, torch.Tensor], *, source: str
) -> CheckpointReport:
    """Load an ImageNet DLA-34 classifier into `model.base`: every backbone tensor must match
    (the classifier `fc` included: DLA keeps it so these files load key for key)."""
    backbone = getattr(model, BACKBONE_PREFIX.rstrip("."), None)
    if not isinstance(backbone, nn.Module):
        raise CheckpointError(
            f"checkpoint {source} is an ImageNet DLA backbone; only the dla34 archs start from it"
        )
    report = load_state_dict_checked(backbone, state, source=source, arch="DLA-34 backbone")
    if report.missing or report.mismatched:
        raise CheckpointError(
            f"checkpoint {source} is an ImageNet DLA classifier but not DLA-34's: "
            f"{(report.lines() or ['-'])[0]}"
        )
    prefixed = CheckpointReport(
        unexpected=[BACKBONE_PREFIX + key for key in report.unexpected],
        loaded=report.loaded,
        # The neck and heads are not in an ImageNet checkpoint: they start from their init.
        missing=[key for key in model.state_dict() if not key.startswith(BACKBONE_PREFIX)],
    )
    prefixed.missing = [k for k in prefixed.missing if not k.endswith("num_batches_tracked")]
    return prefixed


def load_reference_checkpoint(
    model: nn.Module, path: Path | str, *, arch: str = "this model"
) -> CheckpointReport:
    """Load weights into model from a reference checkpoint (`{'epoch','state_dict'}`, `module.`
    keys), an ImageNet DLA-34 classifier (backbone only), a bare state_dict, or one of our
    artifacts (directory, model.tar.gz, model.pt)."""
    path = Path(path)
    state, epoch = read_weights(path)
    if is_imagenet_backbone(state):
        return load_backbone_checked(model, state, source=str(path))
    report = load_state_dict_checked(model, state, source=str(path), arch=arch)
    report.epoch = epoch
    return report
