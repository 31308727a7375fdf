"""Local SageMaker quotas: at most N processing jobs of one instance type in progress at a time.

An AWS account has a quota of concurrent processing jobs per instance type (often single digits
for GPU types); past it CreateProcessingJob answers ResourceLimitExceeded. FAIRMOT_LOCAL_QUOTAS
(`ml.g4dn.xlarge=2,ml.g5.xlarge=1`) sets those limits here, so the batch workflow's admission and
quota-aware retries meet the same answer as on AWS. `peak` records the most jobs of each type
that were ever in progress together, for tests and benchmarks.
"""

from __future__ import annotations

import os
import threading
from typing import Any

QUOTAS_VARIABLE = "FAIRMOT_LOCAL_QUOTAS"


def parse_quotas(text: str) -> dict[str, int]:
    """`type=N,type=N` -> {type: N}; a malformed entry fails with the variable named."""
    quotas: dict[str, int] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        kind, _, limit = entry.partition("=")
        if not kind.startswith("ml.") or not limit.isdigit() or int(limit) < 1:
            raise ValueError(
                f"{QUOTAS_VARIABLE}: {entry!r} is not <instance type>=<jobs >= 1>, "
                "e.g. ml.g4dn.xlarge=2"
            )
        quotas[kind] = int(limit)
    return quotas


class ProcessingQuota:
    """Counts in-progress processing jobs per instance type against the configured limits."""

    def __init__(self, limits: dict[str, int] | None = None) -> None:
        self.limits = (
            parse_quotas(os.environ.get(QUOTAS_VARIABLE, "")) if limits is None else limits
        )
        self.peak: dict[str, int] = {}
        self.types: dict[str, str] = {}  # job name -> instance type (moto does not keep it)
        self.lock = threading.Lock()  # held from admit() until the job is registered

    def admit(self, backend: Any, name: str, instance_type: str) -> None:
        """Raise ResourceLimitExceeded when a new job of this type would pass the quota."""
        from moto.sagemaker.exceptions import SagemakerClientError

        running = sum(
            1
            for job_name, kind in self.types.items()
            if kind == instance_type
            and backend.processing_jobs[job_name].processing_job_status
            in ("InProgress", "Stopping")
        )
        limit = self.limits.get(instance_type)
        if limit is not None and running >= limit:
            error = SagemakerClientError(
                f"The account-level service limit '{instance_type} for processing job usage' is "
                f"{limit} Instances, with current utilization of {running} Instances and a "
                "request delta of 1 Instances. Please use AWS Service Quotas to request an "
                "increase for this quota."
            )
            error.code = "ResourceLimitExceeded"
            raise error
        self.peak[instance_type] = max(self.peak.get(instance_type, 0), running + 1)
        self.types[name] = instance_type
