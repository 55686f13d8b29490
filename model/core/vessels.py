"""Vessel classes: what one ship of a class carries, how fast it sails, how deep it goes.

A scenario's ``vessel_classes`` names classes (``ropax_cnf18c: {payload: {wagons: 56, ...}, ...}``);
a sea link's fleet is a list of groups of vessels of a class, each with a dated count (the
ships in service and those ordered, as what they are), and the lines the group may serve. A
class's payload is given in the units its trade counts (TEU, wagons, trucks, tonnes); the link
says which unit it loads and how many tonnes one unit holds, so one class can serve a container
line in TEU and its tonnes follow.

Water depth: a class needs ``depth_needed_m`` of water to sail fully loaded (its draft and an
under-keel clearance); in shallower water it loads less, by the declared rule

    payload share = 1 - payload_loss_per_m x max(0, depth_needed_m - depth)

(floored at 0: a ship whose share falls to 0 cannot serve the line). The loss per metre is the
class's tonnes per metre of draft over its payload (its tonnes-per-centimetre immersion x 100 /
payload), which a naval architect reads off the hydrostatic tables.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from model.core.limits import MAX_TONNES, Usd
from model.core.specs import DurationSpec, Problem, Strict

CargoUnit = Literal["t", "teu", "wagons", "trucks"]
"""What a line counts its cargo in: tonnes, twenty-foot containers, rail wagons, trucks."""

MAX_DEPTH_M = 100.0
"""Deepest water a depth or draft field may give, m."""
MAX_SPEED_KN = 60.0
"""Fastest service speed, knots."""


class VesselClassSpec(Strict):
    """A class of vessel: its payload by cargo unit, speed, the depth it needs, its call time and hire."""

    payload: dict[CargoUnit, float] = Field(
        description="What one vessel carries in each unit a line may count (t, teu, wagons, trucks): "
        "{wagons: 56, trucks: 50} for a Ro-Pax")
    speed_kn: float | None = Field(None, gt=0, le=MAX_SPEED_KN, description="Service speed (knots): with a "
                                   "line's sea_nm it sets the mean crossing time")
    call_h: DurationSpec | None = Field(None, description="Fixed part of its calls at a berth (mooring, ramps, "
                                        "papers), replacing the terminal's call_h (none: the terminal's)")
    depth_needed_m: float | None = Field(None, gt=0, le=MAX_DEPTH_M, description="Water depth needed to sail "
                                         "fully loaded: draft and under-keel clearance (none: depth never limits)")
    payload_loss_per_m: float = Field(0.25, ge=0, le=10, description="Share of the payload lost per metre of "
                                      "water depth below depth_needed_m (tonnes per metre of draft / payload)")
    day_rate_usd: Usd = Field(0.0, description="Hire per vessel-day when chartered")
    source: str | None = Field(None, description="Where its figures come from (docs/corridor-facts.md)")

    @field_validator("payload")
    @classmethod
    def _payload(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("expected at least one payload {unit: amount} (t, teu, wagons or trucks)")
        for unit, x in v.items():
            if not 0 < x <= MAX_TONNES:
                raise Problem(f"expected a payload above 0 and at most {MAX_TONNES:g}, got {x:g}", unit)
        return v


def payload_share(depth_needed_m: float | None, loss_per_m: float, depth_m: float) -> float:
    """Share of a class's full payload it can load in ``depth_m`` of water (the declared rule).

    >>> payload_share(6.0, 0.2, 4.9), payload_share(6.0, 0.2, 7.0), payload_share(None, 0.2, 1.0)
    (0.78, 1.0, 1.0)
    >>> payload_share(6.0, 0.5, 3.0)
    0.0
    """
    if depth_needed_m is None or depth_m >= depth_needed_m:
        return 1.0
    return round(max(0.0, 1.0 - loss_per_m * (depth_needed_m - depth_m)), 12)
