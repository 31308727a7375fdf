"""Pretrained weights the paper starts from, and a verified download of them.

`download(NAME|URL, out_dir)` streams the file to `out_dir`, checks its sha256 (the registry's
full digest, `--sha256`, or the torch-hub prefix a name like `dla34-ba72cf86.pth` carries) and
only then gives it its final name, so a cut or altered download never looks like a checkpoint.
Google Drive serves large files through a confirmation page, not a link a client can fetch: the
entries hosted there name the page to download from by hand.
"""

from __future__ import annotations

import hashlib
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
TIMEOUT_S = 60
# torch.hub's convention: `name-<first 8+ hex digits of the sha256>.ext`.
HUB_HASH = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")


class WeightsError(ValueError):
    """A download that failed or did not verify; one line saying what to do."""


@dataclass(frozen=True)
class Weights:
    """One known checkpoint: where it comes from and what it is for."""

    filename: str
    description: str
    url: str = ""  # a direct link, or empty where only a download page exists
    page: str = ""  # where to download it by hand
    sha256: str = ""  # full digest when known (else the filename's hub prefix is checked)


ZOO: dict[str, Weights] = {
    "dla34-imagenet": Weights(
        filename="dla34-ba72cf86.pth",
        description="ImageNet DLA-34 classifier (the reference's backbone start)",
        url="http://dl.yf.io/dla/models/imagenet/dla34-ba72cf86.pth",
    ),
    "ctdet_coco_dla_2x": Weights(
        filename="ctdet_coco_dla_2x.pth",
        description="CenterNet COCO detector, DLA-34 (the reference's MOT17 start)",
        page="https://drive.google.com/open?id=1pl_-ael8wERdUREEnaIfqOV_VF2bEVRT",
    ),
    "fairmot_dla34": Weights(
        filename="fairmot_dla34.pth",
        description="FairMOT model zoo, DLA-34 trained on CrowdHuman + MIX",
        page="https://drive.google.com/file/d/1iqRQjsG9BawIl8SlFomMg5iwkb6nqSpi/view",
    ),
}


def resolve(name_or_url: str, sha256: str = "", zoo: Mapping[str, Weights] = ZOO) -> Weights:
    """The Weights of a registry name or of a URL (its filename from the URL's path)."""
    if name_or_url in zoo:
        entry = zoo[name_or_url]
        if not entry.url:
            raise WeightsError(
                f"{name_or_url} has no direct download: get {entry.filename} from {entry.page} "
                "and pass the file as load_model"
            )
        return Weights(**{**entry.__dict__, "sha256": sha256 or entry.sha256})
    parsed = urllib.parse.urlparse(name_or_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise WeightsError(
            f"{name_or_url!r} is neither a known name ({', '.join(sorted(zoo))}) nor an http(s) URL"
        )
    filename = Path(urllib.parse.unquote(parsed.path)).name
    if not filename:
        raise WeightsError(f"{name_or_url}: the URL names no file")
    return Weights(filename=filename, description="", url=name_or_url, sha256=sha256)


def expected_digest(weights: Weights) -> str:
    """The full sha256 or the hub prefix to check; an unverifiable file is refused."""
    if weights.sha256:
        digest = weights.sha256.lower()
        if not re.fullmatch(r"[0-9a-f]{8,64}", digest):
            raise WeightsError(f"--sha256 {weights.sha256!r} is not a hex digest")
        return digest
    match = HUB_HASH.search(weights.filename)
    if match:
        return match[1]
    raise WeightsError(
        f"no sha256 known for {weights.filename}: pass --sha256 HEX to verify the download"
    )


def download(
    name_or_url: str, out_dir: str | Path, *, sha256: str = "", zoo: Mapping[str, Weights] = ZOO
) -> Path:
    """Fetch weights into out_dir after verifying them; returns the file's path. A file already
    there with the right digest is kept without downloading."""
    from tqdm import tqdm

    weights = resolve(name_or_url, sha256, zoo)
    expected = expected_digest(weights)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / weights.filename
    if target.is_file() and file_sha256(target).startswith(expected):
        return target
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(weights.url, timeout=TIMEOUT_S) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with (
                partial.open("wb") as sink,
                tqdm(total=total, unit="B", unit_scale=True, desc=weights.filename) as bar,
            ):
                while chunk := response.read(CHUNK):
                    sink.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError) as error:
        partial.unlink(missing_ok=True)
        reason = getattr(error, "reason", error)
        raise WeightsError(f"download of {weights.url} failed: {reason}") from None
    got = digest.hexdigest()
    if not got.startswith(expected):
        partial.unlink(missing_ok=True)
        raise WeightsError(
            f"{weights.url}: sha256 {got} does not match the expected {expected}; "
            "the file was not kept"
        )
    partial.replace(target)
    return target


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
