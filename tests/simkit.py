"""Helpers for the engine tests: small scenarios built from dicts, unit
conversions for hand-computed expectations, a spy that records when a node
starts serving (a train leaves, a berth starts handling), and a trace of every
wait and transit one by one (the records keep them only per year, as counts,
sums and histograms).

Scenarios are tiny and hand-checkable; every figure an assertion relies on is
written in the test next to it. (A plain module rather than conftest.py, so
that test files can import it by a name no other conftest shadows.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from model.scenario.checks import check_references
from model.scenario.schema import Scenario
from model.engine.simulate import Corridor, RunRecords
from model.core.timeline import hours_since
from model.core.units import HOURS_PER_YEAR, T_PER_MT

START = date(2024, 1, 1)


def make_scenario(nodes: dict[str, dict], streams: dict[str, dict], *, start: str = "2024-01-01",
                  end: str = "2025-01-01", **extra: Any) -> Scenario:
    """A validated scenario from plain dicts; also passes the cross-reference checks."""
    data = {"name": extra.pop("name", "t"), "start_date": start, "end_date": end, "nodes": nodes,
            "streams": streams, **extra}
    s = Scenario.model_validate(data)
    problems = check_references(s)
    assert not problems, problems
    return s


def stream(route: list, volume_mt: float | dict, shipment_t: float, **extra: Any) -> dict:
    return {"commodity": "c", "volume_mt_per_year": volume_mt, "shipment_t": shipment_t, "route": route, **extra}


def hour(d: str, start: date = START) -> float:
    """Simulation hour of an ISO date for a run starting at ``start``."""
    return hours_since(start, date.fromisoformat(d))


def mt_over(hours: float, mt_per_year: float) -> float:
    """Tonnes a rate stated in Mt/yr moves in ``hours`` (the model's 8,760-h year)."""
    return mt_per_year * T_PER_MT * hours / HOURS_PER_YEAR


def in_system_t(r: RunRecords) -> float:
    return sum(n.entered_t - n.exited_t for n in r.nodes.values())


def run_with_spy(scenario: Scenario, spied: dict[str, str], seed: int = 1, replication: int = 0
                 ) -> tuple[RunRecords, dict[str, list[float]]]:
    """Run one replication, recording the simulation hours at which the spied
    sampler of each node is called. ``spied`` maps node id -> sampler: a rail line's ``"draw_transit"`` (drawn as a train leaves), a
    port's ``"unit_service"`` (a service starts), a border's ``"draw"`` (a
    dwell starts), a pipeline's ``"draw_transit"`` (a parcel is pumped). A sampler is
    data the node calls, so the spy sees every draw whether the engine is compiled or
    not (a method replaced on an instance would not be seen by compiled code).
    (Sea links log their sailings themselves, in ``departures_h``.) Returns the
    records and, per node, the sorted hours."""
    c = Corridor(scenario, replication, seed)
    times: dict[str, list[float]] = {nid: [] for nid in spied}
    for nid, what in spied.items():
        node = c.nodes[nid]
        setattr(node, what, _spy(getattr(node, what), c, times[nid]))
    r = c.run()
    return r, {nid: sorted(v) for nid, v in times.items()}


def _spy(orig, c: Corridor, out: list[float]):
    def draw(*args):
        out.append(c.env.now)
        return orig(*args)
    return draw


def binomial_tolerance(n: int, p: float, z: float = 4.0) -> float:
    """Half-width of a normal-approximation interval for a Binomial(n, p) count
    (z = 4: a correct model fails this about once in 16,000 runs)."""
    return z * math.sqrt(n * p * (1.0 - p))


@dataclass
class Trace:
    """One replication's records, and what they no longer keep one by one: each stream's
    transit times and transit times from the first port (hours, in delivery order, from
    the shipment log) and each node's waits (hours, in the order recorded)."""

    records: RunRecords
    transit_h: dict[str, np.ndarray] = field(default_factory=dict)
    port_transit_h: dict[str, np.ndarray] = field(default_factory=dict)
    wait_h: dict[str, np.ndarray] = field(default_factory=dict)


def run_traced(scenario: Scenario, seed: int = 1, replication: int = 0) -> Trace:
    """Run one replication with the shipment log on and every node's waits kept one by one."""
    c = Corridor(scenario, replication, seed, log_shipments=True)
    for node in c.nodes.values():
        node.rec.waits.keep_values()
    r = c.run()
    tr = Trace(r, wait_h={nid: np.array(rec.waits.kept) for nid, rec in r.nodes.items()})
    for sid, rec in r.streams.items():
        assert rec.log is not None
        log = rec.log.columns()
        tr.transit_h[sid] = log["delivered_h"] - log["created_h"]
        tr.port_transit_h[sid] = log["delivered_h"] - log["port_h"]
    return tr

