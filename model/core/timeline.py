"""Values that change at dates: every capacity-like parameter is a Timeline.

A Timeline is a step function of simulation time (hours from the scenario's
start). Scenario files write a timeline as a plain number (constant) or as a
mapping ``{ISO date: value}``; investments then add dated steps, shifted by any
project delays. This module is where investments and delays take effect.

>>> tl = Timeline([(0.0, 2.0), (100.0, 5.0)])
>>> tl.at(50.0), tl.at(100.0), tl.at(1e9)
(2.0, 5.0, 5.0)
>>> tl.integral(50.0, 150.0)
350.0
"""

from __future__ import annotations

import bisect
import math
import calendar
from datetime import date, datetime, timedelta
from typing import Final, Iterable, Sequence

import numpy as np

HOURS_PER_DAY = 24.0


def hours_since(start: date, when: date) -> float:
    """Simulation hour of a calendar date (midnight) for a run that starts at ``start``."""
    return (when - start).days * HOURS_PER_DAY


def date_at(start: date, hour: float) -> datetime:
    """Calendar time of a simulation hour."""
    return datetime(start.year, start.month, start.day) + timedelta(hours=hour)


def add_months(when: date, months: float) -> date:
    """Shift a date by a (possibly fractional or negative) number of months.

    Whole months keep the day of month (clamped to the month's length); a
    fraction adds 30.44 days per month.

    >>> add_months(date(2028, 12, 31), 2)
    datetime.date(2029, 2, 28)
    >>> add_months(date(2026, 1, 15), -1.5)
    datetime.date(2025, 11, 30)
    """
    whole = int(months) if months >= 0 else -int(-months)
    frac = months - whole
    y, m = divmod(when.month - 1 + whole, 12)
    year, month = when.year + y, m + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    shifted = date(year, month, day)
    return shifted + timedelta(days=round(frac * 30.44))


class Timeline:
    """Step function: ``points`` are (hour, value) sorted by hour; before the first
    point the first value holds. Immutable (``points`` is ``Final``; the lookup caches
    are not part of its value): equal timelines have equal points."""

    __slots__ = ("points", "_hours", "_constant", "_seg", "_changes")

    def __init__(self, points: Iterable[tuple[float, float]]) -> None:
        pts = sorted((float(h), float(v)) for h, v in points)
        if not pts:
            raise ValueError("a timeline needs at least one value")
        self.points: Final[tuple[tuple[float, float], ...]] = tuple(pts)
        self._hours: Final[list[float]] = [h for h, _ in pts]
        const = pts[0][1] if all(v == pts[0][1] for _, v in pts) else None
        self._constant: Final[float | None] = const  # (not _const: mypyc would name its C field __const, a GCC keyword)
        # the segment last looked up, [from, to, value]: simulation time moves forward,
        # so most lookups fall in it (at() runs several hundred thousand times a replication)
        self._seg: Final[list[float]] = [-math.inf, math.inf, const] if const is not None else [0.0, -1.0, 0.0]
        changes, prev = [], pts[0][1]
        for h, v in pts[1:]:
            if v != prev and h > 0:
                changes.append(h)
            prev = v
        self._changes: Final[tuple[float, ...]] = tuple(changes)  # the hours the value changes at (after 0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timeline) and self.points == other.points

    def __hash__(self) -> int:
        return hash(self.points)

    def __repr__(self) -> str:
        return f"Timeline(points={self.points!r})"

    def __reduce__(self) -> tuple:
        return (Timeline, (self.points,))

    @classmethod
    def constant(cls, value: float) -> "Timeline":
        return cls([(0.0, value)])

    def at(self, hour: float) -> float:
        """Value in force at ``hour`` (a step at exactly ``hour`` is in force)."""
        seg = self._seg
        if seg[0] <= hour < seg[1]:
            return seg[2]
        hours = self._hours
        i = bisect.bisect_right(hours, hour) - 1
        value = self.points[max(i, 0)][1]
        seg[0] = hours[i] if i >= 0 else -math.inf
        seg[1] = hours[i + 1] if i + 1 < len(hours) else math.inf
        seg[2] = value
        return value

    def change_hours(self) -> list[float]:
        """Hours at which the value changes (after time 0)."""
        return list(self._changes)

    def next_change_after(self, hour: float) -> float | None:
        changes = self._changes
        i = bisect.bisect_right(changes, hour)
        return changes[i] if i < len(changes) else None

    def first_change_above(self, hour: float, above: float, at_or_after: bool = False) -> float | None:
        """The first change after ``hour`` (or at it, ``at_or_after``) to a value above ``above``
        (None: none): when a wait for more (vessels in service, a payload) ends.

        >>> t = Timeline([(0, 1), (10, 3), (20, 2), (30, 5)])
        >>> t.first_change_above(10.0, 2.5), t.first_change_above(10.0, 2.5, at_or_after=True)
        (30.0, 10.0)
        """
        for h in self._changes:
            if (h >= hour if at_or_after else h > hour) and self.at(h) > above:
                return h
        return None

    def positive_from(self, hour: float) -> float | None:
        """Earliest hour >= ``hour`` at which the value is above 0 (None: never again).

        >>> Timeline([(0, 1), (10, 0), (20, 2)]).positive_from(12.0)
        20.0
        """
        if self.at(hour) > 0:
            return hour
        for h in self._changes[bisect.bisect_right(self._changes, hour):]:
            if self.at(h) > 0:
                return h
        return None

    def first_hour_where(self, predicate) -> float | None:
        """Earliest hour >= 0 at which ``predicate(value)`` holds, or None."""
        if predicate(self.at(0.0)):
            return 0.0
        for h in self.change_hours():
            if predicate(self.at(h)):
                return h
        return None

    def maximum(self) -> float:
        return max(v for _, v in self.points)

    def integral(self, a: float, b: float) -> float:
        """Integral of the step function over [a, b) (value x hours)."""
        if b <= a:
            return 0.0
        edges = [a] + [h for h in self._hours if a < h < b] + [b]
        return sum((self.at(lo) * (hi - lo) for lo, hi in zip(edges, edges[1:])), 0.0)

    def with_step(self, hour: float, value: float, mode: str = "set") -> "Timeline":
        """A new timeline where from ``hour`` on the value is set (or increased by
        ``value`` for mode 'add', 'mul' multiplies). Later steps keep their own
        values for 'set', and are shifted too for 'add'/'mul'."""
        hour = max(hour, 0.0)
        base = self.at(hour)
        pts = [(h, v) for h, v in self.points if h < hour]
        later = [(h, v) for h, v in self.points if h > hour]
        if mode == "set":
            pts.append((hour, value))
            pts.extend(later)
        elif mode == "add":
            pts.append((hour, base + value))
            pts.extend((h, v + value) for h, v in later)
        elif mode == "mul":
            pts.append((hour, base * value))
            pts.extend((h, v * value) for h, v in later)
        else:
            raise ValueError(f"unknown change mode {mode!r}")
        return Timeline(pts)


def timeline_from_spec(spec: float | dict[date, float], start: date) -> Timeline:
    """Build a timeline from a scenario value: a number or ``{date: value}``."""
    if isinstance(spec, dict):
        return Timeline((hours_since(start, d), v) for d, v in spec.items())
    return Timeline.constant(float(spec))


def apply_steps(
    tl: Timeline, steps: Sequence[tuple[float, float, str]]
) -> Timeline:
    """Apply (hour, value, mode) steps in date order."""
    for hour, value, mode in sorted(steps, key=lambda s: s[0]):
        tl = tl.with_step(hour, value, mode)
    return tl


def combine(fn, *tls: Timeline) -> Timeline:
    """Pointwise ``fn(v1, v2, ...)`` of several timelines, as a timeline.

    >>> combine(lambda a, b: a * b, Timeline([(0, 2), (10, 3)]), Timeline([(0, 1), (5, 0)])).points
    ((0.0, 2.0), (5.0, 0.0), (10.0, 0.0))
    """
    hours = sorted({0.0} | {h for tl in tls for h, _ in tl.points if h > 0})
    return Timeline((h, fn(*(tl.at(h) for tl in tls))) for h in hours)


def timeline_to_spec(tl: Timeline, start: date) -> dict[date, float]:
    """Back to scenario form ``{date: value}`` (steps fall on whole days)."""
    return {start + timedelta(hours=h): v for h, v in tl.points}


def effective_investment_dates(scenario) -> dict[str, date | None]:
    """Each investment's date after project delays (None: slips past the horizon).

    A delay matches an investment by id or by one of its tags; several matching
    delays add up. A date pulled before the start is clamped to the start.
    """
    out: dict[str, date | None] = {}
    for inv in scenario.investments:
        months = sum(d.months for d in scenario.delays.projects if d.match == inv.id or d.match in inv.tags)
        when = add_months(inv.date, months) if months else inv.date
        when = max(when, scenario.start_date)
        out[inv.id] = when if when < scenario.end_date else None
    return out


def resolve_node_specs(scenario) -> dict:
    """Node specs with every (delayed) investment folded into their timelines.

    The result is what the simulation builds from; ``opening`` investments set
    a rail line's opening date.
    """
    from model.core.specs import get_path, with_paths  # (pydantic helpers: kept out of the compiled import)

    when = effective_investment_dates(scenario)
    specs = {}
    for nid, spec in scenario.nodes.items():
        updates: dict = {}
        for inv in sorted((i for i in scenario.investments if i.node == nid), key=lambda i: (when[i.id] or date.max)):
            d = when[inv.id]
            if inv.field == "opening":  # closed until the (delayed) opening; never if past the horizon
                updates["opening_date"] = d if d is not None else scenario.end_date
                continue
            if d is None:
                continue
            current = updates.get(inv.field, get_path(spec, inv.field))
            tl = timeline_from_spec(current, scenario.start_date)
            tl = tl.with_step(hours_since(scenario.start_date, d), inv.value, inv.change)
            updates[inv.field] = timeline_to_spec(tl, scenario.start_date)
        specs[nid] = with_paths(spec, updates) if updates else spec
    return specs


def disruption_factor(scenario, nid: str) -> Timeline:
    """Capacity multiplier of a node over time: 1, or the product of the
    disruptions in force (0 closes the node)."""
    spans = [(hours_since(scenario.start_date, d.start), hours_since(scenario.start_date, d.end), d.capacity_factor)
             for d in scenario.disruptions if d.node == nid]
    hours = sorted({0.0} | {h for a, b, _ in spans for h in (a, b)})
    points = []
    for h in hours:
        f = 1.0
        for a, b, fac in spans:
            if a <= h < b:
                f *= fac
        points.append((h, f))
    return Timeline(points)


def duration_factors(scenario, nid: str) -> dict[str, Timeline]:
    """Operational delays of a node (named by id, kind or tag): a multiplier timeline per
    duration field; several that apply multiply."""
    out: dict[str, Timeline] = {}
    spec = scenario.nodes[nid]
    for d in scenario.delays.operational:
        if not d.applies_to(nid, spec):
            continue
        h = 0.0 if d.from_date is None else hours_since(scenario.start_date, d.from_date)
        tl = out.get(d.field, Timeline.constant(1.0))
        out[d.field] = tl.with_step(h, d.factor, "mul")
    return out


def union_intervals(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted union of (start, end) intervals (:func:`union_periods`, as a list of tuples).

    >>> union_intervals([(5.0, 7.0), (0.0, 2.0), (1.0, 3.0)])
    [(0.0, 3.0), (5.0, 7.0)]
    """
    return [(a, b) for a, b in union_periods(np.array(intervals, dtype=np.float64)).tolist()]


def sorted_periods(p: "np.ndarray") -> "np.ndarray":
    """An (n, 2) array of (start, end) sorted by start, then end: ``p`` itself when it
    already is (the usual case: periods are recorded in time order), else a sorted copy."""
    s, e = p[:, 0], p[:, 1]
    if np.all((s[1:] > s[:-1]) | ((s[1:] == s[:-1]) & (e[1:] >= e[:-1]))):
        return p
    return p[np.lexsort((e, s))]


def union_periods(p: "np.ndarray") -> "np.ndarray":
    """The sorted union of an (n, 2) array of (start, end), as an (m, 2) array: sorted by
    start then end, an interval that starts at or before the furthest end of those before
    it joins them; no Python object per interval.

    >>> union_periods(np.array([(5.0, 7.0), (0.0, 2.0), (1.0, 3.0)])).tolist()
    [[0.0, 3.0], [5.0, 7.0]]
    """
    p = np.asarray(p, dtype=np.float64).reshape(-1, 2)
    if len(p) == 0:
        return p.copy()
    p = sorted_periods(p)
    s, e = p[:, 0], p[:, 1]
    reach = np.maximum.accumulate(e)
    new = np.empty(len(s), dtype=bool)
    new[0] = True
    new[1:] = s[1:] > reach[:-1]
    first = np.flatnonzero(new)
    return np.column_stack([s[first], np.maximum.reduceat(e, first)])
