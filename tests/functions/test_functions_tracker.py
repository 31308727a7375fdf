"""The tracker named in a `Video Processing Requested` event reaches the processing job."""

from __future__ import annotations

import pytest
from functions_support import Aws
from test_functions_scene import planned

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")


def test_the_events_tracker_is_the_jobs_fairmot_tracker(aws: Aws, meta: dict[str, str]) -> None:
    plain = planned(aws, meta)
    assert "FAIRMOT_TRACKER" not in plain["request"]["Environment"]
    chosen = planned(aws, meta, tracker="fairbyte")
    assert chosen["request"]["Environment"]["FAIRMOT_TRACKER"] == "fairbyte"
    # Another tracker is another job, not a duplicate of the first.
    assert chosen["request"]["ProcessingJobName"] != plain["request"]["ProcessingJobName"]
    aws.sagemaker.create_processing_job(**chosen["request"])  # a request SageMaker accepts


def test_a_tracker_that_is_not_a_name_is_rejected(aws: Aws, meta: dict[str, str]) -> None:
    with pytest.raises(Exception, match="tracker"):
        planned(aws, meta, tracker="../../etc/x.yaml")
