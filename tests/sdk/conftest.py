"""The SDK tests run in .venv-sdk (`make test-sdk`); where `sagemaker` is missing, none is collected.

Local mode and `serve` need torch, which .venv-sdk does not have: they run from .venv (or
FAIRMOT_MAIN_PYTHON), and the SDK reaches them over loopback as it would reach AWS.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sdk_support import MAIN_PYTHON, REPO

try:
    import sagemaker  # noqa: F401
except ImportError:  # the main venv: `make test-sdk` runs these in .venv-sdk
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture
def local_stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`fairmot local up` from the main venv (moto server, seams, template deployed)."""
    if not MAIN_PYTHON.exists():
        pytest.skip("local mode runs from .venv: make venv")
    state = tmp_path / "state"
    code = (
        "import sys; from pathlib import Path; from fairmot.local.daemon import start; "
        "start(Path(sys.argv[1]), Path(sys.argv[2]), None, 0.01)"
    )
    subprocess.run(
        [str(MAIN_PYTHON), "-c", code, str(state), str(REPO / "template.yaml")],
        check=True, cwd=REPO, timeout=120,
    )  # fmt: skip
    try:
        yield {**json.loads((state / "stack.json").read_text()), "state_dir": str(state)}
    finally:
        stop = "import sys; from pathlib import Path; from fairmot.local.daemon import stop; stop(Path(sys.argv[1]))"
        subprocess.run([str(MAIN_PYTHON), "-c", stop, str(state)], check=True, timeout=60)
