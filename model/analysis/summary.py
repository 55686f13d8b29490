"""Over replications: the long summary, the corridor table and paired differences.

Built once per run, batch or comparison from the per-replication tables
(:class:`model.outputs.results.Results` calls these); the measures summarised are the
ones ``model.analysis.measures`` declares.
"""

from __future__ import annotations

import pandas as pd

from model.analysis.measures import LOST_COLUMNS, TABLES
from model.analysis.stats import summarise, t_interval

SUMMARISED = (("annual_nodes", "node", "node"), ("active_periods", "node", "node"),
              ("annual_streams", "stream", "stream"))
"""(table, its key column, entity type) summarised per node or stream; the corridor table is added whole."""


def long_summary(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Mean, sd and 95% t-interval over replications for every scenario x year x
    node/stream measure, in one long table (``entity_type``, ``entity``, ``measure``)."""
    parts = []
    for table, key, etype in SUMMARISED:
        if table in t:
            s = summarise(t[table], ["scenario", "year", key], TABLES[table].measures()).rename(columns={key: "entity"})
            s.insert(2, "entity_type", etype)
            parts.append(s)
    c = summarise(t["corridor"], ["scenario", "year"], TABLES["corridor"].measures())
    c.insert(2, "entity_type", "corridor")
    c.insert(3, "entity", "corridor")
    parts.append(c)
    return TABLES["summary"].conform(pd.concat(parts, ignore_index=True))


def in_scenario_order(df: pd.DataFrame, source: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``df`` with scenarios in the order they appear in ``source`` (a batch's
    order: the reference first), the order within a scenario kept; groupby and pivot
    sort scenario names alphabetically, which would put another scenario first."""
    rank = {s: i for i, s in enumerate(dict.fromkeys(source["scenario"]))}
    return df.iloc[df["scenario"].map(rank).argsort(kind="stable")].reset_index(drop=True)


def paired_differences(t: dict[str, pd.DataFrame], reference: str | None = None) -> pd.DataFrame:
    """Each scenario minus the reference (first) scenario, per year, paired by
    replication (common random numbers): corridor delivered (Mt) and transit p50."""
    corr = t["corridor"]
    scen = list(dict.fromkeys(corr["scenario"]))
    reference = reference or scen[0]
    ref = corr[corr["scenario"] == reference].set_index(["replication", "year"])
    rows = []
    for s in scen:
        if s == reference:
            continue
        other = corr[corr["scenario"] == s].set_index(["replication", "year"])
        joined = other.join(ref.add_suffix("_ref"), how="inner")
        for year, g in joined.groupby(level="year"):
            for m, scale, unit in [("delivered_t", 1e6, "mt"), ("transit_p50_days", 1.0, "days")]:
                mean, sd, lo, hi = t_interval((g[m] - g[f"{m}_ref"]).to_numpy() / scale)
                rows.append({"scenario": s, "reference": reference, "year": year,
                             "measure": m.replace("_t", "_mt") if unit == "mt" else m, "n": len(g),
                             "mean_difference": mean, "sd": sd, "ci95_lo": lo, "ci95_hi": hi})
    return TABLES["differences"].frame(rows)


def corridor_summary(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per scenario x year: corridor demand and delivered (Mt, mean and 95% CI),
    the capacity bound (Mt, where computed), transit p50/p95 (days, means) and what binds each
    commodity's flows (from ``flow_summary``: the corridor is parallel flows, so no one node is
    "the corridor's bottleneck").
    With one replication the intervals are NaN (not computable), never an error."""
    corr = t["corridor"]
    s = summarise(corr, ["scenario", "year"], ["demand_t", "delivered_t", "lost_t", "transit_p50_days",
                                               "transit_p95_days"])
    wide = s.pivot(index=["scenario", "year"], columns="measure", values=["mean", "ci95_lo", "ci95_hi"])
    out = pd.DataFrame(index=wide.index)
    out["demand_mt"] = wide[("mean", "demand_t")] / 1e6
    out["delivered_mt"] = wide[("mean", "delivered_t")] / 1e6
    out["delivered_ci95_lo_mt"] = wide[("ci95_lo", "delivered_t")] / 1e6
    out["delivered_ci95_hi_mt"] = wide[("ci95_hi", "delivered_t")] / 1e6
    out["lost_mt"] = wide[("mean", "lost_t")] / 1e6
    out["lost_ci95_lo_mt"] = wide[("ci95_lo", "lost_t")] / 1e6
    out["lost_ci95_hi_mt"] = wide[("ci95_hi", "lost_t")] / 1e6
    out["bound_mt"] = float("nan")
    if "bound" in t and not t["bound"].empty:
        out["bound_mt"] = t["bound"].groupby(["scenario", "year"])["bound_t"].mean() / 1e6
    out["transit_p50_days"] = wide[("mean", "transit_p50_days")]
    out["transit_p95_days"] = wide[("mean", "transit_p95_days")]
    out["binding_by_flow"] = _binding_by_commodity(t["flow_summary"]) if "flow_summary" in t else ""
    out["binding_by_flow"] = out["binding_by_flow"].fillna("")
    return TABLES["corridor_summary"].conform(in_scenario_order(out.reset_index(), corr))




def commodity_summary(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per scenario x year x commodity: demand, delivered (with its 95% interval), lost and
    transit p50/p95 (means over replications), and what binds its flows."""
    c = t["commodities"]
    if c.empty:
        return TABLES["commodity_summary"].frame([])
    keys = ["scenario", "year", "commodity"]
    s = summarise(c, keys, ["demand_t", "delivered_t", "lost_t", "transit_p50_days", "transit_p95_days",
                            "port_transit_p50_days"])
    wide = s.pivot(index=keys, columns="measure", values=["mean", "ci95_lo", "ci95_hi"])
    out = pd.DataFrame(index=wide.index)
    for m in ("demand", "delivered", "lost"):
        out[f"{m}_mt"] = wide[("mean", f"{m}_t")] / 1e6
    out["delivered_ci95_lo_mt"] = wide[("ci95_lo", "delivered_t")] / 1e6
    out["delivered_ci95_hi_mt"] = wide[("ci95_hi", "delivered_t")] / 1e6
    out["transit_p50_days"] = wide[("mean", "transit_p50_days")]
    out["transit_p95_days"] = wide[("mean", "transit_p95_days")]
    out["port_transit_p50_days"] = wide[("mean", "port_transit_p50_days")]
    f = t["flow_summary"]
    out["binding"] = "" if f.empty else f.groupby(keys)["binding"].agg(
        lambda b: " / ".join(x.replace(" (both binding)", " (both)") for x in dict.fromkeys(b) if x))
    out["binding"] = out["binding"].fillna("")
    return TABLES["commodity_summary"].conform(in_scenario_order(out.reset_index(), c))


def _binding_by_commodity(flows: pd.DataFrame) -> pd.Series:
    """Per scenario x year, "commodity: node; ..." naming what binds each commodity's flows
    (several nodes, '/'-joined, where its streams bind at different places)."""
    if flows.empty:
        return pd.Series(dtype=object)

    def one(g: pd.DataFrame) -> str:
        parts = []
        for c, gc in g.groupby("commodity", sort=True):
            nodes = [b.replace(" (both binding)", "") for b in dict.fromkeys(gc["binding"]) if b]
            if nodes:
                parts.append(f"{c}: {' / '.join(nodes)}")
        return "; ".join(parts)

    return flows.groupby(["scenario", "year"]).apply(one, include_groups=False)


BOTH_BINDING_ACTIVE = 0.98
"""Nodes of one route active at least this share of a year (mean over replications) all bind:
the active-period method then splits the year between them by accident, so the summary names
them together instead of ranking them."""


def flow_summary(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per scenario, year and corridor stream: delivered, lost, transit, and the node
    that binds along the stream's route (from ``flow_bottlenecks``), means over replications."""
    st = t["annual_streams"]
    st = st[~st["background"].astype(bool)].copy()
    st["lost_t"] = st[list(LOST_COLUMNS)].sum(axis=1)
    flows = st.groupby(["scenario", "year", "stream"], sort=True).agg(
        commodity=("commodity", "first"), gateway=("gateway", "first"), delivered_t=("delivered_t", "mean"),
        lost_t=("lost_t", "mean"),
        transit_p50_days=("transit_p50_days", "mean"), transit_p95_days=("transit_p95_days", "mean"),
        port_transit_p50_days=("port_transit_p50_days", "mean"),
        gateway_transit_p50_days=("gateway_transit_p50_days", "mean"))
    fb = t["flow_bottlenecks"].copy()
    fb["share"] = fb["sole_share"] + fb["shifting_share"]
    per_node = fb.groupby(["scenario", "year", "stream", "node"], sort=False)[["share", "active_share"]].mean()
    routes = {key: g.droplevel([0, 1, 2]) for key, g in per_node.groupby(level=[0, 1, 2], sort=False)}
    rows = []
    for key, f in flows.iterrows():
        binding, share = "", float("nan")
        g = routes.get(key)
        if g is not None:
            always = g[g["active_share"] >= BOTH_BINDING_ACTIVE]
            if len(always) >= 2:
                binding = " + ".join(always.index) + " (both binding)"
                share = float(always["active_share"].min())
            elif g["share"].max() > 0:
                binding, share = str(g["share"].idxmax()), float(g["share"].max())
        rows.append({"scenario": key[0], "year": key[1], "stream": key[2], "commodity": f["commodity"],
                     "delivered_mt": f["delivered_t"] / 1e6, "lost_mt": f["lost_t"] / 1e6,
                     "transit_p50_days": f["transit_p50_days"], "transit_p95_days": f["transit_p95_days"],
                     "port_transit_p50_days": f["port_transit_p50_days"],
                     "gateway": f["gateway"], "gateway_transit_p50_days": f["gateway_transit_p50_days"],
                     "binding": binding, "binding_share": share})
    return TABLES["flow_summary"].frame(rows) if not rows else in_scenario_order(TABLES["flow_summary"].frame(rows), st)
