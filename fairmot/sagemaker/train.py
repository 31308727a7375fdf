"""The `train` entry point: SageMaker's training contract around `fairmot.train.train`.

Reads `input/config/hyperparameters.json` (all strings; unknown keys fail the job listing the valid
ones), `inputdataconfig.json` and `resourceconfig.json`; trains on the `train` channel (a dataset
folder with manifest.json), optionally starting from the `pretrained` channel; writes model.pt +
model.json to SM_MODEL_DIR (SageMaker tars it into model.tar.gz) and a checkpoint every epoch to
/opt/ml/checkpoints, from which a restarted (spot) job resumes. Metric lines are `name=value`
tokens read by `fairmot.train.metrics.METRIC_DEFINITIONS`.

Failure: the reason goes to output/failure (SageMaker shows its start as FailureReason) and the
exit code is non-zero -- never 0 for a job that did not finish.

Stop (SIGTERM: StopTrainingJob, spot interruption, `docker stop`): the current step finishes, a
checkpoint is written, the job exits 143 (128 + SIGTERM) with the reason in output/failure.
SageMaker waits 120 s after SIGTERM before SIGKILL, far longer than one step plus a checkpoint;
a stopped job shows as Stopped whatever the exit code, a spot job restarts and resumes. The
handler is the first thing installed, so a stop while the configuration loads ends the same way;
a `.pt.tmp` left by a kill in the middle of a checkpoint write is removed on the next start.

Several processes (torch.distributed): one per GPU on each host (SM_NUM_GPUS or the visible
count), hosts from SM_HOSTS/SM_CURRENT_HOST or resourceconfig.json, rendezvous at the first host
(sorted) on FAIRMOT_MASTER_PORT (29500); NCCL on GPU, gloo on CPU. FAIRMOT_PROCS_PER_HOST forces
the process count (e.g. 2 gloo processes on a CPU), FAIRMOT_MASTER_ADDR replaces the first host's
name (tests map algo-1 to 127.0.0.1). `batch_size` is per process, so the effective batch is
batch_size * processes; `lr` is used as given (the reference's), lr_scaling=linear multiplies it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from fairmot.sagemaker.paths import ClusterSpec, TrainingPaths

CHANNELS = ("train", "pretrained")
SIGTERM_EXIT = 128 + signal.SIGTERM  # what a shell reports for a process ended by SIGTERM
DEFAULT_MASTER_PORT = 29500  # torch.distributed's customary rendezvous port
PRETRAINED_SUFFIXES = (".pth", ".pt", ".tar.gz")
WORKER_GRACE_S = 60.0  # a failed rank's peers get this long to exit after SIGTERM


class JobConfigError(ValueError):
    """The job's configuration (channels, files) is wrong; the message says what to fix."""


def write_failure(paths: TrainingPaths, message: str, details: str = "") -> None:
    """Write the reason first (SageMaker keeps the first 1024 characters), details after."""
    paths.failure_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        with paths.failure_file.open("x") as handle:  # the first process to fail tells why
            handle.write(message.strip() + "\n" + details)
    except FileExistsError:
        pass
    print(f"training failed: {message}", file=sys.stderr, flush=True)


def read_hyperparameters(paths: TrainingPaths) -> dict[str, str]:
    """hyperparameters.json as strings (a missing file means all defaults)."""
    if not paths.hyperparameters_file.is_file():
        return {}
    try:
        raw = json.loads(paths.hyperparameters_file.read_text())
    except json.JSONDecodeError as error:
        raise JobConfigError(f"{paths.hyperparameters_file} is not JSON: {error}") from None
    if not isinstance(raw, dict):
        raise JobConfigError(f"{paths.hyperparameters_file} must hold a JSON object")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}


def check_channels(paths: TrainingPaths) -> None:
    """inputdataconfig.json names only known channels in File (or FastFile) mode, train included."""
    if paths.input_data_config_file.is_file():
        channels = json.loads(paths.input_data_config_file.read_text())
        unknown = sorted(set(channels) - set(CHANNELS))
        if unknown:
            raise JobConfigError(
                f"unknown input channel(s) {', '.join(unknown)}; valid: {', '.join(CHANNELS)}"
            )
        for name, spec in channels.items():
            mode = spec.get("TrainingInputMode", "File")
            if mode not in ("File", "FastFile"):
                raise JobConfigError(f"channel {name}: input mode {mode} unsupported; use File")
    if not (paths.train_channel / "manifest.json").is_file():
        raise JobConfigError(
            f"the train channel {paths.train_channel} holds no manifest.json: point it at a "
            "dataset folder (fairmot synth / fairmot prepare / fairmot upload-dataset)"
        )


def resolve_pretrained(load_model: str, channel: Path) -> str:
    """The file or artifact to start from: load_model names a file in the pretrained channel
    (or a path); an empty load_model takes the channel's only checkpoint or artifact."""
    if not channel.is_dir() or not any(channel.iterdir()):
        return load_model
    if load_model:
        inside = channel / load_model
        return str(inside) if inside.exists() else load_model
    if (channel / "model.pt").is_file() and (channel / "model.json").is_file():
        return str(channel)
    found = sorted(
        p for p in channel.rglob("*") if p.is_file() and p.name.endswith(PRETRAINED_SUFFIXES)
    )
    if len(found) != 1:
        names = [str(p.relative_to(channel)) for p in found]
        raise JobConfigError(
            f"the pretrained channel holds {len(found)} checkpoints {names}: set load_model to one"
        )
    return str(found[0])


def load_config(paths: TrainingPaths) -> Any:
    from fairmot.sagemaker.artifact import ensure_cuda
    from fairmot.train import TrainConfig

    config = TrainConfig.from_strings(read_hyperparameters(paths))
    ensure_cuda()  # a GPU instance without CUDA fails here, before any data is read
    check_channels(paths)
    load_model = resolve_pretrained(config.load_model, paths.pretrained_channel)
    return config.updated(load_model=load_model) if load_model != config.load_model else config


def processes_per_host(cluster: ClusterSpec, config: Any) -> int:
    forced = os.environ.get("FAIRMOT_PROCS_PER_HOST")
    if forced:
        return max(1, int(forced))
    if config.device == "cpu":
        return 1
    if cluster.num_gpus >= 0:
        return max(1, cluster.num_gpus)
    import torch

    return max(1, torch.cuda.device_count())


def run_training(paths: TrainingPaths, config: Any, dist: Any, stop_event: threading.Event) -> int:
    """Train in this process; returns the exit code. `dist` is a DistributedContext."""
    from fairmot.train.checkpoints import remove_partial_checkpoints
    from fairmot.train.loop import TrainingInterrupted, train

    for stale in remove_partial_checkpoints(paths.checkpoint_dir):
        print(f"removed {stale.name}, a checkpoint write cut short", flush=True)
    try:
        result = train(
            config,
            paths.train_channel,
            paths.model_dir,
            paths.checkpoint_dir,
            log=lambda line: print(line, flush=True),
            stop_event=stop_event,
            dist=dist,
        )
    except TrainingInterrupted as stopped:
        write_failure(paths, f"stopped by SIGTERM: {stopped}; a restarted job resumes from it")
        return SIGTERM_EXIT
    # One line per rank: how an operator (and the tests) check that all ranks agree.
    print(f"rank {dist.rank} parameter digest {result.parameter_digest}", flush=True)
    if dist.is_main:
        paths.output_data_dir.mkdir(parents=True, exist_ok=True)
        summary = {
            "metrics": result.metrics,
            "epochs": result.epochs_done,
            "history": result.history,
        }
        (paths.output_data_dir / "training_summary.json").write_text(json.dumps(summary, indent=2))
    return 0


def _stop_on_sigterm() -> threading.Event:
    stop_event = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        print(f"signal {signum}: finishing the step, then checkpointing", flush=True)
        stop_event.set()

    signal.signal(signal.SIGTERM, handler)
    return stop_event


def worker_main() -> int:
    """One rank of a distributed job (spawned by `launch`); reads RANK etc. from the environment."""
    stop_event = _stop_on_sigterm()  # before the torch import: seconds in which a stop could land
    import torch
    import torch.distributed as torch_dist

    from fairmot.train.distributed import DistributedContext

    paths = TrainingPaths.from_env()
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    try:
        config = load_config(paths)
        use_cuda = config.device != "cpu" and torch.cuda.is_available()
        backend = DistributedContext.default_backend(torch.device("cuda" if use_cuda else "cpu"))
        if use_cuda:
            torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        torch_dist.init_process_group(backend, init_method="env://", rank=rank, world_size=world)
        dist = DistributedContext(rank, world, int(os.environ["LOCAL_RANK"]), backend)
        try:
            return run_training(paths, config, dist, stop_event)
        finally:
            torch_dist.destroy_process_group()
    except Exception as error:
        write_failure(
            paths, f"rank {rank}: {type(error).__name__}: {error}", traceback.format_exc()
        )
        return 1


def wait_for_workers(children: list[subprocess.Popen[bytes]]) -> list[int]:
    """Exit codes of all workers. When one fails, the others would wait for it forever in their
    next collective (NCCL has no timeout by default), so they are stopped: SIGTERM, then SIGKILL."""
    while any(child.poll() is None for child in children):
        if any(child.poll() not in (None, 0) for child in children):
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=WORKER_GRACE_S)
                except subprocess.TimeoutExpired:
                    child.kill()
            break
        time.sleep(0.5)
    return [child.wait() for child in children]


def launch(paths: TrainingPaths, cluster: ClusterSpec, per_host: int) -> int:
    """Start one worker process per GPU (or forced count) on this host and wait for them all."""
    world = per_host * len(cluster.hosts)
    master = os.environ.get("FAIRMOT_MASTER_ADDR") or cluster.hosts[0]
    port = os.environ.get("FAIRMOT_MASTER_PORT") or str(DEFAULT_MASTER_PORT)
    threads = max(1, (os.cpu_count() or 1) // per_host)
    print(
        f"launching {per_host} process(es) on {cluster.current_host}, world size {world}, "
        f"rendezvous {master}:{port}",
        flush=True,
    )
    children: list[subprocess.Popen[bytes]] = []
    stopped = threading.Event()  # this job was told to stop (as opposed to a rank failing)

    def forward(signum: int, _frame: Any) -> None:
        stopped.set()
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    # Installed before the first spawn, so a stop that arrives meanwhile is not lost.
    signal.signal(signal.SIGTERM, forward)
    for local_rank in range(per_host):
        env = {
            **os.environ,
            "RANK": str(cluster.host_rank * per_host + local_rank),
            "LOCAL_RANK": str(local_rank),
            "WORLD_SIZE": str(world),
            "MASTER_ADDR": master,
            "MASTER_PORT": port,
        }
        env.setdefault("OMP_NUM_THREADS", str(threads))
        children.append(subprocess.Popen([sys.executable, "-m", __name__, "--worker"], env=env))
    if stopped.is_set():  # ranks spawned after the signal have not had it yet
        forward(signal.SIGTERM, None)
    codes = wait_for_workers(children)
    if any(code != 0 for code in codes):
        # A worker killed outright (e.g. out of memory) writes nothing: say so here.
        write_failure(paths, f"training processes exited with codes {codes}")
        # Ranks stopped because a peer failed also exit 143: only our own stop makes it 143.
        return SIGTERM_EXIT if stopped.is_set() else 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """SageMaker runs `train` with no arguments; `--worker` is one spawned rank."""
    parser = argparse.ArgumentParser(prog="train", description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args(argv)  # tolerate the `train` word docker may pass on
    if args.worker:
        return worker_main()
    # First: a stop during configuration loading must still end with a failure file and 143.
    stop_event = _stop_on_sigterm()
    paths = TrainingPaths.from_env()
    # A failure file left by an earlier attempt (local mode reuses folders) must not linger.
    paths.failure_file.unlink(missing_ok=True)
    try:
        config = load_config(paths)
        cluster = ClusterSpec.from_env(paths.config_dir)
        per_host = processes_per_host(cluster, config)
        if stop_event.is_set():
            write_failure(paths, "stopped by SIGTERM before training started; nothing to resume")
            return SIGTERM_EXIT
        if per_host * len(cluster.hosts) > 1:
            return launch(paths, cluster, per_host)
        from fairmot.train.distributed import DistributedContext

        return run_training(paths, config, DistributedContext(), stop_event)
    except Exception as error:
        write_failure(paths, f"{type(error).__name__}: {error}", traceback.format_exc())
        return 1


if __name__ == "__main__":
    sys.exit(main())
