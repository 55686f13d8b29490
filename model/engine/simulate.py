"""Build the network from a scenario, run one replication, return plain records.

The simulation records into plain per-year numbers (see ``nodes.base`` and
``model.core.histogram``) and returns a :class:`RunRecords` holding only plain data
(no simpy objects, no live nodes): turning it into tables is ``model.analysis.tables``'s job. At the end of every run the
mass balance is checked from two independent sets of counters: tonnes
generated and delivered per stream, and tonnes that entered and left each node.
"""

from __future__ import annotations

import bisect
import gc
import heapq
import math
from array import array
from contextlib import contextmanager
from functools import partial
import time
from dataclasses import dataclass, field
from typing import Callable, Final, Generator, Iterator, Sequence

import numpy as np

from model.engine.demand import month_rates
from model.core.clock import Environment
from model.core.distributions import Exponential, as_distribution, sampler
from model.core.histogram import TRANSIT_BINS_DAYS, YearSamples
from model.nodes import Node, NodeRecord, Shipment, kind_of
from model.nodes.base import Call, Context, run_timed
from model.core.rng import RandomStreams, Uniforms
from model.scenario.route import Route, Step
from model.scenario.schema import Scenario, StreamSpec
from model.core.specs import NodeSpecBase
from model.core.timeline import disruption_factor, duration_factors, resolve_node_specs
from model.core.years import YearGrid


EXPECTED_REFRESH_H = 6.0
"""How often (simulated hours) a stream re-estimates the corridor's expected time for its
shippers' choice: queues build and clear over days, and estimating it for every shipment
cost about a tenth of a replication."""


class MassBalanceError(Exception):  # (not RuntimeError: mypyc compiles classes derived from Exception only)
    """Tonnes were created or lost inside the model: a bug, never a user error."""


LOG_COLUMNS: Final = ("tonnes", "created_h", "port_h", "delivered_h")
"""A :class:`ShipmentLog`'s columns (named here: a compiled class has no ``__slots__`` to read)."""


class ShipmentLog:
    """Every delivered shipment of a stream, one row each (``--log-shipments``): tonnes,
    when it was created, reached its first port and was delivered (hours), 8 bytes a
    number in flat arrays. Kept only when asked for: it grows with the shipments."""

    __slots__ = LOG_COLUMNS

    def __init__(self) -> None:
        self.tonnes, self.created_h, self.port_h, self.delivered_h = array("d"), array("d"), array("d"), array("d")

    def __len__(self) -> int:
        return len(self.tonnes)

    def __getstate__(self) -> tuple:
        return self.tonnes, self.created_h, self.port_h, self.delivered_h

    def __setstate__(self, state: tuple) -> None:
        self.tonnes, self.created_h, self.port_h, self.delivered_h = state

    def columns(self) -> dict[str, np.ndarray]:
        """The log as numpy columns (copies)."""
        return {k: np.array(getattr(self, k), dtype=np.float64) for k in LOG_COLUMNS}


@dataclass
class StreamRecord:
    """What one stream recorded in one replication: tonnes generated and delivered
    per year, transit times of its delivered shipments per year (count, exact sum and
    histogram, in days: ``transit`` from where the stream enters, ``port_transit`` from
    the first port reached, ``gateway_transit`` from where it enters to the first of its
    stream's gateway nodes it reached; :mod:`model.core.histogram`), tonnes sent down each
    option, and the shipments one by one only if a ``log`` was asked for."""

    n_years: int
    generated_t: list[float] = field(default_factory=list)
    delivered_t: list[float] = field(default_factory=list)
    transit: YearSamples = field(init=False)
    port_transit: YearSamples = field(init=False)  # from the first port reached
    gateway_transit: YearSamples = field(init=False)  # from the start to the stream's gateway (where it has one)
    branch_t: dict[str, list[float]] = field(default_factory=dict)
    delivered_tkm: list[float] = field(default_factory=list)
    diverted_t: list[float] = field(default_factory=list)  # chose an outside route at generation
    reneged_t: list[float] = field(default_factory=list)  # left a queue when its patience ran out
    turned_away_t: list[float] = field(default_factory=list)  # found a waiting room full (when_full: divert)
    outside_t: dict[str, list[float]] = field(default_factory=dict)  # diverted tonnes by outside option
    log: ShipmentLog | None = None  # every delivered shipment (only with log_shipments)

    def __post_init__(self) -> None:
        self.generated_t = [0.0] * self.n_years
        self.delivered_t = [0.0] * self.n_years
        self.delivered_tkm = [0.0] * self.n_years
        self.diverted_t = [0.0] * self.n_years
        self.reneged_t = [0.0] * self.n_years
        self.turned_away_t = [0.0] * self.n_years
        self.transit = YearSamples(self.n_years, unit_h=24.0, horizon_edges=TRANSIT_BINS_DAYS)
        self.port_transit = YearSamples(self.n_years, unit_h=24.0)
        self.gateway_transit = YearSamples(self.n_years, unit_h=24.0)

    def record_transit(self, y: int, delivered_h: float, created_h: float, port_h: float, t: float,
                       gate_h: float = -1.0) -> None:
        """A shipment of ``t`` tonnes delivered at ``delivered_h`` (in year ``y``): created at
        ``created_h``, reached its first port at ``port_h`` and its stream's gateway at ``gate_h``
        (negative: it passed none; then no gateway transit is recorded)."""
        transit, port = self.transit, self.port_transit
        if y != transit.year:
            transit.roll(y)
            port.roll(y)
        transit.buf.append(delivered_h - created_h)
        port.buf.append(delivered_h - port_h)
        if gate_h >= 0.0:
            gate = self.gateway_transit
            if y != gate.year:
                gate.roll(y)
            gate.buf.append(gate_h - created_h)
        log = self.log
        if log is not None:
            log.tonnes.append(t)
            log.created_h.append(created_h)
            log.port_h.append(port_h)
            log.delivered_h.append(delivered_h)

    def close(self) -> None:
        """Summarise the last buffered year (at the end of the run)."""
        self.transit.close()
        self.port_transit.close()
        self.gateway_transit.close()

    def lost_t(self, y: int) -> float:
        """Tonnes of year ``y`` lost to other routes: diverted, reneged or turned away."""
        return self.diverted_t[y] + self.reneged_t[y] + self.turned_away_t[y]


@dataclass
class RunRecords:
    """Everything one replication produced, before any table is built: plain data only.

    ``specs`` are the node specs with every (delayed) investment folded in, as
    the engine built them; the analysis computes capacities from them and the
    node records (``NodeKind.capacity_t``)."""

    scenario: Scenario
    replication: int
    seed: int
    grid: YearGrid
    specs: dict[str, NodeSpecBase]
    nodes: dict[str, NodeRecord]
    streams: dict[str, StreamRecord]
    wall_s: float = 0.0
    hops: int = 0
    shipments: int = 0  # shipments generated (delivered, lost or still on their way)

    def __post_init__(self) -> None:
        for rec in self.streams.values():
            rec.close()


@dataclass
class Choice:
    """A resolved branch point: options are lists of nodes."""

    names: list[str]
    options: list[list[Node | Via]]
    policy: str
    shares: np.ndarray
    rng: np.random.Generator
    tariffs: np.ndarray | None = None  # logit: USD/t per option
    scale: float = 0.05  # logit: per USD
    vot_per_h: float = 0.0  # logit: the stream's value of time, USD per tonne-hour

    def __post_init__(self) -> None:
        self.draw = Uniforms(self.rng)  # the same draws as rng.random(), in blocks
        self._running: dict[tuple[int, ...], list[float]] = {}
        # the distinct nodes of all options (a node shared by several options, such as the
        # Dostyk-Moyinty line behind three border crossings, is asked once), and each
        # option as positions in that list
        self._nodes: list[Node] = []
        where: dict[int, int] = {}
        self._at: list[list[int]] = []
        for opt in self.options:
            nodes = [n.node if isinstance(n, Via) else n for n in opt]  # (a pass-through asks its node)
            for node in nodes:
                if id(node) not in where:
                    where[id(node)] = len(self._nodes)
                    self._nodes.append(node)
            self._at.append([where[id(node)] for node in nodes])
        self._asks = [n.open_delay_h for n in self._nodes]  # bound once: asked per shipment

    def running_shares(self, open_: list[int]) -> list[float]:
        """Running sums of the fixed shares of the open options, normalised (equal shares if
        theirs are all 0); kept per set of open options, which changes only at openings."""
        key = tuple(open_)
        cum = self._running.get(key)
        if cum is None:
            w = self.shares[open_]
            if w.sum() <= 0:
                w = np.ones(len(open_))
            cum = self._running[key] = np.cumsum(w / w.sum()).tolist()
        return cum

    def option_times(self, now: float, t: float) -> tuple[list[int], list[float]]:
        """The options open now (every node of them open) and each one's queue-aware expected
        time for t tonnes (inf for a closed one)."""
        inf = math.inf
        delay = [ask(now, t) for ask in self._asks]
        open_: list[int] = []
        times: list[float] = []
        for i, at in enumerate(self._at):
            total = 0.0
            for j in at:
                total += delay[j]
            if total != inf:
                open_.append(i)
            times.append(total)
        return open_, times


def logit_shares(cost: np.ndarray, scale: float) -> np.ndarray:
    """Multinomial logit shares of options with generalised costs ``cost`` (USD/t):
    exp(-scale x cost) normalised; infinite cost gets share 0.

    >>> logit_shares(np.array([10.0, 10.0 + np.log(3) / 0.1]), 0.1).round(4)
    array([0.75, 0.25])
    """
    c = np.asarray(cost, dtype=float)
    finite = np.isfinite(c)
    if not finite.any():
        return np.full(len(c), 1.0 / len(c))
    gap = np.where(finite, c - c[finite].min(), 0.0)  # >= 0 where finite: no overflow
    w = np.where(finite, np.exp(-scale * gap), 0.0)
    return w / w.sum()


def logit_weights(cost: Sequence[float], scale: float) -> list[float] | None:
    """The running sums of the logit weights exp(-scale x (cost - lowest)) of options with
    generalised costs ``cost`` (an infinite cost weighs 0); None if every cost is infinite.
    Plain Python: it runs on two or three options, where numpy's per-call overhead would
    cost more than the arithmetic."""
    finite = [c for c in cost if c != math.inf]
    if not finite:
        return None
    low = min(finite)
    acc, out = 0.0, []
    for c in cost:
        acc += math.exp(-scale * (c - low)) if c != math.inf else 0.0
        out.append(acc)
    return out


def logit_pick(cum: list[float] | None, n: int, u: float) -> int:
    """The option a uniform draw ``u`` picks, given :func:`logit_weights`' running sums
    (None: all infinite, then uniformly among the ``n`` options)."""
    if cum is None:
        return min(int(u * n), n - 1)
    return min(bisect.bisect_right(cum, u * cum[-1]), n - 1)


def logit_draw(cost: Sequence[float], scale: float, u: float) -> int:
    """The option a uniform draw ``u`` picks under the logit shares of ``cost``.

    >>> logit_draw([10.0, 10.0 + math.log(3) / 0.1], 0.1, 0.74), logit_draw([10.0, 20.0], 0.1, 0.99)
    (0, 1)
    """
    return logit_pick(logit_weights(cost, scale), len(cost), u)


@dataclass
class Outside:
    """A stream's choice at generation: the corridor (tariff + value of time x the
    corridor's expected time) against its outside options (tariff + value of time
    x their transit time), by a logit of these generalised costs."""

    names: list[str]
    costs: list[float]  # USD/t of each outside option
    tariff: float  # the corridor's tariff, USD/t
    vot_per_h: float
    scale: float
    draw: Callable[[], float]  # uniform draws
    _at_h: float = math.nan  # the corridor time the weights below are for
    _cum: list[float] | None = None

    @classmethod
    def of(cls, spec: StreamSpec, rng: np.random.Generator) -> "Outside":
        vot = spec.value_of_time_usd_per_t_day
        names = list(spec.outside)
        costs = [o.tariff_usd_per_t + vot * o.transit_days for o in spec.outside.values()]
        return cls(names, costs, spec.tariff_usd_per_t, vot / 24.0, spec.logit_scale_per_usd, Uniforms(rng))

    def choose(self, corridor_h: float) -> str | None:
        """None for the corridor, else the outside option chosen. The weights change only
        when the corridor's expected time is re-estimated, so they are kept until then."""
        if corridor_h != self._at_h:
            self._at_h = corridor_h
            self._cum = logit_weights([self.tariff + self.vot_per_h * corridor_h, *self.costs], self.scale)
        i = logit_pick(self._cum, len(self.costs) + 1, self.draw())
        return None if i == 0 else self.names[i - 1]


class Via:
    """A node visited by ``pass_through`` (its work is a neighbour's vessel call)."""

    __slots__ = ("accept", "km", "node")

    def __init__(self, node: Node, counted: bool) -> None:
        self.accept: Callable[[Shipment], None] = partial(node.pass_through, counted=counted)
        self.km, self.node = node.km, node

    def is_open(self, now: float) -> bool:
        return self.node.is_open(now)

    def opens_at(self) -> float | None:
        return self.node.opens_at()

    def expected_delay_h(self, t: float) -> float:
        return self.node.expected_delay_h(t)


class Gate(Via):
    """A stream's gateway node (``gateway:`` in its spec: a Black Sea quay, an EU port, the
    Turkish border): marks the hour a shipment first reaches one (``Shipment.gate_h``), then
    hands it to the node as it would have been (its own ``accept``, or a pass-through). Only
    the gateway steps of a route are wrapped, so the other hops cost nothing more."""

    __slots__ = ("inner", "env")

    def __init__(self, inner: Node | Via, env: Environment) -> None:
        self.node = inner.node if isinstance(inner, Via) else inner
        self.km = inner.km
        self.inner: Callable[[Shipment], None] = inner.accept
        self.env = env
        self.accept = self.mark

    def mark(self, s: Shipment) -> None:
        if s.gate_h < 0.0:
            s.gate_h = self.env.now_h
        self.inner(s)


def passes_through(route: Route, specs: dict[str, NodeSpecBase]) -> dict[tuple, str]:
    """Route positions (paths) of terminals that a neighbouring sea link loads at
    (the link comes next: "load") or unloads at (it came just before: "unload"):
    there the shipment passes through and the vessel's call does the work."""
    after: dict[str, list[str]] = {}
    for p in route.positions():
        for b in p.before:
            if b is not None:
                after.setdefault(b, []).append(p.node)
    out: dict[tuple, str] = {}
    for p in route.positions():
        nxt = [specs[n] for n in after.get(p.node, [])]
        prv = [specs[b] for b in p.before if b is not None]
        if any(getattr(x, "unload_at", None) == p.node for x in prv):
            out[p.path] = "unload"
        elif any(getattr(x, "load_at", None) == p.node for x in nxt):
            out[p.path] = "load"
    return out


def committed_step(route: Route, specs: dict[str, NodeSpecBase]) -> int:
    """The plan step a shipment of this route has reached once its first sea crossing (a plain
    step of the route that is a sea link) has carried it: from there its patience no longer
    sends it to an outside route. A box waiting at Poti for a Black Sea feeder does not go back to
    China for the Northern route; congestion beyond the crossing is answered by the shippers' choice
    when cargo is offered (the corridor's expected time counts those queues). A route without a
    plain sea-link step: never (a large number)."""
    for step in route.steps:
        if not step.is_choice and specs[step.options[0][0]].kind == "sea_link":
            return step.index + 2  # (at the link itself the next step is index + 1)
    return 1 << 30


class Corridor:
    """The network for one replication: nodes, demand sources, journeys."""

    def __init__(self, scenario: Scenario, replication: int = 0, seed: int | None = None,
                 log_shipments: bool = False) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.replication = replication
        self.env = Environment()
        self.grid = YearGrid(scenario.start_date, scenario.end_date)
        self.streams = RandomStreams(self.seed, replication)
        ctx = Context(self.env, self.grid, self.streams, scenario.start_date, scenario.weather, forward=self.advance)
        self.specs = resolve_node_specs(scenario)
        self.nodes: dict[str, Node] = {
            nid: kind_of(spec.kind).engine(nid, spec, ctx, disruption_factor(scenario, nid),
                                           duration_factors(scenario, nid))
            for nid, spec in self.specs.items()
        }
        for node in self.nodes.values():
            node.link(self.nodes)
        self.records = {sid: StreamRecord(len(self.grid), log=ShipmentLog() if log_shipments else None)
                        for sid in scenario.streams}
        self._next_id = 0
        # per stream, the plan step a shipment has reached once a sea crossing has carried it (see _renege)
        self._committed: list[int] = []
        self._deadlines: list[tuple[float, int, Shipment]] = []  # patience: (deadline_h, id, shipment), a heap
        self._renege_at = math.inf  # when the pending patience callback runs
        for k, (sid, st) in enumerate(scenario.streams.items()):
            route = Route.of(st)
            self._passes = passes_through(route, self.specs)
            self._gateways = frozenset(st.gateway)
            plan = [self._step(step, sid) for step in route.steps]
            self._committed.append(committed_step(route, self.specs))
            run_timed(self.env, self._source(k, sid, st, plan))

    def _via(self, path: tuple, nid: str) -> Node | Via:
        node = self.nodes[nid]
        step: Node | Via = node if path not in self._passes else Via(node, counted=self._passes[path] == "unload")
        return Gate(step, self.env) if nid in self._gateways else step

    def _step(self, step: Step, sid: str) -> Node | Via | Choice:
        if not step.is_choice:
            return self._via((step.index,), step.options[0][0])
        st = self.scenario.streams[sid]
        return Choice(list(step.names),
                      [[self._via((step.index, "choice", name, j), n) for j, n in enumerate(chain)]
                       for name, chain in zip(step.names, step.options)],
                      step.policy or "fixed_shares", np.array(step.weights(), dtype=float),
                      self.streams.rng(f"choice:{sid}:{step.index}"),
                      np.array([(step.tariffs or {}).get(n, 0.0) for n in step.names], dtype=float),
                      st.logit_scale_per_usd, st.value_of_time_usd_per_t_day / 24.0)

    # demand ------------------------------------------------------------------

    def _source(self, k: int, sid: str, spec: StreamSpec, plan: list) -> Iterator[float]:
        """Poisson shipments month by month (run by ``run_timed``: it yields the hours to
        wait). With a transit response, arrivals come at the capped rate and each is
        offered with probability factor / cap (thinning); with outside options, an
        offered shipment may take one of them instead."""
        env = self.env
        rec = self.records[sid]
        draw = Exponential(dist="exponential", mean=1.0)
        unit_exp = sampler(draw, self.streams.rng(f"arrivals:{sid}"))
        steps = tuple(plan)
        size_t, generated, index = spec.shipment_t, rec.generated_t, self.grid.index
        advance = self.advance
        outside = Outside.of(spec, self.streams.rng(f"outside:{sid}")) if spec.outside else None
        patience = (sampler(as_distribution(spec.patience_days), self.streams.rng(f"patience:{sid}"))
                    if spec.patience_days is not None else None)
        response = spec.transit_response
        offered = response.factor if response is not None else None  # volume factor at an expected transit
        boost = response.max_factor if response is not None else 1.0
        thin = Uniforms(self.streams.rng(f"response:{sid}"))
        seen_at, corridor_h = -math.inf, 0.0  # when the corridor's expected time was last estimated
        for month in month_rates(spec, self.scenario.start_date, self.scenario.end_date):
            if env.now_h < month.start_h:
                yield month.start_h - env.now_h
            if month.shipments_per_h <= 0:
                continue
            rate = month.shipments_per_h * boost
            while True:
                gap = unit_exp() / rate
                if env.now_h + gap >= month.end_h:  # memoryless: restart at the next month's rate
                    break
                yield gap
                if (outside is not None or offered is not None) and env.now_h - seen_at >= EXPECTED_REFRESH_H:
                    seen_at, corridor_h = env.now_h, self._expected_h(steps, size_t)  # queues move over days
                if offered is not None and thin() * boost >= offered(corridor_h / 24.0):
                    continue  # not offered: the corridor is too slow for this much cargo
                s = Shipment(self._next_id, k, size_t, env.now_h, steps, rec)
                self._next_id += 1
                generated[index(env.now_h)] += size_t
                if outside is not None:
                    gone_to = outside.choose(corridor_h)
                    if gone_to is not None:  # the shipper books another route
                        y = index(env.now_h)
                        rec.diverted_t[y] += size_t
                        per_year = rec.outside_t.get(gone_to)
                        if per_year is None:
                            per_year = rec.outside_t[gone_to] = [0.0] * len(self.grid)
                        per_year[y] += size_t
                        continue
                if patience is not None:
                    self._patience(s, env.now_h + patience() * 24.0)
                advance(s)

    def _patience(self, s: Shipment, deadline_h: float) -> None:
        """``s`` leaves any queue it still waits in at ``deadline_h``. Deadlines are kept in
        one heap with a single pending callback at the earliest: most shipments are
        delivered before their patience runs out, and a timer each would cost a kernel
        event each."""
        heapq.heappush(self._deadlines, (deadline_h, s.sid, s))
        if deadline_h < self._renege_at:
            self._renege_at = deadline_h
            Call(self.env, deadline_h - self.env.now_h, self._reneges, deadline_h)

    def _reneges(self, call: Call) -> None:
        """Patience runs out for every shipment due by now; then wait for the earliest
        deadline of a shipment still on its way (delivered or lost ones are dropped)."""
        if call.value != self._renege_at:
            return  # superseded by an earlier deadline, which has run
        now, heap = self.env.now_h, self._deadlines
        while heap and heap[0][0] <= now:
            self._renege(heapq.heappop(heap)[2])
        while heap and (heap[0][2].gone or heap[0][2].delivered):
            heapq.heappop(heap)
        self._renege_at = heap[0][0] if heap else math.inf
        if heap:
            Call(self.env, self._renege_at - now, self._reneges, self._renege_at)

    def _renege(self, s: Shipment) -> None:
        """Patience ran out: a shipment still waiting in a queue leaves the corridor, unless a sea
        crossing has already carried it (:func:`committed_step`)."""
        rec: StreamRecord = s.rec
        node = s.waiting
        if node is None or s.gone:
            return  # moving, in service, aboard, or delivered: it stays
        if s.step >= self._committed[s.stream]:
            return  # across the sea: it waits
        node.renege(s)
        if s.yard is not None:
            Node.release_yard(s)
        rec.reneged_t[self.grid.index(self.env.now_h)] += s.t

    def _expected_h(self, steps: tuple, t: float) -> float:
        """The corridor's queue-aware expected time for a shipment of t tonnes now
        (at a choice, the quickest open option), in hours."""
        now, total = self.env.now_h, 0.0
        for step in steps:
            if step.__class__ is Choice:
                open_, times = step.option_times(now, t)
                total += min(times[i] for i in open_) if open_ else math.inf
            else:
                total += step.expected_delay_h(t)
        return total

    # journeys ----------------------------------------------------------------

    def _choose(self, choice: Choice, t: float) -> tuple[str, list[Node | Via]]:
        """Pick a branch: only open branches; if none is open, the one opening first."""
        now = self.env.now_h
        open_, times = choice.option_times(now, t)
        if not open_:
            def opens(i: int) -> float:
                hs = [n.opens_at() for n in choice.options[i]]
                return math.inf if any(h is None for h in hs) else max(h for h in hs if h is not None)
            i = min(range(len(choice.options)), key=opens)
            return choice.names[i], choice.options[i]
        if choice.policy == "least_delay":
            i = min(open_, key=lambda j: times[j])
        elif choice.policy == "logit":
            assert choice.tariffs is not None
            cost = [float(choice.tariffs[j]) + choice.vot_per_h * times[j] for j in open_]
            i = open_[logit_draw(cost, choice.scale, choice.draw())]
        else:
            i = open_[min(bisect.bisect_right(choice.running_shares(open_), choice.draw()), len(open_) - 1)]
        return choice.names[i], choice.options[i]

    def advance(self, s: Shipment) -> None:
        """Hand ``s`` to the next node of its route (choosing a branch where the route
        splits), or deliver it at the route's end. Nodes call this when a shipment is
        done with them; one that a full waiting room turned away arrives marked gone.
        (A reneged shipment is never handed on.)"""
        if s.gone:
            self._turned_away(s)
            return
        rest = s.rest
        if rest:
            node = rest.pop()
        else:
            plan = s.plan
            i = s.step
            if i == len(plan):
                self._deliver(s)
                return
            s.step = i + 1
            node = plan[i]
            if node.__class__ is Choice:
                name, nodes = self._choose(node, s.t)
                per_year = s.rec.branch_t.get(name)
                if per_year is None:
                    per_year = s.rec.branch_t[name] = [0.0] * len(self.grid)
                per_year[self.grid.index(self.env.now_h)] += s.t
                rest = s.rest = nodes[::-1]
                node = rest.pop()
        s.km += node.km
        node.accept(s)  # (the first port terminal to take s marks its port_h)

    def _deliver(self, s: Shipment) -> None:
        """The end of the route: record the transit from the route's start, from the first
        port reached (the Kazakh port for cargo that enters at the Chinese border; the same as
        the transit for cargo that enters at a port), and to the stream's gateway (where it
        declares one and the shipment passed it)."""
        if s.yard is not None:
            Node.release_yard(s)
        now = self.env.now_h
        y = self.grid.index(now)
        rec = s.rec
        s.delivered = True
        rec.delivered_t[y] += s.t
        rec.delivered_tkm[y] += s.t * s.km
        rec.record_transit(y, now, s.created_h, s.port_h if s.port_h >= 0 else s.created_h, s.t, s.gate_h)

    def _turned_away(self, s: Shipment) -> None:
        """A shipment found a waiting room full and left the corridor: free what it held upstream."""
        if s.yard is not None:
            Node.release_yard(s)
        s.rec.turned_away_t[self.grid.index(self.env.now_h)] += s.t

    # running -----------------------------------------------------------------

    def run(self) -> RunRecords:
        t0 = time.perf_counter()
        self.env.process(collect_yearly(self.env, self.grid.bounds_h))
        with quiet_collector():
            self.env.run(until=self.grid.horizon_h)
        nodes = {nid: n.finish() for nid, n in self.nodes.items()}
        out = RunRecords(self.scenario, self.replication, self.seed, self.grid, dict(self.specs), nodes, self.records,
                         wall_s=time.perf_counter() - t0, hops=sum(r.hops for r in nodes.values()),
                         shipments=self._next_id)
        check_mass_balance(out)
        return out


@contextmanager
def quiet_collector(threshold: int = 50_000) -> Iterator[None]:
    """Run with the garbage collector's young-generation threshold raised and what
    was built so far frozen out of its scans, then restore both. A saturated corridor
    holds tens of thousands of queued shipment processes, which the default collector
    rescans again and again (a run at demand x4 took twice as long); the simulation
    makes few reference cycles, so collecting less often changes nothing but time."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(threshold, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def collect_yearly(env: Environment, bounds_h: Sequence[float]) -> Generator:
    """A full garbage collection at each year boundary: under :func:`quiet_collector` a full
    collection may never come in a replication, so reference cycles (a callback that holds
    its node; before shipments were data, a reneged shipment's suspended process: 6 MB in
    the 28-year baseline) would pile up with the horizon. Each collection takes about 3 ms
    (what was built before the run is frozen out of its scans) and runs no model code, so
    results are the same."""
    for h in bounds_h[1:-1]:
        yield env.timeout(h - env.now_h)
        gc.collect()


def check_mass_balance(r: RunRecords, rel_tol: float = 1e-6) -> None:
    """generated = delivered + in system (by node) + diverted, reneged or turned away, from independent counters."""
    # (sums of floats start at 0.0, the same sums as from 0: compiled, an int start would be enforced)
    generated = sum((sum(s.generated_t, 0.0) for s in r.streams.values()), 0.0)
    delivered = sum((sum(s.delivered_t, 0.0) for s in r.streams.values()), 0.0)
    in_nodes = sum((n.in_system_t() for n in r.nodes.values()), 0.0)
    lost = sum((sum(s.diverted_t, 0.0) + sum(s.reneged_t, 0.0) + sum(s.turned_away_t, 0.0)
                for s in r.streams.values()), 0.0)
    gap = generated - delivered - in_nodes - lost
    if abs(gap) > rel_tol * max(generated, 1.0):
        raise MassBalanceError(
            f"mass balance violated: generated {generated:.3f} t, delivered {delivered:.3f} t, "
            f"in system {in_nodes:.3f} t, diverted, reneged or turned away {lost:.3f} t, gap {gap:.3f} t"
        )


def run_replication(scenario: Scenario, replication: int = 0, seed: int | None = None,
                    log_shipments: bool = False) -> RunRecords:
    """Run one replication of a scenario and return its raw records (``log_shipments``:
    with every delivered shipment in each stream's ``log``)."""
    return Corridor(scenario, replication, seed, log_shipments).run()
