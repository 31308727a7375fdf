"""`fairmot export ARTIFACT --out model.onnx`: export a trained model to ONNX."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a model artifact (model.tar.gz, directory or .pt/.pth) to ONNX",
        description=(
            "Export the network of ARTIFACT to ONNX. Input 'input' is (batch, 3, H, W) float32 "
            "RGB scaled to [0, 1] after letterboxing; outputs are hm (logits), wh, reg and id at "
            "stride 4. The batch dimension is dynamic; H and W are fixed (default: the card's "
            "input size). dla34 exports its deformable convs as GridSample (opset >= 16). The file "
            "carries the model card, so `fairmot track --model model.onnx` runs it, and is "
            "checked against PyTorch on onnxruntime before it is written."
        ),
    )
    parser.add_argument("artifact", type=Path, help="model.tar.gz, artifact directory or .pt/.pth")
    parser.add_argument("--out", type=Path, required=True, help="ONNX file to write")
    parser.add_argument("--width", type=int, default=None, help="input width (default: card)")
    parser.add_argument("--height", type=int, default=None, help="input height (default: card)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (default: 17)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fairmot.export import ExportError, export_onnx
    from fairmot.model import ArtifactError

    try:
        result = export_onnx(
            args.artifact, args.out, input_w=args.width, input_h=args.height, opset=args.opset
        )
    except (ArtifactError, ExportError) as error:
        print(f"fairmot export: {error}", file=sys.stderr)
        return 2
    check = (
        f"onnxruntime agrees with PyTorch to {result.max_abs_diff:.1e}"
        if result.max_abs_diff is not None
        else "not checked: onnxruntime is not installed"
    )
    print(
        f"wrote {result.path} (arch {result.arch}, input {result.input_w}x{result.input_h}, "
        f"outputs {', '.join(result.outputs)}; {check})"
    )
    return 0
