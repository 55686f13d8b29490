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

:func:`divergence_h` finds the hour from the scenarios alone. :func:`switch` applies the change
to the live nodes: each changed node takes the variant's capacity timelines (built by the
variant's own constructor, so nothing is derived twice), and the wake-ups the scenario's
capacities had scheduled at or after the hour (a terminal's controller, a vessel waiting to enter
service) are moved to the hours the variant's capacities give, keeping their place in the queue
(their event id: the variant's run would have scheduled them at the same moment, as its past is
the same). Where that cannot be done exactly, it says why and changes nothing, and the caller
runs the variant in full:

* a change from the start, or to a field other than a dated capacity (a line's opening: a closed
  line is asked when it opens, so its opening date is read before it comes), has no shared
  prefix (:func:`divergence_h` gives 0);
* a node closed just before the hour (a storm, a disruption, a capacity of 0) may have been asked
  when it reopens, which looks past the hour;
* a kind without an entry in :data:`SWITCHES` (its live state is not known here: a sea link's
  vessel groups), or a wake-up that the scenario's run had already ended.
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from model.core.timeline import Timeline, resolve_node_specs, timeline_from_spec
from model.core.years import YearGrid
from model.engine.simulate import Corridor
from model.nodes import KINDS
from model.scenario.schema import Scenario

Wakes = dict[int, float | None]
"""Pending events (by ``id()``) to move to a new hour, or (None) to drop."""

_NOT_SWITCHED = {("port", "depth_m")}  # (a terminal's depth cuts the payloads of the sea links calling there)

_SAME_BEYOND = ("name", "description", "replications", "appraisal", "uncertainty", "investments", "nodes")


def _rest(s: Scenario) -> dict[str, Any]:
    """What a scenario holds besides its nodes and what only resolves into them (investments,
    project delays), and besides what does not change a replication (names, money values)."""
    body = s.model_dump(mode="json", exclude=set(_SAME_BEYOND))
    body["delays"] = {k: v for k, v in body.get("delays", {}).items() if k != "projects"}
    return body


def _first_change_h(a: Timeline, b: Timeline) -> float:
    """The first hour at which two timelines differ (inf: never)."""
    for h in sorted({h for h, _ in a.points} | {h for h, _ in b.points}):
        if a.at(h) != b.at(h):
            return max(h, 0.0)
    return math.inf


def _node_divergence_h(kind: str, a: Any, b: Any, start: date) -> float:
    """The first hour at which two resolved specs of one node differ: a dated capacity's first
    different value; 0 for any other field (an opening, a payload: no shared prefix)."""
    da, db = a.model_dump(), b.model_dump()
    first = math.inf
    for field in sorted(set(da) | set(db)):
        if da.get(field) == db.get(field):
            continue
        va, vb = getattr(a, field, None), getattr(b, field, None)
        if field not in KINDS[kind].timelines or (kind, field) in _NOT_SWITCHED or va is None or vb is None:
            return 0.0
        first = min(first, _first_change_h(timeline_from_spec(va, start), timeline_from_spec(vb, start)))
    return first


def divergence_h(base: Scenario, variant: Scenario) -> float:
    """The hour from which ``variant`` may run differently from ``base`` (both drawn: their
    uncertain inputs fixed): the first hour at which a node's resolved capacity differs; 0 when
    they differ otherwise (dates, demand, weather, disruptions, a node's other fields) or from
    the start; the horizon when they do not differ within it."""
    if (base.start_date, base.end_date) != (variant.start_date, variant.end_date) or _rest(base) != _rest(variant) \
            or list(base.nodes) != list(variant.nodes):
        return 0.0
    horizon = YearGrid(base.start_date, base.end_date).horizon_h
    sa, sb = resolve_node_specs(base), resolve_node_specs(variant)
    first = math.inf
    for nid in sa:
        if sa[nid] == sb[nid]:
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


def _port_wakes(live: Any, fresh: Any, at: float) -> Wakes | str:
    """A terminal's controller wakes at each change of its usable berths or rate: its pending
    wake moves to the variant's first change from ``at`` (or is dropped: it would have ended)."""
    nxt = _first_at_or_after(fresh.changes_h, at)
    if live.wake is None:
        return {} if nxt is None else "the terminal's controller had ended before the variant's change"
    return {id(live.wake): nxt}


@dataclass(frozen=True)
class Switch:
    """How a kind's live node takes a variant's capacity: the attributes it takes from a node
    the variant's constructor built (``swap``), those of them that must be above 0 just before
    the hour (``open``: a closed node is asked when it reopens, a look past the hour), and its
    pending wake-ups that depend on them (``wakes``)."""

    swap: tuple[str, ...]
    open: tuple[str, ...]
    wakes: Callable[[Any, Any, float], Wakes | str] | None = None


SWITCHES: dict[str, Switch] = {
    "port": Switch(("berths", "cap_rate", "available", "changes_h"), ("cap_rate", "available"), _port_wakes),
    "rail_line": Switch(("paths",), ("paths",)),
    "pipeline": Switch(("rate",), ("rate",)),
}
"""The node kinds whose live state a variant's capacity can be switched into (others: full runs)."""


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
    changed = [nid for nid in c.specs if c.specs[nid] != fresh.specs[nid]]
    if any(_node_divergence_h(c.specs[n].kind, c.specs[n], fresh.specs[n], variant.start_date) < at for n in changed):
        return "the variant differs before this hour"
    moves: Wakes = {}
    for nid in changed:
        live, new = c.nodes[nid], fresh.nodes[nid]
        how = SWITCHES.get(live.kind)
        if how is None or type(live) is not type(new):
            return f"{nid}: a {live.kind} cannot be switched to a variant while it runs"
        if any(_before(getattr(live, a), at) <= 0 for a in how.open):
            return f"{nid} is closed just before the variant's change"
        if how.wakes is not None:
            found = how.wakes(live, new, at)
            if isinstance(found, str):
                return f"{nid}: {found}"
            moves.update(found)
    queue = c.env.queue
    if len(moves) != sum(1 for e in queue if id(e[3]) in moves):
        return "a pending wake-up is not in the event queue"
    for nid in changed:
        live, new = c.nodes[nid], fresh.nodes[nid]
        live.spec = new.spec
        for a in SWITCHES[live.kind].swap:
            setattr(live, a, getattr(new, a))
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

