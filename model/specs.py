"""Building blocks of scenario specs: strict models, dated values, validators.

Every node kind's spec (in ``model/nodes/<kind>.py``) and the scenario schema
(:mod:`model.schema`) are built from these. Validators blame a bad value
precisely (:class:`Problem` ``.at``) so that messages can name the date key or
option at fault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Union
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from .distributions import Distribution

# A capacity-like value: a number, or {ISO date: value} steps.
TimelineSpec = Union[float, dict[date, float]]
DurationSpec = Union[float, Distribution]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Problem(ValueError):
    """Raised by a validator to blame one part of its value: ``at`` extends the
    field path of the error (a date key of a timeline, the ``shares`` of a choice)."""

    def __init__(self, message: str, *at: Any) -> None:
        super().__init__(message)
        self.at = at


def non_negative(v: float | dict, key: str, what: str) -> float | dict:
    """A number >= 0, or a non-empty mapping (``key`` -> number) of numbers >= 0;
    a bad step is blamed on its key."""
    if isinstance(v, dict):
        if not v:
            raise ValueError(f"expected a number or at least one {{{key}: number}}, got an empty mapping")
        for k, x in v.items():
            if x < 0:
                raise Problem(f"expected {what} >= 0, got {x:g}", k)
    elif v < 0:
        raise ValueError(f"expected {what} >= 0, got {v:g}")
    return v


def non_negative_timeline(v: TimelineSpec) -> TimelineSpec:
    return non_negative(v, "ISO date", "a value")


def count_timeline(v: TimelineSpec) -> TimelineSpec:
    """Berths and vessels are counted, not measured: whole numbers >= 0 (a
    fraction would be silently rounded by the engine)."""
    non_negative_timeline(v)
    for d, x in (v.items() if isinstance(v, dict) else [(None, v)]):
        if x != int(x):
            msg = f"expected a whole number (a count of berths or vessels), got {x:g}"
            raise Problem(msg, d) if d is not None else ValueError(msg)
    return v


def exactly_one(spec: BaseModel, a: str, b: str) -> BaseModel:
    """A rate given one way or the other, never both or neither."""
    if (getattr(spec, a) is None) == (getattr(spec, b) is None):
        got = "both" if getattr(spec, a) is not None else "neither"
        raise ValueError(f"expected exactly one of {a} or {b}, got {got}")
    return spec


WhenFull = Literal["wait", "divert"]
"""What a shipment does that finds a node's waiting room (yard, tank, sidings) full:
``wait`` upstream until there is room (it keeps what it holds upstream, so a full
room blocks back up the route), or ``divert``: leave the corridor for another route."""


def room_needed(spec: Any, room_field: str) -> Any:
    """``when_full: divert`` needs the waiting room it speaks of."""
    if getattr(spec, "when_full", "wait") == "divert" and getattr(spec, room_field) is None:
        raise ValueError(f"when_full: divert needs a waiting room: set {room_field}")
    return spec


class NodeSpecBase(Strict):
    """Fields every node kind has: a display name, a place on the map, a length."""

    name: str | None = Field(None, description="Display name")
    lon: float | None = Field(None, description="Longitude, for the corridor map")
    lat: float | None = Field(None, description="Latitude, for the corridor map")
    distance_km: float | None = Field(None, ge=0, description="Length of the leg, for tonne-km (none: 0 km)")

    if TYPE_CHECKING:  # each kind's spec declares its own ``kind: Literal[...]`` tag (not a field here)
        kind: str


