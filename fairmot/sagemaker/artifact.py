"""Find the model artifact SageMaker unpacked (hosting) or copied (processing) into a folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ARTIFACT_FILES = ("model.pt", "model.json")
TARBALL = "model.tar.gz"
# Set by the pipeline's requests on GPU instance types (functions/instances.py).
REQUIRE_CUDA_VARIABLE = "FAIRMOT_REQUIRE_CUDA"
# The opt-out: run on the CPU although the instance was meant to have a GPU (local mode does).
ALLOW_CPU_VARIABLE = "FAIRMOT_ALLOW_CPU"


class CudaUnavailableError(RuntimeError):
    """A GPU instance type without a usable GPU: the job or endpoint must not run on its CPU."""


class ArtifactNotFoundError(FileNotFoundError):
    """The folder holds neither model.pt + model.json nor model.tar.gz."""


def resolve_artifact(folder: Path) -> Path:
    """The folder itself if it holds model.pt + model.json, else its model.tar.gz.

    Hosting unpacks model.tar.gz into /opt/ml/model; a processing input copies the tarball as it
    is. Either way the network is built from model.json (the card), never from defaults here.
    """
    if all((folder / name).is_file() for name in ARTIFACT_FILES):
        return folder
    if (folder / TARBALL).is_file():
        return folder / TARBALL
    tarballs = sorted(folder.rglob("*.tar.gz")) if folder.is_dir() else []
    if len(tarballs) == 1:
        return tarballs[0]
    found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    raise ArtifactNotFoundError(
        f"no model in {folder}: expected model.pt + model.json or {TARBALL}, found {found or 'nothing'}"
    )


def ensure_cuda(env: Mapping[str, str] | None = None) -> None:
    """Fail loudly when CUDA is required (a GPU instance type) but torch cannot use a GPU.

    The usual cause is a host NVIDIA driver older than the image's CUDA; running on, the job
    would take many times longer on the CPU of a billed GPU instance and nobody would notice.
    """
    import torch

    values = env if env is not None else os.environ
    if values.get(REQUIRE_CUDA_VARIABLE) != "1" or values.get(ALLOW_CPU_VARIABLE) == "1":
        return
    if not torch.cuda.is_available():
        raise CudaUnavailableError(
            f"this container runs on a GPU instance but torch {torch.__version__} (CUDA "
            f"{torch.version.cuda}) sees no usable GPU: the host's NVIDIA driver is probably older "
            f"than the image's CUDA (endpoints: set the InferenceAmiVersion). Set "
            f"{ALLOW_CPU_VARIABLE}=1 to run on the CPU anyway"
        )


def choose_device(env: Mapping[str, str] | None = None) -> str:
    """FAIRMOT_DEVICE if set, else cuda when a GPU is visible, else cpu (see ensure_cuda)."""
    import torch

    values = env if env is not None else os.environ
    ensure_cuda(values)
    wanted = values.get("FAIRMOT_DEVICE", "auto")
    if wanted != "auto":
        return wanted
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_pipeline(folder: Path, *, batch_size: int) -> Any:
    """Load the artifact in `folder` on FAIRMOT_BACKEND (auto, torch, onnxruntime; see
    fairmot.backends) and wrap it in a fairmot.pipeline.FramePipeline.

    FAIRMOT_TRACKER (a tracker name or YAML path, as `fairmot track --tracker`) picks the tracker
    of the processing job and the endpoint-wide default of the endpoint."""
    from fairmot.backends import load_network
    from fairmot.pipeline import FramePipeline

    backend = os.environ.get("FAIRMOT_BACKEND", "auto")
    network = load_network(resolve_artifact(folder), backend=backend, device=choose_device())
    tracker = os.environ.get("FAIRMOT_TRACKER") or None
    return FramePipeline(network, batch_size=batch_size, tracker_config=tracker)
