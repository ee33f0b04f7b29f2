"""Search spaces: what each hyperparameter may be, for grid and random search.

A space is a dict from a parameter name to a list of values (both searches: the grid
takes each, random search picks one uniformly) or to a distribution (random search
only): ``uniform(low, high)``, ``loguniform(low, high)`` (learning rates, weight
decay), ``randint(low, high)`` (high exclusive) or ``choice(values)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


class Distribution:
    """A random-search distribution: ``sample(rng)`` draws one value."""

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class uniform(Distribution):  # noqa: N801 - lower case like scipy.stats and ray.tune
    low: float
    high: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"uniform needs finite low < high, got {self.low}, {self.high}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


@dataclass(frozen=True)
class loguniform(Distribution):  # noqa: N801
    low: float
    high: float

    def __post_init__(self) -> None:
        if not (0 < self.low < self.high and math.isfinite(self.high)):
            raise ValueError(f"loguniform needs 0 < low < high, got {self.low}, {self.high}")

    def sample(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))


@dataclass(frozen=True)
class randint(Distribution):  # noqa: N801
    low: int
    high: int  # exclusive

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"randint needs low < high (high exclusive), got {self.low}, "
                             f"{self.high}")

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high))


@dataclass(frozen=True)
class choice(Distribution):  # noqa: N801
    values: Sequence[Any]

    def __post_init__(self) -> None:
        if len(self.values) == 0:
            raise ValueError("choice needs at least one value")

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]


def check_space(space: Mapping[str, Any], *, grid: bool) -> dict[str, Any]:
    """The space as a dict, or ValueError naming the entry that cannot be searched."""
    if not isinstance(space, Mapping) or not space:
        raise ValueError("a search space is a non-empty dict of parameter name -> values")
    checked = {}
    for name, values in space.items():
        if isinstance(values, Distribution):
            if grid:
                raise ValueError(f"grid_search needs a list of values for {name!r}, got "
                                 f"{values}; distributions are for random_search")
        elif isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise ValueError(f"{name!r}: expected a list of values or a distribution, got "
                             f"{values!r}")
        elif len(values) == 0:
            raise ValueError(f"{name!r} has no values to try")
        checked[str(name)] = values
    return checked


def grid_points(space: Mapping[str, Sequence[Any]]) -> Iterator[dict[str, Any]]:
    """Every combination, the last parameter varying fastest."""
    names = list(space)
    for values in itertools.product(*(space[n] for n in names)):
        yield dict(zip(names, values))


def random_point(space: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    return {name: (values.sample(rng) if isinstance(values, Distribution)
                   else values[int(rng.integers(len(values)))])
            for name, values in space.items()}
