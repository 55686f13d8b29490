"""Border or customs post: every shipment dwells a drawn time (unlimited lanes).

While a disruption closes the post, shipments wait for it to reopen first.
Utilisation and capacity are not defined (NaN): a border adds time, not a limit.
"""

from __future__ import annotations

from typing import Generator

from ..distributions import as_distribution
from .base import Node, Shipment


class Border(Node):
    kind = "border"

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.dwell = as_distribution(self.spec.dwell_h)
        self.draw = self.sampler(self.dwell, "dwell_h")

    def visit(self, s: Shipment) -> Generator:
        env = self.env
        self.enter(s)
        arrived = env.now
        if self.factor.at(arrived) <= 0:
            yield from self.wait_factor_open()
        self.release_yard(s)
        self.record_wait(env.now - arrived)
        yield env.timeout(self.draw() * self.dfactor("dwell_h"))
        self.leave(s)

    def expected_delay_h(self, t: float) -> float:
        return self.dwell.mean

    def is_open(self, now: float) -> bool:
        return self.factor.at(now) > 0
