"""What the console shows, read through boto3 from the local stack or a deployed one.

A `ConsoleSource` knows the stack's state machines, bucket and results queue, and where job
logs and published events are: files for the local stack (STATE_DIR/work, events.jsonl),
CloudWatch Logs and the results queue (read without deleting) for a deployed stack.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from fairmot.train.metrics import METRIC_DEFINITIONS

LOG_TAIL_LINES = 40
EVENTS_SHOWN = 50
RESULTS_PREFIX = "results/"
VIDEO_NAME = "annotated.mp4"
JOB_KINDS = {
    # kind -> (list call, summaries key, name field, status field, describe call, log group)
    "tuning": ("list_hyper_parameter_tuning_jobs", "HyperParameterTuningJobSummaries",
               "HyperParameterTuningJobName", "HyperParameterTuningJobStatus",
               "describe_hyper_parameter_tuning_job", None),
    "training": ("list_training_jobs", "TrainingJobSummaries", "TrainingJobName",
                 "TrainingJobStatus", "describe_training_job", "/aws/sagemaker/TrainingJobs"),
    "processing": ("list_processing_jobs", "ProcessingJobSummaries", "ProcessingJobName",
                   "ProcessingJobStatus", "describe_processing_job",
                   "/aws/sagemaker/ProcessingJobs"),
}  # fmt: skip


class ConsoleError(ValueError):
    """A request names something the stack does not have."""


def _time(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if isinstance(value, datetime) else None


def metric_series(log_text: str) -> dict[str, list[float]]:
    """Every value of every metric in a job's log, in order: the curves the page plots."""
    series: dict[str, list[float]] = {}
    for definition in METRIC_DEFINITIONS:
        values = [float(v) for v in re.findall(definition["Regex"], log_text, re.MULTILINE)]
        if values and definition["Name"] not in ("epoch", "step"):
            series[definition["Name"]] = values
    return series


def path_through(history: list[dict[str, Any]]) -> tuple[list[str], str | None, dict[str, str]]:
    """States entered in order, the state where the first error arose (the root cause a Catch
    may have routed on from), and that error with its cause."""
    visited: list[str] = []
    failed: str | None = None
    error: dict[str, str] = {}
    for event in history:
        entered = event.get("stateEnteredEventDetails")
        if entered:
            visited.append(entered["name"])
        for key, details in event.items():
            if not key.endswith("FailedEventDetails") or error:
                continue
            error = {"error": details.get("error", ""), "cause": details.get("cause", "")}
            failed = visited[-1] if visited else None
    return visited, failed, error


@dataclass
class ConsoleSource:
    client: Callable[[str], Any]
    state_machines: dict[str, str]  # logical id -> ARN
    bucket: str | None = None
    queue_url: str | None = None
    admission_url: str | None = None  # videos waiting for a batch (issue 18's admission queue)
    work_dir: Path | None = None  # the local stack's job folders
    events_log: Path | None = None  # the local stack's published events

    # ---- overview ------------------------------------------------------------------------
    def overview(self) -> dict[str, Any]:
        return {
            "executions": self.executions(),
            "jobs": self.jobs(),
            "events": self.events(),
            "videos": self.videos(),
        }

    def executions(self) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        found = []
        for logical, arn in self.state_machines.items():
            for e in sfn.list_executions(stateMachineArn=arn)["executions"]:
                found.append(
                    {
                        "machine": logical,
                        "name": e["name"],
                        "arn": e["executionArn"],
                        "status": e["status"],
                        "start": _time(e.get("startDate")),
                        "stop": _time(e.get("stopDate")),
                    }
                )
        return sorted(found, key=lambda e: e["start"] or "", reverse=True)

    def jobs(self) -> list[dict[str, Any]]:
        sagemaker = self.client("sagemaker")
        found = []
        for kind, (action, key, name_field, status_field, *_) in JOB_KINDS.items():
            for summary in getattr(sagemaker, action)().get(key, []):
                found.append(
                    {
                        "kind": kind,
                        "name": summary[name_field],
                        "status": summary[status_field],
                        "created": _time(summary.get("CreationTime")),
                    }
                )
        return sorted(found, key=lambda j: j["created"] or "", reverse=True)

    def events(self) -> list[dict[str, Any]]:
        if self.events_log is not None:
            if not self.events_log.is_file():
                return []
            lines = self.events_log.read_text().splitlines()[-EVENTS_SHOWN:]
            return [json.loads(line) for line in reversed(lines) if line.strip()]
        if self.queue_url is None:
            return []
        # Peek, not consume: VisibilityTimeout 0 leaves every message for the real consumers.
        answer = self.client("sqs").receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )
        return [json.loads(m["Body"]) for m in answer.get("Messages", [])]

    def videos(self) -> list[dict[str, Any]]:
        if self.bucket is None:
            return []
        s3 = self.client("s3")
        found = []
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=RESULTS_PREFIX
        )
        for page in pages:
            for item in page.get("Contents", []):
                if item["Key"].endswith("/" + VIDEO_NAME):
                    folder = item["Key"][: -len(VIDEO_NAME)]
                    found.append({"key": item["Key"], "summary": self._summary(s3, folder)})
        return found

    def _summary(self, s3: Any, folder: str) -> dict[str, Any] | None:
        try:
            body = s3.get_object(Bucket=self.bucket, Key=folder + "summary.json")["Body"].read()
        except s3.exceptions.NoSuchKey:
            return None
        summary: dict[str, Any] = json.loads(body)
        return summary

    # ---- details -------------------------------------------------------------------------
    def execution(self, arn: str) -> dict[str, Any]:
        if not any(
            arn.startswith(m.replace(":stateMachine:", ":execution:") + ":")
            for m in self.state_machines.values()
        ):
            raise ConsoleError(f"{arn}: not an execution of this stack's state machines")
        sfn = self.client("stepfunctions")
        description = sfn.describe_execution(executionArn=arn)
        definition = json.loads(
            sfn.describe_state_machine(stateMachineArn=description["stateMachineArn"])["definition"]
        )
        history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        visited, failed, error = path_through(history)
        return {
            "name": description["name"],
            "status": description["status"],
            "definition": definition,
            "visited": visited,
            "failed": failed,
            "error": error,
            "input": description.get("input"),
        }

    def job(self, kind: str, name: str) -> dict[str, Any]:
        if kind not in JOB_KINDS:
            raise ConsoleError(f"unknown job kind {kind!r}: choose from {', '.join(JOB_KINDS)}")
        _, _, name_field, status_field, describe, _ = JOB_KINDS[kind]
        try:
            described = getattr(self.client("sagemaker"), describe)(**{name_field: name})
        except Exception as error:  # botocore's ClientError: the name is not a job
            raise ConsoleError(f"no {kind} job {name!r}: {error}") from error
        log = self.job_log(kind, name)
        return {
            "name": name,
            "kind": kind,
            "status": described[status_field],
            "failure": described.get("FailureReason"),
            "metrics": metric_series(log),
            "log": log.splitlines()[-LOG_TAIL_LINES:],
        }

    def job_log(self, kind: str, name: str) -> str:
        group = JOB_KINDS[kind][5]
        if self.work_dir is not None:
            path = self.work_dir / kind / name / "log.txt"
            return path.read_text(errors="replace") if path.is_file() else ""
        if group is None:  # a tuning job logs nothing itself; its training jobs do
            return ""
        logs = self.client("logs")
        streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=name + "/")
        lines: list[str] = []
        for stream in streams.get("logStreams", []):
            events = logs.get_log_events(
                logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
            )
            lines += [e["message"] for e in events.get("events", [])]
        return "\n".join(lines)

    def video(self, key: str) -> bytes:
        if self.bucket is None or not (key.startswith(RESULTS_PREFIX) and key.endswith(VIDEO_NAME)):
            raise ConsoleError(f"{key}: not a processed video of this stack")
        body: bytes = self.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        return body


def local_source(state_dir: Path) -> ConsoleSource:
    """The stack `fairmot local up` runs in state_dir."""
    from fairmot.local_client import RunningStack, StackNotRunning, view

    try:
        return view(RunningStack.open(state_dir))
    except StackNotRunning as error:
        raise ConsoleError(str(error)) from error


def deployed_source(stack_name: str, region: str | None = None) -> ConsoleSource:
    """A deployed stack, found through CloudFormation with the caller's AWS credentials."""
    import boto3

    session: Any = boto3.Session(region_name=region)
    cloudformation = session.client("cloudformation")
    try:
        resources = cloudformation.describe_stack_resources(StackName=stack_name)
    except Exception as error:  # botocore's ClientError: no such stack, or no access
        raise ConsoleError(f"stack {stack_name}: {error}") from error
    machines, buckets = {}, []
    for resource in resources["StackResources"]:
        if resource["ResourceType"] == "AWS::StepFunctions::StateMachine":
            machines[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
        elif resource["ResourceType"] == "AWS::S3::Bucket":
            buckets.append(resource["PhysicalResourceId"])
    outputs = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0].get("Outputs", [])
    values = {o["OutputKey"]: o["OutputValue"] for o in outputs}
    return ConsoleSource(
        client=session.client,
        state_machines=machines,
        bucket=buckets[0] if len(buckets) == 1 else None,
        queue_url=values.get("ResultsQueueUrl"),
        admission_url=values.get("AdmissionQueueUrl"),
    )
