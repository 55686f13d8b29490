"""Per-year samples kept flat: exact counts, sums and extremes, and a fixed-bin histogram.

A replication records about 200,000 waits and 50,000 transit times; keeping each
one made its memory grow with the horizon. :class:`YearSamples` keeps, per
year, the count, the exact sum (so means and shares stay exact), the smallest
and largest value, and a sparse histogram on fixed bins (:data:`EDGES_H`); only
the current year's raw values are buffered, and turned into those numbers when
the year changes (vectorised, once per year). Recording is one ``append`` to
that buffer (a list: Python specialises ``list.append``) plus a year check by
the caller: cheaper than binning each sample.

**Percentiles** come from the histogram, ``numpy.percentile``'s linear
definition applied to order statistics estimated inside their bin (spread
evenly over it), clamped to the exact extremes. The bins are 0.05 h wide up to
20 h and 0.25 % wide above (a geometric series up to 500,000 h, past any
horizon), with a bin of its own for exactly 0 (no wait). An estimated order
statistic lies in the same bin as the true one, so it is off by less than that
bin's width, at most 0.05 h + 0.25 % of the value; the percentile, a weighted
mean of two order statistics, inherits the bound:

    |estimated - exact| <= 0.05 h + 0.25 % x exact  <=  max(0.1 h, 0.5 % x exact)

(in days for transit times: 0.05/24 d + 0.25 %). Pooled samples (several
streams, several years) add their histograms' counts, and the bound holds for
the pool. ``tests/test_histogram.py`` checks it against ``numpy.percentile`` on
random samples and on a baseline replication's own waits and transits.

>>> s = YearSamples(2)
>>> for y, v in [(0, 0.0), (0, 3.0), (0, 30.0), (1, 100.0)]:
...     s.add(y, v)
>>> s.close()
>>> s.count(0), s.mean(0), s.max(0)
(3, 11.0, 30.0)
>>> abs(s.percentile(0, 50) - 3.0) <= 0.05 + 0.0025 * 3.0
True
"""

from __future__ import annotations

import bisect
import math
from array import array
from typing import Final, Iterable, Sequence

import numpy as np

LINEAR_STEP_H = 0.05
"""Width of the bins below :data:`LINEAR_TO_H` (hours)."""
LINEAR_TO_H = 20.0
"""Where the bins turn geometric (hours): 0.25 % of 20 h is 0.05 h, so bin widths are continuous."""
LOG_RATIO = 1.0025
"""Ratio of consecutive bin edges above :data:`LINEAR_TO_H` (each bin 0.25 % wide)."""
TOP_H = 500_000.0
"""Past the last edge (57 years, longer than any horizon) values share the last bin."""


def _edges() -> np.ndarray:
    linear = np.arange(round(LINEAR_TO_H / LINEAR_STEP_H) + 1) * LINEAR_STEP_H
    n_log = math.ceil(math.log(TOP_H / LINEAR_TO_H) / math.log(LOG_RATIO))
    return np.concatenate([linear, LINEAR_TO_H * LOG_RATIO ** np.arange(1, n_log + 1)])


EDGES_H = _edges()
"""Bin edges in hours. Bin 0 holds values <= 0 (exactly no wait); bin b >= 1 holds
[EDGES_H[b-1], EDGES_H[b]); the last bin also holds anything larger."""
N_BINS = len(EDGES_H)

ABS_ERROR_H = LINEAR_STEP_H
REL_ERROR = LOG_RATIO - 1.0


def error_bound(value: float, unit_h: float = 1.0) -> float:
    """The most a histogram percentile can differ from the exact one, for an exact
    value ``value`` in units of ``unit_h`` hours (24: days)."""
    return ABS_ERROR_H / unit_h + REL_ERROR * abs(value)


TRANSIT_BINS_DAYS = np.concatenate([np.arange(0, 30, 0.5), np.arange(30, 120, 2), np.arange(120, 2600, 20)])
"""The transit-time histogram table's bins (days): fine where most shipments are, coarse in the
tail. Counted exactly, from the raw values, when a year is closed."""

_EDGES_BY_UNIT: dict[float, np.ndarray] = {1.0: EDGES_H}


def edges(unit_h: float = 1.0) -> np.ndarray:
    """:data:`EDGES_H` in units of ``unit_h`` hours."""
    if unit_h not in _EDGES_BY_UNIT:
        _EDGES_BY_UNIT[unit_h] = EDGES_H / unit_h
    return _EDGES_BY_UNIT[unit_h]


def bin_of(values: np.ndarray, unit_h: float = 1.0) -> np.ndarray:
    """The bin of each value (in units of ``unit_h`` hours)."""
    e = edges(unit_h)
    b = np.searchsorted(e, values, side="right")
    b[values <= 0] = 0
    np.minimum(b, N_BINS - 1, out=b)
    return b


class Hist:
    """A sparse histogram on the fixed bins: the occupied bins (sorted) and their counts,
    with the exact smallest and largest value counted."""

    __slots__ = ("bins", "counts", "lo", "hi")

    def __init__(self, bins: np.ndarray, counts: np.ndarray, lo: float, hi: float) -> None:
        self.bins, self.counts, self.lo, self.hi = bins, counts, lo, hi

    @classmethod
    def of(cls, values: np.ndarray, unit_h: float = 1.0) -> "Hist":
        bins, counts = np.unique(bin_of(values, unit_h), return_counts=True)
        return cls(bins.astype(np.int16), counts.astype(np.int32), float(values.min()), float(values.max()))

    @classmethod
    def pool(cls, parts: Iterable["Hist | None"]) -> "Hist | None":
        """The histogram of the union of the parts' samples (None: no samples)."""
        ps = [p for p in parts if p is not None]
        if not ps:
            return None
        if len(ps) == 1:
            return ps[0]
        dense = np.bincount(np.concatenate([p.bins for p in ps]).astype(np.int64),
                            weights=np.concatenate([p.counts for p in ps]), minlength=N_BINS)
        bins = np.flatnonzero(dense)
        return cls(bins.astype(np.int16), dense[bins].astype(np.int32), min(p.lo for p in ps), max(p.hi for p in ps))

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def percentile(self, q: float, unit_h: float = 1.0) -> float:
        """The q-th percentile (numpy's linear definition), estimated: see the module."""
        n = self.n
        pos = (n - 1) * q / 100.0
        k = math.floor(pos)
        f = pos - k
        a = self._order_stat(k, unit_h)
        if f <= 0.0 or k + 1 >= n:
            return a
        b = self._order_stat(k + 1, unit_h)
        return a + (b - a) * f

    def _order_stat(self, j: int, unit_h: float) -> float:
        """The j-th smallest value (from 0), estimated within its bin and clamped to the extremes."""
        cum = np.cumsum(self.counts)
        i = int(np.searchsorted(cum, j, side="right"))
        b = int(self.bins[i])
        if b == 0:
            return min(max(0.0, self.lo), self.hi)
        e = edges(unit_h)
        below = int(cum[i - 1]) if i > 0 else 0
        x = e[b - 1] + (j - below + 0.5) / int(self.counts[i]) * (e[b] - e[b - 1])
        return min(max(float(x), self.lo), self.hi)


_STATE: Final = ("unit_h", "year", "buf", "n", "total", "hists", "horizon_edges", "horizon_counts", "from_h", "to_h",
                 "kept")
"""A :class:`YearSamples`' attributes: its slots and what it pickles (named here: compiled, a
class has no ``__slots__`` to read)."""


class YearSamples:
    """One measure's samples per year (waits at a node; transit times of a stream).

    The caller appends a value for year ``y`` as ``if y != s.year: s.roll(y)`` then
    ``s.buf.append(v)`` (or :meth:`add`). Values are recorded in hours and
    summarised in units of ``unit_h`` hours (24: days). ``horizon_edges``: also
    count the values (in those units) into these bins over the whole horizon,
    exactly (``numpy.histogram``'s rule)."""

    __slots__ = _STATE

    def __init__(self, n_years: int, unit_h: float = 1.0, horizon_edges: np.ndarray | None = None) -> None:
        self.unit_h = unit_h
        self.year = -1  # the year whose values ``buf`` holds
        self.from_h, self.to_h = math.inf, -math.inf  # its hours, where the caller tracks them (:meth:`roll_at`)
        self.buf: list[float] = []
        self.n = [0] * n_years
        self.total = [0.0] * n_years
        self.hists: list[Hist | None] = [None] * n_years
        self.horizon_edges = horizon_edges
        self.horizon_counts = None if horizon_edges is None else np.zeros(len(horizon_edges) - 1, dtype=np.int64)
        self.kept: array | None = None  # every value, in hours, only after keep_values()

    def keep_values(self) -> None:
        """Keep every value too (``kept``, hours, in the order recorded), as each year is
        summarised: for traces and tests; the summaries are the same."""
        if self.kept is None:
            self.kept = array("d")

    def add(self, y: int, value_h: float) -> None:
        if y != self.year:
            self.roll(y)
        self.buf.append(value_h)

    def roll(self, y: int) -> None:
        """Close the buffered year and buffer year ``y`` from now on."""
        self.close()
        self.year = y

    def roll_at(self, h: float, bounds_h: Sequence[float]) -> None:
        """Buffer the year of hour ``h`` (years bounded by ``bounds_h``; hours before the first
        count in the first year, at or past the last in the last), and remember its hours, so a
        caller appends as ``if not s.from_h <= h < s.to_h: s.roll_at(h, bounds)``."""
        last = len(bounds_h) - 2
        y = min(max(bisect.bisect_right(bounds_h, h) - 1, 0), last)
        self.roll(y)
        self.from_h = bounds_h[y] if y > 0 else -math.inf
        self.to_h = bounds_h[y + 1] if y < last else math.inf

    def close(self) -> None:
        """Turn the buffered values into the year's count, sum, extremes and histogram."""
        if not self.buf:
            return
        y = self.year
        v = np.array(self.buf, dtype=np.float64)
        if self.kept is not None:
            self.kept.extend(self.buf)
        self.buf = []
        if self.unit_h != 1.0:
            v = v / self.unit_h
        self.n[y] += len(v)
        self.total[y] += float(np.sum(v))  # numpy's (pairwise) sum, as the tables always used
        self.hists[y] = Hist.pool([self.hists[y], Hist.of(v, self.unit_h)])
        if self.horizon_counts is not None and self.horizon_edges is not None:
            self.horizon_counts += np.histogram(v, bins=self.horizon_edges)[0]

    # reading ------------------------------------------------------------------

    def count(self, y: int) -> int:
        self.close()
        return self.n[y]

    def sum(self, y: int) -> float:
        self.close()
        return self.total[y]

    def mean(self, y: int | None = None) -> float:
        """Exact mean of year ``y`` (of every year if None; NaN: no sample)."""
        self.close()
        n, total = (self.n[y], self.total[y]) if y is not None else (sum(self.n), sum(self.total, 0.0))
        return total / n if n else math.nan

    def hist(self, y: int) -> Hist | None:
        self.close()
        return self.hists[y]

    def percentile(self, y: int, q: float) -> float:
        """The q-th percentile of year ``y`` from its histogram (NaN: no sample)."""
        return pooled_percentile([self], [y], q)

    def max(self, y: int | None = None) -> float:
        """Exact largest value of year ``y`` (of every year if None; NaN: no sample)."""
        self.close()
        hs = [h for h in (self.hists if y is None else [self.hists[y]]) if h is not None]
        return max(h.hi for h in hs) if hs else math.nan

    def min(self, y: int | None = None) -> float:
        """Exact smallest value of year ``y`` (of every year if None; NaN: no sample)."""
        self.close()
        hs = [h for h in (self.hists if y is None else [self.hists[y]]) if h is not None]
        return min(h.lo for h in hs) if hs else math.nan

    def __getstate__(self) -> dict:
        self.close()  # a record leaves the engine summarised (pickled to the parent)
        return {k: getattr(self, k) for k in _STATE}

    def __setstate__(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)


def pooled_percentile(samples: Sequence[YearSamples], years: Iterable[int], q: float) -> float:
    """The q-th percentile of the samples of several measures (of one unit) and years
    together, from their histograms added up (NaN: no sample)."""
    years = list(years)
    h = Hist.pool(s.hist(y) for s in samples for y in years)
    if h is None:
        return math.nan
    return h.percentile(q, samples[0].unit_h)
