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

    def terminals(self, field: str) -> list[str]:
        """The port terminals named by ``field`` (a ``calls_at`` field of its kind: where its vessels
        load or unload); a kind with several lines overrides it."""
        v = getattr(self, field, None)
        return [v] if v is not None else []




# ------------------------------------------------------------ dotted field paths
# Investments, timelines and counts name a field of a node spec by a dotted path: ``berths``, or
# ``vessels.ropax.count`` (a group of a sea link's fleet); a pattern may use ``*`` for one name
# (``vessels.*.count``).


def field_values(spec: Any, pattern: str) -> list[tuple[str, Any]]:
    """(dotted path, value) of every field of ``spec`` that ``pattern`` names (``*`` matches
    each key of a mapping); a path through a missing or None value yields nothing."""
    parts = pattern.split(".")
    out: list[tuple[str, Any]] = []

    def walk(obj: Any, i: int, path: list[str]) -> None:
        if i == len(parts):
            out.append((".".join(path), obj))
            return
        p = parts[i]
        if isinstance(obj, dict):
            for k in (list(obj) if p == "*" else [k for k in obj if str(k) == p]):
                walk(obj[k], i + 1, path + [str(k)])
        elif isinstance(obj, BaseModel) and p != "*" and p in type(obj).model_fields:
            v = getattr(obj, p)
            if v is not None or i == len(parts) - 1:
                walk(v, i + 1, path + [p])

    walk(spec, 0, [])
    return out


def get_path(spec: Any, path: str) -> Any:
    """The value at a dotted path (None where it is missing)."""
    found = field_values(spec, path)
    return found[0][1] if found else None


def with_paths(spec: BaseModel, updates: dict[str, Any]) -> BaseModel:
    """A copy of ``spec`` with the values at dotted paths replaced (mappings and sub-models copied
    along the way; the rest shared)."""
    top: dict[str, Any] = {}
    deeper: dict[str, dict[str, Any]] = {}
    for path, v in updates.items():
        head, _, rest = path.partition(".")
        if rest:
            deeper.setdefault(head, {})[rest] = v
        else:
            top[head] = v
    for head, sub in deeper.items():
        top[head] = _with_paths_in(getattr(spec, head), sub)
    return spec.model_copy(update=top)


def _with_paths_in(obj: Any, updates: dict[str, Any]) -> Any:
    if isinstance(obj, BaseModel):
        return with_paths(obj, updates)
    if isinstance(obj, dict):
        out = dict(obj)
        nested: dict[str, dict[str, Any]] = {}
        for path, v in updates.items():
            head, _, rest = path.partition(".")
            key = next((k for k in out if str(k) == head), head)
            if rest:
                nested.setdefault(key, {})[rest] = v
            else:
                out[key] = v
        for key, sub in nested.items():
            out[key] = _with_paths_in(out[key], sub)
        return out
    raise KeyError(f"no field under {obj!r}")
