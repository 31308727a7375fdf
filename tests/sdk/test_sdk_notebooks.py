"""The notebooks in examples/ run top to bottom against local mode on tiny data."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sdk_support import REPO, tiny_model, tiny_video

from fairmot.sdk.session import boto_session

pytestmark = pytest.mark.slow
EXAMPLES = REPO / "examples"
CELL_TIMEOUT_S = 600


def run_notebook(name: str, env: dict[str, str], cwd: Path) -> Any:
    """Execute examples/<name> in a kernel of this interpreter; the executed notebook."""
    import nbclient
    import nbformat

    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    saved = dict(os.environ)
    os.environ.update(env)  # the kernel inherits this process's environment
    try:
        nbclient.NotebookClient(
            notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
            resources={"metadata": {"path": str(cwd)}},
        ).execute()  # fmt: skip
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return notebook


def outputs_of(notebook: Any) -> tuple[str, list[str]]:
    """All printed text, and the MIME types of all rich outputs."""
    text, kinds = [], []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text.append(output.get("text", ""))
            kinds.extend(output.get("data", {}))
    return "".join(text), kinds


def test_inference_notebook_deploys_streams_shows_and_cleans_up(
    local_stack: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    notebook = run_notebook(
        "inference.ipynb",
        {
            "FAIRMOT_STATE_DIR": local_stack["state_dir"],
            "FAIRMOT_MODEL": str(tiny_model(tmp_path / "model")),
            "FAIRMOT_VIDEO": str(tiny_video(tmp_path / "clip.mp4")),
            "FAIRMOT_OUT": str(out),
        },
        tmp_path,
    )
    text, kinds = outputs_of(notebook)
    assert "InService" in text
    summary = next(json.loads(line) for line in text.splitlines() if line.startswith("{"))
    assert summary["frames"] == 6
    assert "image/png" in kinds  # the annotated frame, inline
    assert json.loads((out / "tracks.json").read_text())
    endpoint = local_stack["outputs"]["EndpointName"] + "-notebook"
    with pytest.raises(ClientError):
        boto_session(local_stack["endpoint_url"]).client("sagemaker").describe_endpoint(
            EndpointName=endpoint
        )


def test_batch_notebook_runs_the_processing_job_and_fetches_its_results(
    local_stack: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    notebook = run_notebook(
        "batch.ipynb",
        {
            "FAIRMOT_STATE_DIR": local_stack["state_dir"],
            "FAIRMOT_MODEL": str(tiny_model(tmp_path / "model")),
            "FAIRMOT_VIDEO": str(tiny_video(tmp_path / "clip.mp4")),
            "FAIRMOT_OUT": str(out),
        },
        tmp_path,
    )
    text, kinds = outputs_of(notebook)
    assert " Completed " in text
    summary = next(json.loads(line) for line in text.splitlines() if line.startswith("{"))
    assert summary["frames"] == 6
    assert "image/png" in kinds
    assert (out / "tracks.txt").exists()
    assert json.loads((out / "tracks.json").read_text())


def test_training_notebook_tunes_two_children_and_trains_a_model(
    local_stack: dict[str, Any], tmp_path: Path
) -> None:
    from sdk_support import TINY_HYPERPARAMETERS

    notebook = run_notebook(
        "training.ipynb",
        {
            "FAIRMOT_STATE_DIR": local_stack["state_dir"],
            "FAIRMOT_DATASET": str(tmp_path / "dataset"),
            "FAIRMOT_HYPERPARAMETERS": json.dumps(TINY_HYPERPARAMETERS),
            "FAIRMOT_RUN_ID": "test",
        },
        tmp_path,
    )
    text, _ = outputs_of(notebook)
    reports = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    tuning, final = reports
    assert tuning["children"] == 2
    assert final["status"] == "Completed"
    boto = boto_session(local_stack["endpoint_url"])
    bucket, key = final["artifact"][len("s3://") :].split("/", 1)
    assert boto.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
