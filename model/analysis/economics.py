"""Money over the years: discounting, an investment's cost stream, the value of a
change in delivered cargo and transit time. Pure functions on numbers and arrays:
``model.analysis.ranking`` feeds them paired differences between simulated scenarios.

All amounts are USD in the prices of the scenario's ``appraisal:`` values (real
terms: the discount rate is a real rate). Year ``y``'s flows are discounted by
``(1 + r) ^ -(y - base_year)``, the usual convention of project appraisal manuals
(the base year's flows are not discounted).
"""

from __future__ import annotations

from datetime import date
from typing import Iterable, Mapping, Sequence

import numpy as np

from model.scenario.schema import Investment


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


def cost_stream_usd(investments: Iterable[Investment], dates: Mapping[str, date | None], years: Sequence[int],
                    opex_musd_per_year: Mapping[str, float], annuity: Mapping[str, float] | None = None
                    ) -> np.ndarray:
    """Yearly cost of the given investments from their (effective) dates: running
    costs for the part of each year after the date, and ``cost_musd`` either all in
    the year of the date (``annuity`` None) or as ``cost x annuity[id]`` a year for
    the part of each year after it (an annualised capital charge: only the years of
    the asset's life inside the horizon count, as only those years' benefits do).
    An investment whose date falls outside the horizon (``None``) costs nothing
    within it: delaying past the horizon is the same as not investing."""
    out = np.zeros(len(years))
    for inv in investments:
        when = dates.get(inv.id)
        if when is None:
            continue
        opex = opex_musd_per_year.get(inv.id, 0.0) * 1e6
        capex = (inv.cost_musd or 0.0) * 1e6
        for i, y in enumerate(years):
            share = year_share_after(when, y)
            if capex and annuity is None and y == when.year:
                out[i] += capex
            elif capex and annuity is not None:
                out[i] += capex * annuity[inv.id] * share
            out[i] += opex * share
    return out


def npv_and_bcr(benefits_usd: Sequence[float] | np.ndarray, costs_usd: Sequence[float] | np.ndarray, years: Sequence[int], rate: float,
                base_year: int) -> tuple[float, float]:
    """Net present value of benefits less costs, and the benefit-cost ratio
    (present benefits over present costs; NaN without costs).

    A constant benefit b from year 1 to n against a cost C in year 0 is the
    annuity b (1 - (1+r)^-n) / r - C:

    >>> npv, bcr = npv_and_bcr([0, 10, 10, 10], [25, 0, 0, 0], [2024, 2025, 2026, 2027], 0.05, 2024)
    >>> round(npv, 4), round(10 * (1 - 1.05 ** -3) / 0.05 - 25, 4), round(bcr, 4)
    (2.2325, 2.2325, 1.0893)
    """
    pv_b = present_value(benefits_usd, years, rate, base_year)
    pv_c = present_value(costs_usd, years, rate, base_year)
    return pv_b - pv_c, (pv_b / pv_c if pv_c > 0 else float("nan"))
