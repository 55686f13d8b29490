"""Sea link: a fleet shuttling cargo across the Caspian (ferries, feeders, tankers).

Each vessel slot runs one simpy process. A vessel that is in service (its index
is below the fleet size in force) takes its turn (one vessel at a time is
assigned cargo, so cargo is not spread thinly over idle vessels), gathers waiting
shipments in arrival order until the next one would not fit or ``max_wait_h``
has passed since the first was taken, loads (``load_h``), waits while the link
is closed by a storm or a disruption, crosses (``crossing_h``), unloads
(``unload_h``), hands its shipments on, and returns (``return_h``, default the
crossing time), again only departing while the link is open.

Storms are a Poisson process with monthly rates; each closes the link for a
drawn number of days. Vessels at sea finish their passage.

Utilisation counts a vessel busy from the start of loading to the end of its
return trip (storm waits included); waiting for cargo is idle. The link is
*active* (Roser) while it is closed or no vessel is idle at the origin.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Generator

import numpy as np
import simpy

from ..distributions import as_distribution
from ..timeline import Timeline, combine, date_at
from .base import Node, Shipment

_EPS = 1e-9


class SeaLink(Node):
    kind = "sea_link"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        spec = self.spec
        self.payload = spec.vessel_payload_t
        self.fleet = combine(lambda n, f: math.floor(n * f + _EPS) if f > 0 else 0, self.tl(spec.fleet), self.factor)
        self.dists = {
            "load_h": as_distribution(spec.load_h),
            "crossing_h": as_distribution(spec.crossing_h),
            "unload_h": as_distribution(spec.unload_h),
            "return_h": as_distribution(spec.return_h if spec.return_h is not None else spec.crossing_h),
        }
        self.draw = {k: self.sampler(d, k) for k, d in self.dists.items()}
        self.queue: deque[tuple[Shipment, float]] = deque()
        self.queued_t = 0.0
        self._arrival: simpy.Event = self.env.event()
        self._reopen: simpy.Event = self.env.event()
        self.storm_closures = 0
        self.loading_turn = simpy.Resource(self.env, capacity=1)
        self.idle = 0  # vessels in service waiting for cargo
        for i in range(int(self.fleet.maximum())):
            self.env.process(self._vessel(i))
        if spec.storms is not None:
            self.env.process(self._storms())

    # state ---------------------------------------------------------------------

    def closed(self) -> bool:
        return self.storm_closures > 0 or self.factor.at(self.env.now) <= 0

    def mean_cycle_h(self) -> float:
        return sum(d.mean for d in self.dists.values())

    def _update_active(self) -> None:
        self.set_active(self.closed() or self.idle == 0)

    def _wait_open(self) -> Generator:
        while self.closed():
            if self.storm_closures > 0:
                yield self._reopen
            else:
                nxt = self.factor.next_change_after(self.env.now)
                yield self.env.timeout(nxt - self.env.now) if nxt is not None else self.env.event()

    # storms --------------------------------------------------------------------

    def _monthly_rate_per_h(self, hour: float) -> tuple[float, float]:
        """Storm events per hour in force at ``hour``, and when that month ends."""
        storms = self.spec.storms
        when = date_at(self.ctx.start, hour)
        rates = storms.events_per_month if isinstance(storms.events_per_month, list) else [storms.events_per_month] * 12
        y, m = (when.year + 1, 1) if when.month == 12 else (when.year, when.month + 1)
        from datetime import datetime

        month_end = (datetime(y, m, 1) - datetime(self.ctx.start.year, self.ctx.start.month, self.ctx.start.day)).total_seconds() / 3600
        days = (datetime(y, m, 1) - datetime(when.year, when.month, 1)).days
        return rates[when.month - 1] / (days * 24.0), month_end

    def _storms(self) -> Generator:
        env = self.env
        rng = self.ctx.streams.rng(f"{self.kind}:{self.id}:storms")
        dur = self.sampler(as_distribution(self.spec.storms.duration_days), "storm_days")
        while True:
            rate, month_end = self._monthly_rate_per_h(env.now)
            gap = rng.exponential(1.0 / rate) if rate > 0 else math.inf
            if env.now + gap >= month_end:  # memoryless: restart at the month's rate change
                yield env.timeout(month_end - env.now)
                continue
            yield env.timeout(gap)
            length_h = dur() * 24.0
            self.storm_closures += 1
            self._update_active()
            start = env.now
            yield env.timeout(length_h)
            self.grid.add_interval(self.rec.closed_h, start, env.now)
            self.storm_closures -= 1
            if self.storm_closures == 0:
                ev, self._reopen = self._reopen, env.event()
                ev.succeed()
            self._update_active()

    # cargo ---------------------------------------------------------------------

    def visit(self, s: Shipment) -> Generator:
        self.enter(s)
        s.event = self.env.event()
        self.queue.append((s, self.env.now))
        self.queued_t += s.t
        if not self._arrival.triggered:
            self._arrival.succeed()
        yield s.event
        self.leave(s)

    def _wait_cargo(self, timeout: float | None) -> Generator:
        if self._arrival.triggered:
            self._arrival = self.env.event()
        if timeout is None:
            yield self._arrival
        else:
            yield self._arrival | self.env.timeout(timeout)

    def _gather(self) -> Generator:
        """Take shipments until full, or max_wait after the first; return the load."""
        env = self.env
        hold: list[Shipment] = []
        load_t = 0.0
        deadline = math.inf
        while True:
            while self.queue and load_t + self.queue[0][0].t <= self.payload + _EPS:
                s, arrived = self.queue.popleft()
                self.queued_t -= s.t
                self.release_yard(s)
                self.record_wait(env.now - arrived)
                hold.append(s)
                load_t += s.t
                if deadline == math.inf:
                    deadline = env.now + self.spec.max_wait_h
            if self.queue or load_t >= self.payload - _EPS or env.now >= deadline:
                return hold, load_t
            yield from self._wait_cargo(None if deadline == math.inf else deadline - env.now)

    # vessels -------------------------------------------------------------------

    def _vessel(self, i: int) -> Generator:
        env = self.env
        while True:
            if i >= self.fleet.at(env.now):  # not (or no longer) in service
                later = [h for h in self.fleet.change_hours() if h > env.now and self.fleet.at(h) > i]
                if not later:
                    return
                yield env.timeout(later[0] - env.now)
                continue
            self.idle += 1
            self._update_active()
            with self.loading_turn.request() as turn:  # one vessel at a time takes cargo
                yield turn
                hold, load_t = yield from self._gather()
            self.idle -= 1
            self._update_active()
            busy_from = env.now
            yield env.timeout(self.draw["load_h"]() * self.dfactor("load_h"))
            yield from self._wait_open()
            yield env.timeout(self.draw["crossing_h"]() * self.dfactor("crossing_h"))
            yield env.timeout(self.draw["unload_h"]() * self.dfactor("unload_h"))
            for s in hold:
                s.event.succeed()
            yield from self._wait_open()
            yield env.timeout(self.draw["return_h"]() * self.dfactor("return_h"))
            self.grid.add_interval(self.rec.busy_h, busy_from, env.now)

    # what metrics and routing ask ----------------------------------------------

    def expected_delay_h(self, t: float) -> float:
        n = self.fleet.at(self.env.now)
        if n <= 0:
            return math.inf
        per_h = n * self.payload / self.mean_cycle_h()
        d = self.dists
        return (self.queued_t + t) / per_h + d["load_h"].mean + d["crossing_h"].mean + d["unload_h"].mean

    def is_open(self, now: float) -> bool:
        return self.fleet.at(now) > 0

    def opens_at(self) -> float | None:
        return self.fleet.first_hour_where(lambda n: n > 0)

    def capacity_t(self) -> np.ndarray:
        """fleet x payload x round trips a year, each round trip lengthened by the
        expected wait for storms at its two departures.

        A departure falls in a closure with probability ``closed share`` and then
        waits the closure's mean residual life E[D^2] / (2 E[D]) (vessels at sea
        keep going, so closed hours are not simply lost)."""
        vessel_h = self.grid.integrate(self.fleet)
        closed_share = np.array(self.rec.closed_h) / self.grid.hours()
        residual_h = 0.0
        if self.spec.storms is not None:
            d = as_distribution(self.spec.storms.duration_days)
            residual_h = 24.0 * d.mean * (1.0 + d.scv) / 2.0
        cycle_h = self.mean_cycle_h() + 2.0 * closed_share * residual_h
        return vessel_h * self.payload / cycle_h

    def server_hours(self) -> np.ndarray:
        return self.grid.integrate(self.fleet)
