"""How cargo chooses at a branch point of its route: a resolved choice (:class:`Choice`: fixed
shares or a logit of generalised cost over queue-aware expected times), the corridor's outside
options (:class:`Outside`), pass-through terminals (:class:`Via`), a stream's gateway steps
(:class:`Gate`), where a route commits to the corridor (:func:`committed_step`), and the logit
arithmetic."""

from __future__ import annotations

import bisect
import math
from functools import partial
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from model.core.clock import Environment
from model.nodes import Node, Shipment
from model.core.rng import Uniforms
from model.scenario.route import Route
from model.scenario.schema import StreamSpec
from model.core.specs import NodeSpecBase


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
        if any(p.node in x.terminals("unload_at") for x in prv):
            out[p.path] = "unload"
        elif any(p.node in x.terminals("load_at") for x in nxt):
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
