"""What one replication produces: plain per-stream records (tonnes generated, delivered and lost
per year, transit histograms, an optional shipment log) and :class:`RunRecords`, everything a
replication returns (no simpy objects, no live nodes): turning it into tables is
``model.analysis.tables``'s job."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from model.core.histogram import TRANSIT_BINS_DAYS, YearSamples
from model.nodes import NodeRecord
from model.scenario.schema import Scenario
from model.core.specs import NodeSpecBase
from model.core.years import YearGrid


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
class MonthlyRecord:
    """What one replication recorded per calendar month: each node's throughput and mean queue (tonnes
    waiting for service, from a sample at noon each day), each stream's demand, delivered and lost
    tonnes. Hours closed per month are in each node's record (``closed_month_h``)."""

    months: list[tuple[int, int]]
    node_throughput_t: dict[str, list[float]] = field(default_factory=dict)
    node_queue_t: dict[str, list[float]] = field(default_factory=dict)
    stream_demand_t: dict[str, list[float]] = field(default_factory=dict)
    stream_delivered_t: dict[str, list[float]] = field(default_factory=dict)
    stream_lost_t: dict[str, list[float]] = field(default_factory=dict)


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
    monthly: MonthlyRecord | None = None

    def __post_init__(self) -> None:
        for rec in self.streams.values():
            rec.close()
