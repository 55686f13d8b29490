"""Building blocks of scenario specs: strict models, dated values, validators.

Every node kind's spec (in ``model/nodes/<kind>_spec.py``) and the scenario schema
(:mod:`model.scenario.schema`) are built from these. Validators blame a bad value
precisely (:class:`Problem` ``.at``) so that messages can name the date key or
option at fault.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Literal, Union
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from model.core.distributions import Distribution
from model.core.limits import MAX_COUNT, MAX_KM, Hours

# A capacity-like value: a number, or {ISO date: value} steps (bounded by the validators below).
TimelineSpec = Union[float, dict[date, float]]
# A duration in hours: a number (fixed) from 0 to limits.MAX_HOURS, or a distribution (bounded alike).
DurationSpec = Union[Hours, Distribution]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Problem(ValueError):
    """Raised by a validator to blame one part of its value: ``at`` extends the
    field path of the error (a date key of a timeline, the ``shares`` of a choice)."""

    def __init__(self, message: str, *at: Any) -> None:
        super().__init__(message)
        self.at = at


def _out_of_range(x: float, what: str, high: float) -> str | None:
    if x < 0:
        return f"expected {what} >= 0, got {x:g}"
    if x > high:
        return f"expected {what} <= {high:g} (the limit), got {x:g}"
    return None


def non_negative(v: Any, key: str, what: str, high: float = math.inf) -> Any:
    """A number from 0 to ``high``, a list of such numbers, or a non-empty mapping
    (``key`` -> number) of them; a bad item is blamed on its index or key."""
    if isinstance(v, dict):
        if not v:
            raise ValueError(f"expected a number or at least one {{{key}: number}}, got an empty mapping")
        items: Any = v.items()
    elif isinstance(v, list):
        items = enumerate(v)
    else:
        msg = _out_of_range(v, what, high)
        if msg:
            raise ValueError(msg)
        return v
    for k, x in items:
        msg = _out_of_range(x, what, high)
        if msg:
            raise Problem(msg, k)
    return v


def timeline_up_to(high: float) -> Callable[[TimelineSpec | None], TimelineSpec | None]:
    """A field validator: a timeline (or None) of values from 0 to ``high`` (a limit of
    :mod:`model.core.limits`)."""
    def check(v: TimelineSpec | None) -> TimelineSpec | None:
        return v if v is None else non_negative(v, "ISO date", "a value", high)
    return check


def count_timeline(v: TimelineSpec) -> TimelineSpec:
    """Berths and vessels are counted, not measured: whole numbers from 0 to
    ``limits.MAX_COUNT`` (a fraction would be silently rounded by the engine)."""
    non_negative(v, "ISO date", "a value", MAX_COUNT)
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
    lon: float | None = Field(None, ge=-180, le=180, description="Longitude, for the corridor map")
    lat: float | None = Field(None, ge=-90, le=90, description="Latitude, for the corridor map")
    distance_km: float | None = Field(None, ge=0, le=MAX_KM, description="Length of the leg, for tonne-km (none: 0 km)")
    tags: list[str] = Field([], description="Labels that select the node as a group (an operational delay's tag)")

    if TYPE_CHECKING:  # each kind's spec declares its own ``kind: Literal[...]`` tag (not a field here)
        kind: str


