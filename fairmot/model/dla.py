"""DLA-34 backbone (Deep Layer Aggregation), laid out like the reference so weights load.

Module and parameter names follow the reference `DLA` class: base_layer, level0..level5,
each Tree with tree1/tree2/root/project, and the ImageNet classifier `fc`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

# BatchNorm momentum of the reference (PyTorch's default too, named for clarity).
BN_MOMENTUM = 0.1
# DLA-34: convs per level and channels per level (strides 1, 2, 4, 8, 16, 32).
DLA34_LEVELS = (1, 1, 1, 2, 2, 1)
DLA34_CHANNELS = (16, 32, 64, 128, 256, 512)
# Classes of the ImageNet classifier kept in every public DLA-34 checkpoint (`base.fc`).
IMAGENET_CLASSES = 1000


def conv_bn_relu(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(cout, momentum=BN_MOMENTUM),
        nn.ReLU(inplace=True),
    ]


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or given) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=BN_MOMENTUM)

    def forward(self, x: Tensor, residual: Tensor | None = None) -> Tensor:
        shortcut = x if residual is None else residual
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


class Root(nn.Module):
    """Aggregation node: 1x1 conv over the concatenated children."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, *children: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv(torch.cat(children, 1))))


class Tree(nn.Module):
    """A hierarchical aggregation tree of `levels` depth over BasicBlocks."""

    def __init__(
        self,
        levels: int,
        cin: int,
        cout: int,
        stride: int = 1,
        *,
        level_root: bool = False,
        root_dim: int = 0,
    ) -> None:
        super().__init__()
        root_dim = root_dim or 2 * cout
        if level_root:
            root_dim += cin
        self.tree1: nn.Module
        self.tree2: nn.Module
        if levels == 1:
            self.tree1 = BasicBlock(cin, cout, stride)
            self.tree2 = BasicBlock(cout, cout, 1)
            self.root = Root(root_dim, cout)
        else:
            self.tree1 = Tree(levels - 1, cin, cout, stride)
            self.tree2 = Tree(levels - 1, cout, cout, root_dim=root_dim + cout)
        self.levels = levels
        self.level_root = level_root
        self.downsample = nn.MaxPool2d(stride, stride=stride) if stride > 1 else None
        self.project = (
            nn.Sequential(
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout, momentum=BN_MOMENTUM)
            )
            if cin != cout
            else None
        )

    def forward(
        self, x: Tensor, residual: Tensor | None = None, children: list[Tensor] | None = None
    ) -> Tensor:
        children = [] if children is None else children
        bottom = self.downsample(x) if self.downsample is not None else x
        shortcut = self.project(bottom) if self.project is not None else bottom
        if self.level_root:
            children.append(bottom)
        x1 = self.tree1(x, shortcut)
        if self.levels == 1:
            x2 = self.tree2(x1)
            return self.root(x2, x1, *children)
        children.append(x1)
        return self.tree2(x1, children=children)


class DLA(nn.Module):
    """DLA backbone returning the feature maps of all six levels (strides 1..32)."""

    def __init__(
        self,
        levels: tuple[int, ...] = DLA34_LEVELS,
        channels: tuple[int, ...] = DLA34_CHANNELS,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.base_layer = nn.Sequential(
            nn.Conv2d(3, channels[0], 7, padding=3, bias=False),
            nn.BatchNorm2d(channels[0], momentum=BN_MOMENTUM),
            nn.ReLU(inplace=True),
        )
        self.level0 = self._conv_level(channels[0], channels[0], levels[0])
        self.level1 = self._conv_level(channels[0], channels[1], levels[1], stride=2)
        self.level2 = Tree(levels[2], channels[1], channels[2], 2)
        self.level3 = Tree(levels[3], channels[2], channels[3], 2, level_root=True)
        self.level4 = Tree(levels[4], channels[3], channels[4], 2, level_root=True)
        self.level5 = Tree(levels[5], channels[4], channels[5], 2, level_root=True)
        # Unused by detection; kept so the public checkpoints (which carry it) load key for key.
        self.fc = nn.Conv2d(channels[5], IMAGENET_CLASSES, 1)

    @staticmethod
    def _conv_level(cin: int, cout: int, convs: int, stride: int = 1) -> nn.Sequential:
        layers: list[nn.Module] = []
        for i in range(convs):
            layers += conv_bn_relu(cin if i == 0 else cout, cout, 3, stride if i == 0 else 1)
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self.base_layer(x)
        features = []
        for level in (self.level0, self.level1, self.level2, self.level3, self.level4, self.level5):
            x = level(x)
            features.append(x)
        return features
