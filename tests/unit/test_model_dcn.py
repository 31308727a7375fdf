"""Deformable conv v2: the pure-PyTorch kernel against conv2d, a naive loop and torchvision."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from fairmot.model.dcn import DCN, deform_conv2d, deform_conv2d_torch


def naive_deform_conv(x, offset, weight, bias, mask, stride, padding, dilation):
    """DCNv2 written out per output pixel and tap, with explicit bilinear interpolation."""
    batch, channels, height, width = x.shape
    out_channels, _, kh, kw = weight.shape
    out_h, out_w = offset.shape[-2:]
    out = torch.zeros(batch, out_channels, out_h, out_w, dtype=x.dtype)

    def pixel(b, y, xx):
        if 0 <= y < height and 0 <= xx < width:
            return x[b, :, y, xx]
        return torch.zeros(channels, dtype=x.dtype)

    for b in range(batch):
        for oy in range(out_h):
            for ox in range(out_w):
                acc = torch.zeros(out_channels, dtype=x.dtype)
                for i in range(kh):
                    for j in range(kw):
                        k = i * kw + j
                        py = oy * stride - padding + i * dilation + offset[b, 2 * k, oy, ox].item()
                        px = (
                            ox * stride
                            - padding
                            + j * dilation
                            + offset[b, 2 * k + 1, oy, ox].item()
                        )
                        y0, x0 = math.floor(py), math.floor(px)
                        ly, lx = py - y0, px - x0
                        value = (
                            (1 - ly) * (1 - lx) * pixel(b, y0, x0)
                            + (1 - ly) * lx * pixel(b, y0, x0 + 1)
                            + ly * (1 - lx) * pixel(b, y0 + 1, x0)
                            + ly * lx * pixel(b, y0 + 1, x0 + 1)
                        )
                        acc += weight[:, :, i, j] @ (value * mask[b, k, oy, ox])
                out[b, :, oy, ox] = acc + bias
    return out


def random_case(seed: int, stride: int = 1, dilation: int = 1):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 3, 7, 6, generator=generator, dtype=torch.float64)
    weight = torch.randn(4, 3, 3, 3, generator=generator, dtype=torch.float64)
    bias = torch.randn(4, generator=generator, dtype=torch.float64)
    padding = dilation
    out_h = (7 + 2 * padding - dilation * 2 - 1) // stride + 1
    out_w = (6 + 2 * padding - dilation * 2 - 1) // stride + 1
    # Offsets up to +-3 px push many samples across and beyond the border.
    offset = 3 * torch.randn(2, 18, out_h, out_w, generator=generator, dtype=torch.float64)
    mask = torch.rand(2, 9, out_h, out_w, generator=generator, dtype=torch.float64)
    return x, offset, weight, bias, mask, padding


def test_zero_offsets_and_unit_mask_equal_conv2d() -> None:
    x = torch.randn(2, 5, 9, 11)
    weight = torch.randn(6, 5, 3, 3)
    bias = torch.randn(6)
    for stride in (1, 2):
        expected = F.conv2d(x, weight, bias, stride=stride, padding=1)
        offset = torch.zeros(2, 18, *expected.shape[-2:])
        mask = torch.ones(2, 9, *expected.shape[-2:])
        got = deform_conv2d_torch(x, offset, weight, bias, mask, stride=stride, padding=1)
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("seed", "stride", "dilation"), [(0, 1, 1), (1, 2, 1), (2, 1, 2)])
def test_random_offsets_match_naive_bilinear_reference(
    seed: int, stride: int, dilation: int
) -> None:
    x, offset, weight, bias, mask, padding = random_case(seed, stride, dilation)
    expected = naive_deform_conv(x, offset, weight, bias, mask, stride, padding, dilation)
    got = deform_conv2d_torch(
        x, offset, weight, bias, mask, stride=stride, padding=padding, dilation=dilation
    )
    torch.testing.assert_close(got, expected, atol=1e-10, rtol=1e-10)


def test_integer_offset_shifts_the_sampled_pixel() -> None:
    # A 1x1 kernel with offset (dy, dx) = (1, 2) reads x[y+1, x+2] (zero past the border).
    x = torch.arange(20.0).view(1, 1, 4, 5)
    offset = torch.tensor([1.0, 2.0]).view(1, 2, 1, 1).expand(1, 2, 4, 5)
    got = deform_conv2d_torch(
        x, offset, torch.ones(1, 1, 1, 1), None, torch.ones(1, 1, 4, 5), padding=0
    )
    expected = F.pad(x[:, :, 1:, 2:], (0, 2, 0, 1))
    torch.testing.assert_close(got, expected)


def test_dcn_module_has_reference_parameter_names_and_starts_as_half_masked_conv() -> None:
    layer = DCN(4, 8, 3, padding=1, backend="torch")
    names = {name: tuple(p.shape) for name, p in layer.named_parameters()}
    assert names == {
        "weight": (8, 4, 3, 3),
        "bias": (8,),
        "conv_offset_mask.weight": (27, 4, 3, 3),
        "conv_offset_mask.bias": (27,),
    }
    x = torch.randn(1, 4, 6, 6)
    # Zero-initialised offset/mask conv: no offsets and sigmoid(0) = 0.5 on every tap.
    expected = F.conv2d(x, layer.weight * 0.5, layer.bias, padding=1)
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-5)


def test_gradients_reach_input_weights_and_offsets() -> None:
    layer = DCN(3, 4, 3, padding=1, backend="torch")
    torch.nn.init.normal_(layer.conv_offset_mask.weight, std=0.1)
    x = torch.randn(1, 3, 8, 8, requires_grad=True)
    layer(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    assert layer.conv_offset_mask.weight.grad is not None
    assert layer.conv_offset_mask.weight.grad.abs().sum() > 0


def test_unknown_backend_is_refused() -> None:
    x, offset, weight, bias, mask, padding = random_case(0)
    with pytest.raises(ValueError, match="unknown deform_conv2d backend"):
        deform_conv2d(x, offset, weight, bias, mask, padding=padding, backend="cuda")


DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
    ),
]


@pytest.mark.parametrize("device", DEVICES)
def test_agrees_with_torchvision_deform_conv2d(device: str) -> None:
    pytest.importorskip("torchvision.ops")
    for seed, stride, dilation in [(0, 1, 1), (1, 2, 1), (2, 1, 2)]:
        case = [t.to(device) for t in random_case(seed, stride, dilation)[:5]]
        padding = dilation
        ours = deform_conv2d(
            *case, stride=stride, padding=padding, dilation=dilation, backend="torch"
        )
        theirs = deform_conv2d(
            *case, stride=stride, padding=padding, dilation=dilation, backend="torchvision"
        )
        torch.testing.assert_close(ours, theirs, atol=1e-8, rtol=1e-8)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_pure_torch_kernel_gives_the_same_on_cuda() -> None:
    x, offset, weight, bias, mask, padding = random_case(3)
    cpu = deform_conv2d_torch(x, offset, weight, bias, mask, padding=padding)
    cuda = deform_conv2d_torch(
        *(t.cuda() for t in (x, offset, weight, bias, mask)), padding=padding
    )
    torch.testing.assert_close(cuda.cpu(), cpu, atol=1e-8, rtol=1e-8)


def test_dcn_module_with_learned_offsets_and_masks_matches_the_naive_loop() -> None:
    # Non-zero offset/mask conv: offsets of about +-2 px and masks spread over (0, 1). The
    # reference splits conv_offset_mask's output with chunk(3): (dy, dx) pairs first, mask last.
    generator = torch.Generator().manual_seed(7)
    layer = DCN(3, 4, 3, padding=1, backend="torch").double()
    with torch.no_grad():
        for param in layer.parameters():
            param.copy_(torch.randn(param.shape, generator=generator, dtype=torch.float64))
    x = torch.randn(2, 3, 6, 7, generator=generator, dtype=torch.float64)
    o1, o2, logits = torch.chunk(layer.conv_offset_mask(x), 3, dim=1)
    offset, mask = torch.cat((o1, o2), 1), torch.sigmoid(logits)
    assert offset.abs().mean() > 1.0 and mask.std() > 0.2
    expected = naive_deform_conv(x, offset, layer.weight, layer.bias, mask, 1, 1, 1)
    torch.testing.assert_close(layer(x), expected, atol=1e-10, rtol=1e-10)
