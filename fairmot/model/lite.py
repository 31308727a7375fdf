"""`lite`: a compact stride-4 encoder-decoder for CPUs (<= 3 GFLOP at 576x320).

A small ResNet-style encoder (strides 4..32) and an IDA-style decoder that merges each coarser
level into the finer one (1x1 projection, bilinear upsampling, add, 3x3 conv) back to stride 4.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from fairmot.model.dla import BN_MOMENTUM, conv_bn_relu
from fairmot.model.heads import add_heads, run_heads

# Encoder: channels of the stem (stride 4) and of the stages at strides 8, 16, 32.
STEM_CHANNELS = (24, 32)
STAGE_CHANNELS = (64, 128, 256)
STAGE_BLOCKS = (1, 1, 1)
# Decoder width at strides 8..32 and at the stride-4 output the heads read.
NECK_CHANNELS = 64
OUT_CHANNELS = 32


class ResBlock(nn.Module):
    """ResNet basic block; strided blocks use a strided 1x1 projection shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, momentum=BN_MOMENTUM)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=BN_MOMENTUM)
        self.shortcut: nn.Module = (
            nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                nn.BatchNorm2d(cout, momentum=BN_MOMENTUM),
            )
            if stride != 1 or cin != cout
            else nn.Identity()
        )

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x), inplace=True)


class Merge(nn.Module):
    """IDA node: project the coarse map, upsample x2, add the fine map, 3x3 conv-BN-ReLU."""

    def __init__(self, coarse: int, fine: int, out: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(*conv_bn_relu(coarse, out, 1))
        self.skip = nn.Identity() if fine == out else nn.Sequential(*conv_bn_relu(fine, out, 1))
        self.node = nn.Sequential(*conv_bn_relu(out, out, 3))

    def forward(self, coarse: Tensor, fine: Tensor) -> Tensor:
        up = F.interpolate(
            self.proj(coarse), size=fine.shape[-2:], mode="bilinear", align_corners=False
        )
        return self.node(up + self.skip(fine))


class LiteNet(nn.Module):
    def __init__(self, heads: dict[str, int], head_conv: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            *conv_bn_relu(3, STEM_CHANNELS[0], 3, 2), *conv_bn_relu(*STEM_CHANNELS, 3, 2)
        )
        stages = []
        cin = STEM_CHANNELS[1]
        for cout, blocks in zip(STAGE_CHANNELS, STAGE_BLOCKS, strict=True):
            stages.append(
                nn.Sequential(
                    ResBlock(cin, cout, 2), *(ResBlock(cout, cout) for _ in range(blocks - 1))
                )
            )
            cin = cout
        self.stages = nn.ModuleList(stages)
        self.merge16 = Merge(STAGE_CHANNELS[2], STAGE_CHANNELS[1], NECK_CHANNELS)
        self.merge8 = Merge(NECK_CHANNELS, STAGE_CHANNELS[0], NECK_CHANNELS)
        self.merge4 = Merge(NECK_CHANNELS, STEM_CHANNELS[1], OUT_CHANNELS)
        self.head_names = list(heads)
        add_heads(self, OUT_CHANNELS, heads, head_conv)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        s4 = self.stem(x)
        s8 = self.stages[0](s4)
        s16 = self.stages[1](s8)
        s32 = self.stages[2](s16)
        out = self.merge4(self.merge8(self.merge16(s32, s16), s8), s4)
        return run_heads(self, out, self.head_names)
