"""Find the model artifact SageMaker unpacked (hosting) or copied (processing) into a folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ARTIFACT_FILES = ("model.pt", "model.json")
TARBALL = "model.tar.gz"


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


def choose_device(env: dict[str, str] | None = None) -> str:
    """FAIRMOT_DEVICE if set, else cuda when a GPU is visible, else cpu."""
    import torch

    wanted = (env if env is not None else os.environ).get("FAIRMOT_DEVICE", "auto")
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
