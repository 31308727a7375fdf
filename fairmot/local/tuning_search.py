"""Hyperparameter search for local tuning jobs, honouring the request's Strategy.

SageMaker's own search is not available offline; this one searches the same ParameterRanges:
- `Random` (and `Hyperband`, whose early stopping local jobs do not do): independent draws,
  uniform or log-uniform (ScalingType) per continuous/integer range, uniform over categories;
- `Bayesian`: random draws until two results are in, then the candidate (of many random ones
  and perturbations of the best so far) with the best kernel-regression estimate of the objective
  plus an exploration bonus for distance from what was tried: a small surrogate-model search;
- `Grid`: every combination of the categorical values (SageMaker allows only categorical ranges
  with Grid), in order.
Draws come from a generator seeded by the request's RandomSeed or the tuning job's name, so a
local run repeats exactly.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from dataclasses import dataclass
from typing import Any

CANDIDATES = 64  # random candidates the Bayesian step scores per proposal
EXPLORATION = 0.5  # weight of the distance-from-tried bonus against the objective's spread
BANDWIDTH = 0.2  # kernel width in the unit cube of the ranges
INITIAL_RANDOM = 2  # results needed before the surrogate guides the search
STRATEGIES = {"Bayesian", "Random", "Hyperband", "Grid"}


class SearchError(ValueError):
    """The ranges or the strategy cannot be searched; the message says which."""


@dataclass(frozen=True)
class Dimension:
    """One range, mapped to [0, 1] and back."""

    name: str
    kind: str  # continuous | integer | categorical
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    values: tuple[str, ...] = ()

    def value(self, unit: float) -> str:
        if self.kind == "categorical":
            return self.values[min(int(unit * len(self.values)), len(self.values) - 1)]
        if self.log:
            number = math.exp(
                math.log(self.low) + unit * (math.log(self.high) - math.log(self.low))
            )
        else:
            number = self.low + unit * (self.high - self.low)
        if self.kind == "integer":
            return str(min(max(round(number), int(self.low)), int(self.high)))
        return f"{number:.6g}"


def dimensions(ranges: dict[str, Any]) -> list[Dimension]:
    """The ParameterRanges of a tuning request as dimensions (log scaling where asked)."""
    found: list[Dimension] = []
    for kind, key in (
        ("continuous", "ContinuousParameterRanges"),
        ("integer", "IntegerParameterRanges"),
    ):
        for spec in ranges.get(key) or []:
            low, high = float(spec["MinValue"]), float(spec["MaxValue"])
            if low > high:
                raise SearchError(f"range {spec['Name']}: MinValue {low} > MaxValue {high}")
            log = spec.get("ScalingType") in ("Logarithmic", "ReverseLogarithmic")
            if log and low <= 0:
                raise SearchError(f"range {spec['Name']}: logarithmic scaling needs MinValue > 0")
            found.append(Dimension(spec["Name"], kind, low, high, log))
    for spec in ranges.get("CategoricalParameterRanges") or []:
        if not spec.get("Values"):
            raise SearchError(f"range {spec['Name']}: no Values")
        found.append(Dimension(spec["Name"], "categorical", values=tuple(map(str, spec["Values"]))))
    return found


class Search:
    """Proposes the hyperparameters of each child training job of one tuning job."""

    def __init__(self, ranges: dict[str, Any], strategy: str, seed: int | str, maximize: bool):
        if strategy not in STRATEGIES:
            raise SearchError(f"unknown Strategy {strategy!r}: choose from {sorted(STRATEGIES)}")
        self.dimensions = dimensions(ranges)
        self.strategy = strategy
        self.maximize = maximize
        digest = hashlib.sha256(str(seed).encode()).hexdigest()
        self.rng = random.Random(int(digest[:16], 16))
        if strategy == "Grid":
            if any(d.kind != "categorical" for d in self.dimensions):
                raise SearchError("the Grid strategy takes categorical ranges only")
            self._grid = itertools.product(*(d.values for d in self.dimensions))

    def _random_point(self) -> list[float]:
        return [self.rng.random() for _ in self.dimensions]

    def _values(self, point: list[float]) -> dict[str, str]:
        return {d.name: d.value(u) for d, u in zip(self.dimensions, point, strict=True)}

    def propose(
        self, tried: list[tuple[list[float], float | None]]
    ) -> tuple[list[float], dict[str, str]]:
        """The next point (unit cube) and its hyperparameters, given the points tried so far
        with their objective (None: failed or still running)."""
        if self.strategy == "Grid":
            combination = next(self._grid, None)
            if combination is None:
                raise SearchError("the grid is exhausted: MaxNumberOfTrainingJobs exceeds it")
            point = [
                (d.values.index(v) + 0.5) / len(d.values)
                for d, v in zip(self.dimensions, combination, strict=True)
            ]
            return point, dict(zip((d.name for d in self.dimensions), combination, strict=True))
        results = [(p, v) for p, v in tried if v is not None]
        if self.strategy != "Bayesian" or len(results) < INITIAL_RANDOM or not self.dimensions:
            point = self._random_point()
            return point, self._values(point)
        point = max(self._candidates(results), key=lambda c: self._score(c, results, tried))
        return point, self._values(point)

    def _candidates(self, results: list[tuple[list[float], float]]) -> list[list[float]]:
        sign = 1.0 if self.maximize else -1.0
        best = max(results, key=lambda r: sign * r[1])[0]
        near = [
            [min(1.0, max(0.0, u + self.rng.gauss(0.0, BANDWIDTH))) for u in best]
            for _ in range(CANDIDATES // 2)
        ]
        return near + [self._random_point() for _ in range(CANDIDATES - len(near))]

    def _score(
        self,
        point: list[float],
        results: list[tuple[list[float], float]],
        tried: list[tuple[list[float], float | None]],
    ) -> float:
        sign = 1.0 if self.maximize else -1.0
        weights = [math.exp(-_distance2(point, p) / (2 * BANDWIDTH**2)) for p, _ in results]
        mean = sum(w * sign * v for w, (_, v) in zip(weights, results, strict=True)) / (
            sum(weights) or 1.0
        )
        values = [sign * v for _, v in results]
        spread = (max(values) - min(values)) or 1.0
        nearest = min(math.sqrt(_distance2(point, p)) for p, _ in tried)
        return mean + EXPLORATION * spread * nearest


def _distance2(a: list[float], b: list[float]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True))
