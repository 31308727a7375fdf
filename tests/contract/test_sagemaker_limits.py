"""Fast checks of the endpoint's defences: image headers read without decoding, memory budgets,
and a bounded mutation fuzz of the request parser (every bad request is a 4xx, never a crash)."""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from typing import Any

import cv2
import numpy as np
import pytest
from sagemaker_support import jpeg_bomb

from fairmot.image_header import ImageHeaderError, image_size, is_complete
from fairmot.sagemaker.budget import BudgetExceededError, BudgetTimeoutError, ByteBudget
from fairmot.sagemaker.protocol import (
    MAX_FRAME_PIXELS,
    RequestError,
    parse_request,
)

FUZZ_CASES = 3000
FUZZ_SEED = 10


def encoded(extension: str, width: int, height: int) -> bytes:
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), np.uint8)
    return cv2.imencode(extension, image)[1].tobytes()


def test_dimensions_come_from_the_header_of_each_format() -> None:
    assert image_size(encoded(".jpg", 71, 33)) == (71, 33)
    progressive = cv2.imencode(
        ".jpg", np.zeros((40, 90, 3), np.uint8), [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]
    )[1].tobytes()
    assert image_size(progressive) == (90, 40)
    assert image_size(encoded(".png", 5, 300)) == (5, 300)
    assert image_size(jpeg_bomb(12000, 12000)) == (12000, 12000)
    for bad in (b"", b"GIF89a", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n\x00"):
        with pytest.raises(ImageHeaderError):
            image_size(bad)


def test_a_cut_file_is_incomplete_and_a_whole_one_complete() -> None:
    for data in (encoded(".jpg", 64, 48), encoded(".png", 64, 48)):
        assert is_complete(data)
        assert not is_complete(data[: len(data) // 2])


def test_a_bomb_is_413_from_its_header_and_a_cut_frame_400() -> None:
    bomb = jpeg_bomb(12000, 12000)
    assert len(bomb) < 1000
    for body, kind in (
        (bomb, "image/jpeg"),
        (
            json.dumps({"frame_id": 0, "frame_data": base64.b64encode(bomb).decode()}),
            "application/json",
        ),
    ):
        with pytest.raises(RequestError) as caught:
            parse_request(kind, body if isinstance(body, bytes) else body.encode(), {})
        assert caught.value.status == 413 and "12000x12000" in caught.value.message
    # Within the limit it parses, and only decoding (later, under the budget) costs memory.
    request = parse_request("image/jpeg", jpeg_bomb(4000, 4000), {})
    assert request.frames[0].decode_bytes > 4000 * 4000 * 3
    with pytest.raises(RequestError, match="megapixels"):
        parse_request("image/jpeg", jpeg_bomb(4000, 4000), {}, max_pixels=1000)
    assert MAX_FRAME_PIXELS >= 3840 * 2160  # 4K UHD passes
    whole = encoded(".jpg", 64, 48)
    with pytest.raises(RequestError, match="truncated"):
        parse_request("image/jpeg", whole[: len(whole) - 40], {})


def test_budget_waits_for_room_until_the_deadline() -> None:
    budget = ByteBudget(100, "test")
    with pytest.raises(BudgetExceededError):
        budget.try_acquire(101)
    assert budget.try_acquire(60) and not budget.try_acquire(60)
    with pytest.raises(BudgetTimeoutError):
        budget.acquire(60, time.monotonic() + 0.05)
    released = threading.Timer(0.05, budget.release, args=(60,))
    released.start()
    with budget.hold(60, time.monotonic() + 10):  # granted once the first 60 come back
        assert budget.used == 60
    released.join()
    assert budget.used == 0 and budget.peak == 60


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(9 if depth < 3 else 6)
    if choice == 0:
        return rng.choice([0, 1, -1, 2**31, 10**30, 7])
    if choice == 1:
        return rng.choice([0.5, -0.0, 1e308, float("nan"), float("inf")])
    if choice == 2:
        return rng.choice([True, False, None])
    if choice == 3:
        return "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(0, 40)))
    if choice == 4:
        return rng.choice(["NEW_SESSION", "", "x" * 300, "AAAA", "%%%"])
    if choice == 5:
        return base64.b64encode(rng.randbytes(rng.randrange(0, 64))).decode()
    if choice == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if choice == 7:
        return {str(rng.randrange(5)): _random_value(rng, depth + 1) for _ in range(3)}
    return [base64.b64encode(jpeg).decode() for jpeg in SEED_IMAGES[: rng.randrange(0, 3)]]


SEED_IMAGES = [
    cv2.imencode(".jpg", np.full((48, 64, 3), 90, np.uint8))[1].tobytes(),
    cv2.imencode(".png", np.full((48, 64, 3), 30, np.uint8))[1].tobytes(),
]
FIELDS = ("frame_id", "frame_data", "frame_w", "frame_h", "batch_size", "stream_id", "frame_rate")
HEADER_NAMES = (
    "X-Amzn-SageMaker-Session-Id",
    "X-Amzn-SageMaker-Custom-Attributes",
)


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """Flip, insert, delete or duplicate a few bytes."""
    out = bytearray(data)
    for _ in range(rng.randrange(1, 6)):
        if not out:
            out.extend(rng.randbytes(4))
        at = rng.randrange(len(out))
        action = rng.randrange(4)
        if action == 0:
            out[at] ^= 1 << rng.randrange(8)
        elif action == 1:
            out[at:at] = rng.randbytes(rng.randrange(1, 8))
        elif action == 2:
            del out[at : at + rng.randrange(1, 16)]
        else:
            out[at:at] = out[at : at + rng.randrange(1, 32)]
    return bytes(out)


def fuzz_case(rng: random.Random) -> tuple[str, bytes, dict[str, str]]:
    """A random or mutated request: (content type, body, headers)."""
    valid = {
        "frame_id": 0,
        "frame_data": base64.b64encode(rng.choice(SEED_IMAGES)).decode(),
        "frame_w": 64,
        "frame_h": 48,
    }
    for name in rng.sample(FIELDS, rng.randrange(0, 4)):
        valid[name] = _random_value(rng)
    kind = rng.choice(["application/json", "image/jpeg", "image/png", "text/plain", ""])
    body = rng.choice(SEED_IMAGES) if kind.startswith("image/") else json.dumps(valid).encode()
    if rng.random() < 0.5:
        body = _mutate(rng, body)
    headers = {name: str(_random_value(rng)) for name in HEADER_NAMES if rng.random() < 0.3}
    return kind, body, headers


def test_fuzzed_requests_parse_or_fail_with_a_4xx() -> None:
    rng = random.Random(FUZZ_SEED)
    outcomes = {"parsed": 0, "refused": 0}
    for _ in range(FUZZ_CASES):
        kind, body, headers = fuzz_case(rng)
        try:
            request = parse_request(kind, body, headers)
        except RequestError as error:
            assert 400 <= error.status < 500, error.message
            assert error.message and "\n" not in error.message
            outcomes["refused"] += 1
            continue
        for frame in request.frames:  # what the server does next: decode, or a 400
            try:
                assert frame.decode().shape == (frame.height, frame.width, 3)
            except RequestError as error:
                assert error.status == 400
        outcomes["parsed"] += 1
    # Both sides of the parser are exercised, not only its first check.
    assert outcomes["parsed"] > FUZZ_CASES // 20 and outcomes["refused"] > FUZZ_CASES // 2
