"""What the rest of the model knows about a node kind: one :class:`NodeKind` each.

A node kind lives in two modules: ``model/nodes/<kind>_spec.py``, its scenario spec
(a pydantic model), and ``model/nodes/<kind>.py``, its engine class (a
:class:`~model.nodes.base.Node`) and a ``KIND = NodeKind(...)`` that gathers everything
the scenario checks,
the analysis and the plots ask of it: which fields investments and operational
delays may change, which fields are dated or counted, what a shipment must fit,
where it may stand in a route, its annual capacity formula, its service model
for the queueing sanity check, and its plot marker. ``model.nodes`` collects
the ``KIND`` of every module into the registry; a kind not registered there is
an error everywhere (:func:`model.nodes.kind_of`).

The spec is kept apart so that the engine modules hold only plain classes, which mypyc
compiles (docs/design.md §7). Adding a node kind is these two modules and one line in
``model/nodes/__init__.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
import fnmatch
from typing import TYPE_CHECKING, Any, Callable, Generic, Literal, TypeVar

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from model.core.specs import NodeSpecBase
    from model.core.years import YearGrid
    from model.nodes.base import Node, NodeRecord


@dataclass(frozen=True)
class ServiceModel:
    """A node as a queue for the analytic sanity check of one year: ``servers``
    (time-averaged, may be fractional), the handling rate per server in tonnes
    per hour, the squared coefficient of variation of the service time of one
    tonne-unit (0 fixed, 1 exponential), and a fixed part added to every service."""

    servers: float
    rate_t_per_h: float
    unit_scv: float
    fixed_h: float = 0.0
    """Mean fixed part of every service (a call's mooring and papers), hours."""
    fixed_scv: float = 0.0
    """Its squared coefficient of variation."""


SpecT = TypeVar("SpecT", bound="NodeSpecBase")
"""A kind's own spec class: its capacity formula and service model take that spec."""

CapacityFn = Callable[[SpecT, "NodeRecord", "YearGrid"], np.ndarray]
ServiceFn = Callable[[SpecT, "YearGrid", int, float], "ServiceModel | None"]
LoadFn = Callable[[SpecT, Any], "float | None"]
CheckFn = Callable[[str, SpecT, Any], "list[tuple[tuple, str]]"]
StepFn = Callable[[SpecT], "tuple[str, float] | None"]


def no_capacity(spec: "NodeSpecBase", rec: "NodeRecord", grid: "YearGrid") -> np.ndarray:
    """A node that adds time but sets no limit (capacity NaN in every year)."""
    return np.full(len(grid), np.nan)


@dataclass(frozen=True)
class NodeKind(Generic[SpecT]):
    """Everything outside a node kind's own module needs to know about it."""

    name: str
    """The ``kind:`` tag in scenario files (``port``, ``sea_link``...)."""
    label: str
    """How messages and plots name it (``sea link``)."""
    spec: type[SpecT]
    """Its scenario spec: a pydantic model with ``kind: Literal[name]``."""
    engine: type["Node"]
    """Its simpy engine class."""
    capacity_t: CapacityFn[SpecT]
    """Available capacity per year in tonnes (NaN: unlimited), from the resolved
    spec and the run's record: the analysis side of the node."""
    investable: frozenset[str] = frozenset()
    """Fields a dated investment may change (``opening`` opens a closed node)."""
    durations: frozenset[str] = frozenset()
    """Duration fields an operational delay may stretch."""
    timelines: tuple[str, ...] = ()
    """Fields that take ``{ISO date: value}`` steps (checked against the horizon)."""
    counts: tuple[str, ...] = ()
    """Counted fields (berths, vessels): whole numbers, also in investments."""
    fits: tuple[tuple[str, str], ...] = ()
    """(field, what it is) that a shipment must fit (a vessel, a tank, a yard, sidings); a field left
    unset (None) sets no limit."""
    carrier: str | None = None
    """Field holding the load of one vessel or train: cargo leaving this node
    arrives downstream in batches of that size (for the sanity check)."""
    carrier_name: str = "a train"
    """What carries its cargo, for messages ("a vessel", "a train")."""
    load_t: LoadFn[SpecT] | None = None
    """The load of one vessel or train, from the spec and the scenario (where ``carrier`` alone
    does not say it: a fleet of vessel classes); None: read the ``carrier`` field."""
    check: CheckFn[SpecT] | None = None
    """Checks of the node against the rest of the scenario (node id, spec, scenario) -> (field path,
    message) problems: what the schema cannot see (a vessel class that exists, a shipment that fits)."""
    entry: bool = True
    """May a route start here? (Cargo enters at a port, not aboard a vessel.)"""
    after: frozenset[str] | None = None
    """Kinds that may stand just before this one in a route (None: any)."""
    calls_at: tuple[tuple[str, Literal["before", "after"]], ...] = ()
    """Fields naming a port terminal this node's vessels call at, and where that
    terminal must stand in every route through the node: just ``before`` it (where
    vessels load) or just ``after`` it (where they unload)."""
    utilisation_check: Literal["equal", "lower_bound", "none"] = "none"
    """How the sanity check compares utilisation with throughput / capacity:
    equal (busy time is tonnes / rate), a lower bound (part loads), or not at all."""
    service: ServiceFn[SpecT] | None = None
    """The node as a queue in a year, for the waiting-time sanity check (None:
    waiting is not checked)."""
    more_capacity: tuple[str, float] | StepFn[SpecT] | None = None
    """One step more capacity for a marginal run: ``("factor", 1.1)`` multiplies the node's
    capacity all along (a capacity factor: faster berths, more train paths, more flow),
    ``(field, n)`` adds n to a count (``("fleet", 1)``: a vessel more, where 10% of a
    fleet is not a whole vessel). None: the kind has no capacity (borders)."""
    marker: str = "o"
    """Matplotlib marker on the corridor map."""
    link: bool = False
    """Drawn on the corridor map as a line from the nodes before it to those after it
    (a sea crossing, a railway, a pipeline), not as a point (a port, a border)."""

    def carried_t(self, spec: SpecT, scenario: Any) -> float | None:
        """The load of one of its vessels or trains (None: it has none)."""
        if self.load_t is not None:
            return self.load_t(spec, scenario)
        return getattr(spec, self.carrier) if self.carrier else None

    def step_of(self, spec: SpecT) -> tuple[str, float] | None:
        """One step more capacity for a marginal run, for this spec (``more_capacity``)."""
        how = self.more_capacity
        return how(spec) if callable(how) else how

    def allows(self, names: frozenset[str] | tuple[str, ...], field: str) -> bool:
        """Does ``field`` (a dotted path: ``vessels.ropax.count``) match one of ``names`` (``*`` matches
        one name: ``vessels.*.count``)?"""
        return any(field == n or ("*" in n and fnmatch.fnmatchcase(field, n) and
                                  field.count(".") == n.count(".")) for n in names)
