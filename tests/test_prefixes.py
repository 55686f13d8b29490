"""Shared prefixes: a variant forked from its scenario's run at the date it first differs, switched
to its own capacities there, gives byte for byte the tables of its own run in full; where a switch
cannot be exact (an opening, a closed node, threads, no fork), the variant runs in full."""

from __future__ import annotations

import json
import math
import threading
from datetime import date, timedelta

import pytest

from model.analysis.tables import tables
from model.api import load
from model.core.timeline import hours_since
from model.engine.fork import divergence_h, switch
from model.engine.simulate import Corridor
from model.experiments import prefixes
from model.experiments.appraise import items_of, more_capacity
from model.experiments.pool import run_jobs
from model.experiments.runner import Extract, execute, plan, table_records
from model.nodes import KINDS
from model.scenario import library
from model.scenario.schema import Scenario
from simkit import make_scenario, stream
from test_fleet import _falling_sea


def every_table(t: dict) -> str:
    """A replication's tables, as canonical JSON (NaN-safe), without the wall time it took."""
    t = dict(t)
    if "perf" in t:
        t["perf"] = t["perf"].drop(columns=["wall_s"])
    return json.dumps(table_records(t), sort_keys=True)


ALL_BUT_TIME = Extract(every_table, None, "every-table-but-time")
MAIN = frozenset({"annual_streams", "annual_nodes"})  # what appraisals, marginal values and sweeps read
MAIN_TABLES = Extract(every_table, MAIN, "main-tables")


def cut(name: str, end: date) -> Scenario:
    return load(name).model_copy(update={"end_date": end})


def variants_of(s: Scenario, ids: set[str] | None = None) -> dict[str, Scenario]:
    """Replication 0 of each appraisal variant (an investment removed, delayed a year), by name."""
    _, vs = items_of(s, "id", 12.0)
    return {v.name: v.draws(1, s.seed)[0] for v in vs if ids is None or v.name.split("~")[-1] in ids}


def full(s: Scenario, only: frozenset[str] | None = None) -> str:
    return every_table(tables(Corridor(s, 0, s.seed).run(), only))


BASE = cut("baseline", date(2027, 1, 1))
SHORT = date(2025, 11, 1)  # the second track on the Dostyk line opens on 30 September 2025


# one investment of each kind of change the switch handles: a terminal's berths, its cranes (minutes
# a move), a sea link's fleet, a rail line's train paths
@pytest.mark.parametrize("item,how", [
    ("ropax_3", "delayed"), ("aktau_hub_phase1", "without"),
    *(pytest.param(i, h, marks=pytest.mark.slow) for i, h in [
        ("ropax_3", "without"), ("aktau_hub_phase1", "delayed"), ("aktau_ebrd_cranes", "without"),
        ("aktau_ebrd_cranes", "delayed"), ("dostyk_moyinty_second_track", "without"),
        ("dostyk_moyinty_second_track", "delayed")])])
def test_a_run_switched_to_a_variant_at_its_date_is_the_variants_own_run(item, how):
    variant = variants_of(BASE, {item})[f"baseline~{how}~{item}"]
    at = divergence_h(BASE, variant)
    first = next(i for i in BASE.investments if i.id == item)
    assert at == hours_since(BASE.start_date, first.date)  # the investment's date: the first changed input
    c = Corridor(BASE, 0, BASE.seed)
    c.run_to(at)
    assert switch(c, variant) is None
    c.run_to(c.grid.horizon_h)
    assert every_table(tables(c.results())) == full(variant)


def test_the_divergence_is_the_first_changed_capacity_and_zero_for_anything_else():
    s = BASE
    vs = variants_of(s)
    assert divergence_h(s, s) == hours_since(s.start_date, s.end_date)  # never within the horizon
    assert divergence_h(s, vs["baseline~without~moyinty_kyzylzhar_open"]) == 0.0  # an opening: read before it comes
    more_demand = s.model_copy(update={"streams": {k: v.model_copy(update={"volume_mt_per_year": 9.0})
                                                   if k == next(iter(s.streams)) else v
                                                   for k, v in s.streams.items()}})
    assert divergence_h(s, more_demand) == 0.0


def test_a_switch_that_cannot_be_exact_says_why_and_changes_nothing():
    s = BASE
    opening = variants_of(s, {"moyinty_kyzylzhar_open"})["baseline~without~moyinty_kyzylzhar_open"]
    c = Corridor(s, 0, s.seed)
    c.run_to(400 * 24.0)
    queue = list(c.env.queue)
    assert "differs before this hour" in (switch(c, opening) or "")
    assert c.env.queue == queue and c.scenario is s
    assert switch(Corridor(s, 0, s.seed), opening) == "the variant differs from the start"


def test_an_appraisals_jobs_give_the_same_results_forked_and_in_full():
    s = cut("baseline", SHORT)
    _, vs = items_of(s, "id", 12.0)
    more = more_capacity(s, "caspian_ferry")
    assert more is not None
    jobs = plan([s, *[v for v in vs if "dostyk" in v.name], more[0]], 1, s.seed, keeps="t")
    tasks = prefixes.chains({0: jobs[0].scenario}, [(j.scenario, j.replication) for j in jobs],
                            [j.key for j in jobs], {0: jobs[0].key})
    assert [len(t.forks) for t in tasks] == [2, 0]  # the track removed and delayed forked; a vessel more from the start alone
    assert jobs[0].variant == s.name
    forked = execute(jobs, MAIN_TABLES, seed=s.seed, workers=1, shared_prefixes=True)
    alone = execute(jobs, MAIN_TABLES, seed=s.seed, workers=1, shared_prefixes=False)
    assert forked == alone


def _in_worker(chain: prefixes.Chain, seed: int | None, extract: Extract, only: frozenset[str] | None
               ) -> list[prefixes.Outcome]:
    """A chain run as a pool runs it: in a worker process, which has one thread and so may fork,
    whatever threads this test process has (a Dask client's, a progress bar's from earlier tests)."""
    got: list[prefixes.Outcome] = []
    run_jobs(prefixes.run_chain, [(chain, seed, extract, only)], ["a chain"], lambda i, v: got.extend(v),
             isolate=True)
    return got


def _chain_how(compare: bool = True, here: bool = False) -> list[str]:
    s = cut("baseline", SHORT)
    track = variants_of(s, {"dostyk_moyinty_second_track"})["baseline~without~dostyk_moyinty_second_track"]
    more = more_capacity(s, "caspian_ferry")
    assert more is not None
    at = divergence_h(s, track)
    chain = prefixes.Chain(s, 0, 0, (prefixes.Fork(at, 1, track), prefixes.Fork(at, 2, more[0])))
    got = prefixes.run_chain(chain, s.seed, MAIN_TABLES, MAIN) if here else _in_worker(chain, s.seed, MAIN_TABLES, MAIN)
    assert [(i, ok) for i, ok, _, _ in got] == [(1, True), (2, True), (0, True)]
    if compare:
        assert [v for _, _, v, _ in got] == [full(track, MAIN), full(more[0], MAIN), full(s, MAIN)]
    return [how for _, _, _, how in got]


def test_a_fork_that_cannot_switch_runs_its_variant_in_full_in_the_copy():
    assert _chain_how() == ["forked", "full: the variant differs before this hour", "full"]


def test_a_process_with_threads_is_not_forked_and_runs_the_variants_in_full():
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, daemon=True)
    t.start()
    try:
        hows = _chain_how(compare=False, here=True)
    finally:
        stop.set()
        t.join()
    assert hows[:2] == ["full: this process has threads, and is not forked"] * 2


def _fails() -> tuple[object, str]:
    raise RuntimeError("the copy broke")


def test_a_copy_that_fails_reports_its_traceback():
    ok, value, _ = prefixes._in_copy(_fails)
    assert not ok and "RuntimeError: the copy broke" in str(value)


def test_turned_off_by_the_environment_nothing_is_chained(monkeypatch):
    monkeypatch.setenv(prefixes.ENV, "0")
    assert not prefixes.available()
    monkeypatch.setattr(prefixes, "chains", lambda *a, **k: pytest.fail("chained although turned off"))
    s = cut("baseline", SHORT)
    jobs = plan([s, *items_of(s, "id", 12.0)[1][:2]], 1, s.seed, keeps="t")
    assert len(execute(jobs, MAIN_TABLES, seed=s.seed, workers=1, shared_prefixes=True)) == 3


def _library_cut() -> list[tuple[str, Scenario]]:
    """Each library scenario with investments in its first three years, cut to those years."""
    out = []
    for name in library.names():
        s = load(name)
        s = s.model_copy(update={"end_date": min(s.end_date, date(s.start_date.year + 3, 1, 1))})
        if any(i.date < s.end_date for i in s.investments):
            out.append((name, s))
    return out


def _changed(kind: str, field: str) -> str:
    """An investment's field as its kind's pattern (``vessels.*.count``: every group of a fleet alike)."""
    k = KINDS[kind]
    return next((p for p in k.timelines if k.allows((p,), field)), field)


@pytest.mark.slow
def test_every_library_scenario_gives_the_same_appraisal_tables_with_shared_prefixes_and_without():
    """An appraisal variant of every library scenario with investments in its first three years
    (its first replication, to half a year after the variant's change), forked and in full, every
    table: one variant a scenario, taken in turn from the kinds of change it has (a terminal's berths
    or cranes, a vessel group's count, train paths; removed or delayed), so that every kind is checked
    on several scenarios within the slow lane's time. Most must fork (a switch may refuse, saying why:
    a terminal closed on the day), and most must change results, so that the check is not trivial."""
    checked: set[tuple[str, str]] = set()
    changed = cases = 0
    hows: dict[str, str] = {}
    for n, (name, s) in enumerate(_library_cut()):
        _, vs = items_of(s, "id", 12.0)
        by_kind: dict[tuple[str, str], list] = {}
        for v in vs:  # (which variants share a prefix: the scenario as given is enough to choose)
            if divergence_h(s, v.change(s)) > 0:
                inv = next(i for i in s.investments if i.id == v.name.split("~")[-1])
                kind = s.nodes[inv.node].kind
                by_kind.setdefault((kind, _changed(kind, inv.field)), []).append(v)
        if not by_kind:
            continue
        cases += 1
        kind = sorted(by_kind)[n % len(by_kind)]
        v = by_kind[kind][n % len(by_kind[kind])]
        # run to half a year after the change (at most the three years): its effect shows, at less cost
        at = divergence_h(s, v.change(s))
        s = s.model_copy(update={"end_date": min(s.end_date, s.start_date + timedelta(hours=at) + timedelta(days=183))})
        v = next(w for w in items_of(s, "id", 12.0)[1] if w.name == v.name)
        jobs = plan([s, v], 1, s.seed, keeps="t")
        at = divergence_h(jobs[0].scenario, jobs[1].scenario)
        assert 0 < at < math.inf
        chain = prefixes.Chain(jobs[0].scenario, 0, 0, (prefixes.Fork(at, 1, jobs[1].scenario),))
        got = _in_worker(chain, s.seed, ALL_BUT_TIME, None)
        assert all(ok for _, ok, _, _ in got), [value for _, ok, value, _ in got if not ok]
        forked = {jobs[i].key: value for i, _, value, _ in got}
        hows[v.name] = next(how for i, _, _, how in got if i == 1)
        alone = execute(jobs, ALL_BUT_TIME, seed=s.seed, workers=1, shared_prefixes=False)
        assert forked == alone, v.name
        changed += forked[jobs[0].key] != forked[jobs[1].key]  # the change did something: not a trivial check
        checked.add((kind[0], v.name.split("~")[1]))
    assert {kind for kind, _ in checked} >= {"port", "sea_link", "rail_line"}
    assert {how for _, how in checked} == {"without", "delayed"}
    assert changed >= 0.8 * cases
    assert sum(how == "forked" for how in hows.values()) >= 0.8 * cases, hows


# ------------------------------------------------------------------ fleets by class, water levels, charters
def _fleet(investments: list[dict], level_m: dict | float | None = None, **link: object) -> Scenario:
    """Two lines of one fleet, A from terminal a and B from b, to one far end q, in a falling sea (1 m a
    year, in monthly steps: a is 6.6 m deep at the datum, b 8.0 m). The 'deep' class (3,000 t) needs 6.0 m
    and loses all its payload 0.1 m short: it loads fully at a to January, 2,400 t in February and nothing
    from March, so the pooled 'deep' group (most-waiting redeployment) moves to B, while the 'deep_a'
    vessel, allowed on A alone, waits there for water. A 'shallow' class (2,000 t) has no depth limit. Up
    to two vessels of the deep class are chartered on A when 20,000 t wait there. Storms close the link;
    legs are drawn."""
    classes = {"deep": {"payload": {"t": 3000}, "depth_needed_m": 6.0, "payload_loss_per_m": 10.0},
               "shallow": {"payload": {"t": 2000}}}
    port = {"kind": "port", "berths": 2, "handling_rate_t_per_h": 1000.0, "call_h": 2.0}
    tri = {"dist": "triangular", "low": 16, "mode": 20, "high": 30}
    nodes = {"a": {**port, "depth_m": 6.6, "water_level": "sea"}, "b": {**port, "depth_m": 8.0, "water_level": "sea"},
             "q": {**port, "berths": 3},
             "sea": {"kind": "sea_link", "max_wait_h": 24,
                     "vessels": {"deep": {"vessel_class": "deep", "count": 2},
                                 "deep_a": {"vessel_class": "deep", "count": 1, "lines": ["A"]},
                                 "shallow": {"vessel_class": "shallow", "count": 1}},
                     "lines": {"A": {"load_at": "a", "unload_at": "q", "crossing_h": tri},
                               "B": {"load_at": "b", "unload_at": "q", "crossing_h": tri}},
                     "redeploy": {"policy": "most_waiting", "review_h": 12, "reposition_h": 8},
                     "storms": {"events_per_month": 1.0, "duration_days": {"dist": "exponential", "mean": 1.0}},
                     "charter": {"vessels": 2, "queue_t": 20000, "lead_days": 7, "min_days": 20,
                                 "vessel_class": "deep", "line": "A"}, **link}}
    streams = {"x": stream(["a", "sea", "q"], 1.0, 500.0), "y": stream(["b", "sea", "q"], 0.7, 500.0)}
    levels = {"sea": {"datum_m": -29.0, "level_m": {2023: -29.0, 2025: -31.0} if level_m is None else level_m}}
    return make_scenario(nodes, streams, vessel_classes=classes, water_levels=levels, investments=investments)


MORE_DEEP = {"id": "more_deep", "node": "sea", "field": "vessels.deep.count", "change": "add", "value": 1,
             "date": "2024-04-01"}
DREDGE_A = {"id": "dredge_a", "node": "a", "field": "depth_m", "change": "add", "value": 2.0, "date": "2024-09-01"}
SCENARIO = _fleet([MORE_DEEP, DREDGE_A])


def _but(s: Scenario, **changes: dict) -> Scenario:
    """``s`` with investments changed (id -> fields; None: removed) or added (a new id)."""
    invs = [i.model_dump() for i in s.investments]
    out = [{**i, **(changes.get(i["id"]) or {})} for i in invs if changes.get(i["id"], {}) is not None]
    out += [c for k, c in changes.items() if c is not None and k not in {i["id"] for i in invs}]
    return s.model_copy(update={"investments": [type(s.investments[0]).model_validate(i) for i in out]})


def _switched(s: Scenario, variant: Scenario) -> tuple[str | None, Corridor]:
    c = Corridor(s, 0, 5)
    c.run_to(divergence_h(s, variant))
    return switch(c, variant), c


def _run(s: Scenario) -> str:
    return every_table(tables(Corridor(s, 0, 5).run()))


# two groups kept to B, delivered on one day (the first of them in the scenario before, in its variant then)
_B = {"deep_b": {"vessel_class": "deep", "count": 0, "lines": ["B"]},
      "shallow_b": {"vessel_class": "shallow", "count": 0, "lines": ["B"]}}
_TIE = [{"id": f"{g}_1", "node": "sea", "field": f"vessels.{g}.count", "change": "add", "value": 1, "date": d}
        for g, d in (("deep_b", "2024-04-01"), ("shallow_b", "2024-06-15"))]
WITH_B = _fleet([MORE_DEEP, DREDGE_A, *_TIE], vessels={**SCENARIO.nodes["sea"].model_dump(mode="json")["vessels"],
                                                        **_B})


@pytest.mark.parametrize("scenario,variant,date_", [
    (SCENARIO, _but(SCENARIO, more_deep=None), "2024-04-01"),  # a pooled vessel never delivered: its wait dropped
    (SCENARIO, _but(SCENARIO, more_deep={"date": date(2024, 6, 1)}), "2024-04-01"),  # delivered later: its wait moves
    # delivered later, on the day a vessel of another group on its line is: the variant's run wakes them in the
    # order it queued their waits (at its start, group by group), so the moved wait keeps its place in the queue
    # (the first takes its line's turn to load)
    (WITH_B, _but(WITH_B, deep_b_1={"date": date(2024, 6, 15)}), "2024-04-01"),
    (SCENARIO, _but(SCENARIO, less={"id": "less", "node": "sea", "field": "vessels.deep.count", "change": "add",
                                    "value": -1, "date": date(2024, 5, 1)}), "2024-05-01"),  # withdrawn: after its trip
    (SCENARIO, _but(SCENARIO, dredge_a=None), "2024-09-01"),  # no dredging: the vessel waiting for water waits for ever
    (SCENARIO, _but(SCENARIO, dredge_a={"date": date(2024, 11, 1)}), "2024-09-01"),  # dredged later: the wait moves
])
def test_a_fleet_switched_at_a_vessel_count_or_a_dredging_is_the_variants_own_run(scenario, variant, date_):
    """Every table of the switched run is the variant's own, byte for byte, and not the scenario's: the
    vessels by class and their waits to enter service, the pooled vessels' redeployment, the vessel waiting
    for water at a shallow terminal, the payloads that the terminal's depth cuts (chartered vessels' too)."""
    at = divergence_h(scenario, variant)
    assert at == hours_since(scenario.start_date, date.fromisoformat(date_))
    why, c = _switched(scenario, variant)
    assert why is None
    c.run_to(c.grid.horizon_h)
    got = every_table(tables(c.results()))
    assert got == _run(variant)
    assert got != _run(scenario)


def test_the_fleet_scenario_has_what_the_switch_must_carry():
    """(That the test above exercises what it says: vessels wait for water at a and come back after the
    dredging, the pooled ones sail B as well as A, and vessels are chartered.)"""
    r = Corridor(SCENARIO, 0, 5).run()
    ex = r.nodes["sea"].extra
    groups = ex["groups"]
    trips = {g: [sum(ex["trips"][i][li]) for li in range(2)] for i, g in enumerate(groups)}
    assert trips["deep"][0] > 0 and trips["deep"][1] > 0  # pooled: on both lines
    assert ex["charter_starts_h"]  # chartered on A
    # the vessel kept to A loads nothing for a while: its payload there in 2024 is below full, and it sails
    # again after the dredging (a trip after September)
    assert ex["group_payload_t"][groups.index("deep_a")][0][0] < 3000 * 0.7
    no_dredge = Corridor(_but(SCENARIO, dredge_a=None), 0, 5).run().nodes["sea"].extra
    assert sum(ex["trips"][groups.index("deep_a")][0]) > sum(no_dredge["trips"][groups.index("deep_a")][0])


@pytest.mark.parametrize("scenario,variant,why", [
    (SCENARIO, _but(SCENARIO, more={"id": "more", "node": "sea", "field": "vessels.deep_a.count", "change": "add",
                                    "value": 1, "date": date(2024, 6, 1)}), "never started"),
    (_but(SCENARIO, gone={"id": "gone", "node": "sea", "field": "vessels.deep_a.count", "change": "set", "value": 0,
                          "date": date(2024, 3, 1)}),
     _but(SCENARIO, gone={"id": "gone", "node": "sea", "field": "vessels.deep_a.count", "change": "set", "value": 0,
                          "date": date(2024, 3, 1)},
          back={"id": "back", "node": "sea", "field": "vessels.deep_a.count", "change": "set", "value": 1,
                "date": date(2024, 8, 1)}), "retired for good sails in the variant"),
    (_but(SCENARIO, dredge_a=None), SCENARIO, "left without water for good sails in the variant"),
])
def test_a_fleet_switch_that_cannot_be_exact_says_why_and_changes_nothing(scenario, variant, why):
    """A vessel the variant has and the scenario never started (its process, started at hour 0 in the
    variant's run, cannot be started at its place later); one the scenario retired for good, or left without
    water for good, that sails again in the variant (its process has ended)."""
    c = Corridor(scenario, 0, 5)
    c.run_to(divergence_h(scenario, variant))
    queue = list(c.env.queue)
    assert why in (switch(c, variant) or "")
    assert c.env.queue == queue and c.scenario is scenario


def test_a_fleets_other_fields_have_no_shared_prefix():
    """A vessel group's lines or class, the redeployment policy, the charter market, the sea's level or a
    vessel class change the run from its start: divergence 0 (run in full); counts and depths from their
    date."""
    s = SCENARIO
    link = s.nodes["sea"]
    vessels = link.vessels or {}

    def with_link(**upd: object) -> Scenario:
        return s.model_copy(update={"nodes": {**s.nodes, "sea": link.model_copy(update=upd)}})

    assert divergence_h(s, with_link(redeploy=link.redeploy.model_copy(update={"policy": "fixed"}))) == 0.0
    assert divergence_h(s, with_link(vessels={**vessels, "deep": vessels["deep"].model_copy(
        update={"lines": ["B"]})})) == 0.0
    assert divergence_h(s, with_link(vessels={**vessels, "deep": vessels["deep"].model_copy(
        update={"vessel_class": "shallow"})})) == 0.0
    assert divergence_h(s, with_link(vessels=dict(reversed(vessels.items())))) == 0.0  # (processes start in order)
    assert divergence_h(s, with_link(charter=link.charter.model_copy(update={"queue_t": 30000}))) == 0.0
    assert divergence_h(s, _fleet(list(s.investments), level_m={2023: -29.0, 2025: -31.5})) == 0.0
    classes = {**s.vessel_classes, "deep": s.vessel_classes["deep"].model_copy(update={"payload": {"t": 3100}})}
    assert divergence_h(s, s.model_copy(update={"vessel_classes": classes})) == 0.0
    assert divergence_h(s, _but(s, dredge_a={"value": 1.0})) == hours_since(s.start_date, date(2024, 9, 1))


FALLING = _falling_sea(dredge=True)  # deep ships out of the turn from May (no lot fits them), dredged 1 November


@pytest.mark.parametrize("variant", [
    _but(FALLING, dredge={"date": date(2024, 9, 1)}),  # dredged earlier: their waits move to September
    _but(FALLING, dredge={"date": date(2024, 12, 1)}),  # later: to December
    _but(FALLING, dredge={"value": 0.2}),  # too little (1,380 t): they wake, no lot fits them still, out for good
])
def test_vessels_out_of_the_turn_for_water_wait_for_the_variants_dredging(variant):
    """Ships a falling sea left too small for every waiting lot wait out of their line's turn until their
    payload rises: switched while they wait, they wait for the variant's dredging instead (or for a lot that
    fits, which never comes), and every table is the variant's own."""
    why, c = _switched(FALLING, variant)
    assert why is None
    assert sum(len(line.aside) for line in c.nodes["sea"].lines) == 2  # (both deep ships wait out of the turn)
    c.run_to(c.grid.horizon_h)
    got = every_table(tables(c.results()))
    assert got == _run(variant)
    assert got != _run(FALLING)


def test_vessels_out_of_the_turn_for_good_cannot_take_a_variants_dredging():
    """Without a dredging, nothing brings the deep ships back but a lot that fits: their waits have no hour
    for a switch to move, so a variant that dredges runs in full, and says why."""
    scenario = _falling_sea(dredge=False)
    c = Corridor(scenario, 0, 5)
    c.run_to(divergence_h(scenario, FALLING))
    assert "left without water for good sails in the variant" in (switch(c, FALLING) or "")


LOW_WATER = cut("low_water", date(2029, 1, 1))


def test_a_library_dredging_switched_at_its_date_is_the_variants_own_run():
    """low_water's Kuryk dredging delayed a year: the pooled ferries' payloads at Kuryk, switched on 30 June
    2028, give the delayed variant's own tables (and not the scenario's)."""
    variant = variants_of(LOW_WATER, {"dredge_kuryk"})["low_water~delayed~dredge_kuryk"]
    at = divergence_h(LOW_WATER, variant)
    assert at == hours_since(LOW_WATER.start_date, date(2028, 6, 30))
    c = Corridor(LOW_WATER, 0, LOW_WATER.seed)
    c.run_to(at)
    assert switch(c, variant) is None
    c.run_to(c.grid.horizon_h)
    got = every_table(tables(c.results()))
    assert got == full(variant)
    assert got != full(LOW_WATER)
