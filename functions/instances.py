"""Which SageMaker instance types have a GPU, and what a container on one is told.

The images run torch 2.13.0 built for CUDA 13.0 (containers/Dockerfile): it needs NVIDIA driver
580 or newer and a GPU of compute capability 7.5 or higher (CUDA 13 dropped Volta, so no ml.p3).
"""

from __future__ import annotations

GPU_FAMILIES = frozenset(
    {"ml.g4dn", "ml.g5", "ml.g6", "ml.g6e", "ml.p4d", "ml.p4de", "ml.p5", "ml.p5e", "ml.p5en"}
)
# Read by fairmot.sagemaker.artifact.ensure_cuda: a job or endpoint on a GPU instance fails
# loudly without CUDA instead of running on the CPU of a paid GPU instance.
REQUIRE_CUDA_VARIABLE = "FAIRMOT_REQUIRE_CUDA"


def is_gpu(instance_type: str) -> bool:
    """ml.g5.2xlarge -> True; ml.m5.xlarge -> False."""
    return instance_type.rsplit(".", 1)[0] in GPU_FAMILIES


def device_environment(instance_type: str) -> dict[str, str]:
    """The container environment that makes a missing GPU a failure on GPU instance types."""
    return {REQUIRE_CUDA_VARIABLE: "1"} if is_gpu(instance_type) else {}
