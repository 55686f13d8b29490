"""Shared prefixes: switch a running replication to a variant of its scenario at the hour their
inputs first differ, so the variant's run need not repeat the common past.

A variant of an appraisal (an investment removed or delayed), of a programme's step or of a sweep
whose parameters act at a date has the same inputs as its scenario up to a date: the same random
streams (named, :mod:`model.core.rng`), the same shipments, the same events. Only its nodes'
dated capacities differ from that hour on. So a replication of the scenario run to that hour
(:meth:`~model.engine.simulate.Corridor.run_to`), copied (``os.fork``: simpy's generators cannot
be pickled; the orchestration is ``model.experiments.prefixes``) and switched here to the
variant's capacities, goes on exactly as the variant's own run would: the same tables, byte for
byte (``tests/test_prefixes.py`` runs both ways on the library's scenarios).

:func:`divergence_h` finds the hour from the scenarios alone: the first hour at which a dated
capacity differs (a terminal's berths, cranes or depth, a fleet's or a vessel group's count, train
paths, a pipeline's flow). :func:`switch` applies the change to the live nodes. It builds the
variant's own corridor (not run: its constructors derive every schedule, so nothing is derived
twice) and compares each live node's schedules with the variant's; a kind's entry in
:data:`SWITCHES` says which schedules it has, and takes those that differ:

* a port terminal: its berths, rated flow and usable berths (and the hours its controller wakes at);
* a sea link: each vessel group's count, each group's payload on each line (a terminal's depth, with
  the sea's level, cuts it: a dredging investment changes the payloads of the links calling there),
  the chartered vessels' payload, the fleet and the rate that routing reads, and the records its
  constructor derives from them (:data:`model.nodes.sealink.SCHEDULE_RECORDS`);
* a rail line's train paths; a pipeline's flow.

The wake-ups the scenario's schedules had queued at or after the hour (a terminal's controller, a
vessel waiting to enter service or for water) are moved to the hours the variant's schedules give,
keeping their place in the queue (their event id: the variant's run would have queued them at the
same moment, its past being the same), or dropped where the variant's run would have no such
wake-up (a vessel it never has). What is live state and not schedule (queues of cargo per line,
vessels at sea or loading, the room vessels have promised a line, charters on hire and on order)
is the same in both runs up to the hour and reads the schedules as it goes on.

Where that cannot be done exactly, :func:`switch` says why and changes nothing, and the caller runs
the variant in full:

* a change from the start, or to a field other than a dated capacity (an opening: a closed line is
  asked when it opens, so its opening date is read before it comes; a vessel group's class, lines
  or home line, a redeployment policy, a charter market, a sea's level, a vessel class), has no
  shared prefix (:func:`divergence_h` gives 0);
* a node closed just before the hour (a storm, a disruption, a capacity, fleet or rate of 0) may
  have been asked when it reopens, which looks past the hour;
* a kind without an entry in :data:`SWITCHES` (its live state is not known here), a change no
  schedule shows, a vessel group with more vessels in the variant than the scenario ever has (a
  vessel the scenario never started), a vessel the scenario retired for good (or left without
  water for good) that sails in the variant, or a wake-up that is not in the queue.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from model.core.specs import field_values
from model.core.timeline import Timeline, resolve_node_specs, timeline_from_spec
from model.core.years import YearGrid
from model.engine.simulate import Corridor
from model.nodes import KINDS
from model.nodes.sealink import SCHEDULE_RECORDS, SeaLink
from model.scenario.schema import Scenario

Wakes = dict[int, float | None]
"""Pending events (by ``id()``) to move to a new hour, or (None) to drop."""

_SAME_BEYOND = ("name", "description", "replications", "appraisal", "uncertainty", "investments", "nodes")


def _json(obj: Any) -> str:
    """Canonical text of a dump, in its own key order (the order of a fleet's groups or of the
    streams is part of a run: processes start in it)."""
    return json.dumps(obj, default=str)


def _rest(s: Scenario) -> str:
    """What a scenario holds besides its nodes and what only resolves into them (investments,
    project delays), and besides what does not change a replication (names, money values)."""
    body = s.model_dump(mode="json", exclude=set(_SAME_BEYOND))
    body["delays"] = {k: v for k, v in body.get("delays", {}).items() if k != "projects"}
    return _json(body)


def _first_change_h(a: Timeline, b: Timeline) -> float:
    """The first hour at which two timelines differ (inf: never)."""
    for h in sorted({h for h, _ in a.points} | {h for h, _ in b.points}):
        if a.at(h) != b.at(h):
            return max(h, 0.0)
    return math.inf


def _timeline_fields(kind: str, spec: Any) -> dict[str, Any]:
    """The spec's dated capacities (its kind's ``timelines``, dotted paths with ``*`` expanded)."""
    return {path: v for pattern in KINDS[kind].timelines for path, v in field_values(spec, pattern)}


def _without(spec: Any, paths: list[str]) -> str:
    """The spec's dump with the values at ``paths`` blanked: what is left to compare."""
    dump = spec.model_dump(mode="json")
    for path in paths:
        *head, last = path.split(".")
        obj = dump
        for p in head:
            obj = obj[p]
        obj[last] = None
    return _json(dump)


def _node_divergence_h(kind: str, a: Any, b: Any, start: date) -> float:
    """The first hour at which two resolved specs of one node differ: a dated capacity's first
    different value (inf: they do not differ); 0 for any other field (an opening, a payload, a
    vessel group's class or lines: no shared prefix)."""
    ta, tb = _timeline_fields(kind, a), _timeline_fields(kind, b)
    if list(ta) != list(tb) or _without(a, list(ta)) != _without(b, list(tb)):
        return 0.0
    first = math.inf
    for path, va in ta.items():
        vb = tb[path]
        if va == vb:
            continue
        if va is None or vb is None:
            return 0.0
        first = min(first, _first_change_h(timeline_from_spec(va, start), timeline_from_spec(vb, start)))
    return first


def _same_spec(a: Any, b: Any) -> bool:
    return a == b and _json(a.model_dump(mode="json")) == _json(b.model_dump(mode="json"))


def divergence_h(base: Scenario, variant: Scenario) -> float:
    """The hour from which ``variant`` may run differently from ``base`` (both drawn: their
    uncertain inputs fixed): the first hour at which a node's resolved capacity differs; 0 when
    they differ otherwise (dates, demand, weather, water levels, vessel classes, disruptions, a
    node's other fields) or from the start; the horizon when they do not differ within it."""
    if (base.start_date, base.end_date) != (variant.start_date, variant.end_date) or _rest(base) != _rest(variant) \
            or list(base.nodes) != list(variant.nodes):
        return 0.0
    horizon = YearGrid(base.start_date, base.end_date).horizon_h
    sa, sb = resolve_node_specs(base), resolve_node_specs(variant)
    first = math.inf
    for nid in sa:
        if _same_spec(sa[nid], sb[nid]):
            continue
        if sa[nid].kind != sb[nid].kind:
            return 0.0
        first = min(first, _node_divergence_h(sa[nid].kind, sa[nid], sb[nid], base.start_date))
    return min(first, horizon)


# ------------------------------------------------------------------ switching live nodes


def _before(tl: Timeline, hour: float) -> float:
    """The value in force just before ``hour``."""
    i = bisect.bisect_left([h for h, _ in tl.points], hour) - 1
    return tl.points[max(i, 0)][1]


def _first_at_or_after(hours: list[float], at: float) -> float | None:
    return next((h for h in sorted(hours) if h >= at), None)


@dataclass(frozen=True)
class Plan:
    """How one live node takes a variant's schedules: the wake-ups to move (or drop), then ``apply``."""

    moves: Wakes
    apply: Callable[[], None]


Planner = Callable[[Any, Any, float], "Plan | str | None"]
"""(live node, the variant's node as built, the hour) -> a plan, why it cannot be exact, or None
when none of its schedules differ."""


def _port_wakes(live: Any, fresh: Any, at: float) -> Wakes | str:
    """A terminal's controller wakes at each change of its usable berths or rate: its pending
    wake moves to the variant's first change from ``at`` (or is dropped: it would have ended)."""
    nxt = _first_at_or_after(fresh.changes_h, at)
    if live.wake is None:
        return {} if nxt is None else "the terminal's controller had ended before the variant's change"
    return {id(live.wake): nxt}


def _swapping(swap: tuple[str, ...], open_: tuple[str, ...],
              wakes: Callable[[Any, Any, float], Wakes | str] | None = None) -> Planner:
    """A planner that takes the attributes ``swap`` where they differ, those of them in ``open_``
    being above 0 just before the hour (a closed node is asked when it reopens, a look past the
    hour), and moves the wake-ups ``wakes`` finds."""

    def plan(live: Any, fresh: Any, at: float) -> Plan | str | None:
        if all(getattr(live, a) == getattr(fresh, a) for a in swap):
            return None
        if any(_before(getattr(live, a), at) <= 0 for a in open_):
            return "closed just before the variant's change"
        moves: Wakes = {}
        if wakes is not None:
            found = wakes(live, fresh, at)
            if isinstance(found, str):
                return found
            moves = found

        def apply() -> None:
            for a in swap:
                setattr(live, a, getattr(fresh, a))

        return Plan(moves, apply)

    return plan


def _sea_link(live: SeaLink, fresh: SeaLink, at: float) -> Plan | str | None:
    """A fleet takes the variant's vessel counts and payloads (group by group; the chartered
    vessels' payload), the fleet and rate that routing reads, and the records derived from them.
    A vessel waiting to enter service waits for the variant's count, one waiting for water for the
    variant's payload on its line; vessels sailing or waiting for cargo read them as they go on."""
    if [g[0] for g in live.groups] != [g[0] for g in fresh.groups]:
        return "its vessel groups differ"
    n = len(live.groups)
    counts = {g for g in range(n) if live.counts[g] != fresh.counts[g]}
    pays = {g for g in range(n) if live.group_payload[g] != fresh.group_payload[g]}
    charter = live.charter_payload != fresh.charter_payload
    if not counts and not pays and not charter:
        if live.fleet != fresh.fleet or live.rate != fresh.rate:
            return "its fleet differs where no vessel group's count or payload does"
        return None
    if live.fleet != fresh.fleet and _before(live.fleet, at) <= 0:
        return "no vessel in service just before the variant's change"
    if live.rate != fresh.rate and _before(live.rate, at) <= 0:
        return "its vessels load nothing just before the variant's change"
    if charter and any(v.group == n for line in live.lines for v in line.aside):
        return "a chartered vessel waits out of its line's turn for a lot that fits or for water"
    have = [sum(1 for v in live.vessels if v.group == g) for g in range(n)]
    need = [sum(1 for v in fresh.vessels if v.group == g) for g in range(n)]
    if any(b > a for a, b in zip(have, need)):
        g = next(g for g in range(n) if need[g] > have[g])
        return f"the variant has more vessels of group {live.groups[g][0]} than the scenario ever has (a vessel " \
               "never started)"
    moves: Wakes = {}
    for v in live.vessels:
        count, pay = fresh.counts[v.group], fresh.group_payload[v.group].get(v.line.index)
        if v.wake_for == "count" and v.group in counts:
            nxt = count.first_change_above(at, v.number, at_or_after=True)  # (as the vessel's own wait)
        elif v.wake_for == "water" and v.group in pays and pay is not None:
            nxt = pay.first_change_above(at, v.wake_above, at_or_after=True)  # (as its own wait for water: a
            # payload above nothing, or above what it loads now for a vessel none of whose line's lots fits)
        else:
            continue
        if v.ended and nxt is not None:
            why = "retired for good" if v.wake_for == "count" else "left without water for good"
            return f"a vessel of group {live.groups[v.group][0]} the scenario {why} sails in the variant"
        if v.wake is not None:
            moves[id(v.wake)] = nxt

    def apply() -> None:
        for g in counts:
            live.counts[g] = fresh.counts[g]
        for g in pays:  # (in place: the group's vessels share the mapping)
            live.group_payload[g].clear()
            live.group_payload[g].update(fresh.group_payload[g])
        if charter and live.charter_payload is not None and fresh.charter_payload is not None:
            live.charter_payload.clear()  # (in place: chartered vessels on hire hold it)
            live.charter_payload.update(fresh.charter_payload)
        live.fleet, live.rate, live.payload = fresh.fleet, fresh.rate, fresh.payload
        for key in SCHEDULE_RECORDS:
            if key in fresh.rec.extra:
                live.rec.extra[key] = fresh.rec.extra[key]

    return Plan(moves, apply)


SWITCHES: dict[str, Planner] = {
    "port": _swapping(("berths", "cap_rate", "available", "changes_h"), ("cap_rate", "available"), _port_wakes),
    "sea_link": _sea_link,
    "rail_line": _swapping(("paths",), ("paths",)),
    "pipeline": _swapping(("rate",), ("rate",)),
}
"""The node kinds whose live schedules a variant's can be switched into (others: full runs)."""

ACTS_ELSEWHERE: dict[str, frozenset[str]] = {"port": frozenset({"depth_m"})}
"""Dated fields that change no schedule of their own node but those of others (a terminal's depth:
the payloads of the sea links calling there)."""


def switch(c: Corridor, variant: Scenario) -> str | None:
    """Switch the corridor ``c``, run to its current hour, to ``variant`` from now on: None when
    done, else why it cannot be done exactly (and nothing was changed: run the variant in full)."""
    at = c.env.now_h
    if at <= 0:
        return "the variant differs from the start"
    if _rest(c.scenario) != _rest(variant) or list(c.scenario.nodes) != list(variant.nodes) \
            or (c.scenario.start_date, c.scenario.end_date) != (variant.start_date, variant.end_date):
        return "the variant differs in more than its nodes' capacities"
    fresh = Corridor(variant, c.replication, c.seed)
    changed = [nid for nid in c.specs if not _same_spec(c.specs[nid], fresh.specs[nid])]
    if any(_node_divergence_h(c.specs[n].kind, c.specs[n], fresh.specs[n], variant.start_date) < at for n in changed):
        return "the variant differs before this hour"
    plans: list[Plan] = []
    for nid, live in c.nodes.items():
        new = fresh.nodes[nid]
        planner = SWITCHES.get(live.kind)
        if type(live) is not type(new) or (planner is None and nid in changed):
            return f"{nid}: a {live.kind} cannot be switched to a variant while it runs"
        if planner is None:
            continue
        got = planner(live, new, at)
        if isinstance(got, str):
            return f"{nid}: {got}"
        if got is not None:
            plans.append(got)
        elif nid in changed:
            old, var = _timeline_fields(live.kind, c.specs[nid]), _timeline_fields(live.kind, fresh.specs[nid])
            unseen = {p for p in old if old[p] != var[p]} - ACTS_ELSEWHERE.get(live.kind, frozenset())
            if unseen:
                return f"{nid}: its {', '.join(sorted(unseen))} changes no schedule a switch knows"
    moves: Wakes = {k: v for p in plans for k, v in p.moves.items()}
    queue = c.env.queue
    if len(moves) != sum(1 for e in queue if id(e[3]) in moves):
        return "a pending wake-up is not in the event queue"
    for p in plans:
        p.apply()
    for nid in changed:
        c.nodes[nid].spec = fresh.nodes[nid].spec
    if c.nodes:  # the terminals' depths (the nodes' shared context; read at construction only, kept true)
        next(iter(c.nodes.values())).ctx.depths = next(iter(fresh.nodes.values())).ctx.depths
    kept = []
    for e in queue:
        if id(e[3]) not in moves:
            kept.append(e)
        elif (hour := moves[id(e[3])]) is not None:  # the same place among events at that hour: its id
            kept.append((hour, e[1], e[2], e[3]))
    queue[:] = kept
    heapq.heapify(queue)
    c.scenario = variant
    c.specs = fresh.specs
    return None
