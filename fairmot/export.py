"""Export a model artifact to ONNX (heads as named outputs, dynamic batch, the card inside) and
check the file against PyTorch before calling it done."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fairmot.backends import (
    DEFAULT_OPSET,
    HEAD_ORDER,
    OnnxNetwork,
    check_model_path,
    onnx_bytes,
)
from fairmot.model import LoadedModel, load_artifact

# The agreement `fairmot export` demands between onnxruntime and PyTorch (absolute and relative):
# float32 kernels reorder sums, so bit equality is not expected; 1e-4 catches a wrong graph.
CHECK_TOLERANCE = 1e-4
# Frames in the check: more than one, so the dynamic batch dimension is exercised too.
CHECK_BATCH = 2


class ExportError(RuntimeError):
    """The network could not be exported, or its export disagrees with PyTorch; says why."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    arch: str
    input_w: int
    input_h: int
    outputs: tuple[str, ...]
    max_abs_diff: float | None  # onnxruntime vs PyTorch; None where onnxruntime is missing


def export_onnx(
    artifact: Path | str,
    out_path: Path | str,
    *,
    input_w: int | None = None,
    input_h: int | None = None,
    opset: int = DEFAULT_OPSET,
) -> ExportResult:
    """Write an ONNX graph of the artifact's network: input `input` (B,3,H,W) float32 RGB/255,
    outputs hm (logits), wh, reg, id at stride 4; the model card (with this input size) in its
    metadata, so `fairmot.load` takes the file alone. The input size defaults to the card's.

    The export is run on onnxruntime against PyTorch on random frames; a disagreement beyond
    CHECK_TOLERANCE raises ExportError and leaves no file. The `dla34` arch exports its
    deformable convs through the pure-PyTorch path (GridSample, opset >= 16).
    """
    artifact, out_path = Path(artifact), Path(out_path)
    if artifact.suffix.lower() == ".onnx":
        raise ExportError(f"{artifact} is already an ONNX model")
    if out_path.is_dir():
        raise ExportError(f"--out {out_path} is a folder: give the .onnx file to write")
    check_model_path(artifact)
    loaded = load_artifact(artifact, "cpu")
    card = loaded.card
    width, height = input_w or card.input_w, input_h or card.input_h
    try:
        graph = onnx_bytes(loaded, width, height, opset)
    except Exception as error:  # the exporter raises many types; report them as one
        raise ExportError(
            f"ONNX export of arch {card.arch} failed at opset {opset}: "
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        ) from error
    diff = check_against_torch(loaded, graph, width, height)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(graph)
    return ExportResult(out_path, card.arch, width, height, HEAD_ORDER, diff)


def check_against_torch(loaded: LoadedModel, graph: bytes, width: int, height: int) -> float | None:
    """The largest absolute difference between onnxruntime and PyTorch over every head, on
    CHECK_BATCH random frames; ExportError beyond CHECK_TOLERANCE. None without onnxruntime."""
    from fairmot.backends import onnxruntime_available

    if not onnxruntime_available():
        return None
    x = torch.from_numpy(
        np.random.default_rng(0).random((CHECK_BATCH, 3, height, width), np.float32)
    )
    with torch.inference_mode():
        expected = loaded.model(x)
    session = OnnxNetwork(graph, loaded.card).session
    got = dict(zip(HEAD_ORDER, session.run(None, {"input": x.numpy()}), strict=True))
    worst = 0.0
    for name in HEAD_ORDER:
        want = expected[name].numpy()
        diff = np.abs(got[name] - want)
        worst = max(worst, float(diff.max()))
        if not np.all(diff <= CHECK_TOLERANCE + CHECK_TOLERANCE * np.abs(want)):
            raise ExportError(
                f"the ONNX export of arch {loaded.card.arch} disagrees with PyTorch on head "
                f"{name} (max difference {float(diff.max()):.2g} > {CHECK_TOLERANCE:g}); "
                "nothing written"
            )
    return worst
