"""Upload a dataset directory to S3 so that the training workflow starts on a complete dataset.

The sequence files go first, in parallel; `manifest.json` goes last, because its arrival is the
S3 event that starts training. Uploads resume: an object already in S3 with the same size and
the same content hash is skipped. The hash is the ETag where S3 makes it the MD5 (SSE-S3,
single-part or multipart form) and otherwise (SSE-KMS, the stack's bucket) the MD5 this command
stores in the object's metadata.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairmot.data.manifest import MANIFEST_NAME, read_manifest

DATASETS_PREFIX = "datasets/"
# boto3's default multipart threshold and part size (TransferConfig): the ETag of an object
# uploaded in parts is md5(concatenated part md5s)-<parts>, so the local hash must use the same.
PART_SIZE = 8 * 1024 * 1024
DEFAULT_WORKERS = 8
# Object metadata (x-amz-meta-md5) holding the file's MD5: SSE-KMS ETags are not MD5s.
MD5_METADATA = "md5"


@dataclass(frozen=True)
class UploadReport:
    """What one upload did."""

    uploaded: int
    skipped: int
    bytes_uploaded: int
    manifest_uri: str


def s3_parts(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def parse_destination(destination: str) -> tuple[str, str]:
    """`s3://bucket/datasets/NAME[/]` -> (bucket, "datasets/NAME/")."""
    if not destination.startswith("s3://"):
        raise ValueError(f"{destination!r}: the destination must be s3://BUCKET/datasets/NAME")
    bucket, key = s3_parts(destination)
    prefix = key.strip("/") + "/"
    parts = prefix.split("/")
    if not bucket or not prefix.startswith(DATASETS_PREFIX) or len(parts) != 3 or not parts[1]:
        raise ValueError(
            f"{destination!r}: upload to s3://BUCKET/datasets/NAME (the training workflow "
            "starts on datasets/<name>/manifest.json)"
        )
    return bucket, prefix


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(PART_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def local_etag(path: Path, part_size: int = PART_SIZE) -> str:
    """The ETag S3 gives this file when boto3 uploads it (md5, or the multipart form)."""
    size = path.stat().st_size
    digests = []
    with path.open("rb") as handle:
        while chunk := handle.read(part_size):
            digests.append(hashlib.md5(chunk, usedforsecurity=False).digest())
    if size < part_size:
        return digests[0].hex() if digests else hashlib.md5(b"", usedforsecurity=False).hexdigest()
    joined = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
    return f"{joined}-{len(digests)}"


def dataset_files(dataset_dir: Path) -> list[Path]:
    """Every file of the sequences the manifest names (validated locally first)."""
    manifest = read_manifest(dataset_dir, check_sequences=True)
    files: list[Path] = []
    for sequence in manifest.sequences:
        files += sorted(p for p in (dataset_dir / sequence).rglob("*") if p.is_file())
    return files


def remote_objects(s3: Any, bucket: str, prefix: str) -> dict[str, tuple[int, str]]:
    """key -> (size, etag) of what is already under the prefix."""
    found: dict[str, tuple[int, str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"]] = (int(obj["Size"]), str(obj["ETag"]).strip('"'))
    return found


def s3_client() -> Any:
    """An S3 client that honours AWS_ENDPOINT_URL (moto server, LocalStack, MinIO)."""
    import boto3

    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return boto3.client("s3", endpoint_url=endpoint or None)


def upload_dataset(
    dataset_dir: str | Path,
    destination: str,
    *,
    s3: Any = None,
    workers: int = DEFAULT_WORKERS,
    force: bool = False,
    progress: bool = True,
    part_size: int = PART_SIZE,
    log: Callable[[str], None] = print,
) -> UploadReport:
    """Upload the dataset's sequences in parallel, then manifest.json; skip what is there."""
    from boto3.s3.transfer import TransferConfig
    from tqdm import tqdm

    dataset_dir = Path(dataset_dir)
    bucket, prefix = parse_destination(destination)
    files = dataset_files(dataset_dir)
    s3 = s3 or s3_client()
    existing = {} if force else remote_objects(s3, bucket, prefix)
    config = TransferConfig(
        multipart_threshold=part_size, multipart_chunksize=part_size, use_threads=False
    )

    def key_of(path: Path) -> str:
        return prefix + path.relative_to(dataset_dir).as_posix()

    def needed(path: Path) -> bool:
        there = existing.get(key_of(path))
        if there is None or there[0] != path.stat().st_size:
            return True
        if there[1] == local_etag(path, part_size):
            return False
        head = s3.head_object(Bucket=bucket, Key=key_of(path))
        return bool(head.get("Metadata", {}).get(MD5_METADATA) != file_md5(path))

    manifest = dataset_dir / MANIFEST_NAME
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        todo = [p for p, need in zip(files, pool.map(needed, files), strict=True) if need]
    send_manifest = force or bool(todo) or needed(manifest)
    total = sum(p.stat().st_size for p in todo)
    log(
        f"{len(todo)} of {len(files)} files to upload ({total / 1e6:.1f} MB) to s3://{bucket}/{prefix}"
    )
    lock = threading.Lock()
    with tqdm(total=total, unit="B", unit_scale=True, disable=not progress, desc="upload") as bar:

        def advance(n: int) -> None:
            with lock:
                bar.update(n)

        def send(path: Path) -> None:
            s3.upload_file(
                str(path), bucket, key_of(path), Config=config, Callback=advance,
                ExtraArgs={"Metadata": {MD5_METADATA: file_md5(path)}},
            )  # fmt: skip

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(send, todo))  # re-raises the first failure
    # Last, and only once everything else is there: this object starts the training workflow.
    if send_manifest:
        s3.upload_file(
            str(manifest), bucket, key_of(manifest), Config=config,
            ExtraArgs={"Metadata": {MD5_METADATA: file_md5(manifest)}},
        )  # fmt: skip
    uploaded = len(todo) + int(send_manifest)
    return UploadReport(
        uploaded=uploaded,
        skipped=len(files) + 1 - uploaded,
        bytes_uploaded=total + (manifest.stat().st_size if send_manifest else 0),
        manifest_uri=f"s3://{bucket}/{key_of(manifest)}",
    )
