"""Parameter sweeps: a grid, Latin hypercube or one-at-a-time design over
scenario fields, replications per point, measures, and expectations judged
with confidence intervals — so a pull request that changes a scenario or the
model can be gated in CI.

Every (point, replication) is keyed by a hash of the resolved scenario, the
seed, the replication and the model version. Each finished one is stored as
its own small JSON file the moment it finishes (written atomically), so a
killed sweep resumes where it stopped, nothing is counted twice, and the final
table is rebuilt in plan order: identical whatever the workers, shards or
interruptions.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from model import __version__
from model.core.limits import MAX_NAME, MAX_REPLICATIONS, MAX_SWEEP_POINTS, Name, Seed
from model.analysis.measures import TABLES
from model.analysis.stats import t_interval
from model.scenario.loader import (ScenarioError, YamlDoc, load_raw, load_scenario, named, outside_tree, project_root,
                       read_yaml_doc, scenario_problems, validate_doc)
from model.scenario.messages import _got, did_you_mean
from model.core.specs import Problem
from model.scenario.schema import Scenario
from model.experiments.runner import Extract, job_key, run_stored, stored_results
from model.scenario.uncertainty import get_path, sample_scenarios, scaled, set_path

# ------------------------------------------------------------------- schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# What a measure may read: table -> (its columns, may it select a node, a stream); from the registry.
MEASURE_TABLES: dict[str, tuple[tuple[str, ...], bool, bool]] = {
    t.name: (tuple(t.measures()), t.entity == "node", t.entity == "stream") for t in TABLES.values() if t.sweepable
}
if TYPE_CHECKING:  # mypy cannot follow a Literal built from the registry: it sees a table name
    MeasureTable = str
else:
    MeasureTable = Literal[tuple(MEASURE_TABLES)]


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
        """Are all its values numbers (so that ``where`` can compare them with one)?"""
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


class Measure(_Strict):
    """One number per replication, read from a result table."""

    name: str
    table: MeasureTable = "corridor"
    column: str
    year: int | None = None
    years: list[int] | None = None
    node: str | None = None
    stream: str | None = None
    agg: Literal["sum", "mean"] = "sum"
    scale: float = 1.0


WhereOp = Literal[">=", "<=", ">", "<", "=="]


class Expectation(_Strict):
    """A statement about a measure, judged on the replications' 95% interval.

    ``op``/``value``: fails only when the interval lies wholly on the wrong side
    (for ``==``: when the interval excludes the value). ``monotone`` along
    ``in`` (a parameter path): fails when a step's paired difference interval
    lies wholly against the direction. ``where`` restricts the points:
    ``{path: {">=": 8}}``.
    """

    name: str | None = None
    measure: str
    op: Literal[">=", "<=", ">", "<", "=="] | None = None
    value: float | None = None
    monotone: Literal["increasing", "decreasing"] | None = None
    in_: str | None = Field(None, alias="in")
    where: dict[str, dict[WhereOp, float]] = {}

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _kind(self) -> "Expectation":
        if (self.op is None) == (self.monotone is None):
            raise ValueError("give either op and value, or monotone and in")
        if self.op is not None and self.value is None:
            raise ValueError("op needs a value")
        if self.monotone is not None and self.in_ is None:
            raise ValueError("monotone needs 'in': the parameter path it runs along")
        return self

    def label(self) -> str:
        if self.name:
            return self.name
        if self.op:
            return f"{self.measure} {self.op} {self.value:g}"
        return f"{self.measure} {self.monotone} in {self.in_}"


class Design(_Strict):
    kind: Literal["grid", "lhs", "oat", "morris"] = "grid"
    n: int | None = Field(None, ge=2, le=MAX_SWEEP_POINTS, description="points for lhs; trajectories for morris")
    levels: int = Field(4, ge=2, le=20, description="grid levels of a Morris design")
    seed: Seed = 0

    @model_validator(mode="after")
    def _lhs_n(self) -> "Design":
        if self.kind == "lhs" and self.n is None:
            raise ValueError("a Latin hypercube needs n, the number of points (an integer >= 2)")
        if self.kind == "morris" and self.n is None:
            raise ValueError("a Morris design needs n, the number of trajectories (an integer >= 2)")
        return self


class SweepSpec(_Strict):
    name: Name
    base: str
    design: Design = Design()
    parameters: list[Parameter] = Field(min_length=1)
    replications: int = Field(3, ge=2, le=MAX_REPLICATIONS)
    seed: Seed | None = None
    measures: list[Measure] = Field(min_length=1)
    expectations: list[Expectation] = []

    @model_validator(mode="after")
    def _size(self) -> "SweepSpec":
        """At most ``limits.MAX_SWEEP_POINTS`` points, counted before any is made."""
        n = self.points_count()
        if n > MAX_SWEEP_POINTS:
            shown = f"{n:,.0f}" if n < 1e15 else "more than 10^15"
            raise Problem(f"this {self.design.kind} design has {shown} points; expected at most {MAX_SWEEP_POINTS:,} "
                          "(the limit): fewer levels, a larger step or a smaller n", "design")
        return self

    def points_count(self) -> float:
        """How many points :func:`design_points` makes, without making them."""
        counts = [p.count() for p in self.parameters]
        kind, n = self.design.kind, self.design.n or 2
        if kind == "grid":
            return math.prod(counts)
        if kind == "oat":
            return 1 + sum(c - 1 for c in counts)
        return n if kind == "lhs" else n * (len(self.parameters) + 1)


_SWEEP_FIELDS = "name, base, design, parameters, replications, measures, expectations"


def check_spec(spec: SweepSpec, base: Scenario) -> list[tuple[tuple, str]]:
    """Cross-field checks, against the base scenario: measures read columns their
    table has, name nodes, streams and years that exist; expectations name
    measures and swept parameters. Each problem is (field path, message)."""
    out: list[tuple[tuple, str]] = []
    years = list(range(base.start_date.year, base.end_date.year + (base.end_date.timetuple().tm_yday > 1)))
    names: dict[str, int] = {}
    for i, m in enumerate(spec.measures):
        at = ("measures", i)
        if m.name in names:
            out.append((at + ("name",), f"duplicate measure name '{m.name}' (also at measures.{names[m.name]})"))
        names.setdefault(m.name, i)
        cols, by_node, by_stream = MEASURE_TABLES[m.table]
        if m.column not in cols:
            out.append((at + ("column",), f"table {m.table} has no column '{m.column}'"
                        f"{did_you_mean(m.column, list(cols))}; expected one of: {', '.join(cols)}"))
        for key, ids, allowed in (("node", base.nodes, by_node), ("stream", base.streams, by_stream)):
            value = getattr(m, key)
            if value is None:
                continue
            if not allowed:
                out.append((at + (key,), f"table {m.table} has no {key} column; expected no '{key}' here"))
            elif value not in ids:
                out.append((at + (key,), f"unknown {key} id '{value}' in the base scenario{did_you_mean(value, list(ids))}; "
                            f"expected one of: {', '.join(ids)}"))
        for y in ([m.year] if m.year is not None else []) + list(m.years or []):
            if y not in years:
                out.append((at + ("year" if m.year is not None else "years",),
                            f"expected a year of the base scenario ({years[0]}-{years[-1]}), got {y}"))
    params = [p.path for p in spec.parameters]
    for i, e in enumerate(spec.expectations):
        at = ("expectations", i)
        if e.measure not in names:
            out.append((at + ("measure",), f"unknown measure '{e.measure}'{did_you_mean(e.measure, list(names))}; "
                        f"expected one of: {', '.join(names)}"))
        for sub, path in [("in", e.in_)] * (e.in_ is not None) + [(("where", p), p) for p in e.where]:
            if path not in params:
                out.append((at + (sub if isinstance(sub, tuple) else (sub,)),
                            f"'{path}' is not a swept parameter{did_you_mean(path, params)}; "
                            f"expected one of: {', '.join(params)}"))
        out += _comparable(spec, e, at)
    return out


def _comparable(spec: SweepSpec, e: Expectation, at: tuple) -> list[tuple[tuple, str]]:
    """``where`` compares a parameter's values with numbers, and ``monotone ... in`` orders
    them: so those values must be numbers (once refused only after every job had run)."""
    out: list[tuple[tuple, str]] = []
    by_path = {p.path: p for p in spec.parameters}
    for sub, path in [(("in",), e.in_ or "")] * (e.in_ is not None) + [(("where", p), p) for p in e.where]:
        p = by_path.get(path)
        if p is not None and not p.numeric():
            out.append((at + sub, f"parameter '{path}' takes values that are not numbers ({_got(p.values)}); "
                        f"expected a parameter with numeric values to {'compare' if sub[0] == 'where' else 'order'}"))
    return out


# ------------------------------------------------------------ loading


@dataclass
class Sweep:
    spec: SweepSpec
    file: Path
    base_file: Path
    base_raw: dict
    points: list[dict[str, Any]]  # parameter path -> value
    scenarios: list[Scenario]
    seed: int
    base: Scenario  # the base scenario, validated


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """The parameter values of every point, in a fixed order."""
    params = spec.parameters
    kind = spec.design.kind
    if kind == "grid":
        return [dict(zip([p.path for p in params], combo)) for combo in itertools.product(*(p.levels() for p in params))]
    if kind == "oat":
        base = {p.path: (p.base if p.base is not None else p.levels()[len(p.levels()) // 2]) for p in params}
        out = [dict(base)]
        for p in params:
            for v in p.levels():
                if v != base[p.path]:
                    out.append({**base, p.path: v})
        return out
    if kind == "morris":
        return morris_points(spec)
    # Latin hypercube: n strata per parameter, one point in each, shuffled per parameter
    n = spec.design.n or 2
    rng = np.random.default_rng(spec.design.seed)
    cols = []
    for p in params:
        u = (rng.permutation(n) + rng.random(n)) / n
        if p.values is not None:
            levels = p.levels()
            col = [levels[min(int(x * len(levels)), len(levels) - 1)] for x in u]
        else:
            if p.low is not None:
                assert p.high is not None  # Parameter._one_way: low needs a larger high
                lo, hi = p.low, p.high
            else:
                r = cast(RangeSpec, p.range)
                lo, hi = r.start, r.stop
            col = [lo + x * (hi - lo) for x in u]
            if p.integer:
                col = [int(round(v)) for v in col]
            else:
                col = [round(float(v), 6) for v in col]
        cols.append(col)
    return [dict(zip([p.path for p in params], vals)) for vals in zip(*cols)]


def _bounds(p: Parameter) -> tuple[float, float]:
    if p.low is not None and p.high is not None:
        return p.low, p.high
    levels = [float(v) for v in p.levels()]
    return min(levels), max(levels)


def morris_problem(spec: SweepSpec) -> dict:
    """The SALib problem of a Morris design: each parameter's path and (low, high)."""
    return {"num_vars": len(spec.parameters), "names": [p.path for p in spec.parameters],
            "bounds": [list(_bounds(p)) for p in spec.parameters]}


def morris_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """Morris elementary-effects trajectories (SALib): n x (parameters + 1) points on a
    ``levels``-level grid between each parameter's low and high."""
    from SALib.sample import morris as morris_sample

    x = morris_sample.sample(morris_problem(spec), N=spec.design.n or 2, num_levels=spec.design.levels,
                             seed=spec.design.seed)
    return [{p.path: (int(round(v)) if p.integer else round(float(v), 9)) for p, v in zip(spec.parameters, row)}
            for row in x]


def morris_indices(spec: SweepSpec, summary: pd.DataFrame) -> pd.DataFrame:
    """Per measure and parameter: Morris mu* (mean absolute elementary effect, in the
    measure's units over the parameter's range), its 95% bootstrap interval half-width
    and sigma (interaction or non-linearity), from the points' means over replications."""
    from SALib.analyze import morris as morris_analyze

    problem = morris_problem(spec)
    x = np.array([[point[p.path] for p in spec.parameters] for point in design_points(spec)], dtype=float)
    rows = []
    for m, g in summary.groupby("measure", sort=False):
        y = g.sort_values("point")["mean"].to_numpy(dtype=float)
        res = morris_analyze.analyze(problem, x, y, num_levels=spec.design.levels, seed=spec.design.seed)
        for j, name in enumerate(problem["names"]):
            rows.append({"measure": m, "parameter": name, "mu_star": float(res["mu_star"][j]),
                         "mu_star_conf": float(res["mu_star_conf"][j]), "sigma": float(res["sigma"][j])})
    return pd.DataFrame(rows).sort_values(["measure", "mu_star"], ascending=[True, False], kind="stable")


def _blamed_parameter(spec: SweepSpec, loc: tuple) -> int:
    """The parameter whose path shares the longest start with an error's field path."""
    def common(path: str) -> int:
        n = 0
        for a, b in zip(path.split("."), map(str, loc)):
            if a != b:
                break
            n += 1
        return n
    return max(range(len(spec.parameters)), key=lambda j: common(spec.parameters[j].path))


def point_scenarios(spec: SweepSpec, base_raw: dict, doc: YamlDoc) -> tuple[list[Scenario], list[str]]:
    """The scenario of every point, and problems (each kind once, at the parameter
    it comes from, naming the first point that shows it)."""
    scenarios: list[Scenario] = []
    problems: dict[tuple, str] = {}
    for i, point in enumerate(design_points(spec)):
        data = copy.deepcopy(base_raw)
        data["name"] = f"{spec.name[:MAX_NAME - 5]}-p{i:03d}"  # at most 1,000 points: p000-p999
        found: list[tuple[tuple, str]] = []
        for j, (path, value) in enumerate(point.items()):
            try:
                if spec.parameters[j].apply == "scale":
                    value = scaled(get_path(data, path), value)
                set_path(data, path, value)
            except KeyError as e:
                found.append((("parameters", j, "path"), f"cannot set it in the base scenario: {e.args[0]}"))
        s = None
        if not found:
            s, bad = scenario_problems(data)
            found = [(("parameters", _blamed_parameter(spec, loc)),
                      f"gives an invalid scenario at {'.'.join(map(str, loc))}: {msg}") for loc, msg in bad]
        for loc, msg in found:
            problems.setdefault((loc, msg), doc.problem(loc, f"{msg} (first at point {i}: {point})"))
        if s is not None:
            scenarios.append(s)
    return scenarios, list(problems.values())


def load_sweep(path: str | Path, *, allow_outside: bool = False) -> Sweep:
    """Read and validate a sweep file, its base scenario and every scenario it
    makes; ScenarioError listing every problem (``FILE:LINE: field.path: ...``).
    The base and its parents must lie in the sweep file's project tree
    (:func:`~model.scenario.loader.project_root`) unless ``allow_outside``. A ``path``
    that does not exist may name a library sweep (``tripp_delay``)."""
    path = named(path, "sweep")
    doc = read_yaml_doc(path, "sweep", _SWEEP_FIELDS)
    spec, problems = validate_doc(SweepSpec, doc)
    problems = doc.issues + problems
    if spec is None:
        raise ScenarioError(problems)
    base_file = path.parent / spec.base
    if not base_file.is_file():
        raise ScenarioError(problems + [doc.problem(("base",), f"base scenario '{spec.base}' not found (looked for "
                                                    f"{base_file}; expected a path relative to the sweep file's folder)")])
    root = None if allow_outside else project_root(path)
    outside = outside_tree(base_file, root, f"{path}: base")
    if outside:
        raise ScenarioError(problems + [doc.problem(("base",), outside)])
    base = load_scenario(base_file, root=root, allow_outside=allow_outside)  # its own mistakes, file and lines
    problems += [doc.problem(loc, msg) for loc, msg in check_spec(spec, base)]
    if problems:
        raise ScenarioError(problems)
    base_raw, _, _ = load_raw(base_file, root=root)
    scenarios, problems = point_scenarios(spec, base_raw, doc)
    if problems:
        raise ScenarioError(problems)
    seed = spec.seed if spec.seed is not None else base.seed
    return Sweep(spec, path, base_file, base_raw, design_points(spec), scenarios, seed, base)


# ------------------------------------------------------------- running


def measure_values(t: dict[str, pd.DataFrame], measures: list[Measure]) -> dict[str, float]:
    out = {}
    for m in measures:
        df = t[m.table]
        if m.year is not None:
            df = df[df["year"] == m.year]
        if m.years is not None:
            df = df[df["year"].isin(m.years)]
        if m.node is not None:
            df = df[df["node"] == m.node]
        if m.stream is not None:
            df = df[df["stream"] == m.stream]
        col = df[m.column]
        v = col.sum() if m.agg == "sum" else col.mean()
        out[m.name] = float(v) * m.scale
    return out


def pending(store: Path, jobs: list[tuple[int, int, Scenario, str]]) -> int:
    """How many distinct jobs have no (whole) stored result yet."""
    keys = [j[3] for j in jobs]
    return len(set(keys) - set(stored_results(store, keys, quiet=True)))


def plan(sweep: Sweep, shard: tuple[int, int] | None = None) -> list[tuple[int, int, Scenario, str]]:
    """(point index, replication, scenario, key) of the jobs this run owns.

    A shard I/N owns the points whose index is I-1 modulo N."""
    jobs = []
    for i, s in enumerate(sweep.scenarios):
        if shard and i % shard[1] != shard[0] - 1:
            continue
        for k, drawn in enumerate(sample_scenarios(s, sweep.spec.replications, sweep.seed)):
            jobs.append((i, k, drawn, job_key(drawn, sweep.seed, k)))
    return jobs


def execute(sweep: Sweep, store: Path, jobs: list[tuple[int, int, Scenario, str]], workers: int = 1,
            scheduler: str | None = None, on_done: Callable[[int, int], None] | None = None) -> int:
    """Run the jobs not yet in ``store`` (each result is stored as it finishes, by
    :func:`model.experiments.runner.run_stored`: Ctrl-C and failing jobs behave as there), on
    ``workers`` local processes or the Dask ``scheduler``. Returns how many ran."""
    point_of = {(s.name, k): i for i, k, s, _ in jobs}
    todo = pending(store, jobs)

    def done(s: Scenario, k: int) -> None:
        if on_done:
            on_done(point_of[(s.name, k)], k)

    keyed = [(key, s, k) for _, k, s, key in jobs]
    extract = Extract(partial(measure_values, measures=sweep.spec.measures),
                      frozenset(m.table for m in sweep.spec.measures))
    if scheduler:
        from dask.distributed import Client

        with Client(scheduler) as client:
            run_stored(keyed, store, sweep.seed, extract, on_done=done, executor=client.get_executor(pure=False))
    else:
        run_stored(keyed, store, sweep.seed, extract, workers, done)
    return todo


def collect(sweep: Sweep, store: Path, jobs: list[tuple[int, int, Scenario, str]]) -> pd.DataFrame:
    """The tidy table (point x replication x measure) in plan order; missing jobs are an error."""
    stored = stored_results(store, [j[3] for j in jobs], quiet=True)
    rows = []
    for i, k, s, key in jobs:
        if key not in stored:
            raise FileNotFoundError(f"result of point {i} replication {k} is missing from {store}")
        values = cast(dict[str, float], stored[key])
        for m in sweep.spec.measures:
            rows.append({"point": i, **{f"param:{kk}": v for kk, v in sweep.points[i].items()},
                         "replication": k, "measure": m.name, "value": values[m.name]})
    return pd.DataFrame(rows)


def summarise_points(table: pd.DataFrame) -> pd.DataFrame:
    params = [c for c in table.columns if c.startswith("param:")]
    rows = []
    for (point, measure), g in table.groupby(["point", "measure"], sort=True):
        mean, sd, lo, hi = t_interval(g["value"].to_numpy())
        rows.append({"point": point, **g.iloc[0][params].to_dict(), "measure": measure, "n": len(g),
                     "mean": mean, "sd": sd, "ci95_lo": lo, "ci95_hi": hi})
    return pd.DataFrame(rows)


# ---------------------------------------------------------- expectations


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
}


def _selected(point: dict[str, Any], where: dict[str, dict[WhereOp, float]]) -> bool:
    return all(_OPS.get(op, lambda a, b: a == b)(point[path], v) for path, conds in where.items()
               for op, v in conds.items())


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    """(mean, lo, hi); a constant sample is its own interval."""
    mean, sd, lo, hi = t_interval(values)
    if not np.isfinite(lo) or sd == 0:
        return mean, mean, mean
    return mean, lo, hi


def judge(sweep: Sweep, table: pd.DataFrame) -> list[dict]:
    """Every expectation at every point it covers: passed or failed, with the figures."""
    out = []
    by = {(p, m): g.sort_values("replication")["value"].to_numpy()
          for (p, m), g in table.groupby(["point", "measure"])}
    present = sorted(table["point"].unique())
    for e in sweep.spec.expectations:
        pts = [i for i in present if _selected(sweep.points[i], e.where)]
        if e.op:
            assert e.value is not None  # Expectation._kind: op needs a value
            for i in pts:
                mean, lo, hi = _interval(by[(i, e.measure)])
                if e.op == "==":
                    ok = lo <= e.value <= hi
                elif e.op in (">=", ">"):
                    ok = _OPS[e.op](hi, e.value) or (e.op == ">" and hi == e.value and mean > e.value)
                else:
                    ok = _OPS[e.op](lo, e.value)
                out.append({"expectation": e.label(), "point": i, "params": sweep.points[i], "passed": bool(ok),
                            "detail": f"mean {mean:.4g}, 95% CI [{lo:.4g}, {hi:.4g}] vs {e.op} {e.value:g}"})
        else:
            assert e.in_ is not None  # Expectation._kind: monotone needs 'in'
            along: str = e.in_
            others = [p for p in sweep.points[0] if p != e.in_]
            groups: dict[tuple, list[int]] = {}
            for i in pts:
                groups.setdefault(tuple(sweep.points[i][p] for p in others), []).append(i)
            sign = 1.0 if e.monotone == "increasing" else -1.0
            for _, idx in groups.items():
                idx.sort(key=lambda i: sweep.points[i][along])
                for a, b in zip(idx, idx[1:]):
                    diff = sign * (by[(b, e.measure)] - by[(a, e.measure)])
                    mean, lo, hi = _interval(diff)
                    ok = hi >= 0
                    out.append({"expectation": e.label(), "point": b,
                                "params": {e.in_: f"{sweep.points[a][e.in_]} -> {sweep.points[b][e.in_]}",
                                           **{p: sweep.points[b][p] for p in others}},
                                "passed": bool(ok),
                                "detail": f"paired change {sign * mean:+.4g}, 95% CI "
                                          f"[{min(sign * lo, sign * hi):+.4g}, {max(sign * lo, sign * hi):+.4g}]"})
    return out


def compare_baseline(summary: pd.DataFrame, baseline: pd.DataFrame, tolerance: float) -> list[dict]:
    """Points x measures whose mean moved more than ``tolerance`` (relative) from an earlier sweep's summary."""
    key = ["point", "measure"]
    j = summary.merge(baseline[key + ["mean"]], on=key, suffixes=("", "_baseline"), how="left")
    out = []
    for r in j.itertuples():
        ref = r.mean_baseline
        if pd.isna(ref):
            out.append({"point": r.point, "measure": r.measure, "passed": False, "detail": "not in the baseline"})
            continue
        rel = abs(r.mean - ref) / max(abs(ref), 1e-12)
        out.append({"point": r.point, "measure": r.measure, "passed": rel <= tolerance,
                    "detail": f"{r.mean:.4g} vs baseline {ref:.4g} ({rel:+.1%}, tolerance {tolerance:.1%})"})
    return out


# ------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class SweepResults:
    """A finished (or resumed) sweep: the tidy table (point x replication x
    measure), the per-point summary with 95% intervals, every expectation's
    verdict and, against an earlier sweep, each point's change."""

    sweep: Sweep
    table: pd.DataFrame
    summary: pd.DataFrame
    expectations: pd.DataFrame
    baseline_comparison: pd.DataFrame
    jobs: int
    jobs_run_now: int
    wall_s: float
    shard: tuple[int, int] | None = None
    sensitivity: pd.DataFrame | None = None  # Morris indices per measure and parameter (design morris)

    @property
    def failed(self) -> list[dict]:
        """Failed expectations and baseline points that moved beyond the tolerance."""
        rows = [r for r in self.expectations.to_dict("records") if not r["passed"]]
        return rows + [r for r in self.baseline_comparison.to_dict("records") if not r["passed"]]

    def write(self, out: str | Path) -> Path:
        """Tables, plots, the sweep file and its resolved base scenario, and the
        manifest into the sweep folder. The manifest says ``running`` while the
        tables are replaced and is written last, with ``status: complete`` and each
        table's SHA-256: a complete manifest always describes the tables beside it."""
        from model.outputs.folders import git_commit, package_versions, scenario_yaml, write_file_atomic
        from model.outputs.plots import sweep_plots

        out = Path(out)
        sw = self.sweep
        identity = _mark_running(sw, out)
        digests: dict[str, str] = {}

        def put(name: str, text: str | None) -> None:  # None: this run has no such table (remove an old one)
            if text is None:
                (out / name).unlink(missing_ok=True)
                return
            write_file_atomic(out / name, text)
            digests[name] = hashlib.sha256(text.encode()).hexdigest()

        put("sweep.csv", self.table.to_csv(index=False))  # full precision: a baseline later
        put("summary.csv", self.summary.to_csv(index=False))
        put("expectations.csv", self.expectations.to_csv(index=False))
        put("baseline_comparison.csv",
            None if self.baseline_comparison.empty else self.baseline_comparison.to_csv(index=False))
        put("sensitivity.csv", None if self.sensitivity is None else self.sensitivity.to_csv(index=False))
        put("sweep.yaml", sw.file.read_text(encoding="utf-8"))
        put("base-scenario.yaml", scenario_yaml(sw.base))
        shutil.rmtree(out / "plots", ignore_errors=True)  # no chart of an earlier run stays
        sweep_plots(self.summary, sw.spec.design.kind, out / "plots", sw.spec.name)
        if self.sensitivity is not None:
            from model.outputs.plots import morris_chart

            morris_chart(self.sensitivity, sw.spec.name, sw.spec.design.n or 0, out / "plots")
        manifest = {**identity, "seed": sw.seed, "replications": sw.spec.replications, "points": len(sw.points),
                    "shard": f"{self.shard[0]}/{self.shard[1]}" if self.shard else None,
                    "jobs": self.jobs, "jobs_run_now": self.jobs_run_now, "versions": package_versions(),
                    "git_commit": git_commit(), "wall_s": round(self.wall_s, 3), "expectations_failed": len(self.failed),
                    "sha256": digests, "status": "complete"}
        write_file_atomic(out / MANIFEST, json.dumps(manifest, indent=2))
        return out


# ------------------------------------------------------------- the folder

MANIFEST = "manifest.json"


class NotThisSweepsFolder(Exception):
    """An output folder that holds something other than this sweep: never resumed into."""


def definition_sha256(sweep: Sweep) -> str:
    """Hash of the resolved sweep definition: the sweep as read, its seed and every
    point's resolved scenario (an edit to the sweep file or its base scenario changes it)."""
    blob = json.dumps({"spec": sweep.spec.model_dump(mode="json"), "seed": sweep.seed,
                       "scenarios": [s.model_dump(mode="json") for s in sweep.scenarios]},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _read_manifest(out: Path) -> dict | None:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _mark_running(sweep: Sweep, out: Path) -> dict:
    """Write the manifest of an unfinished sweep folder (what sweep it is, ``running``);
    returns the identity fields."""
    from model.outputs.folders import write_file_atomic

    identity = {"kind": "sweep", "sweep": str(sweep.file), "name": sweep.spec.name,
                "sweep_sha256": definition_sha256(sweep)}
    write_file_atomic(out / MANIFEST, json.dumps({**identity, "status": "running"}, indent=2))
    return identity


def claim_folder(sweep: Sweep, out: Path) -> None:
    """Make ``out`` this sweep's folder. A new or empty folder is claimed; a folder
    holding anything must be a sweep folder of the same resolved definition (its
    manifest's ``sweep_sha256``), else :class:`NotThisSweepsFolder`. The manifest then
    says ``running`` until :meth:`SweepResults.write` completes the folder."""
    out = Path(out)
    if out.is_dir() and any(out.iterdir()):
        man = _read_manifest(out)
        if man is None or man.get("kind") != "sweep":
            raise NotThisSweepsFolder(f"{out} is not a sweep folder (no sweep manifest.json in it); "
                                      "choose another folder")
        if man.get("sweep_sha256") != definition_sha256(sweep):
            raise NotThisSweepsFolder(
                f"{out} holds another sweep: {sweep.file} or its base scenario changed since that folder "
                f"was made (its manifest's sweep_sha256 differs); run the edited sweep into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    _mark_running(sweep, out)


def run_sweep(path: str | Path | Sweep, out: str | Path, *, workers: int = 1, scheduler: str | None = None,
              shard: tuple[int, int] | None = None, baseline: pd.DataFrame | None = None, tolerance: float = 0.05,
              progress: Callable[[int, int], None] | None = None) -> SweepResults:
    """Run the jobs of a sweep not yet stored in ``out/jobs`` (so a second call
    with the same ``out`` resumes; ``out`` must be new, empty or this sweep's folder:
    :func:`claim_folder`), then gather, summarise and judge them.
    ``progress(point, replication)`` is called as each job finishes."""
    import time

    sweep = path if isinstance(path, Sweep) else load_sweep(path)
    claim_folder(sweep, Path(out))
    jobs = plan(sweep, shard)
    t0 = time.perf_counter()
    ran = execute(sweep, Path(out) / "jobs", jobs, workers, scheduler, on_done=progress)
    wall = time.perf_counter() - t0
    table = collect(sweep, Path(out) / "jobs", jobs)
    summary = summarise_points(table)
    verdicts = pd.DataFrame(judge(sweep, table), columns=["expectation", "point", "params", "passed", "detail"])
    base_cmp = pd.DataFrame(compare_baseline(summary, baseline, tolerance) if baseline is not None else [],
                            columns=["point", "measure", "passed", "detail"])
    sensitivity = morris_indices(sweep.spec, summary) if sweep.spec.design.kind == "morris" and not shard else None
    return SweepResults(sweep, table, summary, verdicts, base_cmp, len(jobs), ran, wall, shard, sensitivity)
