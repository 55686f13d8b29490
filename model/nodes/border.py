"""Border or customs post: every shipment dwells a drawn time (unlimited lanes).

While a disruption closes the post, shipments wait for it to reopen first.
Utilisation and capacity are not defined (NaN): a border adds time, not a limit.
"""

from __future__ import annotations

from typing import Generator, Literal

from ..distributions import as_distribution
from ..specs import DurationSpec, NodeSpecBase
from .base import Node, Shipment
from .kind import NodeKind, no_capacity


class BorderSpec(NodeSpecBase):
    """Border or customs post: every shipment dwells a drawn time; unlimited lanes."""

    kind: Literal["border"]
    dwell_h: DurationSpec



class Border(Node):
    kind = "border"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.dwell = as_distribution(self.spec.dwell_h)
        self.draw = self.sampler(self.dwell, "dwell_h")
        self._dwell_factor = self.duration_factor.get("dwell_h")

    def visit(self, s: Shipment) -> Generator:
        env, rec, grid = self.env, self.rec, self.grid
        rec.entered_t += s.t
        rec.hops += 1
        arrived = env.now
        if self.factor.at(arrived) <= 0:
            yield from self.wait_factor_open()
        if s.yard is not None:
            self.release_yard(s)
        self.record_wait(env.now - arrived)
        dwell = self.draw()
        if self._dwell_factor is not None:
            dwell *= self._dwell_factor.at(env.now)
        yield env.timeout(dwell)
        rec.exited_t += s.t
        rec.throughput_t[grid.index(env.now)] += s.t

    def expected_delay_h(self, t: float) -> float:
        return self.dwell.mean

    def is_open(self, now: float) -> bool:
        return self.factor.at(now) > 0


KIND = NodeKind(
    name="border", label="border", spec=BorderSpec, engine=Border, capacity_t=no_capacity,
    durations=frozenset({"dwell_h"}), marker="^",
)
