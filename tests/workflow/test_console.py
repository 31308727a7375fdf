"""The operator console in a real headless browser (Debian's chromium via its chromedriver).

A small local stack gets a succeeded, a failed and a running execution, a training job that
prints metric lines, and a video processed by the real `process` entry point; the page must show
each of them, and the test saves a screenshot (FAIRMOT_CONSOLE_SCREENSHOT names where; README's
docs/console.png is one).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fairmot.console.server import ConsoleServer
from fairmot.console.source import ConsoleSource
from fairmot.local.stack import LocalAws
from fairmot.operator import wait_for_workflow

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ROLE = "arn:aws:iam::123456789012:role/local"
# One line: SageMaker's ContainerEntrypoint pattern does not match a newline.
METRIC_LINES = (
    "import os; [print(f'epoch={e} loss={2 / e:.3f} val_idf1={0.15 * e:.2f}', flush=True)"
    " for e in range(1, 6)]; open(os.environ['SM_MODEL_DIR'] + '/model.json', 'w').write('{}')"
)


def _browser() -> Any:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (the dev extra has it)")
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "no chromium/chromedriver on PATH: `apt-get install chromium chromium-driver` "
            "(make test tries to)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1500,1400",
        "--autoplay-policy=no-user-gesture-required",
    ):
        options.add_argument(argument)  # fmt: skip
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def _wait_job(aws: LocalAws, describe: str, field: str, name: str, status: str) -> None:
    sagemaker = aws.client("sagemaker")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        found = getattr(sagemaker, describe)(**{field: name})
        if found[field.replace("Name", "Status")] not in ("InProgress", "Stopping"):
            assert found[field.replace("Name", "Status")] == status, found.get("FailureReason")
            return
        time.sleep(0.5)
    raise AssertionError(f"{name} still running")


@pytest.fixture
def busy_stack(mini: LocalAws, tiny_model: Path, tiny_video: Path) -> Iterator[ConsoleSource]:
    assert mini.stack is not None
    bucket, jobs = mini.stack.bucket, mini.stack.state_machine("Jobs")
    s3, sfn, sagemaker = mini.client("s3"), mini.client("stepfunctions"), mini.client("sagemaker")
    s3.put_object(Bucket=bucket, Key="in/a.txt", Body=b"hello")
    assert wait_for_workflow(mini, jobs, known=0, timeout_s=120).status == "SUCCEEDED"
    s3.put_object(Bucket=bucket, Key="in/bad.txt", Body=b"x")
    assert wait_for_workflow(mini, jobs, known=1, timeout_s=120).status == "FAILED"
    waiter = sfn.create_state_machine(
        name="waiter",
        roleArn=ROLE,
        definition=json.dumps(
            {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 10**6, "End": True}}}
        ),
    )["stateMachineArn"]
    sfn.start_execution(stateMachineArn=waiter, name="still-going")
    sagemaker.create_training_job(
        TrainingJobName="metrics-demo",
        AlgorithmSpecification={
            "TrainingImage": "local",
            "TrainingInputMode": "File",
            "ContainerEntrypoint": [sys.executable, "-c", METRIC_LINES],
        },
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/training-output"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )
    s3.upload_file(str(tiny_model), bucket, "models/tiny/model.tar.gz")
    s3.upload_file(str(tiny_video), bucket, "videos/cam1/clip.mp4")
    sagemaker.create_processing_job(
        ProcessingJobName="process-clip",
        RoleArn=ROLE,
        AppSpecification={"ImageUri": "local"},
        ProcessingResources={
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}
        },
        ProcessingInputs=[
            {"InputName": name, "S3Input": {"S3Uri": f"s3://{bucket}/{key}",
             "LocalPath": f"/opt/ml/processing/input/{name}", "S3DataType": "S3Prefix",
             "S3InputMode": "File"}}
            for name, key in (("video", "videos/cam1/clip.mp4"), ("model", "models/tiny/"))
        ],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "results", "S3Output": {
            "S3Uri": f"s3://{bucket}/results/videos/cam1/clip.mp4",
            "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"}}]},
    )  # fmt: skip
    _wait_job(mini, "describe_training_job", "TrainingJobName", "metrics-demo", "Completed")
    _wait_job(mini, "describe_processing_job", "ProcessingJobName", "process-clip", "Completed")
    yield ConsoleSource(
        client=mini.client,
        state_machines={**mini.stack.state_machines, "Waiter": waiter},
        bucket=bucket,
        work_dir=mini.settings.work_dir,
        events_log=mini.settings.events_log,
    )


def _until(browser: Any, script: str, timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = browser.execute_script(script)
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"the page never satisfied: {script}")


def test_console_shows_executions_graph_events_metrics_and_a_playable_video(
    busy_stack: ConsoleSource, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    server = ConsoleServer(busy_stack).start()
    assert server.url.startswith("http://127.0.0.1:")
    browser = _browser()
    try:
        browser.get(server.url)
        statuses = _until(
            browser,
            "const s = [...document.querySelectorAll('#executions tbody tr')]"
            ".map(r => r.dataset.status); return s.length >= 3 && s;",
        )
        assert sorted(statuses) == ["FAILED", "RUNNING", "SUCCEEDED"]

        browser.find_element(By.CSS_SELECTOR, "#executions tr[data-status=FAILED]").click()
        failed = _until(
            browser,
            "const g = document.querySelector('g.state.failed'); return g && g.dataset.state;",
        )
        assert (
            failed == "Plan"
        )  # the Lambda task that raised, as the Step Functions console marks it
        visited = browser.execute_script(
            "return [...document.querySelectorAll('g.state.visited')].map(g => g.dataset.state);"
        )
        assert set(visited) >= {"Rejected", "Fail"}
        assert "InvalidInput" in browser.find_element(By.ID, "error").text

        events = browser.execute_script(
            "return [...document.querySelectorAll('#events .event')].map(e => e.dataset.type);"
        )
        assert sorted(events) == ["Done", "Rejected"]

        browser.find_element(By.CSS_SELECTOR, "#jobs tr[data-name=metrics-demo]").click()
        points = _until(
            browser,
            "const l = document.querySelector('#metrics-plot polyline[data-metric=loss]');"
            "return l && l.dataset.points;",
        )
        assert points == "5"
        assert "epoch=5" in browser.find_element(By.ID, "job-log").text

        video = _until(
            browser,
            "const v = document.querySelector('#videos video'); if (!v) return null;"
            "v.play().catch(() => {});"
            "return v.readyState >= 2 && v.duration > 0 && "
            "{width: v.videoWidth, duration: v.duration, key: v.dataset.key};",
        )
        assert video["width"] == 160 and video["duration"] > 0
        assert video["key"] == "results/videos/cam1/clip.mp4/clip/annotated.mp4"
        summary = json.loads(browser.find_element(By.CSS_SELECTOR, "#videos .summary").text)
        assert summary["frames"] == 12

        browser.find_element(By.CSS_SELECTOR, "#executions tr[data-status=FAILED]").click()
        _until(browser, "return document.querySelector('g.state.failed')")
        target = Path(os.environ.get("FAIRMOT_CONSOLE_SCREENSHOT") or tmp_path / "console.png")
        target.parent.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(target))
        assert target.stat().st_size > 10_000
    finally:
        browser.quit()
        server.shutdown()
        server.server_close()


def test_console_refuses_what_the_stack_does_not_have(mini: LocalAws) -> None:
    import urllib.error
    import urllib.request

    assert mini.stack is not None
    source = ConsoleSource(mini.client, mini.stack.state_machines, bucket=mini.stack.bucket)
    server = ConsoleServer(source).start()
    try:
        for path in ("/api/video?key=datasets/x/manifest.json", "/api/job?kind=tuning&name=x",
                     "/api/execution?arn=arn:aws:states:us-east-1:1:execution:other:x", "/nope"):  # fmt: skip
            with pytest.raises(urllib.error.HTTPError) as error:
                urllib.request.urlopen(server.url + path)
            assert error.value.code == 404
            assert "error" in json.loads(error.value.read())
    finally:
        server.shutdown()
        server.server_close()
