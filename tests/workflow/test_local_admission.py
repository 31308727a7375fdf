"""Batch admission in local mode: a burst of uploads becomes a few batch jobs within the
account's processing-job quota (emulated), prefix requests fan out through the same queue, and
two versions of one key give two results."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fairmot.local.quota_seam import QUOTAS_VARIABLE
from fairmot.local.stack import LocalAws
from tests.workflow.conftest import REPO, open_stack, register_latest_model

pytestmark = pytest.mark.slow
INSTANCE_TYPE = "ml.g4dn.xlarge"  # the template's default ProcessingInstanceType
QUOTA = 2


@pytest.fixture(scope="session")
def short_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """8 synthetic frames of 64x36 as mp4: the cheapest real video the job can track."""
    import cv2

    from fairmot.data import generate_dataset, read_sequence
    from fairmot.video import VideoWriter

    root = tmp_path_factory.mktemp("short")
    generate_dataset(root / "seq", sequences=1, frames=8, width=64, height=36, seed=5)
    sequence = read_sequence(next(p for p in (root / "seq").iterdir() if p.is_dir()))
    video = root / "short.mp4"
    with VideoWriter(video, fps=sequence.frame_rate, width=64, height=36) as writer:
        for frame in range(1, sequence.length + 1):
            writer.write(cv2.imread(str(sequence.image_path(frame))))
    return video.read_bytes()


@pytest.fixture
def batched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAws]:
    """The template with a quota of 2 concurrent processing jobs and 50 videos a job."""
    monkeypatch.setenv(QUOTAS_VARIABLE, f"{INSTANCE_TYPE}={QUOTA}")
    with open_stack(
        REPO / "template.yaml", tmp_path / "aws", BatchMaxVideos="50",
        MaxConcurrentProcessingJobs=str(QUOTA), BatchWindowSeconds="2",
    ) as aws:  # fmt: skip
        yield aws
        assert aws.requests.refusals == []


def results_events(aws: LocalAws, expected: int, timeout_s: float) -> list[dict[str, Any]]:
    """Wait until `expected` video results were published and the batch executions ended."""
    assert aws.stack is not None
    # One client for the whole wait: creating clients reads os.environ, which the in-process
    # Lambdas change on other threads.
    sfn, machine = aws.client("stepfunctions"), aws.stack.state_machine("batch")
    deadline = time.monotonic() + timeout_s
    kinds = {"Video Processed", "Video Processing Failed"}
    while time.monotonic() < deadline:
        found = [e for e in aws.published.events if e["detail-type"] in kinds]
        running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")
        if len(found) >= expected and not running["executions"]:
            return found
        time.sleep(1)
    raise AssertionError(f"{len(found)} of {expected} results after {timeout_s}s; {where(aws)}")


def where(aws: LocalAws) -> str:
    """Where the videos without a result are: the queues' counts and the batch executions."""
    assert aws.stack is not None
    sqs, sfn = aws.client("sqs"), aws.client("stepfunctions")
    counts = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        counts[url.rsplit("/", 1)[-1]] = {
            k: attributes[k] for k in ("ApproximateNumberOfMessages",
                                       "ApproximateNumberOfMessagesNotVisible")
        }  # fmt: skip
    listed = sfn.list_executions(stateMachineArn=aws.stack.state_machine("batch"))["executions"]
    return f"queues {counts}; batch executions {Counter(e['status'] for e in listed)}"


@pytest.mark.timeout(1500)  # 200 videos through 4+ real jobs on 2 shared cores
def test_a_burst_of_200_uploads_runs_in_few_jobs_within_the_quota(
    batched: LocalAws, tiny_model: Path, short_video: bytes
) -> None:
    assert batched.stack is not None and batched.sagemaker is not None
    register_latest_model(batched, tiny_model)
    s3 = batched.client("s3")
    keys = [f"videos/burst/cam{n:03d}.mp4" for n in range(200)]
    for key in keys:
        s3.put_object(Bucket=batched.stack.bucket, Key=key, Body=short_video)
    events = results_events(batched, expected=200, timeout_s=600)
    assert [e["detail-type"] for e in events if e["detail-type"] != "Video Processed"] == []
    videos = Counter(e["detail"]["video"] for e in events)
    assert videos == Counter(f"s3://{batched.stack.bucket}/{key}" for key in keys)  # once each
    jobs = batched.client("sagemaker").list_processing_jobs()["ProcessingJobSummaries"]
    assert 4 <= len(jobs) <= 10  # 200 videos in batches of at most 50, not 200 jobs
    assert all(j["ProcessingJobStatus"] == "Completed" for j in jobs)
    assert batched.sagemaker.quota.peak[INSTANCE_TYPE] <= QUOTA
    frames = json.loads(
        s3.get_object(Bucket=batched.stack.bucket, Key="results/burst/cam199/summary.json")[
            "Body"
        ].read()
    )["frames"]
    assert frames == 8


def test_two_versions_of_one_key_give_two_results_each_naming_its_version(
    batched: LocalAws, tiny_model: Path, short_video: bytes, tiny_video: Path
) -> None:
    assert batched.stack is not None
    register_latest_model(batched, tiny_model)
    s3, bucket, key = batched.client("s3"), batched.stack.bucket, "videos/cam1/again.mp4"
    first = s3.put_object(Bucket=bucket, Key=key, Body=short_video)["VersionId"]
    second = s3.put_object(Bucket=bucket, Key=key, Body=tiny_video.read_bytes())["VersionId"]
    events = results_events(batched, expected=2, timeout_s=300)
    assert {e["detail-type"] for e in events} == {"Video Processed"}
    by_version = {e["detail"]["videoVersionId"]: e["detail"] for e in events}
    assert set(by_version) == {first, second}
    # The 8-frame upload and the 12-frame one each report their own frames, in their own folder.
    assert by_version[first]["summary"]["frames"] == 8
    assert by_version[second]["summary"]["frames"] == 12
    assert by_version[second]["outputs"]["prefix"] == f"s3://{bucket}/results/cam1/again/"
    assert by_version[first]["outputs"]["prefix"] == f"s3://{bucket}/results/cam1/again@{first}/"


def test_a_prefix_request_processes_every_video_under_it_once(
    batched: LocalAws, tiny_model: Path, short_video: bytes
) -> None:
    assert batched.stack is not None
    register_latest_model(batched, tiny_model)
    s3, bucket = batched.client("s3"), batched.stack.bucket
    mine = [f"videos/2026-11-30/cam{n}.mp4" for n in range(3)] + ["videos/2026-11-30/a/b.mkv"]
    for key in mine:
        s3.put_object(Bucket=bucket, Key=key, Body=short_video)
    s3.put_object(Bucket=bucket, Key="videos/2026-11-30/notes.txt", Body=b"not a video")
    s3.put_object(Bucket=bucket, Key="videos/2026-12-01/other.mp4", Body=short_video)
    results_events(batched, expected=5, timeout_s=300)  # the uploads' own results
    correlation = f"backfill-{uuid.uuid4()}"
    batched.client("events").put_events(Entries=[{
        "Source": "upstream.backfill", "DetailType": "Video Processing Requested",
        "EventBusName": batched.stack.bus,
        # A runId: the same videos with the same model were processed already (their uploads),
        # and without one the planned job would be the same job, a duplicate.
        "Detail": json.dumps({"prefixUri": f"s3://{bucket}/videos/2026-11-30/",
                              "correlationId": correlation, "runId": "backfill-1"}),
    }])  # fmt: skip
    events = results_events(batched, expected=9, timeout_s=300)
    requested = [e for e in events if e["detail"]["correlationId"] == correlation]
    assert Counter(e["detail"]["video"] for e in requested) == Counter(
        f"s3://{bucket}/{key}" for key in mine
    )
    assert {e["detail-type"] for e in requested} == {"Video Processed"}
