"""Modulated deformable convolution (DCNv2) in pure PyTorch, torchvision's kernel when present.

The module mirrors the parameter layout of the DCNv2 extension the reference FairMOT builds
(`weight`, `bias`, `conv_offset_mask`), so public checkpoints load without renaming.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@cache
def _torchvision_deform_conv2d() -> Callable[..., Tensor] | None:
    """torchvision.ops.deform_conv2d, or None where torchvision is absent or broken."""
    try:
        from torchvision.ops import deform_conv2d
    except (ImportError, RuntimeError, OSError, AttributeError):
        # A torchvision built for another torch raises RuntimeError at import (torchvision::nms).
        return None
    return deform_conv2d


def torchvision_available() -> bool:
    return _torchvision_deform_conv2d() is not None


def deform_conv2d_torch(
    x: Tensor,
    offset: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    mask: Tensor,
    *,
    stride: int = 1,
    padding: int = 1,
    dilation: int = 1,
) -> Tensor:
    """Modulated deformable convolution by bilinear sampling, with torchvision's tensor layouts.

    offset is (B, 2*K, Ho, Wo) with (dy, dx) pairs per kernel tap k = i*kw + j; mask is
    (B, K, Ho, Wo); samples outside the image read zero, as in DCNv2.
    """
    batch, channels, height, width = x.shape
    out_channels, _, kh, kw = weight.shape
    taps = kh * kw
    out_h, out_w = offset.shape[-2:]
    dtype, device = x.dtype, x.device

    # Base sampling positions of every tap, before the learned offsets.
    ys = torch.arange(out_h, device=device, dtype=dtype) * stride - padding
    xs = torch.arange(out_w, device=device, dtype=dtype) * stride - padding
    ki = torch.arange(kh, device=device, dtype=dtype).repeat_interleave(kw) * dilation
    kj = torch.arange(kw, device=device, dtype=dtype).repeat(kh) * dilation
    base_y = ki.view(taps, 1, 1) + ys.view(1, out_h, 1)
    base_x = kj.view(taps, 1, 1) + xs.view(1, 1, out_w)

    offset = offset.view(batch, taps, 2, out_h, out_w)
    pos_y = base_y + offset[:, :, 0]
    pos_x = base_x + offset[:, :, 1]
    # grid_sample with align_corners=True maps -1..1 onto pixel centres 0..size-1; one pixel of
    # zero padding keeps that map defined for 1-pixel maps and makes outside samples zero.
    padded = F.pad(x, (1, 1, 1, 1))
    grid_x = (pos_x + 1) * (2.0 / (width + 1)) - 1
    grid_y = (pos_y + 1) * (2.0 / (height + 1)) - 1
    grid = torch.stack((grid_x, grid_y), dim=-1).view(batch, taps * out_h, out_w, 2)
    sampled = F.grid_sample(padded, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    sampled = sampled.view(batch, channels, taps, out_h, out_w) * mask.view(
        batch, 1, taps, out_h, out_w
    )
    columns = sampled.reshape(batch, channels * taps, out_h * out_w)
    out = torch.matmul(weight.reshape(out_channels, channels * taps), columns)
    out = out.view(batch, out_channels, out_h, out_w)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out


def deform_conv2d(
    x: Tensor,
    offset: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    mask: Tensor,
    *,
    stride: int = 1,
    padding: int = 1,
    dilation: int = 1,
    backend: str = "auto",
) -> Tensor:
    """Dispatch to torchvision's kernel (backend "auto" when it imports, or "torchvision")
    or to the pure-PyTorch implementation ("torch")."""
    if backend not in ("auto", "torch", "torchvision"):
        raise ValueError(f"unknown deform_conv2d backend {backend!r}: auto, torch or torchvision")
    kernel = _torchvision_deform_conv2d() if backend != "torch" else None
    if backend == "torchvision" and kernel is None:
        raise RuntimeError("backend 'torchvision' requested but torchvision.ops does not import")
    if kernel is None:
        return deform_conv2d_torch(
            x, offset, weight, bias, mask, stride=stride, padding=padding, dilation=dilation
        )
    return kernel(
        x,
        offset,
        weight,
        bias,
        stride=(stride, stride),
        padding=(padding, padding),
        dilation=(dilation, dilation),
        mask=mask,
    )


class DCN(nn.Module):
    """DCNv2 layer: a regular conv predicts per-tap offsets and a sigmoid mask.

    Parameter names match the reference `dcn_v2.DCN` (`weight`, `bias`, `conv_offset_mask`).
    The offset/mask conv starts at zero, so a fresh layer is a plain conv with mask 0.5.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        stride: int = 1,
        padding: int = 1,
        dilation: int = 1,
        backend: str = "auto",
    ) -> None:
        super().__init__()
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.backend = backend
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.taps = kernel_size * kernel_size
        self.conv_offset_mask = nn.Conv2d(
            in_channels, 3 * self.taps, kernel_size, stride=stride, padding=padding, bias=True
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.weight[0].numel())
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.zeros_(self.bias)
        nn.init.zeros_(self.conv_offset_mask.weight)
        if self.conv_offset_mask.bias is not None:
            nn.init.zeros_(self.conv_offset_mask.bias)

    def forward(self, x: Tensor) -> Tensor:
        # Channel order of the reference: first 2K channels are offsets, last K the mask logits.
        offset_y_x, mask_logits = torch.split(
            self.conv_offset_mask(x), [2 * self.taps, self.taps], 1
        )
        return deform_conv2d(
            x,
            offset_y_x,
            self.weight,
            self.bias,
            torch.sigmoid(mask_logits),
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            backend=self.backend,
        )
