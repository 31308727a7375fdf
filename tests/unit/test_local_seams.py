"""The moto seams of local mode: each patch applies to the pinned moto and undoes cleanly.

A moto upgrade that renames a patched internal, or that implements an API local mode adds, must
fail here loudly rather than silently change local mode's behaviour.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from fairmot.local import asl_seam, deployer, eventbridge_seam, lambda_seam, timing_seam
from fairmot.local.endpoint_seam import LocalEndpoints
from fairmot.local.sagemaker_seam import JobSettings, LocalSageMaker
from fairmot.local.seam import PINNED_MOTO_VERSION, Patches, SeamError, check_moto_version
from fairmot.local.sync_seam import json_safe


def test_moto_is_the_pinned_version() -> None:
    import moto

    assert moto.__version__ == PINNED_MOTO_VERSION
    check_moto_version()


def _patched_targets() -> list[tuple[Any, str]]:
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.events.models import EventsBackend, Rule
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse
    from moto.stepfunctions import models as stepfunctions
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    return [
        (LambdaSimpleBackend, "invoke"),
        (Rule, "send_to_targets"),
        (EventsBackend, "put_events"),
        (SageMakerModelBackend, "create_training_job"),
        (SageMakerModelBackend, "create_processing_job"),
        (SageMakerModelBackend, "create_hyper_parameter_tuning_job"),
        (SageMakerModelBackend, "create_endpoint"),
        (SageMakerRuntimeResponse, "invoke_endpoint"),
        (SageMakerRuntimeResponse, "use_raw_body"),
        (stepfunctions, "stepfunctions_backends"),
        (state_task_factory, "state_task_service_for"),
        (Preprocessor, "visitPayload_binding_value"),
    ]


def test_every_seam_installs_and_undoes(tmp_path: Path) -> None:
    before = {(id(owner), name): getattr(owner, name) for owner, name in _patched_targets()}
    patches = Patches()
    lambda_seam.install(patches)
    deployer.install(patches)
    asl_seam.install(patches)
    eventbridge_seam.install(patches, eventbridge_seam.PublishedEvents(echo=False))
    timing_seam.install(patches, 0.5)
    LocalSageMaker(JobSettings(tmp_path, lambda: None)).install(patches)
    LocalEndpoints(tmp_path, lambda: None).install(patches)
    try:
        for owner, name in _patched_targets():
            assert getattr(owner, name) is not before[(id(owner), name)], f"{name} not patched"
        from moto.awslambda.models import LayerVersion
        from moto.events.models import EventBus
        from moto.sagemaker.models import SageMakerModelBackend

        assert hasattr(SageMakerModelBackend, "update_endpoint")
        assert hasattr(LayerVersion, "physical_resource_id")
        assert hasattr(EventBus, "physical_resource_id")
        assert hasattr(SageMakerModelBackend, "list_training_jobs_for_hyper_parameter_tuning_job")
    finally:
        patches.undo()
    for owner, name in _patched_targets():
        assert getattr(owner, name) is before[(id(owner), name)], f"{name} not restored"
    from moto.sagemaker.models import SageMakerModelBackend

    assert not hasattr(SageMakerModelBackend, "update_endpoint")
    from moto.awslambda.models import LayerVersion

    assert not hasattr(LayerVersion, "physical_resource_id")


# A fresh interpreter: moto.stepfunctions.responses must not be imported yet when the seam is.
_RESPONSES_FIRST_IMPORTED_UNDER_THE_SEAM = """
from fairmot.local import deployer
from fairmot.local.seam import Patches
patches = Patches()
deployer.install(patches)
from moto.stepfunctions import models, responses  # a request served while the stack runs
patches.undo()
assert responses.stepfunctions_backends is models.stepfunctions_backends, "parser backends kept"
"""


def test_the_state_machine_seam_leaves_no_copy_behind_after_undo() -> None:
    # Else a plain mock_aws after LocalAws (test_console_deployed after test_console) finds none
    # of its CloudFormation state machines.
    done = subprocess.run(
        [sys.executable, "-c", _RESPONSES_FIRST_IMPORTED_UNDER_THE_SEAM],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_missing_internal_fails_loudly() -> None:
    class Holder:
        pass

    with pytest.raises(SeamError, match="gone"):
        Patches().patch_attribute(Holder, "vanished", None)


def test_an_api_moto_gained_fails_loudly() -> None:
    class Holder:
        def update_endpoint(self) -> None: ...

    with pytest.raises(SeamError, match="review"):
        Patches().add_attribute(Holder, "update_endpoint", None)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.py", "")
    return buffer.getvalue()


@pytest.fixture
def mocked_lambda(tmp_path: Path) -> Any:
    import boto3
    from moto import mock_aws

    (tmp_path / "handlers.py").write_text(
        "import os\n"
        "class BadInput(Exception):\n    pass\n"
        "def ok(event, context):\n"
        "    return {'got': event, 'stage': os.environ['STAGE'],\n"
        "            'name': context.function_name,\n"
        "            'left': context.get_remaining_time_in_millis() > 0}\n"
        "def bad(event, context):\n    raise BadInput('no ' + event['what'])\n"
        "def slow(event, context):\n    import time\n    time.sleep(event['sleep'])\n"
        "    return 'in time'\n"
    )
    with mock_aws(config={"lambda": {"use_docker": False}}):
        patches = Patches()
        lambda_seam.install(patches)
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        client = boto3.client("lambda", region_name="us-east-1")
        for name in ("ok", "bad", "slow"):
            client.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler=f"handlers.{name}",
                Code={"ZipFile": _zip()},
            )
            lambda_seam.register_function(
                lambda_seam.LocalFunction(
                    name=name,
                    code_dir=tmp_path,
                    handler=f"handlers.{name}",
                    environment={"STAGE": "test"},
                    timeout_s=1,
                )
            )
        try:
            yield client
        finally:
            patches.undo()
            lambda_seam.clear_functions()


def test_lambda_invoke_runs_the_handler_with_its_environment(mocked_lambda: Any) -> None:
    answer = mocked_lambda.invoke(FunctionName="ok", Payload=json.dumps({"a": 1}))
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {
        "got": {"a": 1}, "stage": "test", "name": "ok", "left": True,
    }  # fmt: skip


def test_lambda_exception_is_an_unhandled_function_error_named_by_class(
    mocked_lambda: Any,
) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:bad"
    answer = mocked_lambda.invoke(FunctionName=arn, Payload=json.dumps({"what": "video"}))
    assert answer["FunctionError"] == "Unhandled"
    payload = json.loads(answer["Payload"].read())
    assert payload["errorType"] == "BadInput"
    assert payload["errorMessage"] == "no video"


def test_a_handler_past_its_timeout_fails_as_lambda_does(mocked_lambda: Any) -> None:
    answer = mocked_lambda.invoke(FunctionName="slow", Payload=json.dumps({"sleep": 0}))
    assert json.loads(answer["Payload"].read()) == "in time"
    answer = mocked_lambda.invoke(FunctionName="slow", Payload=json.dumps({"sleep": 5}))
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read()) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 1.00 seconds",
    }


def test_target_input_honours_input_inputpath_and_the_whole_event() -> None:
    event = {"source": "s", "detail": {"object": {"key": "k"}}}
    assert eventbridge_seam.target_input({"Input": '{"x": 1}'}, event) == {"x": 1}
    assert eventbridge_seam.target_input({"InputPath": "$.detail.object"}, event) == {"key": "k"}
    assert eventbridge_seam.target_input({}, event) == event


def test_sync_results_carry_epoch_milliseconds() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 1, 2, tzinfo=UTC)
    assert json_safe({"a": [moment]}) == {"a": [int(moment.timestamp() * 1000)]}


def test_a_failed_local_delivery_is_reported_not_lost(capsys: pytest.CaptureFixture[str]) -> None:
    # moto swallows what a rule raises on the S3 path: the seam must say what went wrong.
    from moto import mock_aws

    missing = "arn:aws:states:us-east-1:123456789012:stateMachine:nowhere"
    with mock_aws(), pytest.raises(Exception, match="nowhere"):
        eventbridge_seam.deliver("DatasetUploadedRule", {"Arn": missing}, {"detail": {}})
    assert "rule DatasetUploadedRule could not deliver to" in capsys.readouterr().err


def test_a_schedule_rule_fires_on_its_schedule_only_not_on_every_event() -> None:
    # moto matches a rule without a pattern to every event; a schedule rule's target then ran
    # once per event on the bus. The seam keeps it for the ticker; pattern rules still match.
    import boto3
    from moto import mock_aws

    with mock_aws():
        patches = Patches()
        eventbridge_seam.install(patches, eventbridge_seam.PublishedEvents(echo=False))
        try:
            sqs, events = (boto3.client(s, region_name="us-east-1") for s in ("sqs", "events"))
            queues = {n: sqs.create_queue(QueueName=n)["QueueUrl"] for n in ("tick", "match")}
            rules = {
                "tick": {"ScheduleExpression": "rate(1 minute)"},
                "match": {"EventPattern": json.dumps({"source": ["upstream"]})},
            }
            for name, spec in rules.items():
                events.put_rule(Name=name, **spec)
                arn = sqs.get_queue_attributes(QueueUrl=queues[name], AttributeNames=["QueueArn"])
                events.put_targets(
                    Rule=name, Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}]
                )
            events.put_events(
                Entries=[{"Source": "upstream", "DetailType": "Thing", "Detail": "{}"}]
            )
            got = {
                n: sqs.receive_message(QueueUrl=u).get("Messages", []) for n, u in queues.items()
            }
        finally:
            patches.undo()
    assert len(got["match"]) == 1
    assert got["tick"] == []


def _copies_fail_while_a_key_comes_and_goes(seconds: float) -> int:
    """KeyErrors from os.environ.copy()/.items() while another thread sets and removes a key."""
    import os
    import threading
    import time

    stop, failures = threading.Event(), [0]

    def churn() -> None:
        while not stop.is_set():
            os.environ["FAIRMOT_TEST_CHURN"] = "1"
            os.environ.pop("FAIRMOT_TEST_CHURN", None)

    worker = threading.Thread(target=churn)
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows at once
    worker.start()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for take in (lambda: os.environ.copy(), lambda: dict(os.environ.items())):
                try:
                    take()
                except KeyError:
                    failures[0] += 1
    finally:
        stop.set()
        worker.join()
        sys.setswitchinterval(old_interval)
    return failures[0]


def test_environ_copies_survive_a_lambda_variable_removed_meanwhile() -> None:
    # botocore copies os.environ while it makes a client (moto's state-machine tasks make one
    # per task); a Lambda's variables removed meanwhile failed a batch with KeyError.
    from fairmot.local.seam import guard_environ_copies

    patches = Patches()
    guard_environ_copies(patches)
    try:
        assert _copies_fail_while_a_key_comes_and_goes(1.0) == 0
    finally:
        patches.undo()
