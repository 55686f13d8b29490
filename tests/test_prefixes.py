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
from model.experiments.runner import Extract, execute, plan, table_records
from model.scenario import library
from model.scenario.schema import Scenario


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
# a move), a vessel group's count on the pooled ferries, a rail line's train paths
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


def _chain_how(compare: bool = True) -> list[str]:
    s = cut("baseline", SHORT)
    track = variants_of(s, {"dostyk_moyinty_second_track"})["baseline~without~dostyk_moyinty_second_track"]
    more = more_capacity(s, "caspian_ferry")
    assert more is not None
    at = divergence_h(s, track)
    chain = prefixes.Chain(s, 0, 0, (prefixes.Fork(at, 1, track), prefixes.Fork(at, 2, more[0])))
    got = prefixes.run_chain(chain, s.seed, MAIN_TABLES, MAIN)
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
        hows = _chain_how(compare=False)
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


@pytest.mark.slow
def test_every_library_scenario_gives_the_same_appraisal_tables_with_shared_prefixes_and_without():
    """An appraisal variant of every library scenario with investments in its first three years
    (its first replication, to three years after the start), forked and in full: one variant a
    scenario, taken in turn from the kinds of change it has (a terminal's berths or cranes, a fleet,
    train paths; removed or delayed), so that every kind is checked on several scenarios within the
    slow lane's time."""
    checked: set[tuple[str, str]] = set()
    changed = cases = 0
    for n, (name, s) in enumerate(_library_cut()):
        _, vs = items_of(s, "id", 12.0)
        by_kind: dict[tuple[str, str], list] = {}
        for v in vs:  # (which variants share a prefix: the scenario as given is enough to choose)
            if divergence_h(s, v.change(s)) > 0:
                inv = next(i for i in s.investments if i.id == v.name.split("~")[-1])
                by_kind.setdefault((s.nodes[inv.node].kind, inv.field), []).append(v)
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
        assert 0 < divergence_h(jobs[0].scenario, jobs[1].scenario) < math.inf
        forked = execute(jobs, MAIN_TABLES, seed=s.seed, shared_prefixes=True)
        alone = execute(jobs, MAIN_TABLES, seed=s.seed, workers=1, shared_prefixes=False)
        assert forked == alone, v.name
        changed += forked[jobs[0].key] != forked[jobs[1].key]  # the change did something: not a trivial check
        checked.add((kind[0], v.name.split("~")[1]))
    assert {kind for kind, _ in checked} >= {"port", "sea_link", "rail_line"}
    assert {how for _, how in checked} == {"without", "delayed"}
    assert changed >= 0.8 * cases
