"""What every node shares: shipments, the year grid, recording, closures.

Recording is into plain Python lists and per-year float lists; DataFrames are
built once, after the run (``model.metrics``). A node's *active periods* (the
Roser bottleneck method) are recorded as (start_h, end_h) intervals: a node is
active while all its servers are busy, or while it is closed.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generator

import numpy as np
import simpy

from ..distributions import Fixed, Sampler
from ..rng import RandomStreams
from ..timeline import Timeline, hours_since


class Shipment:
    """A consignment moving along its route (block train, wagon group, parcel)."""

    __slots__ = ("sid", "stream", "t", "created_h", "yard", "event")

    def __init__(self, sid: int, stream: int, t: float, created_h: float) -> None:
        self.sid = sid
        self.stream = stream
        self.t = t
        self.created_h = created_h
        self.yard: simpy.Container | None = None  # upstream yard space it still holds
        self.event: simpy.Event | None = None


class YearGrid:
    """Calendar years of the horizon as simulation-hour boundaries.

    >>> g = YearGrid(date(2024, 1, 1), date(2026, 1, 1))
    >>> g.years, g.bounds_h
    ([2024, 2025], [0.0, 8784.0, 17544.0])
    >>> g.index(8784.0)
    1
    """

    def __init__(self, start: date, end: date) -> None:
        self.start = start
        self.years = list(range(start.year, (end.year if end.month == 1 and end.day == 1 else end.year + 1)))
        bounds = [0.0]
        for y in self.years[1:]:
            bounds.append(hours_since(start, date(y, 1, 1)))
        bounds.append(hours_since(start, end))
        self.bounds_h = bounds
        self.horizon_h = bounds[-1]
        self._cache = (bounds[0], bounds[1], 0)

    def __len__(self) -> int:
        return len(self.years)

    def index(self, h: float) -> int:
        """Year index of an hour (hours at or past the horizon count in the last year)."""
        lo, hi, i = self._cache
        if lo <= h < hi:
            return i
        i = min(max(bisect.bisect_right(self.bounds_h, h) - 1, 0), len(self.years) - 1)
        self._cache = (self.bounds_h[i], self.bounds_h[i + 1], i)
        return i

    def hours(self) -> np.ndarray:
        return np.diff(self.bounds_h)

    def add_interval(self, acc: list[float], a: float, b: float, weight: float = 1.0) -> None:
        """Add ``weight`` x overlap-hours of [a, b) to each year's accumulator."""
        lo, hi, i = self._cache
        if lo <= a and b < hi:  # the usual case: inside the current year
            acc[i] += weight * (b - a)
            return
        b = min(b, self.horizon_h)
        if b <= a:
            return
        i = self.index(a)
        while a < b and i < len(acc):
            hi = min(b, self.bounds_h[i + 1])
            acc[i] += weight * (hi - a)
            a = hi
            i += 1

    def integrate(self, tl: Timeline) -> np.ndarray:
        """Per-year integral of a timeline (value x hours)."""
        return np.array([tl.integral(lo, hi) for lo, hi in zip(self.bounds_h, self.bounds_h[1:])])


@dataclass
class Context:
    """What nodes need from the run: the clock, the years, random streams."""

    env: simpy.Environment
    grid: YearGrid
    streams: RandomStreams
    start: date

    def sampler(self, dist: Any, name: str) -> Sampler:
        return Sampler(dist, self.streams.rng(name))


@dataclass
class NodeRecord:
    """Per-node raw records of one replication."""

    n_years: int
    throughput_t: list[float] = field(default_factory=list)
    busy_h: list[float] = field(default_factory=list)  # server-hours busy
    closed_h: list[float] = field(default_factory=list)
    wait_year: list[int] = field(default_factory=list)
    wait_h: list[float] = field(default_factory=list)
    entered_t: float = 0.0
    exited_t: float = 0.0
    hops: int = 0
    active: list[tuple[float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.throughput_t = [0.0] * self.n_years
        self.busy_h = [0.0] * self.n_years
        self.closed_h = [0.0] * self.n_years


class Node:
    """Base class: a node has an id, a kind, records, and a ``visit`` generator
    that a shipment's process delegates to while it is at the node."""

    kind = "node"

    def __init__(self, nid: str, spec: Any, ctx: Context, factor: Timeline, duration_factor: dict[str, Timeline]) -> None:
        self.id = nid
        self.spec = spec
        self.ctx = ctx
        self.env = ctx.env
        self.grid = ctx.grid
        self.rec = NodeRecord(len(ctx.grid))
        self.factor = factor  # disruptions: capacity multiplier over time (0 = closed)
        self.duration_factor = duration_factor  # operational delays per duration field
        self._active_since: float | None = None

    # -- helpers used by the node kinds -------------------------------------

    def tl(self, spec: Any) -> Timeline:
        from ..timeline import timeline_from_spec

        return timeline_from_spec(spec, self.ctx.start)

    def dfactor(self, field_name: str) -> float:
        tl = self.duration_factor.get(field_name)
        return 1.0 if tl is None else tl.at(self.env.now)

    def sampler(self, dist: Any, purpose: str) -> Sampler:
        return self.ctx.sampler(dist if dist is not None else Fixed(value=0.0), f"{self.kind}:{self.id}:{purpose}")

    def enter(self, s: Shipment) -> None:
        self.rec.entered_t += s.t
        self.rec.hops += 1

    def leave(self, s: Shipment) -> None:
        self.rec.exited_t += s.t
        self.rec.throughput_t[self.grid.index(self.env.now)] += s.t

    def record_wait(self, wait_h: float) -> None:
        self.rec.wait_year.append(self.grid.index(self.env.now))
        self.rec.wait_h.append(wait_h)

    def wait_or_timeout(self, event: simpy.Event, delay: float) -> simpy.Event:
        """``event``, made to succeed after ``delay`` hours if nothing triggered it
        before: cheaper than ``event | env.timeout(delay)`` (no condition event)."""

        def ring(_: simpy.Event) -> None:
            if not event.triggered:
                event.succeed()

        self.env.timeout(delay).callbacks.append(ring)
        return event

    @staticmethod
    def release_yard(s: Shipment) -> None:
        """Free the upstream port yard space the shipment held."""
        if s.yard is not None:
            s.yard.get(s.t)
            s.yard = None

    def set_active(self, active: bool) -> None:
        """Track the node's active periods (all servers busy, or closed)."""
        now = self.env.now
        if active and self._active_since is None:
            self._active_since = now
        elif not active and self._active_since is not None:
            if now > self._active_since:
                self.rec.active.append((self._active_since, now))
            self._active_since = None

    def finish(self) -> None:
        """Close open records at the horizon."""
        self.set_active(False)

    def wait_factor_open(self) -> Generator:
        """Wait while the node's disruption factor is 0 (closed)."""
        while self.factor.at(self.env.now) <= 0:
            nxt = self.factor.next_change_after(self.env.now)
            if nxt is None:
                yield self.env.event()  # closed for good: never resumes
            self.set_active(True)
            yield self.env.timeout(nxt - self.env.now)
        self.set_active(False)

    # -- the interface -------------------------------------------------------

    def visit(self, s: Shipment) -> Generator:  # pragma: no cover - abstract
        raise NotImplementedError

    def is_open(self, now: float) -> bool:
        return True

    def opens_at(self) -> float | None:
        return 0.0

    def expected_delay_h(self, t: float) -> float:
        return 0.0

    def capacity_t(self) -> np.ndarray:
        """Available capacity per year in tonnes (NaN where unlimited)."""
        return np.full(len(self.grid), np.nan)

    def server_hours(self) -> np.ndarray:
        """Available server-hours per year, the denominator of utilisation."""
        return np.full(len(self.grid), np.nan)

    def busy(self) -> np.ndarray:
        """Per-year busy measure in the units of ``server_hours``."""
        return np.array(self.rec.busy_h)

    def in_system_t(self) -> float:
        return self.rec.entered_t - self.rec.exited_t
