"""What every node engine shares: shipments, recording, closures; the hooks a kind overrides.

Recording is into a plain :class:`NodeRecord` (per-year numbers, no simpy
objects), which is all that leaves the engine: DataFrames are built once, after
the run (``model.analysis.tables``). Waits are kept per year as a count, an exact sum
and a histogram (:class:`model.core.histogram.YearSamples`), not one by one, so a
replication's memory does not grow with its shipments. A node's *active
periods* (the Roser bottleneck method) are recorded as (start_h, end_h)
intervals, 16 bytes each in a flat ``array('d')``: a node is active while all
its servers are busy, or while it is closed.

Shipments are data, not processes: a node takes a shipment in ``accept(s)``
and, when the shipment is done there (now, or from a later event: a berth call
ends, a vessel unloads, a train arrives, a dwell runs out), hands it on with
``self.forward(s)``, which is the corridor's routing (``Corridor.advance``).
Servers (vessels, train dispatchers, a port's controller) stay simpy processes;
a shipment costs kernel events only where time passes for it alone (a dwell, a
berth call of its own). Waiting rooms (yards, sidings, tanks) are
:class:`Room` counters: a put that fits is immediate, and only a put into a
full room waits (first come, first served). The engine reads the clock as
``env.now_h`` (:class:`model.core.clock.Environment`), not through simpy's ``now``
property: a replication reads it about two million times, and the property's call
was 7 % of the run.

A node kind subclasses :class:`Node` and overrides:

* ``accept(s)``: the shipment arrives; the node calls ``self.forward(s)`` once it
  is done here (after setting ``s.gone`` if a full waiting room turned it away);
* ``is_open(now)``, ``opens_at()``, ``expected_delay_h(t)``: what routing asks;
* ``available_servers()``: the timeline of servers available (berths, vessels,
  train paths per day, a pump): its per-year integral is the denominator of
  utilisation;
* ``rated_t_per_h()``: the timeline of its rated flow in tonnes per hour, where
  it has one (ports, pipelines), recorded per year as ``rated_t``;
* ``renege(s)``: a shipment whose patience ran out leaves the queue it is in
  (the node marked it ``s.waiting``); it is never forwarded;
* ``link(nodes)``: take references to other nodes once all exist (a sea link
  to the terminals its vessels call at);
* ``pass_through(s, counted)``: the arrival of a shipment whose handling a
  neighbour's vessel does (a terminal where a sea link loads or unloads it);
* ``finish()``: close open records at the horizon (call the base's).
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from heapq import heappush
from typing import Any, Callable, ClassVar, Generator, Iterator, Mapping

import numpy as np
import simpy

from model.core.clock import PRIORITY_NORMAL, Environment
from model.core.distributions import Fixed, Sampler, as_distribution, sampler
from model.core.histogram import YearSamples
from model.core.rng import RandomStreams
from model.core.timeline import Timeline, union_intervals
from model.core.weather import StormSpec, storm_calendar, thinned
from model.core.years import MonthGrid, YearGrid


class Shipment:
    """A consignment moving along its route (block train, wagon group, parcel): plain
    data that nodes hand on; where it is on its route is ``step`` (the next step of
    ``plan``) and ``rest`` (the nodes still to visit of a chosen branch, last first)."""

    __slots__ = ("sid", "stream", "t", "created_h", "yard", "waiting", "gone", "delivered",
                 "plan", "step", "rest", "rec", "km", "port_h", "last_port", "line", "gate_h")

    def __init__(self, sid: int, stream: int, t: float, created_h: float, plan: tuple = (), rec: Any = None) -> None:
        self.sid = sid
        self.stream = stream
        self.t = t
        self.created_h = created_h
        self.yard: Room | None = None  # upstream yard space it still holds
        self.waiting: Node | None = None  # the node in whose queue it waits (it may renege from there)
        self.gone = False  # left the corridor: reneged, or turned away by a full waiting room
        self.delivered = False
        self.plan = plan  # the route's steps (nodes and choices)
        self.step = 0  # index of the next step of plan
        self.rest: list | None = None  # nodes of a chosen branch still to visit, last first
        self.rec = rec  # its stream's record
        self.km = 0.0  # distance covered so far
        self.port_h = -1.0  # when it reached its first port (-1: not yet; set by the port terminal)
        self.last_port: Any = None  # the last port terminal it entered (a sea link's line is the one loading there)
        self.line = 0  # the line of a sea link it waits for (where it may renege from)
        self.gate_h = -1.0  # when it reached its stream's gateway (-1: not yet, or no gateway; set by a Gate)


class Room:
    """A waiting room with a capacity in tonnes (a yard, sidings, a tank): a counter.

    ``put`` of what fits is immediate; a put that does not fit waits in a FIFO
    queue, served (head first, as many as fit) whenever room is freed. ``get``
    frees room and never waits (a shipment only frees what it holds). A simpy
    ``Container`` would cost two kernel events per put and get."""

    __slots__ = ("capacity", "level", "waiting")

    def __init__(self, capacity: float) -> None:
        self.capacity = capacity
        self.level = 0.0
        self.waiting: deque[tuple[float, Callable[[Any], None], Any]] = deque()

    def fits(self, t: float) -> bool:
        """``t`` more tonnes fit (within 1e-9 t: tonnes summed and taken away leave rounding dust)."""
        return self.level + t <= self.capacity + 1e-9

    def put(self, t: float, then: Callable[[Any], None], arg: Any) -> bool:
        """Take ``t`` tonnes now and return True; or, if they do not fit (or others
        wait before them), queue and call ``then(arg)`` once they are in, and return False."""
        if not self.waiting and self.fits(t):
            self.level += t
            return True
        self.waiting.append((t, then, arg))
        return False

    def get(self, t: float) -> None:
        """Free ``t`` tonnes and let waiting puts in, first come first served."""
        self.level -= t
        waiting = self.waiting
        while waiting and self.fits(waiting[0][0]):
            t_in, then, arg = waiting.popleft()
            self.level += t_in
            then(arg)


class Call:
    """A callback scheduled on the simpy clock: ``fn(call)`` runs ``delay`` hours on,
    with ``call.value`` the argument. The lightest object simpy's event loop
    processes (it reads ``callbacks`` and ``_ok``); one kernel event, like a
    ``Timeout``, without the Event machinery a process would wait on."""

    __slots__ = ("callbacks", "_ok", "value")

    def __init__(self, env: Environment, delay: float, fn: Callable[["Call"], None], value: Any) -> None:
        self.callbacks: list | None = [fn]
        self._ok = True
        self.value = value
        heappush(env.queue, (env.now_h + delay, PRIORITY_NORMAL, next(env.ids), self))  # (env.push, without its call)


class FirstCall(Call):
    """A :class:`Call` scheduled before every normal event at its hour (``push_first``): where a
    simpy process would start (its first step comes before anything else at that instant)."""

    __slots__ = ()

    def __init__(self, env: Environment, delay: float, fn: Callable[["Call"], None], value: Any) -> None:
        self.callbacks = [fn]
        self._ok = True
        self.value = value
        env.push_first(delay, self)


class Proc:
    """A server's generator run on the clock, as a simpy process runs it, lighter (the vessels, a
    port's controller, a charter desk). The generator yields what it waits for: hours (a float: one
    :class:`Call`, where simpy would make a ``Timeout``) or a simpy event (resumed when the event is
    processed, or at once if it already was, as simpy does). It starts before everything else at
    its hour (as simpy's ``Initialize``), so each wait is pushed at the moment and with the priority
    a process's would be and events come in the same order, without simpy's ``Process`` (an event of
    its own, its bookkeeping on each resumption; not compiled with the engine). What a wait gives is
    not sent back (None: the engine's servers read the state instead); an exception a generator
    raises propagates from the clock's loop (simpy would fail the process, which crashes the run
    too); the generator's end schedules nothing (nothing waits for a server to end)."""

    __slots__ = ("env", "gen", "resume")

    def __init__(self, env: Environment, gen: Generator[Any, None, Any]) -> None:
        self.env = env
        self.gen = gen
        self.resume = self._resume  # (bound once: handed to every wait)
        FirstCall(env, 0.0, self.resume, None)

    def _resume(self, _: Any) -> None:
        gen = self.gen
        while True:
            try:
                target = gen.send(None)
            except StopIteration:
                return
            if isinstance(target, float):
                Call(self.env, target, self.resume, None)
                return
            callbacks = target.callbacks
            if callbacks is not None:
                callbacks.append(self.resume)
                return
            # an event already processed: go on at once


def run_timed(env: Environment, steps: Iterator[float]) -> None:
    """Run a generator that only ever waits for time (it yields hours to wait) on the
    simpy clock: one :class:`Call` per wait, without the Process and Timeout objects a
    simpy process would cost (a demand source: one wait per shipment)."""

    def step(_: Call) -> None:
        try:
            delay = next(steps)
        except StopIteration:
            return
        Call(env, delay, step, None)

    Call(env, 0.0, step, None)


@dataclass
class Context:
    """What nodes need from the run: the clock, the years, random streams."""

    env: Environment
    grid: YearGrid
    streams: RandomStreams
    start: date
    weather: Mapping[str, StormSpec] = field(default_factory=dict)
    vessel_classes: Mapping[str, Any] = field(default_factory=dict)
    """The scenario's vessel classes (``model.core.vessels.VesselClassSpec``), by name."""
    depths: Mapping[str, Timeline] = field(default_factory=dict)
    """Water depth over time at each port terminal that states one (``model.nodes.port.depth_timeline``)."""
    months: MonthGrid | None = None
    """The calendar months of the horizon (hours closed are also kept per month), where the run keeps them."""
    _calendars: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    forward: Callable[[Shipment], None] = lambda s: None
    """Hands a shipment done at a node on to its next node (the corridor sets it)."""

    def sampler(self, dist: Any, name: str) -> Sampler:
        return sampler(dist, self.streams.rng(name))

    def area_storms(self, area: str, share: float, who: str) -> list[tuple[float, float]]:
        """The storms of a sea area that close ``who`` (each with probability
        ``share``); the area's calendar is drawn once per replication and shared."""
        if area not in self._calendars:
            spec = self.weather[area]
            self._calendars[area] = storm_calendar(
                spec, self.streams.rng(f"weather:{area}"),
                self.sampler(as_distribution(spec.duration_days), f"weather:{area}:days"), self.start,
                self.grid.horizon_h)
        return thinned(self._calendars[area], share, self.streams.rng(f"{who}:storm_share"))


@dataclass
class NodeRecord:
    """What one node recorded in one replication: plain numbers and lists.

    Per-year lists have one slot per year of the run's :class:`YearGrid`.
    ``busy`` is in the units of ``server_h`` (server-hours; trains run for a
    rail line, whose ``server_h`` counts paths), so utilisation is their ratio.
    ``waits``: the waits before service, per year (count, exact sum, histogram).
    ``active``: the active periods, flat (start, end, start, end, ...; hours);
    :meth:`periods` gives them as an (n, 2) array.
    """

    kind: str
    n_years: int
    throughput_t: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    closed_h: list[float] = field(default_factory=list)  # closed by weather
    disrupted_h: list[float] = field(default_factory=list)  # closed by a disruption (capacity factor 0)
    server_h: list[float] = field(default_factory=list)  # available servers x hours (filled at the end)
    rated_t: list[float] = field(default_factory=list)  # integral of the rated flow, where there is one
    waits: YearSamples = field(init=False)
    entered_t: float = 0.0
    exited_t: float = 0.0
    left_t: float = 0.0  # of exited_t: tonnes that left a queue unserved (reneged), not throughput
    turned_away_t: list[float] = field(default_factory=list)  # per year: found the waiting room full, diverted
    closed_month_h: list[float] = field(default_factory=list)  # per calendar month: closed by weather or a disruption
    hops: int = 0
    first_in_h: float = -1.0  # when a shipment first entered the node (-1: none ever did)
    active: array = field(default_factory=lambda: array("d"))
    extra: dict[str, Any] = field(default_factory=dict)  # kind-specific logs (a sea link's departures)

    def __post_init__(self) -> None:
        nan = float("nan")
        self.throughput_t = [0.0] * self.n_years
        self.busy = [0.0] * self.n_years
        self.closed_h = [0.0] * self.n_years
        self.disrupted_h = [0.0] * self.n_years
        self.turned_away_t = [0.0] * self.n_years
        self.server_h = [nan] * self.n_years
        self.rated_t = [nan] * self.n_years
        self.waits = YearSamples(self.n_years)

    def periods(self) -> np.ndarray:
        """The active periods as an (n, 2) array of (start_h, end_h), a view of ``active``."""
        return np.frombuffer(self.active, dtype=np.float64).reshape(-1, 2) if self.active else np.empty((0, 2))

    def in_system_t(self) -> float:
        """Tonnes that entered and have not left (queued, in service, in transit)."""
        return self.entered_t - self.exited_t


class Node:
    """Base class: a node has an id, a kind, records, and ``accept(s)``, which takes a
    shipment in and forwards it when it is done here."""

    kind: ClassVar[str] = "node"
    room: Room | None = None  # the waiting room (yard, tank, sidings), where it is limited
    diverts_when_full = False  # ``when_full: divert``: an arrival that finds the room full leaves

    def __init__(self, nid: str, spec: Any, ctx: Context, factor: Timeline, duration_factor: dict[str, Timeline]) -> None:
        self.id = nid
        self.spec = spec
        self.ctx = ctx
        self.env = ctx.env
        self.grid = ctx.grid
        self.rec = NodeRecord(self.kind, len(ctx.grid))
        self.factor = factor  # disruptions: capacity multiplier over time (0 = closed)
        self.duration_factor = duration_factor  # operational delays per duration field
        self.km = float(getattr(spec, "distance_km", None) or 0.0)  # for tonne-km
        if ctx.months is not None:
            self.rec.closed_month_h = [0.0] * len(ctx.months)
        for a, b in self.factor_closures():
            self.grid.add_interval(self.rec.disrupted_h, a, min(b, self.grid.horizon_h))
        self.add_closed_months(self.factor_closures())
        self._active_since: float | None = None
        self.forward = ctx.forward  # hand a shipment done here on to its next node

    # -- helpers used by the node kinds -------------------------------------

    def tl(self, spec: Any) -> Timeline:
        from model.core.timeline import timeline_from_spec

        return timeline_from_spec(spec, self.ctx.start)

    def dfactor(self, field_name: str) -> float:
        tl = self.duration_factor.get(field_name)
        return 1.0 if tl is None else tl.at(self.env.now_h)

    def sampler(self, dist: Any, purpose: str) -> Sampler:
        return self.ctx.sampler(dist if dist is not None else Fixed(value=0.0), f"{self.kind}:{self.id}:{purpose}")

    def enter(self, s: Shipment) -> None:
        rec = self.rec
        rec.entered_t += s.t
        rec.hops += 1
        if rec.first_in_h < 0.0:
            rec.first_in_h = self.env.now_h

    def leave(self, s: Shipment) -> None:
        self.rec.exited_t += s.t
        self.rec.throughput_t[self.grid.index(self.env.now_h)] += s.t

    def record_wait(self, wait_h: float) -> None:
        """A wait of ``wait_h`` hours before service, ending now (counted in now's year)."""
        waits = self.rec.waits
        now = self.env.now_h
        if not waits.from_h <= now < waits.to_h:  # a new year (the first wait, or a year boundary passed)
            waits.roll_at(now, self.grid.bounds_h)
        waits.buf.append(wait_h)

    def wait_or_timeout(self, event: simpy.Event, delay: float) -> simpy.Event:
        """``event``, made to succeed after ``delay`` hours if nothing triggered it
        before: cheaper than ``event | env.timeout(delay)`` (no condition event)."""

        def ring(_: Call) -> None:
            if not event.triggered:
                event.succeed()

        Call(self.env, delay, ring, None)
        return event

    def after(self, delay: float, fn: Callable[[Call], None], value: Any) -> None:
        """Call ``fn`` (with ``call.value`` = ``value``) ``delay`` hours from now: one kernel event."""
        Call(self.env, delay, fn, value)

    def turned_away(self, s: Shipment) -> bool:
        """With ``when_full: divert``: True if ``s`` finds the waiting room too full to
        take it, and then it leaves the corridor (marked gone and forwarded: the
        corridor counts it as turned away). It has not entered this node."""
        room = self.room
        if room is None or room.fits(s.t):
            return False
        s.gone = True
        self.rec.turned_away_t[self.grid.index(self.env.now_h)] += s.t
        self.forward(s)
        return True

    @staticmethod
    def release_yard(s: Shipment) -> None:
        """Free the upstream port yard space the shipment held."""
        if s.yard is not None:
            yard, s.yard = s.yard, None
            yard.get(s.t)

    def set_active(self, active: bool) -> None:
        """Track the node's active periods (all servers busy, or closed)."""
        now = self.env.now_h
        if active and self._active_since is None:
            self._active_since = now
        elif not active and self._active_since is not None:
            if now > self._active_since:
                periods = self.rec.active
                periods.append(self._active_since)
                periods.append(now)
            self._active_since = None

    def finish(self) -> NodeRecord:
        """Close open records at the horizon and return the record."""
        self.set_active(False)
        self.rec.waits.close()
        servers = self.available_servers()
        if servers is not None:
            self.rec.server_h = list(self.grid.integrate(servers))
        rated = self.rated_t_per_h()
        if rated is not None:
            self.rec.rated_t = list(self.grid.integrate(rated))
        return self.rec

    def factor_closures(self) -> list[tuple[float, float]]:
        """Periods a disruption closes the node (capacity factor 0; end inf: for good)."""
        out, start = [], None
        for h, v in self.factor.points:
            if v <= 0 and start is None:
                start = h
            elif v > 0 and start is not None:
                out.append((start, h))
                start = None
        if start is not None:
            out.append((start, math.inf))
        return out

    def add_closed_months(self, closures: list[tuple[float, float]]) -> None:
        """Count closures in the monthly hours closed (where the run keeps months); a closure that
        overlaps one already counted must be given as part of their union."""
        months = self.ctx.months
        if months is None:
            return
        for a, b in closures:
            months.add_interval(self.rec.closed_month_h, a, b)

    def weather_closures(self) -> list[tuple[float, float]]:
        """Storms that close this node: those of its sea area (``storms: AREA``), kept
        with probability ``storm_share``, and its own (``local_storms``: swell or wind at
        its berths); none for a node without either."""
        out: list[tuple[float, float]] = []
        area = getattr(self.spec, "storms", None)
        if isinstance(area, str):
            out += self.ctx.area_storms(area, getattr(self.spec, "storm_share", 1.0), f"{self.kind}:{self.id}")
        local = getattr(self.spec, "local_storms", None)
        if local is not None:
            out += storm_calendar(local, self.ctx.streams.rng(f"{self.kind}:{self.id}:local_storms"),
                                  self.sampler(as_distribution(local.duration_days), "local_storm_days"),
                                  self.ctx.start, self.grid.horizon_h)
        return union_intervals(out) if out else []

    def when_open(self, then: Callable[[Any], None], arg: Any) -> None:
        """Call ``then(arg)`` now if the disruption factor is above 0, else once it is
        (never, if the node is closed for good); the node is active while closed."""
        now = self.env.now_h
        if self.factor.at(now) > 0:
            then(arg)
            return
        self.set_active(True)
        nxt = self.factor.next_change_after(now)
        if nxt is not None:
            self.after(nxt - now, lambda c: self._reopened(then, arg), None)

    def _reopened(self, then: Callable[[Any], None], arg: Any) -> None:
        if self.factor.at(self.env.now_h) > 0:
            self.set_active(False)
        self.when_open(then, arg)

    # -- the interface -------------------------------------------------------

    def renege(self, s: Shipment) -> None:
        """Take a waiting shipment out of this node's queue (its patience ran out):
        it leaves the node (counted out, not as throughput). Kinds with a queue
        that shipments may leave override this; the engine calls it only while
        ``s.waiting`` is this node."""
        raise NotImplementedError(f"{self.kind} does not let shipments leave its queue")

    def link(self, nodes: dict[str, "Node"]) -> None:
        """Called once all nodes exist: take references to the nodes this one works with."""

    def pass_through(self, s: Shipment, counted: bool = True) -> None:
        """An arrival where a neighbouring node's vessel or train does this node's work
        (a terminal a sea link loads at: ``counted`` False, the vessel's call counts
        the tonnes); by default the same as ``accept``."""
        self.accept(s)

    def accept(self, s: Shipment) -> None:  # pragma: no cover - abstract
        """``s`` arrives; call ``self.forward(s)`` once it is done here."""
        raise NotImplementedError

    def is_open(self, now: float) -> bool:
        return True

    def opens_at(self) -> float | None:
        return 0.0

    def expected_delay_h(self, t: float) -> float:
        return 0.0

    def open_delay_h(self, now: float, t: float) -> float:
        """``expected_delay_h(t)`` if the node is open now, else inf: what a choice between
        branches asks of every node on them (kinds override it with one lookup)."""
        return self.expected_delay_h(t) if self.is_open(now) else math.inf

    def available_servers(self) -> Timeline | None:
        """Servers available over time (None: utilisation is not defined)."""
        return None

    def queued_now(self) -> float:
        """Tonnes waiting here now for service (a berth, a vessel, a train, the pump)."""
        return 0.0

    def rated_t_per_h(self) -> Timeline | None:
        """Rated flow in tonnes per hour over time (None: the kind has none)."""
        return None


class QueuedNode(Node):
    """A node whose waiting shipments sit in ``self.queue``, a deque of (shipment,
    arrival hour), with their tonnes in ``self.queued_t`` (sea links, rail lines):
    a shipment that reneges leaves the tonnes at once and the deque lazily."""

    queue: "deque[tuple[Shipment, float]]"
    queued_t: float

    def queued_now(self) -> float:
        return self.queued_t

    def _drop_gone(self) -> None:
        """Forget shipments at the head of the queue that have left (reneged)."""
        while self.queue and self.queue[0][0].gone:
            self.queue.popleft()

    def renege(self, s: Shipment) -> None:
        """A waiting shipment leaves: out of the queued tonnes now, out of the queue lazily."""
        s.gone = True
        s.waiting = None
        self.queued_t -= s.t
        self.rec.exited_t += s.t
        self.rec.left_t += s.t

