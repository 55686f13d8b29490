"""The sea link's scenario spec (a pydantic model): the fleet, its legs, storms, the terminals
its vessels call at, chartering. Its engine and capacity formula are in :mod:`model.nodes.sealink`
(specs live apart from engines: docs/design.md §6).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from model.core.limits import MAX_DAYS, MAX_MT_PER_YEAR, MAX_TONNES, Count, Days, Hours, Share, Tonnes, Usd
from model.core.specs import DurationSpec, NodeSpecBase, Strict, TimelineSpec, count_timeline
from model.core.weather import StormSpec


class CharterSpec(Strict):
    """Vessels an operator charters when cargo piles up (ASCO chartered 3 extra feeders
    for 5 months in 2025, §3), and releases when the queue has cleared."""

    vessels: Count = Field(description="Most vessels on charter at once")
    queue_t: float = Field(gt=0, le=MAX_MT_PER_YEAR * 1e6, description="Queued tonnes above which the operator "
                           "charters one more")
    lead_days: Days = Field(30.0, description="From the decision to the vessel's first loading")
    min_days: Days = Field(90.0, description="Shortest charter")
    day_rate_usd: Usd = Field(0.0, description="Hire per vessel-day")
    check_days: float = Field(1.0, ge=1 / 24, le=MAX_DAYS, description="How often the operator looks at the queue "
                              "(at least hourly: each look is a simulated event)")


class SeaLinkSpec(NodeSpecBase):
    """A fleet shuttling between two ports: vessels load at the origin, sail when
    full or after ``max_wait_h`` with cargo aboard, cross, unload, return."""

    kind: Literal["sea_link"]
    fleet: TimelineSpec
    vessel_payload_t: Tonnes
    load_h: DurationSpec = 8.0
    crossing_h: DurationSpec = 20.0
    unload_h: DurationSpec = 8.0
    return_h: DurationSpec | None = None
    max_wait_h: Hours = 48.0
    storms: StormSpec | str | None = Field(None, description="Storms: inline (this link's own), or the name "
                                           "of a sea area in the scenario's weather (shared with its other links)")
    storm_share: Share = Field(1.0, description="Chance that a storm of the area closes this link")
    load_at: str | None = Field(None, description="Port terminal (node id) where vessels load: a berth call "
                                "of call_h + cargo / handling rate replaces load_h")
    unload_at: str | None = Field(None, description="Port terminal (node id) where vessels unload, in place of unload_h")
    charter: CharterSpec | None = Field(None, description="Vessels chartered when cargo piles up")
    return_cargo_t: float = Field(0.0, ge=0, le=MAX_TONNES, description="Tonnes (or their handling equivalent) carried back on "
                                  "each return leg and handled at both calls; not tracked as cargo")

    _count = field_validator("fleet")(count_timeline)
