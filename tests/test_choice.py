"""Cargo that reacts: logit shares by generalised cost, outside options at
generation, patience after which queued cargo leaves; every tonne accounted for."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simkit import binomial_tolerance, hour, make_scenario, run_with_spy, stream
from model.analysis.tables import tables
from model.engine.choice import logit_shares
from model.engine.simulate import run_replication

SHIP = 1000.0


def test_logit_shares_match_the_closed_form():
    # two options 20 USD/t apart at scale 0.1 per USD: 1 / (1 + e^-2) and the rest
    p = logit_shares(np.array([100.0, 120.0]), 0.1)
    assert p[0] == pytest.approx(1 / (1 + math.exp(-2.0)))
    assert p.sum() == pytest.approx(1.0)
    assert logit_shares(np.array([5.0, math.inf]), 0.1).tolist() == [1.0, 0.0]


def test_logit_choice_splits_a_static_two_option_case_as_the_closed_form():
    """Two idle borders with the same dwell: expected times are equal, so only the
    tariffs (0 and 10 USD/t) differ: shares 1/(1+e^-1) = 0.731 and 0.269 at scale 0.1."""
    nodes = {"p": {"kind": "port", "berths": 50, "handling_rate_t_per_h": 1e6, "service": "fixed"},
             "a": {"kind": "border", "dwell_h": 5}, "b": {"kind": "border", "dwell_h": 5}}
    choice = {"choice": {"a": ["a"], "b": ["b"]}, "policy": "logit", "tariffs_usd_per_t": {"b": 10.0}}
    s = make_scenario(nodes, {"x": stream(["p", choice], 4.0, SHIP, logit_scale_per_usd=0.1,
                                          value_of_time_usd_per_t_day=5.0)})
    r = run_replication(s, 0, 11)
    a, b = (sum(r.streams["x"].branch_t[o]) / SHIP for o in ("a", "b"))
    n, p = a + b, 1 / (1 + math.exp(-1.0))
    assert abs(a - n * p) <= binomial_tolerance(int(n), p)


def test_outside_options_take_the_logit_share_at_generation():
    """The corridor costs 50 USD/t + 2 USD/t-day x ~1 day; the outside route 60 + 2 x 1
    day: a 10-USD gap at scale 0.2 sends 1/(1+e^2) = 11.9% outside."""
    nodes = {"b": {"kind": "border", "dwell_h": 24}}
    s = make_scenario(nodes, {"x": stream(["b"], 2.0, SHIP, tariff_usd_per_t=50.0, value_of_time_usd_per_t_day=2.0,
                                          logit_scale_per_usd=0.2,
                                          outside={"north": {"tariff_usd_per_t": 60.0, "transit_days": 1.0}})})
    r = run_replication(s, 0, 12)
    rec = r.streams["x"]
    n = sum(rec.generated_t) / SHIP
    out = sum(rec.diverted_t) / SHIP
    p = 1 / (1 + math.exp(2.0))
    assert abs(out - n * p) <= binomial_tolerance(int(n), p)
    assert sum(rec.outside_t["north"]) == sum(rec.diverted_t)
    t = tables(r)
    assert t["corridor"]["lost_t"].sum() == pytest.approx(sum(rec.diverted_t))
    assert set(t["routes"]["option"]) == {"north"}


def test_zero_patience_reneges_everything_that_would_wait():
    """One berth, fixed 1-h service, demand twice its capacity: with patience 0 a
    shipment that finds the berth busy leaves at once, one that finds it free is
    served. Nothing ever waits, and every tonne is delivered or reneged."""
    nodes = {"p": {"kind": "port", "berths": 1, "handling_rate_t_per_h": SHIP, "service": "fixed"}}
    s = make_scenario(nodes, {"x": stream(["p"], 17.5, SHIP, patience_days=0.0)})
    r = run_replication(s, 0, 13)
    rec, port = r.streams["x"], r.nodes["p"]
    assert port.waits.max() == 0.0  # nobody served after a wait (the record keeps the exact largest)
    generated, delivered, reneged = sum(rec.generated_t), sum(rec.delivered_t), sum(rec.reneged_t)
    assert reneged > 0.3 * generated
    assert generated == pytest.approx(delivered + reneged + port.in_system_t(), abs=SHIP + 1e-6)
    # M/D/1/1 (Erlang loss with one server): the share served is 1 / (1 + rho), rho = 2
    n, p = generated / SHIP, 1 / 3
    assert abs(delivered / SHIP - n * p) <= binomial_tolerance(int(n), p, z=5)


def test_patience_bounds_the_time_queued_cargo_waits():
    """A ferry that carries half the demand: with a 10-day patience no shipment
    delivered waited much more than 10 days at the link (it may have been loaded
    at the last moment), and the rest reneged."""
    nodes = {"p": {"kind": "port", "berths": 2, "handling_rate_t_per_h": 5000, "service": "fixed"},
             "sea": {"kind": "sea_link", "fleet": 1, "vessel_payload_t": 3000, "load_h": 4, "crossing_h": 20,
                     "unload_h": 4, "max_wait_h": 0}}
    s = make_scenario(nodes, {"x": stream(["p", "sea"], 1.2, SHIP, patience_days=10.0)}, end="2025-01-01")
    r = run_replication(s, 0, 14)
    assert r.nodes["sea"].waits.max() <= 10 * 24 + 1e-6
    assert sum(r.streams["x"].reneged_t) > 0.2 * sum(r.streams["x"].generated_t)


def _charter_link(volume_mt: float, **charter):
    nodes = {"p": {"kind": "port", "berths": 4, "handling_rate_t_per_h": 5000, "service": "fixed"},
             "sea": {"kind": "sea_link", "fleet": 1, "vessel_payload_t": 3000, "load_h": 4, "crossing_h": 20,
                     "unload_h": 4, "max_wait_h": 0,
                     "charter": {"vessels": 2, "queue_t": 20000, "lead_days": 10, "min_days": 30,
                                 "day_rate_usd": 12000, **charter}}}
    return make_scenario(nodes, {"x": stream(["p", "sea"], volume_mt, SHIP)})


def test_charter_vessels_come_only_above_the_threshold_and_after_their_lead_time():
    """One vessel carries 3,000 t per 48-h cycle = 0.55 Mt a year. At 0.3 Mt a year the
    queue never reaches 20,000 t: no charter. At 1.5 Mt it does within days: the first
    chartered vessel loads no earlier than the first check that saw the queue above the
    threshold plus the 10-day lead time, and the link carries more than its own vessel can."""
    calm = run_replication(_charter_link(0.3), 0, 21)
    assert calm.nodes["sea"].extra["charter_starts_h"] == []
    assert sum(calm.nodes["sea"].extra["charter_h"]) == 0
    busy = run_replication(_charter_link(1.5), 0, 21)
    starts = busy.nodes["sea"].extra["charter_starts_h"]
    # the queue passes 20,000 t after about 20,000 / (171 - 62.5 t/h) ~ 8 days: checks are daily
    assert starts and min(starts) >= 10 * 24 + 24 and (min(starts) - 10 * 24) % 24 == pytest.approx(0, abs=1e-6)
    assert len(busy.nodes["sea"].extra["charter_starts_h"]) >= 2
    own = 8784 / 48 * 3000
    assert sum(busy.nodes["sea"].throughput_t) > 1.5 * own
    t = tables(busy)["annual_nodes"].set_index("node")
    days = t.loc["sea", "chartered_vessel_days"]
    assert 0 < days <= 2 * 366 and t.loc["sea", "charter_cost_usd"] == pytest.approx(days * 12000)
    # utilisation counts the chartered vessel-hours as available
    assert t.loc["sea", "utilization"] <= 1.0 + 1e-9


def test_a_route_with_an_unopened_section_carries_nothing():
    """A branch built in three sections (open, opening mid-year, never open in the
    run) carries nothing: every shipment takes the other branch, and no tonne enters
    even the open first section. With the last section opening mid-year, the branch
    carries cargo from then on only."""
    nodes = {"a": {"kind": "border", "dwell_h": 5},
             "s1": {"kind": "rail_line", "capacity_mt_per_year": 10.0, "train_payload_t": SHIP, "max_wait_h": 0},
             "s2": {"kind": "rail_line", "capacity_mt_per_year": 10.0, "train_payload_t": SHIP, "max_wait_h": 0,
                    "opening_date": "2024-07-01"},
             "s3": {"kind": "rail_line", "capacity_mt_per_year": 10.0, "train_payload_t": SHIP, "max_wait_h": 0}}
    choice = {"choice": {"a": ["a"], "staged": ["s1", "s2", "s3"]}, "policy": "logit"}
    closed = make_scenario(dict(nodes, s3={**nodes["s3"], "opening_date": "2025-01-01"}),
                           {"x": stream([choice], 1.0, SHIP, logit_scale_per_usd=0.01)}, end="2025-01-01")
    r = run_replication(closed, 0, 3)
    assert sum(r.streams["x"].branch_t.get("staged", [0.0])) == 0.0
    assert all(r.nodes[n].entered_t == 0.0 for n in ("s1", "s2", "s3"))
    assert sum(r.streams["x"].delivered_t) > 0.9e6 - 0.1e6  # the open branch takes it all (about 1 Mt)

    opening = make_scenario(nodes, {"x": stream([choice], 1.0, SHIP, logit_scale_per_usd=0.01)})
    c, trains = run_with_spy(opening, {"s1": "draw_transit"}, seed=3)
    assert c.nodes["s1"].entered_t > 0.2e6  # a near-even split once open: about half of 0.5 Mt
    assert trains["s1"][0] >= hour("2024-07-01"), "a train left on the staged branch before s2 opened"


@pytest.mark.parametrize("reference_days, elasticity, cap, factor", [
    (2.0, -1.0, 2.0, 2.0),    # twice as fast as the reference: twice the cargo (at the cap)
    (4.0, -1.0, 2.0, 2.0),    # four times as fast: capped at twice
    (0.5, -1.0, 2.0, 0.5),    # twice as slow: half the cargo
    (0.25, -0.5, 2.0, 0.5),   # four times as slow, elasticity -0.5: half
])
def test_offered_volume_follows_the_transit_response(reference_days, elasticity, cap, factor):
    """A border with a fixed 24-h dwell: the corridor's expected transit is one day, so
    the stream offers volume x min(cap, (1 / reference_days) ^ elasticity)."""
    nodes = {"b": {"kind": "border", "dwell_h": 24}}
    response = {"elasticity": elasticity, "reference_days": reference_days, "max_factor": cap}
    s = make_scenario(nodes, {"x": stream(["b"], 1.0, SHIP, transit_response=response)})
    r = run_replication(s, 0, 21)
    n = sum(r.streams["x"].generated_t) / SHIP
    expected = factor * 1e6 / SHIP * 8784 / 8760  # 2024 has 8,784 h
    assert abs(n - expected) <= 4 * math.sqrt(expected), f"{n} shipments offered, expected about {expected:.0f}"


def test_a_corridor_closed_for_years_is_offered_almost_nothing_under_a_transit_response():
    """The line opens in 2030: in 2024 the expected transit counts the wait for the opening,
    over 2,000 days, so at most 2/2,000 of the ~1,000 shipments (about one) is offered."""
    nodes = {"line": {"kind": "rail_line", "capacity_mt_per_year": 5.0, "train_payload_t": SHIP,
                      "opening_date": "2030-01-01"}}
    response = {"elasticity": -1.0, "reference_days": 2}
    r = run_replication(make_scenario(nodes, {"x": stream(["line"], 1.0, SHIP, transit_response=response)}), 0, 22)
    assert sum(r.streams["x"].generated_t) <= 10 * SHIP  # Poisson with mean ~1: 10 or more is ~1e-7
    plain = run_replication(make_scenario(nodes, {"x": stream(["line"], 1.0, SHIP)}), 0, 22)
    assert sum(plain.streams["x"].generated_t) > 900 * SHIP
