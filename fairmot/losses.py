"""FairMOT training losses: detection (heatmap, box size, offset) plus re-ID, jointly weighted.

Follows the paper (Zhang et al., "FairMOT", IJCV 2021) and its reference implementation:
CornerNet focal loss on the heatmap, masked L1 on the ltrb box sizes and the centre offsets,
cross-entropy of an identity classifier over scaled, L2-normalised embeddings, and the
uncertainty weighting of Kendall et al. Unlike the reference, the identity classifier and the
two uncertainty weights live in this module, so a checkpoint holds them and a resumed job
continues exactly where it stopped.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

if TYPE_CHECKING:
    from fairmot.model import ModelCard

# The reference clamps the sigmoid so log() in the focal loss stays finite.
HEATMAP_EPS = 1e-4
# Masked means divide by (count + 1e-4) in the reference: a batch with no object gives 0, not NaN.
MASK_EPS = 1e-4
# Focal loss exponents from CornerNet: alpha on (1 - p), beta on the Gaussian penalty reduction.
FOCAL_ALPHA = 2.0
FOCAL_BETA = 4.0
# Initial log-variances of the uncertainty weighting, the reference's values.
S_DET_INIT = -1.85
S_ID_INIT = -1.05
# Weight of the ID loss when multi_loss="fix" (the reference's fixed alternative).
FIXED_ID_WEIGHT = 0.1
# Sigmoid focal loss settings of the reference's optional ID focal loss (RetinaNet defaults).
ID_FOCAL_ALPHA = 0.25
ID_FOCAL_GAMMA = 2.0

IdLossKind = Literal["ce", "focal"]
MultiLossKind = Literal["uncertainty", "fix"]


def clamped_sigmoid(logits: Tensor) -> Tensor:
    """Sigmoid kept inside [1e-4, 1 - 1e-4], as the reference does before the focal loss."""
    return torch.clamp(logits.sigmoid(), min=HEATMAP_EPS, max=1.0 - HEATMAP_EPS)


def heatmap_focal_loss(pred: Tensor, gt: Tensor) -> Tensor:
    """CornerNet's penalty-reduced focal loss.

    pred: probabilities (B,C,H,W) in (0,1); gt: Gaussian targets with exactly 1.0 at centres.
    Normalised by the number of centres; with none, the negative term alone.
    """
    pos = gt.eq(1).float()
    neg = 1.0 - pos
    neg_weights = torch.pow(1.0 - gt, FOCAL_BETA)
    pos_loss = (torch.log(pred) * torch.pow(1.0 - pred, FOCAL_ALPHA) * pos).sum()
    neg_loss = (torch.log(1.0 - pred) * torch.pow(pred, FOCAL_ALPHA) * neg_weights * neg).sum()
    num_pos = pos.sum()
    if num_pos == 0:
        return -neg_loss
    return -(pos_loss + neg_loss) / num_pos


def gather_at(feature_map: Tensor, ind: Tensor) -> Tensor:
    """Values of a (B,C,H,W) map at flat indices ind (B,K) into H*W -> (B,K,C)."""
    b, c = feature_map.shape[:2]
    flat = feature_map.reshape(b, c, -1).permute(0, 2, 1)
    return flat.gather(1, ind.unsqueeze(2).expand(-1, -1, c))


def masked_l1_loss(output: Tensor, mask: Tensor, ind: Tensor, target: Tensor) -> Tensor:
    """Sum of |pred - target| over the masked objects and all channels, per masked element."""
    pred = gather_at(output, ind)
    weights = mask.unsqueeze(2).expand_as(pred).float()
    loss = F.l1_loss(pred * weights, target * weights, reduction="sum")
    return loss / (weights.sum() + MASK_EPS)


def sigmoid_focal_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """RetinaNet focal loss on one-hot targets, summed (the reference's ID focal loss)."""
    prob = logits.sigmoid()
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = prob * targets + (1 - prob) * (1 - targets)
    loss = ce * (1 - p_t) ** ID_FOCAL_GAMMA
    alpha_t = ID_FOCAL_ALPHA * targets + (1 - ID_FOCAL_ALPHA) * (1 - targets)
    return (alpha_t * loss).sum()


def embedding_scale(num_ids: int) -> float:
    """sqrt(2) * ln(nID - 1): the scale the paper applies to unit embeddings before the classifier."""
    if num_ids < 3:
        # ln(nID-1) is <= 0 below 3 identities; keep a small positive scale instead of a sign flip.
        return math.sqrt(2.0)
    return math.sqrt(2.0) * math.log(num_ids - 1)


class FairMOTLoss(nn.Module):
    """The joint detection + re-ID loss; owns the ID classifier and the uncertainty weights.

    forward(outputs, batch) takes the network's head dict (hm logits, wh, reg, id) and the
    training batch (hm, reg_mask, ind, wh, reg, ids) and returns (loss, stats), stats holding
    plain floats for loss, hm_loss, wh_loss, off_loss and id_loss.
    """

    def __init__(
        self,
        card: ModelCard,
        *,
        wh_weight: float = 0.1,
        id_loss: IdLossKind = "ce",
        multi_loss: MultiLossKind = "uncertainty",
        hm_weight: float = 1.0,
        off_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if id_loss not in ("ce", "focal"):
            raise ValueError(f"id_loss must be 'ce' or 'focal', not {id_loss!r}")
        if multi_loss not in ("uncertainty", "fix"):
            raise ValueError(f"multi_loss must be 'uncertainty' or 'fix', not {multi_loss!r}")
        num_ids = int(card.nID)
        if num_ids < 1:
            raise ValueError("the model card has nID < 1: the dataset carries no identities")
        class_ids = list(card.class_nID) if card.class_nID is not None else [num_ids]
        if len(class_ids) != card.num_classes or sum(class_ids) != num_ids:
            raise ValueError(
                f"the model card's class_nID {class_ids} must have num_classes="
                f"{card.num_classes} entries summing to nID={num_ids}"
            )
        self.num_ids = num_ids
        self.wh_weight = wh_weight
        self.hm_weight = hm_weight
        self.off_weight = off_weight
        self.id_loss_kind: IdLossKind = id_loss
        self.multi_loss: MultiLossKind = multi_loss
        self.emb_scale = embedding_scale(num_ids)
        self.classifier = nn.Linear(int(card.reid_dim), class_ids[0])
        # Classes after the first (multi-class models): one classifier and scale each, as the
        # reference's multi-class branch; `classifier` stays class 0's so single-class
        # checkpoints keep their keys.
        self.class_classifiers = nn.ModuleList(
            nn.Linear(int(card.reid_dim), max(n, 1)) for n in class_ids[1:]
        )
        self.class_scales = [embedding_scale(n) for n in class_ids]
        for classifier in self.classifiers:
            if id_loss == "focal":
                # The reference starts the focal classifier with a low prior so early losses
                # stay small.
                prior = 0.01
                nn.init.normal_(classifier.weight, std=0.01)
                nn.init.constant_(classifier.bias, -math.log((1 - prior) / prior))
        self.s_det = nn.Parameter(torch.tensor([S_DET_INIT]))
        self.s_id = nn.Parameter(torch.tensor([S_ID_INIT]))

    @property
    def classifiers(self) -> list[nn.Linear]:
        """The ID classifier of each class index."""
        return [self.classifier, *self.class_classifiers]

    def id_loss(self, id_map: Tensor, batch: dict[str, Tensor]) -> Tensor:
        """Identity classification loss over the objects that carry an identity: each class's
        objects through that class's classifier, the classes' losses summed (as the reference's
        multi-class branch)."""
        emb = gather_at(id_map, batch["ind"])
        keep = (batch["reg_mask"] > 0) & (batch["ids"] >= 0)
        classes = batch["cls"] if "cls" in batch else torch.zeros_like(batch["ids"])
        # Keep the graph connected (DDP needs every parameter to receive a gradient).
        unused = sum(p.sum() for c in self.classifiers for p in c.parameters())
        loss = id_map.sum() * 0.0 + unused * 0.0
        for k, classifier in enumerate(self.classifiers):
            mine = keep & (classes == k)
            if not bool(mine.any()):
                continue
            logits = classifier(self.class_scales[k] * F.normalize(emb[mine], dim=1))
            targets = batch["ids"][mine].long()
            if self.id_loss_kind == "ce":
                loss = loss + F.cross_entropy(logits, targets)
            else:
                one_hot = torch.zeros_like(logits).scatter_(1, targets.view(-1, 1), 1.0)
                loss = loss + sigmoid_focal_loss(logits, one_hot) / logits.shape[0]
        return loss

    def forward(
        self, outputs: dict[str, Tensor], batch: dict[str, Tensor]
    ) -> tuple[Tensor, dict[str, float]]:
        # Losses in fp32 even under autocast: log() of clamped probabilities needs the precision.
        outputs = {k: v.float() for k, v in outputs.items()}
        mask = batch["reg_mask"]
        ind = batch["ind"]
        hm_loss = heatmap_focal_loss(clamped_sigmoid(outputs["hm"]), batch["hm"].float())
        wh_loss = masked_l1_loss(outputs["wh"], mask, ind, batch["wh"].float())
        off_loss = masked_l1_loss(outputs["reg"], mask, ind, batch["reg"].float())
        id_loss = self.id_loss(outputs["id"], batch)
        det_loss = self.hm_weight * hm_loss + self.wh_weight * wh_loss + self.off_weight * off_loss
        if self.multi_loss == "uncertainty":
            loss = 0.5 * (
                torch.exp(-self.s_det) * det_loss
                + torch.exp(-self.s_id) * id_loss
                + self.s_det
                + self.s_id
            )
            loss = loss.squeeze(0)
        else:
            loss = det_loss + FIXED_ID_WEIGHT * id_loss
            # s_det/s_id unused here; a zero term keeps them in the graph for DDP.
            loss = loss + 0.0 * (self.s_det + self.s_id).squeeze(0)
        stats = {
            "loss": float(loss.detach()),
            "hm_loss": float(hm_loss.detach()),
            "wh_loss": float(wh_loss.detach()),
            "off_loss": float(off_loss.detach()),
            "id_loss": float(id_loss.detach()),
        }
        return loss, stats
