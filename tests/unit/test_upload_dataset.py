"""`fairmot upload-dataset` on moto: manifest last, resumable, multipart ETags, AWS_ENDPOINT_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from fairmot.cli import main
from fairmot.data.errors import DatasetError
from fairmot.data.manifest import DatasetManifest, write_manifest
from fairmot.upload import local_etag, parse_destination, upload_dataset

BUCKET = "data"
DEST = f"s3://{BUCKET}/datasets/tiny"


def make_dataset(root: Path, sequences: tuple[str, ...] = ("SEQ-01", "SEQ-02")) -> Path:
    for seq in sequences:
        (root / seq / "img1").mkdir(parents=True)
        (root / seq / "gt").mkdir()
        (root / seq / "seqinfo.ini").write_text(f"[Sequence]\nname={seq}\nseqLength=2\n")
        (root / seq / "gt" / "gt.txt").write_text("1,1,1,1,5,5,1,1,1\n")
        for frame in (1, 2):
            (root / seq / "img1" / f"{frame:06d}.jpg").write_bytes(os.urandom(300))
    (root / "notes-not-part-of-the-dataset.txt").write_text("local only")
    write_manifest(root, DatasetManifest(name="tiny", sequences=list(sequences)))
    return root


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def record_puts(s3: Any) -> list[str]:
    """Keys in the order they were sent (botocore's own parameter hook)."""
    keys: list[str] = []
    s3.meta.events.register(
        "before-parameter-build.s3.PutObject", lambda params, **_: keys.append(params["Key"])
    )
    s3.meta.events.register(
        "before-parameter-build.s3.CreateMultipartUpload",
        lambda params, **_: keys.append(params["Key"]),
    )
    return keys


def keys_in(s3: Any) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_uploads_the_sequences_then_the_manifest_last(s3: Any, tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path)
    order = record_puts(s3)
    report = upload_dataset(dataset, DEST, s3=s3, progress=False, log=lambda _: None)
    assert (report.uploaded, report.skipped) == (9, 0)
    assert report.manifest_uri == f"{DEST}/manifest.json"
    assert order[-1] == "datasets/tiny/manifest.json"
    assert len(order) == 9
    assert "datasets/tiny/SEQ-02/img1/000002.jpg" in keys_in(s3)
    assert "datasets/tiny/notes-not-part-of-the-dataset.txt" not in keys_in(s3)


def test_rerun_resumes_and_skips_what_is_there(s3: Any, tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path)
    upload_dataset(dataset, DEST, s3=s3, progress=False, log=lambda _: None)
    again = upload_dataset(dataset, DEST, s3=s3, progress=False, log=lambda _: None)
    assert (again.uploaded, again.skipped, again.bytes_uploaded) == (0, 9, 0)

    s3.delete_object(Bucket=BUCKET, Key="datasets/tiny/SEQ-01/gt/gt.txt")
    frame = dataset / "SEQ-02" / "img1" / "000001.jpg"
    frame.write_bytes(os.urandom(300))  # same size, new content
    order = record_puts(s3)
    resumed = upload_dataset(dataset, DEST, s3=s3, progress=False, log=lambda _: None)
    assert resumed.uploaded == 3  # the two changed files, then the manifest again
    assert sorted(order[:2]) == [
        "datasets/tiny/SEQ-01/gt/gt.txt",
        "datasets/tiny/SEQ-02/img1/000001.jpg",
    ]
    assert order[-1] == "datasets/tiny/manifest.json"


def test_multipart_etag_is_recognised(s3: Any, tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path, ("SEQ-01",))
    big = dataset / "SEQ-01" / "img1" / "000003.jpg"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    part = 5 * 1024 * 1024  # S3's smallest part
    upload_dataset(dataset, DEST, s3=s3, progress=False, part_size=part, log=lambda _: None)
    etag = s3.head_object(Bucket=BUCKET, Key="datasets/tiny/SEQ-01/img1/000003.jpg")["ETag"]
    assert etag.strip('"') == local_etag(big, part) and etag.strip('"').endswith("-3")
    again = upload_dataset(dataset, DEST, s3=s3, progress=False, part_size=part, log=lambda _: None)
    assert again.uploaded == 0


def test_incomplete_dataset_uploads_nothing(s3: Any, tmp_path: Path) -> None:
    dataset = make_dataset(tmp_path)
    write_manifest(dataset, DatasetManifest(name="tiny", sequences=["SEQ-01", "SEQ-09"]))
    with pytest.raises(DatasetError, match="SEQ-09"):
        upload_dataset(dataset, DEST, s3=s3, progress=False, log=lambda _: None)
    assert keys_in(s3) == set()


def test_an_etag_that_is_not_our_hash_falls_back_to_the_stored_md5(s3: Any, tmp_path: Path) -> None:
    # SSE-KMS ETags are not MD5s; parts of another size give another ETag: same situation.
    dataset = make_dataset(tmp_path, ("SEQ-01",))
    big = dataset / "SEQ-01" / "img1" / "000003.jpg"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    upload_dataset(
        dataset, DEST, s3=s3, progress=False, part_size=5 * 1024 * 1024, log=lambda _: None
    )
    key = "datasets/tiny/SEQ-01/img1/000003.jpg"
    etag = s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
    assert etag != local_etag(big)  # default 8 MiB parts hash differently
    order = record_puts(s3)
    assert upload_dataset(dataset, DEST, s3=s3, progress=False, log=lambda _: None).uploaded == 0
    assert order == []
    big.write_bytes(os.urandom(11 * 1024 * 1024))  # same size, new content: uploaded again
    assert upload_dataset(dataset, DEST, s3=s3, progress=False, log=lambda _: None).uploaded == 2


@pytest.mark.parametrize(
    "bad",
    ["data/datasets/x", "s3://data/models/x", "s3://data/datasets/", "s3://data/datasets/a/b"],
)
def test_destination_must_be_a_dataset_prefix(bad: str) -> None:
    with pytest.raises(ValueError, match="datasets/NAME"):
        parse_destination(bad)
    assert parse_destination("s3://data/datasets/tiny/") == ("data", "datasets/tiny/")


@pytest.mark.slow
def test_cli_honours_aws_endpoint_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = make_dataset(tmp_path)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint,
        }.items():  # fmt: skip
            monkeypatch.setenv(key, value)
        client = boto3.client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket=BUCKET)
        assert main(["upload-dataset", str(dataset), DEST, "--no-progress", "--workers", "2"]) == 0
        assert "datasets/tiny/manifest.json" in keys_in(client)
        assert main(["upload-dataset", str(dataset), "s3://data/elsewhere/x"]) == 2
    finally:
        server.stop()
