"""Finite waiting rooms: yards, tanks and sidings with a limit. A shipment that finds
one full waits upstream (``when_full: wait``) or leaves for another route
(``divert``), counted as turned away by the stream and by the node, and never lost
from the mass balance (every run checks it)."""

from __future__ import annotations

import pytest

from simkit import make_scenario, stream
from model.analysis.tables import tables
from model.engine.simulate import run_replication

SHIP = 1000.0


def _closed_line(when_full: str):
    """A rail line that never opens within the half-year run, with sidings for three shipments."""
    nodes = {"gate": {"kind": "border", "dwell_h": 1},
             "line": {"kind": "rail_line", "capacity_mt_per_year": 5.0, "train_payload_t": 2 * SHIP,
                      "opening_date": "2025-01-01", "sidings_t": 3 * SHIP, "when_full": when_full}}
    return make_scenario(nodes, {"x": stream(["gate", "line"], 1.0, SHIP)}, end="2024-07-01")


def test_full_sidings_turn_away_every_shipment_beyond_their_room():
    """Nothing leaves a closed line: three shipments fill its sidings, and every later
    one is turned away; the stream, the node and the corridor table agree."""
    r = run_replication(_closed_line("divert"), 0, 4)
    rec = r.streams["x"]
    generated = sum(rec.generated_t)
    assert generated > 100 * SHIP  # about 500 shipments in half a year
    assert sum(rec.turned_away_t) == pytest.approx(generated - 3 * SHIP)
    assert sum(r.nodes["line"].turned_away_t) == pytest.approx(sum(rec.turned_away_t))
    assert r.nodes["line"].in_system_t() == pytest.approx(3 * SHIP)
    t = tables(r)
    assert t["corridor"]["lost_t"].sum() == pytest.approx(generated - 3 * SHIP)
    assert t["annual_streams"]["turned_away_t"].sum() == pytest.approx(generated - 3 * SHIP)
    assert t["annual_nodes"].set_index("node").loc["line", "turned_away_t"] == pytest.approx(generated - 3 * SHIP)


def test_full_sidings_with_wait_hold_cargo_upstream_and_lose_none():
    r = run_replication(_closed_line("wait"), 0, 4)
    rec = r.streams["x"]
    assert sum(rec.turned_away_t) == 0.0 and sum(rec.delivered_t) == 0.0
    # all of it is still in the corridor: three on the sidings, the rest at their entrance
    assert r.nodes["line"].in_system_t() == pytest.approx(sum(rec.generated_t))


def _kuryk(yard_t: float | None, when_full: str = "divert"):
    """A loading terminal whose yard holds wagons until the ferry loads them; one ferry
    carries 3,000 t per 30-h cycle (~0.88 Mt/yr), demand is 2 Mt/yr."""
    yard = {"yard_limit_t": yard_t, "when_full": when_full} if yard_t else {}
    nodes = {"k": {"kind": "port", "terminal": "rail_ferry", "berths": 1, "handling_rate_t_per_h": 3000,
                   "service": "fixed", **yard},
             "ferry": {"kind": "sea_link", "fleet": 1, "vessel_payload_t": 3 * SHIP, "crossing_h": 14,
                       "max_wait_h": 0, "load_at": "k"}}
    return make_scenario(nodes, {"x": stream(["k", "ferry"], 2.0, SHIP)}, end="2025-01-01")


def test_a_full_port_yard_turns_wagons_away_and_the_ferry_still_sails_full():
    """With room for 10 shipments at the terminal, the excess demand is turned away
    there instead of queueing all year; the ferry carries what it can either way."""
    limited = run_replication(_kuryk(10 * SHIP), 0, 6)
    unlimited = run_replication(_kuryk(None), 0, 6)
    rec = limited.streams["x"]
    away = sum(rec.turned_away_t)
    assert away > 0.5e6  # of ~2 Mt offered, ~1.1 Mt more than the ferry can carry
    assert sum(limited.nodes["k"].turned_away_t) == pytest.approx(away)
    # what waits for the ferry is in the yard (10 shipments at most) or aboard (3)
    assert limited.nodes["ferry"].in_system_t() <= 13 * SHIP + 1e-6
    assert sum(unlimited.streams["x"].turned_away_t) == 0.0
    assert unlimited.nodes["ferry"].in_system_t() > 0.5e6  # without a limit the queue for the ferry just grows
    carried = [sum(r.nodes["ferry"].throughput_t) for r in (limited, unlimited)]
    assert carried[0] == pytest.approx(carried[1], rel=0.02)


def test_when_full_divert_needs_a_room():
    from pydantic import ValidationError
    with pytest.raises(ValidationError, match="when_full: divert needs a waiting room: set yard_limit_t"):
        make_scenario({"k": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 10, "when_full": "divert"}},
                      {"x": stream(["k"], 0.01, 1.0)})
