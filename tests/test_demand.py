"""Demand: monthly Poisson rates whose expected tonnage is the stated volume,
seasonality, interpolation between years, and the generated tonnage of a run
within a Poisson interval."""

from __future__ import annotations

import math
from datetime import date

import pytest

from simkit import make_scenario, stream
from model.engine.demand import month_rates, volume_mt
from model.scenario.schema import StreamSpec
from model.engine.simulate import run_replication

SEASON = [2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2]  # sums to 16


def spec(volume, season=None, shipment_t=500.0) -> StreamSpec:
    return StreamSpec(commodity="c", volume_mt_per_year=volume, shipment_t=shipment_t, route=["x"],
                      seasonality=season)


def expected_t(months) -> float:
    return sum(m.shipments_per_h * (m.end_h - m.start_h) for m in months) * 500.0


def test_expected_tonnage_of_each_year_is_the_stated_volume():
    s = spec({2024: 2.0, 2026: 4.0}, SEASON)
    months = month_rates(s, date(2024, 1, 1), date(2027, 1, 1))
    assert len(months) == 36
    for y in range(3):
        assert expected_t(months[12 * y: 12 * y + 12]) == pytest.approx([2.0, 3.0, 4.0][y] * 1e6)
    # seasonality: January carries 2/16 of the year, April 1/16
    assert expected_t(months[0:1]) == pytest.approx(2.0e6 * 2 / 16)
    assert expected_t(months[3:4]) == pytest.approx(2.0e6 * 1 / 16)
    # months tile the horizon
    assert months[0].start_h == 0 and all(a.end_h == b.start_h for a, b in zip(months, months[1:]))


def test_partial_months_get_their_share():
    """Starting on 16 Feb 2024 (29-day month) and ending on 11 Mar: 14/29 of February and 10/31 of March."""
    months = month_rates(spec(3.0), date(2024, 2, 16), date(2024, 3, 11))
    assert len(months) == 2
    assert expected_t(months) == pytest.approx(3.0e6 / 12 * (14 / 29 + 10 / 31))


def test_volume_interpolates_between_years_and_holds_outside():
    s = spec({2024: 4.0, 2028: 8.0})
    assert [volume_mt(s, y) for y in (2020, 2024, 2025, 2028, 2035)] == [4.0, 4.0, 5.0, 8.0, 8.0]
    assert volume_mt(spec(1.5), 2099) == 1.5


@pytest.mark.parametrize("start, end, season_share", [
    ("2024-02-01", "2024-03-01", 2 / 16),   # a winter month
    ("2024-06-01", "2024-07-01", 1 / 16),   # a summer month
])
def test_generated_tonnage_within_poisson_interval(start, end, season_share):
    """24 Mt/yr of 100 t shipments: the month's count is Poisson with mean
    240,000 x share (30,000 or 15,000); 4 sd is the tolerance (1.2-1.6%)."""
    s = make_scenario({"b": {"kind": "border", "dwell_h": 0}},
                      {"x": stream(["b"], 24.0, 100, seasonality=SEASON)}, start=start, end=end)
    r = run_replication(s, 0, 51)
    mean_n = 24e6 * season_share / 100
    n = sum(r.streams["x"].generated_t) / 100
    assert abs(n - mean_n) <= 4 * math.sqrt(mean_n)
