"""The monthly tables: what each node carried, how much waited and how long it was closed, month by
month; what each stream offered, delivered and lost. Their months add up to the annual tables, the
queue is what waited, and hours closed are the storms' and disruptions' hours, each once."""

from __future__ import annotations

import numpy as np
import pytest

from model.analysis.tables import tables
from model.engine.simulate import run_replication
from simkit import make_scenario, stream

SHIP = 1000.0


def _run(**extra):
    nodes = {"p": {"kind": "port", "berths": 2, "handling_rate_t_per_h": 400.0, "service": "exponential",
                   "storms": "sea", "storm_share": 1.0},
             "sea": {"kind": "sea_link", "fleet": 2, "vessel_payload_t": 3000, "load_h": 6, "crossing_h": 20,
                     "unload_h": 6, "max_wait_h": 24, "storms": "sea"},
             "q": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 800.0}}
    weather = {"sea": {"events_per_month": [2, 2, 1, 0.5, 0.2, 0.2, 0.2, 0.2, 0.5, 1, 2, 2],
                       "duration_days": {"dist": "uniform", "low": 1, "high": 4}, "overlap": True}}
    s = make_scenario(nodes, {"x": stream(["p", "sea", "q"], 0.6, SHIP, seasonality=[1.3] * 3 + [0.7] * 9),
                              "y": stream(["q"], 0.4, SHIP)},
                      end="2026-01-01", weather=weather, **extra)
    return tables(run_replication(s, 0, 31))


def test_the_months_add_up_to_the_years():
    """Per node and year, the months' throughput is the year's; per stream, the months' demand, delivered
    and lost are the year's; per node, the months' hours closed are the year's storms (no disruption here)."""
    t = _run()
    mn, ms, an, st = t["monthly_nodes"], t["monthly_streams"], t["annual_nodes"], t["annual_streams"]
    assert len(mn) == 24 * 3 and len(ms) == 24 * 2 and set(mn["month"]) == set(range(1, 13))
    by_year = mn.groupby(["node", "year"])[["throughput_t", "hours_closed"]].sum()
    a = an.set_index(["node", "year"])
    np.testing.assert_allclose(by_year["throughput_t"], a.loc[by_year.index, "throughput_t"], rtol=1e-12)
    np.testing.assert_allclose(by_year["hours_closed"], a.loc[by_year.index, "hours_closed"], rtol=1e-9, atol=1e-9)
    assert a.loc[("sea", 2024), "hours_closed"] > 200  # storms do close it
    s_year = ms.groupby(["stream", "year"])[["demand_t", "delivered_t", "lost_t"]].sum()
    b = st.set_index(["stream", "year"])
    np.testing.assert_allclose(s_year["demand_t"], b.loc[s_year.index, "demand_t"], rtol=1e-12)
    np.testing.assert_allclose(s_year["delivered_t"], b.loc[s_year.index, "delivered_t"], rtol=1e-12)
    lost = b.loc[s_year.index, ["diverted_t", "reneged_t", "turned_away_t"]].sum(axis=1)
    np.testing.assert_allclose(s_year["lost_t"], lost, rtol=1e-12, atol=1e-9)
    # demand follows the seasonality: January-March carry 1.3 / 0.7 of the other months' daily rate
    x = ms[ms["stream"] == "x"].groupby("month")["demand_t"].mean()
    assert x.loc[1:3].sum() / 3 > 1.4 * x.loc[4:12].sum() / 9


def test_the_monthly_queue_is_what_waits():
    """A terminal closed by a disruption for all of March 2024 (no berth granted) while 0.876 Mt a year
    (100 t/h) arrive: its queue grows by 100 t an hour, so the noon samples average 100 x (12 + 24 x 15)
    = 37,200 t within the Poisson spread of the arrivals (about 2,000 t at 3 sd); it is closed 744 h."""
    nodes = {"p": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 2000.0, "service": "fixed"}}
    dis = [{"node": "p", "start": "2024-03-01", "end": "2024-04-01"}]
    s = make_scenario(nodes, {"x": stream(["p"], 0.876, SHIP)}, disruptions=dis)
    mn = tables(run_replication(s, 0, 7))["monthly_nodes"].set_index("month")
    assert mn.loc[3, "hours_closed"] == pytest.approx(744.0)
    assert mn.loc[3, "queue_mean_t"] == pytest.approx(100 * (12 + 24 * 15), abs=3 * np.sqrt(37200 * SHIP))
    assert mn.loc[3, "throughput_t"] == 0.0
    # other months: a 2,000 t/h berth for 100 t/h of cargo: almost nothing waits at noon
    assert mn.drop(index=[3, 4])["queue_mean_t"].max() < 2 * SHIP
