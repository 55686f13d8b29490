"""Experimental designs: which points (values of the swept parameters) a sweep runs, and what
can be learnt from them beyond each point's own figures (sensitivity indices).

A design is one class registered in :data:`DESIGNS` under its ``kind``; the sweep file's
``design:`` mapping is validated against the union of the registered classes (as a scenario's
nodes are against the node kinds), so adding a design is one class in this file. Each design
says how many points it makes before making any (:meth:`Design.count`: the sweep refuses a
design over ``limits.MAX_SWEEP_POINTS``), makes them in a fixed order (:meth:`Design.points`)
and, where it is a sensitivity design, turns the points' means into indices
(:meth:`Design.analyse`). Parameters (:class:`Parameter`) are dotted paths into the scenario
and the values each takes: a list, a range or low/high bounds.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from model.core.limits import MAX_SWEEP_POINTS, Seed


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RangeSpec(_Strict):
    """Evenly spaced values from start to stop inclusive."""

    start: float
    stop: float
    step: float = Field(gt=0)

    @model_validator(mode="after")
    def _forwards(self) -> "RangeSpec":
        if self.stop < self.start:
            raise ValueError(f"expected stop >= start (a range runs upwards), got start {self.start:g} and stop "
                             f"{self.stop:g}")
        return self

    def count(self) -> float:
        """How many values it has (a float: a range of 10^12 values is counted, never listed)."""
        return math.floor((self.stop - self.start) / self.step + 1e-9) + 1


class Parameter(_Strict):
    """A dotted path into the scenario and the values it takes.

    Paths walk mappings by key and lists of mappings by an item's ``id``
    (investments), ``match`` (project delays) or ``node``, ``kind`` or ``tag`` (operational delays,
    disruptions): ``nodes.caspian_ferry.fleet``, ``investments.kars_dilucu_open.date``,
    ``delays.projects.tripp.months`` (a missing delay item is created).
    """

    path: str
    values: list[Any] | None = None
    range: RangeSpec | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False
    base: Any = None  # value for one-at-a-time designs (default: the middle value)
    apply: Literal["set", "scale"] = "set"
    """``scale``: the value multiplies what the base scenario has at the path (every number
    of a timeline, a list of monthly rates, a distribution's scale)."""

    @model_validator(mode="after")
    def _one_way(self) -> "Parameter":
        given = [self.values is not None, self.range is not None, self.low is not None or self.high is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of values, range, or low and high")
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high")
        if self.low is not None and self.high is not None and self.high <= self.low:
            raise ValueError("low needs a larger high")
        if self.values is not None and not self.values:
            raise ValueError("values needs at least one value")
        return self

    def count(self) -> float:
        """How many levels :meth:`levels` lists, without listing them."""
        if self.values is not None:
            return len(self.values)
        return self.range.count() if self.range is not None else 2

    def numeric(self) -> bool:
        """Are all its values numbers (so that a design can place points between them, and
        ``where`` compare them with one)?"""
        return self.values is None or all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)

    def levels(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        if self.range is not None:
            r = self.range
            n = int(math.floor((r.stop - r.start) / r.step + 1e-9)) + 1
            vals = [r.start + i * r.step for i in range(n)]
            return [int(round(v)) if self.integer or float(v).is_integer() else v for v in vals]
        return [self.low, self.high]

    def bounds(self) -> tuple[float, float]:
        """(low, high) of a numeric parameter: its bounds, or its smallest and largest level."""
        if self.low is not None and self.high is not None:
            return self.low, self.high
        levels = [float(v) for v in self.levels()]
        return min(levels), max(levels)

    def at(self, u: float) -> Any:
        """The value at fraction ``u`` of the parameter's span (0 <= u <= 1): a level of a list
        (each an equal share of [0, 1]), else a number between its bounds, rounded if integer."""
        if self.values is not None:
            levels = self.levels()
            return levels[min(int(u * len(levels)), len(levels) - 1)]
        lo, hi = self.bounds()
        v = lo + u * (hi - lo)
        return int(round(v)) if self.integer else round(float(v), 9)


Problems = list[tuple[tuple, str]]


class Design(_Strict):
    """What every design has: ``kind``, the hooks below, and its registration in :data:`DESIGNS`.

    Hooks a design overrides: :meth:`count` (how many points, before making any), :meth:`points`
    (the points in a fixed order: parameter path -> value), and optionally :meth:`problems`
    (what it cannot do with these parameters, refused at validation) and :meth:`analyse`
    (indices from the points' means)."""

    kind: str
    sensitivity: ClassVar[bool] = False
    """Does :meth:`analyse` give indices (printed and written as ``sensitivity.csv``)?"""

    def count(self, params: list[Parameter]) -> float:
        raise NotImplementedError

    def points(self, params: list[Parameter]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def problems(self, params: list[Parameter]) -> Problems:
        """(field path, message) of what this design cannot do with these parameters."""
        return []

    def analyse(self, params: list[Parameter], summary: pd.DataFrame) -> pd.DataFrame | None:
        """Indices per measure and parameter from ``summary`` (point, measure, mean; every
        point present), or None for a design that gives none."""
        return None


DESIGNS: dict[str, type[Design]] = {}


def register(cls: type[Design]) -> type[Design]:
    """Class decorator: make a design available to sweep files under its ``kind``."""
    kind = cls.model_fields["kind"].default
    DESIGNS[kind] = cls
    return cls


def _numeric_only(design: str, params: list[Parameter]) -> Problems:
    return [(("parameters", j), f"a {design} design places points between a parameter's bounds; '{p.path}' "
             "takes values that are not numbers: give it low and high (or a range)")
            for j, p in enumerate(params) if not p.numeric()]


def _distinct_paths(design: str, params: list[Parameter]) -> Problems:
    seen: dict[str, int] = {}
    out: Problems = []
    for j, p in enumerate(params):
        if p.path in seen:
            out.append((("parameters", j, "path"), f"'{p.path}' is also parameter {seen[p.path]}; a {design} design "
                        "needs each path once"))
        seen.setdefault(p.path, j)
    return out


@register
class Grid(Design):
    """Every combination of the parameters' levels."""

    kind: Literal["grid"] = "grid"

    def count(self, params: list[Parameter]) -> float:
        return math.prod(p.count() for p in params)

    def points(self, params: list[Parameter]) -> list[dict[str, Any]]:
        paths = [p.path for p in params]
        return [dict(zip(paths, combo)) for combo in itertools.product(*(p.levels() for p in params))]


@register
class OneAtATime(Design):
    """Every parameter at its ``base`` (default: its middle level), then each parameter through
    its other levels with the rest at their base."""

    kind: Literal["oat"] = "oat"

    def count(self, params: list[Parameter]) -> float:
        return 1 + sum(p.count() - 1 for p in params)

    def points(self, params: list[Parameter]) -> list[dict[str, Any]]:
        base = {p.path: (p.base if p.base is not None else p.levels()[len(p.levels()) // 2]) for p in params}
        out = [dict(base)]
        for p in params:
            for v in p.levels():
                if v != base[p.path]:
                    out.append({**base, p.path: v})
        return out


@register
class LatinHypercube(Design):
    """``n`` points of a Latin hypercube (``scipy.stats.qmc``, seeded): each parameter's span cut
    into n equal strata, one point in each."""

    kind: Literal["lhs"] = "lhs"
    n: int = Field(ge=2, le=MAX_SWEEP_POINTS, description="points")
    seed: Seed = 0

    def count(self, params: list[Parameter]) -> float:
        return self.n

    def points(self, params: list[Parameter]) -> list[dict[str, Any]]:
        from scipy.stats import qmc

        u = qmc.LatinHypercube(d=len(params), seed=np.random.default_rng(self.seed)).random(self.n)
        return [{p.path: p.at(float(x)) for p, x in zip(params, row)} for row in u]


class _SALib(Design):
    """A SALib design over the parameters' (low, high) bounds."""

    sensitivity: ClassVar[bool] = True

    def problem(self, params: list[Parameter]) -> dict:
        return {"num_vars": len(params), "names": [p.path for p in params],
                "bounds": [list(p.bounds()) for p in params]}

    def problems(self, params: list[Parameter]) -> Problems:
        out = _numeric_only(self.kind, params) + _distinct_paths(self.kind, params)
        if not out:  # (bounds need numbers)
            out += [(("parameters", j), f"a {self.kind} design samples between a parameter's bounds; '{p.path}' "
                     f"has one value only ({p.bounds()[0]:g}): give it two or more, or leave it out")
                    for j, p in enumerate(params) if not p.bounds()[0] < p.bounds()[1]]
        return out

    def _matrix(self, params: list[Parameter]) -> np.ndarray:
        raise NotImplementedError

    def points(self, params: list[Parameter]) -> list[dict[str, Any]]:
        return [{p.path: (int(round(v)) if p.integer else round(float(v), 9)) for p, v in zip(params, row)}
                for row in self._matrix(params)]

    def _indices(self, params: list[Parameter], x: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
        raise NotImplementedError

    def analyse(self, params: list[Parameter], summary: pd.DataFrame) -> pd.DataFrame:
        x = np.array([[pt[p.path] for p in params] for pt in self.points(params)], dtype=float)
        rows = []
        for m, g in summary.groupby("measure", sort=False):
            y = g.sort_values("point")["mean"].to_numpy(dtype=float)
            for p, idx in zip(params, self._indices(params, x, y)):
                rows.append({"measure": m, "parameter": p.path, **idx})
        first = list(rows[0])[2] if rows else "measure"
        return pd.DataFrame(rows).sort_values(["measure", first], ascending=[True, False], kind="stable")


@register
class Morris(_SALib):
    """Morris elementary-effects trajectories (SALib): ``n`` trajectories of (parameters + 1)
    points on a ``levels``-level grid between each parameter's low and high. Indices: mu* (mean
    absolute elementary effect over the parameter's range, in the measure's units), its 95%
    bootstrap half-width, and sigma (interactions or non-linearity)."""

    kind: Literal["morris"] = "morris"
    n: int = Field(ge=2, le=MAX_SWEEP_POINTS, description="trajectories")
    levels: int = Field(4, ge=2, le=20, description="grid levels, an even number")
    seed: Seed = 0

    @model_validator(mode="after")
    def _even_levels(self) -> "Morris":
        if self.levels % 2:
            raise ValueError(f"expected an even number of levels (Morris' design is unbiased only then; "
                             f"SALib warns), got {self.levels}")
        return self

    def count(self, params: list[Parameter]) -> float:
        return self.n * (len(params) + 1)

    def _matrix(self, params: list[Parameter]) -> np.ndarray:
        from SALib.sample import morris as morris_sample

        return morris_sample.sample(self.problem(params), N=self.n, num_levels=self.levels, seed=self.seed)

    def _indices(self, params: list[Parameter], x: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
        from SALib.analyze import morris as morris_analyze

        res = morris_analyze.analyze(self.problem(params), x, y, num_levels=self.levels, seed=self.seed)
        return [{"mu_star": float(res["mu_star"][j]), "mu_star_conf": float(res["mu_star_conf"][j]),
                 "sigma": float(res["sigma"][j])} for j in range(len(params))]


@register
class Sobol(_SALib):
    """Sobol' variance-based indices (SALib: Saltelli's scheme on a Sobol' sequence): ``n``
    base samples (a power of 2) give n x (parameters + 2) points. Indices: S1 (the share of the
    measure's variance an input explains alone) and ST (alone and with others), each with its
    95% bootstrap half-width."""

    kind: Literal["sobol"] = "sobol"
    n: int = Field(ge=2, le=MAX_SWEEP_POINTS, description="base samples, a power of 2")
    seed: Seed = 0

    @model_validator(mode="after")
    def _power_of_two(self) -> "Sobol":
        if self.n & (self.n - 1):
            raise ValueError(f"expected n a power of 2 (Sobol' sequences balance only then), got {self.n}")
        return self

    def count(self, params: list[Parameter]) -> float:
        return self.n * (len(params) + 2)

    def _matrix(self, params: list[Parameter]) -> np.ndarray:
        from SALib.sample import sobol as sobol_sample

        return sobol_sample.sample(self.problem(params), self.n, calc_second_order=False, seed=self.seed)

    def _indices(self, params: list[Parameter], x: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
        from SALib.analyze import sobol as sobol_analyze

        res = sobol_analyze.analyze(self.problem(params), y, calc_second_order=False, seed=self.seed)
        return [{"ST": float(res["ST"][j]), "ST_conf": float(res["ST_conf"][j]), "S1": float(res["S1"][j]),
                 "S1_conf": float(res["S1_conf"][j])} for j in range(len(params))]


if TYPE_CHECKING:  # mypy cannot follow a union built from the registry: it sees the base class
    AnyDesign = Design
else:
    AnyDesign = Annotated[Union[tuple(DESIGNS.values())], Field(discriminator="kind")]
"""A sweep file's ``design:``: one of the registered designs, chosen by ``kind``."""
