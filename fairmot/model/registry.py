"""Arch registry: `build_model(card)` builds the network a model card describes."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from fairmot.model.card import ModelCard
from fairmot.model.dla_seg import DLASeg
from fairmot.model.lite import LiteNet

ARCHS: dict[str, Callable[[ModelCard], nn.Module]] = {
    "dla34": lambda card: DLASeg(card.heads, card.head_conv, deformable=True),
    "dla34_plain": lambda card: DLASeg(card.heads, card.head_conv, deformable=False),
    "lite": lambda card: LiteNet(card.heads, card.head_conv),
}


# Archs the paper only ever trained from pretrained weights (ImageNet DLA-34, CenterNet COCO or
# a FairMOT model-zoo checkpoint): from random weights on MOT17's 2.6k frames they fall far short.
PRETRAINED_ARCHS = frozenset({"dla34"})


class UnknownArchError(ValueError):
    """A card names an arch this package cannot build."""


def build_model(card: ModelCard) -> nn.Module:
    """Build the untrained network of `card` (forward returns {"hm","wh","reg","id"})."""
    try:
        factory = ARCHS[card.arch]
    except KeyError:
        raise UnknownArchError(
            f"unknown arch {card.arch!r}: valid archs are {', '.join(sorted(ARCHS))}"
        ) from None
    return factory(card)
