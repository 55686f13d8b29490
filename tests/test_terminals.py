"""Terminals that ships use: vessels call at berths of their load_at / unload_at
terminals for call_h + cargo / handling rate, so berths and cranes set the
fleet's cycle; closures and shared storms hold traffic. Figures are written
next to each assertion."""

from __future__ import annotations

import numpy as np
import pytest

from simkit import hour, make_scenario, run_traced, run_with_spy, stream
from model.analysis.tables import capacity_t, node_table
from model.engine.simulate import Corridor, run_replication

PAYLOAD = 3000.0


def _link(load_rate: float, unload_rate: float, *, berths: int = 1, fleet: int = 1, load_call_h: float = 3.0,
          unload_call_h: float = 2.0, volume: float = 0.2, crossing_h: float = 20.0, end: str = "2025-01-01",
          **extra):
    nodes = {
        "a": {"kind": "port", "terminal": "container", "berths": berths, "handling_rate_t_per_h": load_rate,
              "service": "fixed", "call_h": load_call_h},
        "sea": {"kind": "sea_link", "fleet": fleet, "vessel_payload_t": PAYLOAD, "crossing_h": crossing_h,
                "max_wait_h": 0, "load_at": "a", "unload_at": "b"},
        "b": {"kind": "port", "terminal": "container", "berths": 1, "handling_rate_t_per_h": unload_rate,
              "service": "fixed", "call_h": unload_call_h},
    }
    return make_scenario(nodes, {"x": stream(["a", "sea", "b"], volume, PAYLOAD)}, end=end, **extra)


def test_a_lone_vessel_spends_cargo_over_rate_plus_call_time_at_each_berth():
    """3,000 t at 500 t/h + 3 h to load = 9 h; at 250 t/h + 2 h to unload = 14 h; the
    crossing 20 h: a full-load shipment finding the vessel idle takes 9 + 20 + 14 = 43 h."""
    s = _link(500, 250, volume=0.05)  # ~17 full loads a year, the vessel idle in between
    tr = run_traced(s, seed=1)
    r = tr.records
    ex = r.nodes["sea"].extra
    trips = sum(ex["round_trips"])
    assert trips >= 5
    assert sum(ex["load_call_h"]) == pytest.approx(9.0 * trips, abs=9.0 + 1e-6)  # a last call may be cut
    assert sum(ex["unload_call_h"]) == pytest.approx(14.0 * trips, abs=14.0 + 1e-6)
    assert np.median(tr.transit_h["x"]) == pytest.approx(43.0, abs=1e-6)
    # the terminals' berths are what the vessel held: busy berth-hours = calls x call time
    t = node_table(r).set_index("node")
    assert t.loc["a", "utilization"] * 8784 == pytest.approx(9.0 * sum(1 for _ in range(trips)), rel=0.15)
    assert t.loc["a", "waiting_mean_h"] == pytest.approx(0.0, abs=1e-9)  # one vessel: never a queue


def test_faster_cranes_shorten_the_cycle_and_raise_a_saturated_link():
    """One vessel, saturated: cycle = load + 20 + unload + 20. Cranes from 4 to 2.5 min
    per 14-t move: loading 3,000 t takes 3,000/210 = 14.3 h, then 3,000/336 = 8.9 h."""
    def run(minutes: float) -> float:
        nodes = {
            "a": {"kind": "port", "terminal": "container", "berths": 1, "minutes_per_move": minutes,
                  "t_per_move": 14, "service": "fixed"},
            "sea": {"kind": "sea_link", "fleet": 1, "vessel_payload_t": PAYLOAD, "crossing_h": 20,
                    "max_wait_h": 0, "load_at": "a", "unload_at": "b"},
            "b": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 3000, "service": "fixed"},
        }
        s = make_scenario(nodes, {"x": stream(["a", "sea", "b"], 2.0, PAYLOAD)}, end="2025-01-01")
        r = run_replication(s, 0, 2)
        return r.nodes["sea"].throughput_t[0], capacity_t(r, "sea")[0]
    slow, cap_slow = run(4.0)
    fast, cap_fast = run(2.5)
    cycle_slow, cycle_fast = 3000 / 210 + 20 + 1 + 20, 3000 / 336 + 20 + 1 + 20
    assert slow == pytest.approx(8784 / cycle_slow * PAYLOAD, rel=0.01)
    assert fast == pytest.approx(8784 / cycle_fast * PAYLOAD, rel=0.01)
    # the link's capacity follows the measured berth time
    assert cap_slow == pytest.approx(8784 / cycle_slow * PAYLOAD, rel=0.01)
    assert cap_fast == pytest.approx(8784 / cycle_fast * PAYLOAD, rel=0.01)


def test_doubling_berths_at_a_saturated_terminal_lifts_the_link_to_its_fleet_limit():
    """Loading at 300 t/h on one berth holds a 6-vessel fleet to 300 t/h (2.64 Mt a
    year); the fleet alone could carry 6 x 3,000 / (10 + 20 + 1 + 20) = 353 t/h. With
    two berths the berth limit is 600 t/h and the fleet binds, near 353 t/h."""
    def run(berths: int) -> float:
        s = _link(300, 3000, berths=berths, fleet=6, load_call_h=0.0, unload_call_h=0.0, volume=4.0)
        return sum(run_replication(s, 0, 3).nodes["sea"].throughput_t)
    one, two = run(1), run(2)
    assert one == pytest.approx(300 * 8784, rel=0.03)
    assert two == pytest.approx(6 * PAYLOAD / (10 + 20 + 1 + 20) * 8784, rel=0.05)
    assert two > 1.1 * one


def test_a_closed_terminal_holds_vessels_and_counts_its_hours_closed():
    """Alat-like terminal closed three weeks (1-22 March 2024): no unloading starts
    inside the closure, vessels wait it out, the terminal reports 504 h closed."""
    s = _link(500, 500, fleet=2, volume=0.4,
              disruptions=[{"node": "b", "start": "2024-03-01", "end": "2024-03-22"}])
    r, spied = run_with_spy(s, {"b": "unit_service"}, seed=4)
    a, b = hour("2024-03-01"), hour("2024-03-22")
    t = np.array(spied["b"])
    assert not ((t >= a) & (t < b)).any()
    assert (t < a).any() and (t >= b).any()
    assert t[t >= b].min() == pytest.approx(b, abs=1e-6)  # a vessel was waiting: it berths at the reopening
    nodes = node_table(r).set_index("node")
    assert nodes.loc["b", "hours_closed"] == pytest.approx(21 * 24)
    calm = node_table(run_replication(_link(500, 500, fleet=2, volume=0.4), 0, 4)).set_index("node")
    assert nodes.loc["b", "waiting_mean_h"] > calm.loc["b", "waiting_mean_h"] + 1.0


def test_one_storm_of_a_sea_area_closes_two_links_and_a_terminal_at_once():
    """Two links and the loading terminal of one of them name the sea area 'caspian':
    with storm_share 1 they share every closure; with an inline storm of the same
    rates a link draws its own, different calendar."""
    storm = {"events_per_month": 2.0, "duration_days": 2}
    nodes = {
        "a": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 1000, "storms": "caspian"},
        "a2": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 1000},
        "s1": {"kind": "sea_link", "fleet": 1, "vessel_payload_t": PAYLOAD, "storms": "caspian", "load_at": "a"},
        "s2": {"kind": "sea_link", "fleet": 1, "vessel_payload_t": PAYLOAD, "storms": "caspian"},
        "s3": {"kind": "sea_link", "fleet": 1, "vessel_payload_t": PAYLOAD, "storms": storm},
    }
    streams = {"x": stream(["a", "s1"], 0.1, 1000), "y": stream(["a2", "s2"], 0.1, 1000),
               "z": stream(["a2", "s3"], 0.1, 1000)}
    s = make_scenario(nodes, streams, weather={"caspian": storm})
    c = Corridor(s, 0, 5)
    assert c.nodes["s1"].storms and c.nodes["s1"].storms == c.nodes["s2"].storms
    assert c.nodes["s3"].storms != c.nodes["s1"].storms
    r = c.run()
    t = node_table(r).set_index("node")
    assert t.loc["s1", "hours_closed"] > 0
    assert t.loc["a", "hours_closed"] == pytest.approx(t.loc["s1", "hours_closed"])
    assert t.loc["a2", "hours_closed"] == 0


def test_storm_share_thins_the_area_storms_independently_per_link():
    storm = {"events_per_month": 3.0, "duration_days": 1}
    nodes = {"p": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 1000},
             "s1": {"kind": "sea_link", "fleet": 1, "vessel_payload_t": PAYLOAD, "storms": "w"},
             "s2": {"kind": "sea_link", "fleet": 1, "vessel_payload_t": PAYLOAD, "storms": "w", "storm_share": 0.5}}
    s = make_scenario(nodes, {"x": stream(["p", "s1"], 0.1, 1000), "y": stream(["p", "s2"], 0.1, 1000)},
                      weather={"w": storm}, end="2034-01-01")
    c = Corridor(s, 0, 6)
    full, half = c.nodes["s1"].storms, c.nodes["s2"].storms
    assert set(half) <= set(full)
    n = len(full)  # about 3 x 12 x 10 = 360 storms
    assert abs(len(half) - n / 2) <= 4 * np.sqrt(n * 0.25)  # Binomial(n, 1/2), 4 sd


def test_validation_names_a_misplaced_or_unknown_terminal():
    from model.scenario.loader import scenario_problems

    base = {"name": "x", "start_date": "2024-01-01", "end_date": "2025-01-01",
            "nodes": {"a": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 500},
                      "b": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 500},
                      "sea": {"kind": "sea_link", "fleet": 1, "vessel_payload_t": PAYLOAD, "load_at": "b",
                              "unload_at": "nowhere", "storms": "caspain"}},
            "streams": {"x": stream(["a", "sea", "b"], 0.1, 1000)},
            "weather": {"caspian": {"events_per_month": 1, "duration_days": 2}}}
    _, problems = scenario_problems(base)
    msgs = {".".join(map(str, loc)): m for loc, m in problems}
    assert "loads at 'b'" in msgs["streams.x.route.1"]
    assert "expected the id of a port terminal" in msgs["nodes.sea.unload_at"]
    assert "did you mean 'caspian'" in msgs["nodes.sea.storms"]


def _shared_unload(ferry_mt: float, other_mt: float):
    """Ferries unload at terminal "a" (1 berth, 3,000 t at 500 t/h + 2 h = 8 h a call), whose
    berth also serves other ships of 3,000 t calling on their own (background, as the Turkmen
    ferries at Alat). A 4-ferry fleet loading at "k" (ample berths) and crossing in 20 h."""
    nodes = {
        "k": {"kind": "port", "berths": 10, "handling_rate_t_per_h": 3000, "service": "fixed"},
        "sea": {"kind": "sea_link", "fleet": 4, "vessel_payload_t": PAYLOAD, "crossing_h": 20, "return_h": 20,
                "max_wait_h": 0, "load_at": "k", "unload_at": "a"},
        "a": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 500, "call_h": 2, "service": "exponential"},
    }
    streams = {"x": stream(["k", "sea", "a"], ferry_mt, PAYLOAD)}
    if other_mt:
        streams["other"] = {**stream(["a"], other_mt, PAYLOAD), "background": True}
    return make_scenario(nodes, streams, end="2025-01-01")


def _paired_rise(low, high, measure, reps: int = 6) -> tuple[float, float]:
    """Mean and the low end of a 95% t-interval of measure(high) - measure(low), paired by replication."""
    from scipy import stats
    d = np.array([measure(run_replication(high, k, 40)) - measure(run_replication(low, k, 40)) for k in range(reps)])
    return float(d.mean()), float(d.mean() - stats.t.ppf(0.975, reps - 1) * d.std(ddof=1) / np.sqrt(reps))


def test_background_ships_and_corridor_ferries_wait_for_each_other_at_a_shared_berth():
    """At 0.4 Mt/yr the ferries alone hold the berth 12% of the year (133 calls of 8 h); 1.0
    Mt/yr of other ships (333 calls of 8 h, 30% of the year) queue in front of them, so
    a ferry cargo's transit rises; and the other ships wait longer when the ferries carry 0.8
    instead of 0.2 Mt/yr. Both rises are paired by replication (the same arrivals of the
    stream that is held fixed) and significant at 95%."""
    mean_h = lambda sid: (lambda r: r.streams[sid].transit.mean() * 24.0)  # noqa: E731
    rise, low = _paired_rise(_shared_unload(0.4, 0.0), _shared_unload(0.4, 1.0), mean_h("x"))
    assert low > 0, (rise, low)
    rise, low = _paired_rise(_shared_unload(0.2, 1.0), _shared_unload(0.8, 1.0), mean_h("other"))
    assert low > 0, (rise, low)
