"""SEAM: scale Step Functions Wait states and Retry intervals (local runs need not wait minutes).

moto's interpreter really sleeps: `WaitFunction._wait_interval` for Wait states and
`time.sleep` in `retrier_decl` for Retry intervals. With a scale s (FAIRMOT_LOCAL_WAIT_SCALE,
default 1: real time), a wait of n seconds lasts n*s seconds.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from fairmot.local.seam import Patches

WAIT_SCALE_VARIABLE = "FAIRMOT_LOCAL_WAIT_SCALE"


def install(patches: Patches, scale: float) -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        if wait_seconds > 0:
            # Returns early when the execution stops (the event is set), as moto's does.
            env.program_state_event.wait(wait_seconds * scale)

    patches.patch_attribute(WaitFunction, "_wait_interval", _wait_interval)
    scaled_time = SimpleNamespace(sleep=lambda seconds: time.sleep(seconds * scale))
    patches.patch_attribute(retrier_decl, "time", scaled_time)
