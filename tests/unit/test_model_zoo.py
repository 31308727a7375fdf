"""`fairmot weights download`: sha256-verified downloads from a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import ClassVar

import pytest

from fairmot.cli import main
from fairmot.model.zoo import ZOO, Weights, WeightsError, download

PAYLOAD = b"tiny checkpoint bytes " * 100
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        CountingHandler.requests.append(self.path)
        super().do_GET()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "served"
    root.mkdir()
    (root / f"tiny-{DIGEST[:8]}.pth").write_bytes(PAYLOAD)
    (root / "tiny-00000000.pth").write_bytes(PAYLOAD)  # a name whose hash prefix is wrong
    (root / "plain.pth").write_bytes(PAYLOAD)
    CountingHandler.requests = []
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(CountingHandler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_hub_named_url_is_verified_by_its_prefix(server: str, tmp_path: Path) -> None:
    path = download(f"{server}/tiny-{DIGEST[:8]}.pth", tmp_path / "w")
    assert path == tmp_path / "w" / f"tiny-{DIGEST[:8]}.pth"
    assert path.read_bytes() == PAYLOAD


def test_a_mismatching_download_is_not_kept(server: str, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=f"sha256 {DIGEST} does not match the expected 00000000"):
        download(f"{server}/tiny-00000000.pth", tmp_path / "w")
    assert list((tmp_path / "w").iterdir()) == []


def test_a_plain_url_needs_a_digest(server: str, tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="pass --sha256 HEX"):
        download(f"{server}/plain.pth", tmp_path / "w")
    assert download(f"{server}/plain.pth", tmp_path / "w", sha256=DIGEST).read_bytes() == PAYLOAD
    with pytest.raises(WeightsError, match="does not match"):
        download(f"{server}/plain.pth", tmp_path / "other", sha256="ab" * 32)


def test_a_registry_name_downloads_once(server: str, tmp_path: Path) -> None:
    zoo = {"tiny": Weights("tiny.pth", "test", url=f"{server}/plain.pth", sha256=DIGEST)}
    first = download("tiny", tmp_path, zoo=zoo)
    again = download("tiny", tmp_path, zoo=zoo)
    assert first == again == tmp_path / "tiny.pth" and first.read_bytes() == PAYLOAD
    assert CountingHandler.requests == ["/plain.pth"]  # the verified file is kept


def test_names_without_a_direct_link_say_where_to_get_them(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=r"get fairmot_dla34\.pth from https://drive\.google"):
        download("fairmot_dla34", tmp_path)
    with pytest.raises(WeightsError, match="neither a known name"):
        download("dla35", tmp_path)
    assert ZOO["dla34-imagenet"].url.endswith("/dla34-ba72cf86.pth")


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(WeightsError, match=r"download of .* failed"):
        download(f"http://127.0.0.1:{port}/x-{DIGEST[:8]}.pth", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_command(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"{server}/plain.pth"
    assert main(["weights", "download", url, "--out", str(tmp_path), "--sha256", DIGEST]) == 0
    assert f"wrote {tmp_path / 'plain.pth'} (sha256 verified)" in capsys.readouterr().out
    assert main(["weights", "download", url, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fairmot weights: no sha256 known") and "\n" not in err
