"""The sea link's scenario spec (a pydantic model): the fleet, its lines and legs, storms, the
terminals its vessels call at, chartering. Its engine and capacity formula are in
:mod:`model.nodes.sealink` (specs live apart from engines: docs/design.md §6).

A fleet is written one of two ways:

* ``fleet`` (a dated count) of vessels of ``vessel_payload_t`` tonnes: identical vessels;
* ``vessels``: groups of vessels of a class of the scenario's ``vessel_classes``
  (``{ropax: {vessel_class: ropax_cnf18c, count: {2024-01-01: 2, 2026-03-31: 3}}}``), each with
  its dated count (the ships ordered, as what they are), the lines it may serve and its home
  line; the link's ``cargo_unit`` and ``t_per_unit`` turn a class's payload into tonnes.

A link serves one line (its own ``load_at``, ``crossing_h`` ... fields), or several (``lines``:
each with its terminals and legs). Which line a shipment waits for is the one whose ``load_at`` is
the terminal it came through. With several lines, ``redeploy`` says how a vessel that may serve
more than one chooses: ``fixed`` (its home line for ever) or ``most_waiting`` (after each delivery,
and when it has waited ``review_h`` without cargo, the line with the most cargo not yet covered by
vessels heading there; a repositioning voyage where the lines do not share an end).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from model.core.limits import MAX_DAYS, MAX_HOURS, MAX_MT_PER_YEAR, MAX_TONNES, Count, Days, Hours, Share, Tonnes, Usd
from model.core.specs import DurationSpec, NodeSpecBase, Problem, Strict, TimelineSpec, count_timeline
from model.core.vessels import CargoUnit
from model.core.weather import StormSpec


class CharterSpec(Strict):
    """Vessels an operator charters when cargo piles up (ASCO chartered 3 extra feeders
    for 5 months in 2025, §3), and releases when the queue has cleared."""

    vessels: Count = Field(description="Most vessels on charter at once")
    queue_t: float = Field(gt=0, le=MAX_MT_PER_YEAR * 1e6, description="Queued tonnes above which the operator "
                           "charters one more")
    lead_days: Days = Field(30.0, description="From the decision to the vessel's first loading")
    min_days: Days = Field(90.0, description="Shortest charter")
    day_rate_usd: Usd | None = Field(None, description="Hire per vessel-day (none: the class's day_rate_usd, "
                                     "else 0)")
    check_days: float = Field(1.0, ge=1 / 24, le=MAX_DAYS, description="How often the operator looks at the queue "
                              "(at least hourly: each look is a simulated event)")
    vessel_class: str | None = Field(None, description="Class of the vessels chartered (from vessel_classes; none: "
                                     "vessels of vessel_payload_t, or the class of the link's first group)")
    line: str | None = Field(None, description="The line they serve (none: the link's first line)")


class VesselGroupSpec(Strict):
    """Vessels of one class in a fleet: how many over time (dated deliveries and withdrawals), the
    lines they may serve and the one they start on."""

    vessel_class: str = Field(description="A class of the scenario's vessel_classes")
    count: TimelineSpec = Field(description="Vessels in service: a number, or {ISO date: number} (deliveries)")
    lines: list[str] | None = Field(None, description="Lines of the link it may serve (none: all)")
    home: str | None = Field(None, description="Line it starts on and keeps under a fixed policy (none: the "
                             "first it may serve)")

    _count = field_validator("count")(count_timeline)


class LineSpec(Strict):
    """One route a fleet sails: the terminals its vessels call at and its legs."""

    load_at: str | None = Field(None, description="Port terminal (node id) where vessels load: a berth call "
                                "of call_h + cargo / handling rate replaces load_h")
    unload_at: str | None = Field(None, description="Port terminal (node id) where vessels unload, in place of "
                                  "unload_h")
    load_h: DurationSpec = 8.0
    crossing_h: DurationSpec = 20.0
    unload_h: DurationSpec = 8.0
    return_h: DurationSpec | None = None
    sea_nm: float | None = Field(None, gt=0, le=20_000, description="Sailing distance (nautical miles): with a "
                                 "class's speed_kn it sets that class's mean crossing (crossing_h keeps its spread)")
    return_cargo_t: float = Field(0.0, ge=0, le=MAX_TONNES, description="Tonnes (or their handling equivalent) "
                                  "carried back on each return leg and handled at both calls; not tracked as cargo")
    return_cargo_share: float = Field(0.0, ge=0, le=10, description="As return_cargo_t, as a share of the load "
                                      "carried out (the boxes that came go back, mostly empty): grows with the vessel")
    storm_share: Share | None = Field(None, description="Chance that a storm of the link's area closes this line "
                                      "(none: the link's storm_share)")


LINE_FIELDS = ("load_at", "unload_at", "load_h", "crossing_h", "unload_h", "return_h", "sea_nm", "return_cargo_t",
               "return_cargo_share")
"""A single-line link's own fields that make its one line (with ``lines`` they belong to each line)."""


class RedeploySpec(Strict):
    """How vessels that may serve several lines choose where to go."""

    policy: Literal["fixed", "most_waiting"] = Field(
        "most_waiting", description="fixed: each vessel keeps its home line; most_waiting: after each delivery "
        "(and after review_h idle) it goes to the line with the most cargo not covered by vessels heading there")
    # (at least a minute: at 0 an idle vessel would look again at the same instant, for ever)
    review_h: float = Field(24.0, ge=1 / 60, le=MAX_HOURS, description="How long a vessel waits without cargo "
                            "before it looks at the other lines again (at least a minute)")
    reposition_h: DurationSpec = Field(12.0, description="A voyage between two lines' ends that they do not "
                                       "share (h)")


class SeaLinkSpec(NodeSpecBase):
    """A fleet shuttling between ports: vessels load at the origin, sail when full or after
    ``max_wait_h`` with cargo aboard, cross, unload, return."""

    kind: Literal["sea_link"]
    fleet: TimelineSpec | None = Field(None, description="Identical vessels in service (with vessel_payload_t); "
                                       "or give vessels")
    vessel_payload_t: Tonnes | None = Field(None, description="Tonnes one vessel carries (with fleet)")
    vessels: dict[str, VesselGroupSpec] | None = Field(
        None, description="The fleet by class: group name -> {vessel_class, count, lines, home}")
    cargo_unit: CargoUnit = Field("t", description="Unit the link's cargo is counted in: a class's payload in this "
                                  "unit x t_per_unit is what a vessel carries")
    t_per_unit: Tonnes = Field(1.0, description="Tonnes in one cargo unit (14 t a TEU, 75 t a wagon)")
    lines: dict[str, LineSpec] | None = Field(None, description="Several lines served by one fleet (none: the "
                                              "link's own load_at, crossing_h ... make its one line)")
    redeploy: RedeploySpec | None = Field(None, description="How vessels allowed on several lines choose one "
                                          "(none: fixed)")
    load_h: DurationSpec = 8.0
    crossing_h: DurationSpec = 20.0
    unload_h: DurationSpec = 8.0
    return_h: DurationSpec | None = None
    sea_nm: float | None = Field(None, gt=0, le=20_000, description="Sailing distance (nautical miles): with a "
                                 "class's speed_kn it sets that class's mean crossing")
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
    return_cargo_share: float = Field(0.0, ge=0, le=10, description="As return_cargo_t, as a share of the load "
                                      "carried out (the boxes that came go back, mostly empty): grows with the vessel")

    _count = field_validator("fleet")(lambda v: v if v is None else count_timeline(v))

    @model_validator(mode="after")
    def _one_fleet(self) -> "SeaLinkSpec":
        old = self.fleet is not None or self.vessel_payload_t is not None
        if self.vessels is not None and old:
            raise ValueError("expected a fleet as either fleet with vessel_payload_t, or vessels (by class), "
                             "got both")
        if self.vessels is None and (self.fleet is None or self.vessel_payload_t is None):
            missing = "vessel_payload_t" if self.fleet is not None else "fleet"
            raise ValueError(f"expected a fleet: fleet with vessel_payload_t (missing {missing}), or vessels "
                             "(groups by class)")
        if self.vessels is not None and not self.vessels:
            raise ValueError("expected at least one group in vessels {name: {vessel_class, count}}")
        if self.lines is not None:
            if not self.lines:
                raise Problem("expected at least one line {name: {load_at, unload_at, ...}}", "lines")
            # (set and not the default: a spec dumped whole and validated again, as the investment check
            # does, carries every field)
            own = sorted(f for f in set(LINE_FIELDS) & self.model_fields_set
                         if getattr(self, f) != type(self).model_fields[f].default)
            if own:
                raise Problem(f"with lines, each line gives its own {', '.join(own)}; expected them under lines, "
                              "not on the link", own[0])
            if len(self.lines) > 1:
                for name, line in self.lines.items():
                    if line.load_at is None:
                        raise Problem("expected load_at: with several lines, the terminal a shipment comes through "
                                      "says which line it waits for", "lines", name, "load_at")
        names = self.line_names()
        for g, group in (self.vessels or {}).items():
            for i, ln in enumerate(group.lines or []):
                if ln not in names:
                    raise Problem(f"unknown line '{ln}'; expected one of: {', '.join(names)}", "vessels", g, "lines", i)
            if group.home is not None and group.home not in (group.lines or names):
                raise Problem(f"expected a home among the lines it may serve ({', '.join(group.lines or names)}), "
                              f"got '{group.home}'", "vessels", g, "home")
        if self.charter is not None and self.charter.line is not None and self.charter.line not in names:
            raise Problem(f"unknown line '{self.charter.line}'; expected one of: {', '.join(names)}", "charter", "line")
        return self

    def line_names(self) -> list[str]:
        """The names of its lines (a single-line link's one line is named ``main``)."""
        return list(self.lines) if self.lines is not None else ["main"]

    def line_specs(self) -> dict[str, LineSpec]:
        """Its lines, a single-line link's made from its own fields."""
        if self.lines is not None:
            return dict(self.lines)
        return {"main": LineSpec(**{f: getattr(self, f) for f in LINE_FIELDS})}

    def terminals(self, field: str) -> list[str]:
        """The terminals its vessels call at to load (``load_at``) or unload (``unload_at``), over its lines."""
        if self.lines is None:
            return super().terminals(field)
        return [t for line in self.lines.values() if (t := getattr(line, field)) is not None]
