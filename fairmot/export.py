"""Export a model artifact to ONNX (heads as named outputs, dynamic batch)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from fairmot.model import load_artifact
from fairmot.model.dcn import DCN

HEAD_ORDER = ("hm", "wh", "reg", "id")
# Opset 16 is the first with GridSample, which the pure-PyTorch deformable conv uses.
DEFAULT_OPSET = 17


class ExportError(RuntimeError):
    """The network could not be exported; says which arch and why."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    arch: str
    input_w: int
    input_h: int
    outputs: tuple[str, ...]


class _TupleOutputs(nn.Module):
    """ONNX graphs have positional outputs: return the heads in a fixed order."""

    def __init__(self, model: nn.Module, heads: tuple[str, ...]) -> None:
        super().__init__()
        self.model = model
        self.heads = heads

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        out = self.model(x)
        return tuple(out[name] for name in self.heads)


def export_onnx(
    artifact: Path | str,
    out_path: Path | str,
    *,
    input_w: int | None = None,
    input_h: int | None = None,
    opset: int = DEFAULT_OPSET,
) -> ExportResult:
    """Write an ONNX graph of the artifact's network: input `input` (B,3,H,W) float32 RGB/255,
    outputs hm (logits), wh, reg, id at stride 4. The input size defaults to the card's.

    The `dla34` arch exports its deformable convs through the pure-PyTorch path (GridSample);
    runtimes without GridSample (opset < 16) cannot run it: use `dla34_plain` or `lite` there.
    """
    loaded = load_artifact(Path(artifact), "cpu")
    card = loaded.card
    width, height = input_w or card.input_w, input_h or card.input_h
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    for module in loaded.model.modules():
        if isinstance(module, DCN):
            module.backend = "torch"  # torchvision's custom op has no ONNX symbolic
    wrapper = _TupleOutputs(loaded.model, HEAD_ORDER).eval()
    dummy = torch.rand(1, 3, height, width)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
            torch.onnx.export(
                wrapper,
                (dummy,),
                str(out_path),
                input_names=["input"],
                output_names=list(HEAD_ORDER),
                dynamic_axes={name: {0: "batch"} for name in ("input", *HEAD_ORDER)},
                opset_version=opset,
                dynamo=False,
            )
    except Exception as error:  # the exporter raises many types; report them as one
        raise ExportError(
            f"ONNX export of arch {card.arch} failed at opset {opset}: "
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        ) from error
    return ExportResult(out_path, card.arch, width, height, HEAD_ORDER)
