"""Border or customs post: every shipment dwells a drawn time (unlimited lanes).

While a disruption closes the post, shipments wait for it to reopen first.
Utilisation and capacity are not defined (NaN): a border adds time, not a limit.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from model.core.distributions import as_distribution
from model.core.timeline import Timeline
from model.nodes.base import Call, Context, Node, Shipment
from model.nodes.border_spec import BorderSpec
from model.nodes.kind import NodeKind, no_capacity


class Border(Node):
    kind: ClassVar[str] = "border"

    def __init__(self, nid: str, spec: Any, ctx: Context, factor: Timeline,
                 duration_factor: dict[str, Timeline]) -> None:
        super().__init__(nid, spec, ctx, factor, duration_factor)
        self.dwell = as_distribution(self.spec.dwell_h)
        self.draw = self.sampler(self.dwell, "dwell_h")
        self._dwell_factor = self.duration_factor.get("dwell_h")
        self._dwell_mean_h = self.dwell.mean

    def accept(self, s: Shipment) -> None:
        """A shipment arrives: it waits out a closure, frees its upstream yard space,
        and dwells (one kernel event)."""
        self.enter(s)
        self.when_open(self._dwell, (s, self.env.now_h))

    def _dwell(self, arg: tuple[Shipment, float]) -> None:
        s, arrived = arg
        now = self.env.now_h
        if s.yard is not None:
            self.release_yard(s)
        self.record_wait(now - arrived)
        dwell = self.draw()
        if self._dwell_factor is not None:
            dwell *= self._dwell_factor.at(now)
        self.after(dwell, self._out, s)

    def _out(self, call: Call) -> None:
        s = call.value
        self.leave(s)
        self.forward(s)

    def expected_delay_h(self, t: float) -> float:
        return self._dwell_mean_h

    def is_open(self, now: float) -> bool:
        return self.factor.at(now) > 0

    def open_delay_h(self, now: float, t: float) -> float:
        return self._dwell_mean_h if self.factor.at(now) > 0 else math.inf


KIND = NodeKind(
    name="border", label="border", spec=BorderSpec, engine=Border, capacity_t=no_capacity,
    durations=frozenset({"dwell_h"}), marker="^",
)
