"""Opening dates, dated investments and project delays, checked on saturated nodes
(demand well above capacity, so throughput follows capacity)."""

from __future__ import annotations

import numpy as np
import pytest

from simkit import hour, make_scenario, mt_over, run_with_spy, stream
from model.analysis.tables import capacity_t
from model.engine.simulate import run_replication

RAIL = {"kind": "rail_line", "paths_per_day": 2, "train_payload_t": 1000, "transit_h": 20, "max_wait_h": 24}


def test_rail_line_closed_until_opening_date_carries_nothing_before():
    """Opens 1 Jan 2025 on a 2024-2025 horizon: nothing in 2024, then
    2 trains of 1,000 t a day (demand 1.5 Mt/yr keeps it saturated)."""
    s = make_scenario({"rail": {**RAIL, "opening_date": "2025-01-01"}}, {"x": stream(["rail"], 1.5, 500)},
                      end="2026-01-01")
    r = run_replication(s, 0, 21)
    rail = r.nodes["rail"]
    assert rail.throughput_t[0] == 0 and rail.busy[0] == 0
    assert r.streams["x"].delivered_t[0] == 0
    np.testing.assert_allclose(capacity_t(r, "rail"), [0.0, 2 * 1000 * 365])
    assert abs(rail.throughput_t[1] - 2 * 1000 * 365) <= 1000 + 1e-6
    assert r.streams["x"].delivered_t[1] > 0


def test_rail_opening_mid_year_first_train_leaves_at_opening():
    """Cargo is waiting when the line opens on 1 July 2024 (hour 4,368): the first
    train leaves then, the next one 12 h later (2 paths a day)."""
    s = make_scenario({"rail": {**RAIL, "opening_date": "2024-07-01"}}, {"x": stream(["rail"], 1.5, 500)})
    r, times = run_with_spy(s, {"rail": "draw_transit"}, seed=22)
    t = np.array(times["rail"])
    opening = hour("2024-07-01")
    assert opening == 4368.0
    assert t.min() == opening
    assert t[1] == opening + 12.0
    assert capacity_t(r, "rail")[0] == pytest.approx(2 * 1000 * (8784 - opening) / 24)


@pytest.mark.parametrize("delay, opening", [
    (None, "2024-04-01"),
    ({"match": "tripp_open", "months": 3}, "2024-07-01"),   # by id
    ({"match": "tripp", "months": 2.5}, "2024-06-16"),      # by tag: 2 months, then 0.5 x 30.44 days
])
def test_opening_investment_and_project_delay_shift_the_first_train(delay, opening):
    inv = [{"id": "tripp_open", "node": "rail", "field": "opening", "date": "2024-04-01", "tags": ["tripp"]}]
    extra = {"investments": inv}
    if delay:
        extra["delays"] = {"projects": [delay]}
    s = make_scenario({"rail": RAIL}, {"x": stream(["rail"], 1.5, 500)}, **extra)
    _, times = run_with_spy(s, {"rail": "draw_transit"}, seed=23)
    assert min(times["rail"]) == hour(opening)


def test_opening_delayed_past_the_horizon_never_opens():
    inv = [{"id": "open", "node": "rail", "field": "opening", "date": "2024-10-01"}]
    s = make_scenario({"rail": RAIL}, {"x": stream(["rail"], 1.0, 500)}, investments=inv,
                      delays={"projects": [{"match": "open", "months": 6}]})
    r = run_replication(s, 0, 24)
    assert r.nodes["rail"].busy == [0]
    assert capacity_t(r, "rail")[0] == 0
    assert sum(r.streams["x"].delivered_t) == 0
    assert r.nodes["rail"].in_system_t() == pytest.approx(sum(r.streams["x"].generated_t))


PORT = {"kind": "port", "berths": 2, "capacity_mt_per_year": 1.0, "service": "fixed"}
DOUBLE = {"id": "double", "node": "port", "field": "capacity_mt_per_year", "change": "mul", "value": 2.0,
          "date": "2025-01-01", "tags": ["expansion"]}


@pytest.mark.parametrize("delay, doubled_from", [
    (None, 1),                                       # 2025
    ({"match": "double", "months": 12}, 2),          # by id: 2026
    ({"match": "expansion", "months": 12}, 2),       # by tag: 2026
    ({"match": "expansion", "months": 24}, None),    # past the horizon: never
])
def test_port_capacity_doubles_at_the_investment_date(delay, doubled_from):
    """1 Mt/yr doubled (mul 2) at the investment date; demand 3 Mt/yr. Fixed
    service: throughput within 2% of capacity each year."""
    extra = {"investments": [DOUBLE]}
    if delay:
        extra["delays"] = {"projects": [delay]}
    s = make_scenario({"port": PORT}, {"x": stream(["port"], 3.0, 1000)}, end="2027-01-01", **extra)
    r = run_replication(s, 0, 25)
    hours = [8784, 8760, 8760]
    mt = [2.0 if doubled_from is not None and y >= doubled_from else 1.0 for y in range(3)]
    expected = [mt_over(h, m) for h, m in zip(hours, mt)]
    port = r.nodes["port"]
    np.testing.assert_allclose(capacity_t(r, "port"), expected)
    np.testing.assert_allclose(port.throughput_t, expected, rtol=0.02)


def test_mid_year_investment_capacity_is_integrated_over_the_year():
    """berths 1 -> 3 (add 2) on 1 July 2024 at 100 t/h per berth: 4,368 h at
    100 t/h + 4,416 h at 300 t/h."""
    inv = [{"id": "b", "node": "port", "field": "berths", "change": "add", "value": 2, "date": "2024-07-01"}]
    s = make_scenario({"port": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 100.0, "service": "fixed"}},
                      {"x": stream(["port"], 3.0, 1000)}, investments=inv)
    r = run_replication(s, 0, 26)
    cap = 100 * 4368 + 300 * 4416
    assert capacity_t(r, "port")[0] == pytest.approx(cap)
    # saturated: within one partial service per berth at the year end and at the step
    assert abs(r.nodes["port"].throughput_t[0] - cap) <= 4 * 1000


def test_fleet_addition_raises_sea_link_throughput():
    """2 vessels + 2 on 1 Jan 2025; 1,000 t payload, fixed 50 h cycle: 2 x 1,000 x
    8,760 / 50 = 350,400 t in a year, then 700,800 t. Demand 1.5 Mt/yr."""
    sea = {"kind": "sea_link", "fleet": 2, "vessel_payload_t": 1000, "load_h": 6, "crossing_h": 20,
           "unload_h": 7, "return_h": 17}
    inv = [{"id": "ships", "node": "sea", "field": "fleet", "change": "add", "value": 2, "date": "2025-01-01"}]
    s = make_scenario({"sea": sea}, {"x": stream(["sea"], 1.5, 1000)}, end="2026-01-01", investments=inv)
    r = run_replication(s, 0, 27)
    node = r.nodes["sea"]
    np.testing.assert_allclose(capacity_t(r, "sea"), [2 * 1000 * 8784 / 50, 4 * 1000 * 8760 / 50])
    thr = node.throughput_t
    # within one partial cycle per vessel at each end of the year, plus the start-up in 2024
    assert abs(thr[0] - 2 * 1000 * 8784 / 50) <= 2 * 2 * 1000
    assert abs(thr[1] - 4 * 1000 * 8760 / 50) <= 2 * 4 * 1000
