"""Port terminal: ``berths`` parallel handling positions (a simpy resource).

A shipment waits for a berth, is handled for ``t / rate`` hours (rate per
berth, drawn fixed / exponential / lognormal around that mean), then, when the
port has a yard limit, waits with the berth held until the yard has room for
it (blocked by downstream). The yard space is freed when the next node starts
serving the shipment (a vessel or train loads it).

Berths are a counter and a FIFO queue of waiting shipments rather than a
``simpy.Resource``: a shipment that finds a free berth starts at once (no
request or release events), which halves the events per port visit, and a
berth count that changes over time is just a new limit for the counter (a
reduction lets the shipments in service finish and grants no new berth until
fewer are held than allowed).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Generator, Literal

import numpy as np
import simpy

from pydantic import Field, field_validator, model_validator

from ..distributions import Exponential, Fixed, Lognormal
from ..specs import NodeSpecBase, TimelineSpec, count_timeline, exactly_one, non_negative_timeline
from ..timeline import Timeline, combine, timeline_from_spec
from ..units import t_per_h_from_mt_per_year
from ..years import YearGrid
from .base import Node, NodeRecord, Shipment
from .kind import NodeKind, ServiceModel


class PortSpec(NodeSpecBase):
    """A port terminal: ``berths`` parallel handling positions, each handling
    cargo at ``handling_rate_t_per_h`` (or the rate implied by
    ``capacity_mt_per_year`` spread over the berths)."""

    kind: Literal["port"]
    berths: TimelineSpec = 1
    capacity_mt_per_year: TimelineSpec | None = None
    handling_rate_t_per_h: TimelineSpec | None = None
    service: Literal["fixed", "exponential", "lognormal"] = "exponential"
    service_cv: float = Field(0.5, gt=0, description="cv of handling time when service is lognormal")
    yard_limit_t: float | None = Field(None, gt=0)

    _nonneg = field_validator("capacity_mt_per_year", "handling_rate_t_per_h")(
        lambda v: v if v is None else non_negative_timeline(v)
    )
    _count = field_validator("berths")(count_timeline)

    _one_rate = model_validator(mode="after")(lambda self: exactly_one(self, "capacity_mt_per_year", "handling_rate_t_per_h"))



class Port(Node):
    kind = "port"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        spec = self.spec
        self.berths = self.tl(spec.berths)
        if spec.capacity_mt_per_year is not None:
            self.cap_rate = Timeline((h, t_per_h_from_mt_per_year(v)) for h, v in self.tl(spec.capacity_mt_per_year).points)
        else:
            self.cap_rate = combine(lambda r, b: r * b, self.tl(spec.handling_rate_t_per_h), self.berths)
        self.cap_rate = combine(lambda c, f: c * f, self.cap_rate, self.factor)
        self.available = combine(lambda b, f: b if f > 0 else 0.0, self.berths, self.factor)
        shape = {"fixed": Fixed(value=1.0), "exponential": Exponential(dist="exponential", mean=1.0),
                 "lognormal": Lognormal(dist="lognormal", mean=1.0, cv=spec.service_cv)}[spec.service]
        self.unit_service = self.sampler(shape, "service")
        self.waiting: deque[simpy.Event] = deque()  # shipments waiting for a berth, FIFO
        self.n_held = 0  # berths held: in service, or blocked by a full yard
        self.yard = simpy.Container(self.env, capacity=spec.yard_limit_t) if spec.yard_limit_t else None
        self.n_busy = 0
        self.queued_t = 0.0
        self._avail = self._avail_now()
        self._rate_per_berth = 1.0
        self._handling_factor = self.duration_factor.get("handling_time")
        self.env.process(self._controller())

    # capacity over time --------------------------------------------------

    def _avail_now(self) -> int:
        return int(round(self.available.at(self.env.now)))

    def _controller(self) -> Generator:
        """At each change of berths, rate or disruption: re-set the usable berths
        and the handling rate per berth (cached: the hot path reads attributes)."""
        changes = sorted(set(self.available.change_hours()) | set(self.cap_rate.change_hours()))
        while True:
            now = self.env.now
            self._avail = self._avail_now()
            self._rate_per_berth = self.cap_rate.at(now) / max(self.available.at(now), 1.0)
            self._grant()
            self._update_active()
            later = [h for h in changes if h > now]
            if not later:
                return
            yield self.env.timeout(later[0] - now)

    def _update_active(self) -> None:
        self.set_active(self._avail <= 0 or self.n_busy >= self._avail)

    def _grant(self) -> None:
        """Hand free berths to waiting shipments, first come first served."""
        while self.waiting and self.n_held < self._avail:
            self.n_held += 1
            self.waiting.popleft().succeed()

    # the shipment's visit --------------------------------------------------

    def visit(self, s: Shipment) -> Generator:
        env, rec, grid = self.env, self.rec, self.grid
        rec.entered_t += s.t
        rec.hops += 1
        arrived = env.now
        if self.n_held < self._avail and not self.waiting:
            self.n_held += 1
        else:
            self.queued_t += s.t
            turn = env.event()
            self.waiting.append(turn)
            yield turn  # _grant() has counted the berth as held
            self.queued_t -= s.t
        if s.yard is not None:
            self.release_yard(s)
        start = env.now
        rec.wait_year.append(grid.index(start))
        rec.wait_h.append(start - arrived)
        self.n_busy += 1
        if self.n_busy >= self._avail:
            self.set_active(True)
        service = s.t / self._rate_per_berth * self.unit_service()
        if self._handling_factor is not None:
            service *= self._handling_factor.at(start)
        yield env.timeout(service)
        grid.add_interval(rec.busy, start, env.now)
        self.n_busy -= 1
        if self._avail > 0 and self.n_busy < self._avail:
            self.set_active(False)
        if self.yard is not None:
            yield self.yard.put(s.t)  # blocked by a full yard: the berth stays held
            s.yard = self.yard
        self.n_held -= 1
        self._grant()
        rec.exited_t += s.t
        rec.throughput_t[grid.index(env.now)] += s.t

    # what metrics and routing ask --------------------------------------------

    def available_servers(self) -> Timeline:
        return self.available

    def rated_t_per_h(self) -> Timeline:
        return self.cap_rate

    def expected_delay_h(self, t: float) -> float:
        rate = self.cap_rate.at(self.env.now)
        return math.inf if rate <= 0 else (self.queued_t + t) / rate

    def is_open(self, now: float) -> bool:
        return self.available.at(now) > 0

    def opens_at(self) -> float | None:
        return self.available.first_hour_where(lambda v: v > 0)


def capacity_t(spec: PortSpec, rec: NodeRecord, grid: YearGrid) -> np.ndarray:
    """Berths x handling rate (or the stated Mt/yr), times disruption factors: the
    rated tonnes the engine integrated over each year."""
    return np.asarray(rec.rated_t, dtype=float)


def service(spec: PortSpec, grid: YearGrid, y: int, capacity_t: float) -> ServiceModel | None:
    """``c`` berths (time-averaged over the year), each handling capacity / (c x hours)."""
    hours = float(grid.hours()[y])
    c = float(grid.integrate(timeline_from_spec(spec.berths, grid.start))[y]) / hours
    if c <= 0:
        return None
    unit_scv = {"exponential": 1.0, "fixed": 0.0, "lognormal": spec.service_cv**2}[spec.service]
    return ServiceModel(c, capacity_t / (c * hours), unit_scv)


KIND = NodeKind(
    name="port", label="port", spec=PortSpec, engine=Port, capacity_t=capacity_t,
    investable=frozenset({"berths", "capacity_mt_per_year", "handling_rate_t_per_h"}),
    durations=frozenset({"handling_time"}),
    timelines=("berths", "capacity_mt_per_year", "handling_rate_t_per_h"), counts=("berths",),
    fits=("yard_limit_t", "the yard"), utilisation_check="equal", service=service, marker="s",
)
