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
import itertools
import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from model.core.distributions import SHAPES, Dist, Fixed, as_any_distribution
from model.core.limits import Magnitude
from model.core.specs import Strict

LOW_Q, HIGH_Q = 0.001, 0.999
"""Draws are truncated to these quantiles, the range ``validate`` checks (an unbounded normal or
lognormal would otherwise, now and then, draw a value no check has seen)."""


_PARAMETERS = ("low", "high", "mode", "mean", "cv", "sd")
"""The parameters an uncertain input may give, flat beside ``path`` and ``dist``: those of every shape
of ``model.core.distributions`` (a shape with a parameter of another name fails here, at import)."""
_SHAPES = {name: tuple(f for f, info in cls.model_fields.items() if f != "dist" and info.is_required())
           for name, cls in SHAPES.items() if name != "fixed"}
assert all(set(need) <= set(_PARAMETERS) for need in _SHAPES.values()), "add the new parameter to _PARAMETERS"
if TYPE_CHECKING:  # mypy cannot follow a Literal built from the registry: it sees a text
    ShapeName = str
else:
    ShapeName = Literal[tuple(_SHAPES)]


class UncertainInput(Strict):
    """One uncertain scenario field: ``path``, a distribution (any shape of the family durations
    use, ``model.core.distributions``: here with any real values; a new shape there is usable here
    as it is), and whether the draw replaces the field's value (``set``) or multiplies it
    (``scale``: every number of a timeline, a list of monthly rates, a demand path)."""

    path: str
    dist: ShapeName
    low: Magnitude | None = None
    high: Magnitude | None = None
    mode: Magnitude | None = None
    mean: Magnitude | None = None
    cv: Magnitude | None = None
    sd: Magnitude | None = None
    apply: Literal["set", "scale"] = "set"
    integer: bool = Field(False, description="Round the draw to a whole number (fleets, berths)")

    @model_validator(mode="after")
    def _parameters(self) -> "UncertainInput":
        need = _SHAPES[self.dist]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(need)}; missing {', '.join(missing)}")
        extra = [f for f in _PARAMETERS if f not in need and getattr(self, f) is not None]
        if extra:
            raise ValueError(f"a {self.dist} distribution takes {', '.join(need)}; not {', '.join(extra)}")
        try:
            self.distribution()
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(x) for x in err["loc"][1:])
            raise ValueError(f"{where + ': ' if where else ''}{err['msg'].removeprefix('Value error, ')} "
                             f"(got {', '.join(f'{f} {getattr(self, f):g}' for f in need)})") from None
        return self

    def distribution(self) -> Dist:
        """The distribution this input is drawn from (a range of zero width is a fixed value)."""
        if self.low is not None and self.low == self.high and self.dist in ("uniform", "triangular"):
            return Fixed(value=self.low)
        return as_any_distribution({"dist": self.dist, **{f: getattr(self, f) for f in _PARAMETERS
                                                          if getattr(self, f) is not None}})

    def quantile(self, u: float) -> float:
        """The value at probability ``u``, truncated to the ``LOW_Q``-``HIGH_Q`` quantiles (the range
        ``validate`` checks) and rounded if ``integer``.

        >>> UncertainInput(path="x", dist="triangular", low=6, mode=8, high=10).quantile(0.5)
        8.0
        >>> x = UncertainInput(path="x", dist="normal", mean=0, sd=1)
        >>> x.quantile(1e-9) == x.quantile(0.001)   # truncated to the checked range
        True
        """
        d = self.distribution()
        lo, v, hi = (float(x) for x in d.quantile(np.array([LOW_Q, u, HIGH_Q])))
        v = min(max(v, lo), hi)
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


def _key(mapping: dict, part: str) -> Any:
    """The key of ``mapping`` that ``part`` names: the year of a volume table is an int key in a raw
    scenario (``streams.x.volume_mt_per_year.2030``) and a str key once dumped to JSON."""
    if part not in mapping and part.isdigit() and int(part) in mapping:
        return int(part)
    return part


def get_path(data: dict, dotted: str) -> Any:
    """The value at a dotted path, walked as :func:`set_path` walks it; KeyError if absent."""
    from model.scenario.messages import did_you_mean

    cur: Any = data
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        nxt = cur.get(_key(cur, part)) if isinstance(cur, dict) else _item(cur, part) if isinstance(cur, list) else None
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
            part = _key(cur, part)
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




class DrawError(ValueError):
    """Replications whose drawn inputs make an invalid scenario (``problems``: one line each)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _problems_of(base: dict, inputs: list[UncertainInput], values: list[float]) -> tuple[Any, list[tuple[tuple, str]]]:
    """The scenario with these values of the inputs, and its problems as (field path, message):
    the schema, then every cross-field rule (references, routes, what must fit where, limits)."""
    from model.scenario.checks import check_limits, check_references, check_routes
    from model.scenario.schema import Scenario

    try:
        s = Scenario.model_validate(apply_values(base, inputs, values))
    except ValidationError as e:
        return None, [(tuple(err["loc"]), err["msg"].removeprefix("Value error, ")) for err in e.errors()]
    except KeyError as e:
        return None, [((), str(e.args[0]))]
    bad = check_references(s) + check_routes(s)
    return s, bad or check_limits(s)


def _fixed(scenario: Any) -> dict:
    base = scenario.model_dump(mode="json")
    base["uncertainty"] = []
    return base


def sample_scenarios(scenario: Any, n: int, seed: int) -> list[Any]:
    """The scenario of each of ``n`` replications: row k of a seeded Latin hypercube
    through each input's (truncated) quantile function (the scenario itself n times when it
    has no uncertain input). Each has an empty ``uncertainty``: its inputs are now fixed.
    Every draw is checked as a scenario file is: :class:`DrawError` names the replications
    whose draws break a rule (``validate`` checks the joint extremes, so this is a last guard)."""
    if not scenario.uncertainty:
        return [scenario] * n
    inputs = list(scenario.uncertainty)
    u = hypercube(n, len(inputs), seed)
    base = _fixed(scenario)
    out, problems = [], []
    for k in range(n):
        values = [inp.quantile(float(u[k, j])) for j, inp in enumerate(inputs)]
        s, bad = _problems_of(base, inputs, values)
        for loc, msg in bad[:3]:
            problems.append(f"uncertainty: replication {k + 1} draws {_shown(inputs, values)}: the scenario is then "
                            f"invalid at {'.'.join(map(str, loc))}: {msg}")
        out.append(s)
    if problems:
        raise DrawError(problems)
    return out


def _shown(inputs: list[UncertainInput], values: list[float]) -> str:
    return ", ".join(f"{inp.path} = {v:g}" for inp, v in zip(inputs, values))


MAX_CORNERS = 64
"""Up to this many corners (2^inputs) every combination of extremes is checked. With more inputs,
the corners where one input sits at one end and all the others at the other end, besides all-low
and all-high: the worst corner of any rule that is monotone in each input and where at most one of
its inputs hurts at the opposite end from the rest (a shipment larger than a vessel, a sum over a
limit) is among them, for 2n + 3 checks instead of 2^n. The draws themselves are checked before a
run simulates anything, so a rule of another shape is still refused, in one line, before it runs."""


def extremes(n: int) -> list[tuple[float, ...]]:
    """Quantile combinations ``validate`` checks for ``n`` inputs: the median, and the joint
    extremes (every corner when 2^n <= MAX_CORNERS, else all-low, all-high and each input at one
    end with the rest at the other).

    >>> len(extremes(2)), len(extremes(7)) == 3 + 2 * 7
    (5, True)
    """
    mid = (0.5,) * n
    if 2**n <= MAX_CORNERS:
        return [mid, *itertools.product((LOW_Q, HIGH_Q), repeat=n)]
    out = [mid, (LOW_Q,) * n, (HIGH_Q,) * n]
    for i in range(n):
        for a, b in ((LOW_Q, HIGH_Q), (HIGH_Q, LOW_Q)):
            q = [b] * n
            q[i] = a
            out.append(tuple(q))
    return out


def uncertainty_problems(scenario: Any) -> list[tuple[tuple, str]]:
    """(field path, message) for uncertain inputs that cannot be applied, or that give an
    invalid scenario at their joint extremes (:func:`extremes`): what ``validate`` checks so
    that ``run`` cannot fail on a draw (draws are truncated to the checked range)."""
    out: list[tuple[tuple, str]] = []
    base = _fixed(scenario)
    inputs = list(scenario.uncertainty)
    for i, inp in enumerate(inputs):
        try:
            if inp.apply == "set" and inp.path.startswith("delays.projects."):
                set_path(copy.deepcopy(base), inp.path, inp.quantile(0.5))  # a delay item may be created
            else:
                current = get_path(base, inp.path)
                if inp.apply == "scale" and not _has_number(current):
                    out.append((("uncertainty", i, "apply"), f"'{inp.path}' holds no number to scale"))
        except KeyError as e:
            out.append((("uncertainty", i, "path"), f"cannot find it in the scenario: {e.args[0]}"))
    paths = [inp.path for inp in inputs]
    for i, path in enumerate(paths):
        if path in paths[:i]:
            out.append((("uncertainty", i, "path"), f"'{path}' is also uncertain input {paths.index(path)}; "
                        "expected each path once"))
    if out:
        return out
    # valuation inputs (the appraisal's values, investment costs) enter no rule with another field:
    # they are checked all at one end, then all at the other; the others at their joint extremes
    sim = [i for i, inp in enumerate(inputs) if not valuation_only(inp.path)]
    val = [i for i in range(len(inputs)) if i not in sim]
    combos = [tuple(qs[sim.index(i)] if i in sim else 0.5 for i in range(len(inputs))) for qs in extremes(len(sim))]
    combos += [tuple(q if i in val else 0.5 for i in range(len(inputs))) for q in (LOW_Q, HIGH_Q)] if val else []
    for qs in combos:
        values = [inp.quantile(q) for inp, q in zip(inputs, qs)]
        _, bad = _problems_of(base, inputs, values)
        for loc, msg in bad[:3]:
            out.append((("uncertainty",), f"where {_shown(inputs, values)} (quantiles "
                        f"{', '.join(f'{q:.1%}' for q in qs)}) the scenario is invalid at "
                        f"{'.'.join(map(str, loc))}: {msg}"))
        if bad:
            break
    return out


def valuation_only(path: str) -> bool:
    """An input that changes no simulated flow and enters no cross-field rule: the appraisal's values
    and the investments' costs."""
    return path.startswith("appraisal.") or (path.startswith("investments.") and path.endswith(".cost_musd"))


def _has_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, list):
        return any(_has_number(v) for v in value)
    if isinstance(value, dict):
        return any(_has_number(v) for k, v in value.items() if k not in ("dist", "cv"))
    return False
