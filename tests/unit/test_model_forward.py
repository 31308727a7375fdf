"""The dla34 forward pass against an independent, functional computation of the reference.

`reference_forward` below is written from the reference's pose_dla_dcn.py (DLA Tree/Root/
BasicBlock, DLAUp/IDAUp, DCNv2 as in dcn_v2.py), driven by the state_dict's key names only: it
never calls the package's modules. Every parameter and buffer is random (numpy, fixed seed), the
offset/mask convs included, so the deformable convs sample at non-zero, fractional offsets with
non-trivial masks. A wiring mistake (a swapped skip, another channel order of the offsets, a
missing ReLU, the wrong pyramid level into a head) changes the output; a golden summary at a
fixed seed pins the numbers down across versions.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from fairmot.model import ModelCard, build_model

BN_EPS = 1e-5
SIZE = 64  # input 64x64: levels down to 2x2, output 16x16


def randomise(model: torch.nn.Module, seed: int) -> dict[str, Tensor]:
    """Fill every parameter and buffer from a numpy generator; returns the state_dict."""
    rng = np.random.default_rng(seed)
    state = model.state_dict()
    for key, value in state.items():
        if not value.is_floating_point():
            continue
        shape = tuple(value.shape)
        if key.endswith("running_var") or (key.endswith("weight") and value.dim() == 1):
            new = rng.uniform(0.5, 1.5, shape)  # BN scale and variance
        elif value.dim() == 1:
            new = rng.normal(0, 0.1, shape)  # biases, BN shift and mean
        else:
            fan_in = int(np.prod(shape[1:]))
            new = rng.normal(0, 1 / np.sqrt(fan_in), shape)
        state[key] = torch.from_numpy(new)
    model.load_state_dict(state)
    return {k: v.clone() for k, v in model.state_dict().items()}


# --- the independent computation -------------------------------------------------------------


def bn(x: Tensor, s: dict[str, Tensor], p: str) -> Tensor:
    scale = s[f"{p}.weight"] / torch.sqrt(s[f"{p}.running_var"] + BN_EPS)
    shift = s[f"{p}.bias"] - s[f"{p}.running_mean"] * scale
    return x * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)


def conv(x: Tensor, s: dict[str, Tensor], p: str, stride: int = 1) -> Tensor:
    w = s[f"{p}.weight"]
    return F.conv2d(x, w, s.get(f"{p}.bias"), stride=stride, padding=w.shape[-1] // 2)


def bilinear_zero(x: Tensor, py: Tensor, px: Tensor) -> Tensor:
    """x (B,C,H,W) sampled at (B,N) fractional points, corners outside the image read 0 (DCNv2's
    dmcn_im2col_bilinear). Returns (B,C,N)."""
    b, c, h, w = x.shape
    y0, x0 = torch.floor(py), torch.floor(px)
    out = torch.zeros(b, c, py.shape[1], dtype=x.dtype)
    flat = x.reshape(b, c, h * w)
    for dy in (0, 1):
        for dx in (0, 1):
            yy, xx = y0 + dy, x0 + dx
            weight = (1 - (py - yy).abs()) * (1 - (px - xx).abs())
            inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            index = (yy.clamp(0, h - 1) * w + xx.clamp(0, w - 1)).long()
            values = flat.gather(2, index.unsqueeze(1).expand(b, c, -1))
            out += values * (weight * inside).unsqueeze(1)
    return out


def dcn(x: Tensor, s: dict[str, Tensor], p: str) -> Tensor:
    """dcn_v2.DCN: o1, o2, mask = chunk(conv_offset_mask(x), 3); offset = cat(o1, o2) with
    (dy, dx) per tap; mask = sigmoid; 3x3, stride 1, padding 1."""
    om = conv(x, s, f"{p}.conv_offset_mask")
    o1, o2, m = torch.chunk(om, 3, dim=1)
    offset, mask = torch.cat((o1, o2), 1), torch.sigmoid(m)
    b, c, h, w = x.shape
    weight = s[f"{p}.weight"]
    cols = []
    oy, ox = torch.meshgrid(
        torch.arange(h, dtype=x.dtype), torch.arange(w, dtype=x.dtype), indexing="ij"
    )
    for k in range(9):
        i, j = divmod(k, 3)
        py = (oy - 1 + i) + offset[:, 2 * k]
        px = (ox - 1 + j) + offset[:, 2 * k + 1]
        sampled = bilinear_zero(x, py.reshape(b, -1), px.reshape(b, -1))
        cols.append(sampled * mask[:, k].reshape(b, 1, -1))
    col = torch.stack(cols, 2)  # (B, C, 9, HW), tap k = i*3 + j as weight[..., i, j]
    out = torch.einsum("ock,bckn->bon", weight.reshape(weight.shape[0], c, 9), col)
    return out.reshape(b, -1, h, w) + s[f"{p}.bias"].view(1, -1, 1, 1)


def basic_block(x: Tensor, residual: Tensor, s: dict[str, Tensor], p: str, stride: int) -> Tensor:
    out = F.relu(bn(conv(x, s, f"{p}.conv1", stride), s, f"{p}.bn1"))
    out = bn(conv(out, s, f"{p}.conv2"), s, f"{p}.bn2")
    return F.relu(out + residual)


def tree(
    x: Tensor,
    s: dict[str, Tensor],
    p: str,
    stride: int,
    level_root: bool,
    children: list[Tensor] | None = None,
) -> Tensor:
    children = [] if children is None else children
    bottom = F.max_pool2d(x, stride, stride) if stride > 1 else x
    residual = (
        bn(conv(bottom, s, f"{p}.project.0"), s, f"{p}.project.1")
        if (f"{p}.project.0.weight" in s)
        else bottom
    )
    if level_root:
        children.append(bottom)
    if f"{p}.root.conv.weight" in s:  # levels == 1: two blocks and a root
        x1 = basic_block(x, residual, s, f"{p}.tree1", stride)
        x2 = basic_block(x1, x1, s, f"{p}.tree2", 1)
        cat = torch.cat([x2, x1, *children], 1)
        return F.relu(bn(conv(cat, s, f"{p}.root.conv"), s, f"{p}.root.bn"))
    x1 = tree(x, s, f"{p}.tree1", stride, False)
    children.append(x1)
    return tree(x1, s, f"{p}.tree2", 1, False, children)


def backbone(x: Tensor, s: dict[str, Tensor]) -> list[Tensor]:
    x = F.relu(bn(conv(x, s, "base.base_layer.0"), s, "base.base_layer.1"))
    x = F.relu(bn(conv(x, s, "base.level0.0"), s, "base.level0.1"))
    x = F.relu(bn(conv(x, s, "base.level1.0", 2), s, "base.level1.1"))
    levels = [x, x]
    x = tree(x, s, "base.level2", 2, False)
    levels.append(x)
    for level in (3, 4, 5):
        x = tree(x, s, f"base.level{level}", 2, True)
        levels.append(x)
    return levels


def deform_conv(x: Tensor, s: dict[str, Tensor], p: str) -> Tensor:
    return F.relu(bn(dcn(x, s, f"{p}.conv"), s, f"{p}.actf.0"))


def ida_up(layers: list[Tensor], s: dict[str, Tensor], p: str, start: int, end: int) -> None:
    for i in range(start + 1, end):
        j = i - start
        up_w = s[f"{p}.up_{j}.weight"]
        factor = up_w.shape[-1] // 2
        projected = deform_conv(layers[i], s, f"{p}.proj_{j}")
        upsampled = F.conv_transpose2d(
            projected, up_w, stride=factor, padding=factor // 2, groups=up_w.shape[0]
        )
        layers[i] = deform_conv(upsampled + layers[i - 1], s, f"{p}.node_{j}")


def reference_forward(x: Tensor, s: dict[str, Tensor]) -> dict[str, Tensor]:
    layers = backbone(x, s)[2:]  # first_level = 2 (stride 4)
    out = [layers[-1]]
    for i in range(len(layers) - 1):
        ida_up(layers, s, f"dla_up.ida_{i}", len(layers) - i - 2, len(layers))
        out.insert(0, layers[-1])
    y = [t.clone() for t in out[:3]]  # last_level 5 - first_level 2
    ida_up(y, s, "ida_up", 0, len(y))
    heads = {}
    for name in ("hm", "wh", "reg", "id"):
        hidden = F.relu(conv(y[-1], s, f"{name}.0"))
        heads[name] = conv(hidden, s, f"{name}.2")
    return heads


# --- the tests -------------------------------------------------------------------------------

# sum and sum of squares per head at seed 0 on the numpy input below (float64).
GOLDEN = {
    "hm": (-23.05375980903204, 2.2937819134174373),
    "wh": (-2.587398995054384, 5.346659343729403),
    "reg": (-51.86837151975561, 7.663957024132651),
    "id": (-342.0310266801255, 907.4679232783558),
}


@pytest.fixture(scope="module")
def case() -> tuple[dict[str, Tensor], dict[str, Tensor], dict[str, Tensor]]:
    torch.manual_seed(0)
    model = build_model(ModelCard(arch="dla34")).double().eval()
    state = randomise(model, seed=0)
    x = torch.from_numpy(np.random.default_rng(1).uniform(0, 1, (1, 3, SIZE, SIZE)))
    with torch.no_grad():
        ours = model(x)
        theirs = reference_forward(x, state)
    return state, ours, theirs


def test_forward_equals_the_independent_reference_computation(case) -> None:
    _, ours, theirs = case
    assert set(ours) == set(theirs) == {"hm", "wh", "reg", "id"}
    for name in theirs:
        assert ours[name].shape == theirs[name].shape
        torch.testing.assert_close(ours[name], theirs[name], atol=1e-10, rtol=1e-10)


def test_the_deformable_convs_really_sample_off_grid(case) -> None:
    state, _, _ = case
    x = torch.from_numpy(np.random.default_rng(2).normal(0, 1, (1, 128, 8, 8)))
    om = conv(x, state, "ida_up.proj_1.conv.conv_offset_mask")
    offsets, mask = om[:, :18], torch.sigmoid(om[:, 18:])
    assert offsets.abs().mean() > 0.3 and (offsets.frac().abs() > 0.05).float().mean() > 0.5
    assert mask.std() > 0.05


def test_golden_output_at_a_fixed_seed(case) -> None:
    _, ours, _ = case
    got = {k: (float(v.sum()), float(v.square().sum())) for k, v in ours.items()}
    for name, (total, squares) in GOLDEN.items():
        assert got[name] == pytest.approx((total, squares), rel=1e-9), name
