"""Plain records of a replication -> its tidy tables (declared in ``model.analysis.measures``).

Tables are long: one row per scenario x replication x year x node (or stream).
The engine hands over plain records only; pandas is used here, once per
replication, never inside the simulation. Capacities are computed here, by each
node kind's formula (``NodeKind.capacity_t``), from the resolved spec and the
node's record.
"""

from __future__ import annotations

import math
from typing import Callable, Collection

import numpy as np
import pandas as pd

from model.analysis.bottleneck import shares_by_window
from model.core.histogram import TRANSIT_BINS_DAYS, YearSamples, pooled_percentile
from model.analysis.measures import LOG_TABLES, TABLES
from model.nodes import kind_of
from model.scenario.route import Route
from model.scenario.schema import Scenario
from model.engine.simulate import RunRecords
from model.nodes import NodeRecord



def _percentiles(samples: list[YearSamples], y: int, qs: tuple[float, ...]) -> list[float]:
    """Percentiles of year ``y`` over the pooled samples, from their histograms (within
    0.05 h + 0.25 % of the exact ones: ``model.core.histogram``)."""
    return [pooled_percentile(samples, [y], q) for q in qs]


def capacity_t(r: RunRecords, nid: str) -> np.ndarray:
    """Available capacity of a node per year, in tonnes (NaN: unlimited)."""
    rec = r.nodes[nid]
    return kind_of(rec.kind).capacity_t(r.specs[nid], rec, r.grid)


def utilization(r: RunRecords, nid: str) -> np.ndarray:
    """Busy share of what the node had available, per year (NaN: not defined)."""
    rec = r.nodes[nid]
    server = np.asarray(rec.server_h, dtype=float)
    busy = np.asarray(rec.busy, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(server > 0, busy / np.where(server > 0, server, 1.0), np.nan)


def node_table(r: RunRecords) -> pd.DataFrame:
    grid = r.grid
    hours = grid.hours()
    rows = []
    waits_total = np.zeros(len(grid))
    for node in r.nodes.values():
        waits_total += np.array([node.waits.sum(y) for y in range(len(grid))])
    for nid, node in r.nodes.items():
        cap = capacity_t(r, nid)
        util = utilization(r, nid)
        waits = node.waits
        charter_days = [h / 24.0 for h in node.extra.get("charter_h", [0.0] * len(grid))]
        day_rate = float(node.extra.get("charter_day_rate_usd", 0.0))  # the charter's rate, else its class's
        for y, year in enumerate(grid.years):
            wsum = waits.sum(y)
            rows.append((
                r.scenario.name, r.replication, year, nid, node.kind, node.throughput_t[y], cap[y], util[y],
                waits.mean(y), waits.percentile(y, 95),
                wsum / waits_total[y] if waits_total[y] > 0 else 0.0,
                wsum / hours[y], node.turned_away_t[y], charter_days[y], charter_days[y] * day_rate,
                node.closed_h[y] + node.disrupted_h[y],
            ))
    return TABLES["annual_nodes"].frame(rows)


def stream_table(r: RunRecords) -> pd.DataFrame:
    grid = r.grid
    rows = []
    for sid, rec in r.streams.items():
        spec = r.scenario.streams[sid]
        lost = [rec.lost_t(y) for y in range(len(grid))]
        backlog = np.cumsum(rec.generated_t) - np.cumsum(rec.delivered_t) - np.cumsum(lost)
        for y, year in enumerate(grid.years):
            rows.append((
                r.scenario.name, r.replication, year, sid, spec.commodity, spec.background, "/".join(spec.gateway),
                rec.generated_t[y], rec.delivered_t[y], rec.diverted_t[y], rec.reneged_t[y], rec.turned_away_t[y],
                float(backlog[y]),
                rec.delivered_tkm[y],
                rec.transit.mean(y), *_percentiles([rec.transit], y, (50, 95)),
                rec.port_transit.mean(y), *_percentiles([rec.port_transit], y, (50, 95)),
                rec.gateway_transit.mean(y), *_percentiles([rec.gateway_transit], y, (50, 95)),
            ))
    return TABLES["annual_streams"].frame(rows)


def monthly_node_table(r: RunRecords) -> pd.DataFrame:
    """Per node and calendar month: throughput, mean queue (tonnes), hours closed."""
    m = r.monthly
    if m is None:
        return TABLES["monthly_nodes"].frame([])
    rows = []
    for nid, node in r.nodes.items():
        thr, queue, closed = m.node_throughput_t[nid], m.node_queue_t[nid], node.closed_month_h
        for i, (year, month) in enumerate(m.months):
            rows.append((r.scenario.name, r.replication, year, month, nid, node.kind, thr[i], queue[i],
                         closed[i] if i < len(closed) else 0.0))
    return TABLES["monthly_nodes"].frame(rows)


def monthly_stream_table(r: RunRecords) -> pd.DataFrame:
    """Per stream and calendar month: demand, delivered, lost to other routes."""
    m = r.monthly
    if m is None:
        return TABLES["monthly_streams"].frame([])
    rows = []
    for sid in r.streams:
        spec = r.scenario.streams[sid]
        for i, (year, month) in enumerate(m.months):
            rows.append((r.scenario.name, r.replication, year, month, sid, spec.commodity, spec.background,
                         m.stream_demand_t[sid][i], m.stream_delivered_t[sid][i], m.stream_lost_t[sid][i]))
    return TABLES["monthly_streams"].frame(rows)


def bottleneck_table(nodes: pd.DataFrame) -> pd.DataFrame:
    """The bottleneck of each year: highest utilisation, and largest share of waiting."""
    out: list[dict] = []
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
    return TABLES["bottlenecks"].frame(out)


def _totals(r: RunRecords, sids: list[str], keys: dict[str, object]) -> list[dict]:
    """Per year, the streams' demand, delivered, lost, and transit percentiles (from the route's
    start and from the first port reached) over every shipment of theirs delivered that year;
    ``keys`` head each row."""
    recs = [r.streams[sid] for sid in sids]
    transit, from_port = [rec.transit for rec in recs], [rec.port_transit for rec in recs]
    rows = []
    for y, year in enumerate(r.grid.years):
        p50, p95 = _percentiles(transit, y, (50, 95))
        port_p50, port_p95 = _percentiles(from_port, y, (50, 95))
        rows.append({
            "scenario": r.scenario.name, "replication": r.replication, "year": year, **keys,
            "demand_t": sum(rec.generated_t[y] for rec in recs),
            "delivered_t": sum(rec.delivered_t[y] for rec in recs),
            "lost_t": sum(rec.lost_t(y) for rec in recs),
            "transit_p50_days": p50,
            "transit_p95_days": p95,
            "port_transit_p50_days": port_p50,
            "port_transit_p95_days": port_p95,
        })
    return rows


def _corridor_streams(r: RunRecords) -> list[str]:
    return [sid for sid in r.streams if not r.scenario.streams[sid].background]


def corridor_table(r: RunRecords) -> pd.DataFrame:
    """Corridor totals per year (background streams left out): demand, delivered,
    and transit-time percentiles over every corridor shipment delivered that year."""
    return TABLES["corridor"].frame(_totals(r, _corridor_streams(r), {}))


def commodity_table(r: RunRecords) -> pd.DataFrame:
    """The corridor totals per commodity (containers, general, oil, ...): each is its own
    parallel flow, with its own transit times."""
    by: dict[str, list[str]] = {}
    for sid in _corridor_streams(r):
        by.setdefault(r.scenario.streams[sid].commodity, []).append(sid)
    rows = [row for c, sids in sorted(by.items()) for row in _totals(r, sids, {"commodity": c})]
    return TABLES["commodities"].frame(rows)


def reached_periods(rec: NodeRecord) -> np.ndarray:
    """A node's active periods from the first time a shipment reached it: before that nothing
    waited for it, so a node not yet built (a terminal with no berths counts as closed, and a
    closed node as active) or never used is nobody's bottleneck. A view where nothing is cut."""
    p = rec.periods()
    first = rec.first_in_h
    if first < 0.0:
        return np.empty((0, 2))
    if not len(p) or p[0, 0] >= first:
        return p
    keep = p[p[:, 1] > first].copy()
    keep[:, 0] = np.maximum(keep[:, 0], first)
    return keep


def active_period_table(r: RunRecords) -> pd.DataFrame:
    """Per node and year: active, sole-bottleneck and shifting-bottleneck shares of
    the year (Roser's active-period method, see ``model.analysis.bottleneck``), from the
    first time a shipment reached the node (:func:`reached_periods`)."""
    periods = {nid: reached_periods(node) for nid, node in r.nodes.items()}
    res = shares_by_window(periods, r.grid.bounds_h)
    hours = r.grid.hours()
    rows = []
    for nid, v in res.items():
        for y, year in enumerate(r.grid.years):
            rows.append({"scenario": r.scenario.name, "replication": r.replication, "year": year, "node": nid,
                         "active_share": v["active"][y] / hours[y], "sole_share": v["sole"][y] / hours[y],
                         "shifting_share": v["shifting"][y] / hours[y]})
    return TABLES["active_periods"].frame(rows)


def main_chains(r: RunRecords, sid: str) -> list[tuple[str, ...]]:
    """Per year, the serial chain of nodes most of stream ``sid``'s cargo took: every plain step,
    and at each choice the option that carried the most of its tonnes that year (all options
    where none carried any, or where two choices of the route share an option name). The
    options of a choice are alternatives, not a series: a small saturated branch (a feeder
    every ten days from Batumi) is not where the flow binds when most of it goes another way."""
    route = Route.of(r.scenario.streams[sid])
    branch = r.streams[sid].branch_t
    names = [n for step in route.steps for n in step.names]
    unique = len(names) == len(set(names))
    out = []
    for y in range(len(r.grid)):
        chain: list[str] = []
        for step in route.steps:
            tonnes = [branch.get(n, [0.0] * len(r.grid))[y] for n in step.names] if step.is_choice else [1.0]
            if step.is_choice and (not unique or max(tonnes) <= 0.0):
                options = list(step.options)
            else:
                options = [step.options[int(np.argmax(tonnes))]]
            chain += [n for opt in options for n in opt if n not in chain]
        out.append(tuple(chain))
    return out


def flow_bottleneck_table(r: RunRecords) -> pd.DataFrame:
    """Per corridor stream, node of its route and year: the active-period shares
    computed over the nodes that most of its cargo went through that year
    (:func:`main_chains`; ``model.analysis.bottleneck``), so each flow's serial chain is
    judged on its own."""
    hours = r.grid.hours()
    rows = []
    periods: dict[str, np.ndarray] = {}
    for sid, st in r.scenario.streams.items():
        if st.background:
            continue
        chains = main_chains(r, sid)
        for chain in dict.fromkeys(chains):
            for n in chain:
                if n not in periods:
                    periods[n] = reached_periods(r.nodes[n])
            res = shares_by_window({n: periods[n] for n in chain}, r.grid.bounds_h)
            for y, year in enumerate(r.grid.years):
                if chains[y] != chain:
                    continue
                for nid in chain:
                    v = res[nid]
                    rows.append({"scenario": r.scenario.name, "replication": r.replication, "year": year,
                                 "stream": sid, "commodity": st.commodity, "node": nid,
                                 "active_share": v["active"][y] / hours[y], "sole_share": v["sole"][y] / hours[y],
                                 "shifting_share": v["shifting"][y] / hours[y]})
    return TABLES["flow_bottlenecks"].frame(rows)


def transit_hist_table(r: RunRecords) -> pd.DataFrame:
    """Histogram of corridor transit times (days) over the whole horizon, per commodity: exact
    counts (each stream counts its shipments into ``TRANSIT_BINS_DAYS`` as it closes a year)."""
    by: dict[str, np.ndarray] = {}
    for sid, rec in r.streams.items():
        spec = r.scenario.streams[sid]
        if not spec.background:  # (a RunRecords' streams are closed: their counts are whole)
            assert rec.transit.horizon_counts is not None
            by[spec.commodity] = by.get(spec.commodity, 0) + rec.transit.horizon_counts
    parts = []
    for commodity, counts in sorted(by.items()):
        parts.append(pd.DataFrame({"scenario": r.scenario.name, "replication": r.replication, "commodity": commodity,
                                   "bin_lo_days": TRANSIT_BINS_DAYS[:-1], "bin_hi_days": TRANSIT_BINS_DAYS[1:],
                                   "count": counts}))
    if not parts:  # a scenario of background traffic only: no corridor shipment to count
        return TABLES["transit_hist"].frame([])
    return TABLES["transit_hist"].conform(pd.concat(parts, ignore_index=True))


def network_tables(scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node attributes and route edges of a scenario, for the corridor map."""
    nodes = TABLES["network_nodes"].frame(
        [(scenario.name, nid, spec.kind, spec.name or nid, spec.lon, spec.lat) for nid, spec in scenario.nodes.items()])
    edges = sorted({e for st in scenario.streams.values() for e in Route.of(st).edges()})
    return nodes, TABLES["network_edges"].frame([(scenario.name, a, b) for a, b in edges])


def route_table(r: RunRecords) -> pd.DataFrame:
    """Tonnes per stream, year and route option: the options of the corridor's
    choice points (where shipments went), and the outside routes they took instead."""
    rows = []
    for sid, rec in r.streams.items():
        for kind, per in (("corridor", rec.branch_t), ("outside", rec.outside_t)):
            for option, tonnes in per.items():
                rows += [(r.scenario.name, r.replication, year, sid, kind, option, tonnes[y])
                         for y, year in enumerate(r.grid.years)]
    return TABLES["routes"].frame(rows)


def shipment_table(r: RunRecords) -> pd.DataFrame:
    """Every delivered shipment of the replication (its streams' logs: ``log_shipments``), one
    row each, in the columns of ``model.analysis.measures.LOG_TABLES["shipments"]`` but the calendar
    date, which :meth:`model.outputs.results.Results.build` adds (so the table travels as JSON)."""
    cols = [c for c in LOG_TABLES["shipments"].names() if c != "delivered_date"]
    parts = []
    for sid, rec in r.streams.items():
        if rec.log is None or not len(rec.log):
            continue
        c = rec.log.columns()
        parts.append(pd.DataFrame({
            "scenario": r.scenario.name, "replication": r.replication, "stream": sid, "tonnes": c["tonnes"],
            "created_h": c["created_h"], "port_h": c["port_h"], "delivered_h": c["delivered_h"],
            "transit_days": (c["delivered_h"] - c["created_h"]) / 24.0,
            "port_transit_days": (c["delivered_h"] - c["port_h"]) / 24.0}, columns=cols))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("scenario", "stream") else
                                          np.int64 if c == "replication" else np.float64) for c in cols})
    return pd.concat(parts, ignore_index=True)


def perf_table(r: RunRecords) -> pd.DataFrame:
    """What the replication cost: seconds of simulation and shipment-hops."""
    return TABLES["perf"].frame([(r.scenario.name, r.replication, r.wall_s, r.hops)])


def tables(r: RunRecords, only: Collection[str] | None = None) -> dict[str, pd.DataFrame]:
    """The tidy tables of one replication (``model.analysis.measures.PER_REPLICATION``; the
    network tables only for replication 0, as they do not vary). ``only``: build just
    these (a sweep reads one or two; the bottleneck tables are most of the cost)."""
    build: dict[str, Callable[[], pd.DataFrame]] = {
        "annual_nodes": lambda: node_table(r),
        "annual_streams": lambda: stream_table(r),
        "monthly_nodes": lambda: monthly_node_table(r),
        "monthly_streams": lambda: monthly_stream_table(r),
        "active_periods": lambda: active_period_table(r),
        "flow_bottlenecks": lambda: flow_bottleneck_table(r),
        "bottlenecks": lambda: bottleneck_table(out["annual_nodes"] if "annual_nodes" in out else node_table(r)),
        "corridor": lambda: corridor_table(r),
        "commodities": lambda: commodity_table(r),
        "transit_hist": lambda: transit_hist_table(r),
        "routes": lambda: route_table(r),
        "perf": lambda: perf_table(r),
    }
    out: dict[str, pd.DataFrame] = {}
    for name, fn in build.items():
        if only is None or name in only:
            out[name] = fn()
    if any(rec.log is not None for rec in r.streams.values()) and (only is None or "shipments" in only):
        out["shipments"] = shipment_table(r)  # only when the run logs shipments (log_shipments)
    if r.replication == 0 and (only is None or {"network_nodes", "network_edges"} & set(only)):
        out["network_nodes"], out["network_edges"] = network_tables(r.scenario)
    return out
