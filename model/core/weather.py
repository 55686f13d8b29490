"""Weather: storm calendars, per link or shared by a sea area.

Storms are a Poisson process with a rate per calendar month; each lasts a drawn
number of days. Either the next storm can only start once the last has passed
(``overlap: false``, the default: the closed share of a month is then at most
rate x E[D] / (days + rate x E[D])), or storms start at any time and one that
starts during a closure extends it (``overlap: true``: closures are the union of
the storms, and the closed share of a month with a steady rate is
1 - exp(-rate x E[D] / days), the chance that no storm covers an instant). A whole
calendar is drawn up front (from its own random stream), so an engine knows
when it may next depart and a passage is one simpy event.

A scenario's ``weather`` names sea areas (``caspian: {events_per_month, duration_days}``);
links and port terminals that name an area share its calendar, each storm
closing each of them with its ``storm_share`` (1: they close together; less:
partly correlated), so one storm can close several links and ports at once.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Callable

import numpy as np
from pydantic import Field, field_validator

from model.core.limits import MAX_STORMS_PER_MONTH
from model.core.specs import DurationSpec, Strict, non_negative
from model.core.timeline import date_at

Interval = tuple[float, float]


class StormSpec(Strict):
    """Episodic closures: events arrive as a Poisson process with a rate per
    calendar month (one number, or 12 numbers Jan..Dec), each lasting a drawn
    number of days. No vessel departs while a link is closed; no berth is granted at a terminal closed by it."""

    events_per_month: float | list[float]
    duration_days: DurationSpec
    overlap: bool = Field(False, description="Storms start at any time and one that starts while closed extends "
                          "the closure (true); or the next starts only once the link or port has reopened (false)")

    @field_validator("events_per_month")
    @classmethod
    def _twelve(cls, v: float | list[float]) -> float | list[float]:
        if isinstance(v, list) and len(v) != 12:
            raise ValueError(f"expected one rate or 12 monthly rates (January to December), got {len(v)} rates")
        return non_negative(v, "month", "a rate", MAX_STORMS_PER_MONTH)


def storm_calendar(storms: StormSpec, rng: np.random.Generator, duration_days: Callable[[], float], start: date,
                   horizon_h: float) -> list[Interval]:
    """The storm calendar: Poisson starts at the month's rate (while open, or at any time with ``overlap``),
    drawn durations (hours from start), sorted by start. With ``overlap`` storms may overlap: the closures
    they make are their union (:func:`model.core.timeline.union_intervals`), taken after any thinning."""
    rates = storms.events_per_month if isinstance(storms.events_per_month, list) else [storms.events_per_month] * 12
    t0 = datetime(start.year, start.month, start.day)
    out: list[Interval] = []
    t = 0.0
    while t < horizon_h:
        when = date_at(start, t)
        y, m = (when.year + 1, 1) if when.month == 12 else (when.year, when.month + 1)
        month_end = (datetime(y, m, 1) - t0).total_seconds() / 3600
        days = (datetime(y, m, 1) - datetime(when.year, when.month, 1)).days
        rate = rates[when.month - 1] / (days * 24.0)
        gap = rng.exponential(1.0 / rate) if rate > 0 else math.inf
        if t + gap >= month_end:  # memoryless: restart at the next month's rate
            t = month_end
            continue
        a = t + gap
        b = a + duration_days() * 24.0
        out.append((a, b))
        t = a if storms.overlap else b
    return out


def thinned(storms: list[Interval], share: float, rng: np.random.Generator) -> list[Interval]:
    """The storms of an area that close one link or terminal: each with probability ``share``."""
    if share >= 1.0:
        return list(storms)
    keep = rng.random(len(storms)) < share
    return [s for s, k in zip(storms, keep) if k]
