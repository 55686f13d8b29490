"""The port terminal's scenario spec (a pydantic model): what a scenario file may say about a
terminal. Its engine, capacity formula and service model are in :mod:`model.nodes.port`.

Specs live in modules of their own, apart from the engines, so that the engine modules hold
only plain classes (they are compiled with mypyc where a compiler is present) and the specs
stay pydantic models (docs/design.md §6).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from model.core.limits import MAX_CV, MAX_MINUTES, MAX_MT_PER_YEAR, MAX_T_PER_H, MtPerYear, Share, Tonnes
from model.core.specs import DurationSpec, NodeSpecBase, TimelineSpec, WhenFull, count_timeline, room_needed, timeline_up_to
from model.core.vessels import MAX_DEPTH_M
from model.core.weather import StormSpec


TERMINAL_KINDS = ("general", "container", "rail_ferry", "ro_ro", "bulk", "grain", "oil", "rail")


class PortSpec(NodeSpecBase):
    """A port terminal: ``berths`` of one kind, each working cargo at a handling
    rate given one of three ways: ``handling_rate_t_per_h`` per berth;
    ``minutes_per_move`` x ``t_per_move`` (container cranes: one move per
    ``minutes_per_move`` per berth); or ``capacity_mt_per_year`` spread over the
    berths (when the sources state only that)."""

    kind: Literal["port"]
    port: str | None = Field(None, description="The port this terminal belongs to (for grouping in reports)")
    terminal: Literal[TERMINAL_KINDS] = Field("general", description="Kind of terminal")  # type: ignore[valid-type]
    berths: TimelineSpec = 1
    capacity_mt_per_year: TimelineSpec | None = None
    handling_rate_t_per_h: TimelineSpec | None = None
    minutes_per_move: TimelineSpec | None = Field(None, description="Crane minutes per container move, per berth")
    t_per_move: Tonnes | None = Field(None, description="Tonnes per container move (with minutes_per_move)")
    call_h: DurationSpec = Field(0.0, description="Fixed part of every call at a berth: mooring, papers (hours)")
    service: Literal["fixed", "exponential", "lognormal"] = "exponential"
    service_cv: float = Field(0.5, gt=0, le=MAX_CV, description="cv of handling time when service is lognormal")
    yard_limit_t: Tonnes | None = Field(None, description="Yard room for cargo waiting here (t)")
    when_full: WhenFull = Field("wait", description="An arrival to a full yard: wait upstream, or divert")
    storms: str | None = Field(None, description="Sea area (scenario weather) whose storms close this terminal")
    storm_share: Share = Field(1.0, description="Chance that a storm of the area closes this terminal")
    local_storms: StormSpec | None = Field(None, description="Closures of this terminal's own (swell or wind at "
                                           "its berths), on top of its sea area's storms")
    depth_m: TimelineSpec | None = Field(None, description="Water depth at its berths and approach (m), at its "
                                         "sea's datum level (water_level) or as it is; vessel classes that need more "
                                         "load less (none: depth never limits)")
    water_level: str | None = Field(None, description="Sea (scenario water_levels) whose level moves depth_m")
    stated_capacity_mt_per_year: MtPerYear | None = Field(
        None, description="Annual capacity as published: a check against berths x rate, not the mechanism")

    _mt = field_validator("capacity_mt_per_year")(timeline_up_to(MAX_MT_PER_YEAR))
    _rate = field_validator("handling_rate_t_per_h")(timeline_up_to(MAX_T_PER_H))
    _minutes = field_validator("minutes_per_move")(timeline_up_to(MAX_MINUTES))
    _count = field_validator("berths")(count_timeline)
    _depth = field_validator("depth_m")(timeline_up_to(MAX_DEPTH_M))

    _room = model_validator(mode="after")(lambda self: room_needed(self, "yard_limit_t"))

    @model_validator(mode="after")
    def _one_rate(self) -> "PortSpec":
        given = [f for f in ("capacity_mt_per_year", "handling_rate_t_per_h", "minutes_per_move")
                 if getattr(self, f) is not None]
        if len(given) != 1:
            raise ValueError("expected exactly one of capacity_mt_per_year, handling_rate_t_per_h or "
                             f"minutes_per_move (with t_per_move), got {' and '.join(given) or 'none'}")
        if (self.minutes_per_move is None) != (self.t_per_move is None):
            raise ValueError("minutes_per_move and t_per_move go together (t per move x moves per hour)")
        return self
