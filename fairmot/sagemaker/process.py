"""The `process` entry point: SageMaker's processing contract for whole videos.

Every video under /opt/ml/processing/input/video/ (recursively; mp4, avi, mov, mkv) is tracked with
the model artifact from /opt/ml/processing/input/model/ (model.tar.gz or model.pt + model.json).
Each video's results go to /opt/ml/processing/output/<relative path without suffix>/:
annotated.mp4, tracks.txt (MOT Challenge), tracks.json and summary.json, written all or nothing.
`manifest.json` in the output root lists what was produced and what failed, rewritten as each
video finishes. A video that cannot be read fails alone; if no video was found or all of them
failed, the reason goes to /opt/ml/output/message (SageMaker's FailureReason) and the exit code
is 1.

Stop (SIGTERM: StopProcessingJob, `docker stop`): the video in progress is abandoned (its staging
folder removed, an earlier run's complete results for it kept), the manifest records the stop,
the reason goes to the message file and the exit code is 143, as training does. Staging left by
a killed run (SIGKILL) is removed when the next run starts.

With a scene file (`<video stem>.scene.yaml` or `.json` beside the video, else the one in
/opt/ml/processing/input/scene/), a video also gets analytics.json, its CSVs and pictures.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fairmot.sagemaker.paths import ProcessingPaths
from fairmot.sagemaker.train import SIGTERM_EXIT
from fairmot.video.outputs import remove_stale_staging, write_json_atomic

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv"})
MANIFEST = "manifest.json"
# One processing job per video writes into a shared results folder: the pipeline names each
# job's manifest (plan_processing) so that videos of one folder do not overwrite each other's.
MANIFEST_NAME_VARIABLE = "FAIRMOT_MANIFEST_NAME"
DEFAULT_BATCH_FRAMES = 8  # frames per forward pass; FAIRMOT_BATCH_SIZE changes it
STOPPED = "stopped by SIGTERM"
SCENE_SUFFIXES = (".scene.yaml", ".scene.yml", ".scene.json")


@dataclass
class RunManifest:
    """What `manifest.json` records about one processing run."""

    model: dict[str, Any]
    outputs: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    finished: bool = False  # false while videos are still being processed, or after a stop
    stopped: bool = False


class ProcessingStopped(BaseException):
    """SIGTERM arrived. Not an Exception: no per-video handler may take it for a bad video."""


def _stop_on_sigterm() -> None:
    def handler(signum: int, _frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop is enough; finish cleaning up
        raise ProcessingStopped(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def find_videos(root: Path) -> list[Path]:
    """Videos under root, recursively, in a stable order."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def output_names(videos: list[Path], root: Path) -> dict[Path, Path]:
    """Relative output folder per video: its path without suffix (`cam1/a.mp4` -> `cam1/a`);
    videos differing only by suffix keep it (`a_mp4`, `a_avi`; `a_MP4` beside `a_mp4`, as S3
    keys differ by case) so none overwrites another."""
    stems = Counter(v.relative_to(root).with_suffix("") for v in videos)
    names = {}
    for video in videos:
        stem = video.relative_to(root).with_suffix("")
        names[video] = (
            stem if stems[stem] == 1 else stem.with_name(f"{stem.name}_{video.suffix.lstrip('.')}")
        )
    return names


def scene_for(video: Path, scene_dir: Path) -> Path | None:
    """A video's own scene file beside it, else the job's default scene, else None."""
    for suffix in SCENE_SUFFIXES:
        own = video.with_name(video.stem + suffix)
        if own.is_file():
            return own
    if scene_dir.is_dir():
        defaults = sorted(
            p for p in scene_dir.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml", ".json")
        )
        if defaults:
            return defaults[0]
    return None


def write_manifest(paths: ProcessingPaths, manifest: RunManifest) -> None:
    name = os.environ.get(MANIFEST_NAME_VARIABLE, MANIFEST)
    write_json_atomic(paths.output_dir / name, asdict(manifest))


def fail(paths: ProcessingPaths, message: str, code: int = 1) -> int:
    paths.message_file.parent.mkdir(parents=True, exist_ok=True)
    paths.message_file.write_text(message + "\n")
    print(f"processing failed: {message}", file=sys.stderr, flush=True)
    return code


def run(paths: ProcessingPaths) -> int:
    """Track every video; the exit code (0 when at least one video succeeded)."""
    from fairmot.sagemaker.artifact import load_pipeline

    started = time.perf_counter()
    videos = find_videos(paths.video_dir)
    if not videos:
        suffixes = ", ".join(sorted(VIDEO_SUFFIXES))
        return fail(paths, f"no video ({suffixes}) found under {paths.video_dir}")
    batch = int(os.environ.get("FAIRMOT_BATCH_SIZE") or DEFAULT_BATCH_FRAMES)
    try:
        pipeline = load_pipeline(paths.model_dir, batch_size=batch)
    except Exception as error:
        return fail(paths, f"cannot load the model from {paths.model_dir}: {error}")
    card = pipeline.card
    manifest = RunManifest(
        model={"arch": card.arch, "input_w": card.input_w, "input_h": card.input_h}
    )
    names = output_names(videos, paths.video_dir)
    for stale in remove_stale_staging(paths.output_dir):
        print(f"removed {stale}, left by an interrupted run", flush=True)
    try:
        return _track_all(paths, pipeline, videos, names, manifest, started)
    except ProcessingStopped:
        manifest.stopped = True
        manifest.seconds = round(time.perf_counter() - started, 3)
        write_manifest(paths, manifest)
        in_progress = [f["video"] for f in manifest.failures if f["error"] == STOPPED]
        during = f" during {in_progress[0]}" if in_progress else ""
        done = len(manifest.outputs) + len(manifest.failures) - len(in_progress)
        return fail(
            paths,
            f"{STOPPED}{during}, {done} of {len(videos)} video(s) done; complete results of "
            "earlier runs are kept",
            SIGTERM_EXIT,
        )


def _track_all(
    paths: ProcessingPaths,
    pipeline: Any,
    videos: list[Path],
    names: dict[Path, Path],
    manifest: RunManifest,
    started: float,
) -> int:
    from fairmot.analytics import load_scene

    show_progress = sys.stderr.isatty()
    for number, video in enumerate(videos, 1):
        relative = str(video.relative_to(paths.video_dir))
        out_dir = paths.output_dir / names[video]
        print(f"[{number}/{len(videos)}] {relative} -> {out_dir}", flush=True)
        try:
            scene_file = scene_for(video, paths.scene_dir)
            scene = load_scene(scene_file) if scene_file is not None else None
            summary = pipeline.track_video(video, out_dir, progress=show_progress, scene=scene)
        except ProcessingStopped:
            manifest.failures.append({"video": relative, "error": STOPPED})
            raise
        except Exception as error:  # one bad video fails alone; the others go on
            reason = f"{type(error).__name__}: {error}"
            print(f"  failed: {reason}", file=sys.stderr, flush=True)
            manifest.failures.append({"video": relative, "error": reason})
            write_manifest(paths, manifest)
            continue
        print(
            f"  {summary.frames} frames, {summary.tracks} tracks, {summary.fps:.1f} fps", flush=True
        )
        manifest.outputs.append(
            {
                "video": relative,
                "output": str(names[video]),
                "files": sorted(p.name for p in out_dir.iterdir() if p.is_file()),
                "frames": summary.frames,
                "tracks": summary.tracks,
                "fps": round(summary.fps, 3),
            }
        )
        # As videos finish, so a stopped or killed job still lists what it completed.
        write_manifest(paths, manifest)
    manifest.seconds = round(time.perf_counter() - started, 3)
    manifest.finished = True
    write_manifest(paths, manifest)
    if not manifest.outputs:
        first = manifest.failures[0]
        return fail(
            paths,
            f"all {len(videos)} video(s) failed; first: {first['video']}: {first['error']}",
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """SageMaker runs `process` with no arguments (or the job's ContainerArguments, unused)."""
    del argv
    _stop_on_sigterm()  # first: a stop while the model loads must not kill the job silently
    paths = ProcessingPaths.from_env()
    try:
        return run(paths)
    except ProcessingStopped:  # before any video started
        return fail(paths, f"{STOPPED} before any video was processed", SIGTERM_EXIT)
    except Exception as error:  # a bug: still a failure SageMaker can show
        return fail(paths, f"{type(error).__name__}: {error}")


if __name__ == "__main__":
    sys.exit(main())
