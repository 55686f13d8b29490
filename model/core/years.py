"""The calendar years of a run's horizon, as simulation-hour boundaries.

Results are per calendar year; the engine accumulates busy hours, throughput
and closures into per-year slots with :class:`YearGrid`, and analysis reads the
same grid to turn totals into shares. It depends only on the timeline module.
"""

from __future__ import annotations

import bisect
from datetime import date

import numpy as np

from model.core.timeline import Timeline, hours_since


def spread(bounds_h: list[float], i: int, acc: list[float], a: float, b: float, weight: float) -> None:
    """Add ``weight`` x the overlap-hours of [a, b) with each period [bounds_h[k], bounds_h[k + 1]) to acc[k],
    from period ``i`` (the one holding ``a``) on; ``b`` no later than the last bound."""
    while a < b and i < len(acc):
        hi = min(b, bounds_h[i + 1])
        acc[i] += weight * (hi - a)
        a = hi
        i += 1


class YearGrid:
    """Calendar years of the horizon as simulation-hour boundaries.

    >>> g = YearGrid(date(2024, 1, 1), date(2026, 1, 1))
    >>> g.years, g.bounds_h
    ([2024, 2025], [0.0, 8784.0, 17544.0])
    >>> g.index(8784.0)
    1
    """

    def __init__(self, start: date, end: date) -> None:
        self.start = start
        self.years = list(range(start.year, (end.year if end.month == 1 and end.day == 1 else end.year + 1)))
        bounds = [0.0]
        for y in self.years[1:]:
            bounds.append(hours_since(start, date(y, 1, 1)))
        bounds.append(hours_since(start, end))
        self.bounds_h = bounds
        self.horizon_h = bounds[-1]
        self._cache = (bounds[0], bounds[1], 0)

    def __len__(self) -> int:
        return len(self.years)

    def index(self, h: float) -> int:
        """Year index of an hour (hours at or past the horizon count in the last year)."""
        lo, hi, i = self._cache
        if lo <= h < hi:
            return i
        i = min(max(bisect.bisect_right(self.bounds_h, h) - 1, 0), len(self.years) - 1)
        self._cache = (self.bounds_h[i], self.bounds_h[i + 1], i)
        return i

    def hours(self) -> np.ndarray:
        return np.diff(self.bounds_h)

    def add_interval(self, acc: list[float], a: float, b: float, weight: float = 1.0) -> None:
        """Add ``weight`` x overlap-hours of [a, b) to each year's accumulator."""
        lo, hi, i = self._cache
        if lo <= a and b < hi:  # the usual case: inside the current year
            acc[i] += weight * (b - a)
            return
        b = min(b, self.horizon_h)
        if b > a:
            spread(self.bounds_h, self.index(a), acc, a, b, weight)

    def integrate(self, tl: Timeline) -> np.ndarray:
        """Per-year integral of a timeline (value x hours)."""
        return np.array([tl.integral(lo, hi) for lo, hi in zip(self.bounds_h, self.bounds_h[1:])])


class MonthGrid:
    """Calendar months of the horizon as simulation-hour boundaries (the monthly tables).

    >>> g = MonthGrid(date(2024, 11, 1), date(2025, 2, 1))
    >>> g.months, g.bounds_h
    ([(2024, 11), (2024, 12), (2025, 1)], [0.0, 720.0, 1464.0, 2208.0])
    """

    def __init__(self, start: date, end: date) -> None:
        self.start = start
        months: list[tuple[int, int]] = []
        bounds = [0.0]
        y, m = start.year, start.month
        while True:
            months.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
            if date(y, m, 1) >= end:
                break
            bounds.append(hours_since(start, date(y, m, 1)))
        bounds.append(hours_since(start, end))
        self.months = months
        self.bounds_h = bounds
        self.horizon_h = bounds[-1]

    def __len__(self) -> int:
        return len(self.months)

    def index(self, h: float) -> int:
        """Month index of an hour (hours at or past the horizon count in the last month)."""
        return min(max(bisect.bisect_right(self.bounds_h, h) - 1, 0), len(self.months) - 1)

    def add_interval(self, acc: list[float], a: float, b: float) -> None:
        """Add the overlap-hours of [a, b) to each month's accumulator."""
        b = min(b, self.horizon_h)
        if b > a:
            spread(self.bounds_h, self.index(a), acc, a, b, 1.0)
