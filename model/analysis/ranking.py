"""What each investment is worth: paired differences between the scenario as given,
the scenario without the investment, and the scenario with it delayed, valued as a
development bank's cost-benefit analysis values them (docs/appraisal.md).

Replication k of every variant uses the same random streams and the same draws of
the scenario's uncertain inputs (common random numbers), so each measure is computed
per replication as a difference between variants and its 95% interval is a paired
Student-t interval over replications: it covers the simulation's noise and, where
the scenario declares ``uncertainty:``, its inputs (demand, delays, costs, values).
Pure analysis: ``model.experiments.appraise`` builds the variants, runs them and calls
:func:`appraise_items` with the per-replication stream table and the replications'
drawn scenarios.

Per item (an investment, or all investments sharing a tag) and replication:

* cargo: ``gain_mt`` (delivered with it less without), ``lost_avoided_mt``,
  ``transit_saved_days``, ``delay_cost_mt_per_month``;
* with an ``appraisal:`` section, money (M USD, present values at the base year):
  users' benefits by the rule of a half on generalised cost, stream by stream and
  year by year; operators' and ports' margin on the tonnes gained; capital spent over
  its construction years (or annualised), less its residual value at the horizon;
  running costs. Hence ``npv_musd``, ``bcr``, the NPV at other rates, the
  ``break_even_cost_musd`` (the capital cost at which NPV = 0), and what a delay costs
  (``delay_cost_musd_per_month``: both NPVs against the scenario without it, capital
  moved with the delay).

Items are ranked by NPV; per replication too, which gives each item's probability of
each rank. An item without a cost has no NPV: it is listed after the ranked ones with
its break-even cost, so that an unknown cost never wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from model.analysis.economics import (annualised_flows_usd, break_even_cost, capex_flows_usd, capital_recovery_factor,
                                      discount_factors, residual_fraction, running_flows_usd)
from model.analysis.measures import APPRAISAL_TABLES as TABLES, LOST_COLUMNS
from model.analysis.stats import t_interval
from model.core.distributions import as_distribution
from model.core.timeline import add_months
from model.scenario.schema import AppraisalSpec, Investment, Scenario


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


# ------------------------------------------------------------------ per stream-year: tonnes and generalised cost


def _mean_days(spec: object) -> float:
    """Mean of a duration (a number or a distribution); 0 when none."""
    if spec is None:
        return 0.0
    m = as_distribution(spec).mean  # type: ignore[arg-type]
    return float(m() if callable(m) else m)


def stream_parameters(s: Scenario) -> pd.DataFrame:
    """Per corridor stream: what its cargo pays (USD/t) and how it values time, for the
    generalised cost; the value of time is the stream's, times the appraisal's
    ``value_of_time_factor``; the outside cost is the cheapest outside option's."""
    spec = s.appraisal
    factor = spec.value_of_time_factor if spec is not None else 1.0
    margins = spec.value_usd_per_t if spec is not None else {}
    rows = []
    for sid, st in s.streams.items():
        rows.append({"stream": sid, "tariff_usd_per_t": st.tariff_usd_per_t,
                     "vot_usd_per_t_day": st.value_of_time_usd_per_t_day * factor,
                     "outside_usd_per_t": _outside_valued(st, factor),
                     "patience_days": _mean_days(st.patience_days),
                     "margin_usd_per_t": margins.get(st.commodity, 0.0)})
    return pd.DataFrame(rows)


def _outside_valued(st: object, factor: float) -> float:
    """The cheapest outside option's generalised cost at the valued value of time (NaN: none)."""
    vot = st.value_of_time_usd_per_t_day * factor  # type: ignore[attr-defined]
    return min((o.tariff_usd_per_t + vot * o.transit_days for o in st.outside.values()),  # type: ignore[attr-defined]
               default=math.nan)


def stream_values(annual_streams: pd.DataFrame, scenario: Scenario | Sequence[Scenario]) -> pd.DataFrame:
    """Per variant x replication x year x corridor stream: delivered and lost tonnes,
    transit, and the cargo that chose the corridor (``q_t``: delivered + reneged +
    turned away) with its mean generalised cost (``gc_usd_per_t``: tariff + value of
    time x transit for delivered cargo; the time waited and the outside option for
    cargo that left), the outside option's cost (``choke_usd_per_t``) and the margin on a
    tonne. ``scenario``: one, or replication k's drawn scenario at position k (uncertain
    values of time, tariffs and margins then differ by replication)."""
    df = annual_streams[~annual_streams["background"].astype(bool)].copy()
    draws = [scenario] if isinstance(scenario, Scenario) else list(scenario)
    params = pd.concat([stream_parameters(s).assign(replication=k) for k, s in enumerate(draws)])
    if len(draws) == 1:
        params = params.drop(columns="replication")
        df = df.merge(params, on="stream", how="left")
    else:
        df = df.merge(params, on=["replication", "stream"], how="left")
    df["lost_t"] = df[list(LOST_COLUMNS)].sum(axis=1)
    df["transit_t_days"] = (df["delivered_t"] * df["transit_mean_days"]).fillna(0.0)
    has_out = df["outside_usd_per_t"].notna()
    reneged = np.where(has_out, df["reneged_t"], 0.0)
    turned = np.where(has_out, df["turned_away_t"], 0.0)
    delivered = df["delivered_t"].to_numpy(dtype=float)
    q = delivered + reneged + turned
    vot = df["vot_usd_per_t_day"].fillna(0.0).to_numpy(dtype=float)
    out = df["outside_usd_per_t"].fillna(0.0).to_numpy(dtype=float)
    paid = (delivered * (df["tariff_usd_per_t"].fillna(0.0).to_numpy() + vot * df["transit_mean_days"].fillna(0.0).to_numpy())
            + reneged * (out + vot * df["patience_days"].fillna(0.0).to_numpy()) + turned * out)
    with np.errstate(invalid="ignore", divide="ignore"):
        df["gc_usd_per_t"] = np.where(q > 0, paid / np.where(q > 0, q, 1.0), np.nan)
    df["q_t"] = q
    df["choke_usd_per_t"] = df["outside_usd_per_t"]
    df["vot_usd_per_t_day"] = vot
    if "demand_t" not in df.columns:  # a job stored before jobs kept it
        df["demand_t"] = np.nan
    return df[["scenario", "replication", "year", "stream", "commodity", "demand_t", "delivered_t", "lost_t",
               "transit_mean_days", "transit_t_days", "vot_usd_per_t_day", "q_t", "gc_usd_per_t",
               "choke_usd_per_t", "margin_usd_per_t"]]


def _pivot(v: pd.DataFrame, variant: str, column: str) -> pd.DataFrame:
    """replication x year totals over corridor streams."""
    g = v[v["scenario"] == variant].groupby(["replication", "year"])[column].sum()
    return g.unstack("year").sort_index()


def _mean_transit(v: pd.DataFrame, variant: str) -> pd.Series:
    """Per replication: tonne-weighted mean transit (days) over the horizon."""
    g = v[v["scenario"] == variant].groupby("replication")[["transit_t_days", "delivered_t"]].sum()
    return (g["transit_t_days"] / g["delivered_t"]).sort_index()


def benefits_usd(v: pd.DataFrame, with_: str, without: str, users: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(users', producers') benefits of ``with_`` over ``without``: replication x year
    arrays, USD. Users': the rule of a half on each stream-year's generalised cost of the
    cargo that chose the corridor (:func:`model.analysis.economics.rule_of_a_half_usd`,
    vectorised); producers': the margin on each tonne delivered with, less without."""
    keys = ["replication", "year", "stream"]
    b = v[v["scenario"] == with_].set_index(keys).sort_index()
    o = v[v["scenario"] == without].set_index(keys).reindex(b.index)
    q1, q0 = b["q_t"].to_numpy(dtype=float), o["q_t"].fillna(0.0).to_numpy(dtype=float)
    choke = b["choke_usd_per_t"].to_numpy(dtype=float)
    c1 = np.where(q1 > 0, b["gc_usd_per_t"].to_numpy(dtype=float), choke)
    c0 = np.where(q0 > 0, o["gc_usd_per_t"].to_numpy(dtype=float), choke)
    user = np.where((q0 > 0) | (q1 > 0), (c0 - c1) * (q0 + q1) / 2.0, 0.0)
    user = np.nan_to_num(user) if users else np.zeros_like(user)
    producer = (b["delivered_t"].to_numpy(dtype=float) - o["delivered_t"].fillna(0.0).to_numpy(dtype=float)) \
        * b["margin_usd_per_t"].fillna(0.0).to_numpy(dtype=float)
    frame = pd.DataFrame({"user": user, "producer": producer}, index=b.index)
    per = frame.groupby(level=["replication", "year"]).sum()
    return (per["user"].unstack("year").sort_index().to_numpy(), per["producer"].unstack("year").sort_index().to_numpy())


# ------------------------------------------------------------------ capital


def opening_dates(s: Scenario) -> dict[str, date]:
    """Each investment's date after the scenario's project delays, wherever it falls
    (past the horizon too: its construction may have begun inside it)."""
    out = {}
    for inv in s.investments:
        months = sum(d.months for d in s.delays.projects if d.match == inv.id or d.match in inv.tags)
        out[inv.id] = add_months(inv.date, months) if months else inv.date
    return out


@dataclass
class Capital:
    """Yearly flows of an item's capital over ``years`` (USD): spend, residual value
    (in the last year, positive) and running costs; and, per USD of capital, the
    present-value weight of spend less residual (for the break-even cost)."""

    years: list[int]
    spend: np.ndarray
    residual: np.ndarray
    opex: np.ndarray
    unit_flows: np.ndarray  # per USD of the item's capital, spread as its costs are (spend - residual)


def capital(invs: list[Investment], draw: Scenario, spec: AppraisalSpec, years: list[int], horizon_end: date,
            shift_months: float = 0.0) -> Capital:
    """The capital flows of ``invs`` as drawn in replication ``draw`` (its costs and
    dates), their openings ``shift_months`` later. An investment without a cost has
    none; its weight in ``unit_flows`` is that of an equal share of the item (the
    others weighted by their costs)."""
    dates = opening_dates(draw)
    costs = {i.id: i.cost_musd for i in draw.investments}
    spend, resid, opex, unit = (np.zeros(len(years)) for _ in range(4))
    known = [costs.get(i.id) for i in invs]
    total = sum(c or 0.0 for c in known)
    # the break-even cost is spread over the investments as their costs are; equally if any has none
    weights = [(c or 0.0) / total for c in known] if all(c is not None for c in known) and total > 0 \
        else [1.0 / len(invs)] * len(invs)
    for inv, w in zip(invs, weights):
        opening = add_months(dates[inv.id], shift_months) if shift_months else dates[inv.id]
        cost = (costs.get(inv.id) or 0.0) * 1e6
        per = _unit_capital(inv, opening, spec, years, horizon_end)
        spend += cost * per[0]
        resid += cost * per[1]
        unit += w * (per[0] - per[1])
        opex += running_flows_usd(spec.opex_musd_per_year.get(inv.id, 0.0) * 1e6, opening, years)
    return Capital(years, spend, resid, opex, unit)


def _unit_capital(inv: Investment, opening: date, spec: AppraisalSpec, years: list[int], horizon_end: date
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(spend, residual) per USD of an investment's cost."""
    if spec.capital_cost == "annualised":
        crf = capital_recovery_factor(spec.discount_rate, spec.life(inv))
        return annualised_flows_usd(1.0, opening, crf, years), np.zeros(len(years))
    shares = spec.profile(inv)
    spend = capex_flows_usd(1.0, opening, shares, years, until=horizon_end)
    resid = np.zeros(len(years))
    if spec.residual_value == "straight_line":
        resid[-1] = residual_fraction(opening, spec.life(inv), horizon_end, shares)
    return spend, resid


def first_spend_year(invs: list[Investment], draw: Scenario, spec: AppraisalSpec) -> int:
    """The earliest calendar year any of ``invs`` spends in (as drawn)."""
    dates = opening_dates(draw)
    years = [dates[i.id].year - (len(spec.profile(i)) if spec.capital_cost == "profile" else 0) - 1 for i in invs]
    return min(years)


# ------------------------------------------------------------------ the table


def _interval(prefix: str, values: np.ndarray) -> dict[str, float]:
    mean, _, lo, hi = t_interval(np.asarray(values, dtype=float))
    return {prefix: mean, f"{prefix}_lo": lo, f"{prefix}_hi": hi}


@dataclass
class Ranked:
    """What :func:`appraise_items` finds: the ranked table, its yearly companion, NPVs at
    the other discount rates, each item's probability of each rank, the per-replication
    NPV (or, without an appraisal section, cargo gained) by item, and per measure
    (``gain_mt``, ``npv_musd``, ``pv_benefits_musd``) each item's value per replication."""

    table: pd.DataFrame
    yearly: pd.DataFrame
    rates: pd.DataFrame
    ranks: pd.DataFrame
    per_rep: dict[str, np.ndarray]
    replications: int
    samples: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def common(self) -> int:
        """Replications every item has (they differ after ``appraise --precision``)."""
        return min((len(v) for v in self.per_rep.values()), default=self.replications)


Estimator = Callable[[str, str, np.ndarray], "dict[str, object] | None"]
"""``(item, column, per-replication values) -> row columns`` (the column's mean and interval, and
what else the estimator reports), or None to keep the plain Student-t interval."""


def appraise_items(values: pd.DataFrame, scenario: Scenario, base: str, items: list[Item], delay_months: float,
                   draws: Sequence[Scenario] | None = None, counts: Mapping[str, int] | None = None,
                   estimate: Estimator | None = None) -> Ranked:
    """The items ranked (see the module docstring). ``draws``: replication k's scenario
    as drawn (its uncertain inputs fixed); the scenario itself for every replication
    when None. ``counts``: replications of each item (its variants' replications 0 to
    count - 1, paired with the base's; all the base has when None). ``estimate``: another
    estimator of ``gain_mt`` and ``npv_musd`` (control variates), used for the ranking too."""
    years = sorted(int(y) for y in values["year"].unique())
    n = int(values["replication"].nunique())
    draws = list(draws) if draws is not None else [scenario] * n
    economic = scenario.appraisal is not None
    rows, yearly, rate_rows = [], [], []
    per_rep: dict[str, np.ndarray] = {}
    samples: dict[str, dict[str, np.ndarray]] = {"gain_mt": {}, "npv_musd": {}, "pv_benefits_musd": {}}
    variants = set(values["scenario"].unique())
    bases: dict[int, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series]] = {}
    for it in items:
        m = min(n, counts.get(it.name, n)) if counts is not None else n
        if m not in bases:
            v = values if m == n else values[values["replication"] < m]
            bases[m] = (v, _pivot(v, base, "delivered_t"), _pivot(v, base, "lost_t"), _mean_transit(v, base))
        v, deliv_base, lost_base, transit_base = bases[m]
        gain = (deliv_base - _pivot(v, it.without, "delivered_t")).to_numpy() / 1e6  # rep x year, Mt
        lost_avoided = (_pivot(v, it.without, "lost_t") - lost_base).to_numpy() / 1e6
        delay_loss = (deliv_base - _pivot(v, it.delayed, "delivered_t")).to_numpy() / 1e6 \
            if it.delayed in variants else np.full_like(gain, np.nan)  # (not run: an appraisal as announced)
        saved = (_mean_transit(v, it.without) - transit_base).to_numpy()
        row: dict[str, object] = {
            "item": it.name, "by": it.by, "investments": " ".join(i.id for i in it.investments),
            "cost_musd": it.cost_musd if any(i.cost_musd is not None for i in it.investments) else math.nan,
            "first_date": it.first_date.isoformat() if it.first_date else "",
            "replications": m,
            **_interval("gain_mt", gain.sum(axis=1)),
            **_interval("lost_avoided_mt", lost_avoided.sum(axis=1)),
            **_interval("transit_saved_days", saved),
            **_interval("delay_cost_mt_per_month", delay_loss.sum(axis=1) / delay_months)}
        samples["gain_mt"][it.name] = gain.sum(axis=1)
        per_rep[it.name] = gain.sum(axis=1)
        benefit_years = np.zeros_like(gain)
        if economic:
            econ = _economics(v, base, it, draws[:m], years, scenario.end_date, delay_months)
            per_rep[it.name] = econ.pop("_npv")
            samples["npv_musd"][it.name] = per_rep[it.name]
            samples["pv_benefits_musd"][it.name] = econ.pop("_pv_benefits")
            benefit_years = econ.pop("_benefit_years")
            rate_rows += econ.pop("_rates")
            row.update(econ)
        if estimate is not None:
            for col in ("gain_mt", "npv_musd", "pv_benefits_musd"):
                if it.name in samples[col]:
                    row.update(estimate(it.name, col, samples[col][it.name]) or {})
        row["mt_per_musd"] = float(row["gain_mt"]) / it.cost_musd if it.cost_musd else math.nan  # type: ignore[arg-type]
        row["note"] = ""
        rows.append(row)
        for j, y in enumerate(years):
            yearly.append({"item": it.name, "year": y, **_interval("gain_mt", gain[:, j]),
                           **_interval("delay_loss_mt", delay_loss[:, j]),
                           **_interval("benefits_musd", benefit_years[:, j] / 1e6 if economic
                                       else np.full(len(gain), np.nan))})
    table, ranks = _rank(rows, per_rep, economic)
    table["note"] = [explain(r, years, scenario) for r in table.to_dict("records")]
    rates = TABLES["appraisal_rates"].frame(rate_rows) if rate_rows else TABLES["appraisal_rates"].frame([])
    return Ranked(table, TABLES["appraisal_years"].frame(yearly), rates, ranks, per_rep, n, samples)


def _rank(rows: list[dict], per_rep: dict[str, np.ndarray], economic: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rank by NPV (the row's estimate: the mean over replications) the items that have a
    cost, and per replication, for each item's probability of each rank (over the replications
    every ranked item has); items without a cost come after, by present value of benefits, with
    rank 0. Without an appraisal section: by cargo gained."""
    costed = [r for r in rows if not economic or _sortable(r.get("npv_musd")) > -math.inf]
    rest = [r for r in rows if r not in costed]
    key = "npv_musd" if economic else "gain_mt"
    costed.sort(key=lambda r: -_sortable(r.get(key)))
    rest.sort(key=lambda r: -_sortable(r.get("pv_benefits_musd")))
    names = [r["item"] for r in costed]
    rank_rows = []
    if names:
        common = min(len(per_rep[nm]) for nm in names)
        m = np.column_stack([per_rep[nm][:common] for nm in names])  # rep x item
        m = np.where(np.isnan(m), -np.inf, m)
        # per replication, rank 1 = highest; ties broken by the overall order (stable)
        order = np.argsort(-m, axis=1, kind="stable")
        rank_of = np.empty_like(order)
        for k in range(m.shape[0]):
            rank_of[k, order[k]] = np.arange(1, len(names) + 1)
        for j, nm in enumerate(names):
            counts = np.bincount(rank_of[:, j], minlength=len(names) + 1)[1:]
            for rank, c in enumerate(counts, start=1):
                rank_rows.append({"item": nm, "rank": rank, "probability": c / m.shape[0]})
        for j, r in enumerate(costed):
            r["p_first"] = float(np.mean(rank_of[:, j] == 1))
    for i, r in enumerate(costed):
        r["rank"] = i + 1
    for r in rest:
        r["rank"] = 0
        r["p_first"] = math.nan
    nan_cols = {c: math.nan for c in TABLES["appraisal"].names()}
    table = TABLES["appraisal"].frame([{**nan_cols, "rank_announced": 0, "note": "", **r} for r in costed + rest])
    return table, TABLES["appraisal_ranks"].frame(rank_rows)


def _sortable(x: object) -> float:
    """A ranking value; missing or NaN ranks last."""
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return -math.inf
    return -math.inf if math.isnan(v) else v


def _economics(values: pd.DataFrame, base: str, it: Item, draws: list[Scenario], sim_years: list[int],
               horizon_end: date, delay_months: float) -> dict:
    """The money columns of an item's row (intervals over replications), with its
    per-replication NPV (``_npv``, M USD), yearly benefits (``_benefit_years``, USD,
    replication x simulated year) and its rows at other rates (``_rates``)."""
    user, producer = benefits_usd(values, base, it.without, draws[0].appraisal.user_benefits)  # type: ignore[union-attr]
    n = user.shape[0]
    if it.delayed in set(values["scenario"].unique()):
        user_d, producer_d = benefits_usd(values, it.delayed, it.without, draws[0].appraisal.user_benefits)  # type: ignore[union-attr]
    else:  # not run (an appraisal as announced): no delay cost
        user_d = producer_d = np.full_like(user, np.nan)
    specs = [d.appraisal for d in draws]
    first = min(first_spend_year(it.investments, d, s) for d, s in zip(draws, specs))  # type: ignore[arg-type]
    base_year = specs[0].base_year or sim_years[0]  # type: ignore[union-attr]
    years = list(range(min(first, sim_years[0], base_year), sim_years[-1] + 1))
    pad = years.index(sim_years[0])
    ids = {i.id for i in it.investments}
    costed = all(c.cost_musd is not None for d in draws for c in d.investments if c.id in ids)
    rates = sorted({specs[0].discount_rate, *specs[0].sensitivity_rates})  # type: ignore[union-attr]
    out: dict[str, list[float]] = {c: [] for c in (
        "pv_benefits_musd", "pv_user_benefits_musd", "pv_producer_musd", "pv_capital_musd", "pv_residual_musd",
        "npv_musd", "bcr", "break_even_cost_musd", "delay_cost_musd_per_month", "npv_per_musd")}
    at_rate: dict[float, dict[str, list[float]]] = {r: {"npv": [], "bcr": [], "be": []} for r in rates}
    for k in range(n):
        spec = specs[k]
        cap = capital(it.investments, draws[k], spec, years, horizon_end)  # type: ignore[arg-type]
        cap_d = capital(it.investments, draws[k], spec, years, horizon_end, delay_months)  # type: ignore[arg-type]
        b = np.zeros(len(years))
        b[pad:] = user[k] + producer[k]
        b_d = np.zeros(len(years))
        b_d[pad:] = user_d[k] + producer_d[k]
        cost_k = sum((c.cost_musd or 0.0) for c in draws[k].investments if c.id in ids)
        for r in rates:
            df = discount_factors(years, r, base_year)
            pv_b, pv_cap, pv_res, pv_opex = (float(df @ x) for x in (b, cap.spend, cap.residual, cap.opex))
            net_cost = pv_cap - pv_res + pv_opex
            npv = pv_b - net_cost
            be = break_even_cost(pv_b, pv_opex, float(df @ cap.unit_flows)) / 1e6
            at_rate[r]["npv"].append(npv / 1e6 if costed else math.nan)
            at_rate[r]["bcr"].append(pv_b / net_cost if costed and net_cost > 0 else math.nan)
            at_rate[r]["be"].append(be)
            if r == spec.discount_rate:  # type: ignore[union-attr]
                pv_u = float(df[pad:] @ user[k])
                npv_d = float(df @ b_d) - (float(df @ cap_d.spend) - float(df @ cap_d.residual) + float(df @ cap_d.opex))
                out["pv_benefits_musd"].append(pv_b / 1e6)
                out["pv_user_benefits_musd"].append(pv_u / 1e6)
                out["pv_producer_musd"].append((pv_b - pv_u) / 1e6)
                out["pv_capital_musd"].append(pv_cap / 1e6 if costed else math.nan)
                out["pv_residual_musd"].append(pv_res / 1e6 if costed else math.nan)
                out["npv_musd"].append(npv / 1e6 if costed else math.nan)
                out["bcr"].append(pv_b / net_cost if costed and net_cost > 0 else math.nan)
                out["break_even_cost_musd"].append(be)
                out["delay_cost_musd_per_month"].append((npv - npv_d) / 1e6 / delay_months if costed else
                                                        (pv_b - float(df @ b_d)) / 1e6 / delay_months)
                out["npv_per_musd"].append(npv / 1e6 / cost_k if costed and cost_k else math.nan)
    row: dict = {}
    for c, v in out.items():
        if c == "npv_per_musd":
            row[c] = float(np.nanmean(v)) if not all(math.isnan(x) for x in v) else math.nan
        else:
            row.update(_interval(c, np.array(v)))
    row["_npv"] = np.array(out["npv_musd"])
    row["_pv_benefits"] = np.array(out["pv_benefits_musd"])
    row["_benefit_years"] = user + producer
    row["_rates"] = [{"item": it.name, "discount_rate": r, **_interval("npv_musd", np.array(at_rate[r]["npv"])),
                      **_interval("bcr", np.array(at_rate[r]["bcr"])),
                      **_interval("break_even_cost_musd", np.array(at_rate[r]["be"]))} for r in rates]
    return row


# ------------------------------------------------------------------ words


def explain(r: dict, years: list[int], scenario: Scenario) -> str:
    """A sentence on what is surprising about an item's figure, or ''."""
    notes = []
    spec = scenario.appraisal
    inv = {i.id: i for i in scenario.investments}
    ids = str(r.get("investments", "")).split()
    opening = opening_dates(scenario)
    end = scenario.end_date
    if spec is not None and ids:
        last = max(opening[i] for i in ids)
        left = (end - last).days / 365.25
        life = max(spec.life(inv[i]) for i in ids)
        if last >= end:
            notes.append(f"opens {last.isoformat()}, after the horizon: what is spent before {end.isoformat()} "
                         "comes back as work in progress; no benefit is measured")
        elif left < 0.5 * life:
            notes.append(f"opens {last.isoformat()}: {left:.0f} of its {life:.0f} years of life fall inside the "
                         f"horizon; the rest is its residual value ({_musd(r.get('pv_residual_musd'))} M USD today)")
    gain_lo, gain_hi = r.get("gain_mt_lo", math.nan), r.get("gain_mt_hi", math.nan)
    saved = r.get("transit_saved_days", math.nan)
    users, users_hi = r.get("pv_user_benefits_musd", math.nan), r.get("pv_user_benefits_musd_hi", math.nan)
    no_cargo = gain_lo == gain_lo and gain_lo <= 0 <= gain_hi and abs(r.get("gain_mt", 0.0)) < 0.05 * len(years)
    if users == users and users < 0 and not users_hi >= 0:  # clearly (or, with one replication, on the mean)
        notes.append(f"shippers lose on balance ({_musd(users)} M USD): "
                     + ("the logit sends some cargo to a slower branch, or it moves cargo faster into a queue further "
                        f"on (door-to-door transit {-saved:+.2f} days with it)" if saved == saved and saved < 0 else
                        "cargo gained or kept pays more than what uses the corridor anyway saves")
                     + ("; it adds no cargo measurably" if no_cargo else ""))
    elif no_cargo:
        notes.append("adds no cargo measurably: where it adds capacity does not bind")
    delay_hi = r.get("delay_cost_musd_per_month_hi", math.nan)
    if delay_hi == delay_hi and delay_hi < 0:
        notes.append("a delay saves money: in its first years its benefits are worth less than its capital's "
                     "interest and wear")
    npv_lo, npv_hi = r.get("npv_musd_lo", math.nan), r.get("npv_musd_hi", math.nan)
    if npv_lo == npv_lo and npv_lo <= 0 <= npv_hi:
        notes.append("its NPV interval contains 0")
    if r.get("cost_musd") != r.get("cost_musd"):
        be = r.get("break_even_cost_musd", math.nan)
        notes.append(f"no cost given: it pays if it costs less than {_musd(be)} M USD" if be == be and be > 0 else
                     "no cost given, and no cost would make it pay")
    return "; ".join(notes)


def _musd(x: object) -> str:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    return "–" if math.isnan(v) else f"{v:,.0f}"


def _band(r: pd.Series, col: str, fmt: str, n: int) -> str:
    """"mean [lo, hi]", or "mean (1 replication: no interval)"."""
    mean = fmt.format(r[col])
    if n < 2 or r[f"{col}_lo"] != r[f"{col}_lo"]:
        return f"{mean} (1 replication: no interval)"
    return f"{mean} [{fmt.format(r[f'{col}_lo'])}, {fmt.format(r[f'{col}_hi'])}]"


def headline(table: pd.DataFrame, per_rep: dict[str, np.ndarray], years: list[int], n: int | None = None) -> str:
    """Plain sentences: the item with the highest NPV and how robust its first place is
    (its probability of being first over the replications, and the paired interval of
    its lead over the second); which items pay back; items without a cost with their
    break-even cost. Without an appraisal section: the cargo each adds. "Matters most" is
    said only of an item whose interval excludes 0 and whose lead is clear."""
    if table.empty:
        return "No investment to appraise."
    n = n if n is not None else len(next(iter(per_rep.values())))
    economic = bool(table["pv_benefits_musd"].notna().any())
    span = f"{years[0]}-{years[-1]}" if years[-1] > years[0] else f"{years[0]}"
    ranked = table[table["rank"] > 0]
    if ranked.empty:
        text = "No investment has a cost, so none has an NPV."
    else:
        top = ranked.iloc[0]
        col, fmt, unit = ("npv_musd", "{:+,.0f}", "M USD") if economic else ("gain_mt", "{:+.2f}", "Mt")
        what = (f"an NPV of {_band(top, col, fmt, n)} M USD at {years[0]} prices over {span} (residual value at the "
                f"horizon included)" if economic else f"{_band(top, col, fmt, n)} Mt more corridor cargo over {span}")
        clear_value = n >= 2 and top[f"{col}_lo"] > 0
        lead_clear = len(ranked) == 1  # alone, it leads nothing
        lead_text = ""
        if len(ranked) >= 2:
            second = ranked.iloc[1]
            a, b = per_rep[top["item"]], per_rep[second["item"]]
            r = min(len(a), len(b))  # paired over the replications both have
            mean, _, lo, hi = t_interval(a[:r] - b[:r])
            if n >= 2:
                lead_clear = lo > 0
                lead_text = (f"its lead over {second['item']}: {fmt.format(mean)} {unit} [{fmt.format(lo)}, "
                             f"{fmt.format(hi)}]")
            else:
                lead_text = f"its lead over {second['item']}: {fmt.format(mean)} {unit} (1 replication: no interval)"
        p_first = top["p_first"] if economic and top["p_first"] == top["p_first"] else math.nan
        if clear_value and lead_clear and (p_first != p_first or p_first >= 0.5):
            text = f"{top['item']} matters most, with {what}"
        else:
            text = f"{top['item']} ranks first, with {what}"
        if p_first == p_first and n >= 2:
            text += f"; it is first in {round(p_first * n)} of {n} replications"
        if lead_text:
            text += f" ({lead_text}{'' if lead_clear or n < 2 else ': not clearly ahead'})"
        if economic and not clear_value:
            text += ("; run more replications to know how sure this is" if n < 2 else
                     "; even it loses money at these values" if top[f"{col}_hi"] < 0 else
                     "; its NPV interval contains 0, so it is not clearly worth its cost at these values")
        text += "."
        if economic:
            pays = ranked[(ranked["npv_musd_lo"] > 0)] if n >= 2 else ranked.iloc[0:0]
            loses = ranked[(ranked["npv_musd_hi"] < 0)] if n >= 2 else ranked.iloc[0:0]
            if n >= 2:
                text += (f" {len(pays)} of {len(ranked)} investments with a cost clearly pay back "
                         f"({', '.join(pays['item']) or 'none'}); {len(loses)} clearly lose money"
                         f"{' (' + ', '.join(loses['item']) + ')' if len(loses) else ''}.")
    free = table[table["rank"] == 0]
    if economic and len(free):
        parts = [f"{r['item']} (pays below {_musd(r['break_even_cost_musd'])} M USD)" if r["break_even_cost_musd"] > 0
                 else f"{r['item']} (no cost makes it pay)" for _, r in free.iterrows()]
        text += " Without a cost, not ranked: " + ", ".join(parts) + "."
    return text


# ------------------------------------------------------------------ as announced, beside as likely


def announced_columns(table: pd.DataFrame, announced: "Ranked") -> pd.DataFrame:
    """The ranked table with each item's NPV and rank as announced (from an appraisal of
    the scenario without its drawn project delays) beside its own (as likely)."""
    a = announced.table.set_index("item")
    out = table.copy()
    for c in ("npv_musd", "npv_musd_lo", "npv_musd_hi"):
        out[c.replace("npv_musd", "npv_announced_musd")] = out["item"].map(a[c])
    out["rank_announced"] = out["item"].map(a["rank"]).fillna(0).astype(int)
    return TABLES["appraisal"].conform(out)


# ------------------------------------------------------------------ a programme


def step_values(values: pd.DataFrame, scenario: Scenario, with_: str, without: str, it: Item,
                draws: Sequence[Scenario] | None = None) -> dict[str, np.ndarray]:
    """Per replication, what adding ``it`` to ``without`` (giving ``with_``) adds:
    ``gain_mt`` over the horizon and, with an ``appraisal:`` section, ``npv_musd``
    (benefits of with_ over without, less the item's capital net of its residual value,
    and running costs). For sequencing."""
    gain = ((_pivot(values, with_, "delivered_t") - _pivot(values, without, "delivered_t")).sum(axis=1) / 1e6)
    out = {"gain_mt": gain.to_numpy()}
    spec = scenario.appraisal
    if spec is not None:
        sim_years = sorted(int(y) for y in values["year"].unique())
        draws = list(draws) if draws is not None else [scenario] * len(gain)
        user, producer = benefits_usd(values, with_, without, spec.user_benefits)
        base_year = spec.base_year or sim_years[0]
        first = min(first_spend_year(it.investments, d, d.appraisal or spec) for d in draws)
        years = list(range(min(first, sim_years[0], base_year), sim_years[-1] + 1))
        pad = years.index(sim_years[0])
        npv = []
        for k in range(len(user)):
            sp = draws[k].appraisal or spec
            cap = capital(it.investments, draws[k], sp, years, scenario.end_date)
            df = discount_factors(years, sp.discount_rate, base_year)
            b = np.zeros(len(years))
            b[pad:] = user[k] + producer[k]
            npv.append(float(df @ (b - cap.spend + cap.residual - cap.opex)) / 1e6)
        out["npv_musd"] = np.array(npv)
    return out
