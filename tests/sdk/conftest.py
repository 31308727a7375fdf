"""The SDK tests run in .venv-sdk (`make test-sdk`); where `sagemaker` is missing they skip."""

from __future__ import annotations

import pytest

pytest.importorskip("sagemaker", reason="the SageMaker SDK lives in .venv-sdk: make test-sdk")
