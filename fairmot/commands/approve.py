"""`fairmot approve PACKAGE`: approve (or reject) a model package; approval starts deploy."""

from __future__ import annotations

import argparse
import sys
from typing import Any

PENDING = "PendingManualApproval"


class PackageNotFoundError(LookupError):
    """PACKAGE names no model package (or its group has none pending)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "approve",
        help="approve a registered model package (the deploy workflow then deploys it)",
        description=(
            "Set a model package's approval status in the SageMaker Model Registry. PACKAGE is "
            "a model package ARN, GROUP/VERSION, or a GROUP (its newest package pending manual "
            "approval). Approval emits the registry's state-change event, which starts the "
            "deploy workflow. Honours AWS_ENDPOINT_URL (e.g. `fairmot local up`)."
        ),
    )
    parser.add_argument("package", help="model package ARN, GROUP/VERSION or GROUP")
    parser.add_argument("--reject", action="store_true", help="reject instead of approving")
    parser.add_argument("--description", default="", help="why (kept as ApprovalDescription)")
    parser.set_defaults(func=run)


def resolve(sagemaker: Any, package: str) -> str:
    """The model package ARN that PACKAGE names."""
    if ":model-package/" in package:
        return package
    group, _, version = package.partition("/")
    listed = sagemaker.list_model_packages(
        ModelPackageGroupName=group, SortBy="CreationTime", SortOrder="Descending",
        **({} if version else {"ModelApprovalStatus": PENDING}),
    )["ModelPackageSummaryList"]  # fmt: skip
    for summary in listed:
        if not version or str(summary.get("ModelPackageVersion")) == version:
            return str(summary["ModelPackageArn"])
    wanted = f"version {version}" if version else "package pending manual approval"
    raise PackageNotFoundError(f"model package group {group!r} has no {wanted}")


def approve(sagemaker: Any, package: str, *, reject: bool = False, description: str = "") -> str:
    """Approve (or reject) the package; return its ARN."""
    arn = resolve(sagemaker, package)
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus="Rejected" if reject else "Approved",
        **({"ApprovalDescription": description} if description else {}),
    )
    return arn


def run(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        arn = approve(
            boto3.client("sagemaker"), args.package, reject=args.reject,
            description=args.description,
        )  # fmt: skip
    except PackageNotFoundError as error:
        print(f"fairmot approve: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(f"fairmot approve: SageMaker refused: {error}", file=sys.stderr)
        return 1
    print(f"{'rejected' if args.reject else 'approved'} {arn}")
    return 0
