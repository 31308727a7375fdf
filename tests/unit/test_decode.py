"""decode(): peaks, offsets, ltrb boxes, the letterbox back-mapping and the threshold."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fairmot.decode import decode, decode_raw, heatmap_peaks
from fairmot.letterbox import Letterbox

LOGIT_09 = float(np.log(0.9 / 0.1))
LOGIT_06 = float(np.log(0.6 / 0.4))
# The network input is the image itself (24x16, no scaling or padding).
SAME = Letterbox(scale=1.0, pad_x=0.0, pad_y=0.0, out_w=24, out_h=16, src_w=24, src_h=16)


def _outputs() -> dict[str, torch.Tensor]:
    """A 1x1x4x6 output map with peaks at (x=1, y=1) p=0.9 and (x=4, y=2) p=0.6."""
    hm = torch.full((1, 1, 4, 6), -10.0)
    hm[0, 0, 1, 1] = LOGIT_09
    hm[0, 0, 1, 2] = 0.0  # p=0.5 next to the 0.9 peak: suppressed by the 3x3 max-pool
    hm[0, 0, 2, 4] = LOGIT_06
    wh = torch.zeros(1, 4, 4, 6)
    wh[0, :, 1, 1] = torch.tensor([1.0, 2.0, 1.0, 2.0])
    wh[0, :, 2, 4] = torch.tensor([0.5, 1.0, 0.5, 1.0])
    reg = torch.zeros(1, 2, 4, 6)
    reg[0, :, 1, 1] = torch.tensor([0.5, 0.25])
    emb = torch.zeros(1, 3, 4, 6)
    emb[0, :, 1, 1] = torch.tensor([3.0, 0.0, 4.0])
    emb[0, :, 2, 4] = torch.tensor([0.0, 2.0, 0.0])
    return {"hm": hm, "wh": wh, "reg": reg, "id": emb}


def test_peaks_keep_only_local_maxima() -> None:
    heat = torch.tensor([[0.1, 0.5, 0.9], [0.2, 0.3, 0.4]]).view(1, 1, 2, 3)
    kept = heatmap_peaks(heat)
    assert torch.count_nonzero(kept) == 1 and float(kept[0, 0, 0, 2]) == pytest.approx(0.9)


def test_raw_decode_adds_offset_and_ltrb_at_stride_4() -> None:
    raw = decode_raw(_outputs(), top_k=3)
    assert raw.scores[0].tolist() == pytest.approx(
        [0.9, 0.6, float(torch.sigmoid(torch.tensor(-10.0)))], rel=1e-4
    )
    # centre (1 + 0.5, 1 + 0.25), sides l=1 t=2 r=1 b=2, times stride 4.
    assert raw.boxes[0, 0].tolist() == pytest.approx([2.0, -3.0, 10.0, 13.0])
    assert raw.boxes[0, 1].tolist() == pytest.approx([14.0, 4.0, 18.0, 12.0])
    assert raw.embeddings[0, 0].tolist() == pytest.approx([0.6, 0.0, 0.8])
    assert raw.embeddings[0, 1].tolist() == pytest.approx([0.0, 1.0, 0.0])


def test_decode_thresholds_and_maps_back_through_the_letterbox() -> None:
    # Original 48x8 image scaled by 0.5 into 24x16 with 4 px of padding on top.
    box = Letterbox(scale=0.5, pad_x=0.0, pad_y=4.0, out_w=24, out_h=16, src_w=48, src_h=8)
    (dets,) = decode(_outputs(), [box], conf_thres=0.7)
    assert len(dets) == 1
    assert dets.scores.tolist() == pytest.approx([0.9], rel=1e-5)
    # input box (2, -3, 10, 13) -> ((x - 0) / 0.5, (y - 4) / 0.5), amodal: past the 48x8 image.
    assert dets.boxes[0].tolist() == pytest.approx([4.0, -14.0, 20.0, 18.0])
    assert np.linalg.norm(dets.embeddings, axis=1) == pytest.approx([1.0])
    (both,) = decode(_outputs(), [box], conf_thres=0.5)
    assert len(both) == 2


def test_each_detection_carries_its_heatmap_channel_as_class_id() -> None:
    outputs = _outputs()
    single = decode(outputs, [SAME], conf_thres=0.5)[0]
    assert single.class_ids is not None and single.class_ids.tolist() == [0, 0]
    # A second class: the 0.6 peak moves to channel 1 (a cart, say).
    hm = torch.full((1, 2, 4, 6), -10.0)
    hm[0, 0] = outputs["hm"][0, 0]
    hm[0, 1, 2, 4], hm[0, 0, 2, 4] = LOGIT_06, -10.0
    (dets,) = decode({**outputs, "hm": hm}, [SAME], conf_thres=0.5)
    assert dets.scores.tolist() == pytest.approx([0.9, 0.6], rel=1e-5)
    assert dets.class_ids is not None and dets.class_ids.tolist() == [0, 1]
    np.testing.assert_allclose(dets.boxes, single.boxes)


def test_decode_one_result_per_image_and_rejects_mismatched_letterboxes() -> None:
    outputs = {k: torch.cat([v, torch.full_like(v, -10.0)]) for k, v in _outputs().items()}
    box = Letterbox(1.0, 0.0, 0.0, 24, 16, 24, 16)
    first, second = decode(outputs, [box, box])
    assert len(first) == 2 and len(second) == 0 and second.embeddings.shape == (0, 3)
    with pytest.raises(ValueError, match="letterboxes"):
        decode(outputs, [box])


def test_negative_box_sides_collapse_to_the_centre() -> None:
    outputs = _outputs()
    outputs["wh"][0, :, 1, 1] = torch.tensor([-1.0, 2.0, -3.0, 2.0])
    raw = decode_raw(outputs, top_k=1)
    # l and r are clamped to 0: x1 = x2 = centre x (1 + 0.5) * 4; a valid xyxy box.
    assert raw.boxes[0, 0].tolist() == pytest.approx([6.0, -3.0, 6.0, 13.0])
    box = Letterbox(scale=1.0, pad_x=0.0, pad_y=0.0, out_w=24, out_h=16, src_w=24, src_h=16)
    (dets,) = decode(outputs, [box], conf_thres=0.7)
    assert len(dets) == 1


def test_peaks_equal_centernets_max_pool_on_every_border_and_class() -> None:
    heat = torch.rand(2, 3, 7, 9, generator=torch.Generator().manual_seed(0))
    heat[0, 0, 0, 0] = heat[1, 2, 6, 8] = 1.0  # maxima on the corners
    heat[0, 1, 3, 3] = heat[0, 1, 3, 4] = 0.99  # a plateau: both kept, as max-pool does
    pooled = F.max_pool2d(heat, 3, stride=1, padding=1)
    assert torch.equal(heatmap_peaks(heat), heat * (pooled == heat).float())


def test_decode_reads_the_same_embeddings_as_the_raw_top_k() -> None:
    g = torch.Generator().manual_seed(1)
    outputs = {
        "hm": torch.randn(2, 1, 20, 36, generator=g) * 3 - 2,
        "wh": torch.rand(2, 4, 20, 36, generator=g),
        "reg": torch.rand(2, 2, 20, 36, generator=g),
        "id": torch.randn(2, 16, 20, 36, generator=g),
    }
    box = Letterbox(scale=1.0, pad_x=0.0, pad_y=0.0, out_w=144, out_h=80, src_w=144, src_h=80)
    raw = decode_raw(outputs)
    for i, detections in enumerate(decode(outputs, [box, box], conf_thres=0.4)):
        keep = raw.scores[i] > 0.4
        assert 0 < len(detections.scores) == int(keep.sum())
        np.testing.assert_array_equal(detections.embeddings, raw.embeddings[i][keep].numpy())
        np.testing.assert_array_equal(detections.boxes, raw.boxes[i][keep].numpy())
