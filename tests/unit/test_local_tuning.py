"""Local tuning: the search honours ranges and Strategy; children run in parallel as asked."""

from __future__ import annotations

import math
from typing import Any

import pytest

from fairmot.local.tuning_search import Search, SearchError

RANGES = {
    "ContinuousParameterRanges": [
        {"Name": "lr", "MinValue": "1e-5", "MaxValue": "1e-1", "ScalingType": "Logarithmic"}
    ],
    "IntegerParameterRanges": [{"Name": "epochs", "MinValue": "1", "MaxValue": "9"}],
    "CategoricalParameterRanges": [{"Name": "id_loss", "Values": ["ce", "focal"]}],
}


def _draws(strategy: str, count: int, seed: str = "job") -> list[dict[str, str]]:
    search = Search(RANGES, strategy, seed, maximize=True)
    tried: list[tuple[list[float], float | None]] = []
    values = []
    for _ in range(count):
        point, params = search.propose(tried)
        tried.append((point, None))
        values.append(params)
    return values


def test_random_search_stays_in_the_ranges_and_spreads_log_scaled_values() -> None:
    draws = _draws("Random", 200)
    lrs = [float(d["lr"]) for d in draws]
    assert all(1e-5 <= lr <= 1e-1 for lr in lrs)
    assert all(1 <= int(d["epochs"]) <= 9 for d in draws)
    assert {d["id_loss"] for d in draws} == {"ce", "focal"}
    # Log-uniform: about a quarter of the draws in each of the four decades.
    decades = [sum(1 for lr in lrs if 10 ** (k - 5) <= lr < 10 ** (k - 4)) for k in range(4)]
    assert min(decades) > 25, decades
    # Not an even spacing: values repeat neither a fixed step nor each other.
    assert len({round(math.log10(lr), 6) for lr in lrs}) == len(lrs)


def test_the_same_seed_repeats_and_another_differs() -> None:
    assert _draws("Random", 5) == _draws("Random", 5)
    assert _draws("Random", 5) != _draws("Random", 5, seed="other")


def test_bayesian_search_moves_towards_the_better_region() -> None:
    # Objective peaks at lr = 1e-3 (log10 -3): after the random start the proposals close in.
    search = Search(
        {"ContinuousParameterRanges": [RANGES["ContinuousParameterRanges"][0]]},
        "Bayesian",
        "job",
        maximize=True,
    )
    tried: list[tuple[list[float], float | None]] = []
    errors = []
    for _ in range(14):
        point, params = search.propose(tried)
        error = abs(math.log10(float(params["lr"])) + 3)
        tried.append((point, -error))
        errors.append(error)
    assert min(errors[6:]) < 0.25
    assert sum(errors[-6:]) / 6 < sum(errors[:2]) / 2 or min(errors[:2]) < 0.25


def test_grid_search_walks_every_category_then_stops() -> None:
    ranges = {"CategoricalParameterRanges": [{"Name": "id_loss", "Values": ["ce", "focal"]}]}
    search = Search(ranges, "Grid", "job", maximize=True)
    seen = [search.propose([])[1]["id_loss"] for _ in range(2)]
    assert seen == ["ce", "focal"]
    with pytest.raises(SearchError, match="exhausted"):
        search.propose([])


@pytest.mark.parametrize(
    ("ranges", "strategy", "message"),
    [
        (RANGES, "Annealing", "unknown Strategy"),
        (RANGES, "Grid", "categorical ranges only"),
        (
            {"ContinuousParameterRanges": [{"Name": "lr", "MinValue": "0", "MaxValue": "1",
                                            "ScalingType": "Logarithmic"}]},
            "Random",
            "MinValue > 0",
        ),
    ],
)  # fmt: skip
def test_unsearchable_requests_fail_with_a_reason(
    ranges: dict[str, Any], strategy: str, message: str
) -> None:
    with pytest.raises(SearchError, match=message):
        Search(ranges, strategy, "job", maximize=True)
