"""Timelines, dates, investments folded into node specs, disruption and delay
factors, the year grid, unit conversions: hand-computed values."""

from __future__ import annotations

from datetime import date

import pytest

from simkit import make_scenario, run_traced, stream
from model.core.years import YearGrid
from model.core.timeline import (Timeline, add_months, combine, disruption_factor, duration_factors,
                            effective_investment_dates, hours_since, resolve_node_specs, timeline_from_spec)
from model.core.units import mt_per_year_from_t_per_h, paths_per_day_from_mt_per_year, t_per_h_from_mt_per_year


# ------------------------------------------------------------------ Timeline

def test_timeline_values_steps_and_integral():
    tl = Timeline([(100.0, 5.0), (0.0, 2.0), (300.0, 0.0)])  # given out of order
    assert tl.points == ((0.0, 2.0), (100.0, 5.0), (300.0, 0.0))
    assert [tl.at(h) for h in (-1.0, 0.0, 99.999, 100.0, 299.0, 300.0, 1e9)] == [2, 2, 2, 5, 5, 0, 0]
    assert tl.integral(50.0, 350.0) == 50 * 2 + 200 * 5 + 50 * 0
    assert tl.integral(120.0, 120.0) == 0 and tl.integral(200.0, 100.0) == 0
    assert tl.change_hours() == [100.0, 300.0]
    assert tl.next_change_after(100.0) == 300.0 and tl.next_change_after(300.0) is None
    assert tl.first_hour_where(lambda v: v > 3) == 100.0
    assert tl.first_hour_where(lambda v: v > 9) is None
    assert tl.maximum() == 5.0


def test_timeline_change_hours_skip_steps_that_do_not_change_the_value():
    tl = Timeline([(0, 1), (10, 1), (20, 3), (30, 3)])
    assert tl.change_hours() == [20.0]
    assert Timeline.constant(4.0).change_hours() == []


@pytest.mark.parametrize("mode, expected", [
    ("set", ((0.0, 2.0), (50.0, 7.0), (100.0, 5.0))),   # later steps keep their own values
    ("add", ((0.0, 2.0), (50.0, 9.0), (100.0, 12.0))),  # later steps shift too
    ("mul", ((0.0, 2.0), (50.0, 14.0), (100.0, 35.0))),
])
def test_with_step_modes(mode, expected):
    assert Timeline([(0, 2), (100, 5)]).with_step(50.0, 7.0, mode).points == expected


def test_with_step_before_start_is_clamped_to_zero():
    assert Timeline.constant(2.0).with_step(-10.0, 3.0, "add").at(0.0) == 5.0


def test_combine_takes_all_breakpoints():
    a = Timeline([(0, 2), (10, 3)])
    b = Timeline([(0, 1), (5, 0), (20, 1)])
    assert combine(lambda x, y: x * y, a, b).points == ((0, 2), (5, 0), (10, 0), (20, 3))


def test_timeline_from_spec_converts_dates_to_hours():
    tl = timeline_from_spec({date(2024, 1, 1): 1.0, date(2024, 3, 1): 4.0}, date(2024, 1, 1))
    assert tl.points == ((0.0, 1.0), ((31 + 29) * 24.0, 4.0))  # 2024 is a leap year
    assert timeline_from_spec(3, date(2024, 1, 1)).at(1e6) == 3.0


@pytest.mark.parametrize("start, months, expected", [
    (date(2028, 12, 31), 2, date(2029, 2, 28)),     # day clamped to the month's length
    (date(2027, 12, 31), 2, date(2028, 2, 29)),     # leap year
    (date(2026, 1, 15), -1.5, date(2025, 11, 30)),  # -1 month, then -15 days (0.5 x 30.44, rounded)
    (date(2025, 3, 10), 0.25, date(2025, 3, 18)),   # 7.61 days -> 8
    (date(2025, 3, 10), 0, date(2025, 3, 10)),
])
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


# --------------------------------------------------- investments and delays

NODES = {
    "port": {"kind": "port", "berths": 2, "capacity_mt_per_year": {"2024-01-01": 1.0, "2026-01-01": 1.5}},
    "rail": {"kind": "rail_line", "paths_per_day": 4, "train_payload_t": 1000},
    "border": {"kind": "border", "dwell_h": 10},
}
INVESTMENTS = [
    {"id": "a", "node": "port", "field": "capacity_mt_per_year", "change": "add", "value": 0.5,
     "date": "2025-01-01", "tags": ["x"]},
    {"id": "b", "node": "port", "field": "capacity_mt_per_year", "change": "mul", "value": 2.0,
     "date": "2025-07-01", "tags": ["x", "y"]},
    {"id": "c", "node": "rail", "field": "opening", "date": "2026-06-01", "tags": ["y"]},
]


def scenario(**extra):
    return make_scenario(NODES, {"s": stream(["port", "rail", "border"], 1.0, 500)}, end="2028-01-01",
                         investments=INVESTMENTS, **extra)


def test_investments_fold_into_timelines_in_date_order():
    specs = resolve_node_specs(scenario())
    cap = timeline_from_spec(specs["port"].capacity_mt_per_year, date(2024, 1, 1))
    h = lambda d: hours_since(date(2024, 1, 1), date.fromisoformat(d))  # noqa: E731
    # 1.0; +0.5 from 2025; x2 from mid-2025; the 2026 step (1.5) is shifted by both: (1.5 + 0.5) x 2
    assert [cap.at(h(d)) for d in ("2024-06-01", "2025-01-01", "2025-07-01", "2026-01-01")] == [1.0, 1.5, 3.0, 4.0]
    assert specs["rail"].opening_date == date(2026, 6, 1)
    assert specs["border"] == scenario().nodes["border"]  # no investment: unchanged


def test_project_delays_match_id_or_tag_and_add_up():
    s = scenario(delays={"projects": [{"match": "x", "months": 3}, {"match": "b", "months": 1},
                                      {"match": "y", "months": -12}]})
    when = effective_investment_dates(s)
    assert when["a"] == date(2025, 4, 1)                 # tag x: +3
    assert when["b"] == date(2024, 11, 1)                # tag x +3, id b +1, tag y -12: -8 months
    assert when["c"] == date(2025, 6, 1)                 # tag y: -12


def test_project_delay_clamps_to_start_and_drops_past_the_horizon():
    s = scenario(delays={"projects": [{"match": "a", "months": -36}, {"match": "c", "months": 24}]})
    when = effective_investment_dates(s)
    assert when["a"] == date(2024, 1, 1)
    assert when["c"] is None
    # an opening that slips past the horizon closes the line for the whole run
    assert resolve_node_specs(s)["rail"].opening_date == date(2028, 1, 1)


def test_disruption_factors_multiply_where_they_overlap():
    s = scenario(disruptions=[
        {"node": "port", "start": "2024-02-01", "end": "2024-04-01", "capacity_factor": 0.5},
        {"node": "port", "start": "2024-03-01", "end": "2024-05-01", "capacity_factor": 0.4},
        {"node": "rail", "start": "2024-03-01", "end": "2024-05-01"},
    ])
    f = disruption_factor(s, "port")
    h = lambda d: hours_since(date(2024, 1, 1), date.fromisoformat(d))  # noqa: E731
    assert [f.at(h(d)) for d in ("2024-01-15", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01")] == \
        [1.0, 0.5, pytest.approx(0.2), 0.4, 1.0]
    assert disruption_factor(s, "rail").at(h("2024-03-15")) == 0.0
    assert disruption_factor(s, "border").points == ((0.0, 1.0),)


def test_operational_delays_multiply_a_duration_from_a_date():
    s = scenario(delays={"operational": [{"node": "border", "field": "dwell_h", "factor": 1.5},
                                         {"node": "border", "field": "dwell_h", "factor": 2.0,
                                          "from_date": "2025-01-01"}]})
    f = duration_factors(s, "border")["dwell_h"]
    assert f.at(0.0) == 1.5 and f.at(hours_since(date(2024, 1, 1), date(2025, 1, 1))) == 3.0
    assert duration_factors(s, "port") == {}


def test_operational_delay_lengthens_border_dwell_in_the_run():
    """Border dwell 10 h, x3 from 1 July 2024: shipments dwell 10 h, then 30 h."""
    from model.engine.simulate import run_replication

    s = make_scenario({"border": {"kind": "border", "dwell_h": 10}}, {"s": stream(["border"], 0.1, 1000)},
                      delays={"operational": [{"node": "border", "field": "dwell_h", "factor": 3.0,
                                               "from_date": "2024-07-01"}]})
    transit = run_traced(s, seed=41).transit_h["s"]
    assert set(round(float(t), 9) for t in transit) == {10.0, 30.0}


# ------------------------------------------------------------- year grid

def test_year_grid_mid_year_start():
    g = YearGrid(date(2024, 7, 1), date(2026, 3, 1))
    assert g.years == [2024, 2025, 2026]
    assert g.bounds_h == [0.0, 184 * 24.0, (184 + 365) * 24.0, (184 + 365 + 59) * 24.0]
    assert list(g.hours()) == [184 * 24.0, 365 * 24.0, 59 * 24.0]
    assert [g.index(h) for h in (0.0, 4415.9, 4416.0, 1e9)] == [0, 0, 1, 2]


def test_year_grid_add_interval_splits_across_years_and_clips_at_horizon():
    g = YearGrid(date(2024, 1, 1), date(2026, 1, 1))
    acc = [0.0, 0.0]
    g.add_interval(acc, 8780.0, 8790.0)          # 4 h in 2024, 6 h in 2025
    g.add_interval(acc, 17540.0, 17600.0, 2.0)   # 4 h before the horizon, x2
    g.add_interval(acc, 100.0, 101.0)
    assert acc == [5.0, 6.0 + 8.0]


def test_year_grid_end_on_new_year_has_no_empty_year():
    assert YearGrid(date(2024, 1, 1), date(2025, 1, 1)).years == [2024]
    assert YearGrid(date(2024, 1, 1), date(2025, 1, 2)).years == [2024, 2025]


# ------------------------------------------------------------------ units

def test_unit_conversions():
    assert t_per_h_from_mt_per_year(8.76) == pytest.approx(1000.0)
    assert mt_per_year_from_t_per_h(t_per_h_from_mt_per_year(3.3)) == pytest.approx(3.3)
    # 5 Mt/yr with 2,500 t trains: 2,000 trains a year, 5.479 a day
    assert paths_per_day_from_mt_per_year(5.0, 2500.0) == pytest.approx(2000 / 365)
