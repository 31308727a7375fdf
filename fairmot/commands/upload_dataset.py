"""`fairmot upload-dataset`: upload a dataset directory; its manifest.json starts training."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "upload-dataset",
        help="upload a dataset to s3://BUCKET/datasets/NAME (starts the training workflow)",
        description=(
            "Upload the sequences a dataset's manifest.json names, in parallel with a progress "
            "bar, then manifest.json last: its arrival is the S3 event that starts training, so "
            "training only ever sees a complete dataset. Re-running resumes: objects already in "
            "S3 with the same size and content hash are skipped, and an unchanged dataset "
            "uploads nothing (use a `Training Requested` event with a runId to train again). "
            "Honours AWS_ENDPOINT_URL (e.g. a moto server)."
        ),
    )
    parser.add_argument("dataset", help="dataset directory (sequences + manifest.json)")
    parser.add_argument("destination", help="s3://BUCKET/datasets/NAME")
    parser.add_argument("--workers", type=int, default=8, help="parallel uploads (default 8)")
    parser.add_argument("--force", action="store_true", help="upload everything again")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from fairmot.data.errors import DatasetError
    from fairmot.upload import upload_dataset

    try:
        report = upload_dataset(
            args.dataset,
            args.destination,
            workers=args.workers,
            force=args.force,
            progress=not args.no_progress,
        )
    except (ValueError, DatasetError) as error:
        print(f"fairmot upload-dataset: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"fairmot upload-dataset: S3 refused the upload: {error}", file=sys.stderr)
        return 1
    print(
        f"uploaded {report.uploaded} files ({report.bytes_uploaded / 1e6:.1f} MB), "
        f"skipped {report.skipped} already there; manifest: {report.manifest_uri}"
    )
    return 0
