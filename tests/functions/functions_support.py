"""Support for the Lambda step tests: functions/ on sys.path, the stack's environment, S3 data.

A uniquely named module (not conftest) so that test files can import it by name.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairmot.local.lambda_seam import LambdaContext

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO / "functions"
EVENTS = REPO / "events"
# The handlers are top-level modules with functions/ as the root, exactly as Lambda loads them.
sys.path.insert(0, str(FUNCTIONS))
# X-Ray has no daemon here; Powertools reads this when a handler module creates its Tracer.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

BUCKET = "fairmot-dev-databucket-example"  # the bucket the sample events name
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/fairmot-test-sagemaker"
# What the Lambda runtime passes the handlers (local mode's context object, not None).
CONTEXT = LambdaContext(
    function_name="fairmot-test-step",
    invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fairmot-test-step",
    memory_limit_in_mb=256,
    timeout_s=60,
)

STACK_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "NAME_PREFIX": "fairmot-test",
    "DATA_BUCKET": BUCKET,
    "SAGEMAKER_ROLE_ARN": ROLE_ARN,
    "TRAIN_IMAGE_URI": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sagemaker-fairmot:train",
    "SERVE_IMAGE_URI": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sagemaker-fairmot:serve",
    "PROCESS_IMAGE_URI": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/sagemaker-fairmot:process",
    "TRAINING_INSTANCE_TYPE": "ml.g5.2xlarge",
    "TRAINING_INSTANCE_COUNT": "1",
    "TUNING_INSTANCE_TYPE": "ml.g5.xlarge",
    "TUNING_MAX_JOBS": "6",
    "TUNING_MAX_PARALLEL_JOBS": "2",
    "DEFAULT_HYPERPARAMETERS": json.dumps({"arch": "lite", "num_epochs": "2"}),
    "USE_SPOT_TRAINING": "false",
    "MAX_TRAINING_SECONDS": "3600",
    "SERVING_INSTANCE_TYPE": "ml.g4dn.xlarge",
    "SERVING_INSTANCE_COUNT": "1",
    "ENDPOINT_NAME": "fairmot-test-tracker",
    "ENDPOINT_POLL_SECONDS": "1",
    "ENDPOINT_MAX_POLLS": "3",
    "MAX_VIDEO_BYTES": str(1024 * 1024),
    "PROCESSING_INSTANCE_TYPE": "ml.g4dn.xlarge",
    "PROCESSING_INSTANCE_COUNT": "1",
}


# The first bytes of an MP4 (ISO BMFF `ftyp` box): what ValidateVideo's signature check reads.
MP4_HEADER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00"


def video_bytes(size: int) -> bytes:
    """`size` bytes (at least the header) that look like an MP4 to the signature check."""
    return MP4_HEADER + b"\0" * max(size - len(MP4_HEADER), 0)


@dataclass
class Aws:
    s3: Any
    sagemaker: Any
    bucket: str


def sample(name: str) -> dict[str, Any]:
    """A sample event from events/samples/."""
    return json.loads((EVENTS / "samples" / f"{name}.json").read_text())


def put_dataset(
    s3: Any,
    name: str = "synth-small",
    sequences: tuple[str, ...] = ("SYN-01", "SYN-02"),
    *,
    uploaded: tuple[str, ...] | None = None,
    manifest_extra: dict[str, Any] | None = None,
) -> str:
    """A tiny dataset in S3 (only `uploaded` sequences really present); returns the manifest key."""
    prefix = f"datasets/{name}/"
    for seq in sequences if uploaded is None else uploaded:
        for rel, body in (
            ("seqinfo.ini", b"[Sequence]\nname=x\nframeRate=30\nseqLength=2\n"),
            ("gt/gt.txt", b"1,1,10,10,20,40,1,1,1\n"),
            ("img1/000001.jpg", b"\xff\xd8\xff"),
        ):
            s3.put_object(Bucket=BUCKET, Key=f"{prefix}{seq}/{rel}", Body=body)
    manifest = {"name": name, "sequences": list(sequences), **(manifest_extra or {})}
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}manifest.json", Body=json.dumps(manifest).encode())
    return f"{prefix}manifest.json"


def s3_created(s3: Any, key: str, event_id: str = "evt-1") -> dict[str, Any]:
    """An S3 Object Created event (EventBridge shape) for an object that exists in moto."""
    head = s3.head_object(Bucket=BUCKET, Key=key)
    event = sample("s3-dataset-manifest-created")
    event["id"] = event_id
    event["detail"]["object"].update(
        {"key": key, "size": head["ContentLength"], "etag": head["ETag"].strip('"')}
    )
    return event
