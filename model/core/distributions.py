"""Duration distributions, as written in scenario files, and fast samplers.

A duration in a scenario is either a plain number (fixed) or a mapping with
``dist`` set to one of: fixed, exponential, uniform, triangular, lognormal.
Each has an analytic mean and squared coefficient of variation (scv), which the
validation checks (Erlang C, Pollaczek-Khinchine, Kingman) rely on.

Samplers draw from a numpy Generator in blocks, because a scalar numpy draw
per simpy event would cost more than the event itself.
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Annotated, Callable, Iterator, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from model.core.limits import MAX_HOURS, Cv, Hours

_BLOCK = 512


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    if TYPE_CHECKING:  # every shape has both, as a field or a property (not a pydantic field here)

        @property
        def mean(self) -> float: ...

        @property
        def scv(self) -> float: ...

    def scaled(self, factor: float) -> "Distribution":
        """The same shape with every duration multiplied by ``factor``."""
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same value (hours)."""

    dist: Literal["fixed"] = "fixed"
    value: Hours

    @property
    def mean(self) -> float:
        return self.value

    @property
    def scv(self) -> float:
        return 0.0

    def scaled(self, factor: float) -> "Fixed":
        return Fixed(value=self.value * factor)


class Exponential(_Dist):
    """Exponential with the given mean (hours); scv 1."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0, le=MAX_HOURS)

    @property
    def scv(self) -> float:
        return 1.0

    def scaled(self, factor: float) -> "Exponential":
        return Exponential(dist="exponential", mean=self.mean * factor)


class Uniform(_Dist):
    """Uniform between low and high (hours)."""

    dist: Literal["uniform"]
    low: Hours
    high: Hours

    @model_validator(mode="after")
    def _ordered(self) -> "Uniform":
        if self.high < self.low:
            raise ValueError("high must be >= low")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def scv(self) -> float:
        m = self.mean
        return 0.0 if m == 0 else ((self.high - self.low) ** 2 / 12) / m**2

    def scaled(self, factor: float) -> "Uniform":
        return Uniform(dist="uniform", low=self.low * factor, high=self.high * factor)


class Triangular(_Dist):
    """Triangular with low, mode, high (hours)."""

    dist: Literal["triangular"]
    low: Hours
    mode: Hours
    high: Hours

    @model_validator(mode="after")
    def _ordered(self) -> "Triangular":
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError("need low <= mode <= high and low < high")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def scv(self) -> float:
        a, c, b = self.low, self.mode, self.high
        var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18
        return var / self.mean**2

    def scaled(self, factor: float) -> "Triangular":
        return Triangular(
            dist="triangular", low=self.low * factor, mode=self.mode * factor, high=self.high * factor
        )


class Lognormal(_Dist):
    """Lognormal given by its mean (hours) and coefficient of variation."""

    dist: Literal["lognormal"]
    mean: float = Field(gt=0, le=MAX_HOURS)
    cv: Cv

    @property
    def scv(self) -> float:
        return self.cv**2

    def scaled(self, factor: float) -> "Lognormal":
        return Lognormal(dist="lognormal", mean=self.mean * factor, cv=self.cv)


Distribution = Annotated[
    Union[Fixed, Exponential, Uniform, Triangular, Lognormal], Field(discriminator="dist")
]


def as_distribution(value: "float | int | _Dist | dict") -> _Dist:
    """Accept a plain number as a fixed duration (what scenario files allow)."""
    if isinstance(value, _Dist):
        return value
    if isinstance(value, (int, float)):
        return Fixed(value=float(value))
    from pydantic import TypeAdapter

    return TypeAdapter(Distribution).validate_python(value)


def _block(dist: _Dist, rng: np.random.Generator, n: int) -> np.ndarray:
    if isinstance(dist, Fixed):
        return np.full(n, dist.value)
    if isinstance(dist, Exponential):
        return rng.exponential(dist.mean, n)
    if isinstance(dist, Uniform):
        return rng.uniform(dist.low, dist.high, n)
    if isinstance(dist, Triangular):
        return rng.triangular(dist.low, dist.mode, dist.high, n)
    if isinstance(dist, Lognormal):
        sigma2 = math.log(1 + dist.cv**2)
        mu = math.log(dist.mean) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), n)
    raise TypeError(f"unknown distribution {dist!r}")


Sampler = Callable[[], float]
"""A draw: called with no argument, it returns the next value of one distribution."""


def sampler(dist: _Dist, rng: np.random.Generator) -> Sampler:
    """Draws from one distribution with one named random stream, in blocks of ``_BLOCK``.
    The result is a generator's ``__next__``: the cheapest callable Python has (a node
    draws a few hundred thousand times a replication), with the same draws as a loop
    over blocks.

    >>> s = sampler(Fixed(value=3.0), np.random.default_rng(1))
    >>> s(), s()
    (3.0, 3.0)
    >>> sampler(Uniform(dist="uniform", low=0.0, high=1.0), np.random.default_rng(1))() == np.random.default_rng(1).random()
    True
    """
    if isinstance(dist, Fixed):
        return itertools.repeat(dist.value).__next__
    return _blocks(dist, rng).__next__


def _blocks(dist: _Dist, rng: np.random.Generator) -> Iterator[float]:
    while True:
        yield from _block(dist, rng, _BLOCK).tolist()


def quantiles(dist: _Dist, n: int = 2000) -> np.ndarray:
    """``n`` equally spaced quantiles (at (i + 0.5) / n) of a duration distribution, in
    closed form (no scipy: this runs in every worker, where importing scipy.stats alone
    cost more than a second).

    >>> quantiles(Uniform(dist="uniform", low=0.0, high=2.0), 4).tolist()
    [0.25, 0.75, 1.25, 1.75]
    """
    u = (np.arange(n) + 0.5) / n
    if isinstance(dist, Fixed):
        return np.full(n, dist.value)
    if isinstance(dist, Exponential):
        return -dist.mean * np.log1p(-u)
    if isinstance(dist, Uniform):
        return dist.low + (dist.high - dist.low) * u
    if isinstance(dist, Triangular):
        width, left = dist.high - dist.low, dist.mode - dist.low
        c = left / width if width > 0 else 0.0
        return np.where(u < c, dist.low + np.sqrt(u * width * left),
                        dist.high - np.sqrt((1.0 - u) * width * (dist.high - dist.mode)))
    if isinstance(dist, Lognormal):
        s2 = math.log(1.0 + dist.cv**2)
        z = np.array([NormalDist().inv_cdf(p) for p in u])
        return np.exp(math.log(dist.mean) - s2 / 2 + math.sqrt(s2) * z)
    raise TypeError(f"unknown distribution {dist!r}")
