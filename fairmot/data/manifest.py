"""`manifest.json`: read and write a dataset directory's manifest (the model: fairmot_contracts)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from fairmot.data.errors import DatasetError
from fairmot_contracts.manifest import MANIFEST_NAME, AutoApprove, DatasetManifest, TuningSpec

__all__ = [
    "MANIFEST_NAME",
    "AutoApprove",
    "DatasetManifest",
    "TuningSpec",
    "read_manifest",
    "sequence_dirs",
    "write_manifest",
]


def read_manifest(dataset_dir: str | Path, *, check_sequences: bool = True) -> DatasetManifest:
    """Parse `<dataset_dir>/manifest.json`; with check_sequences, every sequence must exist."""
    dataset_dir = Path(dataset_dir)
    path = dataset_dir / MANIFEST_NAME
    if not path.is_file():
        raise DatasetError(f"{path}: missing; a dataset directory needs a manifest.json")
    try:
        manifest = DatasetManifest.model_validate_json(path.read_text())
    except ValidationError as error:
        raise DatasetError(f"{path}: invalid manifest: {error}") from error
    if check_sequences:
        for seq in manifest.sequences:
            if not (dataset_dir / seq / "seqinfo.ini").is_file():
                raise DatasetError(
                    f"{path}: sequence {seq!r} not found "
                    f"(expected {dataset_dir / seq / 'seqinfo.ini'})"
                )
    return manifest


def write_manifest(dataset_dir: str | Path, manifest: DatasetManifest) -> Path:
    """Write manifest.json (atomically: it is the file whose arrival starts training)."""
    path = Path(dataset_dir) / MANIFEST_NAME
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest.model_dump(exclude_none=True), indent=2) + "\n")
    tmp.replace(path)
    return path


def sequence_dirs(dataset_dir: str | Path) -> list[Path]:
    """The sequence directories a dataset's manifest names."""
    dataset_dir = Path(dataset_dir)
    return [dataset_dir / seq for seq in read_manifest(dataset_dir).sequences]
