"""Shared fixtures of the SageMaker contract tests: a tiny dataset, one trained artifact (a real
`train` job) and one running `serve` process, built once per session."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sagemaker_support import (
    BIN,
    SERVE_TRACKER,
    TINY_HYPERPARAMETERS,
    free_port,
    link_dataset,
    opt_ml_env,
    run_entry_point,
    wait_for_ping,
    write_training_config,
)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from fairmot.data.synth.writer import generate_dataset

    out = tmp_path_factory.mktemp("sm-dataset") / "synth"
    return Path(generate_dataset(out, sequences=1, frames=30, width=320, height=192, seed=1))


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_dataset: Path) -> Path:
    """/opt/ml of one finished training job (model, checkpoints, output) shared by all tests."""
    root = tmp_path_factory.mktemp("sm-train")
    write_training_config(root, TINY_HYPERPARAMETERS)
    link_dataset(root, tiny_dataset)
    result = run_entry_point("train", opt_ml_env(root), timeout=150)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    (root / "stdout.log").write_text(result.stdout)
    return root


@pytest.fixture(scope="session")
def model_dir(trained: Path) -> Path:
    return trained / "model"


@pytest.fixture(scope="session")
def serve_url(model_dir: Path) -> Iterator[str]:
    """A running `serve` process on a free loopback port, loaded with the tiny model."""
    port = free_port()
    env = opt_ml_env(
        model_dir.parent,
        SM_MODEL_DIR=str(model_dir),
        SAGEMAKER_BIND_TO_PORT=str(port),
        FAIRMOT_BIND_HOST="127.0.0.1",
        FAIRMOT_MAX_STREAMS="8",
        # The endpoint-wide default tracker: the reference, as the tiny model scores most people
        # below fairbyte's new-track threshold (0.65). Streams name fairbyte to get it.
        FAIRMOT_TRACKER=SERVE_TRACKER,
        FAIRMOT_SOCKET_TIMEOUT_S="3",
        FAIRMOT_REQUEST_DEADLINE_S="10",
    )
    process = subprocess.Popen(
        [str(BIN / "serve")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_ping(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
