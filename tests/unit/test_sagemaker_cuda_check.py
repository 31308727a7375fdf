"""A container on a GPU instance type fails loudly without CUDA (this machine has none), unless
told to run on the CPU; the training entry point checks before it reads any data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fairmot.sagemaker.artifact import CudaUnavailableError, choose_device, ensure_cuda

REQUIRED = {"FAIRMOT_REQUIRE_CUDA": "1"}


def test_gpu_instance_without_cuda_fails_with_the_opt_out_named() -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(CudaUnavailableError, match="FAIRMOT_ALLOW_CPU=1"):
        choose_device(REQUIRED)


def test_the_opt_out_and_cpu_instances_run_on_the_cpu() -> None:
    pytest.importorskip("torch")
    ensure_cuda({**REQUIRED, "FAIRMOT_ALLOW_CPU": "1"})
    assert choose_device({}) in ("cpu", "cuda")
    assert choose_device({**REQUIRED, "FAIRMOT_ALLOW_CPU": "1", "FAIRMOT_DEVICE": "cpu"}) == "cpu"


def test_training_entry_point_checks_before_reading_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    from fairmot.sagemaker.paths import TrainingPaths
    from fairmot.sagemaker.train import load_config

    config_dir = tmp_path / "input" / "config"
    config_dir.mkdir(parents=True)
    (config_dir / "hyperparameters.json").write_text(json.dumps({"arch": "lite"}))
    monkeypatch.setenv("FAIRMOT_OPT_ML", str(tmp_path))
    monkeypatch.setenv("FAIRMOT_REQUIRE_CUDA", "1")
    monkeypatch.delenv("FAIRMOT_ALLOW_CPU", raising=False)
    with pytest.raises(CudaUnavailableError):
        load_config(TrainingPaths.from_env())  # the train channel is missing: not read yet
