"""The per-video result files, written so that a half-done run never looks complete.

Everything goes to a hidden staging folder inside the output folder and is renamed into place
at the end (a rename within one file system is atomic), `summary.json` last: its presence means
the run finished. On failure the staging folder is removed and an earlier run's complete results
stay as they were: they are replaced only once the new ones are complete. A staging folder left
by a killed run is removed by `remove_stale_staging` when the next one starts.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

ANNOTATED_VIDEO = "annotated.mp4"
TRACKS_MOT = "tracks.txt"
TRACKS_JSON = "tracks.json"
SUMMARY_JSON = "summary.json"
# summary.json last: it is the marker that the others are complete.
OUTPUT_NAMES = (ANNOTATED_VIDEO, TRACKS_MOT, TRACKS_JSON, SUMMARY_JSON)
STAGING_PREFIX = ".partial-"
PARTIAL_SUFFIX = ".partial"  # a JSON file being written (write_json_atomic)

# One reported track in one frame: frame (from 1), track id, x, y, w, h, score, class id.
MotRow = tuple[int, int, float, float, float, float, float, int]


@dataclass
class StageTimings:
    """Seconds each stage spent working (stages overlap, so they can add up to more than wall)."""

    decode: float = 0.0  # reading, decoding and letterboxing frames
    infer: float = 0.0  # forward pass and decoding detections
    track: float = 0.0  # association
    encode: float = 0.0  # drawing and encoding the annotated video


@dataclass
class VideoSummary:
    """What `summary.json` says about one tracked video."""

    video: str
    frames: int
    width: int
    height: int
    source_fps: float
    fps: float  # frames per second achieved by the whole pipeline
    seconds: float
    tracks: int  # distinct track ids written
    timings: StageTimings = field(default_factory=StageTimings)
    codec: str | None = None  # of annotated.mp4, None with --no-video
    model: dict[str, Any] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    truncated: bool = False  # decoding stopped early: the results cover the frames that decoded
    first_frame: int = 1  # number of the first tracked frame in the source (a part: --start)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        frames = max(self.frames, 1)
        data["timings_ms_per_frame"] = {
            stage: round(1000 * seconds / frames, 3) for stage, seconds in data["timings"].items()
        }
        return data


class AtomicOutputs:
    """Stage result files and move them into `out_dir` together on `commit()`.

    Use as a context manager: leaving it without commit (an exception, a stop) removes every
    staged file and leaves an earlier run's results untouched; `commit` replaces them.
    `also_replaces` names further results (analytics files) that an earlier run may have left
    and this one replaces or, where it makes none, removes on commit, like the tracks.
    """

    def __init__(self, out_dir: str | Path, also_replaces: tuple[str, ...] = ()) -> None:
        self.out_dir = Path(out_dir)
        self.result_names = OUTPUT_NAMES + also_replaces
        self.staging: Path | None = None
        self.created_out_dir = False

    def __enter__(self) -> AtomicOutputs:
        self.created_out_dir = not self.out_dir.exists()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.out_dir))
        return self

    def path(self, name: str) -> Path:
        """Where to write result `name` for now."""
        if self.staging is None:
            raise RuntimeError("AtomicOutputs used outside its `with` block")
        return self.staging / name

    def commit(self) -> list[Path]:
        """Move every staged file to its final name, summary.json last; return the final paths.

        The earlier run's summary.json goes first, so until the new one lands the folder reads
        as unfinished, never as one run's summary over another's tracks; an earlier result this
        run did not make (annotated.mp4 before a run without video) goes too.
        """
        if self.staging is None:
            raise RuntimeError("AtomicOutputs used outside its `with` block")
        staged = sorted(
            self.staging.iterdir(),
            key=lambda p: OUTPUT_NAMES.index(p.name) if p.name in OUTPUT_NAMES else -1,
        )
        (self.out_dir / SUMMARY_JSON).unlink(missing_ok=True)
        made = {path.name for path in staged}
        for name in self.result_names:
            if name not in made:
                (self.out_dir / name).unlink(missing_ok=True)
        moved: list[Path] = []
        try:
            for path in staged:
                final = self.out_dir / path.name
                path.replace(final)
                moved.append(final)
        except OSError:
            for final in moved:
                final.unlink(missing_ok=True)
            raise
        self.staging.rmdir()
        self.staging = None
        return moved

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None
            # A failed first run leaves no folder behind that could pass for a result.
            if self.created_out_dir and not any(self.out_dir.iterdir()):
                self.out_dir.rmdir()


def remove_stale_staging(root: Path) -> list[Path]:
    """Remove staging folders (and `.*.partial` files) that killed runs left under `root`.

    Only for a run that owns `root` (a processing job's output folder): a staging folder of a
    run still going would be removed too.
    """
    stale = [
        path
        for path in root.rglob(".*")
        if (path.is_dir() and path.name.startswith(STAGING_PREFIX))
        or (path.is_file() and path.name.endswith(PARTIAL_SUFFIX))
    ]
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON (indented) through a hidden `.partial` file and a rename: whole or absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}{PARTIAL_SUFFIX}")
    partial.write_text(json.dumps(data, indent=2))
    os.replace(partial, path)


def write_json(path: Path, data: Any, *, indent: int | None = None) -> None:
    """JSON with a trailing newline; compact unless `indent` (for files people read)."""
    separators = None if indent else (",", ":")
    path.write_text(json.dumps(data, indent=indent, separators=separators) + "\n")


def track_record(
    track_id: int, tlwh: Sequence[float], score: float, class_id: int | None = None
) -> dict[str, Any]:
    """One reported track as tracks.json and the endpoint's answers write it, with its class
    when known."""
    record: dict[str, Any] = {
        "track_id": int(track_id),
        "bbox": [round(float(v), 2) for v in tlwh],
        "score": round(float(score), 4),
    }
    if class_id is not None:
        record["class_id"] = int(class_id)
    return record


def tracks_json(summary: VideoSummary, rows: Sequence[MotRow]) -> dict[str, Any]:
    """tracks.json: per frame (numbered as tracks.txt: from 1 in the source video) the reported
    tracks, [x, y, w, h] boxes."""
    per_frame: list[list[dict[str, Any]]] = [[] for _ in range(summary.frames)]
    for frame, track_id, x, y, w, h, score, class_id in rows:
        per_frame[frame - summary.first_frame].append(
            track_record(track_id, (x, y, w, h), score, class_id)
        )
    return {
        "video": summary.video,
        "fps": summary.source_fps,
        "width": summary.width,
        "height": summary.height,
        "frames": [
            {"frame": summary.first_frame + i, "tracks": tracks}
            for i, tracks in enumerate(per_frame)
        ],
    }


def write_results(
    outputs: AtomicOutputs,
    summary: VideoSummary,
    rows: Sequence[MotRow],
    *,
    extra: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Stage tracks.txt, tracks.json and summary.json (plus `extra` keys) beside whatever is
    already staged (annotated.mp4), then commit them all; returns the final paths."""
    import numpy as np

    from fairmot.evaluation import write_mot_results

    write_mot_results(outputs.path(TRACKS_MOT), np.asarray(rows, dtype=np.float64).reshape(-1, 8))
    write_json(outputs.path(TRACKS_JSON), tracks_json(summary, rows))
    staged = [p.name for p in outputs.path(SUMMARY_JSON).parent.iterdir()]
    summary.outputs = [name for name in OUTPUT_NAMES if name in staged or name == SUMMARY_JSON]
    write_json(outputs.path(SUMMARY_JSON), {**summary.to_json(), **(extra or {})}, indent=2)
    return outputs.commit()
