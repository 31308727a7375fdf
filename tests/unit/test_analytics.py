"""Track analytics: scene files, line crossings, zones, distance and speed, their files and
pictures, against hand-made tracks and the synthetic generator's exact walker paths."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from fairmot.analytics import (
    ANALYTICS_FILES,
    SceneAnalytics,
    SceneError,
    analyse_rows,
    load_scene,
    parse_scene,
    totals,
    write_analytics,
)
from fairmot.cli import main
from fairmot.data.synth.writer import SCENE_FILE, TRUTH_FILE, generate_dataset
from fairmot.evaluation.mot_files import read_mot_results

FPS = 30
SQUARE = [[0, 0], [100, 0], [100, 100], [0, 100]]
# A 100 px square mapped onto 10 m: 0.1 m per pixel.
CALIBRATION = [
    {"image": [0, 0], "ground": [0, 0]},
    {"image": [100, 0], "ground": [10, 0]},
    {"image": [100, 100], "ground": [10, 10]},
    {"image": [0, 100], "ground": [0, 10]},
]


def box_at(foot_x: float, foot_y: float, h: float = 40.0) -> list[float]:
    """A tlwh box standing with its bottom centre on (foot_x, foot_y)."""
    return [foot_x - h / 4, foot_y - h, h / 2, h]


def feed(analytics: SceneAnalytics, paths: dict[int, list[tuple[float, float]]]) -> None:
    frames = max(len(p) for p in paths.values())
    for f in range(frames):
        analytics.update(f + 1, [(i, box_at(*p[f])) for i, p in paths.items() if f < len(p)])


@pytest.fixture(scope="module")
def synth_sequence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analytics") / "synth"
    generate_dataset(out, sequences=1, frames=240, width=320, height=192, seed=8, analytics=True)
    return out / "SYN8-01"


# -- scene files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"lines": {"door": [[5, 5], [5, 5]]}}, "line 'door': degenerate line"),
        ({"lines": {"door": [[5, 5], [6, 6], [7, 7]]}}, "line 'door': a line has exactly two"),
        (
            {"zones": {"shelf": [[0, 0], [10, 10], [10, 0], [0, 10]]}},
            "zone 'shelf': self-intersecting zone, edge 0->1 meets edge 2->3",
        ),
        ({"zones": {"flat": [[0, 0], [5, 0], [10, 0]]}}, "zone 'flat': degenerate zone"),
        ({"calibration": CALIBRATION[:3]}, "calibration: needs at least 4 points"),
        (
            {"calibration": [{"image": [i, i], "ground": [i, 0]} for i in range(4)]},
            "calibration: the calibration points are degenerate",
        ),
        ({"lines": {"door": [[5, "a"], [6, 6]]}}, "line 'door': a point is [x, y]"),
        ({"doors": {}}, "unknown key 'doors'"),
    ],
)
def test_bad_scene_is_a_one_line_error_naming_the_entry(
    tmp_path: Path, data: dict, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(data))
    with pytest.raises(SceneError) as caught:
        load_scene(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_scene_file_yaml_round_trips_and_matches_the_published_schema(
    synth_sequence: Path,
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parents[2] / "docs" / "scene.schema.json").read_text())
    import yaml

    data = yaml.safe_load((synth_sequence / SCENE_FILE).read_text())
    jsonschema.validate(data, schema)
    scene = load_scene(synth_sequence / SCENE_FILE)
    assert parse_scene(scene.to_json()) == scene
    jsonschema.validate(scene.to_json(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"lines": {"door": [[0, 0]]}}, schema)


def test_calibration_homography_maps_pixels_to_metres() -> None:
    scene = parse_scene({"calibration": CALIBRATION})
    assert scene.calibration is not None
    ground = scene.calibration.to_ground(np.array([[50.0, 50.0], [20.0, 70.0]]))
    np.testing.assert_allclose(ground, [[5.0, 5.0], [2.0, 7.0]], atol=1e-9)


# -- lines and zones on hand-made tracks --------------------------------------------------------


def test_line_counts_direction_once_per_passage_despite_jitter() -> None:
    # Line from (50, 0) down to (50, 100): left of p1->p2 is x > 50 in image coordinates, so
    # walking left (x decreasing) goes from negative cross to positive: "in".
    scene = parse_scene({"lines": {"door": [[50, 0], [50, 100]]}})
    walk_left = [(90 - 2 * t, 60.0) for t in range(40)]  # crosses x=50 at t=20
    jitter = [(50 + (1.5 if t % 2 else -1.5), 60.0) for t in range(30)]  # wobbles on the line
    back_right = [(10 + 2 * t, 60.0) for t in range(40)]
    beside = [(90 - 2 * t, 150.0) for t in range(40)]  # passes beyond the segment's end
    analytics = SceneAnalytics(scene, FPS)
    feed(analytics, {1: walk_left + jitter[::-1][:1] + back_right, 2: jitter, 3: beside})
    report = analytics.report()["lines"]["door"]
    assert (report["in"], report["out"]) == (1, 1)
    assert [(e["track_id"], e["direction"]) for e in report["events"]] == [(1, "in"), (1, "out")]
    assert report["events"][0]["frame_id"] == 24  # first frame clear of the 4 px band


def test_line_counts_a_direction_once_until_the_track_crosses_back() -> None:
    scene = parse_scene({"lines": {"door": [[50, 0], [50, 100]]}})
    # In through the segment, back round its end (not a crossing), in through it again.
    path = (
        [(70 - 2 * t, 50.0) for t in range(20)]  # to x=32: in
        + [(32.0, 50 + 8 * t) for t in range(1, 12)]  # down past the segment's end (y=138)
        + [(32 + 4 * t, 138.0) for t in range(1, 10)]  # back to x=68 below the segment
        + [(68.0, 138 - 8 * t) for t in range(1, 12)]  # up to y=50 on the right
        + [(68 - 2 * t, 50.0) for t in range(1, 20)]  # in again: not counted
    )
    analytics = SceneAnalytics(scene, FPS)
    feed(analytics, {7: path})
    assert analytics.report()["lines"]["door"]["in"] == 1


def test_zone_entries_exits_occupancy_and_dwell() -> None:
    scene = parse_scene({"zones": {"shelf": SQUARE}})
    one = [(150 - 5 * t, 50.0) for t in range(61)]  # in at x=95 (frame 12), out at x=-5 (32)
    two = [(50.0, 50.0)] * 30  # starts inside, stays, its track ends
    analytics = SceneAnalytics(scene, FPS)
    feed(analytics, {1: one, 2: two})
    zone = analytics.report()["zones"]["shelf"]
    assert (zone["entries"], zone["exits"], zone["max_occupancy"]) == (2, 1, 2)
    assert zone["occupancy"] == [[1, 1], [12, 2], [31, 1], [32, 0]]
    assert zone["dwell_s"] == {"1": pytest.approx(20 / FPS, abs=0.001), "2": 1.0}


def test_distance_and_speed_ignore_box_jitter() -> None:
    scene = parse_scene({"calibration": CALIBRATION})
    rng = np.random.default_rng(0)
    # 3 s at 1.5 m/s = 15 px/s along x, with +-2 px of box jitter every frame.
    steady = [(10 + 0.5 * t + rng.uniform(-2, 2), 50 + rng.uniform(-2, 2)) for t in range(90)]
    analytics = SceneAnalytics(scene, FPS)
    feed(analytics, {1: steady})
    track = analytics.report()["tracks"]["1"]
    assert track["distance_m"] == pytest.approx(89 * 0.05, rel=0.15)
    assert track["mean_speed_mps"] == pytest.approx(1.5, rel=0.15)
    assert track["max_speed_mps"] < 2.0
    raw_length = sum(np.hypot(*np.subtract(b, a)) for a, b in itertools.pairwise(steady)) * 0.1
    assert raw_length > 2 * track["distance_m"]  # unsmoothed, jitter would dominate


@pytest.mark.parametrize(
    ("walk", "true_m"),
    [
        # 3 s at 0.3 m/s: the box's jitter is as large as a second's motion.
        ([(10 + 0.1 * t, 50.0) for t in range(90)], 89 * 0.01),
        # Stands 2 s, then walks 2 s at 1.2 m/s (the generator's walkers stop for 0.7-2.5 s).
        ([(10.0, 50.0)] * 60 + [(10 + 0.4 * t, 50.0) for t in range(1, 61)], 60 * 0.04),
    ],
    ids=["slow", "stop-and-go"],
)
def test_mean_speed_of_slow_and_stopping_people_ignores_box_jitter(
    walk: list[tuple[float, float]], true_m: float
) -> None:
    """Path lengths summed frame by frame over a smoothed path whose ends were nearly raw gave
    these people 30-80% too much (seeds 0-3); steps one smoothing window apart, and ends from
    a fitted line, keep them within 10%."""
    scene = parse_scene({"calibration": CALIBRATION})
    rng = np.random.default_rng(1)
    jittered = [(x + rng.uniform(-2, 2), y + rng.uniform(-2, 2)) for x, y in walk]
    analytics = SceneAnalytics(scene, FPS)
    feed(analytics, {1: jittered})
    track = analytics.report()["tracks"]["1"]
    seconds = (len(walk) - 1) / FPS
    assert track["distance_m"] == pytest.approx(true_m, rel=0.1)
    assert track["mean_speed_mps"] == pytest.approx(true_m / seconds, rel=0.1)


def test_path_length_steps_a_stride_apart_and_keeps_the_last_point() -> None:
    from fairmot.analytics.motion import path_length

    zigzag = np.array([[0, 0], [1, 1], [2, 0], [3, 1], [4, 0], [5, 0]], float)
    assert path_length(zigzag) == pytest.approx(4 * np.sqrt(2) + 1)
    assert path_length(zigzag, stride=2) == pytest.approx(4 + 1)  # (0,0) (2,0) (4,0) (5,0)
    assert path_length(zigzag, stride=10) == pytest.approx(5)
    with pytest.raises(ValueError, match="stride"):
        path_length(zigzag, stride=0)


def test_live_updates_report_events_zone_changes_and_speeds() -> None:
    scene = parse_scene(
        {
            "lines": {"door": [[50, 0], [50, 100]]},
            "zones": {"shelf": SQUARE},
            "calibration": CALIBRATION,
        }
    )
    analytics = SceneAnalytics(scene, FPS)
    # 1 px a frame leftwards from x=130: clear of the zone's 4 px band at x=95, of the line's
    # at x=45.
    frames = [analytics.update(t + 1, [(3, box_at(130 - t, 50.0))]) for t in range(100)]
    events = [(f.frame_id, e.line, e.direction) for f in frames for e in f.line_events]
    changes = [(f.frame_id, c.zone, c.change) for f in frames for c in f.zone_changes]
    assert events == [(86, "door", "in")]
    assert changes == [(36, "shelf", "enter")]
    assert 3 not in frames[10].speeds  # less than a speed window of history
    assert frames[-1].speeds[3] == pytest.approx(3.0, rel=0.02)  # 1 px/frame = 3 m/s
    assert frames[-1].to_json()["speeds_mps"] == {"3": pytest.approx(3.0, rel=0.02)}


def test_speeds_skip_boxes_cut_by_the_frame_border_distances_keep_them() -> None:
    """A walker leaving at the right edge at 0.5 px a frame (1.5 m/s): once its box is cut by
    the border, the detector's amodal guess drifts its feet down 0.5 px a frame (0.05 m), as
    fast as the walk; with the frame size, speeds come from the frames whose feet are in view."""
    scene = parse_scene({"calibration": CALIBRATION})
    size, frames = (110, 100), 120
    boxes = []
    for t in range(frames):
        x = 60 + 0.5 * t
        cut_for = sum(60 + 0.5 * k + 10 >= size[0] for k in range(t + 1))  # box 20 px wide
        boxes.append(box_at(x, 50.0 + 0.5 * cut_for))
    seen_frames = sum(b[0] + b[2] < size[0] for b in boxes)
    assert frames // 2 < seen_frames < frames
    reports = {}
    for frame_size in (None, size):
        analytics = SceneAnalytics(scene, FPS, frame_size=frame_size)
        live = [analytics.update(t + 1, [(1, b)]) for t, b in enumerate(boxes)]
        reports[frame_size] = analytics.report()["tracks"]["1"]
        # Live speeds: none once the feet are cut off, when the frame size is known.
        assert 1 in live[seen_frames - 1].speeds
        assert (1 in live[-1].speeds) == (frame_size is None)
    blind, seen = reports[None], reports[size]
    assert seen["speed_frames"] == [1, seen_frames] and blind["speed_frames"] == [1, frames]
    assert seen["mean_speed_mps"] == pytest.approx(1.5, rel=0.03)
    assert blind["mean_speed_mps"] / 1.5 > 1.1  # the guessed feet's drift reads as speed
    assert seen["distance_m"] == blind["distance_m"]  # every foot point, as the trajectory


# -- against the generator's exact paths --------------------------------------------------------


def truth_of(sequence: Path) -> dict:
    return json.loads((sequence / TRUTH_FILE).read_text())


def test_analytics_of_the_true_foot_paths_equal_the_truth(synth_sequence: Path) -> None:
    """The geometry alone: the generator's exact feet as zero-size boxes (so no hysteresis
    band), unsmoothed, through cross products, the polygon test and the fitted homography."""
    truth = truth_of(synth_sequence)
    rows = np.array(
        [
            [f, int(k), x, y, 0, 0, 1]
            for k, t in truth["tracks"].items()
            for f, x, y in t["trajectory"]
        ]
    )
    scene = load_scene(synth_sequence / SCENE_FILE)
    report = analyse_rows(rows, scene, FPS, smooth_s=0).report()
    for name, line in truth["lines"].items():
        assert report["lines"][name]["events"] == line["events"]
    zone, expected = report["zones"]["middle"], truth["zones"]["middle"]
    assert (zone["entries"], zone["exits"], zone["max_occupancy"]) == (
        expected["entries"],
        expected["exits"],
        expected["max_occupancy"],
    )
    assert set(report["tracks"]) == set(truth["tracks"])
    for key, track in truth["tracks"].items():
        got = report["tracks"][key]
        assert (got["first_frame"], got["last_frame"]) == (
            track["first_frame"],
            track["last_frame"],
        )
        # Equal up to the rounding of the files (3 and 4 decimals).
        assert got["distance_m"] == pytest.approx(track["distance_m"], abs=1e-3)
        assert got["mean_speed_mps"] == pytest.approx(track["mean_speed_mps"], abs=1e-3)
        assert got["distance_px"] == pytest.approx(track["distance_px"], abs=0.02)
    assert totals(report)["distance_m"] == pytest.approx(truth["distance_m"], abs=0.01)
    # Smoothed (the default), a walker's path shortens only where it turns or stops.
    smoothed = analyse_rows(rows, scene, FPS).report()
    assert totals(smoothed)["distance_m"] == pytest.approx(truth["distance_m"], rel=0.01)


def test_analytics_of_ground_truth_boxes_count_every_completed_crossing(
    synth_sequence: Path,
) -> None:
    """From gt.txt boxes (feet = bottom centre): every crossing and zone visit the truth has,
    in the same direction by the same track, a few frames later (the hysteresis band). Only an
    event in the last half second may still be inside the band when the video ends."""
    truth = truth_of(synth_sequence)
    frames = 240
    settled = frames - FPS // 2
    rows = read_mot_results(synth_sequence / "gt" / "gt.txt")
    report = analyse_rows(rows, load_scene(synth_sequence / SCENE_FILE), FPS).report()

    def passages(events: list[dict], key: str) -> list[tuple[int, str]]:
        return sorted((e["track_id"], e[key]) for e in events if e["frame_id"] <= settled)

    crossings = 0
    for name, line in truth["lines"].items():
        got = report["lines"][name]["events"]
        assert passages(got, "direction") == passages(line["events"], "direction")
        crossings += len(line["events"])
    assert crossings >= 4  # the scene really is crossed
    zone, expected = report["zones"]["middle"], truth["zones"]["middle"]
    settled_changes = [c for c in expected["changes"] if c["frame_id"] <= settled]
    assert zone["entries"] == sum(c["change"] == "enter" for c in settled_changes)
    assert zone["exits"] == sum(c["change"] == "exit" for c in settled_changes)
    # Boxes are not feet: a box cut by the frame edge has its bottom centre off the feet.
    assert totals(report)["distance_m"] == pytest.approx(truth["distance_m"], rel=0.08)


def test_cli_analytics_on_a_gt_file_writes_every_table_and_picture(
    synth_sequence: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "analytics"
    gt = synth_sequence / "gt" / "gt.txt"
    assert (
        main(["analytics", str(gt), "--scene", str(synth_sequence / SCENE_FILE), "--out", str(out)])
        == 0
    )
    assert "tracks, left: in=" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == sorted(ANALYTICS_FILES)
    report = json.loads((out / "analytics.json").read_text())
    truth = truth_of(synth_sequence)
    assert set(report["tracks"]) == set(truth["tracks"])
    lines_csv = (out / "analytics_lines.csv").read_text().splitlines()
    assert lines_csv[0] == "line,in,out"
    assert lines_csv[1] == f"left,{report['lines']['left']['in']},{report['lines']['left']['out']}"
    tracks_csv = (out / "analytics_tracks.csv").read_text().splitlines()
    assert len(tracks_csv) == 1 + len(report["tracks"])


def test_cli_analytics_bad_scene_is_one_line(
    synth_sequence: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scene = tmp_path / "scene.json"
    scene.write_text(json.dumps({"zones": {"bow": [[0, 0], [10, 10], [10, 0], [0, 10]]}}))
    gt = synth_sequence / "gt" / "gt.txt"
    assert main(["analytics", str(gt), "--scene", str(scene), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fairmot analytics: ") and "zone 'bow'" in err and "\n" not in err
    assert main(["analytics", str(tmp_path / "none.txt"), "--scene", str(scene), "--out", "x"]) == 2


def test_pictures_show_trajectories_and_where_people_stood(tmp_path: Path) -> None:
    scene = parse_scene({"zones": {"shelf": SQUARE}})
    analytics = SceneAnalytics(scene, FPS)
    # One track walks along row 150; another stands at (40, 60) for two seconds.
    feed(analytics, {1: [(10 + 3 * t, 150.0) for t in range(60)], 2: [(40.0, 60.0)] * 60})
    background = np.full((200, 240, 3), 200, np.uint8)
    paths = write_analytics(tmp_path, analytics.report(), size=(240, 200), background=background)
    trajectories = cv2.imread(str(tmp_path / "trajectories.png"))
    heat = cv2.imread(str(tmp_path / "occupancy_heatmap.png"))
    assert all(p.is_file() for p in paths)
    assert trajectories.shape == heat.shape == (200, 240, 3)
    dimmed = 120  # the background at 60%
    assert np.abs(trajectories[150, 50].astype(int) - dimmed).max() > 40  # on the path
    assert np.abs(trajectories[100, 200].astype(int) - dimmed).max() == 0  # nowhere near it
    # The standing track is the hottest cell: red end of the colour map; the walker's row cool.
    stand, walk = heat[60, 40].astype(int), heat[150, 100].astype(int)
    assert stand[2] > stand[0] and walk[0] > walk[2]
    assert np.abs(heat[20, 200].astype(int) - dimmed).max() == 0


def test_comparison_with_truth_follows_renumbered_tracks(synth_sequence: Path) -> None:
    """The acceptance measurement on perfect tracking: gt boxes under new ids are matched back
    to their people, and their mean speeds over >= 2 s agree with the true ones."""
    from fairmot.data.synth.truth import compare_with_truth, identities

    truth = truth_of(synth_sequence)
    gt = read_mot_results(synth_sequence / "gt" / "gt.txt")
    tracks = gt.copy()
    tracks[:, 1] += 100
    assert identities(tracks, gt) == {int(i) + 100: int(i) for i in np.unique(gt[:, 1])}
    report = analyse_rows(tracks, load_scene(synth_sequence / SCENE_FILE), FPS).report()
    result = compare_with_truth(report, truth, tracks, gt)
    assert result["speeds"] and all(t - 100 == p for t, p, _, _ in result["speeds"])
    ratios = [got / true for _, _, got, true in result["speeds"]]
    assert all(abs(r - 1) <= 0.15 for r in ratios), ratios
    got, true = result["distance_m"]
    assert got == pytest.approx(true, rel=0.08)


def test_annotated_frames_show_lines_zones_counts_and_speed_labels() -> None:
    from fairmot.video.draw import Annotator, TrackBox, colour_for_id

    scene = parse_scene(
        {
            "lines": {"door": [[150, 190], [150, 10]]},
            "zones": {"shelf": [[20, 20], [80, 20], [80, 80], [20, 80]]},
            "calibration": CALIBRATION,
        }
    )
    analytics = SceneAnalytics(scene, FPS)
    box = TrackBox(5, (200.0, 100.0, 220.0, 140.0), 0.9)
    frames = []
    for t in range(40):  # a standing track, so it has a speed after a window of history
        update = analytics.update(t + 1, [(5, [200.0, 100.0, 20.0, 40.0])])
        frames.append(
            Annotator().draw(
                np.zeros((200, 300, 3), np.uint8), [box], analytics.overlay(update.speeds)
            )
        )
    plain = Annotator().draw(np.zeros((200, 300, 3), np.uint8), [box])
    last = frames[-1]
    assert (last[50, 150] > 200).all() and not plain[50, 150].any()  # the line, white
    edge = last[50, 78:83].astype(int)  # the zone's right edge: yellow, anti-aliased
    assert edge[:, 2].max() > 150 and edge[:, 1].max() > 120 and edge[:, 0].max() == 0
    assert not plain[50, 78:83].any()
    # The speed label under the box: filled with the track's colour, absent without a speed.
    below = last[142:150, 202:215].reshape(-1, 3)
    assert (below == colour_for_id(5)).all(axis=1).mean() > 0.15  # the rest is its text
    assert not plain[142:150, 202:215].any() and not frames[0][142:150, 202:215].any()


def test_synth_command_writes_a_scene_and_its_truth(tmp_path: Path) -> None:
    code = main(
        ["synth", str(tmp_path / "d"), "--sequences", "1", "--frames", "20", "--width", "96",
         "--height", "64", "--seed", "4", "--analytics"]
    )  # fmt: skip
    assert code == 0
    sequence = tmp_path / "d" / "SYN4-01"
    scene = load_scene(sequence / SCENE_FILE)
    assert [line.name for line in scene.lines] == ["left", "right"] and scene.calibration
    truth = truth_of(sequence)
    assert set(truth) >= {"lines", "zones", "tracks", "distance_m"} and truth["tracks"]


def test_cli_analytics_counts_only_pedestrians_of_a_classed_gt_file(tmp_path: Path) -> None:
    # MOT17-style gt rows: frame, id, x, y, w, h, mark, class, visibility; id 2 is a car.
    rows = [
        f"{f},{i},{x - 10 + 4 * f},50,20,40,1,{c},1.0"
        for f in range(1, 21)
        for i, c, x in ((1, 1, 20), (2, 3, 22))
    ]
    gt = tmp_path / "gt.txt"
    gt.write_text("\n".join(rows) + "\n")
    scene = tmp_path / "scene.yaml"
    scene.write_text("lines:\n  door: [[60, 200], [60, 0]]\n")
    out = tmp_path / "out"
    assert (
        main(["analytics", str(gt), "--scene", str(scene), "--fps", "10", "--out", str(out)]) == 0
    )
    report = json.loads((out / "analytics.json").read_text())
    assert set(report["tracks"]) == {"1"}
    assert (report["lines"]["door"]["in"], report["lines"]["door"]["out"]) == (1, 0)
