"""Over replications: the long summary, the corridor table and paired differences.

Built once per run, batch or comparison from the per-replication tables
(:class:`model.results.Results` calls these); the measures summarised are the
ones ``model.measures`` declares.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from .measures import TABLES
from .stats import summarise, t_interval

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
    the capacity bound (Mt, where computed), the most frequent bottleneck, and transit p50/p95 (days, means).
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
    b = t["bottlenecks"]
    mode = b.groupby(["scenario", "year"])["by_utilization"].agg(_most_common)
    out["bottleneck"] = mode.map(lambda m: m[0])
    out["bottleneck_share"] = mode.map(lambda m: m[1])
    return TABLES["corridor_summary"].conform(out.reset_index())




def _most_common(names: pd.Series) -> tuple[str, float]:
    """The most frequent non-empty name and the share of entries naming it."""
    named = [n for n in names if isinstance(n, str) and n]
    if not named:
        return "", float("nan")
    node, count = Counter(named).most_common(1)[0]
    return node, count / len(names)
