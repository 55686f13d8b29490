"""A stream's route as an object: steps, each a node or a choice between chains of nodes.

Scenario files write a route as a list of node ids and choices
(``{choice: {option: [node ids]}, policy, shares}``). Everything that walks a
route asks this one object: the engine (which node comes next), the scenario
checks (unknown ids, loops, what may come before what), the capacity bound
and the sanity check (which share of a stream reaches a node, and from where),
and the corridor map (its edges).

>>> r = Route.of(["a", {"choice": {"x": ["b"], "y": ["c", "d"]}, "shares": {"x": 3, "y": 1}}, "e"])
>>> r.nodes()
['a', 'b', 'c', 'd', 'e']
>>> sorted(r.edges())
[('a', 'b'), ('a', 'c'), ('b', 'e'), ('c', 'd'), ('d', 'e')]
>>> r.reach("d")
(0.25, 'c')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from model.scenario.schema import ChoiceSpec

Path = tuple  # a place in the route, below ``route``: (i,) or (i, "choice", option, j)


class Position(NamedTuple):
    """A node's place in a route and the nodes that can come just before it
    (``None`` standing for the start of the route)."""

    path: Path
    node: str
    before: list[str | None]


@dataclass(frozen=True)
class Step:
    """One step: a single node (one option of one node, no names), or a choice."""

    index: int
    options: tuple[tuple[str, ...], ...]
    names: tuple[str, ...] = ()
    policy: str | None = None
    shares: Mapping[str, float] | None = None
    tariffs: Mapping[str, float] | None = None

    @property
    def is_choice(self) -> bool:
        return bool(self.names)

    def weights(self) -> list[float]:
        """The engine's weight per option under fixed shares (a missing share is 1)."""
        return [float((self.shares or {}).get(n, 1.0)) for n in self.names] if self.is_choice else [1.0]

    def known_shares(self) -> list[tuple[tuple[str, ...], float]] | None:
        """(chain, expected share of the stream) per option, where known in advance:
        a plain node takes everything, fixed shares split by share; a queue-dependent
        policy (least delay) gives None."""
        if not self.is_choice:
            return [(self.options[0], 1.0)]
        if self.policy == "fixed_shares" and self.shares:
            total = sum(self.shares.values())
            return [(chain, self.shares.get(n, 0.0) / total) for n, chain in zip(self.names, self.options)]
        return None

    def assumed_shares(self) -> list[tuple[tuple[str, ...], float]]:
        """Known shares, or equal shares where the split is not known in advance."""
        known = self.known_shares()
        return known if known is not None else [(c, 1.0 / len(self.options)) for c in self.options]


@dataclass(frozen=True)
class Route:
    steps: tuple[Step, ...]

    @classmethod
    def of(cls, route: Any) -> "Route":
        """From a stream spec (anything with ``.route``), or a route list of node
        ids and choices (``ChoiceSpec`` objects or their mappings)."""
        items = route.route if hasattr(route, "route") else route
        steps = []
        for i, step in enumerate(items):
            if isinstance(step, str):
                steps.append(Step(i, ((step,),)))
                continue
            if isinstance(step, Mapping):
                step = ChoiceSpec.model_validate(step)
            steps.append(Step(i, tuple(tuple(c) for c in step.choice.values()), tuple(step.choice), step.policy,
                              dict(step.shares) if step.shares is not None else None,
                              dict(step.tariffs_usd_per_t)))
        return cls(tuple(steps))

    def nodes(self) -> list[str]:
        """Every node id named, once each, in route order."""
        return list(dict.fromkeys(n for step in self.steps for chain in step.options for n in chain))

    def positions(self) -> list[Position]:
        """Every node of the route with its place and possible predecessors."""
        out: list[Position] = []
        prev: list[str | None] = [None]
        for step in self.steps:
            if not step.is_choice:
                out.append(Position((step.index,), step.options[0][0], prev))
                prev = [step.options[0][0]]
                continue
            after: list[str | None] = []
            for name, chain in zip(step.names, step.options):
                p = prev
                for j, n in enumerate(chain):
                    out.append(Position((step.index, "choice", name, j), n, p))
                    p = [n]
                after.extend(p)
            prev = after
        return out

    def edges(self) -> set[tuple[str, str]]:
        """Directed (from, to) pairs of consecutive nodes along any option."""
        return {(b, p.node) for p in self.positions() for b in p.before if b is not None}

    def loops(self) -> list[tuple[Path, str, Path]]:
        """Nodes a shipment could visit twice: (path of the repeat, node, path of the
        first visit). The options of one choice are alternatives, so a node may be
        in several options of the same choice."""
        out = []
        visited: dict[str, Path] = {}
        for step in self.steps:
            new: dict[str, Path] = {}
            for k, chain in enumerate(step.options):
                mine: dict[str, Path] = {}
                for j, n in enumerate(chain):
                    loc = (step.index, "choice", step.names[k], j) if step.is_choice else (step.index,)
                    first = visited.get(n) or mine.get(n)
                    if first is not None:
                        out.append((loc, n, first))
                    else:
                        mine[n] = loc
                        new.setdefault(n, loc)
            for n, loc in new.items():
                visited.setdefault(n, loc)
        return out

    def reach(self, node: str) -> tuple[float, str | None] | None:
        """(share of the stream that reaches ``node``, the node just before it when
        there is exactly one), or None when the route does not visit it. Shares
        of a queue-dependent choice are taken as equal."""
        before_of = {p.node: p.before for p in self.positions()}
        if node not in before_of:
            return None
        share = 0.0
        for step in self.steps:
            for chain, s in step.assumed_shares():
                if node in chain:
                    share = s
        before = before_of[node]
        return share, (before[0] if len(before) == 1 else None)

    def usage(self, known_only: bool = True) -> dict[str, float]:
        """Expected share of the stream passing each node (known splits only, by
        default: nodes behind a queue-dependent choice are left out)."""
        out: dict[str, float] = {}
        for step in self.steps:
            parts = step.known_shares() if known_only else step.assumed_shares()
            for chain, share in parts or []:
                for n in chain:
                    out[n] = out.get(n, 0.0) + share
        return out
