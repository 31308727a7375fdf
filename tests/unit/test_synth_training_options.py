"""`fairmot synth --recipe NAME --deploy` writes the training options into the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fairmot.cli import main
from fairmot.train.recipes import recipe

TINY = ["--sequences", "1", "--frames", "2", "--width", "64", "--height", "64"]


def test_recipe_and_deploy_land_in_the_manifest(tmp_path: Path) -> None:
    assert main(["synth", str(tmp_path / "d"), *TINY, "--recipe", "smoke", "--deploy"]) == 0
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert manifest["hyperparameters"] == recipe("smoke")
    assert manifest["deploy"] is True


def test_an_unknown_recipe_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["synth", str(tmp_path / "d"), *TINY, "--recipe", "huge"]) == 2
    assert "unknown recipe 'huge'" in capsys.readouterr().err
