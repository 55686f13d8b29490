"""Rail line: train paths per day, train payload, transit time, opening date.

One dispatcher process per line. A train leaves when a full train load is
waiting, or when the oldest waiting shipment has waited ``max_wait_h``, and
only on a free path: after each departure the next path comes ``24 / paths``
hours later. Unused paths are not banked, so at saturation the line carries
exactly paths x payload per day. Nothing runs before the opening date (or
while paths are 0). Trains in transit are not limited (rolling stock is not
modelled).

Cargo waits for a train on the line's sidings; where ``sidings_t`` limits them,
a shipment that finds them full waits upstream (``when_full: wait``, keeping the
yard space it holds there) or leaves for another route (``divert``).

The line is *active* (Roser) while it is closed, or while cargo waits and the
dispatcher is waiting for the next path (the path limit is what holds it).
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, ClassVar, Generator

import numpy as np
import simpy

from model.core.distributions import as_distribution
from model.core.timeline import Timeline, combine, hours_since
from model.core.units import paths_per_day_from_mt_per_year
from model.core.years import YearGrid
from model.nodes.base import Call, Context, NodeRecord, QueuedNode, Room, Shipment
from model.nodes.kind import NodeKind
from model.nodes.rail_spec import RailLineSpec


_EPS = 1e-9


class RailLine(QueuedNode):
    kind: ClassVar[str] = "rail_line"

    def __init__(self, nid: str, spec: Any, ctx: Context, factor: Timeline,
                 duration_factor: dict[str, Timeline]) -> None:
        super().__init__(nid, spec, ctx, factor, duration_factor)
        spec = self.spec
        self.payload = spec.train_payload_t
        if spec.paths_per_day is not None:
            paths = self.tl(spec.paths_per_day)
        else:
            cap = self.tl(spec.capacity_mt_per_year)
            paths = Timeline((h, paths_per_day_from_mt_per_year(v, self.payload)) for h, v in cap.points)
        opening = self.opening_h()
        gate = Timeline([(0.0, 0.0 if opening > 0 else 1.0), (max(opening, 0.0), 1.0)])
        self.paths = combine(lambda p, f, g: p * f * g, paths, self.factor, gate)
        self.transit = as_distribution(spec.transit_h)
        self.draw_transit = self.sampler(self.transit, "transit_h")
        self._transit_mean_h = self.transit.mean
        self.queue: deque[tuple[Shipment, float]] = deque()
        self.queued_t = 0.0
        self._arrival: simpy.Event = self.env.event()
        self._next_path_h = -math.inf  # when the next train path comes (after the last departure)
        self._waiting_full = False  # the dispatcher holds cargo and waits for a full train
        if spec.sidings_t is not None:
            self.room = Room(spec.sidings_t)
            self.diverts_when_full = spec.when_full == "divert"
        self.env.process(self._dispatcher())

    def opening_h(self) -> float:
        od = self.spec.opening_date
        return 0.0 if od is None else hours_since(self.ctx.start, od)

    def accept(self, s: Shipment) -> None:
        if self.diverts_when_full and self.turned_away(s):
            return
        self.enter(s)
        # full sidings: wait at their entrance (still holding upstream yard space)
        if self.room is None or self.room.put(s.t, self._queue_up, s):
            self._queue_up(s)

    def _queue_up(self, s: Shipment) -> None:
        """On the sidings: wait for a train."""
        self.queue.append((s, self.env.now_h))
        self.queued_t += s.t
        s.waiting = self
        if self.env.now_h < self._next_path_h:  # cargo that arrives now waits for the next path: active
            self.set_active(True)
        # wake the dispatcher only when it waits for a first shipment or a full train
        if not self._arrival.triggered and (not self._waiting_full or self.queued_t >= self.payload - _EPS):
            self._arrival.succeed()

    def _wait(self, timeout: float | None) -> Generator:
        if self._arrival.triggered:
            self._arrival = self.env.event()
        yield self._arrival if timeout is None else self.wait_or_timeout(self._arrival, timeout)

    def _dispatcher(self) -> Generator:
        env = self.env
        while True:
            paths = self.paths.at(env.now_h)
            if paths <= 0:
                self.set_active(bool(self.queue))
                nxt = self.paths.next_change_after(env.now_h)
                if nxt is None:
                    self.set_active(True)
                    return
                yield env.timeout(nxt - env.now_h)
                continue
            if self.queue and env.now_h < self._next_path_h:  # cargo came during the headway: wait for the path
                yield env.timeout(self._next_path_h - env.now_h)
                continue
            self.set_active(False)
            self._drop_gone()
            if not self.queue:
                yield from self._wait(None)
                continue
            oldest = self.queue[0][1]
            if self.queued_t < self.payload - _EPS and env.now_h < oldest + self.spec.max_wait_h:
                self._waiting_full = True
                yield from self._wait(oldest + self.spec.max_wait_h - env.now_h)
                self._waiting_full = False
                continue
            self._dispatch()
            self.set_active(bool(self.queue))
            self._next_path_h = env.now_h + 24.0 / paths
            if self.queue:  # (with nothing waiting, the dispatcher sleeps until cargo comes)
                yield env.timeout(self._next_path_h - env.now_h)

    def _dispatch(self) -> None:
        env = self.env
        train: list[Shipment] = []
        load_t = 0.0
        while self.queue and load_t + self.queue[0][0].t <= self.payload + _EPS:
            s, arrived = self.queue.popleft()
            if s.gone:
                continue
            s.waiting = None
            self.queued_t -= s.t
            self.release_yard(s)
            if self.room is not None:
                self.room.get(s.t)
            self.record_wait(env.now_h - arrived)
            train.append(s)
            load_t += s.t
        self.rec.busy[self.grid.index(env.now_h)] += 1  # trains run
        transit = self.draw_transit() * self.dfactor("transit_h")
        self.after(transit, self._arrive, train)

    def _arrive(self, call: Call) -> None:
        """The train arrives: its shipments move on."""
        for s in call.value:
            self.leave(s)
            self.forward(s)

    # what metrics and routing ask ----------------------------------------------

    def renege(self, s: Shipment) -> None:
        """A waiting shipment leaves the queue and its siding room."""
        super().renege(s)
        if self.room is not None:
            self.room.get(s.t)

    def expected_delay_h(self, t: float) -> float:
        now = self.env.now_h
        h = self.paths.positive_from(now)
        if h is None:
            return math.inf
        return (h - now) + (self.queued_t + t) / (self.paths.at(h) * self.payload / 24.0) + self._transit_mean_h

    def is_open(self, now: float) -> bool:
        return self.paths.at(now) > 0

    def open_delay_h(self, now: float, t: float) -> float:
        paths = self.paths.at(now)
        if paths <= 0:
            return math.inf
        return (self.queued_t + t) / (paths * self.payload / 24.0) + self._transit_mean_h

    def opens_at(self) -> float | None:
        return self.paths.first_hour_where(lambda p: p > 0)

    def available_servers(self) -> Timeline:
        """Train paths: per-year integral / 24 h is the number of paths offered."""
        return combine(lambda p: p / 24.0, self.paths)


def capacity_t(spec: RailLineSpec, rec: NodeRecord, grid: YearGrid) -> np.ndarray:
    """Paths offered in the year x train payload."""
    return np.asarray(rec.server_h, dtype=float) * spec.train_payload_t


KIND = NodeKind(
    name="rail_line", label="rail line", spec=RailLineSpec, engine=RailLine, capacity_t=capacity_t,
    investable=frozenset({"paths_per_day", "capacity_mt_per_year", "opening"}), durations=frozenset({"transit_h"}),
    timelines=("paths_per_day", "capacity_mt_per_year"), fits=(("train_payload_t", "a train"), ("sidings_t", "the sidings")),
    carrier="train_payload_t", entry=False, utilisation_check="lower_bound", marker="D", link=True,
    more_capacity=("factor", 1.1),
)
