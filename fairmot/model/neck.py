"""DLAUp + IDAUp neck: iterative deep aggregation back up to stride 4.

Names follow the reference (dla_up.ida_<i>.{proj,up,node}_<j>, ida_up.*) so weights load. The
aggregation convs are DCNv2 in `dla34` and plain 3x3 convs in `dla34_plain`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from fairmot.model.dcn import DCN
from fairmot.model.dla import BN_MOMENTUM


class AggregationConv(nn.Module):
    """3x3 conv (deformable or plain, with bias) + BN + ReLU: the reference `DeformConv`."""

    def __init__(self, cin: int, cout: int, *, deformable: bool) -> None:
        super().__init__()
        self.actf = nn.Sequential(nn.BatchNorm2d(cout, momentum=BN_MOMENTUM), nn.ReLU(inplace=True))
        self.conv: nn.Module = (
            DCN(cin, cout, 3, padding=1) if deformable else nn.Conv2d(cin, cout, 3, padding=1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.actf(self.conv(x))


def bilinear_upsampling_(up: nn.ConvTranspose2d) -> None:
    """Initialise a depthwise transposed conv as bilinear upsampling (as the reference does)."""
    weight = up.weight.data
    size = weight.shape[2]
    factor = math.ceil(size / 2)
    centre = (2 * factor - 1 - factor % 2) / (2.0 * factor)
    for i in range(size):
        for j in range(weight.shape[3]):
            weight[0, 0, i, j] = (1 - abs(i / factor - centre)) * (1 - abs(j / factor - centre))
    weight[1:, 0] = weight[0, 0]


class IDAUp(nn.Module):
    """Projects, upsamples and merges levels [start+1, end) into their finer neighbour."""

    def __init__(
        self,
        out_channels: int,
        channels: Sequence[int],
        up_factors: Sequence[int],
        *,
        deformable: bool,
    ) -> None:
        super().__init__()
        for i in range(1, len(channels)):
            factor = int(up_factors[i])
            up = nn.ConvTranspose2d(
                out_channels,
                out_channels,
                factor * 2,
                stride=factor,
                padding=factor // 2,
                groups=out_channels,
                bias=False,
            )
            bilinear_upsampling_(up)
            self.add_module(
                f"proj_{i}", AggregationConv(channels[i], out_channels, deformable=deformable)
            )
            self.add_module(f"up_{i}", up)
            self.add_module(
                f"node_{i}", AggregationConv(out_channels, out_channels, deformable=deformable)
            )

    def forward(self, layers: list[Tensor], start: int, end: int) -> None:
        """Rewrites layers[start+1:end] in place, each merged with the one before it."""
        for i in range(start + 1, end):
            j = i - start
            up = self.get_submodule(f"up_{j}")(self.get_submodule(f"proj_{j}")(layers[i]))
            layers[i] = self.get_submodule(f"node_{j}")(up + layers[i - 1])


class DLAUp(nn.Module):
    """Aggregates the coarse levels into every finer one; returns maps from fine to coarse."""

    def __init__(
        self, start: int, channels: Sequence[int], scales: Sequence[int], *, deformable: bool
    ) -> None:
        super().__init__()
        self.start = start
        in_channels = list(channels)
        scales = list(scales)
        for i in range(len(channels) - 1):
            j = len(channels) - i - 2
            factors = [s // scales[j] for s in scales[j:]]
            self.add_module(
                f"ida_{i}", IDAUp(channels[j], in_channels[j:], factors, deformable=deformable)
            )
            scales[j + 1 :] = [scales[j]] * (len(scales) - j - 1)
            in_channels[j + 1 :] = [channels[j]] * (len(channels) - j - 1)
        self.steps = len(channels) - 1

    def forward(self, layers: list[Tensor]) -> list[Tensor]:
        layers = list(layers)
        out = [layers[-1]]
        for i in range(self.steps):
            self.get_submodule(f"ida_{i}")(layers, len(layers) - i - 2, len(layers))
            out.insert(0, layers[-1])
        return out
