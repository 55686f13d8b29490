"""Sea link: a fleet shuttling cargo across a sea (ferries, feeders, tankers), on one line or several.

The fleet is groups of vessels of a class (``vessels``; or ``fleet`` identical vessels of
``vessel_payload_t``): each group has a dated count (deliveries, withdrawals), the class's payload in
the link's cargo unit (cut where the water is too shallow for its draft: ``model.core.vessels``), its
speed and call time. Each vessel is one simpy process. A vessel in service waits at its line's origin
for its turn (one vessel at a time is assigned cargo, so cargo is not spread thinly over idle
vessels), gathers waiting shipments in arrival order until the next one would not fit or
``max_wait_h`` has passed since the first was taken, loads (``load_h``, or a call at the ``load_at``
terminal), waits while the line is closed by a storm or a disruption, crosses (``crossing_h``, or
the line's ``sea_nm`` at the class's speed), unloads, hands its shipments on, and returns
(``return_h``, default the crossing time), again only departing while the line is open.

Low water: a vessel reads its payload each time it looks at the waiting cargo, so a sea that falls
while it waits loads it with less (one that falls below what is already aboard sends it off with that)
and a dredging gives its load back from its date. A lot larger than the payload is passed over for
the next that fits; a vessel none of whose waiting lots fits (or that can load nothing there) gives
up its line's turn with nothing aboard, so that a vessel behind it that can take them loads, and waits
out of the turn until a lot that fits arrives or its payload there rises (or, loading nothing, moves
to another line of its own or waits for water).

A link may serve several lines with one fleet (``lines``): a shipment waits for the line whose
``load_at`` it came through. Under ``redeploy: most_waiting`` a vessel allowed on several lines
chooses, after each delivery, the line with the most cargo waiting that vessels already heading
there will not take (its return leg then goes to that line's origin, plus a repositioning voyage
where the lines do not share their far end); a vessel that has waited ``review_h`` without cargo
looks again and leaves for such a line. Under ``fixed`` each vessel keeps its home line.

Storms are drawn up front (``model.core.weather``), so a vessel knows when it may next depart and a
passage is one simpy event instead of one per leg and closure. Vessels at sea finish their passage.

Utilisation counts a vessel busy from the start of loading to the end of its return trip (storm
waits and repositioning included); waiting for cargo is idle. The link is *active* (Roser) while it
is closed or no vessel is idle at an origin.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections import deque
from typing import Any, ClassVar, Generator, cast

import numpy as np
import simpy

from model.core.distributions import Sampler, as_distribution
from model.core.timeline import Timeline, combine, union_intervals as _union, union_periods
from model.core.vessels import VesselClassSpec, payload_share
from model.core.weather import storm_calendar
from model.core.years import YearGrid
from model.nodes.base import Context, Node, NodeRecord, Proc, QueuedNode, Shipment
from model.nodes.kind import NodeKind
from model.nodes.port import Port
from model.nodes.sealink_spec import LineSpec, SeaLinkSpec


_EPS = 1e-9
LEGS = ("load_h", "crossing_h", "unload_h", "return_h")
SCHEDULE_RECORDS = ("group_payload_t", "group_vessel_h", "charter_payload_t")
"""Records the constructor derives from the vessel counts and payloads (not from the run): where a
shared prefix switches the link to a variant's fleet or depths, it takes the variant's."""


class Line:
    """One route of a fleet: its queue of cargo, the turn of vessels at its origin, its legs,
    terminals and closures (plain data the link's vessel processes share)."""

    def __init__(self, index: int, name: str, spec: LineSpec) -> None:
        self.index = index
        self.name = name
        self.spec = spec
        self.queue: deque[tuple[Shipment, float]] = deque()
        self.queued_t = 0.0
        self.arrival: simpy.Event | None = None
        self.space_t: float | None = None  # room left in the gathering vessel (None: it has no cargo)
        self.gathering = False  # a vessel is taking cargo; others queue for their turn
        self.turns: deque[simpy.Event] = deque()
        self.aside: list[Vessel] = []  # vessels out of the turn: no waiting lot fits their (low-water) payload
        self.idle = 0  # vessels in service waiting here for cargo
        self.cover_t = 0.0  # room of vessels waiting here or heading here, not yet loaded
        self.load_port: Port | None = None
        self.unload_port: Port | None = None
        self.draw: dict[str, Sampler] = {}
        self.factor: dict[str, Timeline | None] = {}
        self.mean: dict[str, float] = {}
        self.closures: list[tuple[float, float]] = []
        self.starts: list[float] = []
        self.storms: list[tuple[float, float]] = []

    def open_at(self, t: float) -> float:
        """The earliest time >= t at which the line is open (inf: never again)."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i >= 0 and t < self.closures[i][1]:
            return self.closures[i][1]
        return t

    def leg(self, name: str, at: float) -> float:
        f = self.factor[name]
        return self.draw[name]() * (1.0 if f is None else f.at(at))


class Vessel:
    """One vessel: its group, number within the group, the lines it may serve, where it is, and
    the room it has promised a line (``cover_t``, counted in that line's ``cover_t``)."""

    def __init__(self, group: int, number: int, home: Line, lines: list[Line], payload: dict[int, Timeline],
                 crossing: dict[int, float], call_h: Sampler | None) -> None:
        self.group = group
        self.number = number
        self.home = home
        self.line = home
        self.lines = lines
        self.payload = payload  # tonnes it loads on each line (by line index), over time
        self.crossing = crossing  # its crossing time on each line over the line's (class speed)
        self.call_h = call_h
        self.committed: Line | None = None
        self.cover_t = 0.0
        self.target: Line | None = None
        # its pending wait to enter service (``wake_for`` "count": its group's count) or for water ("water": its
        # line's payload), None while it sails or waits for cargo; ``ended``: it waits for neither any more (its
        # process returned: retired for good; or no water on its line again). Read where a shared prefix switches
        # the link to a variant's fleet or depths (model.engine.fork).
        self.wake: simpy.Event | None = None
        self.wake_for = ""
        self.wake_above = _EPS  # waiting for water: until its payload on its line rises above this
        self.ended = False
        self.fits: simpy.Event | None = None  # out of its line's turn: succeeds when a lot that fits arrives

    def payload_at(self, line: Line, t: float) -> float:
        return self.payload[line.index].at(t)


class SeaLink(QueuedNode):
    kind: ClassVar[str] = "sea_link"

    def __init__(self, nid: str, spec: Any, ctx: Context, factor: Timeline,
                 duration_factor: dict[str, Timeline]) -> None:
        super().__init__(nid, spec, ctx, factor, duration_factor)
        spec = self.spec
        self.queue: deque[tuple[Shipment, float]] = deque()  # (unused: each line keeps its own queue)
        self.queued_t = 0.0  # over every line
        self.idle = 0  # vessels idle at an origin, over every line
        self.departures_h = array("d")  # every sailing, out and back (a light log for checks; 8 bytes each)
        self.rec.extra["departures_h"] = self.departures_h
        specs = spec.line_specs()
        self.lines = [Line(i, name, ls) for i, (name, ls) in enumerate(specs.items())]
        self._line_of: dict[str, Line] = {}
        many = len(self.lines) > 1
        for line in self.lines:
            self._set_legs(line, many)
        # storms: the link's own calendar (inline, or its area's thinned by storm_share); a line with a
        # storm_share of its own draws its own thinning of the area
        self.storms = _union(self._draw_storms()) if spec.storms is not None else []  # (overlapping storms: their union)
        for a, b in self.storms:
            self.grid.add_interval(self.rec.closed_h, a, b)
        closed_by_factor = self.factor_closures()
        for line in self.lines:
            own = line.spec.storm_share
            line.storms = self.storms if own is None or not isinstance(spec.storms, str) else \
                _union(self.ctx.area_storms(spec.storms, own, f"{self.kind}:{self.id}:{line.name}"))
            line.closures = _union(line.storms + closed_by_factor)
            line.starts = [a for a, _ in line.closures]
        self.closures = self.lines[0].closures
        self.rec.closed_month_h = [0.0] * len(self.rec.closed_month_h)  # (counted once: storms and disruptions)
        self.add_closed_months(self.closures)
        self.redeploy = spec.redeploy is not None and spec.redeploy.policy == "most_waiting" and many
        self.review_h = spec.redeploy.review_h if spec.redeploy is not None else 24.0
        self.draw_reposition = self.sampler(as_distribution(spec.redeploy.reposition_h if spec.redeploy is not None
                                                            else 12.0), "reposition_h")
        # the fleet: groups of vessels by class
        self.groups = self._groups()
        self.counts: list[Timeline] = []
        self.group_payload: list[dict[int, Timeline]] = []  # per group, shared by its vessels
        self.vessels: list[Vessel] = []
        rate_parts: list[Timeline] = []
        for g, (gname, cls, count, allowed, home) in enumerate(self.groups):
            tl = combine(lambda n, f: math.floor(n * f + _EPS) if f > 0 else 0, count, self.factor)
            self.counts.append(tl)
            payload = {line.index: self._payload_timeline(cls, line) for line in allowed}
            self.group_payload.append(payload)
            crossing = {line.index: self._crossing_factor(cls, line) for line in allowed}
            call = self.sampler(as_distribution(cls.call_h), f"{gname}:call_h") if cls is not None and \
                cls.call_h is not None else None
            for i in range(int(tl.maximum())):
                self.vessels.append(Vessel(g, i, home, allowed, payload, crossing, call))
            cycle = self._mean_cycle(home, crossing[home.index])
            rate_parts.append(combine(lambda n, p: n * p / cycle, tl, payload[home.index]))
        self.fleet = combine(lambda *n: sum(n, 0.0), *self.counts) if len(self.counts) > 1 else self.counts[0]
        self.rate = combine(lambda *r: sum(r, 0.0), *rate_parts) if len(rate_parts) > 1 else rate_parts[0]
        self.payload = self.vessels[0].payload_at(self.lines[0], 0.0) if self.vessels else 0.0
        home = self.lines[0]
        self._fixed_legs_h = home.mean["load_h"] + home.mean["crossing_h"] + home.mean["unload_h"]
        # records: per year, per line and per group (the capacity formula reads them)
        n, nl, ng = len(self.grid), len(self.lines), len(self.groups)
        ex = self.rec.extra
        ex["load_call_h"] = [0.0] * n  # hours at berth loading, per year (all lines)
        ex["unload_call_h"] = [0.0] * n
        ex["round_trips"] = [0] * n
        ex["charter_h"] = [0.0] * n  # chartered vessel-hours per year
        ex["charter_starts_h"] = []
        ex["lines"] = [line.name for line in self.lines]
        ex["groups"] = [g[0] for g in self.groups]
        ex["line_load_call_h"] = [[0.0] * n for _ in range(nl)]
        ex["line_unload_call_h"] = [[0.0] * n for _ in range(nl)]
        ex["line_trips"] = [[0] * n for _ in range(nl)]
        ex["line_throughput_t"] = [[0.0] * n for _ in range(nl)]
        ex["trips"] = [[[0] * n for _ in range(nl)] for _ in range(ng + 1)]  # group (the last: chartered) x line
        ex["group_load_call_h"] = [[[0.0] * n for _ in range(nl)] for _ in range(ng + 1)]
        ex["group_unload_call_h"] = [[[0.0] * n for _ in range(nl)] for _ in range(ng + 1)]
        ex["reposition_h"] = [[0.0] * n for _ in range(ng + 1)]
        # departures that left full (the next lot did not fit, or the payload was reached): the sum of their
        # loads as a share of the payload, and their count, by group (the last: chartered) x line x year
        ex["full_fill"] = [[[0.0] * n for _ in range(nl)] for _ in range(ng + 1)]
        ex["full_trips"] = [[[0] * n for _ in range(nl)] for _ in range(ng + 1)]
        ex["crossing_mean_h"] = [[self._mean_crossing(line, self._crossing_factor(cls, line))
                                  for line in self.lines] for _, cls, _, _, _ in self.groups]
        ex["return_mean_h"] = [line.mean["return_h"] for line in self.lines]
        ex["line_called"] = [[line.spec.load_at is not None, line.spec.unload_at is not None] for line in self.lines]
        ex["leg_mean_h"] = [{k: line.mean[k] for k in LEGS} for line in self.lines]
        ex["line_storms"] = [array("d", [x for iv in line.storms for x in iv]) for line in self.lines]
        ex["group_payload_t"] = [[list(self.grid.integrate(self._payload_timeline(cls, line)) / self.grid.hours())
                                  for line in self.lines] for _, cls, _, _, _ in self.groups]
        ex["group_vessel_h"] = [list(self.grid.integrate(tl)) for tl in self.counts]
        ex["home"] = [home_.index for _, _, _, _, home_ in self.groups]
        self._chartered = self._ordered = 0
        self._on_hire: dict[int, float] = {}  # charter number -> start hour, while on hire
        self._charter_vessel: tuple[dict[int, Timeline], dict[int, float], Sampler | None, Line] | None = None
        self.charter_payload: dict[int, Timeline] | None = None  # (shared by the chartered vessels)
        if spec.charter is not None:
            self._charter_vessel = self._charter_terms()
            self.charter_payload = self._charter_vessel[0]
            ex["charter_payload_t"] = list(self.grid.integrate(self._charter_vessel[0][self._charter_vessel[3].index])
                                           / self.grid.hours())
            ex["charter_line"] = self._charter_vessel[3].index
            ex["charter_day_rate_usd"] = self.day_rate_usd()  # (the charter's, else its class's: what tables cost)
            ex["charter_crossing_mean_h"] = self._mean_crossing(
                self._charter_vessel[3], self._charter_vessel[1][self._charter_vessel[3].index])
            Proc(self.env, self._charter_desk())
        for v in self.vessels:
            Proc(self.env, self._vessel(v))

    # the fleet ------------------------------------------------------------------

    def _groups(self) -> list[tuple[str, VesselClassSpec | None, Timeline, list[Line], Line]]:
        """(name, class, count, lines allowed, home line) per group; the ``fleet`` form is one
        group of a class-less vessel of ``vessel_payload_t``."""
        spec = self.spec
        by_name = {line.name: line for line in self.lines}
        if spec.vessels is None:
            return [("vessel", None, self.tl(spec.fleet), list(self.lines), self.lines[0])]
        out: list[tuple[str, VesselClassSpec | None, Timeline, list[Line], Line]] = []
        for gname, g in spec.vessels.items():
            allowed = [by_name[n] for n in g.lines] if g.lines is not None else list(self.lines)
            home = by_name[g.home] if g.home is not None else allowed[0]
            out.append((gname, self.ctx.vessel_classes[g.vessel_class], self.tl(g.count), allowed, home))
        return out

    def _set_legs(self, line: Line, many: bool) -> None:
        """A line's leg samplers (one random stream each; a single line keeps the link's stream names)."""
        ls = line.spec
        dists = {"load_h": as_distribution(ls.load_h), "crossing_h": as_distribution(ls.crossing_h),
                 "unload_h": as_distribution(ls.unload_h),
                 "return_h": as_distribution(ls.return_h if ls.return_h is not None else ls.crossing_h)}
        for k, d in dists.items():
            line.draw[k] = self.sampler(d, f"{line.name}:{k}" if many else k)
            line.mean[k] = d.mean
            line.factor[k] = self.duration_factor.get(k)

    def _mean_cycle(self, line: Line, crossing_factor: float) -> float:
        m = line.mean
        return m["load_h"] + m["crossing_h"] * crossing_factor + m["unload_h"] + m["return_h"]

    @staticmethod
    def _mean_crossing(line: Line, crossing_factor: float) -> float:
        return line.mean["crossing_h"] * crossing_factor

    def _crossing_factor(self, cls: VesselClassSpec | None, line: Line) -> float:
        """A class's crossing over the line's drawn crossing: the line's sea_nm at the class's speed over
        the line's mean crossing (1 without a speed or a distance)."""
        nm = line.spec.sea_nm
        if cls is None or cls.speed_kn is None or nm is None:
            return 1.0
        return nm / cls.speed_kn / line.mean["crossing_h"]

    def _payload_timeline(self, cls: VesselClassSpec | None, line: Line) -> Timeline:
        """Tonnes a vessel of the class loads on the line over time: its payload in the link's cargo
        unit x tonnes per unit, times the share the shallower of the line's two terminals allows."""
        spec = self.spec
        if cls is None:
            return Timeline.constant(float(spec.vessel_payload_t))
        full = cls.payload[spec.cargo_unit] * spec.t_per_unit
        depths = [d for d in (self._terminal_depth(line.spec.load_at), self._terminal_depth(line.spec.unload_at))
                  if d is not None]
        if cls.depth_needed_m is None or not depths:
            return Timeline.constant(full)
        need, loss = cls.depth_needed_m, cls.payload_loss_per_m
        return combine(lambda *d: full * payload_share(need, loss, min(d)), *depths)

    def _terminal_depth(self, nid: str | None) -> Timeline | None:
        if nid is None:
            return None
        return self.ctx.depths.get(nid)

    def link(self, nodes: dict[str, Node]) -> None:
        """The terminals its vessels call at (each line's ``load_at``, ``unload_at``)."""
        for line in self.lines:
            if line.spec.load_at is not None:
                line.load_port = cast(Port, nodes[line.spec.load_at])
                self._line_of[line.spec.load_at] = line
            if line.spec.unload_at is not None:
                line.unload_port = cast(Port, nodes[line.spec.unload_at])

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
        """The earliest time >= t at which its first line is open (inf: never again)."""
        return self.lines[0].open_at(t)

    def closed(self) -> bool:
        return self.open_at(self.env.now_h) > self.env.now_h

    def mean_cycle_h(self) -> float:
        v = self.vessels[0] if self.vessels else None
        return self._mean_cycle(self.lines[0], v.crossing[self.lines[0].index] if v is not None else 1.0)

    def _finish_closures(self) -> NodeRecord:
        """Closures count as active time (Roser: blocked by its own state)."""
        rec = super().finish()
        horizon = self.grid.horizon_h
        closed = np.array([(a, min(b, horizon)) for a, b in self.closures if a < horizon]).reshape(-1, 2)
        rec.active = array("d", union_periods(np.concatenate([rec.periods(), closed])).tobytes())
        return rec

    # cargo ---------------------------------------------------------------------

    def _line_for(self, s: Shipment) -> Line:
        """The line a shipment waits for: the one that loads at the terminal it came through."""
        if len(self.lines) == 1:
            return self.lines[0]
        port = s.last_port
        line = self._line_of.get(port.id) if port is not None else None
        return line if line is not None else self.lines[0]

    def accept(self, s: Shipment) -> None:
        """A shipment joins its line's queue for a vessel; the vessel that unloads it forwards it."""
        self.enter(s)
        line = self._line_for(s)
        line.queue.append((s, self.env.now_h))
        line.queued_t += s.t
        self.queued_t += s.t
        s.waiting = self
        s.line = line.index
        # wake the gathering vessel only when this arrival can end its wait: it had no
        # cargo yet, or what waits now fills it or no longer fits (saves an event per shipment)
        ev = line.arrival
        if ev is not None and not ev.triggered and (line.space_t is None or line.queued_t >= line.space_t - _EPS
                                                    or s.t > line.space_t + _EPS):
            ev.succeed()
        if line.aside:  # a vessel out of the turn, none of whose waiting lots fitted: the first this one fits
            now = self.env.now_h
            for v in line.aside:
                if s.t <= v.payload_at(line, now) + _EPS:
                    line.aside.remove(v)
                    assert v.fits is not None
                    v.fits.succeed()
                    break

    def renege(self, s: Shipment) -> None:
        """A waiting shipment leaves: out of its line's queued tonnes now, out of the queue lazily."""
        line = self.lines[s.line]
        line.queued_t -= s.t
        super().renege(s)

    @staticmethod
    def _next_lot(line: Line, payload: float) -> int:
        """Index of the first waiting lot a vessel loading ``payload`` tonnes can take when empty (-1: none).
        Lots are taken in arrival order; one larger than the whole payload (a vessel loading less in low
        water) is passed over and waits for a larger vessel, instead of sending this one off empty."""
        q = line.queue
        if q and q[0][0].t <= payload + _EPS:
            return 0
        for i, (s, _) in enumerate(q):
            if not s.gone and s.t <= payload + _EPS:
                return i
        return -1

    @staticmethod
    def _drop_gone_at(line: Line) -> None:
        while line.queue and line.queue[0][0].gone:
            line.queue.popleft()

    def _wait_cargo(self, line: Line, timeout: float | None) -> Generator:
        ev = line.arrival
        if ev is None or ev.triggered:
            ev = line.arrival = self.env.event()
        yield ev if timeout is None else self.wait_or_timeout(ev, timeout)

    def _commit(self, v: Vessel, line: Line, t: float) -> None:
        """``v`` will serve ``line`` next: the room it brings counts against the line's waiting cargo."""
        self._uncommit(v)
        v.committed = line
        v.cover_t = v.payload_at(line, t)
        line.cover_t += v.cover_t

    @staticmethod
    def _uncommit(v: Vessel) -> None:
        if v.committed is not None:
            v.committed.cover_t -= v.cover_t
            v.committed = None
            v.cover_t = 0.0

    def _uncovered_t(self, line: Line) -> float:
        return line.queued_t - line.cover_t

    def _best_line(self, v: Vessel, now: float) -> Line:
        """Where a vessel allowed on several lines goes (redeploy most_waiting): the line with the most
        waiting cargo not covered by vessels heading there or waiting there (its own room left out), if
        that is above 0; else where it is. Lines it cannot load on now are skipped."""
        here = v.line
        best, score = here, 0.0
        for line in v.lines:
            if v.payload_at(line, now) <= _EPS:
                continue
            own = v.cover_t if v.committed is line else 0.0
            x = self._uncovered_t(line) + own
            if x > score + _EPS:
                best, score = line, x
        return best

    def _gather(self, v: Vessel, line: Line) -> Generator[simpy.Event | float, None, tuple[list[Shipment], float] | None]:
        """Take shipments in arrival order until the next one would not fit, or until max_wait_h
        after the first was taken; return the load. Each shipment's wait at the link ends when its
        vessel starts loading. The payload is read each time round (the sea may fall, or a dredging
        deepen the terminal, while it waits): one that falls below what is aboard sends it off with
        that. None: the vessel gives up its turn, either idle for ``review_h`` and leaving for another
        line (``v.target``), or, with nothing aboard, because it can load nothing there now or none of
        the lots waiting fits it (``v.target`` None: it steps aside, :meth:`_aside`)."""
        env = self.env
        hold: list[tuple[Shipment, float]] = []
        load_t = 0.0
        deadline = math.inf
        while True:
            payload = v.payload_at(line, env.now_h)
            self._drop_gone_at(line)
            if not hold and (payload <= _EPS or (line.queue and self._next_lot(line, payload) < 0)):
                line.space_t = None
                v.target = None
                if payload > _EPS and self.redeploy and len(v.lines) > 1:
                    target = self._best_line(v, env.now_h)
                    if target is not line:
                        v.target = target
                        return None
                self._uncommit(v)
                return None
            while True:
                i = self._next_lot(line, payload)
                if i < 0 or load_t + line.queue[i][0].t > payload + _EPS:
                    break
                if i == 0:
                    s, arrived = line.queue.popleft()
                else:  # lots ahead of it are too big for this vessel (low water): they wait for a larger one
                    s, arrived = line.queue[i]
                    del line.queue[i]
                s.waiting = None
                line.queued_t -= s.t
                self.queued_t -= s.t
                hold.append((s, arrived))
                load_t += s.t
                if v.committed is line:
                    line.cover_t -= s.t
                    v.cover_t -= s.t
                if deadline == math.inf:
                    deadline = env.now_h + self.spec.max_wait_h
                self._drop_gone_at(line)
            left = i >= 0  # a lot it could take waits, but does not fit what is left: full
            if left or load_t >= payload - _EPS or env.now_h >= deadline:
                line.space_t = None
                now = env.now_h
                if payload > 0 and (left or load_t >= payload - _EPS):  # full: whole lots only
                    y = self.grid.index(now)
                    ex = self.rec.extra
                    ex["full_fill"][v.group][line.index][y] += min(load_t / payload, 1.0)
                    ex["full_trips"][v.group][line.index][y] += 1
                for s, arrived in hold:
                    self.release_yard(s)
                    self.record_wait(now - arrived)
                self._uncommit(v)
                return [s for s, _ in hold], load_t
            line.space_t = None if deadline == math.inf else payload - load_t
            if deadline == math.inf and self.redeploy and len(v.lines) > 1:
                yield from self._wait_cargo(line, self.review_h)
                if self._next_lot(line, payload) < 0:  # still no cargo here it can take: is it waiting elsewhere?
                    target = self._best_line(v, env.now_h)
                    if target is not line:
                        v.target = target
                        line.space_t = None
                        return None
                continue
            yield from self._wait_cargo(line, None if deadline == math.inf else deadline - env.now_h)

    # vessels -------------------------------------------------------------------

    def _vessel(self, v: Vessel) -> Generator:
        env = self.env
        while True:
            count = self.counts[v.group]  # (read each time: a shared prefix may switch it)
            if v.number >= count.at(env.now_h):  # not (or no longer) in service
                self._uncommit(v)
                nxt = count.first_change_above(env.now_h, v.number)
                if nxt is None:
                    v.ended, v.wake_for = True, "count"
                    return
                v.wake, v.wake_for = env.timeout(nxt - env.now_h), "count"
                yield v.wake
                v.wake = None
                continue
            if v.payload_at(v.line, env.now_h) <= _EPS:  # too shallow here: another line, or wait for water
                yield from self._stranded(v)
                continue
            yield from self._round_trip(v)

    def _stranded(self, v: Vessel) -> Generator:
        """A vessel that can load nothing on its line (the water is too shallow): it moves to a line of
        its own where it can, or waits until the depth changes."""
        env = self.env
        now = env.now_h
        ok = [line for line in v.lines if v.payload_at(line, now) > _EPS]
        if ok and (self.redeploy or v.line is not v.home):
            target = ok[0] if v.home not in ok else v.home
            start = now
            yield from self._reposition(v, v.line, target)
            self.grid.add_interval(self.rec.busy, start, env.now_h)
            return
        nxt = v.payload[v.line.index].first_change_above(now, _EPS)
        v.wake_above = _EPS
        if nxt is None:
            v.ended, v.wake_for = True, "water"
            yield env.event()  # never again
            return
        v.wake, v.wake_for = env.timeout(nxt - now), "water"
        yield v.wake
        v.wake = None

    def _aside(self, v: Vessel, line: Line) -> Generator:
        """A vessel that gave up its line's turn with nothing aboard because none of the lots waiting fits
        its payload there (the water too shallow for its full load): it waits out of the turn, so that a
        vessel behind it that can take them loads, until a lot it can take arrives or its payload there
        rises (a dredging, a rising sea), then queues for the turn again. (With no water at all it
        returns at once: its process waits for water, :meth:`_stranded`.)"""
        env = self.env
        now = env.now_h
        pay = v.payload_at(line, now)
        if pay <= _EPS:
            return
        nxt = v.payload[line.index].first_change_above(now, pay + _EPS)
        fits = v.fits = env.event()
        line.aside.append(v)
        v.wake_for, v.wake_above = "water", pay + _EPS
        if nxt is not None:
            v.wake = env.timeout(nxt - now)
            yield v.wake | fits
        else:
            v.ended = True  # (no more water: only a lot that fits brings it back)
            yield fits
        if v in line.aside:
            line.aside.remove(v)
        v.wake, v.fits, v.ended, v.wake_for = None, None, False, ""

    def _reposition(self, v: Vessel, here: Line, there: Line) -> Generator:
        """A voyage from one line's origin to another's (departing while open)."""
        env = self.env
        self._commit(v, there, env.now_h)
        depart = here.open_at(env.now_h)
        if depart == math.inf:
            yield env.event()
        hours = self.draw_reposition()
        self.departures_h.append(depart)
        yield depart + hours - env.now_h
        self.grid.add_interval(self.rec.extra["reposition_h"][v.group], depart, env.now_h)
        v.line = there

    def _round_trip(self, v: Vessel) -> Generator:
        """One cycle of a vessel: wait its turn for cargo at its line, load, cross, unload, choose the
        next line, return."""
        env = self.env
        line = v.line
        if v.committed is not line:
            self._commit(v, line, env.now_h)
        self.idle += 1
        self.set_active(self.idle == 0)
        if line.gathering:  # wait for the vessel before to finish taking cargo
            turn = env.event()
            line.turns.append(turn)
            yield turn
        else:
            line.gathering = True
        got = yield from self._gather(v, line)
        if line.turns:
            line.turns.popleft().succeed()
        else:
            line.gathering = False
        self.idle -= 1
        self.set_active(self.idle == 0)
        busy_from = env.now_h
        if got is None and v.target is None:  # nothing waiting fits it (or no water): out of the turn
            yield from self._aside(v, line)
            return
        if got is None:  # idle here, cargo elsewhere: reposition
            target = v.target
            assert target is not None
            yield from self._reposition(v, line, target)
            self.grid.add_interval(self.rec.busy, busy_from, env.now_h)
            return
        hold, load_t = got
        ex = self.rec.extra
        back_t = line.spec.return_cargo_t + line.spec.return_cargo_share * load_t
        if line.load_port is not None:  # a call at the loading terminal: berth, then cargo / rate
            at_berth = yield from line.load_port.call(load_t + back_t, loaded_t=load_t,
                                                      call_h=v.call_h() if v.call_h is not None else -1.0)
            y = self.grid.index(env.now_h)
            ex["load_call_h"][y] += at_berth
            ex["line_load_call_h"][line.index][y] += at_berth
            ex["group_load_call_h"][v.group][line.index][y] += at_berth
            ready = env.now_h
        else:
            ready = env.now_h + line.leg("load_h", env.now_h)
        depart = line.open_at(ready)
        if depart == math.inf:
            yield env.event()  # closed for good: the cargo stays aboard
        self.departures_h.append(depart)
        arrive = depart + line.leg("crossing_h", depart) * v.crossing[line.index]
        if line.unload_port is not None:
            yield arrive - env.now_h
            at_berth = yield from line.unload_port.call(load_t + back_t,
                                                        call_h=v.call_h() if v.call_h is not None else -1.0)
            y = self.grid.index(env.now_h)
            ex["unload_call_h"][y] += at_berth
            ex["line_unload_call_h"][line.index][y] += at_berth
            ex["group_unload_call_h"][v.group][line.index][y] += at_berth
        else:
            yield arrive + line.leg("unload_h", arrive) - env.now_h
        ex["line_throughput_t"][line.index][self.grid.index(env.now_h)] += load_t
        for s in hold:  # unloaded: each moves on
            self.leave(s)
            self.forward(s)
        nxt = self._best_line(v, env.now_h) if self.redeploy and len(v.lines) > 1 else v.home
        if v.payload_at(nxt, env.now_h) <= _EPS:
            nxt = line
        self._commit(v, nxt, env.now_h)
        back = line.open_at(env.now_h)
        if back == math.inf:
            yield env.event()
        self.departures_h.append(back)
        hours = nxt.leg("return_h", back)
        if nxt is not line and nxt.unload_port is not line.unload_port:
            extra_h = self.draw_reposition()
            hours += extra_h
            self.grid.add_interval(ex["reposition_h"][v.group], back + hours - extra_h, back + hours)
        yield back + hours - env.now_h
        v.line = nxt
        self.grid.add_interval(self.rec.busy, busy_from, env.now_h)
        y = self.grid.index(env.now_h)
        ex["round_trips"][y] += 1
        ex["line_trips"][line.index][y] += 1
        ex["trips"][v.group][line.index][y] += 1

    # chartering ----------------------------------------------------------------

    def _charter_terms(self) -> tuple[dict[int, Timeline], dict[int, float], Sampler | None, Line]:
        """What a chartered vessel loads on its line, its crossing factor and call time: of the charter's
        class, else of the link's first group."""
        c = self.spec.charter
        assert c is not None
        line = self.lines[self.spec.line_names().index(c.line)] if c.line is not None else self.lines[0]
        if c.vessel_class is not None:
            cls: VesselClassSpec | None = self.ctx.vessel_classes[c.vessel_class]
        else:
            cls = self.groups[0][1]
        call = self.sampler(as_distribution(cls.call_h), "charter:call_h") if cls is not None and \
            cls.call_h is not None else None
        return {line.index: self._payload_timeline(cls, line)}, {line.index: self._crossing_factor(cls, line)}, \
            call, line

    def day_rate_usd(self) -> float:
        c = self.spec.charter
        if c is None:
            return 0.0
        if c.day_rate_usd is not None:
            return float(c.day_rate_usd)
        if c.vessel_class is not None:
            return float(self.ctx.vessel_classes[c.vessel_class].day_rate_usd)
        return 0.0

    def _charter_desk(self) -> Generator:
        """The operator looks at the queue every check_days: above queue_t tonnes, and
        with fewer than ``vessels`` chartered or on order, it orders one, which arrives
        lead_days later."""
        c = self.spec.charter
        assert c is not None and self._charter_vessel is not None
        line = self._charter_vessel[3]
        while True:
            yield c.check_days * 24.0
            if line.queued_t > c.queue_t and self._chartered + self._ordered < c.vessels:
                self._ordered += 1
                Proc(self.env, self._chartered_vessel())

    def _chartered_vessel(self) -> Generator:
        """A chartered vessel: arrives after the lead time, sails round trips on its line, and is
        released after a trip once it has served min_days and the queue has fallen below half the
        threshold."""
        c = self.spec.charter
        assert c is not None and self._charter_vessel is not None
        env = self.env
        payload, crossing, call, line = self._charter_vessel
        yield c.lead_days * 24.0
        self._ordered -= 1
        self._chartered += 1
        start = env.now_h
        key = len(self.rec.extra["charter_starts_h"])
        self.rec.extra["charter_starts_h"].append(start)
        self._on_hire[key] = start
        v = Vessel(len(self.groups), key, line, [line], payload, crossing, call)
        while True:
            if v.payload_at(line, env.now_h) <= _EPS:
                break
            yield from self._round_trip(v)
            if env.now_h - start >= c.min_days * 24.0 and line.queued_t < c.queue_t / 2:
                break
        self._uncommit(v)
        self._chartered -= 1
        del self._on_hire[key]
        self.grid.add_interval(self.rec.extra["charter_h"], start, env.now_h)

    def finish(self) -> NodeRecord:
        """Closures count as active time (Roser: blocked by its own state); chartered
        vessel-hours (counted up to the horizon for those still on hire) join the
        vessel-hours available."""
        rec = self._finish_closures()
        rec.extra["day_rate_usd"] = self.day_rate_usd()
        if self.spec.charter is not None:
            for start in self._on_hire.values():  # still on hire at the horizon
                self.grid.add_interval(rec.extra["charter_h"], start, self.grid.horizon_h)
            rec.server_h = [v + h for v, h in zip(rec.server_h, rec.extra["charter_h"])]
        return rec

    # what metrics and routing ask ----------------------------------------------

    def queued_now(self) -> float:
        return self.queued_t

    def expected_delay_h(self, t: float) -> float:
        now = self.env.now_h
        h = self.rate.positive_from(now)
        if h is None:
            return math.inf
        return (h - now) + (self.queued_t + t) / self.rate.at(h) + self._fixed_legs_h

    def is_open(self, now: float) -> bool:
        return self.fleet.at(now) > 0

    def open_delay_h(self, now: float, t: float) -> float:
        rate = self.rate.at(now)
        if rate <= 0:
            return math.inf
        return (self.queued_t + t) / rate + self._fixed_legs_h

    def opens_at(self) -> float | None:
        return self.fleet.first_hour_where(lambda n: n > 0)

    def available_servers(self) -> Timeline:
        """Vessels in service (utilisation is busy vessel-hours over these)."""
        return self.fleet


# ------------------------------------------------------------------ capacity


def _durations(spec: SeaLinkSpec) -> dict:
    line = spec.line_specs()[spec.line_names()[0]]
    return {"load_h": as_distribution(line.load_h), "crossing_h": as_distribution(line.crossing_h),
            "unload_h": as_distribution(line.unload_h),
            "return_h": as_distribution(line.return_h if line.return_h is not None else line.crossing_h)}


def mean_cycle_h(spec: SeaLinkSpec) -> float:
    """Mean round trip of its first line without storms: load, cross, unload, return."""
    return sum((d.mean for d in _durations(spec).values()), 0.0)


def capacity_t(spec: SeaLinkSpec, rec: NodeRecord, grid: YearGrid) -> np.ndarray:
    """What the fleet would carry in each year with cargo always waiting: for each group of vessels,
    its vessel-hours x its payload over its round trip, mixed over the lines it sailed that year (by
    its round trips on each; its home line in a year without any), plus the chartered vessels'.

    A vessel's load is its payload times the share it takes when it leaves full (shipments are whole lots:
    the next that does not fit waits; :func:`_fill`, measured in the year). A round trip on a line is its
    mean crossing (at the class's speed) and return, the hours its
    vessels held a berth at each end that year (waits for a berth are not capacity), and the expected
    wait for storms at its two departures. Departures are not random instants: each comes one leg
    after the vessel's previous departure, which was made while the line was open (x_out = return +
    load before a crossing, x_back = crossing + unload before a return); the expected wait at a check
    x hours after an open instant is read from the year's own storm calendar of the line,
    :func:`storm_wait_h` (the mean, over the open hours t of the year, of the time from t + x to the
    line's next opening). Storms start as a Poisson process, so what follows an open instant does not
    depend on how that instant was chosen: the calendar's average is the wait a departure meets.
    (The formula before vessel classes took the rate from the year's closed share, for storms that
    start only while open; reading the calendar serves any closure process: overlapping storms,
    monthly rates. tests/validation/test_validation_links.py checks both against the simulation.)"""
    ex = rec.extra
    n = len(grid)
    hours = grid.hours()
    if "groups" not in ex:  # (a record from before vessel classes: no per-line detail)
        return np.full(n, np.nan)
    lines = ex["lines"]
    means = ex["leg_mean_h"]
    storms = [np.frombuffer(s, dtype=np.float64).reshape(-1, 2) if len(s) else np.empty((0, 2))
              for s in ex["line_storms"]]
    ng = len(ex["groups"])
    port = {(g, li): _port_hours(ex, g, li, n, means[li]) for g in range(ng + 1) for li in range(len(lines))}
    bounds = grid.bounds_h
    waits: dict[tuple[int, int, int], tuple[float, float]] = {}

    def cycle(g: int, li: int, y: int, crossing: float) -> float:
        key = (g, li, y)
        lo, un = port[(g, li)][y]
        if key not in waits:
            x_out = means[li]["return_h"] + lo
            x_back = crossing + un
            waits[key] = (storm_wait_h(storms[li], bounds[y], bounds[y + 1], x_out),
                          storm_wait_h(storms[li], bounds[y], bounds[y + 1], x_back))
        w_out, w_back = waits[key]
        if not (math.isfinite(w_out) and math.isfinite(w_back)):
            return math.inf
        return crossing + means[li]["return_h"] + lo + un + w_out + w_back

    out = np.zeros(n)
    for g in range(len(ex["groups"])):
        for y in range(n):
            vessel_h = ex["group_vessel_h"][g][y]
            if vessel_h <= 0:
                continue
            trips = np.array([ex["trips"][g][li][y] for li in range(len(lines))], dtype=float)
            if trips.sum() <= 0:
                trips = np.zeros(len(lines))
                trips[ex["home"][g]] = 1.0
            share = trips / trips.sum()
            reposition = ex["reposition_h"][g][y] / max(float(sum(ex["trips"][g][li][y] for li in range(len(lines)))),
                                                        1.0)
            cyc = sum((share[li] * cycle(g, li, y, ex["crossing_mean_h"][g][li]) for li in range(len(lines))
                       if share[li] > 0), 0.0) + reposition
            load = sum((share[li] * ex["group_payload_t"][g][li][y] * _fill(ex, g, li, y) for li in range(len(lines))
                        if share[li] > 0), 0.0)
            out[y] += vessel_h * load / cyc if cyc > 0 else 0.0
    if "charter_payload_t" in ex:
        li = ex["charter_line"]
        for y in range(n):
            if ex["charter_h"][y] > 0:
                cyc = cycle(ng, li, y, ex["charter_crossing_mean_h"])
                out[y] += ex["charter_h"][y] * ex["charter_payload_t"][y] * _fill(ex, ng, li, y) / cyc
    out[hours <= 0] = 0.0
    return out


def _fill(ex: dict, g: int, li: int, y: int) -> float:
    """The share of its payload a vessel of group ``g`` takes when it leaves full on line ``li`` in year ``y``:
    shipments are whole lots, so a 54-wagon ferry loading 9-wagon lots leaves with 45 when the next does not
    fit (the mean over that year's full departures; 1 in a year without any)."""
    if "full_trips" not in ex:
        return 1.0
    k = ex["full_trips"][g][li][y]
    return ex["full_fill"][g][li][y] / k if k else 1.0


def _port_hours(ex: dict, g: int, li: int, n_years: int, mean: dict) -> list[tuple[float, float]]:
    """Mean hours in port per round trip of a group's vessels on a line, loading and unloading, per
    year: the drawn load_h / unload_h means, or where vessels call at terminals the hours they held a
    berth (waits for a berth are not capacity), measured that year for that group (or the nearest year
    it called there; else the line's vessels of every group, that year or the nearest)."""
    called = ex["line_called"][li]
    out = []
    for side, key in enumerate(("load_call_h", "unload_call_h")):
        leg = "load_h" if side == 0 else "unload_h"
        if not called[side]:
            out.append([mean[leg]] * n_years)
            continue
        per = _per_trip(ex[f"group_{key}"][g][li], ex["trips"][g][li], n_years)
        if all(math.isnan(x) for x in per):
            per = _per_trip(ex[f"line_{key}"][li], ex["line_trips"][li], n_years)
        known = [i for i in range(n_years) if not math.isnan(per[i])]
        out.append([per[i] if not math.isnan(per[i]) else
                    (per[min(known, key=lambda j: abs(j - i))] if known else mean[leg]) for i in range(n_years)])
    return list(zip(out[0], out[1]))


def _per_trip(hours: list[float], trips: list[int], n_years: int) -> list[float]:
    return [hours[i] / trips[i] if trips[i] else math.nan for i in range(n_years)]


def storm_wait_h(closures: np.ndarray, lo: float, hi: float, x: float) -> float:
    """The mean, over the open hours t in [lo, hi), of the wait at t + x until the next opening, for
    sorted closures (an (n, 2) array of (start, end)): the storm wait at a departure check made x
    hours after an open departure, from a year's calendar. Exact for the calendar (piecewise-linear
    integrals, no sampling); inf if no hour of the window is open.

    >>> storm_wait_h(np.array([[10.0, 20.0]]), 0.0, 100.0, 5.0)  # checks at 10..15 h wait 10..5 h: 37.5 / 90 open h
    0.4166666666666667
    """
    c = union_periods(closures) if len(closures) else np.empty((0, 2))
    inside = c[(c[:, 1] > lo) & (c[:, 0] < hi)] if len(c) else c
    closed = float(np.sum(np.minimum(inside[:, 1], hi) - np.maximum(inside[:, 0], lo))) if len(inside) else 0.0
    open_h = (hi - lo) - closed
    if open_h <= 0:
        return math.inf
    if len(c) == 0 or x < 0:
        return 0.0
    # open intervals of [lo, hi)
    starts = [lo] + [float(b) for b in inside[:, 1] if b < hi]
    ends = [float(a) for a in inside[:, 0] if a > lo] + [hi]
    if len(inside) and inside[0, 0] <= lo:
        starts = starts[1:]
    if len(inside) and inside[-1, 1] >= hi:
        ends = ends[:-1]
    total = 0.0
    a_all, b_all = c[:, 0], c[:, 1]
    for o1, o2 in zip(starts, ends):
        if o2 <= o1:
            continue
        s1, s2 = o1 + x, o2 + x  # checks made at s in [s1, s2)
        j0 = int(np.searchsorted(b_all, s1, side="right"))
        for j in range(j0, len(c)):
            a, b = float(a_all[j]), float(b_all[j])
            if a >= s2:
                break
            u, w = max(a, s1), min(b, s2)
            if w > u:  # integral of (b - s) over s in [u, w)
                total += (b - u) ** 2 / 2 - (b - w) ** 2 / 2
    return total / open_h


def _class_payloads_t(spec: SeaLinkSpec, classes: Any) -> list[tuple[float, float]]:
    """(full payload in tonnes, most vessels at once) of each group whose class is known."""
    out = []
    for g in (spec.vessels or {}).values():
        cls = classes.get(g.vessel_class)
        if cls is not None and spec.cargo_unit in cls.payload:
            counts = g.count.values() if isinstance(g.count, dict) else [g.count]
            out.append((cls.payload[spec.cargo_unit] * spec.t_per_unit, float(max(counts))))
    return out


def load_t(spec: SeaLinkSpec, scenario: Any) -> float | None:
    """The load of one vessel: vessel_payload_t, or the mean full payload of its groups weighted by
    their most vessels in service."""
    if spec.vessel_payload_t is not None:
        return float(spec.vessel_payload_t)
    pays = _class_payloads_t(spec, getattr(scenario, "vessel_classes", {}))
    n = sum((c for _, c in pays), 0.0)
    return sum((p * c for p, c in pays), 0.0) / n if n > 0 else None


def check(nid: str, spec: SeaLinkSpec, scenario: Any) -> list[tuple[tuple, str]]:
    """Vessel classes that exist and carry the link's cargo unit; shipments that fit the smallest
    vessel of a class."""
    out: list[tuple[tuple, str]] = []
    classes = scenario.vessel_classes
    names = ", ".join(sorted(classes)) or "(none: add vessel_classes)"
    wanted: list[tuple[tuple, str]] = [(("nodes", nid, "vessels", g, "vessel_class"), grp.vessel_class)
                                       for g, grp in (spec.vessels or {}).items()]
    if spec.charter is not None and spec.charter.vessel_class is not None:
        wanted.append((("nodes", nid, "charter", "vessel_class"), spec.charter.vessel_class))
    for loc, name in wanted:
        cls = classes.get(name)
        if cls is None:
            out.append((loc, f"unknown vessel class '{name}'; expected one of the scenario's vessel_classes: {names}"))
        elif spec.cargo_unit not in cls.payload:
            out.append((loc, f"vessel class '{name}' gives no payload in {spec.cargo_unit} (the link's cargo_unit); "
                        f"it gives {', '.join(cls.payload)}"))
    pays = [p for p, _ in _class_payloads_t(spec, classes)]
    if spec.vessels is not None and pays:
        least = min(pays)
        for sid, st in scenario.streams.items():
            if st.shipment_t > least + _EPS and nid in _route_nodes(st):
                out.append((("streams", sid, "shipment_t"), f"a shipment of {st.shipment_t:g} t does not fit the "
                            f"smallest vessel of node '{nid}' ({least:g} t fully loaded); expected shipment_t <= "
                            f"{least:g}"))
    return out


def _route_nodes(st: Any) -> set[str]:
    out: set[str] = set()
    for step in st.route:
        if isinstance(step, str):
            out.add(step)
        else:
            for chain in step.choice.values():
                out.update(chain)
    return out


def more_vessels(spec: SeaLinkSpec) -> tuple[str, float]:
    """One vessel more: of the largest group (or of ``fleet``)."""
    if spec.vessels is None:
        return ("fleet", 1.0)
    def most(item: tuple[str, Any]) -> float:
        c = item[1].count
        return float(max(c.values()) if isinstance(c, dict) else c)
    name = max(spec.vessels.items(), key=most)[0]
    return (f"vessels.{name}.count", 1.0)


KIND = NodeKind(
    name="sea_link", label="sea link", spec=SeaLinkSpec, engine=SeaLink, capacity_t=capacity_t,
    investable=frozenset({"fleet", "vessels.*.count"}), durations=frozenset({"load_h", "crossing_h", "unload_h",
                                                                              "return_h"}),
    timelines=("fleet", "vessels.*.count"), counts=("fleet", "vessels.*.count"),
    fits=(("vessel_payload_t", "a vessel"),), carrier="vessel_payload_t", carrier_name="a vessel", load_t=load_t,
    check=check, entry=False, after=frozenset({"port"}), calls_at=(("load_at", "before"), ("unload_at", "after")),
    utilisation_check="lower_bound", marker="o", link=True,
    more_capacity=more_vessels,
)
