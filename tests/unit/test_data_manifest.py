"""manifest.json: round trip and clear errors."""

import json

import pytest

from fairmot.data import DatasetError, DatasetManifest, read_manifest, write_manifest
from fairmot.data.manifest import TuningSpec


def _sequence(root, name):
    (root / name).mkdir()
    (root / name / "seqinfo.ini").write_text("[Sequence]\n")


def test_round_trip(tmp_path):
    _sequence(tmp_path, "A")
    manifest = DatasetManifest(
        name="demo",
        sequences=["A"],
        hyperparameters={"lr": "1e-4"},
        tuning=TuningSpec(ranges={"lr": {"min": "1e-5", "max": "1e-3"}}, max_jobs=3),
        deploy=True,
    )
    write_manifest(tmp_path, manifest)
    assert read_manifest(tmp_path) == manifest


def test_minimal_manifest_has_defaults(tmp_path):
    _sequence(tmp_path, "A")
    (tmp_path / "manifest.json").write_text(json.dumps({"name": "x", "sequences": ["A"]}))
    manifest = read_manifest(tmp_path)
    assert manifest.hyperparameters == {} and manifest.tuning is None and not manifest.deploy


def test_missing_sequence_is_named(tmp_path):
    _sequence(tmp_path, "A")
    write_manifest(tmp_path, DatasetManifest(name="x", sequences=["A", "B"]))
    with pytest.raises(DatasetError, match="sequence 'B' not found"):
        read_manifest(tmp_path)


def test_unknown_key_and_missing_file_are_errors(tmp_path):
    with pytest.raises(DatasetError, match="missing"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"name": "x", "sequences": ["A"], "x": 1}))
    with pytest.raises(DatasetError, match="invalid manifest"):
        read_manifest(tmp_path, check_sequences=False)


def test_numeric_hyperparameters_become_strings(tmp_path):
    manifest = DatasetManifest.model_validate(
        {
            "name": "x",
            "sequences": ["A"],
            "hyperparameters": {"num_epochs": 5, "lr": 1e-4, "amp": True},
        }
    )
    assert manifest.hyperparameters == {"num_epochs": "5", "lr": "0.0001", "amp": "1"}
