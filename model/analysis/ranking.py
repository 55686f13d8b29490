"""What each investment is worth: paired differences between the scenario as given,
the scenario without the investment, and the scenario with it delayed.

Replication k of every variant uses the same random streams (common random
numbers), so each measure is computed per replication as a difference between
variants and its 95% interval is a paired Student-t interval over replications.
Pure analysis: ``model.experiments.appraise`` builds the variants, runs them and calls
:func:`appraise_items` with the per-replication stream table.

Measures per item (an investment, or all investments sharing a tag):

* ``gain_mt``: corridor cargo delivered over the horizon with it, less without it;
* ``lost_avoided_mt``: cargo lost to other routes without it, less with it;
* ``transit_saved_days``: tonne-weighted mean transit without it, less with it;
* ``delay_cost_mt_per_month``: cargo delivered as given, less with it delayed
  ``delay_months``, per month of delay;
* with an ``appraisal:`` section: ``npv_musd`` and ``bcr`` (benefits: value of the
  extra tonnes by commodity, plus transit time saved on the cargo delivered, at each
  stream's value of time; costs: ``cost_musd`` in the year of the investment's date,
  plus running costs), and ``delay_cost_musd_per_month``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from model.analysis.economics import capital_recovery_factor, cost_stream_usd, npv_and_bcr, present_value
from model.analysis.measures import APPRAISAL_TABLES as TABLES, LOST_COLUMNS
from model.scenario.schema import Investment, Scenario
from model.analysis.stats import t_interval


@dataclass
class Item:
    """One thing appraised: an investment, or the investments sharing a tag."""

    name: str
    by: str  # "id" or "tag"
    investments: list[Investment]
    without: str  # variant (scenario) names
    delayed: str
    base_dates: dict[str, date | None] = field(default_factory=dict)  # effective dates as given
    delayed_dates: dict[str, date | None] = field(default_factory=dict)

    @property
    def cost_musd(self) -> float:
        return float(sum(i.cost_musd or 0.0 for i in self.investments))

    @property
    def first_date(self) -> date | None:
        dates = [d for d in (self.base_dates.get(i.id) for i in self.investments) if d is not None]
        return min(dates) if dates else None


def stream_values(annual_streams: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per variant x replication x year x corridor stream: delivered and lost tonnes,
    tonne-days of transit (delivered x mean transit), commodity and value of time."""
    df = annual_streams[~annual_streams["background"].astype(bool)].copy()
    df["lost_t"] = df[list(LOST_COLUMNS)].sum(axis=1)
    df["transit_t_days"] = (df["delivered_t"] * df["transit_mean_days"]).fillna(0.0)
    vot = {sid: st.value_of_time_usd_per_t_day for sid, st in scenario.streams.items()}
    df["vot_usd_per_t_day"] = df["stream"].map(vot).fillna(0.0)
    return df[["scenario", "replication", "year", "stream", "commodity", "delivered_t", "lost_t",
               "transit_mean_days", "transit_t_days", "vot_usd_per_t_day"]]


def _pivot(v: pd.DataFrame, variant: str, column: str) -> pd.DataFrame:
    """replication x year totals over corridor streams."""
    g = v[v["scenario"] == variant].groupby(["replication", "year"])[column].sum()
    return g.unstack("year").sort_index()


def _mean_transit(v: pd.DataFrame, variant: str) -> pd.Series:
    """Per replication: tonne-weighted mean transit (days) over the horizon."""
    g = v[v["scenario"] == variant].groupby("replication")[["transit_t_days", "delivered_t"]].sum()
    return (g["transit_t_days"] / g["delivered_t"]).sort_index()


def annuities(spec, it: Item) -> dict[str, float] | None:
    """Capital recovery factor per investment of the item (None: costs are charged upfront)."""
    if spec.capital_cost == "upfront":
        return None
    return {i.id: capital_recovery_factor(spec.discount_rate, spec.life_years.get(i.id, spec.asset_life_years))
            for i in it.investments}


def _benefits_usd(v: pd.DataFrame, base: str, variant: str, spec) -> np.ndarray:
    """replication x year: value of the base's extra tonnes over ``variant``, plus
    transit time the base saves on the cargo it delivers (base tonnes x transit
    difference x value of time), by stream."""
    b = v[v["scenario"] == base].set_index(["replication", "year", "stream"]).sort_index()
    o = v[v["scenario"] == variant].set_index(["replication", "year", "stream"]).reindex(b.index)
    d_t = (b["delivered_t"] - o["delivered_t"].fillna(0.0))
    value = d_t * b["commodity"].map(spec.value_usd_per_t).fillna(0.0)
    if spec.time_savings:
        saved = (o["transit_mean_days"] - b["transit_mean_days"]).fillna(0.0)
        value = value + b["delivered_t"] * saved * b["vot_usd_per_t_day"]
    return value.groupby(level=["replication", "year"]).sum().unstack("year").sort_index().to_numpy()


def _interval(prefix: str, values: np.ndarray) -> dict[str, float]:
    mean, _, lo, hi = t_interval(np.asarray(values, dtype=float))
    return {prefix: mean, f"{prefix}_lo": lo, f"{prefix}_hi": hi}


def appraise_items(values: pd.DataFrame, scenario: Scenario, base: str, items: list[Item],
                   delay_months: float) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """(ranked table, yearly table, per-replication ranking measure by item) of the
    items; see the module docstring. The ranking measure is what the item is worth: the
    present value of its benefits (M USD) with an ``appraisal:`` section, else the cargo
    gained (Mt). NPV and benefit-cost ratio are given where the item has a cost."""
    spec = scenario.appraisal
    years = sorted(values["year"].unique().tolist())
    base_year = (spec.base_year if spec and spec.base_year else years[0]) if spec else years[0]
    deliv_base = _pivot(values, base, "delivered_t")
    lost_base = _pivot(values, base, "lost_t")
    transit_base = _mean_transit(values, base)
    rows, yearly = [], []
    per_rep: dict[str, np.ndarray] = {}
    for it in items:
        gain = (deliv_base - _pivot(values, it.without, "delivered_t")).to_numpy() / 1e6  # rep x year, Mt
        lost_avoided = (_pivot(values, it.without, "lost_t") - lost_base).to_numpy() / 1e6
        delay_loss = (deliv_base - _pivot(values, it.delayed, "delivered_t")).to_numpy() / 1e6
        saved = (_mean_transit(values, it.without) - transit_base).to_numpy()
        row: dict[str, object] = {"item": it.name, "by": it.by, "investments": " ".join(i.id for i in it.investments),
               "cost_musd": it.cost_musd if it.cost_musd else float("nan"),
               "first_date": it.first_date.isoformat() if it.first_date else "",
               **_interval("gain_mt", gain.sum(axis=1)),
               **_interval("lost_avoided_mt", lost_avoided.sum(axis=1)),
               **_interval("transit_saved_days", saved),
               **_interval("delay_cost_mt_per_month", delay_loss.sum(axis=1) / delay_months)}
        row["mt_per_musd"] = gain.sum(axis=1).mean() / it.cost_musd if it.cost_musd else float("nan")
        per_rep[it.name] = gain.sum(axis=1)
        if spec is not None:
            per_rep[it.name] = _economics(values, base, it, spec, years, base_year, delay_months, row)
        rows.append(row)
        for j, y in enumerate(years):
            yearly.append({"item": it.name, "year": y, **_interval("gain_mt", gain[:, j]),
                           **_interval("delay_loss_mt", delay_loss[:, j])})
    key = "pv_benefits_musd" if spec is not None else "gain_mt"
    rows.sort(key=lambda r: -_sortable(r.get(key)))
    for i, r in enumerate(rows):
        r["rank"] = i + 1
    nan_cols = {c: float("nan") for c in TABLES["appraisal"].names()}
    table = TABLES["appraisal"].frame([{**nan_cols, **r} for r in rows])
    return table, TABLES["appraisal_years"].frame(yearly), per_rep


def _sortable(x: object) -> float:
    """A ranking value; missing or NaN ranks last."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return -math.inf
    return -math.inf if math.isnan(v) else v


def _economics(values: pd.DataFrame, base: str, it: Item, spec, years: list[int], base_year: int,
               delay_months: float, row: dict[str, object]) -> np.ndarray:
    """NPV and BCR of having the item (as given vs without), and the NPV lost per month
    of delay, into ``row``; returns the NPV per replication (M USD)."""
    rate, opex, annuity = spec.discount_rate, spec.opex_musd_per_year, annuities(spec, it)
    costs = cost_stream_usd(it.investments, it.base_dates, years, opex, annuity)
    costs_delayed = cost_stream_usd(it.investments, it.delayed_dates, years, opex, annuity)
    with_vs_without = _benefits_usd(values, base, it.without, spec)
    with_vs_delayed = _benefits_usd(values, base, it.delayed, spec)
    costed = any(i.cost_musd is not None for i in it.investments)
    pv, npv, bcr, delay = [], [], [], []
    for k in range(with_vs_without.shape[0]):
        n, b = npv_and_bcr(with_vs_without[k], costs, years, rate, base_year)
        pv.append(present_value(with_vs_without[k], years, rate, base_year) / 1e6)
        npv.append(n / 1e6 if costed else math.nan)
        bcr.append(b if costed else math.nan)
        # delaying loses the benefits in with_vs_delayed and saves the discounting of the costs
        d, _ = npv_and_bcr(with_vs_delayed[k], costs - costs_delayed, years, rate, base_year)
        delay.append(d / 1e6 / delay_months)
    row.update({**_interval("pv_benefits_musd", np.array(pv)), **_interval("npv_musd", np.array(npv)),
                **_interval("bcr", np.array(bcr)), **_interval("delay_cost_musd_per_month", np.array(delay))})
    row["npv_per_musd"] = float(np.mean(npv)) / it.cost_musd if it.cost_musd else float("nan")
    return np.array(pv)


def headline(table: pd.DataFrame, per_rep: dict[str, np.ndarray], years: list[int]) -> str:
    """Plain sentences: which item is worth most, by how much, and how sure that is (the
    paired interval of its lead over the second on the ranking measure); with values,
    also which costed item returns most per dollar."""
    if table.empty:
        return "No investment to appraise."
    economic = bool(table["pv_benefits_musd"].notna().any())
    top = table.iloc[0]
    span = f"{years[0]}-{years[-1]}"
    unit = "M USD" if economic else "Mt"
    what = (f"benefits worth {top.pv_benefits_musd:,.0f} M USD [{top.pv_benefits_musd_lo:,.0f}, "
            f"{top.pv_benefits_musd_hi:,.0f}] (present value, {top.gain_mt:+.2f} Mt of cargo over {span})"
            if economic else
            f"{top.gain_mt:+.2f} Mt [{top.gain_mt_lo:+.2f}, {top.gain_mt_hi:+.2f}] more corridor cargo over {span}")
    text = f"{top['item']} matters most, with {what}"
    if len(table) >= 2:
        second = table.iloc[1]
        mean, _, lo, hi = t_interval(per_rep[top["item"]] - per_rep[second["item"]])
        fmt = "{:+,.0f}" if economic else "{:+.2f}"
        band = f"{fmt.format(mean)} {unit} [{fmt.format(lo)}, {fmt.format(hi)}]"
        if np.isnan(lo):
            text += " (one replication: run more to know how sure this is)"
        elif lo > 0:
            text += f", clearly ahead of {second['item']} (its lead: {band}, 95% paired interval)"
        else:
            text += f", but not clearly ahead of {second['item']} (its lead: {band}; more replications would tell)"
    text += "."
    costed = table[table["npv_per_musd"].notna()] if economic else table.iloc[0:0]
    if len(costed):
        best = costed.loc[costed["npv_per_musd"].idxmax()]
        npv = (f"NPV {best.npv_musd:,.0f} M USD [{best.npv_musd_lo:,.0f}, {best.npv_musd_hi:,.0f}] for "
               f"{best.cost_musd:,.0f} M USD")
        if best.npv_musd > 0:
            text += f" Of the investments with a cost, {best['item']} returns most per dollar ({npv})."
        else:
            text += (f" No investment with a cost pays back within the horizon at these values; the closest is "
                     f"{best['item']} ({npv}).")
    return text


def step_values(values: pd.DataFrame, scenario: Scenario, with_: str, without: str, it: Item
                ) -> dict[str, np.ndarray]:
    """Per replication, what adding ``it`` to ``without`` (giving ``with_``) adds:
    ``gain_mt`` over the horizon and, with an ``appraisal:`` section, ``npv_musd``
    (benefits of with_ over without, less the item's costs). For sequencing."""
    gain = ((_pivot(values, with_, "delivered_t") - _pivot(values, without, "delivered_t")).sum(axis=1) / 1e6)
    out = {"gain_mt": gain.to_numpy()}
    spec = scenario.appraisal
    if spec is not None:
        years = sorted(values["year"].unique().tolist())
        base_year = spec.base_year or years[0]
        costs = cost_stream_usd(it.investments, it.base_dates, years, spec.opex_musd_per_year, annuities(spec, it))
        benefits = _benefits_usd(values, with_, without, spec)
        out["npv_musd"] = np.array([npv_and_bcr(b, costs, years, spec.discount_rate, base_year)[0] / 1e6
                                    for b in benefits])
    return out
