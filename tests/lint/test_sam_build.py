"""`sam build` works and the built functions share one copy of their dependencies (layers).

`make test` runs `make sam-build` first when a python3.12 (the functions' runtime) exists; this
reads that build, or builds into a temporary folder, and skips where no python3.12 is found.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cfnlint.decode import decode

REPO = Path(__file__).resolve().parents[2]
MAKE_BUILD = REPO / ".aws-sam" / "build"


def python312() -> str | None:
    pyenv = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")))
    for candidate in [*reversed(pyenv), shutil.which("python3.12")]:
        if candidate and subprocess.run([candidate, "-c", ""], check=False).returncode == 0:
            return candidate
    return None


def sam() -> str:
    for candidate in (REPO / ".venv-tools" / "bin" / "sam", shutil.which("sam")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    pytest.skip("aws-sam-cli is not installed: run `make tools`")


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if (MAKE_BUILD / "template.yaml").exists():
        return MAKE_BUILD
    runtime = python312()
    if runtime is None:
        pytest.skip("no python3.12 (the functions' runtime): sam build cannot run here")
    out = tmp_path_factory.mktemp("sam") / "build"
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0",
           "PATH": f"{Path(runtime).parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    result = subprocess.run(
        [sam(), "build", "--template", str(REPO / "template.yaml"), "--build-dir", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out


@pytest.mark.slow
def test_functions_share_one_dependency_layer(build: Path) -> None:
    template, _ = decode(str(REPO / "template.yaml"))
    functions = [n for n, r in template["Resources"].items()
                 if r["Type"] == "AWS::Serverless::Function"]  # fmt: skip
    assert not (REPO / "functions" / "requirements.txt").exists()  # else each bundles a copy
    layer = build / "DependenciesLayer" / "python"
    assert (layer / "pydantic").is_dir() and (layer / "aws_lambda_powertools").is_dir()
    # The contracts shared with the fairmot package: the repository's own files, one copy.
    contracts = build / "ContractsLayer" / "python" / "fairmot_contracts"
    source = REPO / "fairmot_contracts"
    assert sorted(p.name for p in contracts.glob("*.py")) == sorted(
        p.name for p in source.glob("*.py")
    )
    for path in source.glob("*.py"):
        assert (contracts / path.name).read_bytes() == path.read_bytes(), path.name
    built_template, _ = decode(str(build / "template.yaml"))
    layers = built_template["Globals"]["Function"]["Layers"]
    assert {"Ref": "ContractsLayer"} in layers and {"Ref": "DependenciesLayer"} in layers
    for name in functions:
        built = build / name
        assert (built / "normalise_event.py").is_file(), name
        assert not (built / "pydantic").exists() and not (built / "aws_lambda_powertools").exists()
        assert not (built / "fairmot_contracts").exists(), name
        size = sum(p.stat().st_size for p in built.rglob("*") if p.is_file())
        assert size < 2 * 1024 * 1024, f"{name} is {size} bytes: dependencies bundled again?"


@pytest.mark.slow
def test_built_functions_import_the_contracts_from_their_layers(build: Path) -> None:
    """Under the runtime's Python, with only the function's folder and the two layers on the
    path (Lambda's /var/task and /opt/python), the middleware and the shared contracts import."""
    runtime = python312()
    if runtime is None:
        pytest.skip("no python3.12 (the functions' runtime) to import the build with")
    paths = [build / "PlanTrainingFunction", build / "DependenciesLayer" / "python",
             build / "ContractsLayer" / "python"]  # fmt: skip
    code = (
        f"import sys; sys.path[:0] = {[str(p) for p in paths]!r}\n"
        "import step, training_requests, fairmot_contracts\n"
        "assert training_requests.METRIC_DEFINITIONS\n"
        "print(fairmot_contracts.__file__)\n"
    )
    result = subprocess.run(
        [runtime, "-I", "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == str(paths[2] / "fairmot_contracts" / "__init__.py")
