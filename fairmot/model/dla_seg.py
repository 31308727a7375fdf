"""The paper's network: DLA-34 + DLAUp/IDAUp neck + FairMOT heads, at output stride 4."""

from __future__ import annotations

from torch import Tensor, nn

from fairmot.model.dla import DLA
from fairmot.model.heads import add_heads, run_heads
from fairmot.model.neck import DLAUp, IDAUp

# Output stride 4 = level 2 of the backbone; the neck aggregates levels 2..5.
FIRST_LEVEL = 2
LAST_LEVEL = 5


class DLASeg(nn.Module):
    """DLA-34 FairMOT network; key-for-key the reference `DLASeg` when `deformable`."""

    def __init__(self, heads: dict[str, int], head_conv: int, *, deformable: bool) -> None:
        super().__init__()
        self.base = DLA()
        channels = self.base.channels[FIRST_LEVEL:]
        self.dla_up = DLAUp(
            FIRST_LEVEL, channels, [2**i for i in range(len(channels))], deformable=deformable
        )
        steps = LAST_LEVEL - FIRST_LEVEL
        self.ida_up = IDAUp(
            channels[0], channels[:steps], [2**i for i in range(steps)], deformable=deformable
        )
        self.head_names = list(heads)
        add_heads(self, channels[0], heads, head_conv)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        pyramid = self.dla_up(self.base(x))
        fused = list(pyramid[: LAST_LEVEL - FIRST_LEVEL])
        self.ida_up(fused, 0, len(fused))
        return run_heads(self, fused[-1], self.head_names)
