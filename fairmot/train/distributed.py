"""Data-parallel training with torch.distributed: the context, the sampler, reductions.

The SageMaker entry point sets up the process group (from SM_HOSTS / SM_CURRENT_HOST, one
process per GPU) and passes a DistributedContext to `train()`; `fairmot train` runs one process
with the default context. Backends: NCCL on GPU, gloo on CPU (what the tests use).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as torch_dist
from torch.utils.data import Sampler


@dataclass(frozen=True)
class DistributedContext:
    """Where this process sits in the job: global rank, process count, rank on its host."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = "gloo"

    @property
    def is_main(self) -> bool:
        """Rank 0 logs, checkpoints and writes the model."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @staticmethod
    def default_backend(device: torch.device) -> str:
        """NCCL for CUDA tensors, gloo for CPU ones."""
        return "nccl" if device.type == "cuda" else "gloo"

    def barrier(self) -> None:
        if self.enabled:
            torch_dist.barrier()

    def mean(self, values: dict[str, float], device: torch.device) -> dict[str, float]:
        """The mean of each value over all processes (identity with one process)."""
        if not self.enabled or not values:
            return dict(values)
        names = sorted(values)
        tensor = torch.tensor([values[n] for n in names], dtype=torch.float64, device=device)
        torch_dist.all_reduce(tensor)
        return {n: float(v) / self.world_size for n, v in zip(names, tensor.tolist(), strict=True)}

    def any(self, flag: bool, device: torch.device) -> bool:
        """True when flag is set on any process (so all stop at the same step)."""
        if not self.enabled:
            return flag
        tensor = torch.tensor([1.0 if flag else 0.0], device=device)
        torch_dist.all_reduce(tensor)
        return bool(tensor.item() > 0)


class ResumableShardSampler(Sampler[int]):
    """Shuffled indices of one epoch for one rank, resumable at any position.

    Like torch's DistributedSampler (a permutation seeded by seed + epoch, padded to a multiple of
    world_size, every world_size-th index for this rank), plus `start`: the number of this
    rank's samples already consumed, so a job resumed mid-epoch sees exactly the rest.
    """

    def __init__(
        self,
        length: int,
        *,
        seed: int,
        epoch: int,
        rank: int = 0,
        world_size: int = 1,
        start: int = 0,
        shuffle: bool = True,
    ) -> None:
        if length < 1:
            raise ValueError("the training set is empty")
        generator = torch.Generator().manual_seed(seed * 1000 + epoch)
        order = torch.randperm(length, generator=generator) if shuffle else torch.arange(length)
        indices = order.tolist()
        padded = -(-length // world_size) * world_size
        indices += indices[: padded - length]
        self.indices = indices[rank::world_size][start:]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def shard_length(length: int, world_size: int) -> int:
    """Samples per rank per epoch (the padded share of ResumableShardSampler)."""
    return -(-length // world_size)
