"""Synthetic scenes: valid MOT sequences, deterministic, tight amodal boxes, visibility that
counts what nearer things and the image border hide."""

import numpy as np
import pytest

from fairmot.cli import main
from fairmot.data import read_manifest, read_sequence
from fairmot.data.synth import generate_dataset
from fairmot.data.synth.background import Occluder
from fairmot.data.synth.figures import AppearancePool, sample_appearances
from fairmot.data.synth.motion import Placement
from fairmot.data.synth.render import render_frame
from fairmot.data.synth.writer import MIN_VISIBILITY


def _make(tmp_path, name, seed, frames=12):
    return generate_dataset(
        tmp_path / name, sequences=1, frames=frames, width=160, height=96, seed=seed
    )


def test_writes_a_valid_mot_sequence_and_manifest(tmp_path):
    out = _make(tmp_path, "a", seed=1)
    manifest = read_manifest(out)
    assert manifest.sequences == ["SYN1-01"]
    seq = read_sequence(out / "SYN1-01")
    assert (seq.width, seq.height, seq.length, seq.frame_rate) == (160, 96, 12, 30)
    gt = seq.gt
    assert len(gt) > 12
    x, y, w, h, mark, cls, vis = (
        gt[:, 2],
        gt[:, 3],
        gt[:, 4],
        gt[:, 5],
        gt[:, 6],
        gt[:, 7],
        gt[:, 8],
    )
    # Amodal boxes may reach past the image, but every one shows some of its person.
    assert ((x < 160) & (y < 96) & (x + w > 0) & (y + h > 0)).all() and (w > 0).all()
    assert (cls == 1).all() and ((vis > 0) & (vis <= 1)).all()
    assert ((mark == 1) == (vis >= MIN_VISIBILITY)).all()


def test_same_seed_same_bytes_other_seed_other_scene(tmp_path):
    a, b, c = _make(tmp_path, "a", 4), _make(tmp_path, "b", 4), _make(tmp_path, "c", 5)
    gt = "SYN4-01/gt/gt.txt"
    assert (a / gt).read_bytes() == (b / gt).read_bytes()
    frame = "SYN4-01/img1/000007.jpg"
    assert (a / frame).read_bytes() == (b / frame).read_bytes()
    assert (a / gt).read_text() != (c / "SYN5-01/gt/gt.txt").read_text()


def test_new_seed_gives_new_identities():
    first = sample_appearances(np.random.default_rng(1), 6)
    other = sample_appearances(np.random.default_rng(2), 6)
    assert not {a.shirt for a in first} & {a.shirt for a in other}
    assert len({a.shirt for a in first}) == 6


def _pool():
    return AppearancePool(np.random.default_rng(0))


def test_boxes_are_tight_around_the_figure():
    background = np.full((120, 200, 3), 0, np.uint8)
    frame, truth = render_frame(background, [], [Placement(0, 100, 100, 60, 0.3, True)], _pool())
    ys, xs = np.nonzero(frame.max(axis=2) > 0)
    (v,) = truth
    assert abs(v.x - xs.min()) <= 1 and abs(v.y - ys.min()) <= 1
    assert abs(v.x + v.w - (xs.max() + 1)) <= 1 and abs(v.y + v.h - (ys.max() + 1)) <= 1
    assert 55 <= v.h <= 66 and v.visibility == 1.0


def _figure_columns(frame: np.ndarray) -> np.ndarray:
    """Per image column, how many of its pixels the figure covers (the background is black)."""
    return np.count_nonzero(frame.max(axis=2) > 0, axis=0)


def test_a_figure_past_the_border_keeps_its_whole_box_and_loses_visibility():
    """As MOT ground truth: the box a person would have in a larger image (amodal, reaching past
    the edge), with what the border hides counted in the visibility, against the same figure
    rendered wholly inside the image and shifted by hand."""
    background = np.zeros((120, 200, 3), np.uint8)
    pool = _pool()
    inside_frame, (inside,) = render_frame(
        background, [], [Placement(0, 100, 100, 60, 0.3, True)], pool
    )
    columns = _figure_columns(inside_frame)
    for shift, edge in ((-95, "left"), (+92, "right")):
        _, (cut,) = render_frame(
            background, [], [Placement(0, 100 + shift, 100, 60, 0.3, True)], pool
        )
        assert (cut.x, cut.y, cut.w, cut.h) == (inside.x + shift, inside.y, inside.w, inside.h)
        assert cut.x < 0 if edge == "left" else cut.x + cut.w > 200
        # The share of the figure's pixels that stays in the image once shifted.
        kept = np.arange(200) + shift
        expected = columns[(kept >= 0) & (kept < 200)].sum() / columns.sum()
        assert 0.1 < expected < 0.9
        assert cut.visibility == pytest.approx(expected, abs=0.05), edge
    # Past the bottom edge: the box keeps its height below the last row.
    _, (low,) = render_frame(background, [], [Placement(0, 100, 140, 60, 0.3, True)], pool)
    assert low.y + low.h == pytest.approx(140, abs=1) and low.h == inside.h
    assert 0.3 < low.visibility < 0.8


def test_visibility_follows_depth_order_and_occluders():
    background = np.zeros((120, 200, 3), np.uint8)
    far, near = Placement(0, 100, 90, 60, None, True), Placement(1, 104, 100, 66, None, True)
    _, truth = render_frame(background, [], [far, near], _pool())
    vis = {v.identity: v.visibility for v in truth}
    assert vis[1] == 1.0 and vis[0] < 0.5
    pillar = Occluder(97, 0, 103, 110, (200, 200, 200))  # nearer than the figure (base 110)
    _, truth = render_frame(background, [pillar], [far], _pool())
    assert 0.2 < truth[0].visibility < 0.9
    behind = Occluder(97, 0, 103, 80, (200, 200, 200))  # base 80: farther than the figure
    _, truth = render_frame(background, [behind], [far], _pool())
    assert truth[0].visibility == 1.0


def test_people_enter_leave_and_stop(tmp_path):
    out = generate_dataset(tmp_path / "long", sequences=1, frames=300, width=160, height=96, seed=2)
    gt = read_sequence(out / "SYN2-01").gt
    ids = np.unique(gt[:, 1])
    starts = np.array([gt[gt[:, 1] == i, 0].min() for i in ids])
    ends = np.array([gt[gt[:, 1] == i, 0].max() for i in ids])
    assert (starts > 1).any() and (ends < 300).any()
    assert 3 <= np.bincount(gt[:, 0].astype(int)).max() <= 15
    assert (gt[:, 8] < 1).any()  # someone is occluded at some point
    # People walking in and out are boxed whole while the border cuts them (by 3 px or more,
    # past the rounding of the figure's antialiased outline).
    x, w, vis = gt[:, 2], gt[:, 4], gt[:, 8]
    crossing = (x <= -3) | (x + w >= 160 + 3)
    assert crossing.sum() >= 10 and (vis[crossing] < 1).all()


def test_cli_synth(tmp_path):
    argv = [
        "synth",
        str(tmp_path / "d"),
        "--sequences",
        "2",
        "--frames",
        "3",
        "--width",
        "96",
        "--height",
        "64",
        "--seed",
        "9",
    ]
    assert main(argv) == 0
    assert read_manifest(tmp_path / "d").sequences == ["SYN9-01", "SYN9-02"]
    assert main(["synth", str(tmp_path / "e"), "--width", "8"]) == 2
