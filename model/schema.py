"""The scenario schema: what a resolved scenario holds (pydantic models).

Nodes and streams are mappings keyed by id; every capacity-like value is a
number or a dated timeline; durations are numbers or distributions. Field
validators blame a bad value precisely (``_Problem.at``) so the messages of
:mod:`model.scenario` can name the date key or option at fault.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from datetime import date
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .distributions import Distribution, as_distribution


# A capacity-like value: a number, or {ISO date: value} steps.
TimelineSpec = Union[float, dict[date, float]]
DurationSpec = Union[float, Distribution]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Problem(ValueError):
    """Raised by a validator to blame one part of its value: ``at`` extends the
    field path of the error (a date key of a timeline, the ``shares`` of a choice)."""

    def __init__(self, message: str, *at: Any) -> None:
        super().__init__(message)
        self.at = at


def _non_negative(v: float | dict, key: str, what: str) -> float | dict:
    """A number >= 0, or a non-empty mapping (``key`` -> number) of numbers >= 0;
    a bad step is blamed on its key."""
    if isinstance(v, dict):
        if not v:
            raise ValueError(f"expected a number or at least one {{{key}: number}}, got an empty mapping")
        for k, x in v.items():
            if x < 0:
                raise _Problem(f"expected {what} >= 0, got {x:g}", k)
    elif v < 0:
        raise ValueError(f"expected {what} >= 0, got {v:g}")
    return v


def _non_negative_timeline(v: TimelineSpec) -> TimelineSpec:
    return _non_negative(v, "ISO date", "a value")


def _count_timeline(v: TimelineSpec) -> TimelineSpec:
    """Berths and vessels are counted, not measured: whole numbers >= 0 (a
    fraction would be silently rounded by the engine)."""
    _non_negative_timeline(v)
    for d, x in (v.items() if isinstance(v, dict) else [(None, v)]):
        if x != int(x):
            msg = f"expected a whole number (a count of berths or vessels), got {x:g}"
            raise _Problem(msg, d) if d is not None else ValueError(msg)
    return v


def _exactly_one(spec: BaseModel, a: str, b: str) -> BaseModel:
    """A rate given one way or the other, never both or neither."""
    if (getattr(spec, a) is None) == (getattr(spec, b) is None):
        got = "both" if getattr(spec, a) is not None else "neither"
        raise ValueError(f"expected exactly one of {a} or {b}, got {got}")
    return spec


class _NodeBase(_Strict):
    name: str | None = Field(None, description="Display name")
    lon: float | None = Field(None, description="Longitude, for the corridor schematic")
    lat: float | None = Field(None, description="Latitude, for the corridor schematic")


class PortSpec(_NodeBase):
    """A port terminal: ``berths`` parallel handling positions, each handling
    cargo at ``handling_rate_t_per_h`` (or the rate implied by
    ``capacity_mt_per_year`` spread over the berths)."""

    kind: Literal["port"]
    berths: TimelineSpec = 1
    capacity_mt_per_year: TimelineSpec | None = None
    handling_rate_t_per_h: TimelineSpec | None = None
    service: Literal["fixed", "exponential", "lognormal"] = "exponential"
    service_cv: float = Field(0.5, gt=0, description="cv of handling time when service is lognormal")
    yard_limit_t: float | None = Field(None, gt=0)

    _nonneg = field_validator("capacity_mt_per_year", "handling_rate_t_per_h")(
        lambda v: v if v is None else _non_negative_timeline(v)
    )
    _count = field_validator("berths")(_count_timeline)

    _one_rate = model_validator(mode="after")(lambda self: _exactly_one(self, "capacity_mt_per_year", "handling_rate_t_per_h"))


class StormSpec(_Strict):
    """Episodic closures: events arrive as a Poisson process with a rate per
    calendar month (one number, or 12 numbers Jan..Dec), each lasting a drawn
    number of days. No vessel departs while the link is closed."""

    events_per_month: float | list[float]
    duration_days: DurationSpec

    @field_validator("events_per_month")
    @classmethod
    def _twelve(cls, v: float | list[float]) -> float | list[float]:
        if isinstance(v, list):
            if len(v) != 12:
                raise ValueError(f"expected one rate or 12 monthly rates (January to December), got {len(v)} rates")
            for i, x in enumerate(v):
                if x < 0:
                    raise _Problem(f"expected a rate >= 0, got {x:g}", i)
        elif v < 0:
            raise ValueError(f"expected a rate >= 0, got {v:g}")
        return v


class SeaLinkSpec(_NodeBase):
    """A fleet shuttling between two ports: vessels load at the origin, sail when
    full or after ``max_wait_h`` with cargo aboard, cross, unload, return."""

    kind: Literal["sea_link"]
    fleet: TimelineSpec
    vessel_payload_t: float = Field(gt=0)
    load_h: DurationSpec = 8.0
    crossing_h: DurationSpec = 20.0
    unload_h: DurationSpec = 8.0
    return_h: DurationSpec | None = None
    max_wait_h: float = Field(48.0, ge=0)
    storms: StormSpec | None = None

    _count = field_validator("fleet")(_count_timeline)


class RailLineSpec(_NodeBase):
    """Train paths per day (or an annual capacity converted with the train
    payload); trains leave full, or after ``max_wait_h`` with what is waiting."""

    kind: Literal["rail_line"]
    paths_per_day: TimelineSpec | None = None
    capacity_mt_per_year: TimelineSpec | None = None
    train_payload_t: float = Field(gt=0)
    transit_h: DurationSpec = 24.0
    opening_date: date | None = None
    max_wait_h: float = Field(24.0, ge=0)

    _nonneg = field_validator("paths_per_day", "capacity_mt_per_year")(
        lambda v: v if v is None else _non_negative_timeline(v)
    )

    _one_rate = model_validator(mode="after")(lambda self: _exactly_one(self, "capacity_mt_per_year", "paths_per_day"))


class PipelineSpec(_NodeBase):
    """Continuous flow available to this cargo, fed from a tank buffer."""

    kind: Literal["pipeline"]
    flow_mt_per_year: TimelineSpec
    tank_t: float = Field(gt=0)
    transit_h: DurationSpec = 0.0

    _nonneg = field_validator("flow_mt_per_year")(_non_negative_timeline)


class BorderSpec(_NodeBase):
    """Border or customs post: every shipment dwells a drawn time; unlimited lanes."""

    kind: Literal["border"]
    dwell_h: DurationSpec


NodeSpec = Annotated[
    Union[PortSpec, SeaLinkSpec, RailLineSpec, PipelineSpec, BorderSpec], Field(discriminator="kind")
]


class ChoiceSpec(_Strict):
    """A route's branch point: each option is a sub-route of node ids."""

    choice: dict[str, list[str]]
    policy: Literal["fixed_shares", "least_delay"] = "fixed_shares"
    shares: dict[str, float] | None = None

    @model_validator(mode="after")
    def _shares(self) -> "ChoiceSpec":
        names = ", ".join(self.choice)
        if len(self.choice) < 2:
            raise _Problem(f"expected at least two options {{option: [node ids]}}, "
                           f"got {len(self.choice)} ({names or 'none'})", "choice")
        for opt, nodes in self.choice.items():
            if not nodes:
                raise _Problem("expected at least one node id in this option, got an empty list", "choice", opt)
        if self.policy == "fixed_shares" and self.shares is None:
            raise _Problem(f"policy fixed_shares (the default) needs shares {{option: share}} for options {names}; "
                           "add shares or set policy: least_delay", "shares")
        if self.shares is not None:
            for opt in self.shares:
                if opt not in self.choice:
                    close = difflib.get_close_matches(opt, list(self.choice), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    raise _Problem(f"share for unknown option '{opt}'{hint}; expected one of the options: {names}",
                                   "shares", opt)
            for opt, x in self.shares.items():
                if x < 0:
                    raise _Problem(f"expected a share >= 0, got {x:g}", "shares", opt)
            if sum(self.shares.values()) <= 0:
                raise _Problem("expected shares that are not all zero", "shares")
        return self


class StreamSpec(_Strict):
    """A demand stream: annual volume by year (linear between given years,
    constant outside), cut into shipments, Poisson arrivals."""

    commodity: str
    volume_mt_per_year: float | dict[int, float]
    shipment_t: float = Field(gt=0)
    seasonality: list[float] | None = None
    route: list[Union[str, ChoiceSpec]]
    background: bool = Field(
        False, description="Other traffic sharing the nodes; left out of corridor totals"
    )

    @field_validator("volume_mt_per_year")
    @classmethod
    def _nonneg(cls, v: float | dict[int, float]) -> float | dict[int, float]:
        return _non_negative(v, "year", "a volume")

    @field_validator("seasonality")
    @classmethod
    def _season(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        if len(v) != 12:
            raise ValueError(f"expected 12 monthly factors (January to December), got {len(v)}")
        for i, x in enumerate(v):
            if x < 0:
                raise _Problem(f"expected a factor >= 0, got {x:g}", i)
        if sum(v) <= 0:
            raise ValueError("expected monthly factors that are not all zero")
        return v

    @field_validator("route")
    @classmethod
    def _route(cls, v: list) -> list:
        if not v:
            raise ValueError("expected at least one node id, got an empty route")
        return v


class Investment(_Strict):
    """A dated change to one field of one node (set, add or multiply)."""

    id: str
    node: str
    field: str
    value: float = 0.0
    change: Literal["set", "add", "mul"] = "set"
    date: date
    cost_musd: float | None = Field(None, ge=0)
    tags: list[str] = []
    source: str | None = None


class ProjectDelay(_Strict):
    """Shift every investment whose id or one of whose tags is ``match``."""

    match: str
    months: float


class OperationalDelay(_Strict):
    """Multiply a duration of a node (e.g. border dwell_h, crossing_h) from a date."""

    node: str
    field: str
    factor: float = Field(gt=0)
    from_date: date | None = None


def _after(start_field: str, v: date, info: ValidationInfo) -> date:
    """An end date must come after the start date of the same mapping."""
    start = info.data.get(start_field)
    if start is not None and v <= start:
        raise ValueError(f"expected a date after {start_field} {start}, got {v}")
    return v


class Disruption(_Strict):
    """A node closed, or its capacity cut to ``capacity_factor``, between two dates."""

    node: str
    start: date
    end: date
    capacity_factor: float = Field(0.0, ge=0)

    _after_start = field_validator("end")(lambda v, info: _after("start", v, info))


class Delays(_Strict):
    projects: list[ProjectDelay] = []
    operational: list[OperationalDelay] = []


class Scenario(_Strict):
    """A whole scenario, after ``extends`` has been resolved."""

    name: str
    description: str = ""
    start_date: date
    end_date: date
    seed: int = Field(12345, ge=0)
    replications: int = Field(3, ge=1)
    nodes: dict[str, NodeSpec]
    streams: dict[str, StreamSpec]
    investments: list[Investment] = []
    delays: Delays = Delays()
    disruptions: list[Disruption] = []

    _after_start = field_validator("end_date")(lambda v, info: _after("start_date", v, info))

    def sha256(self) -> str:
        """Hash of the resolved scenario (stable key for caching and manifests)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()



def duration(spec: Any) -> Any:
    """A scenario duration as a Distribution object (numbers are fixed)."""
    return as_distribution(spec) if spec is not None else None


def scenario_json_schema() -> dict:
    """JSON Schema of a scenario file, for editors."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {"type": "string", "description": "Parent scenario file to override"}
    return schema

