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

The dispatcher is a chain of callbacks on the clock (:class:`~model.nodes.base.Call`), not a
simpy process: each of its waits is one scheduled call, pushed at the moment and with the
priority the process's event had (its start, a timeout, the arrival that wakes it, and the
arrival made to happen after ``max_wait_h``), so events are processed in the order the
process gave, without a generator, an ``Event`` and a process resumption per train.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, ClassVar

import numpy as np

from model.core.distributions import as_distribution
from model.core.timeline import Timeline, combine, hours_since
from model.core.units import paths_per_day_from_mt_per_year
from model.core.years import YearGrid
from model.nodes.base import Call, Context, FirstCall, NodeRecord, QueuedNode, Room, Shipment
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
        # the dispatcher's wait for cargo: a new wait after each arrival that woke it (``_wait_no``);
        # ``_signalled``: this wait's arrival has come; ``_listening``: the dispatcher waits for it
        self._wait_no = 0
        self._signalled = False
        self._listening = False
        self._next_path_h = -math.inf  # when the next train path comes (after the last departure)
        self._waiting_full = False  # the dispatcher holds cargo and waits for a full train
        self._max_wait_h = float(spec.max_wait_h)
        if spec.sidings_t is not None:
            self.room = Room(spec.sidings_t)
            self.diverts_when_full = spec.when_full == "divert"
        FirstCall(self.env, 0.0, self._dispatcher, None)  # (where a process would start: before all else now)

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
        if not self._signalled and (not self._waiting_full or self.queued_t >= self.payload - _EPS):
            self._signal()

    def _signal(self) -> None:
        """The arrival the dispatcher waits for has come: it resumes once the clock reaches this
        call (an arrival while it waits for a path or a train's departure wakes nothing)."""
        self._signalled = True
        if self._listening:
            Call(self.env, 0.0, self._woken, None)

    def _wait(self, timeout: float) -> None:
        """Wait for an arrival, or (``timeout`` >= 0) at most ``timeout`` hours: then the arrival is
        made to happen, and wakes it as one would."""
        if self._signalled:
            self._wait_no += 1
            self._signalled = False
        self._listening = True
        if timeout >= 0.0:
            Call(self.env, timeout, self._ring, self._wait_no)

    def _ring(self, call: Call) -> None:
        if call.value == self._wait_no and not self._signalled:
            self._signal()

    def _woken(self, _: Call) -> None:
        self._listening = False
        self._waiting_full = False
        self._dispatcher(_)

    def _dispatcher(self, _: Call | None) -> None:
        """Run the dispatcher from now to its next wait (a call it schedules), or to its end."""
        env = self.env
        queue = self.queue
        while True:
            now = env.now_h
            paths = self.paths.at(now)
            if paths <= 0:
                self.set_active(bool(queue))
                nxt = self.paths.next_change_after(now)
                if nxt is None:
                    self.set_active(True)
                    return
                Call(env, nxt - now, self._dispatcher, None)
                return
            if queue and now < self._next_path_h:  # cargo came during the headway: wait for the path
                Call(env, self._next_path_h - now, self._dispatcher, None)
                return
            self.set_active(False)
            self._drop_gone()
            if not queue:
                self._wait(-1.0)
                return
            oldest = queue[0][1]
            if self.queued_t < self.payload - _EPS and now < oldest + self._max_wait_h:
                self._waiting_full = True
                self._wait(oldest + self._max_wait_h - now)
                return
            self._dispatch()
            self.set_active(bool(queue))
            self._next_path_h = now + 24.0 / paths
            if queue:  # (with nothing waiting, the dispatcher sleeps until cargo comes)
                Call(env, self._next_path_h - now, self._dispatcher, None)
                return

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
