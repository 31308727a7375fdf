"""Arch registry: output contract, initialisation, reference key layout and the lite budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from fairmot.model import ARCHS, ModelCard, UnknownArchError, build_model
from fairmot.model.heads import HM_BIAS_INIT

REFERENCE_KEYS = Path(__file__).parent / "data" / "model_dla34_reference_keys.json"
# Budget the lite arch must meet (the project's CPU target).
LITE_GFLOP_BUDGET_576x320 = 3.0


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_forward_returns_four_heads_at_stride_four(arch: str) -> None:
    torch.manual_seed(0)
    card = ModelCard(arch=arch, num_classes=2, reid_dim=16)
    model = build_model(card).eval()
    with torch.inference_mode():
        out = model(torch.rand(2, 3, 64, 96))
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "hm": (2, 2, 16, 24),
        "wh": (2, 4, 16, 24),
        "reg": (2, 2, 16, 24),
        "id": (2, 16, 16, 24),
    }
    assert all(torch.isfinite(v).all() for v in out.values())


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_heads_start_like_the_reference(arch: str) -> None:
    model = build_model(ModelCard(arch=arch))
    state = model.state_dict()
    assert torch.allclose(state["hm.2.bias"], torch.full((1,), HM_BIAS_INIT))
    for head in ("wh", "reg", "id"):
        assert torch.all(state[f"{head}.0.bias"] == 0)
        assert torch.all(state[f"{head}.2.bias"] == 0)


def test_dla34_state_dict_equals_reference_keys_and_shapes() -> None:
    expected = json.loads(REFERENCE_KEYS.read_text())
    state = build_model(ModelCard(arch="dla34")).state_dict()
    got = {key: list(value.shape) for key, value in state.items()}
    assert sorted(set(expected) - set(got)) == []
    assert sorted(set(got) - set(expected)) == []
    assert [k for k in expected if expected[k] != got[k]] == []


def test_dla34_shapes_that_follow_from_the_reference_formulas() -> None:
    # Hand-derived from the reference DLA: root_dim = 2*out (+in for level roots, +out per tree
    # level), IDA upsampling kernels 2*factor, DCN offset/mask conv 3*3*3 outputs.
    state = build_model(ModelCard(arch="dla34")).state_dict()
    assert state["base.level5.root.conv.weight"].shape == (512, 2 * 512 + 256, 1, 1)
    assert state["base.level4.tree2.root.conv.weight"].shape == (256, 2 * 256 + 128 + 256, 1, 1)
    assert state["ida_up.up_2.weight"].shape == (64, 1, 8, 8)
    assert state["dla_up.ida_0.proj_1.conv.conv_offset_mask.weight"].shape == (27, 512, 3, 3)
    assert state["base.fc.weight"].shape == (1000, 512, 1, 1)
    assert state["id.0.weight"].shape == (256, 64, 3, 3)


def test_dla34_plain_is_dla34_without_the_offset_convs() -> None:
    dcn = build_model(ModelCard(arch="dla34")).state_dict()
    plain = build_model(ModelCard(arch="dla34_plain")).state_dict()
    expected = {k: v.shape for k, v in dcn.items() if ".conv_offset_mask." not in k}
    assert {k: v.shape for k, v in plain.items()} == expected


def test_lite_meets_its_flop_budget_and_records_narrow_heads() -> None:
    card = ModelCard(arch="lite")
    assert card.head_conv == 32
    model = build_model(card).eval()
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        model(torch.zeros(1, 3, 320, 576))
    assert counter.get_total_flops() / 1e9 <= LITE_GFLOP_BUDGET_576x320


def test_unknown_arch_names_the_valid_ones() -> None:
    with pytest.raises(UnknownArchError, match="valid archs are dla34, dla34_plain, lite"):
        build_model(ModelCard(arch="resnet9000"))


def test_card_rejects_input_sizes_the_backbone_cannot_align() -> None:
    with pytest.raises(ValueError, match="multiple of 32"):
        ModelCard(input_w=1080)
