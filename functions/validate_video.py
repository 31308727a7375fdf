"""Batch step: check that the uploaded object is a video we can process, and where its
results go (results/<same path without suffix>/)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from aws_errors import is_missing
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from clients import client
from errors import VideoInvalidError
from models import S3Object, Video, VideoRequest
from payloads import ValidateVideoPayload
from settings import env_int
from step import logger, pipeline_step

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv")
VIDEOS_PREFIX = "videos/"
RESULTS_PREFIX = "results/"
# Default cap (10 GiB): the processing instance's volume must hold the video and its outputs.
DEFAULT_MAX_VIDEO_BYTES = 10 * 1024**3
# Enough of the file's start to tell its container (one ranged GET, never the whole video).
SIGNATURE_BYTES = 16
# ISO BMFF (mp4, mov): a box type at bytes 4-8; QuickTime files may open with moov/mdat/wide/...
ISO_BMFF_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # Matroska / WebM


def container_of(head: bytes) -> str | None:
    """ "mp4", "avi" or "mkv" from a file's first bytes; None when it is none of them."""
    if head[4:8] in ISO_BMFF_BOXES:
        return "mp4"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] == EBML_MAGIC:
        return "mkv"
    return None


def check_signature(s3: Any, obj: S3Object) -> None:
    """A text file named .mp4 must not start a billed processing job."""
    head = s3.get_object(
        Bucket=obj.bucket, Key=obj.key, Range=f"bytes=0-{SIGNATURE_BYTES - 1}",
        **({"VersionId": obj.versionId} if obj.versionId else {}),
    )["Body"].read()  # fmt: skip
    if container_of(head) is None:
        raise VideoInvalidError(
            f"{obj.uri} is not a video container (it starts with {head[:12]!r}): expected "
            "MP4/MOV (ISO BMFF), AVI (RIFF) or Matroska"
        )


def results_prefix(bucket: str, key: str, version_id: str | None = None) -> str:
    """videos/a/b.mp4 -> s3://bucket/results/a/b/ (the processing job writes <stem>/ there).

    A superseded version (a newer upload replaced it before its job ran) gets results/a/b@<id>/:
    the newest upload keeps the documented place, and each version its own results.
    """
    relative = key[len(VIDEOS_PREFIX) :] if key.startswith(VIDEOS_PREFIX) else key
    stem = str(PurePosixPath(relative).with_suffix(""))
    return f"s3://{bucket}/{RESULTS_PREFIX}{stem}{'@' + version_id if version_id else ''}/"


def validate(s3: Any, request: VideoRequest, max_bytes: int) -> Video:
    obj = request.video
    if PurePosixPath(obj.key).suffix.lower() not in VIDEO_SUFFIXES:
        raise VideoInvalidError(
            f"{obj.uri} is not a video this pipeline processes (suffixes: {', '.join(VIDEO_SUFFIXES)})"
        )
    try:
        latest = s3.head_object(Bucket=obj.bucket, Key=obj.key)
        superseded = bool(obj.versionId) and latest.get("VersionId") != obj.versionId
        # The version the event named, even when a newer upload replaced it: the batch job
        # reads that exact version (plan_batch copies it), so its results are its own.
        found = (
            s3.head_object(Bucket=obj.bucket, Key=obj.key, VersionId=obj.versionId)
            if superseded
            else latest
        )
    except ClientError as error:
        if is_missing(error):
            raise VideoInvalidError(f"{obj.uri} does not exist (deleted after upload?)") from error
        raise
    size = int(found["ContentLength"])
    if size == 0:
        raise VideoInvalidError(f"{obj.uri} is empty")
    if size > max_bytes:
        raise VideoInvalidError(
            f"{obj.uri} is {size} bytes, over the {max_bytes}-byte limit (MaxVideoBytes); "
            "split it or raise the stack parameter"
        )
    version = found.get("VersionId")
    current = obj.model_copy(
        update={"etag": found["ETag"].strip('"'), "size": size, "versionId": version}
    )
    check_signature(s3, current)
    prefix = results_prefix(obj.bucket, obj.key, version if superseded else None)
    return Video(uri=obj.uri, object=current, resultsPrefix=prefix)


@pipeline_step(payload=ValidateVideoPayload)
def handler(event: ValidateVideoPayload, context: LambdaContext) -> dict[str, Any]:
    """-> {video}."""
    video = validate(
        client("s3"), event.request, env_int("MAX_VIDEO_BYTES", DEFAULT_MAX_VIDEO_BYTES)
    )
    logger.info("video valid", extra={"video": video.uri, "size": video.object.size})
    return {"video": video.model_dump()}
