"""Batch steps on moto: validate the video, plan the processing job, summarise its results."""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import quote_plus

import normalise_event
import plan_processing
import pytest
import summarise_results
import validate_video
from errors import InvalidEventError, NoModelError, VideoInvalidError
from functions_support import BUCKET, CONTEXT, Aws, s3_created, sample, video_bytes

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")
VIDEO_KEY = "videos/street/cam1.mp4"
MODEL_URI = f"s3://{BUCKET}/models/synth-small/model.tar.gz"


def upload_and_start(
    aws: Aws, meta: dict[str, str], key: str = VIDEO_KEY, size: int = 2048
) -> dict[str, Any]:
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=video_bytes(size))
    event = sample("s3-video-created")
    head = aws.s3.head_object(Bucket=BUCKET, Key=key)
    event["detail"]["object"].update(key=key, size=size, etag=head["ETag"].strip('"'))
    return normalise_event.handler({"workflow": "batch", "event": event, "meta": meta}, CONTEXT)


def validated(aws: Aws, meta: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    start = upload_and_start(aws, meta, **kwargs)
    return {**start, **validate_video.handler(start, CONTEXT)}


def test_video_validates_and_maps_to_its_results_path(aws: Aws, meta: dict[str, str]) -> None:
    video = validated(aws, meta)["video"]
    assert video["uri"] == f"s3://{BUCKET}/{VIDEO_KEY}"
    assert video["resultsPrefix"] == f"s3://{BUCKET}/results/street/cam1/"
    assert video["object"]["size"] == 2048


def test_non_video_upload_is_rejected(aws: Aws, meta: dict[str, str]) -> None:
    with pytest.raises(VideoInvalidError, match=r"\.mp4, \.avi"):
        validated(aws, meta, key="videos/street/notes.txt")


def test_oversized_video_is_rejected(aws: Aws, meta: dict[str, str]) -> None:
    with pytest.raises(VideoInvalidError, match="over the 1048576-byte limit"):
        validated(aws, meta, size=1024 * 1024 + 1)


def test_video_deleted_before_validation_is_rejected(aws: Aws, meta: dict[str, str]) -> None:
    start = upload_and_start(aws, meta)
    aws.s3.delete_object(Bucket=BUCKET, Key=VIDEO_KEY)
    with pytest.raises(VideoInvalidError, match="does not exist"):
        validate_video.handler(start, CONTEXT)


def test_request_event_for_a_missing_video_is_rejected(aws: Aws, meta: dict[str, str]) -> None:
    event = sample("video-processing-requested")
    with pytest.raises(InvalidEventError, match="does not exist"):
        normalise_event.handler({"workflow": "batch", "event": event, "meta": meta}, CONTEXT)


def plan(aws: Aws, state: dict[str, Any], meta: dict[str, str]) -> dict[str, Any]:
    return plan_processing.handler(
        {"request": state["request"], "video": state["video"], "meta": meta}, CONTEXT
    )


def test_no_model_anywhere_fails_clearly(aws: Aws, meta: dict[str, str]) -> None:
    with pytest.raises(NoModelError, match="Video Processing Requested"):
        plan(aws, validated(aws, meta), meta)


def test_plan_uses_the_latest_model_and_detects_duplicates(aws: Aws, meta: dict[str, str]) -> None:
    latest = json.dumps({"modelUri": MODEL_URI}).encode()
    aws.s3.put_object(Bucket=BUCKET, Key="registry/latest.json", Body=latest)
    state = validated(aws, meta)
    planned = plan(aws, state, meta)
    request = planned["request"]
    assert (planned["duplicate"], planned["modelUri"]) == (False, MODEL_URI)
    assert request["ProcessingJobName"].startswith("fairmot-test-proc-cam1-")
    inputs = {i["InputName"]: i["S3Input"] for i in request["ProcessingInputs"]}
    assert inputs["video"]["S3Uri"] == state["video"]["uri"]
    assert inputs["model"]["LocalPath"] == "/opt/ml/processing/input/model"
    output = request["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]
    # The job writes output/cam1/..., which lands at results/street/cam1/.
    assert output["S3Uri"] == f"s3://{BUCKET}/results/street/"
    assert planned["results"]["summaryUri"] == f"s3://{BUCKET}/results/street/cam1/summary.json"
    # Every video of results/street/ gets its own run manifest there, named by its job.
    name = request["ProcessingJobName"]
    assert planned["results"]["manifestUri"] == f"s3://{BUCKET}/results/street/{name}.manifest.json"
    assert request["Environment"]["FAIRMOT_MANIFEST_NAME"] == f"{name}.manifest.json"
    aws.sagemaker.create_processing_job(**request)
    assert plan(aws, state, meta)["duplicate"] is True


def test_the_served_model_wins_over_the_latest(aws: Aws, meta: dict[str, str]) -> None:
    aws.s3.put_object(
        Bucket=BUCKET, Key="registry/latest.json", Body=b'{"modelUri": "s3://b/old.tar.gz"}'
    )
    served = f"s3://{BUCKET}/models/served/model.tar.gz"
    aws.sagemaker.create_model(
        ModelName="m1", ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
        PrimaryContainer={"Image": "img", "ModelDataUrl": served},
    )  # fmt: skip
    aws.sagemaker.create_endpoint_config(
        EndpointConfigName="c1",
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "m1",
                             "InitialInstanceCount": 1, "InstanceType": "ml.m5.xlarge"}],
    )  # fmt: skip
    aws.sagemaker.create_endpoint(EndpointName="fairmot-test-tracker", EndpointConfigName="c1")
    assert plan(aws, validated(aws, meta), meta)["modelUri"] == served


def test_summary_and_outputs_are_reported(aws: Aws) -> None:
    prefix = "results/street/cam1/"
    summary = {"frames": 50, "fps": 12.5, "tracks": 7, "video": "cam1.mp4", "per_track": [1, 2]}
    aws.s3.put_object(Bucket=BUCKET, Key=prefix + "summary.json", Body=json.dumps(summary).encode())
    for name in ("annotated.mp4", "tracks.txt"):
        aws.s3.put_object(Bucket=BUCKET, Key=prefix + name, Body=b"x")
    results = {
        "prefix": f"s3://{BUCKET}/{prefix}",
        "summaryUri": f"s3://{BUCKET}/{prefix}summary.json",
        "manifestUri": f"s3://{BUCKET}/results/street/j.manifest.json",
    }
    meta = {"executionArn": "arn:aws:states:us-east-1:1:execution:b:1", "correlationId": "c"}
    (out,) = summarise_results.handler(
        {"videos": [{"results": results}], "processingJobName": "j", "meta": meta}, CONTEXT
    )["reports"]
    assert out["ok"] is True
    assert out["summary"] == {"frames": 50, "fps": 12.5, "tracks": 7, "video": "cam1.mp4"}
    assert out["outputs"] == {
        "prefix": results["prefix"], "summary": results["summaryUri"],
        "annotated": f"s3://{BUCKET}/{prefix}annotated.mp4", "tracks": f"s3://{BUCKET}/{prefix}tracks.txt",
        "manifest": results["manifestUri"],
    }  # fmt: skip


def test_missing_summary_fails_that_video_alone(aws: Aws) -> None:
    results = {
        "prefix": f"s3://{BUCKET}/results/x/",
        "summaryUri": f"s3://{BUCKET}/results/x/summary.json",
    }
    meta = {"executionArn": "arn:aws:states:us-east-1:1:execution:b:1", "correlationId": "c"}
    (report,) = summarise_results.handler(
        {"videos": [{"video": "v", "results": results}], "processingJobName": "j", "meta": meta},
        CONTEXT,
    )["reports"]
    assert (report["ok"], report["error"], report["video"]) == (False, "ResultsMissingError", "v")
    assert "wrote no summary" in report["reason"]


@pytest.mark.parametrize("field", ["videoUri", "modelUri"])
def test_request_naming_another_bucket_is_rejected(
    aws: Aws, meta: dict[str, str], field: str
) -> None:
    # The stack's roles read and write only its own bucket: a job there would be denied.
    event = sample("video-processing-requested")
    aws.s3.put_object(Bucket=BUCKET, Key=VIDEO_KEY, Body=video_bytes(16))
    event["detail"].update(videoUri=f"s3://{BUCKET}/{VIDEO_KEY}", modelUri=MODEL_URI)
    event["detail"][field] = "s3://someone-elses-bucket/videos/x.mp4"
    with pytest.raises(InvalidEventError, match="outside the pipeline's bucket"):
        normalise_event.handler({"workflow": "batch", "event": event, "meta": meta}, CONTEXT)


ODD_KEY = "videos/cam+1/día 2.mp4"  # a literal plus, a space and non-ASCII


@pytest.mark.parametrize("encoded", [False, True], ids=["raw", "url-encoded"])
def test_object_keys_arrive_raw_or_url_encoded(
    aws: Aws, meta: dict[str, str], encoded: bool
) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key=ODD_KEY, Body=video_bytes(16))
    event = s3_created(aws.s3, ODD_KEY)
    if encoded:  # as S3 notifications send it: videos/cam%2B1/d%C3%ADa+2.mp4
        event["detail"]["object"]["key"] = quote_plus(ODD_KEY, safe="/")
        assert event["detail"]["object"]["key"] == "videos/cam%2B1/d%C3%ADa+2.mp4"
    out = normalise_event.handler({"workflow": "batch", "event": event, "meta": meta}, CONTEXT)
    assert out["request"]["video"]["key"] == ODD_KEY


def test_when_both_forms_exist_the_etag_decides(aws: Aws, meta: dict[str, str]) -> None:
    plus, space = "videos/a+b.mp4", "videos/a b.mp4"
    aws.s3.put_object(Bucket=BUCKET, Key=plus, Body=b"plus")
    aws.s3.put_object(Bucket=BUCKET, Key=space, Body=b"space")
    for key in (plus, space):
        event = s3_created(aws.s3, key)
        event["detail"]["object"]["key"] = plus  # raw "a+b" or encoded "a b": the same text
        out = normalise_event.handler({"workflow": "batch", "event": event, "meta": meta}, CONTEXT)
        assert out["request"]["video"]["key"] == key


def test_an_event_for_an_object_gone_in_both_forms_fails(aws: Aws, meta: dict[str, str]) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key=ODD_KEY, Body=b"x")
    event = s3_created(aws.s3, ODD_KEY)
    aws.s3.delete_object(Bucket=BUCKET, Key=ODD_KEY)
    with pytest.raises(InvalidEventError, match="as sent or URL-decoded"):
        normalise_event.handler({"workflow": "batch", "event": event, "meta": meta}, CONTEXT)


@pytest.mark.parametrize(
    ("head", "valid"),
    [
        (b"\x00\x00\x00\x20ftypisom", True),
        (b"\x00\x00\x00\x08wide\x00\x00", True),  # QuickTime .mov
        (b"RIFF\x00\x10\x00\x00AVI LIST", True),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", True),
        (b"hello, this is a text file", False),
        (b"RIFF\x00\x10\x00\x00WAVEfmt ", False),
    ],
)
def test_the_container_signature_is_checked_before_any_job(
    aws: Aws, meta: dict[str, str], head: bytes, valid: bool
) -> None:
    start = upload_and_start(aws, meta)
    aws.s3.put_object(Bucket=BUCKET, Key=VIDEO_KEY, Body=head + b"\0" * 64)
    if valid:
        assert validate_video.handler(start, CONTEXT)["video"]["uri"].endswith(VIDEO_KEY)
    else:
        with pytest.raises(VideoInvalidError, match="not a video container"):
            validate_video.handler(start, CONTEXT)


def test_mixed_case_suffixes_are_videos_to_the_rule_and_the_check(
    aws: Aws, meta: dict[str, str]
) -> None:
    from cfnlint.decode import decode
    from functions_support import REPO
    from moto.events.models import EventPattern

    template, _ = decode(str(REPO / "template.yaml"))
    pattern = template["Resources"]["VideoUploadedRule"]["Properties"]["EventPattern"]
    wildcards = {k["wildcard"] for k in pattern["detail"]["object"]["key"]}
    casings = {
        "videos/*." + "".join(letters)
        for suffix in validate_video.VIDEO_SUFFIXES
        for letters in itertools.product(*[(c.lower(), c.upper()) for c in suffix[1:]])
    }
    assert wildcards == casings
    pattern["detail"]["bucket"]["name"] = [BUCKET]
    matcher = EventPattern.load(json.dumps(pattern))  # EventBridge's matching, as moto does it
    for key, expected in [("videos/x.Mp4", True), ("videos/a/b.mKv", True),
                          ("videos/x.AvI", True), ("videos/x.mp4.txt", False),
                          ("results/x.mp4", False)]:  # fmt: skip
        aws.s3.put_object(Bucket=BUCKET, Key=key, Body=video_bytes(64))
        assert matcher.matches_event(s3_created(aws.s3, key)) is expected, key
        if expected:
            assert validate_video.handler(upload_and_start(aws, meta, key=key), CONTEXT)["video"]


def test_the_event_version_is_the_one_processed_and_reported(
    aws: Aws, meta: dict[str, str]
) -> None:
    aws.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    start = upload_and_start(aws, meta)
    version = start["request"]["video"]["versionId"]
    assert (
        version
        and validate_video.handler(start, CONTEXT)["video"]["object"]["versionId"] == version
    )
    aws.s3.put_object(Bucket=BUCKET, Key=VIDEO_KEY, Body=video_bytes(32))  # a newer upload
    superseded = validate_video.handler(start, CONTEXT)["video"]
    # Still the event's own version (its size, not the newer one's), with results of its own.
    assert (superseded["object"]["versionId"], superseded["object"]["size"]) == (version, 2048)
    assert superseded["resultsPrefix"] == f"s3://{BUCKET}/results/street/cam1@{version}/"
