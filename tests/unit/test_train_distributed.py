"""Data-parallel training with gloo and 2 processes, and the resumable shard sampler."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fairmot.train.distributed import ResumableShardSampler


def test_shards_cover_the_epoch_once_and_resume_where_they_stopped() -> None:
    shards = [
        list(ResumableShardSampler(10, seed=1, epoch=3, rank=r, world_size=3)) for r in range(3)
    ]
    assert all(len(s) == 4 for s in shards)  # padded to 12, 4 per rank
    assert set().union(*map(set, shards)) == set(range(10))
    again = list(ResumableShardSampler(10, seed=1, epoch=3, rank=1, world_size=3, start=2))
    assert again == shards[1][2:]
    other_epoch = list(ResumableShardSampler(10, seed=1, epoch=4, rank=1, world_size=3))
    assert other_epoch != shards[1]


def _worker(rank: int, dataset: str, out: str, init_file: str, queue: object) -> None:
    import torch.distributed as torch_dist

    from fairmot.train.distributed import DistributedContext
    from fairmot.train.hparams import TrainConfig
    from fairmot.train.loop import train

    torch_dist.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=2
    )
    config = TrainConfig.from_strings(
        {
            "arch": "lite",
            "input_w": "160",
            "input_h": "96",
            "batch_size": "2",
            "num_workers": "0",
            "augment": "0",
            "num_epochs": "1",
            "num_iters": "2",
            "lr": "1e-3",
        }
    )
    lines: list[str] = []
    result = train(
        config,
        Path(dataset),
        Path(out) / "model",
        Path(out) / "ck",
        log=lines.append,
        dist=DistributedContext(rank=rank, world_size=2),
    )
    torch_dist.destroy_process_group()
    queue.put((rank, lines, result.metrics["loss"]))  # type: ignore[attr-defined]


@pytest.mark.slow
def test_two_gloo_processes_train_one_model(tmp_path: Path) -> None:
    import torch.multiprocessing as mp

    from fairmot.data import generate_dataset

    dataset = generate_dataset(
        tmp_path / "data", sequences=1, frames=8, width=160, height=96, seed=2
    )
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    procs = [
        ctx.Process(
            target=_worker, args=(r, str(dataset), str(tmp_path), str(tmp_path / "init"), queue)
        )
        for r in range(2)
    ]
    for p in procs:
        p.start()
    results = sorted(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    (_, lines0, loss0), (_, lines1, loss1) = results
    assert lines1 == []  # only rank 0 logs
    epoch_line = next(line for line in lines0 if line.startswith("epoch=1 lr="))
    assert "lr=0.001 " in epoch_line  # the rate of the whole batch, as the reference (no scaling)
    assert loss0 == pytest.approx(loss1)  # epoch means are averaged over the ranks
    assert (tmp_path / "model" / "model.pt").is_file()
    assert [p.name for p in (tmp_path / "ck").iterdir()] == ["checkpoint-e0001-s0000000.pt"]
