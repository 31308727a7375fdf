"""The endpoint with a scene: given with a stream's frame 0, every answer then carries that
frame's line events, zone changes and each track's current speed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_sagemaker_serve import frame_files, notebook_request, post

from fairmot.analytics import SceneAnalytics, parse_scene

pytestmark = pytest.mark.slow
CALIBRATION = [
    {"image": [0, 0], "ground": [0, 0]},
    {"image": [320, 0], "ground": [16, 0]},
    {"image": [320, 192], "ground": [16, 9.6]},
    {"image": [0, 192], "ground": [0, 9.6]},
]


def stream(url: str, files: list[Path], name: str, **first: Any) -> list[dict[str, Any]]:
    """Every frame's answer of one stream, the scene (if any) on frame 0."""
    answers = []
    for i, path in enumerate(files):
        status, payload, _ = post(
            url, notebook_request(path, i, stream_id=name, **(first if i == 0 else {}))
        )
        assert status == 200, payload
        answers.extend(payload["frames"])
    return answers


def test_answers_carry_line_events_zone_changes_and_speeds(
    serve_url: str, tiny_dataset: Path
) -> None:
    files = frame_files(tiny_dataset)
    plain = stream(serve_url, files, "plain")
    assert all("analytics" not in a for a in plain)
    # A vertical line through the middle of the longest-moving track's path, so it is crossed.
    feet: dict[int, list[tuple[int, float]]] = {}
    for answer in plain:
        for t in answer["tracks"]:
            x, _, w, _ = t["bbox"]
            feet.setdefault(t["track_id"], []).append((answer["frame_id"], x + w / 2))
    mover = max(feet.values(), key=lambda p: abs(p[-1][1] - p[0][1]))
    assert abs(mover[-1][1] - mover[0][1]) > 10, "no track moves far enough to cross a line"
    line_x = round((mover[0][1] + mover[-1][1]) / 2, 1)
    scene = {
        "lines": {"middle": [[line_x, 192], [line_x, 0]]},
        "zones": {"right": [[line_x, 0], [320, 0], [320, 192], [line_x, 192]]},
        "calibration": CALIBRATION,
    }
    # At 10 fps the 12 frames hold a speed window (1 s) of history by the last frame.
    answers = stream(serve_url, files, "scened", scene=scene, frame_rate=10)
    assert [a["tracks"] for a in answers] == [a["tracks"] for a in plain]
    # The same analytics computed here from the plain stream's tracks, frame by frame.
    local = SceneAnalytics(parse_scene(scene), 10)
    for answer, reference in zip(answers, plain, strict=True):
        want = local.update(
            reference["frame_id"], ((t["track_id"], t["bbox"]) for t in reference["tracks"])
        )
        expected = json.loads(json.dumps(want.to_json()))
        got = answer["analytics"]
        assert got["line_events"] == expected["line_events"]
        assert got["zone_changes"] == expected["zone_changes"]
        # The answers' boxes are rounded to 0.01 px; the server's speeds come from exact ones.
        assert got["speeds_mps"] == pytest.approx(expected["speeds_mps"], abs=0.005)
    events = [e for a in answers for e in a["analytics"]["line_events"]]
    assert events, "the line through the mover's path was crossed"
    assert {e["line"] for e in events} == {"middle"} and {e["direction"] for e in events} <= {
        "in",
        "out",
    }
    assert any(a["analytics"]["zone_changes"] for a in answers)
    speeds = answers[-1]["analytics"]["speeds_mps"]
    assert speeds and all(np.isfinite(v) and v >= 0 for v in speeds.values())


def test_a_bad_scene_is_a_400_naming_the_entry(serve_url: str, tiny_dataset: Path) -> None:
    files = frame_files(tiny_dataset)
    bad = {"zones": {"shelf": [[0, 0], [10, 10], [10, 0], [0, 10]]}}
    status, payload, _ = post(serve_url, notebook_request(files[0], 0, stream_id="bad", scene=bad))
    assert status == 400 and payload["error"].startswith("'scene': zone 'shelf': self-intersecting")
    status, _, _ = post(serve_url, notebook_request(files[1], 1, stream_id="bad"))
    assert status == 404  # the stream never started
    status, payload, _ = post(
        serve_url, notebook_request(files[0], 0, stream_id="late", calibration=None)
    )
    assert status == 200
    status, payload, _ = post(
        serve_url, notebook_request(files[1], 1, stream_id="late", scene={"lines": {}})
    )
    assert status == 400 and "frame_id 0" in payload["error"]
