"""README's local-mode commands, exactly as written, in a fresh checkout: a newcomer's first run.

The block runs in one `bash -e` (its `eval` sets the shell's environment, as it would for a
reader) with the checkout as working directory and nothing passed but PATH and PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 2400


def readme_block(section: str) -> str:
    """The first ```bash block under README's `## <section>` heading."""
    text = (REPO / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```bash\n(.*?)```", body, flags=re.DOTALL)
    assert match, f"README's {section} section has no bash block"
    return match.group(1)


def fresh_checkout(destination: Path) -> Path:
    """The repository's files as a clone would have them (tracked and new, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, check=True, capture_output=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def test_readme_local_mode_trains_deploys_and_processes_in_a_fresh_checkout(
    tmp_path: Path,
) -> None:
    checkout = fresh_checkout(tmp_path / "clone")
    script = readme_block("Local mode")
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(checkout),  # the checkout's package, not an installed one
        "HOME": str(tmp_path),  # no ~/.aws of the machine's user
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
    }
    try:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=checkout, env=environment, capture_output=True, text=True, timeout=TIMEOUT_S,
        )  # fmt: skip
    finally:
        subprocess.run(
            [sys.executable, "-m", "fairmot", "local", "down"], cwd=checkout, env=environment,
            capture_output=True, timeout=60,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "results queue:" in done.stdout and "fairmot-databucket" in done.stdout
    state = checkout / ".fairmot-local"
    published = [
        json.loads(line)["detail-type"]
        for line in (state / "events.jsonl").read_text().split("\n")
        if line
    ]
    assert published == ["Training Succeeded", "Model Deployed", "Video Processed"], published
    # A batch job writes each video's results under its path below videos/ (results/try/clip/).
    (annotated,) = (state / "work" / "processing").glob(
        "*/opt_ml/processing/output/try/clip/annotated.mp4"
    )
    assert annotated.stat().st_size > 1000
