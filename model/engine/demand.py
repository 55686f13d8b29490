"""Demand streams: annual volumes become Poisson arrivals of shipments.

The arrival rate is constant within each calendar month: the year's volume
(linear between the years given, constant outside), times the month's share of
the seasonality, divided by the month's hours and the shipment size. So the
expected tonnage of every year is exactly the stated volume.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


from model.scenario.schema import Scenario, StreamSpec
from model.core.timeline import hours_since
from model.core.units import T_PER_MT
from model.core.years import YearGrid


def volume_mt(spec: StreamSpec, year: int) -> float:
    """Annual volume (Mt) of a stream in a year, interpolated between given years.

    >>> from model.scenario.schema import StreamSpec
    >>> s = StreamSpec(commodity="c", volume_mt_per_year={2024: 4.0, 2028: 8.0}, shipment_t=1, route=["a"])
    >>> volume_mt(s, 2023), volume_mt(s, 2026), volume_mt(s, 2030)
    (4.0, 6.0, 8.0)
    """
    return spec.volume_in(year)


@dataclass(frozen=True)
class MonthRate:
    start_h: float
    end_h: float
    shipments_per_h: float


def month_rates(spec: StreamSpec, start: date, end: date) -> list[MonthRate]:
    """Piecewise-constant arrival rates, one per calendar month of the horizon."""
    season = spec.seasonality or [1.0] * 12
    total = sum(season)
    out: list[MonthRate] = []
    y, m = start.year, start.month
    while date(y, m, 1) < end:
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        lo, hi = max(date(y, m, 1), start), min(date(ny, nm, 1), end)
        month_h = (date(ny, nm, 1) - date(y, m, 1)).days * 24.0
        tonnes = volume_mt(spec, y) * T_PER_MT * season[m - 1] / total
        out.append(MonthRate(hours_since(start, lo), hours_since(start, hi), tonnes / month_h / spec.shipment_t))
        y, m = ny, nm
    return out


def expected_tonnes_by_year(scenario: Scenario, sid: str) -> dict[int, float]:
    """Expected tonnes a stream generates in each calendar year of the horizon."""
    spec = scenario.streams[sid]
    grid = YearGrid(scenario.start_date, scenario.end_date)
    out = {y: 0.0 for y in grid.years}
    for m in month_rates(spec, scenario.start_date, scenario.end_date):
        y = grid.years[grid.index(m.start_h)]
        out[y] += m.shipments_per_h * (m.end_h - m.start_h) * spec.shipment_t
    return out
