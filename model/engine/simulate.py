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
from contextlib import contextmanager
import time
from typing import Callable, Generator, Iterator, Sequence

import numpy as np

from model.engine.demand import month_rates
from model.core.clock import Environment
from model.core.distributions import Exponential, as_distribution, sampler
from model.nodes import Node, Shipment, kind_of
from model.nodes.base import Call, Context, FirstCall, run_timed
from model.nodes.port import depth_timeline
from model.core.rng import RandomStreams, Uniforms
from model.scenario.route import Route, Step
from model.scenario.schema import Scenario, StreamSpec
from model.core.timeline import disruption_factor, duration_factors, resolve_node_specs
from model.core.years import MonthGrid, YearGrid


from model.engine.balance import check_mass_balance
from model.engine.choice import Choice, Gate, Outside, Via, committed_step, logit_draw, passes_through
from model.engine.records import MonthlyRecord, RunRecords, ShipmentLog, StreamRecord


EXPECTED_REFRESH_H = 6.0
"""How often (simulated hours) a stream re-estimates the corridor's expected time for its
shippers' choice: queues build and clear over days, and estimating it for every shipment
cost about a tenth of a replication."""


class Corridor:
    """The network for one replication: nodes, demand sources, journeys."""

    def __init__(self, scenario: Scenario, replication: int = 0, seed: int | None = None,
                 log_shipments: bool = False) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.replication = replication
        self.env = Environment()
        self.grid = YearGrid(scenario.start_date, scenario.end_date)
        self.months = MonthGrid(scenario.start_date, scenario.end_date)
        self.streams = RandomStreams(self.seed, replication)
        self.specs = resolve_node_specs(scenario)
        depths = {nid: d for nid, spec in self.specs.items()
                  if (d := depth_timeline(spec, scenario.start_date, scenario.end_date, scenario.water_levels)) is not None}
        ctx = Context(self.env, self.grid, self.streams, scenario.start_date, scenario.weather,
                      vessel_classes=scenario.vessel_classes, depths=depths, months=self.months,
                      forward=self.advance)
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
        self._t0 = -1.0  # when the run started (perf_counter; -1: not yet)
        self._monthly: tuple[MonthlyRecord, Callable[[], None]] | None = None  # (set when the run starts)
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

    # months ------------------------------------------------------------------

    def _record_months(self) -> tuple[MonthlyRecord, Callable[[], None]]:
        """Each month's throughput (from each node's running total at the month's end, before anything
        else happens at that instant), its mean queue (a sample at noon each day) and each stream's
        demand, delivered and lost tonnes: callbacks that only read, so results are unchanged."""
        m = self.months
        n = len(m)
        rec = MonthlyRecord(m.months)
        nodes = list(self.nodes.items())
        streams = list(self.records.items())
        for nid, _ in nodes:
            rec.node_throughput_t[nid] = [0.0] * n
            rec.node_queue_t[nid] = [0.0] * n
        for sid, _ in streams:
            rec.stream_demand_t[sid] = [0.0] * n
            rec.stream_delivered_t[sid] = [0.0] * n
            rec.stream_lost_t[sid] = [0.0] * n
        samples = [0] * n
        done = [0]  # months recorded
        before: dict[str, float] = {nid: 0.0 for nid, _ in nodes}
        before_s: dict[str, tuple[float, float, float]] = {sid: (0.0, 0.0, 0.0) for sid, _ in streams}
        env = self.env

        def noon(tick: Call) -> None:
            i = m.index(env.now_h)
            samples[i] += 1
            for nid, node in nodes:
                rec.node_queue_t[nid][i] += node.queued_now()
            if env.now_h + 24.0 < m.horizon_h:
                FirstCall(env, 24.0, noon, None)

        def month_end(tick: Call | None) -> None:
            i = done[0]
            done[0] += 1
            for nid, node in nodes:
                total = sum(node.rec.throughput_t, 0.0)
                rec.node_throughput_t[nid][i] = total - before[nid]
                before[nid] = total
                if samples[i]:
                    rec.node_queue_t[nid][i] /= samples[i]
            for sid, sr in streams:
                g, d = sum(sr.generated_t, 0.0), sum(sr.delivered_t, 0.0)
                lost = sum(sr.diverted_t, 0.0) + sum(sr.reneged_t, 0.0) + sum(sr.turned_away_t, 0.0)
                g0, d0, l0 = before_s[sid]
                rec.stream_demand_t[sid][i], rec.stream_delivered_t[sid][i], rec.stream_lost_t[sid][i] = \
                    g - g0, d - d0, lost - l0
                before_s[sid] = (g, d, lost)
            if i + 2 < n:  # (the last month ends at the horizon, after the run)
                FirstCall(env, m.bounds_h[i + 2] - env.now_h, month_end, None)

        def last() -> None:
            if done[0] < n:
                month_end(None)

        FirstCall(env, 12.0, noon, None)
        if n > 1:
            FirstCall(env, m.bounds_h[1], month_end, None)
        return rec, last

    def run(self) -> RunRecords:
        self.run_to(self.grid.horizon_h)
        return self.results()

    def run_to(self, hour: float) -> None:
        """Process every event before ``hour`` (at most the horizon); the run can go on from
        there (a shared prefix: ``model.engine.fork``). Running to A and then to B processes
        the same events in the same order as running to B at once."""
        if self._t0 < 0:
            self._t0 = time.perf_counter()
            self._monthly = self._record_months()
            self.env.process(collect_yearly(self.env, self.grid.bounds_h))
        hour = min(hour, self.grid.horizon_h)
        if hour > self.env.now_h:
            with quiet_collector():
                self.env.run(until=hour)

    def results(self) -> RunRecords:
        """Close the records at the horizon (once run to it) and check the mass balance."""
        assert self._monthly is not None, "results() before run_to()"
        monthly, last_month = self._monthly
        nodes = {nid: n.finish() for nid, n in self.nodes.items()}
        last_month()
        out = RunRecords(self.scenario, self.replication, self.seed, self.grid, dict(self.specs), nodes, self.records,
                         wall_s=time.perf_counter() - self._t0, hops=sum(r.hops for r in nodes.values()),
                         shipments=self._next_id, monthly=monthly)
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


def run_replication(scenario: Scenario, replication: int = 0, seed: int | None = None,
                    log_shipments: bool = False) -> RunRecords:
    """Run one replication of a scenario and return its raw records (``log_shipments``:
    with every delivered shipment in each stream's ``log``)."""
    return Corridor(scenario, replication, seed, log_shipments).run()
