"""Water levels: a sea's dated level, and the depth it leaves at a port.

A scenario's ``water_levels`` names seas (``caspian: {datum_m: -29.35, level_m: {2025: -29.35, 2050: -33.5}}``):
the level in metres (in the heights' own datum, the Baltic system for the Caspian) as annual means by
calendar year, linear between the years given and constant outside. A port terminal that names the sea
(``water_level: caspian``) states its ``depth_m`` at the level ``datum_m``; its depth at a time is
``depth_m + level - datum_m``, so a sea that falls 20 cm a year takes 20 cm of depth a year, and a
dredging investment adds depth back (``field: depth_m, change: add``). The engine follows the level in
monthly steps (each month at its mid-month value).
"""

from __future__ import annotations

from datetime import date

import numpy as np
from pydantic import Field, field_validator

from model.core.specs import Problem, Strict
from model.core.timeline import Timeline, hours_since

MAX_LEVEL_M = 1_000.0
"""Largest level (either sign) a water level may give, m."""


class WaterLevelSpec(Strict):
    """A sea's level by year and the datum at which ports state their depths."""

    datum_m: float = Field(ge=-MAX_LEVEL_M, le=MAX_LEVEL_M, description="The level at which the ports of this sea "
                           "state their depth_m (m)")
    level_m: float | dict[int, float] = Field(description="Annual mean level (m) by calendar year, linear between "
                                              "the years given, constant outside")

    @field_validator("level_m")
    @classmethod
    def _levels(cls, v: float | dict[int, float]) -> float | dict[int, float]:
        items = v.items() if isinstance(v, dict) else [(None, v)]
        if isinstance(v, dict) and not v:
            raise ValueError("expected a level or at least one {year: level}")
        for y, x in items:
            if y is not None and not 1900 <= y <= 2200:
                raise Problem(f"expected a calendar year (1900-2200) as key, got {y}", y)
            if not -MAX_LEVEL_M <= x <= MAX_LEVEL_M:
                msg = f"expected a level from {-MAX_LEVEL_M:g} to {MAX_LEVEL_M:g} m, got {x:g}"
                raise Problem(msg, y) if y is not None else ValueError(msg)
        return v

    def level_at(self, year: float) -> float:
        """The level at a (fractional) calendar year; a year's value holds at its middle.

        >>> WaterLevelSpec(datum_m=0, level_m={2025: -1.0, 2035: -3.0}).level_at(2030.5)
        -2.0
        """
        v = self.level_m
        if not isinstance(v, dict):
            return float(v)
        years = sorted(v)
        return float(np.interp(year - 0.5, years, [v[y] for y in years]))


def level_change_timeline(spec: WaterLevelSpec, start: date, end: date) -> Timeline:
    """The level less the datum (m) in monthly steps from ``start`` to ``end``, each month at
    its mid-month value: what the sea adds to (or, falling, takes from) a port's stated depth."""
    points = []
    y, m = start.year, start.month
    while date(y, m, 1) < end:
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        mid = y + ((date(y, m, 1) - date(y, 1, 1)).days + (date(ny, nm, 1) - date(y, m, 1)).days / 2) / \
            (date(y + 1, 1, 1) - date(y, 1, 1)).days
        points.append((max(hours_since(start, date(y, m, 1)), 0.0), spec.level_at(mid) - spec.datum_m))
        y, m = ny, nm
    return Timeline(points)
