"""Money over the years, as development banks' transport appraisals count it: pure
functions on numbers and arrays. ``model.analysis.ranking`` feeds them paired
differences between simulated scenarios.

* **Capital** is spent over construction years before the opening date (a spend
  profile, :func:`capex_flows_usd`), or optionally charged as an annuity over the
  asset's life (:func:`annualised_flows_usd`).
* **Residual value** at the horizon (:func:`residual_fraction`): what is left of an
  asset's life, straight line; an asset still being built is worth what has been
  spent on it. So a horizon never cuts a life short, and a delay never gains
  because a cost has left the horizon.
* **User benefits** by the rule of a half on generalised cost
  (:func:`rule_of_a_half_usd`), for cargo the investment attracts or keeps as well
  as cargo that would use the corridor anyway: cargo that leaves (reneges, is
  turned away) pays its outside option's cost (:func:`corridor_cost_usd_per_t`).
  For a logit choice this is the trapezoid of the exact consumer-surplus change,
  ``Δ logsum / λ`` (:func:`logsum_usd_per_t`).

All amounts are USD in the prices of the scenario's ``appraisal:`` values (real
terms: the discount rate is a real rate). Year ``y``'s flows are discounted by
``(1 + r) ^ -(y - base_year)``, the usual convention of project appraisal manuals
(the base year's flows are not discounted; flows before it are compounded to it).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Sequence

import numpy as np

DAYS_PER_YEAR = 365.25


def discount_factors(years: Sequence[int], rate: float, base_year: int) -> np.ndarray:
    """(1 + rate) ^ -(year - base_year) for each year.

    >>> discount_factors([2024, 2025, 2026], 0.1, 2024).round(4).tolist()
    [1.0, 0.9091, 0.8264]
    """
    return (1.0 + rate) ** -(np.asarray(years, dtype=float) - base_year)


def present_value(flows_usd: Sequence[float] | np.ndarray, years: Sequence[int], rate: float, base_year: int) -> float:
    """Discounted sum of yearly flows.

    >>> round(present_value([100.0, 100.0], [2024, 2025], 0.1, 2024), 2)
    190.91
    """
    return float(np.dot(np.asarray(flows_usd, dtype=float), discount_factors(years, rate, base_year)))


def year_share_after(when: date, year: int) -> float:
    """Share of calendar year ``year`` that lies after ``when`` (1 before it, 0 after)."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    if when <= start:
        return 1.0
    if when >= end:
        return 0.0
    return (end - when).days / (end - start).days


def capital_recovery_factor(rate: float, life_years: float) -> float:
    """The annuity that repays 1 over ``life_years`` at ``rate``: r / (1 - (1 + r)^-n).

    >>> round(capital_recovery_factor(0.06, 30), 5), capital_recovery_factor(0.0, 20)
    (0.07265, 0.05)
    """
    return 1.0 / life_years if rate == 0 else rate / (1.0 - (1.0 + rate) ** -life_years)


def years_before(when: date, years: int) -> date:
    """The same day ``years`` calendar years before ``when`` (29 February: the 28th).

    >>> years_before(date(2028, 2, 29), 1)
    datetime.date(2027, 2, 28)
    """
    try:
        return when.replace(year=when.year - years)
    except ValueError:
        return when.replace(year=when.year - years, day=28)


def _overlap_days(a: date, b: date, year: int) -> int:
    """Days of [a, b) inside calendar year ``year``."""
    lo, hi = max(a, date(year, 1, 1)), min(b, date(year + 1, 1, 1))
    return max(0, (hi - lo).days)


def capex_flows_usd(cost_usd: float, opening: date, shares: Sequence[float], years: Sequence[int],
                    until: date | None = None) -> np.ndarray:
    """A capital cost spent over ``len(shares)`` construction years ending at ``opening``:
    construction year k (the k-th of the years before the opening date) spends
    ``cost x shares[k]`` evenly over its days, and each calendar year of ``years`` gets
    what falls in it. Spending on or after ``until`` (the horizon's end) is left out.

    An opening on 1 January puts each share in one calendar year:

    >>> capex_flows_usd(100.0, date(2027, 1, 1), [0.2, 0.3, 0.5], [2023, 2024, 2025, 2026, 2027]).round(6).tolist()
    [0.0, 20.0, 30.0, 50.0, 0.0]
    """
    out = np.zeros(len(years))
    n = len(shares)
    total = float(sum(shares))
    for k, share in enumerate(shares):
        a, b = years_before(opening, n - k), years_before(opening, n - k - 1)
        days = (b - a).days
        if days <= 0 or share == 0:
            continue
        b_cut = min(b, until) if until is not None else b
        for i, y in enumerate(years):
            out[i] += cost_usd * share / total * _overlap_days(a, b_cut, y) / days
    return out


def spent_share(opening: date, shares: Sequence[float], by: date) -> float:
    """Share of an investment's capital spent before ``by`` (its profile ending at ``opening``).

    >>> spent_share(date(2030, 1, 1), [0.5, 0.5], date(2029, 1, 1)), spent_share(date(2030, 1, 1), [0.5, 0.5], date(2031, 1, 1))
    (0.5, 1.0)
    """
    n, total, spent = len(shares), float(sum(shares)), 0.0
    for k, share in enumerate(shares):
        a, b = years_before(opening, n - k), years_before(opening, n - k - 1)
        days = (b - a).days
        if days > 0:
            spent += share / total * min(max((by - a).days, 0), days) / days
    return spent


def residual_fraction(opening: date, life_years: float, horizon_end: date, shares: Sequence[float]) -> float:
    """Share of an investment's capital still worth having at ``horizon_end``: for an
    asset open by then, its remaining life over its life (straight line, never below
    0); for one still being built, the share of its capital spent so far (work in
    progress at cost). Entered as a benefit in the last year of the horizon.

    >>> residual_fraction(date(2030, 1, 1), 50, date(2050, 1, 1), [1.0])    # 20 of 50 years used
    0.6
    >>> residual_fraction(date(2052, 1, 1), 50, date(2050, 1, 1), [0.25] * 4)  # half built
    0.5
    """
    if opening <= horizon_end:
        used = (horizon_end - opening).days / DAYS_PER_YEAR
        return max(0.0, 1.0 - used / life_years)
    return spent_share(opening, shares, horizon_end)


def annualised_flows_usd(cost_usd: float, opening: date, crf: float, years: Sequence[int]) -> np.ndarray:
    """The capital charged as an annuity ``cost x crf`` a year from the opening date
    (the part of each year after it): the option ``capital_cost: annualised``."""
    return np.array([cost_usd * crf * year_share_after(opening, y) for y in years])


def running_flows_usd(usd_per_year: float, opening: date, years: Sequence[int]) -> np.ndarray:
    """A running cost from the opening date (the part of each year after it)."""
    return np.array([usd_per_year * year_share_after(opening, y) for y in years])


def npv_and_bcr(benefits_usd: Sequence[float] | np.ndarray, costs_usd: Sequence[float] | np.ndarray, years: Sequence[int], rate: float,
                base_year: int) -> tuple[float, float]:
    """Net present value of benefits less costs, and the benefit-cost ratio
    (present benefits over present costs; NaN without costs). A residual value is a
    negative cost.

    A constant benefit b from year 1 to n against a cost C in year 0 is the
    annuity b (1 - (1+r)^-n) / r - C:

    >>> npv, bcr = npv_and_bcr([0, 10, 10, 10], [25, 0, 0, 0], [2024, 2025, 2026, 2027], 0.05, 2024)
    >>> round(npv, 4), round(10 * (1 - 1.05 ** -3) / 0.05 - 25, 4), round(bcr, 4)
    (2.2325, 2.2325, 1.0893)
    """
    pv_b = present_value(benefits_usd, years, rate, base_year)
    pv_c = present_value(costs_usd, years, rate, base_year)
    return pv_b - pv_c, (pv_b / pv_c if pv_c > 0 else float("nan"))


def break_even_cost(pv_benefits: float, pv_other_costs: float, pv_per_unit_cost: float) -> float:
    """The capital cost at which NPV = 0: NPV(C) = PV(benefits) - PV(other costs) -
    C x PV(per unit of capital: its spend profile less its residual value), so
    C* = (PV(benefits) - PV(other costs)) / PV(per unit). Negative when the benefits
    do not even cover the running costs (no capital cost makes it pay).

    >>> break_even_cost(120.0, 20.0, 0.8)
    125.0
    """
    return (pv_benefits - pv_other_costs) / pv_per_unit_cost if pv_per_unit_cost > 0 else math.nan


# ------------------------------------------------------------------ users' benefits


def corridor_cost_usd_per_t(delivered_t: float, transit_days: float, left_t: float, tariff_usd_per_t: float,
                            vot_usd_per_t_day: float, outside_usd_per_t: float, wait_before_leaving_days: float
                            ) -> tuple[float, float]:
    """(tonnes that chose the corridor, their mean generalised cost USD/t) in a year:
    cargo delivered pays the tariff and its time door to door (queues included);
    cargo that chose the corridor and then left it (reneged, turned away) pays the time
    it waited and its outside option. Without an outside option (NaN) only delivered
    cargo counts. NaN cost when no cargo chose the corridor.

    >>> corridor_cost_usd_per_t(90.0, 10.0, 10.0, 100.0, 2.0, 150.0, 5.0)   # (90 x 120 + 10 x 160) / 100
    (100.0, 124.0)
    """
    if math.isnan(outside_usd_per_t):
        left_t = 0.0
    q = delivered_t + left_t
    if q <= 0:
        return 0.0, math.nan
    paid = delivered_t * (tariff_usd_per_t + vot_usd_per_t_day * transit_days) if delivered_t > 0 else 0.0
    paid += left_t * (outside_usd_per_t + vot_usd_per_t_day * wait_before_leaving_days) if left_t > 0 else 0.0
    return q, paid / q


def rule_of_a_half_usd(q_without: float, cost_without: float, q_with: float, cost_with: float,
                       choke_usd_per_t: float) -> float:
    """Users' benefit of a change in generalised cost: the full saving for cargo that
    uses the corridor either way and half of it for the cargo attracted (or kept):
    (c0 - c1) x (q0 + q1) / 2. A side with no cargo has the choke cost (the outside
    option: where demand for the corridor falls to nothing); nothing either way is 0.

    >>> rule_of_a_half_usd(100.0, 50.0, 120.0, 40.0, 80.0)   # 10 x 100 + 10 x 20 / 2
    1100.0
    >>> rule_of_a_half_usd(0.0, float("nan"), 50.0, 40.0, 80.0)  # a new route: half of (80 - 40) x 50
    1000.0
    """
    if q_without <= 0 and q_with <= 0:
        return 0.0
    c0 = cost_without if q_without > 0 else choke_usd_per_t
    c1 = cost_with if q_with > 0 else choke_usd_per_t
    if math.isnan(c0) or math.isnan(c1):
        return 0.0
    return (c0 - c1) * (q_without + q_with) / 2.0


def logsum_usd_per_t(costs_usd_per_t: Sequence[float], scale_per_usd: float) -> float:
    """Expected maximum utility of a logit choice among options of these generalised
    costs, in USD a tonne (minus the expected least cost, including the taste draw):
    -(1/λ) ln Σ exp(-λ c). Its change between two situations is the exact change in
    consumer surplus per tonne offered (Small & Rosen 1981).

    >>> round(logsum_usd_per_t([10.0, 10.0], 1.0), 4)   # two equal options: 10 - ln 2
    9.3069
    """
    c = np.asarray(costs_usd_per_t, dtype=float)
    m = float(c.min())
    return m - math.log(float(np.exp(-scale_per_usd * (c - m)).sum())) / scale_per_usd


def logit_share(cost_usd_per_t: float, others_usd_per_t: Sequence[float], scale_per_usd: float) -> float:
    """Share of the first option in a logit among it and ``others``.

    >>> logit_share(10.0, [10.0], 0.5)
    0.5
    """
    c = np.array([cost_usd_per_t, *others_usd_per_t], dtype=float)
    w = np.exp(-scale_per_usd * (c - c.min()))
    return float(w[0] / w.sum())
