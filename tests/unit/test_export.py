"""ONNX export: onnxruntime agrees with PyTorch; the command reports errors in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fairmot.cli import main
from fairmot.export import HEAD_ORDER, export_onnx
from fairmot.model import ModelCard, build_model, save_artifact

ort = pytest.importorskip("onnxruntime")


def artifact(tmp_path: Path, arch: str) -> tuple[torch.nn.Module, Path]:
    torch.manual_seed(0)
    card = ModelCard(arch=arch, input_w=128, input_h=64)
    model = build_model(card)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.02)  # non-trivial offsets and heads
    model.eval()
    return model, save_artifact(model, card, tmp_path / arch, tarball=True)


def assert_runtime_agrees(model: torch.nn.Module, onnx_path: Path) -> None:
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).random((2, 3, 64, 128), dtype=np.float32)  # batch 2: dynamic
    got = dict(zip(HEAD_ORDER, session.run(None, {"input": x}), strict=True))
    with torch.inference_mode():
        expected = model(torch.from_numpy(x))
    for name in HEAD_ORDER:
        np.testing.assert_allclose(got[name], expected[name].numpy(), atol=1e-4, rtol=1e-4)


def test_lite_onnx_matches_pytorch(tmp_path: Path) -> None:
    model, tarball = artifact(tmp_path, "lite")
    result = export_onnx(tarball, tmp_path / "lite.onnx")
    assert (result.input_w, result.input_h) == (128, 64)
    assert_runtime_agrees(model, result.path)


@pytest.mark.slow
def test_dla34_with_deformable_convs_exports_as_gridsample(tmp_path: Path) -> None:
    model, tarball = artifact(tmp_path, "dla34")
    assert_runtime_agrees(model, export_onnx(tarball, tmp_path / "dla34.onnx").path)


@pytest.mark.slow
def test_export_command_writes_the_file_and_fails_cleanly(tmp_path: Path, capsys) -> None:
    _, tarball = artifact(tmp_path, "lite")
    out = tmp_path / "cli.onnx"
    assert main(["export", str(tarball), "--out", str(out), "--width", "64", "--height", "64"]) == 0
    assert out.stat().st_size > 0
    assert "input 64x64" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "missing.tar.gz"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fairmot export: model ") and "does not exist" in err
    assert "\n" not in err
