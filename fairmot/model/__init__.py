"""FairMOT networks, model cards and artifacts (model.pt + model.json [+ model.tar.gz])."""

from fairmot.model.artifact import ArtifactError, LoadedModel, load_artifact, save_artifact
from fairmot.model.card import ModelCard
from fairmot.model.checkpoint import CheckpointError, CheckpointReport, load_reference_checkpoint
from fairmot.model.registry import ARCHS, UnknownArchError, build_model

__all__ = [
    "ARCHS",
    "ArtifactError",
    "CheckpointError",
    "CheckpointReport",
    "LoadedModel",
    "ModelCard",
    "UnknownArchError",
    "build_model",
    "load_artifact",
    "load_reference_checkpoint",
    "save_artifact",
]
