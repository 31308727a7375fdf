"""FairMOTLoss pinned to values worked out by hand on tiny tensors."""

from __future__ import annotations

import math

import pytest
import torch

from fairmot.losses import (
    FairMOTLoss,
    clamped_sigmoid,
    embedding_scale,
    heatmap_focal_loss,
    masked_l1_loss,
)
from fairmot.model.card import ModelCard


def test_focal_loss_matches_hand_computation() -> None:
    gt = torch.tensor([1.0, 0.5]).view(1, 1, 1, 2)
    pred = torch.tensor([0.8, 0.3]).view(1, 1, 1, 2)
    pos = math.log(0.8) * 0.2**2
    neg = math.log(0.7) * 0.3**2 * 0.5**4
    assert float(heatmap_focal_loss(pred, gt)) == pytest.approx(-(pos + neg), rel=1e-5)


def test_focal_loss_without_centres_is_the_negative_term() -> None:
    gt = torch.zeros(1, 1, 1, 2)
    pred = torch.tensor([0.1, 0.2]).view(1, 1, 1, 2)
    expected = -(math.log(0.9) * 0.01 + math.log(0.8) * 0.04)
    assert float(heatmap_focal_loss(pred, gt)) == pytest.approx(expected, rel=1e-5)


def test_sigmoid_is_clamped_so_log_stays_finite() -> None:
    p = clamped_sigmoid(torch.tensor([-100.0, 100.0]))
    assert float(p[0]) == pytest.approx(1e-4)
    assert float(p[1]) == pytest.approx(1 - 1e-4)


def test_masked_l1_counts_only_masked_objects() -> None:
    out = torch.tensor([[2.0, 0.0, 9.0], [4.0, 0.0, 9.0]]).view(1, 2, 1, 3)
    ind = torch.tensor([[0, 2]])
    mask = torch.tensor([[1, 0]], dtype=torch.uint8)
    target = torch.tensor([[[1.0, 1.0], [5.0, 5.0]]])
    # |2-1| + |4-1| over 2 masked elements (1 object x 2 channels), plus the reference's 1e-4.
    assert float(masked_l1_loss(out, mask, ind, target)) == pytest.approx(4 / (2 + 1e-4))


def test_embedding_scale_is_sqrt2_ln_nid_minus_one() -> None:
    assert embedding_scale(501) == pytest.approx(math.sqrt(2) * math.log(500))


def _outputs_and_batch() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    # One 1x2 output map; one object at pixel 0 with identity 1, and a padded slot.
    outputs = {
        "hm": torch.tensor([0.0, -100.0]).view(1, 1, 1, 2),
        "wh": torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]]).view(1, 4, 1, 2),
        "reg": torch.tensor([[0.5, 0.0], [0.25, 0.0]]).view(1, 2, 1, 2),
        "id": torch.tensor([[3.0, 0.0], [4.0, 0.0]]).view(1, 2, 1, 2),
    }
    batch = {
        "hm": torch.tensor([1.0, 0.0]).view(1, 1, 1, 2),
        "reg_mask": torch.tensor([[1, 0]], dtype=torch.uint8),
        "ind": torch.tensor([[0, 0]]),
        "wh": torch.tensor([[[1.0, 2.0, 3.0, 6.0], [0.0, 0.0, 0.0, 0.0]]]),
        "reg": torch.tensor([[[0.5, 0.75], [0.0, 0.0]]]),
        "ids": torch.tensor([[1, -1]]),
    }
    return outputs, batch


def _hand_losses() -> tuple[float, float, float, float]:
    hm = -(math.log(0.5) * 0.25 + math.log(1 - 1e-4) * 1e-8)
    wh = 2 / (4 + 1e-4)
    off = 0.5 / (2 + 1e-4)
    scale = math.sqrt(2) * math.log(2)
    logits = [0.6 * scale, 0.8 * scale, -0.6 * scale]
    id_ce = -logits[1] + math.log(sum(math.exp(v) for v in logits))
    return hm, wh, off, id_ce


def _card() -> ModelCard:
    return ModelCard(arch="lite", reid_dim=2, nID=3, input_w=32, input_h=32)


def _set_classifier(loss: FairMOTLoss) -> None:
    with torch.no_grad():
        loss.classifier.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
        loss.classifier.bias.zero_()


def test_uncertainty_weighted_total_matches_hand_computation() -> None:
    criterion = FairMOTLoss(_card())
    _set_classifier(criterion)
    outputs, batch = _outputs_and_batch()
    loss, stats = criterion(outputs, batch)
    hm, wh, off, id_ce = _hand_losses()
    det = hm + 0.1 * wh + off
    total = 0.5 * (math.exp(1.85) * det + math.exp(1.05) * id_ce - 1.85 - 1.05)
    assert stats["hm_loss"] == pytest.approx(hm, rel=1e-5)
    assert stats["wh_loss"] == pytest.approx(wh, rel=1e-5)
    assert stats["off_loss"] == pytest.approx(off, rel=1e-5)
    assert stats["id_loss"] == pytest.approx(id_ce, rel=1e-5)
    assert float(loss.detach()) == pytest.approx(total, rel=1e-5)
    assert stats["loss"] == pytest.approx(total, rel=1e-5)


def test_fixed_weighting_and_gradients_reach_s_det_s_id() -> None:
    criterion = FairMOTLoss(_card(), multi_loss="fix")
    _set_classifier(criterion)
    outputs, batch = _outputs_and_batch()
    loss, _ = criterion(outputs, batch)
    hm, wh, off, id_ce = _hand_losses()
    assert float(loss.detach()) == pytest.approx(hm + 0.1 * wh + off + 0.1 * id_ce, rel=1e-5)

    uncertain = FairMOTLoss(_card())
    loss, _ = uncertain(outputs, batch)
    loss.backward()
    assert uncertain.s_det.grad is not None and float(uncertain.s_det.grad) != 0
    assert uncertain.classifier.weight.grad is not None


def test_classifier_and_weights_are_in_the_state_dict() -> None:
    state = FairMOTLoss(_card()).state_dict()
    assert {"classifier.weight", "classifier.bias", "s_det", "s_id"} <= set(state)
    assert float(state["s_det"]) == pytest.approx(-1.85)
    assert float(state["s_id"]) == pytest.approx(-1.05)


def test_focal_id_loss_is_finite_and_objects_without_identity_are_ignored() -> None:
    criterion = FairMOTLoss(_card(), id_loss="focal")
    outputs, batch = _outputs_and_batch()
    _, stats = criterion(outputs, batch)
    assert math.isfinite(stats["id_loss"]) and stats["id_loss"] > 0
    batch["ids"] = torch.tensor([[-1, -1]])
    _, stats = criterion(outputs, batch)
    assert stats["id_loss"] == 0.0


def test_rejects_unknown_loss_names() -> None:
    with pytest.raises(ValueError, match="id_loss"):
        FairMOTLoss(_card(), id_loss="triplet")  # type: ignore[arg-type]


@pytest.mark.parametrize("num_ids", [1, 2])
def test_one_or_two_identities_keep_a_positive_embedding_scale(num_ids: int) -> None:
    # sqrt(2) * ln(nID - 1) would be -inf or 0 here: embeddings would vanish or flip sign.
    assert embedding_scale(num_ids) == pytest.approx(math.sqrt(2))
    criterion = FairMOTLoss(ModelCard(arch="lite", reid_dim=2, nID=num_ids, input_w=32, input_h=32))
    outputs, batch = _outputs_and_batch()
    batch["ids"] = torch.tensor([[num_ids - 1, -1]])
    loss, stats = criterion(outputs, batch)
    assert math.isfinite(float(loss.detach())) and math.isfinite(stats["id_loss"])


def test_frames_without_objects_give_finite_losses_and_reach_every_parameter() -> None:
    criterion = FairMOTLoss(_card())
    outputs, batch = _outputs_and_batch()
    outputs = {k: v.clone().requires_grad_(True) for k, v in outputs.items()}
    batch["hm"] = torch.zeros_like(batch["hm"])
    batch["reg_mask"] = torch.zeros_like(batch["reg_mask"])
    loss, stats = criterion(outputs, batch)
    assert stats["wh_loss"] == stats["off_loss"] == stats["id_loss"] == 0.0
    assert math.isfinite(stats["hm_loss"]) and stats["hm_loss"] > 0
    loss.backward()
    # DDP needs a gradient (zero or not) on every parameter in every step.
    assert all(p.grad is not None for p in criterion.parameters())
    assert all(t.grad is not None for t in outputs.values())
