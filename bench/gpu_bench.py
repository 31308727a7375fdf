"""GPU benchmark for a lent machine: DLA-34 (real DCN path) training it/s and peak memory under
AMP, and inference FPS at 1088x608 with batch 1 and 8. Driven by bench/gpu.sh.

Training batches come from `fairmot.data.build_training_set` on a `fairmot synth` dataset when
--dataset is given and the data stack imports; otherwise random tensors with the training
batch's shapes (said in the output). The loss is `fairmot.losses.FairMOTLoss` when it imports,
else a stand-in of the same terms. Prints one `name=value` line per measurement.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from fairmot.model import ModelCard, build_model
from fairmot.model.dcn import torchvision_available

MAX_OBJECTS = 500  # K: objects per image in a training batch (reference value)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def random_batches(card: ModelCard, batch: int) -> Iterator[dict[str, Tensor]]:
    """Endless training batches of random content with the dataset's shapes and dtypes."""
    h, w = card.input_h // 4, card.input_w // 4
    gen = torch.Generator(device="cpu").manual_seed(0)
    while True:
        objects = 30
        ind = torch.randint(0, h * w, (batch, MAX_OBJECTS), generator=gen)
        mask = torch.zeros(batch, MAX_OBJECTS, dtype=torch.uint8)
        mask[:, :objects] = 1
        hm = torch.zeros(batch, card.num_classes, h * w)
        hm.scatter_(2, ind[:, None, :objects], 1.0)
        ids = torch.randint(0, max(card.nID, 1), (batch, MAX_OBJECTS), generator=gen)
        yield {
            "input": torch.rand(batch, 3, card.input_h, card.input_w, generator=gen),
            "hm": hm.view(batch, card.num_classes, h, w),
            "reg_mask": mask,
            "ind": ind,
            "wh": torch.rand(batch, MAX_OBJECTS, 4, generator=gen) * 20,
            "reg": torch.rand(batch, MAX_OBJECTS, 2, generator=gen),
            "ids": torch.where(mask.bool(), ids, torch.full_like(ids, -1)),
        }


def dataset_batches(
    dataset: Path, card: ModelCard, batch: int, workers: int
) -> tuple[Iterator[dict[str, Tensor]], int]:
    from fairmot.data import build_training_set

    training_set = build_training_set(
        dataset, card.input_w, card.input_h, half_val=False, augment=True
    )
    loader = torch.utils.data.DataLoader(
        training_set,
        batch_size=batch,
        shuffle=True,
        num_workers=workers,
        pin_memory=torch.cuda.is_available(),
        drop_last=True,
        persistent_workers=workers > 0,
    )

    def endless() -> Iterator[dict[str, Tensor]]:
        while True:
            yield from loader

    return endless(), int(training_set.nID)


def make_loss(card: ModelCard) -> tuple[torch.nn.Module | None, Callable[..., Tensor], str]:
    try:
        from fairmot.losses import FairMOTLoss
    except ImportError as error:

        def stand_in(outputs: dict[str, Tensor], batch: dict[str, Tensor]) -> Tensor:
            return sum(v.float().square().mean() for v in outputs.values())  # type: ignore[return-value]

        return None, stand_in, f"stand-in squared outputs ({error})"
    criterion = FairMOTLoss(card)
    return criterion, lambda out, batch: criterion(out, batch)[0], "fairmot.losses.FairMOTLoss"


def train_bench(args: argparse.Namespace, device: torch.device) -> None:
    card = ModelCard(arch=args.arch, input_w=args.width, input_h=args.height, nID=500)
    source = "random tensors"
    batches: Iterator[dict[str, Tensor]]
    if args.dataset is not None:
        try:
            batches, n_ids = dataset_batches(args.dataset, card, args.batch, args.workers)
            card = card.model_copy(update={"nID": n_ids})
            source = f"fairmot.data.build_training_set({args.dataset})"
        except Exception as error:  # any failure of the data stack falls back, said aloud
            print(f"note: dataset unusable ({type(error).__name__}: {error}); using random tensors")
    if source == "random tensors":
        batches = random_batches(card, args.batch)
    model = build_model(card)
    start = "random weights"
    if args.load_model is not None:
        from fairmot.model import load_reference_checkpoint

        report = load_reference_checkpoint(model, args.load_model)
        start = f"{args.load_model.name} ({report.loaded} tensors)"
    model = model.to(device).train()
    criterion, loss_fn, loss_name = make_loss(card)
    params = list(model.parameters())
    if criterion is not None:
        criterion.to(device)
        params += list(criterion.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-4)
    scaler = torch.amp.GradScaler(device.type, enabled=args.amp == "float16")
    amp_dtype = getattr(torch, args.amp) if args.amp != "none" else None
    print(
        f"train: arch={card.arch} input={card.input_w}x{card.input_h} batch={args.batch} "
        f"amp={args.amp} data={source} loss={loss_name} start={start} "
        f"dcn={'torchvision' if torchvision_available() else 'pure torch'}"
    )

    def step(batch: dict[str, Tensor]) -> float:
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        with torch.autocast(
            device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None
        ):
            outputs = model(batch["input"])
        loss = loss_fn(outputs, batch)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return float(loss.detach())

    warmup = min(args.warmup, args.iters)
    for batch in itertools.islice(batches, warmup):
        step(batch)
    sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    done, loss = 0, float("nan")
    for batch in batches:
        loss = step(batch)
        done += 1
        if done >= args.iters - warmup or time.perf_counter() - start > args.train_seconds:
            break
    sync(device)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else float("nan")
    print(
        f"train_it_per_s={done / seconds:.3f} train_img_per_s={done * args.batch / seconds:.2f} "
        f"train_iters={done} train_peak_mem_gib={peak:.2f} "
        f"last_loss={loss:.4f}",
        flush=True,
    )


def infer_bench(args: argparse.Namespace, device: torch.device) -> None:
    card = ModelCard(arch=args.arch, input_w=args.width, input_h=args.height)
    model = build_model(card).to(device).eval()
    for amp in ("none", args.amp):
        dtype = getattr(torch, amp) if amp != "none" else None
        for batch in args.infer_batches:
            x = torch.rand(batch, 3, card.input_h, card.input_w, device=device)

            def forward(x: Tensor = x, dtype: Any = dtype) -> None:
                with (
                    torch.inference_mode(),
                    torch.autocast(
                        device.type, dtype=dtype or torch.float32, enabled=dtype is not None
                    ),
                ):
                    model(x)

            for _ in range(5):
                forward()
            sync(device)
            runs, start = 0, time.perf_counter()
            while runs < args.infer_runs and time.perf_counter() - start < args.infer_seconds:
                forward()
                runs += 1
            sync(device)
            seconds = time.perf_counter() - start
            print(
                f"infer_fps batch={batch} amp={amp} arch={card.arch} "
                f"size={card.input_w}x{card.input_h}: fps={runs * batch / seconds:.1f} "
                f"ms_per_batch={1000 * seconds / runs:.2f}",
                flush=True,
            )
        if amp == args.amp:
            break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stage", choices=("train", "infer", "all"))
    parser.add_argument("--arch", default="dla34")
    parser.add_argument("--dataset", type=Path, default=None)
    parser.add_argument(
        "--load-model", type=Path, default=None, help="pretrained start (e.g. ctdet_coco_dla_2x)"
    )
    parser.add_argument("--width", type=int, default=1088)
    parser.add_argument("--height", type=int, default=608)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--train-seconds", type=float, default=150.0)
    parser.add_argument("--infer-batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--infer-runs", type=int, default=100)
    parser.add_argument("--infer-seconds", type=float, default=15.0)
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu for a smoke test")
    parser.add_argument("--amp", choices=("bfloat16", "float16", "none"), default="bfloat16")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this benchmark is for the GPU machine (bench/gpu.sh)")
    torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu"
    print(
        f"device={name} torch={torch.__version__} torchvision_dcn={torchvision_available()}",
        flush=True,
    )
    if args.stage in ("train", "all"):
        train_bench(args, device)
    if args.stage in ("infer", "all"):
        infer_bench(args, device)


if __name__ == "__main__":
    main()
