"""The tracker named in a `Video Processing Requested` event reaches the processing job."""

from __future__ import annotations

import plan_batch
import pytest
import schedule_batches
from functions_support import BUCKET, CONTEXT, Aws, sample, video_bytes
from test_functions_scene import MODEL_URI, VIDEO_KEY, planned

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")


def test_the_events_tracker_is_the_jobs_fairmot_tracker(aws: Aws, meta: dict[str, str]) -> None:
    plain = planned(aws, meta)
    assert "FAIRMOT_TRACKER" not in plain["request"]["Environment"]
    chosen = planned(aws, meta, tracker="fairbyte")
    assert chosen["request"]["Environment"]["FAIRMOT_TRACKER"] == "fairbyte"
    # Another tracker is another job, not a duplicate of the first.
    assert chosen["request"]["ProcessingJobName"] != plain["request"]["ProcessingJobName"]
    aws.sagemaker.create_processing_job(**chosen["request"])  # a request SageMaker accepts


def test_a_tracker_that_is_not_a_name_is_rejected(aws: Aws, meta: dict[str, str]) -> None:
    with pytest.raises(Exception, match="tracker"):
        planned(aws, meta, tracker="../../etc/x.yaml")


def test_the_batch_workflow_hands_the_requests_tracker_to_its_job(
    aws: Aws, meta: dict[str, str]
) -> None:
    """The live path (admission -> PlanBatch), not only the single-video plan the SDK sends."""
    aws.s3.put_object(Bucket=BUCKET, Key=VIDEO_KEY, Body=video_bytes(2048))
    event = sample("video-processing-requested")
    event["detail"].update(modelUri=MODEL_URI, tracker="fairmot")
    other = {**event, "detail": {**event["detail"], "tracker": "fairbyte"}}
    # The scheduler never puts two trackers (or models, scenes, run ids) in one job.
    assert schedule_batches.batch_group(event) != schedule_batches.batch_group(other)
    jobs = [
        plan_batch.handler({"input": {"events": [e]}, "meta": meta}, CONTEXT)["request"]
        for e in (event, other)
    ]
    assert [j["Environment"]["FAIRMOT_TRACKER"] for j in jobs] == ["fairmot", "fairbyte"]
    assert jobs[0]["ProcessingJobName"] != jobs[1]["ProcessingJobName"]
    aws.sagemaker.create_processing_job(**jobs[0])  # a request SageMaker accepts
