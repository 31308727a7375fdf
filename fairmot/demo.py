"""`fairmot local demo`: the whole pipeline end to end, offline, on the CPU.

synthetic dataset -> `fairmot upload-dataset` (manifest last) -> training workflow ->
`Training Succeeded` -> deploy workflow (started by the stack's own rule: the manifest asks for
`deploy: true`) -> `Model Deployed` -> a held-out synthetic video streamed frame by frame to the
endpoint -> the same video uploaded under videos/ -> batch workflow -> `Video Processed` ->
annotated videos, tracks and MOTA/IDF1 against the ground truth in the output folder, with the
events log.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairmot.local.stack import LocalAws, LocalSettings
from fairmot.operator import WorkflowError, consumer_events, result_queue_url, wait_for_workflow

DATASET_NAME = "demo"
VIDEO_KEY = "videos/demo/heldout.mp4"


@dataclass(frozen=True)
class DemoSize:
    """How much data the demo makes; `quick` fits ~2 minutes of training."""

    recipe: str
    sequences: int
    frames: int
    width: int
    height: int
    video_frames: int
    training_timeout_s: float


# Many short sequences at the recipes' own input size: the data bench/quality.py measures the
# lite recipe on (diversity matters more than length for a small model).
FULL = DemoSize("lite", 100, 25, 320, 192, 150, 55 * 60)
QUICK = DemoSize("quick", 40, 25, 320, 192, 90, 6 * 60)


@dataclass
class DemoConfig:
    out: Path
    template: Path = Path("template.yaml")
    quick: bool = False
    work: Path | None = None
    seed: int = 1
    wait_scale: float = 0.1
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def size(self) -> DemoSize:
        return QUICK if self.quick else FULL


class StageFailed(RuntimeError):
    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"stage '{stage}' failed: {reason}")
        self.stage = stage
        self.reason = reason


@contextmanager
def stage(config: DemoConfig, number: int, title: str) -> Iterator[None]:
    """A banner, the stage's wall time, and its name on any failure."""
    print(f"\n{'=' * 78}\n[{number}/7] {title}\n{'=' * 78}", flush=True)
    started = time.perf_counter()
    try:
        yield
    except StageFailed:
        raise
    except Exception as error:
        raise StageFailed(title, f"{type(error).__name__}: {error}") from error
    finally:
        config.timings[title] = round(time.perf_counter() - started, 1)
    print(f"--- {title}: done in {config.timings[title]:.0f} s", flush=True)


_PROGRESS_BAR = re.compile(r"\d+%\|")


def _job_printer() -> Callable[[str, str], None]:
    """Job output, prefixed by the job; a job's tqdm bar redraws one line instead of many."""
    in_bar = False

    def show(job: str, line: str) -> None:
        nonlocal in_bar
        text = line.strip()
        if not text:
            return
        prefix = f"  [{job[-28:]}] "
        if _PROGRESS_BAR.search(text):
            print(f"\r{prefix}{text[:110]:<110}", end="", flush=True)
            in_bar = True
            return
        if in_bar:
            print(flush=True)
            in_bar = False
        print(prefix + text, flush=True)

    return show


def make_dataset(config: DemoConfig, work: Path) -> Path:
    from fairmot.commands.synth import training_options
    from fairmot.data import generate_dataset

    size = config.size
    dataset = generate_dataset(
        work / "dataset",
        sequences=size.sequences,
        frames=size.frames,
        width=size.width,
        height=size.height,
        seed=config.seed,
        name=DATASET_NAME,
        progress=True,
    )
    training_options(Path(dataset), size.recipe, deploy=True)
    return Path(dataset)


def make_heldout_video(config: DemoConfig, work: Path) -> tuple[Path, Path]:
    """A synthetic sequence with a new seed, as an mp4, and its ground-truth file."""
    from fairmot.data import generate_dataset, read_sequence
    from fairmot.operator import encode_frames

    size = config.size
    root = generate_dataset(
        work / "heldout",
        sequences=1,
        frames=size.video_frames,
        width=size.width,
        height=size.height,
        seed=config.seed + 1000,
        name="heldout",
    )
    seq_dir = next(p for p in Path(root).iterdir() if (p / "seqinfo.ini").exists())
    sequence = read_sequence(seq_dir)
    # Frames are numbered 000001...: name order is frame order.
    video = encode_frames(seq_dir / sequence.im_dir, work / "heldout.mp4", sequence.frame_rate)
    return video, seq_dir / "gt" / "gt.txt"


def evaluate_tracks(tracks: Path, gt: Path) -> dict[str, float]:
    from fairmot.evaluation import evaluate_sequence, read_mot_results
    from fairmot.evaluation.mot_files import read_mot_gt

    return evaluate_sequence(read_mot_results(tracks), read_mot_gt(gt))


def _require(run: Any, stage_name: str, expected: str, aws: LocalAws, after: int) -> None:
    types = [e["detail-type"] for e in aws.published.events[after:]]
    if run.status != "SUCCEEDED" or expected not in types:
        raise StageFailed(
            stage_name,
            f"workflow {run.status} with events {types or 'none'}; {run.failure or ''}".strip(),
        )


def _download_prefix(aws: LocalAws, bucket: str, prefix: str, target: Path) -> list[Path]:
    from fairmot.local.sagemaker_jobs import download_prefix

    download_prefix(aws.client("s3"), f"s3://{bucket}/{prefix}", target)
    return sorted(p for p in target.rglob("*") if p.is_file())


def run_demo(config: DemoConfig) -> int:
    """Run every stage; print which failed and why. Returns the exit code."""
    out = config.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = (config.work or out / "work").resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    events_log = out / "events.jsonl"
    events_log.unlink(missing_ok=True)
    settings = LocalSettings(
        template=config.template.resolve(),
        work_dir=work / "aws",
        events_log=events_log,
        wait_scale=config.wait_scale,
        job_log=_job_printer(),
        quiet_lambdas=True,
    )
    started = time.perf_counter()
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    try:
        with stage(config, 1, "Synthetic dataset and held-out video"):
            dataset = make_dataset(config, work)
            video, gt = make_heldout_video(config, work)
        with LocalAws(settings) as aws:
            assert aws.stack is not None
            bucket = aws.stack.bucket
            queue = result_queue_url(aws.stack.outputs)
            sm_training = aws.stack.state_machine("training")
            sm_deploy = aws.stack.state_machine("deploy")
            sm_batch = aws.stack.state_machine("batch")
            print(f"local stack: bucket {bucket}, bus {aws.stack.bus}", flush=True)

            with stage(config, 2, "Upload the dataset (fairmot upload-dataset, manifest last)"):
                from fairmot.cli import main as fairmot_main

                code = fairmot_main(
                    ["upload-dataset", str(dataset), f"s3://{bucket}/datasets/{DATASET_NAME}"]
                )
                if code:
                    raise StageFailed("upload", f"fairmot upload-dataset exited with {code}")

            with stage(config, 3, f"Training workflow ({config.size.recipe} CPU recipe)"):
                mark = len(aws.published.events)
                run = wait_for_workflow(
                    aws, sm_training, known=0, timeout_s=config.size.training_timeout_s
                )
                _require(run, "training workflow", "Training Succeeded", aws, mark)

            with stage(config, 4, "Deploy workflow (started by the Training Succeeded rule)"):
                mark = len(aws.published.events)
                run = wait_for_workflow(aws, sm_deploy, known=0, timeout_s=300)
                _require(run, "deploy workflow", "Model Deployed", aws, mark)
                deployed = next(
                    e for e in aws.published.events[mark:] if e["detail-type"] == "Model Deployed"
                )
                endpoint = _endpoint_name(deployed["detail"], aws)

            with stage(config, 5, f"Stream the held-out video to endpoint {endpoint}"):
                from fairmot.client import SageMakerTransport, stream_video

                transport = SageMakerTransport(endpoint, client=aws.client("sagemaker-runtime"))
                # The streamed result is the demo's headline: annotated.mp4 at the top of --out.
                summary = stream_video(video, transport, out, progress=True)
                print(f"streamed {summary.get('frames')} frames", flush=True)

            with stage(config, 6, "Batch workflow (the same video uploaded under videos/)"):
                mark = len(aws.published.events)
                aws.client("s3").upload_file(str(video), bucket, VIDEO_KEY)
                run = wait_for_workflow(aws, sm_batch, known=0, timeout_s=600)
                _require(run, "batch workflow", "Video Processed", aws, mark)
                files = _download_prefix(aws, bucket, "results/", out / "batch")
                print("\n".join(f"  {p.relative_to(out)}" for p in files), flush=True)

            with stage(config, 7, "Evaluate against the ground truth (MOTA, IDF1)"):
                shutil.copy(gt, out / "heldout_gt.txt")
                metrics: dict[str, Any] = {}
                stream_tracks = out / "tracks.txt"
                if stream_tracks.exists():
                    metrics["stream"] = evaluate_tracks(stream_tracks, gt)
                batch_tracks = [p for p in files if p.name == "tracks.txt"]
                if not batch_tracks:
                    raise StageFailed("evaluate", "the batch results have no tracks.txt")
                metrics["batch"] = evaluate_tracks(batch_tracks[0], gt)
                metrics["consumer_events"] = [
                    e.get("detail-type") for e in consumer_events(aws, queue)
                ]
                (out / "metrics.json").write_text(json.dumps(_finite(metrics), indent=2))
                for source in ("stream", "batch"):
                    if source in metrics:
                        m = metrics[source]
                        print(
                            f"{source:>6}: MOTA {m.get('mota', float('nan')):.3f} "
                            f"IDF1 {m.get('idf1', float('nan')):.3f}",
                            flush=True,
                        )
    except StageFailed as failure:
        print(f"\nDEMO FAILED in {failure.stage}: {failure.reason}", file=sys.stderr, flush=True)
        _write_timings(config, out, started, ok=False)
        return 1
    except WorkflowError as failure:
        print(f"\nDEMO FAILED: {failure}", file=sys.stderr, flush=True)
        _write_timings(config, out, started, ok=False)
        return 1
    _write_timings(config, out, started, ok=True)
    print(f"\nDemo finished in {time.perf_counter() - started:.0f} s; outputs in {out}")
    print(f"annotated video: {out / 'annotated.mp4'} (batch job's copy under {out / 'batch'})")
    return 0


def _finite(value: Any) -> Any:
    """JSON has no NaN: undefined metrics (no detections at all) become null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _endpoint_name(detail: dict[str, Any], aws: LocalAws) -> str:
    for key in ("endpointName", "EndpointName", "endpoint"):
        value = detail.get(key) or (detail.get("outputs") or {}).get(key)
        if isinstance(value, str):
            return value
    assert aws.stack is not None
    return str(aws.stack.outputs.get("EndpointName"))


def _write_timings(config: DemoConfig, out: Path, started: float, *, ok: bool) -> None:
    timings = {**config.timings, "total": round(time.perf_counter() - started, 1), "ok": ok}
    (out / "timings.json").write_text(json.dumps(timings, indent=2))
