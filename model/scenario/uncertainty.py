"""Uncertain inputs: scenario fields drawn per replication from a distribution.

A scenario's ``uncertainty:`` lists dotted paths into the scenario (as sweep
parameters) with a distribution. A run or batch of n replications draws one Latin
hypercube of n points (``scipy.stats.qmc``, seeded by the run's seed), maps each
column through its distribution's quantile function, and gives replication k the
scenario with row k's values: so the replications' spread, and every interval
computed over them, covers the inputs' uncertainty as well as the simulation's own
noise. Scenarios compared in one batch draw the same hypercube, so paired
differences stay paired in their inputs too.

Why a separate section rather than a distribution in place of the value: a
duration field already takes a distribution, meaning a fresh draw for every
shipment or vessel; an uncertain input is one draw per replication. Keeping the two
apart keeps each field's meaning fixed.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from model.core.limits import MAX_CV
from model.core.specs import Strict


class UncertainInput(Strict):
    """One uncertain scenario field: ``path``, a distribution, and whether the draw
    replaces the field's value (``set``) or multiplies it (``scale``: every number of
    a timeline, a list of monthly rates, a demand path)."""

    path: str
    dist: Literal["uniform", "triangular", "lognormal", "normal"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    cv: float | None = Field(None, ge=0, le=MAX_CV)
    sd: float | None = Field(None, ge=0)
    apply: Literal["set", "scale"] = "set"
    integer: bool = Field(False, description="Round the draw to a whole number (fleets, berths)")

    @model_validator(mode="after")
    def _parameters(self) -> "UncertainInput":
        need = {"uniform": ("low", "high"), "triangular": ("low", "mode", "high"), "lognormal": ("mean", "cv"),
                "normal": ("mean", "sd")}[self.dist]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(need)}; missing {', '.join(missing)}")
        if self.low is not None and self.high is not None and self.high < self.low:
            raise ValueError(f"expected high >= low, got low {self.low:g} and high {self.high:g}")
        if self.dist == "triangular" and not (self.low <= self.mode <= self.high):  # type: ignore[operator]
            raise ValueError(f"expected low <= mode <= high, got {self.low:g}, {self.mode:g}, {self.high:g}")
        if self.dist == "lognormal" and self.mean is not None and self.mean <= 0:
            raise ValueError(f"a lognormal needs mean > 0, got {self.mean:g}")
        return self

    def quantile(self, u: float) -> float:
        """The value at probability ``u`` (0 < u < 1).

        >>> UncertainInput(path="x", dist="triangular", low=6, mode=8, high=10).quantile(0.5)
        8.0
        >>> UncertainInput(path="x", dist="uniform", low=3, high=3).quantile(0.9)
        3.0
        """
        if self.dist == "uniform":
            v = self.low + u * (self.high - self.low)  # type: ignore[operator]
        elif self.dist == "triangular":
            lo, mo, hi = float(self.low), float(self.mode), float(self.high)  # type: ignore[arg-type]
            if hi == lo:
                v = lo
            elif u < (mo - lo) / (hi - lo):
                v = lo + math.sqrt(u * (hi - lo) * (mo - lo))
            else:
                v = hi - math.sqrt((1 - u) * (hi - lo) * (hi - mo))
        else:
            from scipy import stats

            if self.dist == "normal":
                v = float(stats.norm.ppf(u, loc=self.mean, scale=self.sd)) if self.sd else float(self.mean)  # type: ignore[arg-type]
            else:
                sigma = math.sqrt(math.log(1 + float(self.cv) ** 2))  # type: ignore[arg-type]
                mu = math.log(float(self.mean)) - sigma**2 / 2  # type: ignore[arg-type]
                v = float(stats.lognorm.ppf(u, s=sigma, scale=math.exp(mu))) if sigma else float(self.mean)  # type: ignore[arg-type]
        return float(round(v)) if self.integer else float(v)


def hypercube(n: int, d: int, seed: int) -> np.ndarray:
    """n x d points of a Latin hypercube in (0, 1), seeded (the same for every scenario of a run)."""
    from scipy.stats import qmc

    if d == 0:
        return np.zeros((n, 0))
    return qmc.LatinHypercube(d=d, seed=np.random.default_rng([seed, 0x5EED])).random(n)


def _item(items: list, key: str) -> Any:
    """The item of a list of mappings whose id, match, node, kind or tag is ``key`` (None if none)."""
    return next((x for x in items if isinstance(x, dict)
                 and key in (str(x.get(k)) for k in ("id", "match", "node", "kind", "tag"))), None)


def get_path(data: dict, dotted: str) -> Any:
    """The value at a dotted path, walked as :func:`set_path` walks it; KeyError if absent."""
    from model.scenario.messages import did_you_mean

    cur: Any = data
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        nxt = cur.get(part) if isinstance(cur, dict) else _item(cur, part) if isinstance(cur, list) else None
        if nxt is None:
            keys = [str(k) for k in cur] if isinstance(cur, dict) else \
                [str(x.get("id") or x.get("match") or x.get("node") or x.get("kind") or x.get("tag")) for x in cur if isinstance(x, dict)] \
                if isinstance(cur, list) else []
            raise KeyError(f"no '{part}' in {'.'.join(parts[:i]) or 'the top level'}{did_you_mean(part, keys)}")
        cur = nxt
    return cur


def scaled(value: Any, factor: float) -> Any:
    """``value`` with every number multiplied by ``factor`` (numbers, lists, mappings; a
    distribution's ``cv`` is a shape and stays).

    >>> scaled({"dist": "lognormal", "mean": 10, "cv": 0.5}, 2.0), scaled([1, 2], 0.5)
    ({'dist': 'lognormal', 'mean': 20.0, 'cv': 0.5}, [0.5, 1.0])
    """
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value * factor
    if isinstance(value, list):
        return [scaled(v, factor) for v in value]
    if isinstance(value, dict):
        return {k: (v if k in ("dist", "cv") else scaled(v, factor)) for k, v in value.items()}
    return value


def apply_values(data: dict, inputs: list[UncertainInput], values: list[float]) -> dict:
    """A copy of the raw scenario ``data`` with each input's value set (or scaled)."""
    out = copy.deepcopy(data)
    for inp, v in zip(inputs, values):
        if inp.apply == "scale":
            current = get_path(out, inp.path)
            if current is None:
                raise KeyError(f"'{inp.path}' has no value to scale")
            v = scaled(current, v)
        set_path(out, inp.path, v)
    return out


def set_path(data: dict, dotted: str, value: Any) -> None:
    """Set a dotted path in a raw scenario mapping. Paths walk mappings by key and
    lists of mappings by an item's ``id`` (investments), ``match`` (project delays)
    or ``node`` (operational delays, disruptions): ``nodes.caspian_ferry.fleet``,
    ``investments.kars_dilucu_open.date``, ``delays.projects.tripp.months`` (a missing
    delay item is created)."""
    from model.scenario.messages import did_you_mean  # (it imports the schema, which imports this module)

    parts = dotted.split(".")
    cur: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(cur, dict):
            if last:
                cur[part] = value
                return
            if part not in cur:
                if part in ("delays",):
                    cur[part] = {}
                elif part in ("projects", "operational"):
                    cur[part] = []
                else:
                    where = ".".join(parts[:i]) or "the top level"
                    keys = [str(k) for k in cur]
                    raise KeyError(f"no '{part}' in {where}{did_you_mean(part, keys)}; expected one of: {', '.join(keys)}")
            cur = cur[part]
        elif isinstance(cur, list):
            item = _item(cur, part)
            if item is None:
                if i == len(parts) - 2 and parts[i - 1] == "projects":
                    item = {"match": part, "months": 0}
                    cur.append(item)
                else:
                    names = [str(x.get("id") or x.get("match") or x.get("node") or x.get("kind") or x.get("tag")) for x in cur if isinstance(x, dict)]
                    raise KeyError(f"no item '{part}' in {'.'.join(parts[:i])}{did_you_mean(part, names)}; "
                                   f"expected one of: {', '.join(names)}")
            if last:
                raise KeyError(f"'{dotted}' names a whole item; add the field to set")
            cur = item
        else:
            raise KeyError(f"cannot go into '{part}' (at {'.'.join(parts[:i + 1])})")




def sample_scenarios(scenario: Any, n: int, seed: int) -> list[Any]:
    """The scenario of each of ``n`` replications: row k of a seeded Latin hypercube
    through each input's quantile function (the scenario itself n times when it has
    no uncertain input). Each has an empty ``uncertainty``: its inputs are now fixed."""
    from model.scenario.schema import Scenario

    if not scenario.uncertainty:
        return [scenario] * n
    inputs = list(scenario.uncertainty)
    u = hypercube(n, len(inputs), seed)
    base = scenario.model_dump(mode="json")
    base["uncertainty"] = []
    return [Scenario.model_validate(apply_values(base, inputs, [inp.quantile(float(u[k, j]))
                                                              for j, inp in enumerate(inputs)]))
            for k in range(n)]


def uncertainty_problems(scenario: Any) -> list[tuple[tuple, str]]:
    """(field path, message) for uncertain inputs that cannot be applied, or that give an
    invalid scenario at their low end, median or high end (all inputs together): what
    ``validate`` checks so that ``run`` cannot fail on a draw."""
    from pydantic import ValidationError

    from model.scenario.checks import check_limits, check_references, check_routes
    from model.scenario.schema import Scenario

    out: list[tuple[tuple, str]] = []
    base = scenario.model_dump(mode="json")
    base["uncertainty"] = []
    for i, inp in enumerate(scenario.uncertainty):
        try:
            if inp.apply == "set" and inp.path.startswith("delays.projects."):
                set_path(copy.deepcopy(base), inp.path, inp.quantile(0.5))  # a delay item may be created
            else:
                get_path(base, inp.path)
        except KeyError as e:
            out.append((("uncertainty", i, "path"), f"cannot find it in the scenario: {e.args[0]}"))
    if out:
        return out
    for q in (0.001, 0.5, 0.999):
        values = [inp.quantile(q) for inp in scenario.uncertainty]
        try:
            s = Scenario.model_validate(apply_values(base, list(scenario.uncertainty), values))
            bad = [(loc, msg) for loc, msg in check_references(s) + check_routes(s)]
            bad = bad or check_limits(s)
        except (ValidationError, KeyError) as e:
            msgs = [(tuple(err["loc"]), err["msg"]) for err in e.errors()] if isinstance(e, ValidationError) \
                else [((), str(e.args[0]))]
            bad = msgs
        for loc, msg in bad:
            where = ", ".join(f"{inp.path} = {v:g}" for inp, v in zip(scenario.uncertainty, values))
            out.append((("uncertainty",), f"at the {q:.1%} quantile ({where}) the scenario is invalid at "
                        f"{'.'.join(map(str, loc))}: {msg}"))
        if bad:
            break
    return out
