"""Distributions, as written in scenario files: one family for durations and uncertain inputs.

A distribution is a mapping with ``dist`` set to one of: fixed, exponential, uniform,
triangular, lognormal, normal. Each class samples (in blocks, from a numpy Generator: a
scalar numpy draw per simpy event would cost more than the event itself), gives its quantile
function in closed form (no scipy: this runs in every worker, where importing scipy.stats
alone cost more than a second), and has an analytic mean and squared coefficient of variation
(scv), which the validation checks (Erlang C, Pollaczek-Khinchine, Kingman) rely on. A new
shape is one class here, registered in :data:`SHAPES`.

Two uses, one family:

* a **duration** (:data:`Distribution`; a plain number is a fixed duration): a fresh draw for
  every shipment, vessel or storm, in hours from 0 to ``limits.MAX_HOURS`` (no normal: a
  duration cannot be negative);
* an **uncertain input** (:data:`AnyDistribution`, in ``model.scenario.uncertainty``): one draw
  per replication, through :meth:`Dist.quantile`, of any real value.
"""

from __future__ import annotations

import functools
import itertools
import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Annotated, Any, Callable, ClassVar, Iterator, Literal, Union, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from model.core.limits import MAX_HOURS, Cv

_BLOCK = 512


class Dist(BaseModel):
    """What every distribution has: ``dist`` (its shape's name), and the hooks below.

    Hooks a shape overrides: :meth:`block` (n draws from a Generator), :meth:`quantile` (the
    value at probability u, for an array of u), :meth:`scaled`, ``mean`` and ``scv`` (a field
    or a property), and ``values`` (the names of the fields that are values, in the unit of
    what is drawn: bounded for durations, multiplied by :meth:`scaled`)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    values: ClassVar[tuple[str, ...]] = ()

    if TYPE_CHECKING:  # every shape has both, as a field or a property (not a pydantic field here)

        @property
        def mean(self) -> float: ...

        @property
        def scv(self) -> float: ...

    def scaled(self, factor: float) -> "Dist":
        """The same shape with every value multiplied by ``factor`` (a coefficient of variation
        is a shape, and stays)."""
        return self.model_copy(update={f: getattr(self, f) * factor for f in self.values})

    def block(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError

    def quantile(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        """(lowest, highest) value a draw can take (infinite for unbounded shapes)."""
        return float(self.quantile(np.array([0.0]))[0]), float(self.quantile(np.array([1.0]))[0])


class Fixed(Dist):
    """Always the same value."""

    dist: Literal["fixed"] = "fixed"
    value: float
    values: ClassVar[tuple[str, ...]] = ("value",)

    @property
    def mean(self) -> float:
        return self.value

    @property
    def scv(self) -> float:
        return 0.0

    def block(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)


class Exponential(Dist):
    """Exponential with the given mean; scv 1."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0)
    values: ClassVar[tuple[str, ...]] = ("mean",)

    @property
    def scv(self) -> float:
        return 1.0

    def block(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean, n)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return -self.mean * np.log1p(-np.asarray(u, dtype=float))


class Uniform(Dist):
    """Uniform between low and high."""

    dist: Literal["uniform"]
    low: float
    high: float
    values: ClassVar[tuple[str, ...]] = ("low", "high")

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

    def block(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)


class Triangular(Dist):
    """Triangular with low, mode, high."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float
    values: ClassVar[tuple[str, ...]] = ("low", "mode", "high")

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

    def block(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, n)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        width, left = self.high - self.low, self.mode - self.low
        c = left / width
        return np.where(u < c, self.low + np.sqrt(u * width * left),
                        self.high - np.sqrt((1.0 - u) * width * (self.high - self.mode)))


def _normal_quantile(u: np.ndarray) -> np.ndarray:
    """Standard normal quantiles (statistics.NormalDist: no scipy in workers); +-inf at 0 and 1."""
    nd = NormalDist()
    return np.array([-math.inf if p <= 0 else math.inf if p >= 1 else nd.inv_cdf(float(p))
                     for p in np.ravel(u)]).reshape(np.shape(u))


class Lognormal(Dist):
    """Lognormal given by its mean and coefficient of variation."""

    dist: Literal["lognormal"]
    mean: float = Field(gt=0)
    cv: Cv
    values: ClassVar[tuple[str, ...]] = ("mean",)

    @property
    def scv(self) -> float:
        return self.cv**2

    def _mu_sigma(self) -> tuple[float, float]:
        sigma2 = math.log(1 + self.cv**2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    def block(self, rng: np.random.Generator, n: int) -> np.ndarray:
        mu, sigma = self._mu_sigma()
        return rng.lognormal(mu, sigma, n)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        mu, sigma = self._mu_sigma()
        with np.errstate(over="ignore"):
            return np.exp(mu + sigma * _normal_quantile(u))


class Normal(Dist):
    """Normal with mean and standard deviation ``sd`` (uncertain inputs only: unbounded)."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)
    values: ClassVar[tuple[str, ...]] = ("mean", "sd")

    @property
    def scv(self) -> float:
        return (self.sd / self.mean) ** 2 if self.mean else math.inf

    def block(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.normal(self.mean, self.sd, n)

    def quantile(self, u: np.ndarray) -> np.ndarray:
        if self.sd == 0:
            return np.full(np.shape(u), self.mean, dtype=float)
        return self.mean + self.sd * _normal_quantile(u)


SHAPES: dict[str, type[Dist]] = {get_args(c.model_fields["dist"].annotation)[0]: c
                                 for c in (Fixed, Exponential, Uniform, Triangular, Lognormal, Normal)}
"""Every shape by its ``dist`` name."""


def _in_hours(d: Any) -> Any:
    """A duration's values lie from 0 to ``limits.MAX_HOURS`` hours (a bad one is blamed on its field)."""
    from model.core.specs import Problem

    for f in d.values:
        v = getattr(d, f)
        if v < 0:
            raise Problem(f"expected a number >= 0, got {v:g}", f)
        if v > MAX_HOURS:
            raise Problem(f"expected a number <= {MAX_HOURS:g} (the limit), got {v:g}", f)
    return d


# Durations: the same shapes, their values bounded to hours from 0 to MAX_HOURS (no normal).
class ExponentialHours(Exponential):
    _hours = model_validator(mode="after")(_in_hours)


class UniformHours(Uniform):
    _hours = model_validator(mode="after")(_in_hours)


class TriangularHours(Triangular):
    _hours = model_validator(mode="after")(_in_hours)


class LognormalHours(Lognormal):
    _hours = model_validator(mode="after")(_in_hours)


class FixedHours(Fixed):
    _hours = model_validator(mode="after")(_in_hours)


Distribution = Annotated[Union[FixedHours, ExponentialHours, UniformHours, TriangularHours, LognormalHours],
                         Field(discriminator="dist")]
"""A duration's distribution (hours, 0 to ``limits.MAX_HOURS``)."""

AnyDistribution = Annotated[Union[Fixed, Exponential, Uniform, Triangular, Lognormal, Normal],
                            Field(discriminator="dist")]
"""An uncertain input's distribution (any real values)."""


@functools.lru_cache(maxsize=None)
def _adapter(kind: str) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(Distribution if kind == "duration" else AnyDistribution)


def as_distribution(value: "float | int | Dist | dict") -> Dist:
    """Accept a plain number as a fixed duration (what scenario files allow)."""
    if isinstance(value, Dist):
        return value
    if isinstance(value, (int, float)):
        return Fixed(value=float(value))
    return _adapter("duration").validate_python(value)


def as_any_distribution(value: dict[str, Any]) -> Dist:
    """An uncertain input's distribution from its mapping (``pydantic.ValidationError`` if bad)."""
    return _adapter("any").validate_python(value)


Sampler = Callable[[], float]
"""A draw: called with no argument, it returns the next value of one distribution."""


def sampler(dist: Dist, rng: np.random.Generator) -> Sampler:
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


def _blocks(dist: Dist, rng: np.random.Generator) -> Iterator[float]:
    while True:
        yield from dist.block(rng, _BLOCK).tolist()


def quantiles(dist: Dist, n: int = 2000) -> np.ndarray:
    """``n`` equally spaced quantiles (at (i + 0.5) / n) of a distribution, in closed form.

    >>> quantiles(Uniform(dist="uniform", low=0.0, high=2.0), 4).tolist()
    [0.25, 0.75, 1.25, 1.75]
    """
    return dist.quantile((np.arange(n) + 0.5) / n)
