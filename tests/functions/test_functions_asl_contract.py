"""The state machines and the handlers agree: each workflow walked state by state over the real
ASL files, the real handlers and moto's SageMaker, and every published event validates against
its schema in events/.

The walker below does only what these definitions use (JSONPath Parameters, ResultSelector,
ResultPath, Choice on booleans and strings, Catch); it runs no retries and skips Wait. moto's own
Step Functions interpreter runs the same files in local mode (tests/workflow).
"""

from __future__ import annotations

import copy
import importlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from cfnlint.decode import decode
from functions_support import BUCKET, CONTEXT, REPO, Aws, put_dataset, s3_created, video_bytes
from jsonschema import Draft202012Validator

from fairmot.aws import request_check

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")
EXECUTION_ARN = "arn:aws:states:us-east-1:123456789012:execution:fairmot-test-{}:exec-1"


def schema_for(detail_type: str) -> dict[str, Any]:
    name = detail_type.lower().replace(" ", "-")
    return json.loads((REPO / "events" / "schemas" / f"{name}.schema.json").read_text())


def handlers() -> dict[str, str]:
    """Placeholder name (e.g. ValidateVideoFunctionArn) -> handler (module.function)."""
    template, _ = decode(str(REPO / "template.yaml"))
    return {
        f"${{{name}Arn}}": r["Properties"]["Handler"]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }


def read(path: str, data: Any, context: dict[str, Any]) -> Any:
    root, rest = (context, path[2:]) if path.startswith("$$") else (data, path[1:])
    value = root
    for part in filter(None, rest.split(".")):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"States.Runtime: {path} not found")
        value = value[part]
    return copy.deepcopy(value)


def fill(template: Any, data: Any, context: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        return {
            (k[:-2] if k.endswith(".$") else k): (
                read(v, data, context) if k.endswith(".$") else fill(v, data, context)
            )
            for k, v in template.items()
        }
    if isinstance(template, list):
        return [fill(v, data, context) for v in template]
    return template


def put(data: Any, path: str, value: Any) -> Any:
    if path == "$":
        return value
    data = copy.deepcopy(data)
    node = data
    parts = path[2:].split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return data


def caught(error: Exception) -> dict[str, str]:
    """What a Catch receives, as Step Functions words it for a SageMaker call or a Lambda."""
    if isinstance(error, ClientError):
        info = error.response["Error"]
        return {
            "Error": "SageMaker.AmazonSageMakerException",
            "Cause": f"{info.get('Message')} (Service: AmazonSageMaker; Status Code: 400; "
            f"Error Code: {info.get('Code')}; Request ID: walker)",
        }
    name = type(error).__name__
    body = {"errorType": name, "errorMessage": str(error), "stackTrace": ["..."]}
    return {"Error": name, "Cause": json.dumps(body)}


class Missing:
    """A Choice's Variable that the state does not have (IsPresent false)."""


class Walker:
    """Runs one definition over real handlers, moto SageMaker and a recorded event bus."""

    def __init__(self, aws: Aws, results_writer: Any = None) -> None:
        self.aws = aws
        self.handlers = handlers()
        self.published: list[dict[str, Any]] = []
        self.visited: list[str] = []
        self.sent: list[dict[str, Any]] = []  # SQS messages (the batch dead-letter queue)
        self.results_writer = results_writer

    def lambda_invoke(self, params: dict[str, Any]) -> dict[str, Any]:
        module, attr = self.handlers[params["FunctionName"]].split(".")
        payload = json.loads(json.dumps(params["Payload"]))  # what Lambda would deliver
        result = getattr(importlib.import_module(module), attr)(payload, CONTEXT)
        return {"Payload": json.loads(json.dumps(result)), "StatusCode": 200}

    def task(self, resource: str, params: dict[str, Any]) -> dict[str, Any]:
        sm = self.aws.sagemaker
        action = resource.rsplit(":", 1)[-1]
        if action == "invoke":
            return self.lambda_invoke(params)
        if action == "putEvents":
            # Step Functions sends Detail as a JSON string; the bus name is substituted.
            request_check.check("events", "PutEvents", {"Entries": [
                {**e, "EventBusName": "fairmot-test-bus", "Detail": json.dumps(e["Detail"])}
                for e in params["Entries"]
            ]})  # fmt: skip
            for entry in params["Entries"]:
                assert entry["EventBusName"] == "${EventBusName}"
                self.published.append(
                    {"source": entry["Source"], "detail-type": entry["DetailType"],
                     "detail": json.loads(json.dumps(entry["Detail"]))}
                )  # fmt: skip
            return {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]}
        if action == "createTrainingJob.sync":
            sm.create_training_job(**params)
            return sm.describe_training_job(TrainingJobName=params["TrainingJobName"])
        if action == "createHyperParameterTuningJob.sync":
            sm.create_hyper_parameter_tuning_job(**params)
            name = params["HyperParameterTuningJobName"]
            return sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        if action == "createProcessingJob.sync":
            sm.create_processing_job(**params)
            if self.results_writer:
                self.results_writer(params)
            return sm.describe_processing_job(ProcessingJobName=params["ProcessingJobName"])
        if action == "sendMessage":
            self.sent.append(params)
            return {"MessageId": f"m{len(self.sent)}"}
        if action == "createModel":
            return sm.create_model(**params)
        if action == "createEndpointConfig":
            return sm.create_endpoint_config(**params)
        raise AssertionError(f"unexpected resource {resource}")

    def run(self, workflow: str, execution_input: dict[str, Any]) -> tuple[str, Any]:
        definition = json.loads((REPO / "statemachines" / f"{workflow}.asl.json").read_text())
        arn = EXECUTION_ARN.format(workflow)
        context = {"Execution": {"Id": arn, "Name": "exec-1", "Input": execution_input}}
        return self.walk(definition, execution_input, context)

    def walk(
        self, definition: dict[str, Any], data: Any, context: dict[str, Any]
    ) -> tuple[str, Any]:
        """Run one state list (a definition or a Map's ItemProcessor) to its end."""
        states, name = definition["States"], definition["StartAt"]
        for _ in range(200):
            state = states[name]
            self.visited.append(name)
            kind = state["Type"]
            if kind in ("Succeed", "Fail"):
                return ("SUCCEEDED" if kind == "Succeed" else "FAILED"), data
            if kind == "Pass":
                result = fill(state["Parameters"], data, context) if "Parameters" in state else data
                data = put(data, state.get("ResultPath", "$"), result)
            elif kind == "Choice":
                name = self.choose(state, data, context)
                continue
            elif kind == "Map":  # inline, one item after another; failures stay in the item
                for index, item in enumerate(read(state["ItemsPath"], data, context)):
                    item_context = {**context, "Map": {"Item": {"Value": item, "Index": index}}}
                    selected = fill(state["ItemSelector"], data, item_context)
                    self.walk(state["ItemProcessor"], selected, item_context)
                assert state["ResultPath"] is None  # these Maps keep no results
            elif kind == "Task":
                try:
                    raw = self.task(state["Resource"], fill(state["Parameters"], data, context))
                    result = fill(state["ResultSelector"], raw, context)
                    data = put(data, state.get("ResultPath", "$"), result)
                except Exception as error:  # a Catch decides, as in Step Functions
                    failure = caught(error)
                    catch = next(
                        c for c in state["Catch"]
                        if "States.ALL" in c["ErrorEquals"] or failure["Error"] in c["ErrorEquals"]
                    )  # fmt: skip
                    data = put(data, catch["ResultPath"], failure)
                    name = catch["Next"]
                    continue
            if state.get("End"):
                return "SUCCEEDED", data
            name = state["Next"]  # Wait states pass at once
        raise AssertionError("no end state after 200 steps")

    @staticmethod
    def choose(state: dict[str, Any], data: Any, context: dict[str, Any]) -> str:
        for rule in state["Choices"]:
            try:
                value = read(rule["Variable"], data, context)
            except KeyError:
                value = Missing()
            if "BooleanEquals" in rule and value is rule["BooleanEquals"]:
                return str(rule["Next"])
            if "StringEquals" in rule and value == rule["StringEquals"]:
                return str(rule["Next"])
            if "IsPresent" in rule and rule["IsPresent"] is not isinstance(value, Missing):
                return str(rule["Next"])
        return str(state["Default"])

    def assert_events_valid(self) -> None:
        for event in self.published:
            Draft202012Validator(schema_for(event["detail-type"])).validate(event)


def only_event(walker: Walker, detail_type: str) -> dict[str, Any]:
    walker.assert_events_valid()
    assert [e["detail-type"] for e in walker.published] == [detail_type]
    return walker.published[0]["detail"]


def test_training_from_an_upload_publishes_training_succeeded(aws: Aws) -> None:
    walker = Walker(aws)
    event = s3_created(aws.s3, put_dataset(aws.s3), event_id="upload-1")
    status, _ = walker.run("training", event)
    assert status == "SUCCEEDED"
    detail = only_event(walker, "Training Succeeded")
    assert (detail["correlationId"], detail["deploy"], detail["tuning"]) == (
        "upload-1",
        False,
        None,
    )
    assert detail["model"]["uri"].startswith(f"s3://{BUCKET}/training-output/fairmot-test-train-")
    assert "Tune" not in walker.visited

    again = Walker(aws)
    assert again.run("training", event)[0] == "SUCCEEDED"
    assert again.visited[-1] == "DuplicateTraining" and again.published == []


def test_training_with_tuning_retrains_with_the_best(aws: Aws) -> None:
    tuning = {"ranges": {"lr": {"min": "1e-5", "max": "1e-3"}}, "max_jobs": 2}
    key = put_dataset(aws.s3, manifest_extra={"tuning": tuning, "deploy": True})
    walker = Walker(aws)
    status, _ = walker.run("training", s3_created(aws.s3, key))
    assert status == "SUCCEEDED"
    assert [s for s in walker.visited if s in ("Tune", "SelectBest", "PlanRetrain", "Train")] == [
        "Tune",
        "SelectBest",
        "PlanRetrain",
        "Train",
    ]
    detail = only_event(walker, "Training Succeeded")
    assert detail["deploy"] is True and detail["tuning"]["tuningJobName"].startswith(
        "fairmot-test-hpo-"
    )
    assert detail["trainingJobName"].startswith("fairmot-test-full-")


def test_incomplete_dataset_publishes_training_failed(aws: Aws) -> None:
    walker = Walker(aws)
    key = put_dataset(aws.s3, uploaded=("SYN-01",))
    status, _ = walker.run("training", s3_created(aws.s3, key, event_id="upload-2"))
    assert status == "FAILED"
    detail = only_event(walker, "Training Failed")
    assert (detail["error"], detail["correlationId"]) == ("DatasetInvalidError", "upload-2")
    assert "SYN-02" in detail["reason"] and "\n" not in detail["reason"]


def test_deploy_after_training_keeps_the_correlation_id(aws: Aws) -> None:
    trainer = Walker(aws)
    trainer.run("training", s3_created(aws.s3, put_dataset(aws.s3), event_id="upload-3"))
    succeeded = trainer.published[0]
    # SageMaker (not moto) writes the artifact; put one where the job said it would be.
    bucket, key = succeeded["detail"]["model"]["uri"][len("s3://") :].split("/", 1)
    aws.s3.put_object(Bucket=bucket, Key=key, Body=b"model")
    deployer = Walker(aws)
    status, _ = deployer.run("deploy", {**succeeded, "id": "bus-event-9"})
    assert status == "SUCCEEDED"
    detail = only_event(deployer, "Model Deployed")
    assert (detail["correlationId"], detail["action"]) == ("upload-3", "create")
    assert detail["endpointName"] == "fairmot-test-tracker"
    assert detail["model"] == succeeded["detail"]["model"]["uri"]


def container(params: dict[str, Any], skip: str = "\0") -> None:
    """What the processing entry point uploads: output/<relative path without suffix>/... under
    the output URI, for each video the job's input prefix holds (but those named `skip`)."""
    s3 = boto3.client("s3", region_name="us-east-1")
    inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in params["ProcessingInputs"]}
    staged = inputs["video"][len(f"s3://{BUCKET}/") :]
    out = params["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    for obj in s3.list_objects_v2(Bucket=BUCKET, Prefix=staged).get("Contents", []):
        relative = obj["Key"][len(staged) :].rsplit(".", 1)[0]
        if skip in relative:
            continue
        prefix = out[len(f"s3://{BUCKET}/") :] + relative + "/"
        summary = {"frames": 20, "fps": 10.0, "tracks": 3}
        s3.put_object(Bucket=BUCKET, Key=prefix + "summary.json", Body=json.dumps(summary).encode())
        s3.put_object(Bucket=BUCKET, Key=prefix + "annotated.mp4", Body=b"x")


def test_batch_processes_a_video_with_the_latest_model(aws: Aws) -> None:
    aws.s3.put_object(
        Bucket=BUCKET, Key="registry/latest.json",
        Body=json.dumps({"modelUri": f"s3://{BUCKET}/models/m/model.tar.gz"}).encode(),
    )  # fmt: skip
    key = "videos/street/cam1.mp4"
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=video_bytes(100))

    walker = Walker(aws, results_writer=container)
    status, _ = walker.run("batch", s3_created(aws.s3, key))
    assert status == "SUCCEEDED"
    detail = only_event(walker, "Video Processed")
    assert detail["summary"] == {"frames": 20, "fps": 10.0, "tracks": 3}
    assert detail["outputs"]["annotated"] == f"s3://{BUCKET}/results/street/cam1/annotated.mp4"


def test_non_video_publishes_video_processing_failed(aws: Aws) -> None:
    key = "videos/street/readme.txt"
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=b"hello")
    walker = Walker(aws)
    status, _ = walker.run("batch", s3_created(aws.s3, key))
    assert status == "FAILED"
    assert only_event(walker, "Video Processing Failed")["error"] == "VideoInvalidError"


def test_duplicate_video_event_is_a_no_op(aws: Aws) -> None:
    aws.s3.put_object(
        Bucket=BUCKET, Key="registry/latest.json", Body=b'{"modelUri": "s3://b/m.tar.gz"}'
    )
    key = "videos/a.mp4"
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=video_bytes(16))
    event = s3_created(aws.s3, key)
    first = Walker(aws, results_writer=lambda params: None)
    assert first.run("batch", event)[0] == "SUCCEEDED"  # the job ran; its one video failed
    assert only_event(first, "Video Processing Failed")["error"] == "ResultsMissingError"
    second = Walker(aws)
    assert second.run("batch", event)[0] == "SUCCEEDED"
    assert second.visited[-1] == "DuplicateProcessing" and second.published == []


def test_walker_sees_every_lambda_of_the_template() -> None:
    used = {
        p
        for path in Path(REPO / "statemachines").glob("*.asl.json")
        for p in set(__import__("re").findall(r"\$\{(\w+FunctionArn)\}", path.read_text()))
    }
    template, _ = decode(str(REPO / "template.yaml"))
    triggered = {  # functions with triggers of their own (the batch scheduler's schedule)
        f"${{{name}Arn}}"
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function" and r["Properties"].get("Events")
    }
    assert triggered == {"${ScheduleBatchesFunctionArn}"}
    assert {f"${{{p}}}" for p in used} == set(handlers()) - triggered


def test_a_stopped_job_counts_as_a_failure(aws: Aws) -> None:
    aws.s3.put_object(
        Bucket=BUCKET, Key="registry/latest.json", Body=b'{"modelUri": "s3://b/m.tar.gz"}'
    )
    key = "videos/b.mp4"
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=video_bytes(16))

    def stop(params: dict[str, Any]) -> None:
        aws.sagemaker.stop_processing_job(ProcessingJobName=params["ProcessingJobName"])

    walker = Walker(aws, results_writer=stop)
    assert walker.run("batch", s3_created(aws.s3, key))[0] == "FAILED"
    detail = only_event(walker, "Video Processing Failed")
    assert (detail["error"], detail["reason"]) == ("JobNotCompleted", "Stopped")
    assert "ReportVideos" not in walker.visited


class TwinWalker(Walker):
    """A second delivery of the event created the job between our check and our create.

    moto accepts duplicate names; SageMaker refuses them with ResourceInUse, as this does.
    """

    def task(self, resource: str, params: dict[str, Any]) -> dict[str, Any]:
        if resource.endswith("createTrainingJob.sync"):
            self.aws.sagemaker.create_training_job(**params)  # the twin's create
            message = (
                "Training job names must be unique within an AWS account and region, and a "
                f"training job with this name already exists ({params['TrainingJobName']})"
            )
            error = {"Error": {"Code": "ResourceInUse", "Message": message}}
            raise ClientError(error, "CreateTrainingJob")  # type: ignore[arg-type]
        return super().task(resource, params)


def test_a_delivery_that_loses_the_create_race_ends_quietly(aws: Aws) -> None:
    walker = TwinWalker(aws)
    status, _ = walker.run("training", s3_created(aws.s3, put_dataset(aws.s3)))
    assert status == "SUCCEEDED"
    assert walker.visited[-3:] == ["ExplainFailure", "LostCreateRace", "DuplicateDelivery"]
    assert walker.published == []


class RefusingWalker(Walker):
    """SageMaker refuses the request (ValidationException): no retry, a readable failure."""

    def task(self, resource: str, params: dict[str, Any]) -> dict[str, Any]:
        if resource.endswith("createTrainingJob.sync"):
            error = {"Error": {"Code": "ValidationException", "Message": "No S3 objects found"}}
            raise ClientError(error, "CreateTrainingJob")  # type: ignore[arg-type]
        return super().task(resource, params)


def test_a_refused_request_fails_at_once_with_its_name_and_reason(aws: Aws) -> None:
    walker = RefusingWalker(aws)
    status, _ = walker.run("training", s3_created(aws.s3, put_dataset(aws.s3)))
    assert status == "FAILED"
    detail = only_event(walker, "Training Failed")
    assert (detail["error"], detail["reason"]) == (
        "SageMaker.ValidationException",
        "No S3 objects found",
    )
    train = json.loads((REPO / "statemachines" / "training.asl.json").read_text())["States"][
        "Train"
    ]
    retried = {e for r in train["Retry"] for e in r["ErrorEquals"]}
    assert "SageMaker.AmazonSageMakerException" not in retried  # only throttling and capacity
    assert retried == {
        "SageMaker.ThrottlingException", "SageMaker.ResourceLimitExceededException",
        "ThrottlingException",
    }  # fmt: skip


def batch_of(aws: Aws, *keys: str) -> dict[str, Any]:
    """What the scheduler starts: {"events": [...]}, the latest model registered."""
    aws.s3.put_object(
        Bucket=BUCKET, Key="registry/latest.json",
        Body=json.dumps({"modelUri": f"s3://{BUCKET}/models/m/model.tar.gz"}).encode(),
    )  # fmt: skip
    for key in keys:
        aws.s3.put_object(Bucket=BUCKET, Key=key, Body=video_bytes(100))
    return {"events": [s3_created(aws.s3, key) for key in keys]}


def test_a_batch_runs_one_job_and_a_bad_video_fails_alone(aws: Aws) -> None:
    batch = batch_of(aws, "videos/a/one.mp4", "videos/a/bad.mp4", "videos/b/two.mkv")
    batch["events"].append(json.loads(json.dumps(batch["events"][0])))  # delivered twice
    aws.s3.put_object(Bucket=BUCKET, Key="videos/a/notes.txt", Body=b"hello")
    batch["events"].append(s3_created(aws.s3, "videos/a/notes.txt"))
    walker = Walker(aws, results_writer=lambda params: container(params, skip="bad"))
    assert walker.run("batch", batch)[0] == "SUCCEEDED"
    walker.assert_events_valid()
    outcome = {(e["detail-type"], e["detail"].get("video") or e["detail"]["input"].get("video")
                or e["detail"]["input"]["detail"]["object"]["key"]) for e in walker.published}  # fmt: skip
    assert outcome == {
        ("Video Processed", f"s3://{BUCKET}/videos/a/one.mp4"),
        ("Video Processed", f"s3://{BUCKET}/videos/b/two.mkv"),
        ("Video Processing Failed", f"s3://{BUCKET}/videos/a/bad.mp4"),
        ("Video Processing Failed", "videos/a/notes.txt"),
    }
    assert len(walker.published) == 4  # the duplicate delivery was processed once
    assert len(aws.sagemaker.list_processing_jobs()["ProcessingJobSummaries"]) == 1


class QuotaWalker(Walker):
    """SageMaker refuses the first `refusals` creates with ResourceLimitExceeded."""

    def __init__(self, aws: Aws, refusals: int, **kwargs: Any) -> None:
        super().__init__(aws, **kwargs)
        self.refusals = refusals

    def task(self, resource: str, params: dict[str, Any]) -> dict[str, Any]:
        if resource.endswith("createProcessingJob.sync") and self.refusals > 0:
            self.refusals -= 1
            message = "The account-level service limit 'ml.g4dn.xlarge for processing job usage' is 2 Instances"
            error = {"Error": {"Code": "ResourceLimitExceeded", "Message": message}}
            raise ClientError(error, "CreateProcessingJob")  # type: ignore[arg-type]
        return super().task(resource, params)


def test_a_quota_refusal_waits_for_a_slot_without_failing(aws: Aws) -> None:
    walker = QuotaWalker(aws, refusals=3, results_writer=container)
    assert walker.run("batch", batch_of(aws, "videos/q.mp4"))[0] == "SUCCEEDED"
    assert walker.visited.count("WaitForSlot") == 3
    assert only_event(walker, "Video Processed")["video"] == f"s3://{BUCKET}/videos/q.mp4"


def test_a_spent_quota_budget_sends_the_videos_to_the_dead_letter_queue(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUOTA_WAIT_SECONDS", "0")
    walker = QuotaWalker(aws, refusals=1)
    assert walker.run("batch", batch_of(aws, "videos/x.mp4", "videos/y.mp4"))[0] == "FAILED"
    walker.assert_events_valid()
    assert {e["detail"]["error"] for e in walker.published} == {"QuotaWaitExhausted"}
    assert len(walker.published) == 2
    requeued = sorted(m["MessageBody"]["detail"]["videoUri"] for m in walker.sent)
    assert requeued == [f"s3://{BUCKET}/videos/x.mp4", f"s3://{BUCKET}/videos/y.mp4"]
    for message in walker.sent:  # what replay sends back is an event the workflow accepts
        Draft202012Validator(schema_for("Video Processing Requested")).validate(
            message["MessageBody"]
        )


def test_a_batch_with_no_model_fails_once_with_its_input(aws: Aws) -> None:
    key = "videos/n.mp4"
    aws.s3.put_object(Bucket=BUCKET, Key=key, Body=video_bytes(100))
    batch = {"events": [s3_created(aws.s3, key)]}
    walker = Walker(aws)
    assert walker.run("batch", batch)[0] == "FAILED"
    detail = only_event(walker, "Video Processing Failed")
    assert (detail["error"], detail["input"]) == ("NoModelError", batch)
    assert walker.visited[-3:] == ["WhoFailed", "PublishFailure", "Failed"]
