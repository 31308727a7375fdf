"""The `train` entry point as SageMaker runs it: a plain process, /opt/ml relocated."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import pytest
from sagemaker_support import (
    BIN,
    TINY_HYPERPARAMETERS,
    free_port,
    link_dataset,
    opt_ml_env,
    run_entry_point,
    wait_for_sigterm_handler,
    write_training_config,
)

pytestmark = pytest.mark.slow

QUICK = {**TINY_HYPERPARAMETERS, "num_epochs": "1", "batch_size": "4"}


def test_training_writes_model_checkpoint_and_metric_lines(trained: Path) -> None:
    from fairmot.model import ModelCard
    from fairmot.train.metrics import METRIC_DEFINITIONS

    card = ModelCard.model_validate_json((trained / "model" / "model.json").read_text())
    assert (trained / "model" / "model.pt").stat().st_size > 0
    assert (card.arch, card.input_w, card.input_h, card.reid_dim) == ("lite", 160, 96, 128)
    assert card.hyperparameters["conf_thres"] == "0.2"
    assert sorted(p.name for p in (trained / "checkpoints").iterdir())[-1].startswith(
        "checkpoint-e0010"
    )
    assert not (trained / "output" / "failure").exists()
    log = (trained / "stdout.log").read_text()
    regexes = {d["Name"]: d["Regex"] for d in METRIC_DEFINITIONS}
    epochs = [float(m) for m in re.findall(regexes["epoch"], log)]
    losses = [float(m) for m in re.findall(regexes["loss"], log)]
    assert epochs[-1] == 10 and len(losses) == len(epochs) >= 10
    assert losses[-1] < losses[0]


def test_unknown_hyperparameter_fails_the_job_listing_valid_names(
    tmp_path: Path, tiny_dataset: Path
) -> None:
    write_training_config(tmp_path, {**QUICK, "learning_rate": "0.1"})
    link_dataset(tmp_path, tiny_dataset)
    result = run_entry_point("train", opt_ml_env(tmp_path))
    assert result.returncode != 0
    failure = (tmp_path / "output" / "failure").read_text()
    assert "learning_rate" in failure.splitlines()[0]
    assert "num_epochs" in failure.splitlines()[0]  # the valid names are listed
    assert not (tmp_path / "model" / "model.pt").exists()


def test_malformed_value_and_missing_dataset_fail_with_reasons(tmp_path: Path) -> None:
    write_training_config(tmp_path, {**QUICK, "lr": "fast"})
    result = run_entry_point("train", opt_ml_env(tmp_path))
    assert result.returncode != 0
    assert "lr" in (tmp_path / "output" / "failure").read_text()

    write_training_config(tmp_path, QUICK)
    result = run_entry_point("train", opt_ml_env(tmp_path))
    assert result.returncode != 0
    assert "manifest.json" in (tmp_path / "output" / "failure").read_text()


def test_sigterm_mid_epoch_checkpoints_and_restart_resumes(
    tmp_path: Path, tiny_dataset: Path
) -> None:
    hyperparameters = {**QUICK, "num_epochs": "3", "batch_size": "1", "print_iter": "1"}
    write_training_config(tmp_path, hyperparameters)
    link_dataset(tmp_path, tiny_dataset)
    env = opt_ml_env(tmp_path)
    process = subprocess.Popen(
        [str(BIN / "train")], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("epoch=2 step="):
            process.send_signal(signal.SIGTERM)
            break
    process.stdout.read()
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert "stopped" in (tmp_path / "output" / "failure").read_text()
    checkpoints = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    stopped_at = re.fullmatch(r"checkpoint-e(\d+)-s(\d+)\.pt", checkpoints[-1])
    assert stopped_at is not None
    assert int(stopped_at[1]) == 1 and int(stopped_at[2]) > 0  # one epoch done, mid-epoch 2

    # A kill in the middle of a later checkpoint write leaves half a file behind.
    newest = tmp_path / "checkpoints" / checkpoints[-1]
    cut = newest.with_name("checkpoint-e0001-s9999999.pt.tmp")
    cut.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    resumed = run_entry_point("train", env)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"epoch 2, step {int(stopped_at[2])}" in resumed.stdout
    assert not cut.exists() and f"removed {cut.name}" in resumed.stdout
    epochs = [int(m) for m in re.findall(r"(?:^|\s)epoch=(\d+) lr=", resumed.stdout)]
    assert epochs == [2, 3]  # the epoch counter went on, not back to 1
    summary = json.loads((tmp_path / "output" / "data" / "training_summary.json").read_text())
    assert summary["epochs"] == 3
    assert not (tmp_path / "output" / "failure").exists()


def test_sigterm_while_the_job_starts_still_fails_with_a_reason(
    tmp_path: Path, tiny_dataset: Path
) -> None:
    write_training_config(tmp_path, QUICK)
    link_dataset(tmp_path, tiny_dataset)
    process = subprocess.Popen(
        [str(BIN / "train")],
        env=opt_ml_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_sigterm_handler(process)  # configuration and torch are still loading
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 128 + signal.SIGTERM  # not -15: the handler was there
    failure = (tmp_path / "output" / "failure").read_text()
    assert failure.startswith("stopped by SIGTERM before training started"), failure


def test_two_hosts_with_gloo_train_and_agree_on_weights(tmp_path: Path, tiny_dataset: Path) -> None:
    port = str(free_port())
    hosts = json.dumps(["algo-1", "algo-2"])
    processes = []
    for host in ("algo-1", "algo-2"):
        root = tmp_path / host
        write_training_config(root, QUICK)
        link_dataset(root, tiny_dataset)
        env = opt_ml_env(
            root,
            SM_HOSTS=hosts,
            SM_CURRENT_HOST=host,
            SM_NUM_GPUS="0",
            FAIRMOT_MASTER_ADDR="127.0.0.1",  # stands in for algo-1's DNS name
            FAIRMOT_MASTER_PORT=port,
            OMP_NUM_THREADS="1",
        )
        processes.append(
            subprocess.Popen(
                [str(BIN / "train")],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert "world size 2" in outputs[0][0]
    assert "2 process(es)" in outputs[0][0]
    digests = dict(
        re.findall(r"rank (\d) parameter digest ([0-9a-f]{64})", outputs[0][0] + outputs[1][0])
    )
    assert set(digests) == {"0", "1"}
    assert digests["0"] == digests["1"]
    assert (tmp_path / "algo-1" / "model" / "model.pt").exists()  # rank 0 writes the model
    assert not (tmp_path / "algo-2" / "model" / "model.pt").exists()
