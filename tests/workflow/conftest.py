"""Fixtures for the local-mode workflow tests: a fresh local stack per test, tiny data."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fairmot.local.stack import LocalAws, LocalSettings

REPO = Path(__file__).resolve().parents[2]
MINI = Path(__file__).parent / "fixtures" / "mini"
TINY_W, TINY_H = 160, 96
# 1 epoch of the lite network on 20 images of 160x96 in 2 steps: seconds on 2 cores.
TINY_HYPERPARAMETERS = {
    "arch": "lite",
    "input_w": str(TINY_W),
    "input_h": str(TINY_H),
    "num_epochs": "1",
    "batch_size": "10",
    "num_workers": "0",
    "lr": "1e-3",
}


def open_stack(template: Path, work: Path, **parameters: str) -> LocalAws:
    return LocalAws(
        LocalSettings(
            template=template,
            work_dir=work,
            events_log=work / "events.jsonl",
            echo_events=False,
            wait_scale=0.01,
            parameters=dict(parameters),
        )
    )


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[LocalAws]:
    """The project's template.yaml deployed into a fresh moto (deploy polls every second)."""
    if not (REPO / "template.yaml").exists():
        pytest.skip("template.yaml not written yet")
    with open_stack(REPO / "template.yaml", tmp_path / "aws", EndpointPollSeconds="1") as aws:
        yield aws
        # A request AWS would refuse fails the test even where a Catch turned it into an event.
        assert aws.requests.refusals == []


@pytest.fixture
def mini(tmp_path: Path) -> Iterator[LocalAws]:
    """A small template of the same kinds (bucket, bus, rule, queue, Lambda, state machine)."""
    with open_stack(MINI / "template.yaml", tmp_path / "aws") as aws:
        yield aws


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 synthetic sequences x 10 frames at 160x96, manifest with the tiny hyperparameters."""
    from fairmot.data import generate_dataset, read_manifest, write_manifest

    root = tmp_path_factory.mktemp("tiny") / "dataset"
    generate_dataset(root, sequences=2, frames=10, width=TINY_W, height=TINY_H, seed=3, name="tiny")
    manifest = read_manifest(root)
    write_manifest(root, manifest.model_copy(update={"hyperparameters": TINY_HYPERPARAMETERS}))
    return root


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained lite model artifact (model.tar.gz) at 160x96: enough to serve and process."""
    from fairmot.model import ModelCard, build_model, save_artifact

    card = ModelCard(arch="lite", input_w=TINY_W, input_h=TINY_H, nID=4)
    out = tmp_path_factory.mktemp("model")
    save_artifact(build_model(card), card, out, tarball=True)
    return out / "model.tar.gz"


@pytest.fixture(scope="session")
def tiny_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12-frame synthetic video (160x96) as mp4."""
    import cv2

    from fairmot.data import generate_dataset, read_sequence
    from fairmot.video import VideoWriter

    root = tmp_path_factory.mktemp("video")
    generate_dataset(root / "seq", sequences=1, frames=12, width=TINY_W, height=TINY_H, seed=9)
    seq_dir = next(p for p in (root / "seq").iterdir() if (p / "seqinfo.ini").exists())
    sequence = read_sequence(seq_dir)
    video = root / "clip.mp4"
    with VideoWriter(video, fps=sequence.frame_rate, width=TINY_W, height=TINY_H) as writer:
        for frame in range(1, sequence.length + 1):
            image = cv2.imread(str(sequence.image_path(frame)))
            assert image is not None
            writer.write(image)
    return video


def upload_dataset(
    aws: LocalAws, dataset: Path, name: str, work: Path, **manifest_updates: Any
) -> None:
    """Upload a dataset under datasets/<name>/, manifest.json last (as upload-dataset does)."""
    copy = work / f"dataset-{name}"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(dataset, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest.update(name=name, **manifest_updates)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert aws.stack is not None
    s3 = aws.client("s3")
    files = sorted(p for p in copy.rglob("*") if p.is_file() and p.name != "manifest.json")
    for path in [*files, copy / "manifest.json"]:
        s3.upload_file(str(path), aws.stack.bucket, f"datasets/{name}/{path.relative_to(copy)}")


def register_latest_model(aws: LocalAws, model: Path) -> None:
    """Put a model where the batch workflow looks for the newest one."""
    assert aws.stack is not None
    s3 = aws.client("s3")
    key = "training-output/manual/output/model.tar.gz"
    s3.upload_file(str(model), aws.stack.bucket, key)
    latest = {"modelUri": f"s3://{aws.stack.bucket}/{key}"}
    s3.put_object(
        Bucket=aws.stack.bucket, Key="registry/latest.json", Body=json.dumps(latest).encode()
    )
