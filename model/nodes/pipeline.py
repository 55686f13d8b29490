"""Pipeline: a tank buffer in front of a continuous flow available to this cargo.

A parcel waits for room in the tank (a :class:`~model.nodes.base.Room`: tankers queue at the
terminal when the tank is full; with ``when_full: divert`` a parcel that finds
it full leaves for another route instead), then is pumped in arrival order at the flow
rate in force when pumping starts (``t / rate`` hours); its tank space is freed
when it has been pumped, then it takes ``transit_h`` to the far end.
The pipeline is *active* while pumping or closed.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar
from collections import deque

import numpy as np

from model.core.distributions import as_distribution
from model.core.timeline import Timeline, combine
from model.core.units import t_per_h_from_mt_per_year
from model.core.years import YearGrid
from model.nodes.base import Call, Context, Node, NodeRecord, Room, Shipment
from model.nodes.kind import NodeKind, ServiceModel
from model.nodes.pipeline_spec import PipelineSpec


class Pipeline(Node):
    kind: ClassVar[str] = "pipeline"

    def __init__(self, nid: str, spec: Any, ctx: Context, factor: Timeline,
                 duration_factor: dict[str, Timeline]) -> None:
        super().__init__(nid, spec, ctx, factor, duration_factor)
        flow = Timeline((h, t_per_h_from_mt_per_year(v)) for h, v in self.tl(self.spec.flow_mt_per_year).points)
        self.rate = combine(lambda r, f: r * f, flow, self.factor)
        self.tank = Room(self.spec.tank_t)
        self.room = self.tank
        self.diverts_when_full = self.spec.when_full == "divert"
        self.line: deque[tuple[Shipment, float]] = deque()  # parcels in the tank waiting for the pump, FIFO
        self._pumping = False
        self.draw_transit = self.sampler(as_distribution(self.spec.transit_h), "transit_h")
        self.queued_t = 0.0

    def accept(self, s: Shipment) -> None:
        if self.diverts_when_full and self.turned_away(s):
            return
        self.enter(s)
        self.queued_t += s.t
        arg = (s, self.env.now_h)
        if self.tank.put(s.t, self._in_tank, arg):
            self._in_tank(arg)

    def _in_tank(self, arg: tuple[Shipment, float]) -> None:
        """In the tank: free the upstream yard, then pump in arrival order."""
        self.release_yard(arg[0])
        if self._pumping:
            self.line.append(arg)
        else:
            self._pumping = True
            self._pump(arg)

    def _pump(self, arg: tuple[Shipment, float]) -> None:
        s, arrived = arg
        now = self.env.now_h
        rate = self.rate.at(now)
        if rate <= 0:  # no flow: wait for it (the pipeline is active, blocked by its own state)
            self.set_active(True)
            nxt = self.rate.next_change_after(now)
            if nxt is not None:
                self.after(nxt - now, lambda c: self._pump(c.value), arg)
            return
        self.record_wait(now - arrived)
        self.set_active(True)
        self.after(s.t / rate, self._pumped, (s, now))

    def _pumped(self, call: Call) -> None:
        s, start = call.value
        self.grid.add_interval(self.rec.busy, start, self.env.now_h)
        self.set_active(False)
        self.tank.get(s.t)
        self.queued_t -= s.t
        if self.line:
            self._pump(self.line.popleft())
        else:
            self._pumping = False
        transit = self.draw_transit()
        if transit > 0:
            self.after(transit, self._out, s)
        else:
            self.leave(s)
            self.forward(s)

    def _out(self, call: Call) -> None:
        self.leave(call.value)
        self.forward(call.value)

    def queued_now(self) -> float:
        return self.queued_t

    def expected_delay_h(self, t: float) -> float:
        now = self.env.now_h
        h = self.rate.positive_from(now)
        return math.inf if h is None else (h - now) + (self.queued_t + t) / self.rate.at(h)

    def is_open(self, now: float) -> bool:
        return self.rate.at(now) > 0

    def open_delay_h(self, now: float, t: float) -> float:
        rate = self.rate.at(now)
        return (self.queued_t + t) / rate if rate > 0 else math.inf

    def opens_at(self) -> float | None:
        return self.rate.first_hour_where(lambda r: r > 0)

    def available_servers(self) -> Timeline:
        """One pump, available while the flow rate is above zero."""
        return combine(lambda r: 1.0 if r > 0 else 0.0, self.rate)

    def rated_t_per_h(self) -> Timeline:
        return self.rate


def capacity_t(spec: PipelineSpec, rec: NodeRecord, grid: YearGrid) -> np.ndarray:
    """The flow available to this cargo, integrated over the year."""
    return np.asarray(rec.rated_t, dtype=float)


def service(spec: PipelineSpec, grid: YearGrid, y: int, capacity_t: float) -> ServiceModel:
    """One pump; pumping a parcel takes its tonnes / rate, a fixed time per tonne."""
    return ServiceModel(1.0, capacity_t / float(grid.hours()[y]), 0.0)


KIND = NodeKind(
    name="pipeline", label="pipeline", spec=PipelineSpec, engine=Pipeline, capacity_t=capacity_t,
    investable=frozenset({"flow_mt_per_year"}), durations=frozenset({"transit_h"}), timelines=("flow_mt_per_year",),
    fits=(("tank_t", "the tank"),), utilisation_check="equal", service=service, marker="h", link=True,
    more_capacity=("factor", 1.1),
)
