"""Sweep files: what a sweep varies (parameters and a design: ``model.experiments.designs``),
over which base scenario, with how many replications, what it measures and what it expects;
read and validated in one pass (the file, its base scenario, every point's scenario), with
the same ``FILE:LINE: field.path: ...`` messages as scenario files."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from model.analysis.measures import TABLES
from model.core.limits import MAX_JOBS, MAX_NAME, MAX_REPLICATIONS, MAX_SWEEP_POINTS, Name, Seed
from model.core.specs import Problem
from model.experiments.designs import AnyDesign, Grid, Parameter
from model.scenario.checks import formula_problems
from model.scenario.loader import (ScenarioError, YamlDoc, load_raw, load_scenario, outside_tree, project_root,
                                   named, read_yaml_doc, scenario_problems, validate_doc)
from model.scenario.messages import _got, did_you_mean
from model.scenario.schema import Scenario
from model.scenario.uncertainty import get_path, scaled, set_path


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


class SweepSpec(_Strict):
    name: Name
    base: str
    design: AnyDesign = Grid()
    parameters: list[Parameter] = Field(min_length=1)
    replications: int = Field(3, ge=2, le=MAX_REPLICATIONS)
    seed: Seed | None = None
    measures: list[Measure] = Field(min_length=1)
    expectations: list[Expectation] = []

    @model_validator(mode="after")
    def _size(self) -> "SweepSpec":
        """At most ``limits.MAX_SWEEP_POINTS`` points, counted before any is made."""
        n = self.points_count()
        if n <= MAX_SWEEP_POINTS and n * self.replications > MAX_JOBS:
            raise Problem(f"{n:,.0f} points x {self.replications} replications is {n * self.replications:,.0f} jobs; "
                          f"expected at most {MAX_JOBS:,} (the limit)", "replications")
        if n > MAX_SWEEP_POINTS:
            shown = f"{n:,.0f}" if n < 1e15 else "more than 10^15"
            raise Problem(f"this {self.design.kind} design has {shown} points; expected at most {MAX_SWEEP_POINTS:,} "
                          "(the limit): fewer levels, a larger step or a smaller n", "design")
        return self

    def points_count(self) -> float:
        """How many points the design makes, without making them."""
        return self.design.count(self.parameters)

    def points(self) -> list[dict[str, Any]]:
        """The parameter values of every point, in a fixed order."""
        return self.design.points(self.parameters)


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
    out += spec.design.problems(spec.parameters)
    out += formula_problems({"name": spec.name, "measures": [{"name": m.name} for m in spec.measures],
                             "expectations": [{"name": e.name} if e.name else {} for e in spec.expectations],
                             "parameters": [{"path": p.path} for p in spec.parameters]})
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
    for i, point in enumerate(spec.points()):
        data = copy.deepcopy(base_raw)
        # at most 1,000 points: p000-p999; the name cut to leave room for them, in bytes
        data["name"] = spec.name.encode()[:MAX_NAME - 5].decode("utf-8", "ignore") + f"-p{i:03d}"
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
    return Sweep(spec, path, base_file, base_raw, spec.points(), scenarios, seed, base)



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
