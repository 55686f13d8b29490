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
drawn number of days, and the next storm can only start once the link has
reopened. The whole storm calendar of a replication is drawn when the link is
built (from the link's own random stream), so a vessel knows when it may next
depart and a passage is one simpy event instead of one per leg and closure.
Vessels at sea finish their passage.

Utilisation counts a vessel busy from the start of loading to the end of its
return trip (storm waits included); waiting for cargo is idle. The link is
*active* (Roser) while it is closed or no vessel is idle at the origin.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections import deque
from typing import Any, ClassVar, Generator, cast

import numpy as np
import simpy

from model.core.distributions import as_distribution, quantiles
from model.core.timeline import Timeline, combine, union_intervals as _union, union_periods
from model.core.weather import storm_calendar
from model.core.years import YearGrid
from model.nodes.base import Context, Node, NodeRecord, QueuedNode, Shipment
from model.nodes.kind import NodeKind
from model.nodes.port import Port
from model.nodes.sealink_spec import SeaLinkSpec


_EPS = 1e-9


class SeaLink(QueuedNode):
    kind: ClassVar[str] = "sea_link"

    def __init__(self, nid: str, spec: Any, ctx: Context, factor: Timeline,
                 duration_factor: dict[str, Timeline]) -> None:
        super().__init__(nid, spec, ctx, factor, duration_factor)
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
        self._mean_cycle_h = mean_cycle_h(spec)
        self._fixed_legs_h = self.dists["load_h"].mean + self.dists["crossing_h"].mean + self.dists["unload_h"].mean
        self._leg_factor = {k: self.duration_factor.get(k) for k in self.dists}
        self.queue: deque[tuple[Shipment, float]] = deque()
        self.queued_t = 0.0
        self._arrival: simpy.Event = self.env.event()
        self._space_t: float | None = None  # room left in the gathering vessel (None: it has no cargo)
        self._gathering = False  # a vessel is taking cargo; others queue for their turn
        self._turns: deque[simpy.Event] = deque()
        self.idle = 0  # vessels in service waiting for cargo
        self.departures_h = array("d")  # every sailing, out and back (a light log for checks; 8 bytes each)
        self.rec.extra["departures_h"] = self.departures_h
        self.storms = self._draw_storms() if spec.storms is not None else []
        for a, b in self.storms:
            self.grid.add_interval(self.rec.closed_h, a, b)
        self.closures = _union(self.storms + self.factor_closures())
        self._closure_starts = [a for a, _ in self.closures]
        self.load_port: Port | None = None
        self.unload_port: Port | None = None
        self.rec.extra["load_call_h"] = [0.0] * len(self.grid)  # hours at berth loading, per year
        self.rec.extra["unload_call_h"] = [0.0] * len(self.grid)
        self.rec.extra["round_trips"] = [0] * len(self.grid)
        self.rec.extra["charter_h"] = [0.0] * len(self.grid)  # chartered vessel-hours per year
        self.rec.extra["charter_starts_h"] = []
        self._chartered = self._ordered = 0
        self._on_hire: dict[int, float] = {}  # charter number -> start hour, while on hire
        if spec.charter is not None:
            self.env.process(self._charter_desk())
        # per vessel slot: its pending wait for the fleet to include it (None: sailing, or retired for good),
        # read where a shared prefix switches the link to a variant's fleet (model.engine.fork)
        self.fleet_wakes: list[simpy.Event | None] = [None] * int(self.fleet.maximum())
        self.retired: set[int] = set()
        for i in range(int(self.fleet.maximum())):
            self.env.process(self._vessel(i))

    def link(self, nodes: dict[str, Node]) -> None:
        """The terminals its vessels call at (``load_at``, ``unload_at``)."""
        if self.spec.load_at is not None:
            self.load_port = cast(Port, nodes[self.spec.load_at])
        if self.spec.unload_at is not None:
            self.unload_port = cast(Port, nodes[self.spec.unload_at])

    # closures ------------------------------------------------------------------

    def _draw_storms(self) -> list[tuple[float, float]]:
        """This link's storm calendar: its own (an inline ``storms``), or the storms
        of its sea area (``storms: AREA``, shared by every link and port of the
        area), each closing this link with probability ``storm_share``."""
        storms = self.spec.storms
        if isinstance(storms, str):
            self.rec.extra["storm_days"] = as_distribution(self.ctx.weather[storms].duration_days)
            return self.ctx.area_storms(storms, self.spec.storm_share, f"{self.kind}:{self.id}")
        self.rec.extra["storm_days"] = as_distribution(storms.duration_days)
        return storm_calendar(storms, self.ctx.streams.rng(f"{self.kind}:{self.id}:storms"),
                              self.sampler(as_distribution(storms.duration_days), "storm_days"),
                              self.ctx.start, self.grid.horizon_h)

    def open_at(self, t: float) -> float:
        """The earliest time >= t at which the link is open (inf: never again)."""
        i = bisect.bisect_right(self._closure_starts, t) - 1
        if i >= 0 and t < self.closures[i][1]:
            return self.closures[i][1]
        return t

    def closed(self) -> bool:
        return self.open_at(self.env.now_h) > self.env.now_h

    def mean_cycle_h(self) -> float:
        return self._mean_cycle_h

    def _leg(self, name: str, at: float) -> float:
        f = self._leg_factor[name]
        return self.draw[name]() * (1.0 if f is None else f.at(at))

    def _finish_closures(self) -> NodeRecord:
        """Closures count as active time (Roser: blocked by its own state)."""
        rec = super().finish()
        horizon = self.grid.horizon_h
        closed = np.array([(a, min(b, horizon)) for a, b in self.closures if a < horizon]).reshape(-1, 2)
        rec.active = array("d", union_periods(np.concatenate([rec.periods(), closed])).tobytes())
        return rec

    # cargo ---------------------------------------------------------------------

    def accept(self, s: Shipment) -> None:
        """A shipment joins the queue for a vessel; the vessel that unloads it forwards it."""
        self.enter(s)
        self.queue.append((s, self.env.now_h))
        self.queued_t += s.t
        s.waiting = self
        # wake the gathering vessel only when this arrival can end its wait: it had no
        # cargo yet, or what waits now fills it or no longer fits (saves an event per shipment)
        if not self._arrival.triggered and (self._space_t is None or self.queued_t >= self._space_t - _EPS
                                            or s.t > self._space_t + _EPS):
            self._arrival.succeed()

    def _wait_cargo(self, timeout: float | None) -> Generator:
        if self._arrival.triggered:
            self._arrival = self.env.event()
        yield self._arrival if timeout is None else self.wait_or_timeout(self._arrival, timeout)

    def _gather(self) -> Generator[simpy.Event, object, tuple[list[Shipment], float]]:
        """Take shipments in arrival order until the next one would not fit, or
        until max_wait_h after the first was taken; return the load. Each
        shipment's wait at the link ends when its vessel starts loading."""
        env = self.env
        hold: list[tuple[Shipment, float]] = []
        load_t = 0.0
        deadline = math.inf
        while True:
            self._drop_gone()
            while self.queue and load_t + self.queue[0][0].t <= self.payload + _EPS:
                s, arrived = self.queue.popleft()
                s.waiting = None
                self.queued_t -= s.t
                hold.append((s, arrived))
                load_t += s.t
                if deadline == math.inf:
                    deadline = env.now_h + self.spec.max_wait_h
                self._drop_gone()
            if self.queue or load_t >= self.payload - _EPS or env.now_h >= deadline:
                self._space_t = None
                now = env.now_h
                for s, arrived in hold:
                    self.release_yard(s)
                    self.record_wait(now - arrived)
                return [s for s, _ in hold], load_t
            self._space_t = None if deadline == math.inf else self.payload - load_t
            yield from self._wait_cargo(None if deadline == math.inf else deadline - env.now_h)

    # vessels -------------------------------------------------------------------

    def _vessel(self, i: int) -> Generator:
        env = self.env
        while True:
            if i >= self.fleet.at(env.now_h):  # not (or no longer) in service
                later = [h for h in self.fleet.change_hours() if h > env.now_h and self.fleet.at(h) > i]
                if not later:
                    self.retired.add(i)
                    return
                wake = self.fleet_wakes[i] = env.timeout(later[0] - env.now_h)
                yield wake
                self.fleet_wakes[i] = None
                continue
            yield from self._round_trip()

    def _round_trip(self) -> Generator:
        """One cycle of a vessel: wait its turn for cargo, load, cross, unload, return."""
        env = self.env
        self.idle += 1
        self.set_active(self.idle == 0)
        if self._gathering:  # wait for the vessel before to finish taking cargo
            turn = env.event()
            self._turns.append(turn)
            yield turn
        else:
            self._gathering = True
        hold, load_t = yield from self._gather()
        if self._turns:
            self._turns.popleft().succeed()
        else:
            self._gathering = False
        self.idle -= 1
        self.set_active(self.idle == 0)
        busy_from = env.now_h
        if self.load_port is not None:  # a call at the loading terminal: berth, then cargo / rate
            at_berth = yield from self.load_port.call(load_t + self.spec.return_cargo_t, loaded_t=load_t)
            self.rec.extra["load_call_h"][self.grid.index(env.now_h)] += at_berth
            ready = env.now_h
        else:
            ready = env.now_h + self._leg("load_h", env.now_h)
        depart = self.open_at(ready)
        if depart == math.inf:
            yield env.event()  # closed for good: the cargo stays aboard
        self.departures_h.append(depart)
        arrive = depart + self._leg("crossing_h", depart)
        if self.unload_port is not None:
            yield env.timeout(arrive - env.now_h)
            at_berth = yield from self.unload_port.call(load_t + self.spec.return_cargo_t)
            self.rec.extra["unload_call_h"][self.grid.index(env.now_h)] += at_berth
        else:
            yield env.timeout(arrive + self._leg("unload_h", arrive) - env.now_h)
        for s in hold:  # unloaded: each moves on
            self.leave(s)
            self.forward(s)
        back = self.open_at(env.now_h)
        if back == math.inf:
            yield env.event()
        self.departures_h.append(back)
        yield env.timeout(back + self._leg("return_h", back) - env.now_h)
        self.grid.add_interval(self.rec.busy, busy_from, env.now_h)
        self.rec.extra["round_trips"][self.grid.index(env.now_h)] += 1

    # chartering ----------------------------------------------------------------

    def _charter_desk(self) -> Generator:
        """The operator looks at the queue every check_days: above queue_t tonnes, and
        with fewer than ``vessels`` chartered or on order, it orders one, which arrives
        lead_days later."""
        c = self.spec.charter
        assert c is not None
        while True:
            yield self.env.timeout(c.check_days * 24.0)
            if self.queued_t > c.queue_t and self._chartered + self._ordered < c.vessels:
                self._ordered += 1
                self.env.process(self._chartered_vessel())

    def _chartered_vessel(self) -> Generator:
        """A chartered vessel: arrives after the lead time, sails round trips, and is
        released after a trip once it has served min_days and the queue has fallen
        below half the threshold."""
        c = self.spec.charter
        assert c is not None
        env = self.env
        yield env.timeout(c.lead_days * 24.0)
        self._ordered -= 1
        self._chartered += 1
        start = env.now_h
        key = len(self.rec.extra["charter_starts_h"])
        self.rec.extra["charter_starts_h"].append(start)
        self._on_hire[key] = start
        while True:
            yield from self._round_trip()
            if env.now_h - start >= c.min_days * 24.0 and self.queued_t < c.queue_t / 2:
                break
        self._chartered -= 1
        del self._on_hire[key]
        self.grid.add_interval(self.rec.extra["charter_h"], start, env.now_h)

    def finish(self) -> NodeRecord:
        """Closures count as active time (Roser: blocked by its own state); chartered
        vessel-hours (counted up to the horizon for those still on hire) join the
        vessel-hours available."""
        rec = self._finish_closures()
        if self.spec.charter is not None:
            for start in self._on_hire.values():  # still on hire at the horizon
                self.grid.add_interval(rec.extra["charter_h"], start, self.grid.horizon_h)
            rec.server_h = [v + h for v, h in zip(rec.server_h, rec.extra["charter_h"])]
        return rec

    # what metrics and routing ask ----------------------------------------------

    def expected_delay_h(self, t: float) -> float:
        now = self.env.now_h
        h = self.fleet.positive_from(now)
        if h is None:
            return math.inf
        per_h = self.fleet.at(h) * self.payload / self._mean_cycle_h
        return (h - now) + (self.queued_t + t) / per_h + self._fixed_legs_h

    def is_open(self, now: float) -> bool:
        return self.fleet.at(now) > 0

    def open_delay_h(self, now: float, t: float) -> float:
        fleet = self.fleet.at(now)
        if fleet <= 0:
            return math.inf
        return (self.queued_t + t) / (fleet * self.payload / self._mean_cycle_h) + self._fixed_legs_h

    def opens_at(self) -> float | None:
        return self.fleet.first_hour_where(lambda n: n > 0)

    def available_servers(self) -> Timeline:
        """Vessels in service (utilisation is busy vessel-hours over these)."""
        return self.fleet


def _durations(spec: SeaLinkSpec) -> dict:
    return {"load_h": as_distribution(spec.load_h), "crossing_h": as_distribution(spec.crossing_h),
            "unload_h": as_distribution(spec.unload_h),
            "return_h": as_distribution(spec.return_h if spec.return_h is not None else spec.crossing_h)}


def mean_cycle_h(spec: SeaLinkSpec) -> float:
    """Mean round trip without storms: load, cross, unload, return."""
    return sum((d.mean for d in _durations(spec).values()), 0.0)


def capacity_t(spec: SeaLinkSpec, rec: NodeRecord, grid: YearGrid) -> np.ndarray:
    """fleet x payload x round trips a year, each round trip lengthened by the
    expected wait for storms at its two departures.

    Departures are not random instants: each comes one leg after the vessel's
    previous departure, which was made while the link was open (x_out = return
    + load before a crossing, x_back = crossing + unload before a return). As
    storms start at rate lam per open hour (memoryless), the expected wait at a
    check x hours after an open departure is the chance a storm starts in
    between and is still on, times what is left of it:
    w(x) = E_D[ int_0^x lam e^(-lam u) (D - (x - u))^+ du ] (one storm per leg).
    lam is the year's storms per open hour, from the recorded closed share:
    lam = share / ((1 - share) E[D]). (The former formula, share x E[D^2]/(2E[D])
    per departure, treated departures as random instants and overstated the
    loss, by 4-8% at Caspian storm rates and by far more for long storms:
    tests/validation/test_validation_links.py.)"""
    vessel_h = np.asarray(rec.server_h, dtype=float)
    closed_share = np.array(rec.closed_h) / grid.hours()
    mean = {k: dist.mean for k, dist in _durations(spec).items()}
    port = _port_hours(spec, rec, len(closed_share), mean)
    cycle_h = np.array([mean["crossing_h"] + mean["return_h"] + lo + un for lo, un in port])
    days = rec.extra.get("storm_days")  # the storms' duration distribution (its own or its area's)
    d_h = 24.0 * quantiles(days) if days is not None else None
    for i, share in enumerate(closed_share):
        if d_h is None or share <= 0.0:
            continue
        if share >= 1.0:
            cycle_h[i] = math.inf
            continue
        lam = share / ((1.0 - share) * float(d_h.mean()))
        x_out = mean["return_h"] + port[i][0]
        x_back = mean["crossing_h"] + port[i][1]
        cycle_h[i] += _storm_wait_h(x_out, lam, d_h) + _storm_wait_h(x_back, lam, d_h)
    return vessel_h * spec.vessel_payload_t / cycle_h


def _port_hours(spec: SeaLinkSpec, rec: NodeRecord, n_years: int, mean: dict) -> list[tuple[float, float]]:
    """Mean hours in port per round trip, loading and unloading, per year: the
    drawn load_h / unload_h means, or where vessels call at terminals the hours
    they held a berth (waits for a berth are not capacity), measured that year
    (or the nearest year with calls)."""
    trips = rec.extra.get("round_trips", [0] * n_years)
    out = []
    for key, field in (("load_call_h", spec.load_at), ("unload_call_h", spec.unload_at)):
        if field is None:
            out.append([mean[key.replace("_call", "")]] * n_years)
            continue
        per = [rec.extra[key][i] / trips[i] if trips[i] else math.nan for i in range(n_years)]
        known = [i for i in range(n_years) if not math.isnan(per[i])]
        out.append([per[i] if not math.isnan(per[i]) else
                    (per[min(known, key=lambda j: abs(j - i))] if known else mean[key.replace("_call", "")])
                    for i in range(n_years)])
    return list(zip(out[0], out[1]))


def _storm_wait_h(x: float, lam: float, d_h: np.ndarray) -> float:
    """Expected storm wait at a departure x hours after an open departure, storms
    starting at rate lam per open hour with durations d_h (equally weighted
    quantiles): E[int_0^a lam e^(-lam (x - s)) (D - s) ds], a = min(x, D), in
    closed form."""
    a = np.minimum(x, d_h)
    return float(np.mean(np.exp(-lam * x) * (np.exp(lam * a) * (d_h - a) - d_h + np.expm1(lam * a) / lam)))


KIND = NodeKind(
    name="sea_link", label="sea link", spec=SeaLinkSpec, engine=SeaLink, capacity_t=capacity_t,
    investable=frozenset({"fleet"}), durations=frozenset({"load_h", "crossing_h", "unload_h", "return_h"}),
    timelines=("fleet",), counts=("fleet",), fits=(("vessel_payload_t", "a vessel"),), carrier="vessel_payload_t",
    entry=False, after=frozenset({"port"}), calls_at=(("load_at", "before"), ("unload_at", "after")),
    utilisation_check="lower_bound", marker="o", link=True,
    more_capacity=("fleet", 1.0),
)
