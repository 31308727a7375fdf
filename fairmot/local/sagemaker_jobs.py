"""Run SageMaker training and processing jobs as local processes of the container entry points.

A job gets its own folder standing in for the container's `/opt/ml` (FAIRMOT_OPT_ML plus
SageMaker's SM_* variables): channels and processing inputs are downloaded from S3 into it,
`hyperparameters.json` / `inputdataconfig.json` / `resourceconfig.json` are written as SageMaker
writes them, the entry point runs as a subprocess, and afterwards the model (as model.tar.gz) or
the processing outputs go back to S3. The result says Completed or Failed with SageMaker's
FailureReason (the job's own failure file) and the final metrics parsed from the log.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fairmot.local.seam import environ_snapshot
from fairmot.upload import s3_parts

ENTRY_POINT_MODULES = {
    "train": "fairmot.sagemaker.train",
    "serve": "fairmot.sagemaker.serve",
    "process": "fairmot.sagemaker.process",
}
FAILURE_REASON_LIMIT = 1024  # SageMaker's FailureReason maximum length
LOG_TAIL_LINES = 20
CONTAINER_OPT_ML = "/opt/ml"

LogSink = Callable[[str], None]

# Jobs still running when the local stack closes are stopped, not left behind.
_running: set[subprocess.Popen[str]] = set()
_running_lock = threading.Lock()


def terminate_running(timeout_s: float = 10.0) -> None:
    """Stop every job process still running (the stack is closing)."""
    with _running_lock:
        processes = list(_running)
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class JobResult:
    status: str  # Completed | Failed
    failure_reason: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    log_path: Path | None = None


def download_prefix(s3: Any, uri: str, destination: Path) -> int:
    """Copy every object under an S3 prefix (or one object) into destination; return the count."""
    bucket, prefix = s3_parts(uri)
    destination.mkdir(parents=True, exist_ok=True)
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith("/"):
                continue
            relative = key[len(prefix) :].lstrip("/") or key.rsplit("/", 1)[-1]
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))
            count += 1
    return count


def upload_dir(s3: Any, source: Path, uri: str) -> int:
    bucket, prefix = s3_parts(uri)
    count = 0
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        key = "/".join(x for x in (prefix.rstrip("/"), path.relative_to(source).as_posix()) if x)
        s3.upload_file(str(path), bucket, key)
        count += 1
    return count


def entry_point_command(entry: list[str] | None, default: str) -> list[str]:
    """The local command for a container entry point (`train`, `serve`, `process`)."""
    if not entry:
        return [sys.executable, "-m", ENTRY_POINT_MODULES[default]]
    module = ENTRY_POINT_MODULES.get(Path(entry[0]).name)
    if module is None:  # any other entry point runs as written, as in the container
        return list(entry)
    return [sys.executable, "-m", module, *entry[1:]]


def final_metrics(log_text: str, definitions: list[dict[str, str]]) -> dict[str, float]:
    """The last value each metric definition's regex finds in the log, as SageMaker reports."""
    metrics: dict[str, float] = {}
    for definition in definitions:
        values = re.findall(definition["Regex"], log_text, flags=re.MULTILINE)
        if values:
            last = values[-1]
            try:
                metrics[definition["Name"]] = float(last if isinstance(last, str) else last[0])
            except ValueError:
                continue
    return metrics


def _failure_reason(failure_file: Path, log_path: Path, returncode: int) -> str:
    if failure_file.is_file() and failure_file.read_text().strip():
        reason = failure_file.read_text().strip()
    else:
        tail = log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        reason = f"AlgorithmError: exit code {returncode}: " + " | ".join(tail)
    return reason[:FAILURE_REASON_LIMIT]


def _run(command: list[str], env: dict[str, str], cwd: Path, log_path: Path, sink: LogSink) -> int:
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        with _running_lock:
            _running.add(process)
        try:
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                log.flush()
                sink(line.rstrip("\n"))
            return process.wait()
        finally:
            with _running_lock:
                _running.discard(process)


# Local mode runs jobs and endpoints meant for GPU instances on this machine's CPU, on purpose.
LOCAL_CPU_OPT_OUT = {"FAIRMOT_ALLOW_CPU": "1"}


def _base_env(opt_ml: Path, extra: dict[str, str]) -> dict[str, str]:
    env = environ_snapshot()
    # The job must not talk to whatever AWS the parent talks to: it sees only its folders.
    for key in ("AWS_ENDPOINT_URL",):
        env.pop(key, None)
    env.update({"FAIRMOT_OPT_ML": str(opt_ml), "PYTHONUNBUFFERED": "1", **extra})
    env.update(LOCAL_CPU_OPT_OUT)
    return env


def run_training_job(
    s3: Any,
    request: dict[str, Any],
    job_dir: Path,
    *,
    metric_definitions: list[dict[str, str]],
    sink: LogSink = lambda line: None,
) -> JobResult:
    """Run one CreateTrainingJob request (already accepted by the backend) to completion."""
    name = request["TrainingJobName"]
    opt_ml = job_dir / "opt_ml"
    config_dir = opt_ml / "input" / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    channels = request.get("InputDataConfig") or []
    channel_env: dict[str, str] = {}
    for channel in channels:
        channel_name = channel["ChannelName"]
        target = opt_ml / "input" / "data" / channel_name
        uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
        if download_prefix(s3, uri, target) == 0:
            return JobResult(
                "Failed",
                f'ClientError: No S3 objects found under S3 URL "{uri}" given in input data '
                f"source. Please ensure that the bucket exists in the selected region, that "
                f"objects exist under that S3 prefix.",
            )
        channel_env[f"SM_CHANNEL_{channel_name.upper()}"] = str(target)
    hyperparameters = {k: str(v) for k, v in (request.get("HyperParameters") or {}).items()}
    (config_dir / "hyperparameters.json").write_text(json.dumps(hyperparameters, indent=2))
    input_config = {
        c["ChannelName"]: {
            "TrainingInputMode": c.get("InputMode", "File"),
            "S3DistributionType": c["DataSource"]["S3DataSource"].get(
                "S3DataDistributionType", "FullyReplicated"
            ),
            "RecordWrapperType": "None",
        }
        for c in channels
    }
    (config_dir / "inputdataconfig.json").write_text(json.dumps(input_config, indent=2))
    resource = {"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "lo"}
    (config_dir / "resourceconfig.json").write_text(json.dumps(resource))
    for folder in ("model", "output/data", "checkpoints"):
        (opt_ml / folder).mkdir(parents=True, exist_ok=True)
    env = _base_env(
        opt_ml,
        {
            **{k: str(v) for k, v in (request.get("Environment") or {}).items()},
            **channel_env,
            "SM_MODEL_DIR": str(opt_ml / "model"),
            "SM_INPUT_CONFIG_DIR": str(config_dir),
            "SM_OUTPUT_DATA_DIR": str(opt_ml / "output" / "data"),
            "SM_HOSTS": json.dumps(["algo-1"]),
            "SM_CURRENT_HOST": "algo-1",
            "SM_NUM_GPUS": "0",
            "SM_HPS": json.dumps(hyperparameters),
            "TRAINING_JOB_NAME": name,
        },
    )
    algorithm = request.get("AlgorithmSpecification") or {}
    command = entry_point_command(algorithm.get("ContainerEntrypoint"), "train")
    command += list(algorithm.get("ContainerArguments") or [])
    log_path = job_dir / "log.txt"
    returncode = _run(command, env, job_dir, log_path, sink)
    metrics = final_metrics(log_path.read_text(errors="replace"), metric_definitions)
    if returncode != 0:
        reason = _failure_reason(opt_ml / "output" / "failure", log_path, returncode)
        return JobResult("Failed", reason, metrics, log_path)
    artifact = job_dir / "model.tar.gz"
    with tarfile.open(artifact, "w:gz") as tar:
        for path in sorted((opt_ml / "model").iterdir()):
            tar.add(path, arcname=path.name)
    bucket, key = s3_parts(model_artifact_uri(request))
    s3.upload_file(str(artifact), bucket, key)
    output_data = opt_ml / "output" / "data"
    if any(output_data.iterdir()):
        out_bucket, out_key = s3_parts(model_artifact_uri(request).replace("model.tar.gz", ""))
        with tarfile.open(job_dir / "output.tar.gz", "w:gz") as tar:
            tar.add(output_data, arcname=".")
        s3.upload_file(str(job_dir / "output.tar.gz"), out_bucket, out_key + "output.tar.gz")
    return JobResult("Completed", None, metrics, log_path)


def model_artifact_uri(request: dict[str, Any]) -> str:
    """SageMaker's artifact location: <S3OutputPath>/<job name>/output/model.tar.gz."""
    output = request["OutputDataConfig"]["S3OutputPath"].rstrip("/")
    return f"{output}/{request['TrainingJobName']}/output/model.tar.gz"


def relocate(container_path: str, opt_ml: Path) -> Path:
    """Map a container path under /opt/ml to the job's folder (others go under it too)."""
    relative = Path(container_path).as_posix()
    if relative.startswith(CONTAINER_OPT_ML + "/"):
        relative = relative[len(CONTAINER_OPT_ML) + 1 :]
    return opt_ml / relative.lstrip("/")


def run_processing_job(
    s3: Any, request: dict[str, Any], job_dir: Path, *, sink: LogSink = lambda line: None
) -> JobResult:
    """Run one CreateProcessingJob request: download inputs, run `process`, upload outputs."""
    opt_ml = job_dir / "opt_ml"
    opt_ml.mkdir(parents=True, exist_ok=True)
    env_paths: dict[str, str] = {}
    for item in request.get("ProcessingInputs") or []:
        source = item.get("S3Input")
        if not source:
            continue
        local = relocate(source["LocalPath"], opt_ml)
        if download_prefix(s3, source["S3Uri"], local) == 0:
            return JobResult("Failed", f"ClientError: no objects at {source['S3Uri']}")
        if item.get("InputName") in ("video", "model"):
            env_paths[f"FAIRMOT_PROCESSING_{item['InputName'].upper()}_DIR"] = str(local)
    outputs = (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    for item in outputs:
        target = item.get("S3Output")
        if target:
            relocate(target["LocalPath"], opt_ml).mkdir(parents=True, exist_ok=True)
            if len(outputs) == 1:
                env_paths["FAIRMOT_PROCESSING_OUTPUT_DIR"] = str(
                    relocate(target["LocalPath"], opt_ml)
                )
    (opt_ml / "output").mkdir(parents=True, exist_ok=True)
    app = request.get("AppSpecification") or {}
    command = entry_point_command(app.get("ContainerEntrypoint"), "process")
    command += list(app.get("ContainerArguments") or [])
    env = _base_env(
        opt_ml,
        {
            **{k: str(v) for k, v in (request.get("Environment") or {}).items()},
            **env_paths,
            "FAIRMOT_OUTPUT_DIR": str(opt_ml / "output"),
        },
    )
    log_path = job_dir / "log.txt"
    returncode = _run(command, env, job_dir, log_path, sink)
    if returncode != 0:
        reason = _failure_reason(opt_ml / "output" / "message", log_path, returncode)
        return JobResult("Failed", reason, {}, log_path)
    for item in outputs:
        target = item.get("S3Output")
        if target:
            upload_dir(s3, relocate(target["LocalPath"], opt_ml), target["S3Uri"])
    return JobResult("Completed", None, {}, log_path)
