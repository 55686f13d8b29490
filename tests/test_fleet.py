"""Fleets as operators run them (issue 26): a lower sea cuts a class's payload by the declared rule; vessels
allowed on several lines go where cargo waits (and under a fixed policy do not), conserving every tonne; a
chartered vessel of a class arrives after its lead time and is costed at its class's day rate."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from model.analysis.tables import tables
from model.core.vessels import payload_share
from model.engine.simulate import run_replication
from model.scenario.checks import check_limits
from simkit import make_scenario, stream

SHIP = 500.0


def _port(**extra) -> dict:
    return {"kind": "port", "berths": 2, "handling_rate_t_per_h": 1000.0, "service": "fixed", **extra}


# ------------------------------------------------------------------ water level
CLASS = {"tanker": {"payload": {"t": 5000}, "depth_needed_m": 6.0, "payload_loss_per_m": 0.2}}


def _shallow(level_m: float):
    """A saturated link loading at a terminal 6.0 m deep at the sea's datum, the sea at ``level_m``."""
    nodes = {"p": _port(depth_m=6.0, water_level="sea"),
             "sea": {"kind": "sea_link", "vessels": {"t": {"vessel_class": "tanker", "count": 2}}, "load_at": "p",
                     "crossing_h": 20, "unload_h": 4, "max_wait_h": 48}}
    return make_scenario(nodes, {"x": stream(["p", "sea"], 3.0, SHIP)}, vessel_classes=CLASS,
                         water_levels={"sea": {"datum_m": -29.0, "level_m": -29.0 + level_m}})


@pytest.mark.parametrize("level_m", [0.0, -0.5, -1.5])
def test_a_lower_sea_cuts_each_load_by_the_declared_rule(level_m):
    """Depth 6.0 m + the level's change; the class needs 6.0 m and loses 20% of its payload per metre short:
    at 0, -0.5 and -1.5 m it loads 5,000, 4,500 and 3,500 t. Saturated (3 Mt a year of 500-t parcels for
    two ships), every sailing leaves full, so the tonnes carried are the trips x that payload, exactly."""
    expected = 5000 * payload_share(6.0, 0.2, 6.0 + level_m)
    assert expected == pytest.approx({0.0: 5000, -0.5: 4500, -1.5: 3500}[level_m])
    r = run_replication(_shallow(level_m), 0, 11)
    rec = r.nodes["sea"]
    trips = rec.extra["trips"][0][0][0]
    assert trips > 100
    # every sailing full: the tonnes carried are a whole number of loads, within one per vessel of the round
    # trips completed (a voyage unloads before its return leg ends)
    loads = rec.throughput_t[0] / expected
    assert loads == pytest.approx(round(loads), abs=1e-9) and abs(loads - trips) <= 2
    assert rec.extra["group_payload_t"][0][0][0] == pytest.approx(expected)


def test_dredging_gives_back_the_depth_from_its_date():
    """An investment adding 1.5 m of depth on 1 July restores the full 5,000-t load from then: the year's
    mean payload is the two halves' time-weighted mean."""
    s = _shallow(-1.5)
    inv = [{"id": "dredge", "node": "p", "field": "depth_m", "change": "add", "value": 1.5, "date": "2024-07-01"}]
    s = make_scenario({k: v.model_dump(exclude_unset=True) for k, v in s.nodes.items()},
                      {"x": stream(["p", "sea"], 3.0, SHIP)}, vessel_classes=CLASS, investments=inv,
                      water_levels={"sea": {"datum_m": -29.0, "level_m": -30.5}})
    r = run_replication(s, 0, 12)
    h1 = (182 * 24) / 8784
    assert r.nodes["sea"].extra["group_payload_t"][0][0][0] == pytest.approx(3500 * h1 + 5000 * (1 - h1))


def _low_water_mix():
    """A saturated link at a terminal 6.0 m deep at the sea's datum, the sea 2 m down: a 'small' class
    (2,000 t, needs 6.0 m, loses 35% per metre short) loads 2,000 x (1 - 0.35 x 2) = 600 t; a 'big' class
    (5,000 t, no depth limit) loads 5,000 t. Cargo comes in lots of 1,000 t and 500 t."""
    classes = {"small": {"payload": {"t": 2000}, "depth_needed_m": 6.0, "payload_loss_per_m": 0.35},
               "big": {"payload": {"t": 5000}}}
    nodes = {"p": _port(depth_m=6.0, water_level="sea"),
             "sea": {"kind": "sea_link", "load_at": "p", "crossing_h": 20, "unload_h": 4, "max_wait_h": 48,
                     "vessels": {"small": {"vessel_class": "small", "count": 1},
                                 "big": {"vessel_class": "big", "count": 1}}}}
    streams = {"whole": stream(["p", "sea"], 1.5, 1000.0), "half": stream(["p", "sea"], 1.5, 500.0)}
    return make_scenario(nodes, streams, vessel_classes=classes,
                         water_levels={"sea": {"datum_m": -29.0, "level_m": -31.0}})


def test_capacity_follows_the_low_water_load_and_a_lot_too_big_waits_for_a_larger_vessel():
    """The small ship's 600 t cannot take a 1,000-t lot: it passes such lots over and takes the next 500-t one
    (it does not sail empty behind them), so each of its sailings carries 500 t, 5/6 of its low-water payload.
    Saturated, with fixed legs and no storms, each class carries its load once per cycle, and the link's
    capacity_t (vessel-hours x the low-water payload x the measured fill / the cycle) is what it carried."""
    assert payload_share(6.0, 0.35, 4.0) == pytest.approx(0.3)
    r = run_replication(_low_water_mix(), 0, 31)
    rec = r.nodes["sea"]
    ex = rec.extra
    assert ex["group_payload_t"][0][0][0] == pytest.approx(600.0)
    small_trips, big_trips = ex["trips"][0][0][0], ex["trips"][1][0][0]
    assert small_trips > 100 and big_trips > 100
    # every sailing of the small ship left full with one 500-t lot (the fill of 500 / 600 on each)
    assert ex["full_trips"][0][0][0] >= small_trips
    assert ex["full_fill"][0][0][0] / ex["full_trips"][0][0][0] == pytest.approx(500 / 600)
    # the tonnes carried: the small ship's 500 t and the big ship's lots (whole lots of 1,000 and 500 t up to
    # 5,000 t) per trip, within one load per vessel still aboard at the year's end
    big_loads = rec.throughput_t[0] - 500.0 * small_trips
    assert 0.9 * 5000 * big_trips - 5000 <= big_loads <= 5000 * big_trips + 5000
    cap = tables(r)["annual_nodes"].set_index("node").loc["sea", "capacity_t"]
    assert rec.throughput_t[0] == pytest.approx(cap, rel=0.01)


def _falling_sea(dredge: bool):
    """One line loading at a terminal 6.0 m deep at the sea's datum, in a sea falling 2 m a year to mid-2024
    (monthly steps), then level: a 'deep' class (3,000 t; needs 6.0 m, loses 30% per metre short) loads
    2,030 t in January, less than the 1,500-t lots from May and 1,200 t from July; a 'shallow' one (2,000 t,
    no depth limit) takes a lot a trip. ``dredge``: 1 m more depth from 1 November (the deep class 2,100 t
    again). Fixed legs, no storms, 0.6 Mt a year."""
    classes = {"deep": {"payload": {"t": 3000}, "depth_needed_m": 6.0, "payload_loss_per_m": 0.3},
               "shallow": {"payload": {"t": 2000}}}
    nodes = {"p": _port(depth_m=6.0, water_level="sea"),
             "sea": {"kind": "sea_link", "load_at": "p", "crossing_h": 20, "unload_h": 4, "return_h": 20,
                     "max_wait_h": 48, "vessels": {"deep": {"vessel_class": "deep", "count": 2},
                                                   "shallow": {"vessel_class": "shallow", "count": 1}}}}
    inv = [{"id": "dredge", "node": "p", "field": "depth_m", "change": "add", "value": 1.0, "date": "2024-11-01"}]
    return make_scenario(nodes, {"x": stream(["p", "sea"], 0.6, 1500.0)}, vessel_classes=classes,
                         investments=inv if dredge else [],
                         water_levels={"sea": {"datum_m": -29.0, "level_m": {2023: -29.0, 2024: -31.0}}})


def test_a_vessel_the_falling_sea_leaves_too_small_for_every_lot_steps_out_of_the_turn():
    """From May the deep ships' payload is below every waiting lot: they step out of the line's turn (instead
    of holding it for ever, which jammed the line: nothing carried from May, even after the dredging), so the
    shallow ship behind them carries a lot each cycle (1.5 h loading + 20 + 4 + 20 h: 1,500 t per 45.5 h),
    and they come back the day the dredging deepens the terminal (each month from then carries more than
    twice a month of the shallow ship alone); without the dredging they stay out."""
    # the level 1.75 m below the datum in May, 2 m from July; 1 m of dredging from November
    assert 3000 * payload_share(6.0, 0.3, 6.0 - 1.75) < 1500 <= 3000 * payload_share(6.0, 0.3, 6.0 - 2.0 + 1.0)
    months = {}
    for dredge in (True, False):
        r = run_replication(_falling_sea(dredge), 0, 5)  # (its mass balance holds, or it raises)
        m = tables(r)["monthly_nodes"]
        months[dredge] = m[m["node"] == "sea"].set_index("month")["throughput_t"]
        assert m[m["node"] == "sea"].set_index("month").loc[6:10, "queue_mean_t"].min() > 10_000  # cargo waits
    hours = {6: 720, 7: 744, 8: 744, 9: 720, 10: 744}
    for month, h in hours.items():  # the shallow ship alone, saturated
        for dredge in (True, False):
            assert 0.85 * 1500 * h / 45.5 <= months[dredge][month] <= 1.05 * 1500 * h / 45.5, (dredge, month)
    for month in (11, 12):
        assert months[True][month] > 2 * 1500 * 720 / 45.5
        assert months[False][month] <= 1.05 * 1500 * 744 / 45.5


# ---------------------------------------------------------------- redeployment
def _two_lines(policy: str, volume_b_mt: float):
    """Two lines from ports a and b to one far end; two vessels allowed on both, at home on A. Cargo
    comes only through b."""
    legs = {"crossing_h": 20, "unload_h": 4, "return_h": 20}
    nodes = {"a": _port(), "b": _port(),
             "sea": {"kind": "sea_link", "vessels": {"v": {"vessel_class": "ship", "count": 2, "home": "A"}},
                     "lines": {"A": {"load_at": "a", **legs}, "B": {"load_at": "b", **legs}},
                     "redeploy": {"policy": policy, "review_h": 24, "reposition_h": 10}, "max_wait_h": 24}}
    return make_scenario(nodes, {"x": stream(["b", "sea"], volume_b_mt, SHIP), "y": stream(["a"], 0.01, SHIP)},
                         vessel_classes={"ship": {"payload": {"t": 3000}}})


def test_idle_vessels_move_to_the_line_where_cargo_waits_and_carry_it():
    """Under most_waiting both vessels leave idle line A for B (a repositioning voyage each, as the lines
    share only their far end) and carry B's 0.5 Mt a year: delivered + still queued or on board = generated
    (the run's mass balance also holds, or run_replication raises). Under fixed they never leave A and B's
    cargo only piles up."""
    r = run_replication(_two_lines("most_waiting", 0.5), 0, 13)
    ex = r.nodes["sea"].extra
    assert ex["lines"] == ["A", "B"]
    trips_b = ex["trips"][0][1][0]
    assert trips_b > 100 and ex["trips"][0][0][0] == 0
    assert ex["reposition_h"][0][0] > 0
    x = r.streams["x"]
    assert x.delivered_t[0] > 0.9 * x.generated_t[0]
    assert r.nodes["sea"].throughput_t[0] == pytest.approx(x.delivered_t[0])
    fixed = run_replication(_two_lines("fixed", 0.5), 0, 13)
    assert fixed.streams["x"].delivered_t[0] == 0.0
    assert fixed.nodes["sea"].extra["trips"][0][1][0] == 0
    assert fixed.streams["x"].generated_t[0] > 0.4e6


def test_a_link_with_lines_and_an_investment_in_its_fleet_passes_the_limits_check():
    """The limits check validates each node again with its investments folded in, from the whole dumped spec;
    a link with lines carries its own line fields there at their defaults, which is not setting them on the
    link (a scenario like the baseline's pooled ferries was refused). A line field set on the link still is."""
    s = _two_lines("most_waiting", 0.5)
    inv = [{"id": "more", "node": "sea", "field": "vessels.v.count", "change": "add", "value": 1,
            "date": "2024-07-01"}]
    nodes = {k: v.model_dump(exclude_unset=True) for k, v in s.nodes.items()}
    s2 = make_scenario(nodes, {k: v.model_dump(exclude_unset=True) for k, v in s.streams.items()},
                       vessel_classes={"ship": {"payload": {"t": 3000}}}, investments=inv)
    assert check_limits(s2) == []
    nodes["sea"]["crossing_h"] = 30
    with pytest.raises(ValidationError, match="with lines, each line gives its own crossing_h"):
        make_scenario(nodes, {}, vessel_classes={"ship": {"payload": {"t": 3000}}})


def test_a_review_time_of_zero_is_refused():
    """At review_h 0 an idle vessel allowed on several lines would look at them again at the same instant for
    ever (the fuzz campaign's hang); the field asks for at least a minute."""
    s = _two_lines("most_waiting", 0.5)
    nodes = {k: v.model_dump(exclude_unset=True) for k, v in s.nodes.items()}
    nodes["sea"]["redeploy"]["review_h"] = 0
    with pytest.raises(ValidationError, match="review_h"):
        make_scenario(nodes, {}, vessel_classes={"ship": {"payload": {"t": 3000}}})


# -------------------------------------------------------------------- charters
def test_a_chartered_vessel_of_a_class_arrives_after_its_lead_time_and_is_costed_at_its_rate():
    """One 3,000-t ship on a 48-h cycle carries 0.55 Mt a year; at 1.5 Mt cargo piles up. A charter of the
    'big' class (6,000 t, 9,000 USD a day on the class, none on the charter) loads no earlier than a daily
    check plus its 10-day lead; each chartered trip carries the class's 6,000 t; the table costs the
    vessel-days at the class's rate."""
    nodes = {"p": _port(berths=4, handling_rate_t_per_h=5000.0),
             "sea": {"kind": "sea_link", "vessels": {"own": {"vessel_class": "small", "count": 1}},
                     "load_at": "p", "crossing_h": 20, "unload_h": 4, "max_wait_h": 0,
                     "charter": {"vessels": 1, "queue_t": 20000, "lead_days": 10, "min_days": 30,
                                 "vessel_class": "big"}}}
    classes = {"small": {"payload": {"t": 3000}}, "big": {"payload": {"t": 6000}, "day_rate_usd": 9000}}
    s = make_scenario(nodes, {"x": stream(["p", "sea"], 1.5, 1000.0)}, vessel_classes=classes)
    r = run_replication(s, 0, 21)
    ex = r.nodes["sea"].extra
    starts = ex["charter_starts_h"]
    assert starts and min(starts) >= 10 * 24 + 24
    assert ex["charter_payload_t"][0] == pytest.approx(6000)
    own_trips, chartered_trips = ex["trips"][0][0][0], ex["trips"][1][0][0]
    assert chartered_trips > 0
    # full sailings (cargo always waits): the year's tonnes are the trips x each vessel's load, less what is
    # still aboard at the year's end
    carried = own_trips * 3000 + chartered_trips * 6000
    assert abs(r.nodes["sea"].throughput_t[0] - carried) <= 6000 + 3000
    t = tables(r)["annual_nodes"].set_index("node")
    days = t.loc["sea", "chartered_vessel_days"]
    # on hire from its first loading, at least its 30-day minimum, and at most to the year's end
    assert 30 <= days <= (8784 - min(starts)) / 24 + 1e-9
    assert t.loc["sea", "charter_cost_usd"] == pytest.approx(days * 9000)
