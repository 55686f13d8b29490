"""The rail line's scenario spec (a pydantic model): paths or an annual capacity, trains,
sidings. Its engine and capacity formula are in :mod:`model.nodes.rail` (specs live apart from
engines: docs/design.md §6).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from model.core.limits import MAX_MT_PER_YEAR, MAX_PATHS_PER_DAY, Hours, Tonnes
from model.core.specs import DurationSpec, NodeSpecBase, TimelineSpec, WhenFull, exactly_one, room_needed, timeline_up_to


class RailLineSpec(NodeSpecBase):
    """Train paths per day (or an annual capacity converted with the train
    payload); trains leave full, or after ``max_wait_h`` with what is waiting."""

    kind: Literal["rail_line"]
    paths_per_day: TimelineSpec | None = None
    capacity_mt_per_year: TimelineSpec | None = None
    train_payload_t: Tonnes
    transit_h: DurationSpec = 24.0
    opening_date: date | None = None
    max_wait_h: Hours = 24.0
    sidings_t: Tonnes | None = Field(None, description="Siding room for cargo waiting for a train (t)")
    when_full: WhenFull = Field("wait", description="An arrival to full sidings: wait upstream, or divert")

    _paths = field_validator("paths_per_day")(timeline_up_to(MAX_PATHS_PER_DAY))
    _mt = field_validator("capacity_mt_per_year")(timeline_up_to(MAX_MT_PER_YEAR))

    _one_rate = model_validator(mode="after")(lambda self: exactly_one(self, "capacity_mt_per_year", "paths_per_day"))
    _room = model_validator(mode="after")(lambda self: room_needed(self, "sidings_t"))
