"""Backends: which runtime `auto` picks, that torch and onnxruntime give the same outputs from
the same letterboxed frames, and the one-line errors for what cannot run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from fairmot.backends import (
    BackendError,
    OnnxNetwork,
    TorchNetwork,
    choose_backend,
    load_network,
    onnx_bytes,
)
from fairmot.model import ArtifactError, LoadedModel, ModelCard, build_model, save_artifact

W, H = 128, 64


@pytest.fixture(scope="module")
def loaded() -> LoadedModel:
    torch.manual_seed(0)
    card = ModelCard(arch="lite", input_w=W, input_h=H)
    model = build_model(card).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.02)
    return LoadedModel(model=model, card=card)


def frames(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 255, (H, W, 3), dtype=np.uint8) for _ in range(n)]


def test_auto_is_onnxruntime_on_cpu_and_for_onnx_files_torch_on_gpu() -> None:
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert choose_backend("auto", Path("m.tar.gz"), cpu) == "onnxruntime"
    assert choose_backend("auto", Path("m.tar.gz"), gpu) == "torch"
    assert choose_backend("auto", Path("m.onnx"), gpu) == "onnxruntime"
    assert choose_backend("torch", Path("runs/lite"), cpu) == "torch"


def test_torch_and_onnxruntime_agree_on_the_same_frames(loaded: LoadedModel) -> None:
    torch_net = TorchNetwork(loaded, "cpu")
    onnx_net = OnnxNetwork(onnx_bytes(loaded, W, H), device="cpu")
    assert (torch_net.name, onnx_net.name) == ("torch", "onnxruntime")
    assert onnx_net.card == loaded.card  # read back from the file's metadata
    batch = frames(3)
    want, got = torch_net(batch), onnx_net(batch)
    for name in ("hm", "wh", "reg", "id"):
        assert got[name].shape == want[name].shape
        torch.testing.assert_close(got[name], want[name], atol=1e-4, rtol=1e-4)


def test_load_network_reads_every_model_form(loaded: LoadedModel, tmp_path: Path) -> None:
    folder = save_artifact(loaded.model, loaded.card, tmp_path / "model")
    (tmp_path / "model.onnx").write_bytes(onnx_bytes(loaded, W, H))
    assert load_network(folder, backend="torch", device="cpu").name == "torch"
    assert load_network(folder, device="cpu").name == "onnxruntime"
    assert load_network(tmp_path / "model.onnx").card.arch == "lite"


def test_what_cannot_run_is_a_one_line_error(loaded: LoadedModel, tmp_path: Path) -> None:
    bare = onnx.load_from_string(onnx_bytes(loaded, W, H))
    del bare.metadata_props[:]
    (tmp_path / "bare.onnx").write_bytes(bare.SerializeToString())
    with pytest.raises(BackendError, match="has no model card in its metadata"):
        load_network(tmp_path / "bare.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not onnx")
    with pytest.raises(BackendError, match="onnxruntime cannot load"):
        load_network(tmp_path / "junk.onnx")
    (tmp_path / "clip.mp4").write_bytes(b"\x00")
    with pytest.raises(ArtifactError, match="is not a model"):
        load_network(tmp_path / "clip.mp4")
    if not torch.cuda.is_available():
        import onnxruntime

        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            with pytest.raises(BackendError, match="no CUDA provider"):
                load_network(tmp_path / "bare.onnx", device="cuda")
