"""The western end: transit to a declared gateway, the Georgian terminals at saturation,
patience beyond the sea crossing, and what binds a flow whose route splits.

Every figure an assertion relies on is written next to it.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from scipy import stats

from simkit import make_scenario, run_traced, stream
from model.analysis.tables import main_chains, reached_periods, tables
from model.core.timeline import resolve_node_specs
from model.engine.simulate import run_replication
from model.scenario.checks import check_references
from model.scenario.loader import load_scenario
from model.scenario.schema import Scenario

from pathlib import Path

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
SHIP_T = 1400.0


def _toy_nodes() -> dict:
    """Border 10 h, rail 30 h (a path every 0.01 h), a quay that loads a feeder (1,400 t at 700 t/h
    = 2 h), a 20-h crossing, a far port that unloads it (1,400 t at 1,400 t/h = 1 h). Fixed times."""
    return {
        "border": {"kind": "border", "dwell_h": 10.0},
        "rail": {"kind": "rail_line", "paths_per_day": 2400, "train_payload_t": SHIP_T, "transit_h": 30.0,
                 "max_wait_h": 0},
        "quay": {"kind": "port", "terminal": "container", "berths": 4, "handling_rate_t_per_h": 700.0,
                 "service": "fixed"},
        "feeder": {"kind": "sea_link", "fleet": 20, "vessel_payload_t": SHIP_T, "crossing_h": 20.0,
                   "return_h": 20.0, "max_wait_h": 0, "load_at": "quay", "unload_at": "far"},
        "far": {"kind": "port", "terminal": "container", "berths": 4, "handling_rate_t_per_h": 1400.0,
                "service": "fixed"},
    }


def test_gateway_transit_is_the_sum_of_the_legs_before_the_gateway():
    """Lone block trains on a deterministic corridor: the gateway (the quay) is reached after the
    border's 10 h and the rail's 30 h (a free path at most 0.01 h away): 40 h. The route's end adds
    the feeder's call at the quay (2 h), the crossing (20 h) and the unloading (1 h): 63 h. The
    second gateway of the list (the far port) is not where it is measured: the first reached is."""
    route = ["border", "rail", "quay", "feeder", "far"]
    s = make_scenario(_toy_nodes(), {"x": stream(route, 0.02, SHIP_T, gateway=["quay", "far"]),
                                     "y": stream(route, 0.02, SHIP_T)})
    tr = run_traced(s, seed=3)
    transit = tr.transit_h["x"]
    assert len(transit) >= 5
    assert transit == pytest.approx([63.0] * len(transit), abs=0.011)
    rec = tr.records.streams["x"]
    assert rec.gateway_transit.n[0] == len(transit)  # one record per delivery
    row = tables(tr.records)["annual_streams"].set_index("stream")
    assert row.loc["x", "gateway_transit_mean_days"] == pytest.approx(40.0 / 24, abs=0.011 / 24)
    assert row.loc["x", "gateway_transit_p50_days"] == pytest.approx(40.0 / 24, abs=0.011 / 24)
    assert row.loc["x", "gateway"] == "quay/far"
    # the legs after the gateway are the rest of the transit: 63 - 40 = 23 h
    assert (row.loc["x", "transit_mean_days"] - row.loc["x", "gateway_transit_mean_days"]) * 24 == \
        pytest.approx(23.0, abs=0.011)
    # a stream without a gateway records none
    assert math.isnan(row.loc["y", "gateway_transit_mean_days"]) and row.loc["y", "gateway"] == ""
    assert rec.gateway_transit.n[0] > 0 and tr.records.streams["y"].gateway_transit.n[0] == 0


def test_gateway_is_the_first_of_its_nodes_on_each_branch():
    """A choice between two quays, each a gateway; the train to one takes 30 h, to the other 50 h
    (rail transit), so the gateway transit is 40 h or 60 h, never the route's end."""
    nodes = _toy_nodes()
    nodes["rail2"] = {**nodes["rail"], "transit_h": 50.0}
    nodes["quay2"] = dict(nodes["quay"])
    nodes["feeder2"] = {**nodes["feeder"], "load_at": "quay2"}
    route = ["border", {"choice": {"a": ["rail", "quay", "feeder"], "b": ["rail2", "quay2", "feeder2"]},
                        "shares": {"a": 1, "b": 1}}, "far"]
    s = make_scenario(nodes, {"x": stream(route, 0.05, SHIP_T, gateway=["quay", "quay2"])})
    r = run_replication(s, 0, 4)
    g = r.streams["x"].gateway_transit
    assert g.n[0] >= 10
    mean_h = g.mean(0) * 24.0  # (kept in days)
    assert 40.0 - 0.011 <= mean_h <= 60.0 + 0.011
    assert 0.0 < (mean_h - 40.0) / 20.0 < 1.0  # both branches were taken


def test_a_gateway_off_the_route_is_a_clear_error():
    s = Scenario.model_validate({"name": "t", "start_date": "2024-01-01", "end_date": "2025-01-01",
                                 "nodes": _toy_nodes(),
                                 "streams": {"x": stream(["border", "rail"], 0.02, SHIP_T, gateway=["quay"])}})
    problems = check_references(s)
    assert problems == [(("streams", "x", "gateway", 0),
                         "'quay' is not on the stream's route; expected one of its nodes: border, rail")]


# ------------------------------------------------------------ Georgian terminals at saturation

TERMINALS = {  # terminal: (its other users' ship call in the baseline, t; when it is open)
    "poti_container": (24600.0, date(2025, 1, 1)),
    "batumi_container": (9800.0, date(2025, 1, 1)),
    "poti_bulk": (10000.0, date(2025, 1, 1)),
    "batumi_dry": (5000.0, date(2025, 1, 1)),
    "anaklia_container": (24600.0, date(2031, 1, 1)),
}
REPS = 5


@pytest.mark.parametrize("terminal", list(TERMINALS))
def test_a_saturated_georgian_terminal_moves_its_stated_capacity(terminal):
    """Each Georgian terminal of the baseline (Anaklia once phase 1 has opened), offered 30% more
    ship calls than its stated capacity for a year: it handles its stated capacity (berths x rate x
    the year's hours; no separate call time, the annual figures include it). A call still in
    service at the year's end moves one call per berth across it: that allowance, and a Student-t
    interval over replications (Bonferroni over the terminals)."""
    call_t, when = TERMINALS[terminal]
    base = load_scenario(BASELINE)
    spec = resolve_node_specs(base)[terminal].model_dump(exclude_none=True)
    berths = spec["berths"]
    if isinstance(berths, dict):  # the count in force at ``when`` (investments folded in)
        berths = [v for d, v in sorted(berths.items()) if d <= when][-1]
    spec["berths"] = berths
    spec.pop("tags", None)
    start, end = when.isoformat(), date(when.year + 1, 1, 1).isoformat()
    hours = (date(when.year + 1, 1, 1) - when).days * 24.0
    stated_t = spec["stated_capacity_mt_per_year"] * 1e6 / 8760.0 * hours
    s = make_scenario({"t": spec}, {"x": stream(["t"], 1.3 * spec["stated_capacity_mt_per_year"], call_t)},
                      start=start, end=end)
    carried = []
    for k in range(REPS):
        t = tables(run_replication(s, k, 29))["annual_nodes"].iloc[0]
        assert t["capacity_t"] == pytest.approx(stated_t, rel=2e-3)  # the model's capacity is the stated one
        carried.append(t["throughput_t"])
    v = np.asarray(carried)
    half = stats.t.ppf(1 - 0.05 / len(TERMINALS) / 2, REPS - 1) * v.std(ddof=1) / np.sqrt(REPS)
    allowance = berths * call_t
    assert v.mean() - half - allowance <= stated_t <= v.mean() + half + allowance, (terminal, v, stated_t)
    assert v.mean() >= 0.9 * stated_t  # saturated: no idle berth-time to speak of


# ------------------------------------------------------------ patience beyond the crossing

def test_beyond_the_sea_crossing_cargo_waits_instead_of_reneging():
    """Patience 5 days. A line closed until 1 July: cargo queued in front of it before the crossing
    gives up and leaves; cargo that has crossed the sea (the same line after the feeder) waits for it
    and is delivered once it opens (a path every 0.01 h then clears the queue at once)."""
    nodes = _toy_nodes()
    nodes["rail"] = {**nodes["rail"], "opening_date": "2024-07-01"}
    line_after_sea = make_scenario(nodes, {"x": stream(["quay", "feeder", "far", "rail"], 0.1, SHIP_T,
                                                       patience_days=5.0)})
    line_before_sea = make_scenario(nodes, {"x": stream(["border", "rail", "quay", "feeder", "far"], 0.1, SHIP_T,
                                                        patience_days=5.0)})
    crossed = run_replication(line_after_sea, 0, 8).streams["x"]
    not_crossed = run_replication(line_before_sea, 0, 8).streams["x"]
    assert sum(crossed.reneged_t) == 0.0 and sum(crossed.delivered_t) > 0.9 * sum(crossed.generated_t)
    assert sum(not_crossed.reneged_t) > 0.3 * sum(not_crossed.generated_t)


# ------------------------------------------------------------ what binds a flow whose route splits

def test_a_terminal_not_yet_built_is_nobodys_bottleneck():
    """A quay with no berths until 1 July counts as closed (active) in the engine; nothing reaches
    it before it opens, so its active time before the first shipment is not counted."""
    nodes = _toy_nodes()
    nodes["quay"] = {**nodes["quay"], "berths": {"2024-01-01": 0, "2024-07-01": 4}}
    s = make_scenario(nodes, {"x": stream(["border", "rail", "quay", "feeder", "far"], 0.02, SHIP_T)})
    r = run_replication(s, 0, 2)
    quay = r.nodes["quay"]
    assert quay.periods()[0, 0] == pytest.approx(0.0)  # the engine's record: closed from the start
    first = quay.first_in_h
    assert first > 0
    assert reached_periods(quay)[0, 0] >= first


def test_at_a_choice_the_branch_most_cargo_takes_stands_for_it():
    """90% of the cargo to quay a (4 berths), 10% to quay b (one feeder of 1,400 t on a 100-h
    round trip: about 14 kt a year's worth of slots against ~10 kt offered, busy most of the year):
    the flow's chain is the branch through a, so b's feeder is not named as the flow's bottleneck."""
    nodes = _toy_nodes()
    nodes["quay2"] = dict(nodes["quay"])
    nodes["feeder2"] = {**nodes["feeder"], "load_at": "quay2", "fleet": 1, "crossing_h": 50.0, "return_h": 50.0}
    route = ["border", "rail", {"choice": {"a": ["quay", "feeder"], "b": ["quay2", "feeder2"]},
                                "shares": {"a": 9, "b": 1}}, "far"]
    s = make_scenario(nodes, {"x": stream(route, 0.1, SHIP_T)})
    r = run_replication(s, 0, 5)
    chains = main_chains(r, "x")
    assert chains == [("border", "rail", "quay", "feeder", "far")]
    fb = tables(r)["flow_bottlenecks"]
    assert set(fb["node"]) == {"border", "rail", "quay", "feeder", "far"}
