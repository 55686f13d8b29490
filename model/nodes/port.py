"""Port terminal: ``berths`` of one kind, worked at a handling rate; vessels, trains and ships call.

A *call* holds one berth for ``call_h`` (mooring, papers, inspections: a drawn
fixed part) plus tonnes / (handling rate per berth), drawn fixed / exponential
/ lognormal around that mean. Berths are granted first come, first served, and
none is granted while the terminal is closed (a disruption with capacity factor
0, a storm, or a handling rate or capacity of 0): callers wait out the closure.

Who calls:

* a **sea-link vessel** whose ``load_at`` or ``unload_at`` names this terminal:
  it loads (unloads) its whole cargo in one call, so the terminal's berths and
  handling rate set the fleet's port time, and thereby the link's capacity;
  the shipments it carries pass through the terminal's yard without a call of
  their own (:meth:`Port.pass_through`);
* every **other shipment** that arrives at the terminal (background traffic: a ship
  of other cargo; or a stream whose vessel is not modelled): one call each
  (:meth:`Port.accept`, one kernel event: the call's end). With ``call_h`` 0 this is the classic multi-server
  queue of shipments on berths.

When the terminal has a yard limit, a shipment handled here (or passing
through) holds yard space until the next node starts serving it (a vessel or
train loads it); a full yard keeps the berth held (blocked by downstream), and
a shipment arriving to a full yard waits upstream (``when_full: wait``) or
leaves for another route (``when_full: divert``: the 2025 halt of rail
dispatches to a congested Kuryk is the first; a shipper rebooking, the second).

Berths are a counter and a FIFO queue of waiting callers rather than a
``simpy.Resource``: a caller that finds a free berth starts at once (no
request or release events; a waiting shipment's call starts when a berth is handed
to it, a waiting vessel's process resumes), and a berth count that changes over time is just a
new limit for the counter (a reduction lets the calls in service finish and
grants no new berth until fewer are held than allowed).
"""

from __future__ import annotations

import math
from datetime import date
from collections import deque
from typing import Any, ClassVar, Generator

import numpy as np
import simpy

from model.core.distributions import Exponential, Fixed, Lognormal, as_distribution
from model.core.timeline import Timeline, combine, timeline_from_spec, union_intervals as _union
from model.core.units import t_per_h_from_mt_per_year
from model.core.years import YearGrid
from model.nodes.base import Call, Context, Node, NodeRecord, Proc, Room, Shipment
from model.nodes.kind import NodeKind, ServiceModel
from model.nodes.port_spec import PortSpec


class Port(Node):
    kind: ClassVar[str] = "port"

    def __init__(self, nid: str, spec: Any, ctx: Context, factor: Timeline,
                 duration_factor: dict[str, Timeline]) -> None:
        super().__init__(nid, spec, ctx, factor, duration_factor)
        spec = self.spec
        self.berths = self.tl(spec.berths)
        if spec.capacity_mt_per_year is not None:
            self.cap_rate = Timeline((h, t_per_h_from_mt_per_year(v)) for h, v in self.tl(spec.capacity_mt_per_year).points)
        else:
            self.cap_rate = combine(lambda r, b: r * b, rate_per_berth(spec, self.ctx.start), self.berths)
        storms = self.weather_closures()
        for a, b in storms:
            self.grid.add_interval(self.rec.closed_h, a, b)
        # hours closed per month: weather and disruptions together, each hour once
        self.rec.closed_month_h = [0.0] * len(self.rec.closed_month_h)
        self.add_closed_months(_union(storms + self.factor_closures()) if self.factor_closures() else storms)
        open_ = combine(lambda f, w: f * w, self.factor, _open_timeline(storms))
        self.cap_rate = combine(lambda c, f: c * f, self.cap_rate, open_)
        # no berth is granted while the terminal works no cargo: closed (a disruption, a storm, or a capacity of 0)
        self.available = combine(lambda b, c: b if c > 0 else 0.0, self.berths, self.cap_rate)
        shape = {"fixed": Fixed(value=1.0), "exponential": Exponential(dist="exponential", mean=1.0),
                 "lognormal": Lognormal(dist="lognormal", mean=1.0, cv=spec.service_cv)}[spec.service]
        self.unit_service = self.sampler(shape, "service")
        self.draw_call_h = self.sampler(as_distribution(spec.call_h), "call_h")
        self._no_call_h = isinstance(spec.call_h, (int, float)) and spec.call_h == 0
        self._call_factor = self.duration_factor.get("call_h")
        # callers waiting for a berth, FIFO: (a vessel's turn, None, arrived) or (None, a shipment, arrived)
        self.waiting: deque[tuple[simpy.Event | None, Shipment | None, float]] = deque()
        self.n_held = 0  # berths held: in service, or blocked by a full yard
        self.yard = Room(spec.yard_limit_t) if spec.yard_limit_t else None
        self.room = self.yard
        self.diverts_when_full = spec.when_full == "divert"
        self.n_busy = 0
        self.queued_t = 0.0
        self._avail = self._avail_now()
        self._rate_per_berth = 1.0
        self._handling_factor = self.duration_factor.get("handling_time")
        # the hours the controller wakes at, and its pending wake-up (None once it has ended): read
        # where a shared prefix switches the terminal to a variant's capacity (model.engine.fork)
        self.changes_h = sorted(set(self.available.change_hours()) | set(self.cap_rate.change_hours()))
        self.wake: simpy.Event | None = None
        Proc(self.env, self._controller())

    # capacity over time --------------------------------------------------

    def _avail_now(self) -> int:
        return int(round(self.available.at(self.env.now_h)))

    def _controller(self) -> Generator:
        """At each change of berths, rate or disruption: re-set the usable berths
        and the handling rate per berth (cached: the hot path reads attributes)."""
        while True:
            now = self.env.now_h
            self._avail = self._avail_now()
            self._rate_per_berth = self.cap_rate.at(now) / max(self.available.at(now), 1.0)
            self._grant()
            self._update_active()
            later = [h for h in self.changes_h if h > now]
            if not later:
                self.wake = None
                return
            self.wake = self.env.timeout(later[0] - now)
            yield self.wake

    def _update_active(self) -> None:
        self.set_active(self._avail <= 0 or self.n_busy >= self._avail)

    def _drop_left(self) -> None:
        """Forget shipments at the head of the berth queue that left while waiting (reneged)."""
        waiting = self.waiting
        while waiting and waiting[0][1] is not None and waiting[0][1].gone:
            waiting.popleft()

    def _grant(self) -> None:
        """Hand free berths to waiting callers, first come first served: a vessel's
        call resumes its process, a shipment's own call starts at once."""
        while self.waiting and self.n_held < self._avail:
            turn, s, arrived = self.waiting.popleft()
            if s is None:
                self.n_held += 1
                assert turn is not None
                turn.succeed()
            elif not s.gone:  # (one that left while waiting is skipped)
                self.n_held += 1
                s.waiting = None
                self.queued_t -= s.t
                self._serve(s, arrived)

    def _start(self, tonnes: float, fixed_h: float = -1.0) -> float:
        """A berth is held from now: record the wait's end and draw the call's hours (the fixed
        part ``fixed_h`` where the caller brings its own: a vessel class's call time)."""
        start = self.env.now_h
        self.n_busy += 1
        if self.n_busy >= self._avail:
            self.set_active(True)
        service = tonnes / self._rate_per_berth * self.unit_service()
        if self._handling_factor is not None:
            service *= self._handling_factor.at(start)
        if fixed_h >= 0.0:
            service += fixed_h if self._call_factor is None else fixed_h * self._call_factor.at(start)
        elif not self._no_call_h:
            fixed = self.draw_call_h()
            service += fixed if self._call_factor is None else fixed * self._call_factor.at(start)
        return service

    def _end(self, start: float) -> None:
        """A call's work is done (the berth may stay held by a full yard)."""
        self.grid.add_interval(self.rec.busy, start, self.env.now_h)
        self.n_busy -= 1
        if self._avail > 0 and self.n_busy < self._avail:
            self.set_active(False)

    def enter(self, s: Shipment) -> None:
        """Counted in; the first port terminal a shipment reaches marks the hour (where
        its transit "from the port" starts)."""
        Node.enter(self, s)
        s.last_port = self
        if s.port_h < 0:
            s.port_h = self.env.now_h

    # a vessel's call (from a sea link's process) ---------------------------------

    def call(self, tonnes: float, loaded_t: float = 0.0, call_h: float = -1.0) -> Generator[simpy.Event | float, None, float]:
        """A vessel's call: wait for a berth, hold it for call_h + tonnes / rate,
        return the hours spent at the berth. ``loaded_t``: cargo the vessel loads in
        this call, counted as the terminal's throughput when the call ends (the
        shipments passed through uncounted). ``call_h`` >= 0: the vessel's own fixed
        part (its class's), in place of the terminal's."""
        env = self.env
        arrived = env.now_h
        self._drop_left()
        if self.n_held < self._avail and not self.waiting:
            self.n_held += 1
        else:
            self.queued_t += tonnes
            turn = env.event()
            self.waiting.append((turn, None, arrived))
            yield turn  # _grant() has counted the berth as held
            self.queued_t -= tonnes
        start = env.now_h
        self.record_wait(start - arrived)
        yield self._start(tonnes, call_h)
        self._end(start)
        self.n_held -= 1
        self._grant()
        if loaded_t:
            self.rec.throughput_t[self.grid.index(env.now_h)] += loaded_t
        return env.now_h - start

    # a shipment's own call -------------------------------------------------------

    def accept(self, s: Shipment) -> None:
        """A shipment that is its own call (background traffic, or a stream whose
        vessel is not modelled): it waits for a berth, frees its upstream yard space
        when its call starts, and then needs room in this terminal's yard, holding
        the berth until it finds it."""
        if self.diverts_when_full and self.turned_away(s):
            return
        self.enter(s)
        self._drop_left()
        if self.n_held < self._avail and not self.waiting:
            self.n_held += 1
            self._serve(s, self.env.now_h)
        else:
            self.queued_t += s.t
            self.waiting.append((None, s, self.env.now_h))
            s.waiting = self

    def _serve(self, s: Shipment, arrived: float) -> None:
        """A berth is held for ``s`` from now."""
        if s.yard is not None:
            self.release_yard(s)
        now = self.env.now_h
        self.record_wait(now - arrived)
        self.after(self._start(s.t), self._served, (s, now))

    def _served(self, call: Call) -> None:
        s, start = call.value
        self._end(start)
        if self.yard is not None and not self.yard.put(s.t, self._stored, s):
            return  # blocked by a full yard: the berth stays held
        self._stored(s)

    def _stored(self, s: Shipment) -> None:
        """In the yard (if any): the berth is free, and the shipment moves on."""
        if self.yard is not None:
            s.yard = self.yard
        self.n_held -= 1
        self._grant()
        self.leave(s)
        self.forward(s)

    def renege(self, s: Shipment) -> None:
        """A shipment waiting for a berth leaves: out of the queued tonnes now, out of
        the queue when its turn would have come."""
        s.gone = True
        s.waiting = None
        self.queued_t -= s.t
        self.rec.exited_t += s.t
        self.rec.left_t += s.t

    # a shipment a modelled vessel loads or unloads -------------------------------

    def pass_through(self, s: Shipment, counted: bool = True) -> None:
        """A shipment that a modelled vessel loads here or has unloaded here: the
        vessel's call does the work; the shipment needs only room in the yard. Its
        tonnes count as throughput here once handled: now, after an unloading
        (``counted``), or when the vessel that loads it ends its call."""
        if self.diverts_when_full and self.turned_away(s):
            return
        self.enter(s)
        then = self._through_counted if counted else self._through
        if self.yard is not None:
            if s.yard is not None:
                self.release_yard(s)
            if not self.yard.put(s.t, then, s):
                return  # waits for yard room
        then(s)

    def _through(self, s: Shipment) -> None:
        if self.yard is not None:
            s.yard = self.yard
        self.rec.exited_t += s.t
        self.forward(s)

    def _through_counted(self, s: Shipment) -> None:
        self.rec.throughput_t[self.grid.index(self.env.now_h)] += s.t
        self._through(s)

    # what metrics and routing ask --------------------------------------------

    def available_servers(self) -> Timeline:
        return self.available

    def queued_now(self) -> float:
        return self.queued_t

    def rated_t_per_h(self) -> Timeline:
        return self.cap_rate

    def expected_delay_h(self, t: float) -> float:
        """Queue and own handling at the rated flow; while closed, plus the time to reopening."""
        now = self.env.now_h
        h = self.cap_rate.positive_from(now)
        return math.inf if h is None else (h - now) + (self.queued_t + t) / self.cap_rate.at(h)

    def is_open(self, now: float) -> bool:
        return self.available.at(now) > 0

    def open_delay_h(self, now: float, t: float) -> float:
        if self.available.at(now) <= 0:
            return math.inf
        return (self.queued_t + t) / self.cap_rate.at(now)  # (open: berths and a rate above 0)

    def opens_at(self) -> float | None:
        return self.available.first_hour_where(lambda v: v > 0)


def depth_timeline(spec: Any, start: date, end: date, water_levels: Any) -> Timeline | None:
    """A terminal's water depth over time (m): its ``depth_m`` (with dredging folded in), moved by its
    sea's level (``model.core.water``); None where it states no depth."""
    depth = getattr(spec, "depth_m", None)
    if depth is None:
        return None
    tl = timeline_from_spec(depth, start)
    area = getattr(spec, "water_level", None)
    if area is None:
        return tl
    from model.core.water import level_change_timeline

    return combine(lambda d, dl: d + dl, tl, level_change_timeline(water_levels[area], start, end))


def _open_timeline(closures: list[tuple[float, float]]) -> Timeline:
    """1 while open, 0 during the given (sorted, disjoint) closures."""
    points = [(0.0, 1.0)]
    for a, b in closures:
        points += [(a, 0.0), (b, 1.0)]
    return Timeline(points)


def rate_per_berth(spec: PortSpec, start: date) -> Timeline:
    """Tonnes per hour one berth works: the handling rate, or t_per_move x 60 / minutes_per_move."""
    if spec.minutes_per_move is not None:
        assert spec.t_per_move is not None  # PortSpec._one_rate
        per_move = spec.t_per_move
        return combine(lambda m: 60.0 / m * per_move if m > 0 else 0.0, timeline_from_spec(spec.minutes_per_move, start))
    assert spec.handling_rate_t_per_h is not None  # PortSpec._one_rate
    return timeline_from_spec(spec.handling_rate_t_per_h, start)


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
    call = as_distribution(spec.call_h)
    return ServiceModel(c, capacity_t / (c * hours), unit_scv, call.mean, call.scv)


def check(nid: str, spec: PortSpec, scenario: Any) -> list[tuple[tuple, str]]:
    """A terminal's ``water_level`` names one of the scenario's seas, and its depth_m is given with it."""
    seas = scenario.water_levels
    if spec.water_level is None:
        return []
    if spec.water_level not in seas:
        return [(("nodes", nid, "water_level"), f"unknown sea '{spec.water_level}'; expected one of the scenario's "
                 f"water_levels: {', '.join(sorted(seas)) or '(none: add water_levels: {SEA: ...})'}")]
    if spec.depth_m is None:
        return [(("nodes", nid, "water_level"), "a water level moves the terminal's depth: expected depth_m with it")]
    return []


KIND = NodeKind(
    name="port", label="port", spec=PortSpec, engine=Port, capacity_t=capacity_t,
    investable=frozenset({"berths", "capacity_mt_per_year", "handling_rate_t_per_h", "minutes_per_move", "depth_m"}),
    durations=frozenset({"handling_time", "call_h"}),
    timelines=("berths", "capacity_mt_per_year", "handling_rate_t_per_h", "minutes_per_move", "depth_m"),
    counts=("berths",),
    fits=(("yard_limit_t", "the yard"),), utilisation_check="equal", service=service, marker="s", check=check,
    more_capacity=("factor", 1.1),
)
