"""The image runs the torch every test runs, with matplotlib, and asks for a driver that runs it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "containers" / "Dockerfile").read_text()


def train_extra() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["optional-dependencies"]["train"])


def test_the_image_installs_the_train_extra_and_no_torch_of_its_own() -> None:
    assert '"/tmp/fairmot-src[train]"' in DOCKERFILE
    assert not re.search(r"torch==|pytorch/pytorch", DOCKERFILE)
    assert any(r.startswith("matplotlib") for r in train_extra())


def test_the_tested_torch_is_the_pinned_one() -> None:
    import torch

    (pin,) = [r for r in train_extra() if r.startswith("torch==")]
    assert torch.__version__.split("+")[0] == pin.removeprefix("torch==")


def test_endpoints_ask_for_the_driver_of_the_images_cuda() -> None:
    template, _ = decode(str(ROOT / "template.yaml"))
    ami = template["Parameters"]["ServingInferenceAmiVersion"]["Default"]
    # torch 2.13.0's PyPI wheel is a CUDA 13.0 build; this AMI has driver 580 / CUDA 13.0.
    assert ami == "al2023-ami-sagemaker-inference-gpu-4-1"
    assert "al2023-ami-sagemaker-inference-gpu-4-1" in DOCKERFILE
