"""A static capacity bound: the most corridor cargo the network could carry in a year.

For each calendar year, a max-flow over the corridor network (networkx) whose
node capacities are the year's available capacity in tonnes (``capacity_t`` of
the node table, averaged over replications):

* every node is split in two (``n:in -> n:out``) and that edge carries the
  node's capacity; nodes without a capacity (borders) are unlimited;
* a super-source feeds the first node of every corridor stream (background
  streams excluded); each route step links to the next (a choice links to the
  first node of each option, and the last node of each option to the step after
  the choice); the last node of a route feeds the super-sink.

The graph is the union of the routes, so flow could follow a path that no single
stream takes (A's head with B's tail): that can only make the bound larger, so
it stays an upper bound. Demand is not a limit (a *capacity* bound).

**Background streams** (other traffic at shared nodes, ``background: true``):
their expected tonnes in the year are *subtracted* from the capacity of every
node they use (split by ``shares`` at a fixed-shares choice; not subtracted at a
least-delay choice, whose split is not known in advance, which keeps the bound an
upper bound). This assumes background traffic keeps its volume, as a port gives
its own non-corridor traffic; if a shared node is saturated by corridor cargo,
first-come-first-served service gives the background less than its volume and
the corridor could then exceed the bound by at most that shortfall. Pass
``background="ignore"`` for a bound that holds regardless (and is looser).

**What the bound means.** It limits the *expected* corridor tonnes delivered in
a year; single replications fluctuate around their mean (Poisson service
completions, weather), so compare the mean over replications. It is a static,
year-by-year bound: cargo queued in one year downstream of a node that binds in
the next year (a backlog in front of a rail line that is then expanded) can be
delivered on top of the next year's bound. That happens when a downstream
capacity opens (e.g. TRIPP draining a BTK queue); in a scenario whose capacities
do not step up, delivered <= bound holds year by year.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd

from model.engine.demand import expected_tonnes_by_year
from model.scenario.route import Route
from model.scenario.schema import Scenario
from model.core.years import YearGrid

SOURCE, SINK = "__source__", "__sink__"


def _numbered(g: nx.DiGraph) -> tuple[nx.DiGraph, int, int, list[Any]]:
    """``g`` with its nodes numbered in the order they were added (and the numbers of SOURCE and SINK,
    and the names by number): networkx's max-flow (preflow-push) keeps its active nodes in sets, whose
    order for string names follows Python's per-process hash seed, so the same graph gave flows that
    differed in the last bit from one process to the next; numbered nodes come out of a set in one order."""
    names = list(g.nodes)
    h = nx.convert_node_labels_to_integers(g, ordering="default")
    return h, names.index(SOURCE), names.index(SINK), names


# ------------------------------------------------------------------ inputs

def node_capacity_from_tables(annual_nodes: pd.DataFrame, scenario: str | None = None) -> pd.DataFrame:
    """Mean ``capacity_t`` per year x node over replications (a wide table:
    index year, one column per node; NaN = unlimited)."""
    df = annual_nodes if scenario is None else annual_nodes[annual_nodes["scenario"] == scenario]
    return df.groupby(["year", "node"])["capacity_t"].mean().unstack("node")


def _capacity_lookup(node_capacity_t: pd.DataFrame | Mapping, years: list[int]) -> dict[int, dict[str, float]]:
    """Normalise the accepted forms to {year: {node: tonnes}}.

    Accepted: a wide DataFrame (index year, columns node), a long DataFrame with
    columns ``year``, ``node``, ``capacity_t`` (averaged over other columns), or a
    dict keyed by year ({year: {node: t}}) or by node ({node: {year: t}} or
    {node: sequence aligned with the scenario's years})."""
    if isinstance(node_capacity_t, pd.DataFrame):
        df = node_capacity_t
        if {"year", "node", "capacity_t"} <= set(df.columns):
            df = node_capacity_from_tables(df)
        return {int(y): {str(n): float(v) for n, v in row.items()} for y, row in df.iterrows()}
    if not isinstance(node_capacity_t, Mapping):
        raise TypeError("node_capacity_t must be a DataFrame or a dict")
    keys = list(node_capacity_t)
    if keys and all(isinstance(k, (int, np.integer)) for k in keys):
        return {int(y): {str(n): float(v) for n, v in d.items()} for y, d in node_capacity_t.items()}
    out: dict[int, dict[str, float]] = {y: {} for y in years}
    for n, per_year in node_capacity_t.items():
        if isinstance(per_year, Mapping):
            for y, v in per_year.items():
                out.setdefault(int(y), {})[str(n)] = float(v)
        else:
            for y, v in zip(years, per_year):
                out[y][str(n)] = float(v)
    return out


def _background_use(scenario: Scenario, years: list[int]) -> dict[int, dict[str, float]]:
    """Expected background tonnes through each node per year (known splits only:
    behind a least-delay choice nothing is subtracted, which keeps the bound an upper bound)."""
    use: dict[int, dict[str, float]] = {y: {} for y in years}
    for sid, st in scenario.streams.items():
        if not st.background:
            continue
        tonnes = expected_tonnes_by_year(scenario, sid)
        for n, share in Route.of(st).usage(known_only=True).items():
            for y in years:
                use[y][n] = use[y].get(n, 0.0) + share * tonnes.get(y, 0.0)
    return use


# ------------------------------------------------------------------ the bound

def corridor_graph(scenario: Scenario, capacity: Mapping[str, float],
                   background_use: Mapping[str, float] | None = None,
                   demand_t: Mapping[str, float] | None = None) -> nx.DiGraph:
    """The split-node flow network of one year (edges without ``capacity`` are unlimited).
    With ``demand_t`` (tonnes by stream), each corridor stream enters through its own
    source edge of that capacity: the flow is then what the corridor could carry of the
    year's demand, not of unlimited demand."""
    g = nx.DiGraph()
    background_use = background_use or {}

    def node_edge(n: str) -> None:
        if g.has_edge(f"{n}:in", f"{n}:out"):
            return
        cap = capacity.get(n, math.nan)
        if cap is None or (isinstance(cap, float) and math.isnan(cap)):
            g.add_edge(f"{n}:in", f"{n}:out")
        else:
            g.add_edge(f"{n}:in", f"{n}:out", capacity=max(float(cap) - background_use.get(n, 0.0), 0.0))

    for sid, st in scenario.streams.items():
        if st.background:
            continue
        prev_outs = [SOURCE]
        if demand_t is not None:
            g.add_edge(SOURCE, f"demand:{sid}", capacity=max(float(demand_t.get(sid, 0.0)), 0.0))
            prev_outs = [f"demand:{sid}"]
        for step in Route.of(st).steps:
            alternatives = step.options
            outs = []
            for chain in alternatives:
                for n in chain:
                    node_edge(n)
                for p in prev_outs:
                    g.add_edge(p, f"{chain[0]}:in")
                for a, b in zip(chain, chain[1:]):
                    g.add_edge(f"{a}:out", f"{b}:in")
                outs.append(f"{chain[-1]}:out")
            prev_outs = outs
        for p in prev_outs:
            g.add_edge(p, SINK)
    return g


def bound_table(scenario: Scenario, node_capacity_t: pd.DataFrame | Mapping,
                background: Literal["subtract", "ignore"] = "subtract") -> pd.DataFrame:
    """Per year: ``bound_t`` (max-flow, tonnes) and ``cut`` (the nodes of a
    minimum cut, i.e. what binds, ' + '-joined)."""
    years = YearGrid(scenario.start_date, scenario.end_date).years
    caps = _capacity_lookup(node_capacity_t, years)
    bg = _background_use(scenario, years) if background == "subtract" else {y: {} for y in years}
    rows = []
    for y in years:
        g = corridor_graph(scenario, caps.get(y, {}), bg.get(y, {}))
        h, source, sink, names = _numbered(g)
        try:
            value, (reach_n, _) = nx.minimum_cut(h, source, sink)
        except nx.NetworkXUnbounded:
            rows.append({"year": y, "bound_t": math.inf, "cut": ""})
            continue
        reach = {names[i] for i in reach_n}
        cut = sorted(u.removesuffix(":in") for u, v, cap in g.edges(data="capacity")
                     if u in reach and v not in reach and u.endswith(":in") and v == u[:-3] + ":out"
                     and cap)  # a closed node (capacity 0) carries nothing: not worth naming
        rows.append({"year": y, "bound_t": float(value), "cut": " + ".join(cut)})
    return pd.DataFrame(rows)


def bound_by_year(scenario: Scenario, node_capacity_t: pd.DataFrame | Mapping,
                  background: Literal["subtract", "ignore"] = "subtract") -> pd.Series:
    """The static max-flow capacity bound of each year, in tonnes (a Series
    indexed by year). See the module docstring for what it bounds."""
    t = bound_table(scenario, node_capacity_t, background)
    return pd.Series(t["bound_t"].to_numpy(), index=t["year"].to_numpy(), name="bound_t")


def bounds_for_runs(scenarios: list[Scenario], annual_nodes: pd.DataFrame) -> pd.DataFrame:
    """The bound table of every scenario of a run or batch (a ``scenario``
    column added), from the capacities the runs recorded."""
    parts = [bound_table(s, node_capacity_from_tables(annual_nodes, s.name)).assign(scenario=s.name)
             for s in scenarios]
    cols = ["scenario", "year", "bound_t", "cut"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def format_bound(bound: pd.DataFrame, delivered_mt: Mapping[int, float] | None = None) -> str:
    """Lines for the printed summary: the bound per year, what binds, and the
    share of it that was delivered."""
    lines = ["Capacity bound (static max-flow over node capacities, background traffic subtracted)",
             f"  {'year':<6}{'bound Mt':>10}{'delivered/bound':>17}  binding nodes (a minimum cut)"]
    for r in bound.itertuples():
        share = ""
        if delivered_mt is not None and r.year in delivered_mt and r.bound_t > 0 and math.isfinite(r.bound_t):
            share = f"{delivered_mt[r.year] * 1e6 / r.bound_t:.0%}"
        lines.append(f"  {r.year:<6}{r.bound_t / 1e6:>10.2f}{share:>17}  {r.cut}")
    return "\n".join(lines)


def capacity_values(scenario: Scenario, node_capacity_t: pd.DataFrame | Mapping, step: float = 0.10,
                    background: Literal["subtract", "ignore"] = "subtract",
                    years: Sequence[int] | None = None) -> pd.DataFrame:
    """What more capacity at each node is worth to the corridor, by the static bound of
    the year's demand (each stream's expected tonnes enter through their own source
    edge, so capacity beyond what is offered is worth nothing): per year and node with a
    capacity, the gain when that node alone gets ``step`` (10%) more (``bound_gain_t``),
    and that gain per tonne of capacity added (``shadow_price``: 1 where the node is the
    whole minimum cut and 10% more stays below the next cut; 0 where another node or
    demand binds; in between when the next cut comes first). Exact for the bound (per year,
    one max-flow to find the nodes it fills, and one more for each of those: a node a maximum
    flow leaves below capacity gains exactly 0), a ceiling for the simulation, whose queues and
    storms give less. ``years``: only these (default: every year of the scenario)."""
    every = YearGrid(scenario.start_date, scenario.end_date).years
    caps = _capacity_lookup(node_capacity_t, every)
    years = every if years is None else list(years)
    bound_of = demand_bound(scenario, background)
    slack_of = demand_slack(scenario, background)
    rows = []
    for y in years:
        cap = caps.get(y, {})
        base = bound_of(y, cap)
        slack = slack_of(y, cap)  # nodes a max flow leaves below capacity: in no minimum cut, so 10 % more adds 0
        for n in corridor_nodes(scenario):
            c = cap.get(n, math.nan)
            if c is None or math.isnan(c) or c <= 0:
                continue
            gain = 0.0 if n in slack else bound_of(y, {**cap, n: c * (1 + step)}) - base
            rows.append({"year": y, "node": n, "capacity_t": c, "bound_gain_t": gain,
                         "shadow_price": gain / (c * step)})
    return pd.DataFrame(rows, columns=["year", "node", "capacity_t", "bound_gain_t", "shadow_price"])


def corridor_nodes(scenario: Scenario) -> list[str]:
    """The nodes on some corridor (non-background) stream's route, sorted."""
    return sorted({n for st in scenario.streams.values() if not st.background for n in Route.of(st).nodes()})


def _year_network(scenario: Scenario, background: Literal["subtract", "ignore"]
                  ) -> Callable[[int, Mapping[str, float]], tuple[nx.DiGraph, int, int, list[Any]]]:
    """``network(year, capacity)``: that year's demand network (:func:`corridor_graph`, numbered by
    :func:`_numbered`), with background use and demand computed once for the scenario."""
    years = YearGrid(scenario.start_date, scenario.end_date).years
    bg = _background_use(scenario, years) if background == "subtract" else {y: {} for y in years}
    demand = demand_by_year(scenario)
    return lambda year, capacity: _numbered(corridor_graph(scenario, capacity, bg.get(year, {}), demand.get(year, {})))


def demand_bound(scenario: Scenario, background: Literal["subtract", "ignore"] = "subtract"
                 ) -> Callable[[int, Mapping[str, float]], float]:
    """``bound(year, capacity)``: the max-flow of that year's demand (each corridor stream's
    expected tonnes through its own source edge) over the given node capacities, with
    background use and demand computed once for the scenario."""
    network = _year_network(scenario, background)

    def bound(year: int, capacity: Mapping[str, float]) -> float:
        h, source, sink, _ = network(year, capacity)
        try:
            return float(nx.maximum_flow_value(h, source, sink))
        except nx.NetworkXUnbounded:
            return math.inf

    return bound


def demand_slack(scenario: Scenario, background: Literal["subtract", "ignore"] = "subtract"
                 ) -> Callable[[int, Mapping[str, float]], set[str]]:
    """``slack(year, capacity)``: the nodes with a capacity that a maximum flow of that year's demand
    (as :func:`demand_bound`) leaves below it (by more than one part in 10^9). None of them is in a
    minimum cut (every minimum cut's edges are full in every maximum flow), so more capacity at one
    of them alone adds nothing to the bound (an unbounded flow: no node)."""
    network = _year_network(scenario, background)

    def slack(year: int, capacity: Mapping[str, float]) -> set[str]:
        h, source, sink, names = network(year, capacity)
        try:
            _, flow = nx.maximum_flow(h, source, sink)
        except nx.NetworkXUnbounded:
            return set()
        at = {name: i for i, name in enumerate(names)}
        out = set()
        for n in capacity:
            a, b = at.get(f"{n}:in"), at.get(f"{n}:out")
            if a is None or b is None:
                continue
            cap = h.edges[a, b].get("capacity")
            if cap is not None and flow[a][b] < cap * (1 - 1e-9):
                out.add(n)
        return out

    return slack


def demand_by_year(scenario: Scenario) -> dict[int, dict[str, float]]:
    """Expected corridor tonnes offered per year and stream."""
    out: dict[int, dict[str, float]] = {}
    for sid, st in scenario.streams.items():
        if not st.background:
            for y, t in expected_tonnes_by_year(scenario, sid).items():
                out.setdefault(int(y), {})[sid] = float(t)
    return out


Pool = Callable[[Callable[..., Any], list[tuple]], list[Any]]
"""``pool(fn, calls)``: ``[fn(*call) for call in calls]`` in the calls' order, perhaps on worker processes
(:func:`model.experiments.runner.pool_map`); a run folder's figures are drawn on one too."""

YEAR_BLOCKS = 4
""":func:`capacity_values_for_runs` computes each scenario's years in this many blocks (jobs of a pool)."""


def capacity_values_for_runs(scenarios: list[Scenario], annual_nodes: pd.DataFrame,
                             pool: Pool | None = None) -> pd.DataFrame:
    """:func:`capacity_values` of every scenario of a run or batch, from the capacities the runs recorded;
    each scenario's years in :data:`YEAR_BLOCKS` blocks of consecutive years, on ``pool`` when given (the
    values do not depend on it: each year's max-flows are its own)."""
    cols = ["scenario", "year", "node", "capacity_t", "bound_gain_t", "shadow_price"]
    if annual_nodes.empty or not scenarios:
        return pd.DataFrame(columns=cols)
    calls: list[tuple] = []
    owner: list[str] = []
    for s in scenarios:
        caps = node_capacity_from_tables(annual_nodes, s.name)
        years = YearGrid(s.start_date, s.end_date).years
        for block in np.array_split(np.asarray(years), min(YEAR_BLOCKS, len(years))):
            calls.append((s, caps, 0.10, "subtract", [int(y) for y in block]))
            owner.append(s.name)
    done = pool(capacity_values, calls) if pool is not None else [capacity_values(*c) for c in calls]
    parts = []
    for s in scenarios:
        mine = [df for df, name in zip(done, owner) if name == s.name]
        rows = [df for df in mine if len(df)] or mine[:1]  # (an empty block's columns have no dtype)
        parts.append(pd.concat(rows, ignore_index=True).assign(scenario=s.name))
    return pd.concat(parts, ignore_index=True)[cols]
