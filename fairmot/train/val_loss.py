"""val_loss: the training loss on the validation halves of a half_val job.

Identities keep the numbers the classifier learned on the first halves; people who only appear
in the second half have no class (id -1) and count for detection only. This is the objective
the public SageMaker FairMOT sample tuned on; our tuning default is val_idf1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from fairmot.data.labels import (
    Sample,
    class_counts,
    dataset_classes,
    identity_numbers,
    num_classes,
    sequence_labels,
    train_frames,
    validation_frames,
)
from fairmot.data.manifest import sequence_dirs
from fairmot.data.mot import read_sequence


def validation_set(dataset_dir: Path, input_w: int, input_h: int) -> Any:
    """A TrainingSet (no augmentation) over the second halves, ids numbered as in training."""
    from fairmot.data.dataset import TrainingSet

    classes = dataset_classes(dataset_dir)
    samples: list[Sample] = []
    offsets = [0] * num_classes(classes)
    for seq_dir in sequence_dirs(dataset_dir):
        seq = read_sequence(seq_dir)
        # The numbers the half_val training labels gave the first halves' identities.
        trained = identity_numbers(seq, train_frames(seq, half_val=True), offsets, classes)
        samples.extend(sequence_labels(seq, validation_frames(seq), trained, classes))
        offsets = [o + n for o, n in zip(offsets, class_counts(seq, trained, classes), strict=True)]
    return TrainingSet(
        samples,
        sum(offsets),
        input_w,
        input_h,
        augment=False,
        num_classes=len(offsets),
        class_nID=offsets,
    )


@torch.no_grad()
def validation_loss(
    module: torch.nn.Module, dataset: Any, *, batch_size: int, device: torch.device
) -> float:
    """Mean total loss over the validation set (module: network + FairMOTLoss)."""
    was_training = module.training
    module.eval()
    total, count = 0.0, 0
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        _, stats = module(batch)
        size = int(batch["input"].shape[0])
        total += stats["loss"] * size
        count += size
    module.train(was_training)
    return total / max(count, 1)
