"""FairMOT multi-object tracking.

    import fairmot
    model = fairmot.load("runs/lite")              # model dir, model.tar.gz, .pt/.pth or .onnx
    result = model.track("video.mp4", out="tracked/")
    for frame in model.track("video.mp4", stream=True):
        frame.frame_id, frame.tracks
    tracks = model.update(image)                   # one BGR frame, persistent tracker
    fairmot.run("synth", "data/synth", sequences=2) # any `fairmot` command, as a function

Importing the package sets the library's thread policy (below) before torch loads; the heavy
modules load on first use, so `fairmot --help` stays instant.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

# Spinning OpenMP workers steal the cores that decode/encode threads and other processes need:
# on a loaded 2-core machine forward passes ran ~4x slower with the default policy, and a Python
# API without this ran at 6.4 frames/s where the CLI ran 57. OpenMP reads it once, when torch
# loads, so it is set on import; a user's own setting wins.
# Whether torch loaded before this package with no policy set: too late (fairmot.load warns).
POLICY_TOO_LATE = "torch" in sys.modules and "OMP_WAIT_POLICY" not in os.environ
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

if TYPE_CHECKING:
    from fairmot.api import Model, load

__all__ = ["Model", "load", "run"]


def run(command: str, *args: object, **options: object) -> int:
    """Run a `fairmot` command as a function: positional arguments as given, `key=value` as
    `--key value` (True as a bare `--key`, False/None left out). Returns its exit status.

    `fairmot.run("track", "video.mp4", model="runs/lite", out="tracked", no_video=True)`
    """
    from fairmot.cli import main

    argv = [command, *map(str, args)]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value is not None and value is not False:
            argv.extend([flag, str(value)])
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse's usage errors and --help
        return exit_.code if isinstance(exit_.code, int) else 1


def __getattr__(name: str) -> Any:
    if name in ("Model", "load"):
        from fairmot import api

        return getattr(api, name)
    raise AttributeError(f"module 'fairmot' has no attribute {name!r}")
