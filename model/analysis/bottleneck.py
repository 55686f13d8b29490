"""Bottleneck detection by the active-period method (Roser, Nakano and Tanaka 2001-2002).

Each node records its *active periods*: intervals while it works or is held by
its own state (closed by a storm or a disruption), not while it starves for
cargo or is blocked by a full downstream yard. For nodes with several servers
(berths, vessels, train paths) a node counts as active while **all** its
available servers are busy or it is closed — the definition that answers
capacity questions, since only then does the next arrival have to wait.

At every instant the momentary bottleneck is the node whose ongoing active
period is the longest (by the full length of that period). Where the active
period of one bottleneck overlaps the active period of the next one, the
bottleneck is *shifting* and both nodes get that overlap as shifting time;
the rest of each bottleneck's time is *sole*.

Because a period counts by its full length, which is known only when it ends (a sea
link saturated from 2030 has one period to the horizon), the records keep every
period, compactly (a flat ``array('d')``, 16 bytes a period: about 3 MB for the
28-year baseline), and the analysis reads them in place: episodes are found one
window of time at a time (:data:`WINDOW_H`), so its work arrays stay the size of one
window's cut points, not the horizon's.

>>> periods = {"A": [(0.0, 6.0)], "B": [(4.0, 12.0)]}
>>> sole_shifting(periods, 0.0, 12.0)["A"]
(4.0, 2.0)
>>> sole_shifting(periods, 0.0, 12.0)["B"]
(6.0, 2.0)
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Mapping, Sequence, Union

import numpy as np

from model.core.timeline import sorted_periods, union_intervals as _union, union_periods

Interval = tuple[float, float]
Periods = Union[np.ndarray, array, Sequence[Interval]]
"""A node's active periods: an (n, 2) array, a flat ``array('d')`` (start, end, ...) as
:class:`~model.nodes.base.NodeRecord` keeps them, or a list of (start, end)."""

WINDOW_H = 8760.0
"""Episodes are found a window of this many hours at a time: the work arrays are then
as long as one window's cut points, whatever the horizon (the result does not depend on it)."""


def as_array(p: Periods) -> np.ndarray:
    """Periods as an (n, 2) float array (a view where they already are floats)."""
    if isinstance(p, array):
        return np.frombuffer(p, dtype=np.float64).reshape(-1, 2) if len(p) else np.empty((0, 2))
    return np.asarray(p, dtype=np.float64).reshape(-1, 2)


@dataclass(frozen=True)
class Episode:
    """A stretch of time during which one node is the momentary bottleneck."""

    node: str
    start: float
    end: float
    period: Interval  # the active period of the node that made it the bottleneck


def _sorted_periods(p: Periods) -> np.ndarray:
    """The periods of positive length sorted by (start, end) (a view when they already are)."""
    ps = as_array(p)
    if not np.all(ps[:, 1] > ps[:, 0]):
        ps = ps[ps[:, 1] > ps[:, 0]]
    return sorted_periods(ps)


def episodes(periods: Mapping[str, Periods], window_h: float = WINDOW_H) -> list[Episode]:
    """Momentary bottlenecks over time, merged into episodes.

    The cut points (every period's ends) split time into segments, each covered whole
    or not at all by any period; in each, the node whose covering period is longest is
    the bottleneck (the first such node in ``periods`` order on a tie). Vectorised per
    node over the segments of one window of ``window_h`` hours at a time; a window's
    bounds only split segments (both halves have the same covering periods), and an
    episode carries on across them, so the episodes do not depend on the window.
    """
    names = list(periods)
    kept = [_sorted_periods(periods[n]) for n in names]
    ends = [np.sort(ps[:, 1]) if not np.all(ps[1:, 1] >= ps[:-1, 1]) else ps[:, 1] for ps in kept]
    firsts = [ps[0, 0] for ps in kept if len(ps)]
    if not names or not firsts:
        return []
    t0, t_end = min(firsts), max(float(e[-1]) for e in ends if len(e))
    out: list[Episode] = []
    carry: list | None = None  # the episode still going at the end of the last window: [node, period, start, end]
    prev: tuple[bool, int, int] | None = None  # (covered, node, period) of the last segment so far
    lo_w = t0
    while lo_w < t_end:
        hi_w = min(lo_w + window_h, t_end)
        if t_end - hi_w < window_h * 1e-9:
            hi_w = t_end
        cuts = np.unique(np.concatenate(
            [np.array([lo_w, hi_w])]
            + [ps[np.searchsorted(ps[:, 0], lo_w, side="left"):np.searchsorted(ps[:, 0], hi_w, side="right"), 0]
               for ps in kept]
            + [e[np.searchsorted(e, lo_w, side="left"):np.searchsorted(e, hi_w, side="right")] for e in ends]))
        lo, hi = cuts[:-1], cuts[1:]
        best_len = np.full(len(lo), -1.0)
        best = np.zeros(len(lo), dtype=np.int64)
        which = np.zeros(len(lo), dtype=np.int64)
        for k, ps in enumerate(kept):
            if not len(ps):
                continue
            i = np.searchsorted(ps[:, 0], lo, side="right") - 1  # the last period starting by the segment
            j = np.maximum(i, 0)
            length = np.where((i >= 0) & (ps[j, 1] >= hi), ps[j, 1] - ps[j, 0], -1.0)
            better = length > best_len  # strictly: the first node wins a tie (as argmax would)
            best_len = np.where(better, length, best_len)
            best = np.where(better, k, best)
            which = np.where(better, i, which)
        covered = best_len >= 0
        # a run of covered segments with the same (node, period) is one episode
        cont = np.zeros(len(lo), dtype=bool)  # segment j carries on segment j-1's episode
        cont[1:] = covered[1:] & covered[:-1] & (best[1:] == best[:-1]) & (which[1:] == which[:-1])
        if prev is not None:
            cont[0] = bool(covered[0]) and prev == (True, int(best[0]), int(which[0]))
        breaks = np.flatnonzero(~cont)
        if carry is not None:
            if cont[0]:  # the episode goes on into this window
                carry[3] = float(hi[breaks[0] - 1]) if len(breaks) else float(hi[-1])
            if len(breaks):
                out.append(_episode(names, kept, carry))
                carry = None
        for n, a in enumerate(breaks):
            if not covered[a]:
                continue
            z = breaks[n + 1] - 1 if n + 1 < len(breaks) else len(lo) - 1
            ep = [int(best[a]), int(which[a]), float(lo[a]), float(hi[z])]
            if n + 1 < len(breaks):
                out.append(_episode(names, kept, ep))
            else:
                carry = ep  # it may go on in the next window
        prev = (bool(covered[-1]), int(best[-1]), int(which[-1]))
        lo_w = hi_w
    if carry is not None:
        out.append(_episode(names, kept, carry))
    return out


def _episode(names: list[str], kept: list[np.ndarray], ep: list) -> Episode:
    node, pi, start, end = ep
    p = kept[node][pi]
    return Episode(names[node], start, end, (float(p[0]), float(p[1])))


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    """Parts of sorted disjoint ``intervals`` outside sorted disjoint ``holes``."""
    out: list[Interval] = []
    j = 0
    for a, b in intervals:
        while j < len(holes) and holes[j][1] <= a:
            j += 1
        k, cur = j, a
        while k < len(holes) and holes[k][0] < b:
            if holes[k][0] > cur:
                out.append((cur, holes[k][0]))
            cur = max(cur, holes[k][1])
            k += 1
        if cur < b:
            out.append((cur, b))
    return out


def _per_window(intervals: list[Interval] | np.ndarray, bounds: list[float]) -> list[float]:
    """Hours of sorted disjoint ``intervals`` inside each window [bounds[i], bounds[i+1]):
    differences of F(t), the hours covered before t (cumulative lengths of the intervals
    wholly before t plus the covered part of the one t falls in)."""
    if len(intervals) == 0:
        return [0.0] * (len(bounds) - 1)
    arr = np.asarray(intervals, dtype=float)
    a, length = arr[:, 0], arr[:, 1] - arr[:, 0]
    cum = np.concatenate([[0.0], np.cumsum(length)])
    t = np.asarray(bounds, dtype=float)
    k = np.searchsorted(a, t, side="right")  # intervals starting at or before t
    j = np.maximum(k - 1, 0)
    covered = cum[j] + np.where(k > 0, np.clip(t - a[j], 0.0, length[j]), 0.0)
    return np.diff(covered).tolist()


def shares_by_window(periods: Mapping[str, Periods], bounds: list[float]) -> dict[str, dict[str, list[float]]]:
    """Per node, per window [bounds[i], bounds[i+1]): hours active, sole and shifting."""
    eps = episodes(periods)
    windows: dict[str, list[Interval]] = {n: [] for n in periods}
    for e1, e2 in zip(eps, eps[1:]):
        if e1.node == e2.node:
            continue
        a, b = max(e1.period[0], e2.period[0]), min(e1.period[1], e2.period[1])
        if b > a:  # overlapping active periods: a shifting bottleneck
            windows[e1.node].append((a, b))
            windows[e2.node].append((a, b))
    out: dict[str, dict[str, list[float]]] = {}
    for n in periods:
        shift = _union(windows[n])
        mine = _union([(e.start, e.end) for e in eps if e.node == n])
        out[n] = {
            "active": _per_window(union_periods(as_array(periods[n])), bounds),
            "sole": _per_window(_subtract(mine, shift), bounds),
            "shifting": _per_window(shift, bounds),
        }
    return out


def sole_shifting(periods: Mapping[str, Periods], lo: float, hi: float) -> dict[str, tuple[float, float]]:
    """Hours of sole and shifting bottleneck per node within [lo, hi)."""
    res = shares_by_window(periods, [lo, hi])
    return {n: (r["sole"][0], r["shifting"][0]) for n, r in res.items()}
