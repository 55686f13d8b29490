"""Raw records of a replication -> tidy tables; bottlenecks; confidence intervals.

Tables are long: one row per scenario x replication x year x node (or stream).
This module never touches simpy objects after the run, and pandas is used only
here, once per replication, never inside the simulation.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .bottleneck import shares_by_window
from .schema import ChoiceSpec
from .simulate import RunRecords

# Transit-time histogram bins (days): fine where most shipments are, coarse in the tail.
TRANSIT_BINS_DAYS = np.concatenate([np.arange(0, 30, 0.5), np.arange(30, 120, 2), np.arange(120, 2600, 20)])

NODE_COLUMNS = [
    "scenario", "replication", "year", "node", "kind", "throughput_t", "capacity_t", "utilization",
    "waiting_mean_h", "waiting_p95_h", "waiting_share", "mean_queue", "hours_closed",
]
STREAM_COLUMNS = [
    "scenario", "replication", "year", "stream", "commodity", "background", "demand_t", "delivered_t",
    "backlog_t", "transit_mean_days", "transit_p50_days", "transit_p95_days",
]


def _by_year(years_idx: list[int], values: list[float], n_years: int) -> list[np.ndarray]:
    idx = np.asarray(years_idx, dtype=int)
    vals = np.asarray(values, dtype=float)
    return [vals[idx == y] for y in range(n_years)]


def _stat(a: np.ndarray, fn) -> float:
    return float(fn(a)) if a.size else math.nan


def node_table(r: RunRecords) -> pd.DataFrame:
    grid = r.grid
    hours = grid.hours()
    rows = []
    waits_total = np.zeros(len(grid))
    per_node = {}
    for nid, node in r.nodes.items():
        waits = _by_year(node.rec.wait_year, node.rec.wait_h, len(grid))
        per_node[nid] = waits
        waits_total += np.array([w.sum() for w in waits])
    for nid, node in r.nodes.items():
        cap = node.capacity_t()
        server = node.server_hours()
        busy = node.busy()
        waits = per_node[nid]
        for y, year in enumerate(grid.years):
            util = busy[y] / server[y] if server[y] and server[y] > 0 and not math.isnan(server[y]) else math.nan
            wsum = waits[y].sum()
            rows.append((
                r.scenario.name, r.replication, year, nid, node.kind, node.rec.throughput_t[y], cap[y], util,
                _stat(waits[y], np.mean), _stat(waits[y], lambda a: np.percentile(a, 95)),
                wsum / waits_total[y] if waits_total[y] > 0 else 0.0,
                wsum / hours[y], node.rec.closed_h[y],
            ))
    return pd.DataFrame(rows, columns=NODE_COLUMNS)


def stream_table(r: RunRecords) -> pd.DataFrame:
    grid = r.grid
    rows = []
    for sid, rec in r.streams.items():
        spec = r.scenario.streams[sid]
        transit = _by_year(rec.transit_year, rec.transit_h, len(grid))
        backlog = np.cumsum(rec.generated_t) - np.cumsum(rec.delivered_t)
        for y, year in enumerate(grid.years):
            days = transit[y] / 24.0
            rows.append((
                r.scenario.name, r.replication, year, sid, spec.commodity, spec.background,
                rec.generated_t[y], rec.delivered_t[y], float(backlog[y]),
                _stat(days, np.mean), _stat(days, np.median), _stat(days, lambda a: np.percentile(a, 95)),
            ))
    return pd.DataFrame(rows, columns=STREAM_COLUMNS)


def bottleneck_table(nodes: pd.DataFrame) -> pd.DataFrame:
    """The bottleneck of each year: highest utilisation, and largest share of waiting."""
    out = []
    for (scn, rep, year), g in nodes.groupby(["scenario", "replication", "year"], sort=True):
        u = g.dropna(subset=["utilization"])
        bu = u.loc[u["utilization"].idxmax()] if len(u) else None
        bw = g.loc[g["waiting_share"].idxmax()]
        out.append({
            "scenario": scn, "replication": rep, "year": year,
            "by_utilization": bu["node"] if bu is not None else None,
            "utilization": bu["utilization"] if bu is not None else math.nan,
            "by_waiting": bw["node"] if bw["waiting_share"] > 0 else None,
            "waiting_share": bw["waiting_share"],
        })
    return pd.DataFrame(out)


def corridor_table(r: RunRecords) -> pd.DataFrame:
    """Corridor totals per year (background streams left out): demand, delivered,
    and transit-time percentiles over every corridor shipment delivered that year."""
    grid = r.grid
    streams = [(sid, rec) for sid, rec in r.streams.items() if not r.scenario.streams[sid].background]
    years_idx = [y for _, rec in streams for y in rec.transit_year]
    hours = [h for _, rec in streams for h in rec.transit_h]
    transit = _by_year(years_idx, hours, len(grid))
    rows = []
    for y, year in enumerate(grid.years):
        days = transit[y] / 24.0
        rows.append({
            "scenario": r.scenario.name, "replication": r.replication, "year": year,
            "demand_t": sum(rec.generated_t[y] for _, rec in streams),
            "delivered_t": sum(rec.delivered_t[y] for _, rec in streams),
            "transit_p50_days": _stat(days, np.median),
            "transit_p95_days": _stat(days, lambda a: np.percentile(a, 95)),
        })
    return pd.DataFrame(rows)


def active_period_table(r: RunRecords) -> pd.DataFrame:
    """Per node and year: active, sole-bottleneck and shifting-bottleneck shares of
    the year (Roser's active-period method, see ``model.bottleneck``)."""
    periods = {nid: node.rec.active for nid, node in r.nodes.items()}
    res = shares_by_window(periods, r.grid.bounds_h)
    hours = r.grid.hours()
    rows = []
    for nid, v in res.items():
        for y, year in enumerate(r.grid.years):
            rows.append({"scenario": r.scenario.name, "replication": r.replication, "year": year, "node": nid,
                         "active_share": v["active"][y] / hours[y], "sole_share": v["sole"][y] / hours[y],
                         "shifting_share": v["shifting"][y] / hours[y]})
    return pd.DataFrame(rows)


def transit_hist_table(r: RunRecords) -> pd.DataFrame:
    """Histogram of corridor transit times (days) over the whole horizon."""
    hours = [h for sid, rec in r.streams.items() if not r.scenario.streams[sid].background for h in rec.transit_h]
    counts, _ = np.histogram(np.asarray(hours) / 24.0, bins=TRANSIT_BINS_DAYS)
    return pd.DataFrame({"scenario": r.scenario.name, "replication": r.replication,
                         "bin_lo_days": TRANSIT_BINS_DAYS[:-1], "bin_hi_days": TRANSIT_BINS_DAYS[1:], "count": counts})


def network_tables(scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node attributes and route edges of a scenario, for the schematic."""
    nodes = pd.DataFrame([{"scenario": scenario.name, "node": nid, "kind": spec.kind, "name": spec.name or nid,
                           "lon": spec.lon, "lat": spec.lat} for nid, spec in scenario.nodes.items()])
    edges = set()
    for sid, st in scenario.streams.items():
        prev: list[str] = []
        for step in st.route:
            if isinstance(step, ChoiceSpec):
                ends = []
                for opt in step.choice.values():
                    chain = prev[-1:] + list(opt)
                    edges.update((sid_a, sid_b) for sid_a, sid_b in zip(chain, chain[1:]))
                    ends.append(opt[-1])
                prev = ends[:1]
            else:
                if prev:
                    edges.add((prev[-1], step))
                prev = [step]
    e = pd.DataFrame(sorted(edges), columns=["from_node", "to_node"])
    e.insert(0, "scenario", scenario.name)
    return nodes, e


def tables(r: RunRecords) -> dict[str, pd.DataFrame]:
    """All tidy tables of one replication."""
    nodes = node_table(r)
    out = {
        "annual_nodes": nodes,
        "annual_streams": stream_table(r),
        "bottlenecks": bottleneck_table(nodes),
        "active_periods": active_period_table(r),
        "corridor": corridor_table(r),
        "transit_hist": transit_hist_table(r),
    }
    if r.replication == 0:
        out["network_nodes"], out["network_edges"] = network_tables(r.scenario)
    return out


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """(mean, sd, lo, hi) of a Student-t interval for the mean; NaNs ignored.

    >>> m, sd, lo, hi = t_interval(np.array([1.0, 2.0, 3.0]))
    >>> m, sd, round(lo, 3), round(hi, 3)
    (2.0, 1.0, -0.484, 4.484)
    """
    from scipy import stats

    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n == 0:
        return (math.nan,) * 4
    m = float(v.mean())
    if n == 1:
        return m, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return m, sd, m - half, m + half


def summarise(df: pd.DataFrame, keys: list[str], measures: list[str]) -> pd.DataFrame:
    """Mean, sd and 95% t-interval over replications, per key x measure (long form)."""
    rows = []
    for key, g in df.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        for m in measures:
            mean, sd, lo, hi = t_interval(g[m].to_numpy())
            rows.append({**dict(zip(keys, key)), "measure": m, "n": int(g[m].notna().sum()),
                         "mean": mean, "sd": sd, "ci95_lo": lo, "ci95_hi": hi})
    return pd.DataFrame(rows)
