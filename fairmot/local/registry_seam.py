"""SEAM: the Model Registry's approval events, and UpdateModelPackage as AWS does it.

moto 5.2.5 stores model packages but emits no `SageMaker Model Package State Change` event, and
its update_model_package blanks the approval status and metadata a request leaves out. This
module wraps `SageMakerModelBackend.create_model_package` / `update_model_package`: left-out
fields keep their values, and each new package or change of approval status puts the event
(source aws.sagemaker, the package's description as detail) on the default bus, where the deploy
workflow's rule matches it.
"""

from __future__ import annotations

import json
from typing import Any

from fairmot.local.seam import Patches

DETAIL_TYPE = "SageMaker Model Package State Change"


def _detail(package: Any) -> dict[str, Any]:
    return {
        "ModelPackageGroupName": package.model_package_group_name,
        "ModelPackageVersion": package.model_package_version,
        "ModelPackageArn": package.arn,
        "CreationTime": package.creation_time,
        "InferenceSpecification": package.inference_specification,
        "ModelApprovalStatus": package.model_approval_status,
    }


def _announce(backend: Any, package: Any) -> None:
    from moto.events.models import events_backends

    events_backends[backend.account_id][backend.region_name].put_events(
        [{"Source": "aws.sagemaker", "DetailType": DETAIL_TYPE, "EventBusName": "default",
          "Detail": json.dumps(_detail(package), default=str)}]
    )  # fmt: skip


def install(patches: Patches) -> None:
    """Wrap create_model_package and update_model_package (see the module docstring)."""
    from moto.sagemaker.models import SageMakerModelBackend

    original_create = SageMakerModelBackend.create_model_package
    original_update = SageMakerModelBackend.update_model_package

    def create_model_package(backend: Any, *args: Any, **kwargs: Any) -> str:
        arn: str = original_create(backend, *args, **kwargs)
        _announce(backend, backend.model_packages[arn])
        return arn

    def update_model_package(
        backend: Any, model_package_arn: str, model_approval_status: str | None, *args: Any,
        **kwargs: Any,
    ) -> str:  # fmt: skip
        package = backend.describe_model_package(model_package_arn)
        status, properties = package.model_approval_status, package.customer_metadata_properties
        arn: str = original_update(
            backend, model_package_arn, model_approval_status, *args, **kwargs
        )
        if package.model_approval_status is None:
            package.model_approval_status = status
        if package.customer_metadata_properties is None:
            package.customer_metadata_properties = properties
        if package.model_approval_status != status:
            _announce(backend, package)
        return arn

    patches.patch_attribute(SageMakerModelBackend, "create_model_package", create_model_package)
    patches.patch_attribute(SageMakerModelBackend, "update_model_package", update_model_package)
