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

from model.core.timeline import sorted_periods, union_periods

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


@dataclass(frozen=True)
class Episodes:
    """Episodes as arrays, in time order: episode i is node ``names[node[i]]`` from ``start[i]``
    to ``end[i]``, made the bottleneck by its active period ``period[i]`` (start, end)."""

    names: list[str]
    node: np.ndarray
    start: np.ndarray
    end: np.ndarray
    period: np.ndarray

    def __len__(self) -> int:
        return len(self.node)

    def as_list(self) -> list[Episode]:
        return [Episode(self.names[n], s, e, (p0, p1)) for n, s, e, (p0, p1) in
                zip(self.node.tolist(), self.start.tolist(), self.end.tolist(), self.period.tolist())]


def episodes(periods: Mapping[str, Periods], window_h: float = WINDOW_H) -> list[Episode]:
    """Momentary bottlenecks over time, merged into episodes (:func:`episode_arrays` as a list)."""
    return episode_arrays(periods, window_h).as_list()


def episode_arrays(periods: Mapping[str, Periods], window_h: float = WINDOW_H) -> Episodes:
    """Momentary bottlenecks over time, merged into episodes.

    The cut points (every period's ends) split time into segments, each covered whole
    or not at all by any period; in each, the node whose covering period is longest is
    the bottleneck (the first such node in ``periods`` order on a tie). Vectorised per
    node over the segments of one window of ``window_h`` hours at a time; a window's
    bounds only split segments (both halves have the same covering periods), and an
    episode carries on across them, so the episodes do not depend on the window.
    The episodes of a window are arrays too (no Python object per episode: a 28-year
    replication has some 30,000 of them per chain of nodes).
    """
    names = list(periods)
    kept = [_sorted_periods(periods[n]) for n in names]
    ends = [np.sort(ps[:, 1]) if not np.all(ps[1:, 1] >= ps[:-1, 1]) else ps[:, 1] for ps in kept]
    firsts = [ps[0, 0] for ps in kept if len(ps)]
    parts: list[tuple[np.ndarray, ...]] = []  # per window: node, period index, start, end of its finished episodes
    if not names or not firsts:
        return _episodes(names, kept, parts)
    t0, t_end = min(firsts), max(float(e[-1]) for e in ends if len(e))
    # each node's periods' ends and lengths, after one for "no period yet" (it covers nothing)
    end_of = [np.concatenate([[-np.inf], ps[:, 1]]) for ps in kept]
    length_of = [np.concatenate([[-1.0], ps[:, 1] - ps[:, 0]]) for ps in kept]
    carry: list | None = None  # the episode still going at the end of the last window: [node, period, start, end]
    prev: tuple[bool, int, int] | None = None  # (covered, node, period) of the last segment so far
    lo_w = t0
    while lo_w < t_end:
        hi_w = min(lo_w + window_h, t_end)
        if t_end - hi_w < window_h * 1e-9:
            hi_w = t_end
        starts_in = [(int(np.searchsorted(ps[:, 0], lo_w, side="left")), int(np.searchsorted(ps[:, 0], hi_w, side="right")))
                     for ps in kept]
        cuts = np.unique(np.concatenate(
            [np.array([lo_w, hi_w])]
            + [ps[a:b, 0] for ps, (a, b) in zip(kept, starts_in)]
            + [e[np.searchsorted(e, lo_w, side="left"):np.searchsorted(e, hi_w, side="right")] for e in ends]))
        lo, hi = cuts[:-1], cuts[1:]
        best_len = np.full(len(lo), -1.0)
        best = np.zeros(len(lo), dtype=np.int64)
        which = np.zeros(len(lo), dtype=np.int64)
        for k, ps in enumerate(kept):
            if not len(ps):
                continue
            # the last period starting by each segment (1 + its index, 0 for none yet): those starting
            # before the window, and those starting at a cut point of it up to the segment's own (every
            # start in it is one)
            before, upto = starts_in[k]
            i = np.cumsum(np.bincount(np.searchsorted(cuts, ps[before:upto, 0]), minlength=len(cuts))[:-1]) + before
            length = np.where(end_of[k][i] >= hi, length_of[k][i], -1.0)  # -1: not covered by it
            better = length > best_len  # strictly: the first node wins a tie (as argmax would)
            best_len[better] = length[better]
            best[better] = k
            which[better] = i[better] - 1
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
                parts.append(tuple(np.array([v]) for v in carry))
                carry = None
        if len(breaks):
            last = np.empty(len(breaks), dtype=np.int64)  # the last segment of each break's run
            last[:-1] = breaks[1:] - 1
            last[-1] = len(lo) - 1
            done = covered[breaks[:-1]]  # every run but the last is finished; uncovered runs are no episode
            a, z = breaks[:-1][done], last[:-1][done]
            parts.append((best[a], which[a], lo[a], hi[z]))
            if covered[breaks[-1]]:  # the last run may go on in the next window
                b = breaks[-1]
                carry = [int(best[b]), int(which[b]), float(lo[b]), float(hi[-1])]
        prev = (bool(covered[-1]), int(best[-1]), int(which[-1]))
        lo_w = hi_w
    if carry is not None:
        parts.append(tuple(np.array([v]) for v in carry))
    return _episodes(names, kept, parts)


def _episodes(names: list[str], kept: list[np.ndarray], parts: list[tuple[np.ndarray, ...]]) -> Episodes:
    if not parts:
        empty = np.empty(0)
        return Episodes(names, np.empty(0, dtype=np.int64), empty, empty, np.empty((0, 2)))
    node, which, start, end = (np.concatenate([p[i] for p in parts]) for i in range(4))
    node = node.astype(np.int64)
    offset = np.cumsum([0] + [len(ps) for ps in kept])
    every = np.concatenate(kept) if kept else np.empty((0, 2))
    return Episodes(names, node, start.astype(np.float64), end.astype(np.float64),
                    every[offset[node] + which.astype(np.int64)])


def _subtract(intervals: np.ndarray, holes: np.ndarray) -> np.ndarray:
    """Parts of sorted disjoint ``intervals`` outside sorted disjoint ``holes`` ((n, 2) arrays,
    as :func:`~model.core.timeline.union_periods` makes them): each interval cut by the gaps
    between the holes, pieces of positive length only."""
    if not len(holes) or not len(intervals):
        return intervals
    gaps = np.empty((len(holes) + 1, 2))  # the complement of the holes
    gaps[0, 0], gaps[-1, 1] = -np.inf, np.inf
    gaps[1:, 0] = holes[:, 1]
    gaps[:-1, 1] = holes[:, 0]
    a, b = intervals[:, 0], intervals[:, 1]
    first = np.searchsorted(gaps[:, 1], a, side="right")  # the first gap ending after the interval starts
    stop = np.searchsorted(gaps[:, 0], b, side="left")  # past the last gap starting before it ends
    count = np.maximum(stop - first, 0)
    owner = np.repeat(np.arange(len(intervals)), count)
    g = np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())
    lo = np.maximum(a[owner], gaps[g, 0])
    hi = np.minimum(b[owner], gaps[g, 1])
    keep = hi > lo
    return np.column_stack([lo[keep], hi[keep]])


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
    eps = episode_arrays(periods)
    # consecutive episodes of two nodes whose active periods overlap: a shifting bottleneck, both nodes
    # get the overlap
    pair = eps.node[1:] != eps.node[:-1]
    lo = np.maximum(eps.period[:-1, 0], eps.period[1:, 0])
    hi = np.minimum(eps.period[:-1, 1], eps.period[1:, 1])
    pair &= hi > lo
    first, second, overlap = eps.node[:-1][pair], eps.node[1:][pair], np.column_stack([lo[pair], hi[pair]])
    mine_all = np.column_stack([eps.start, eps.end])
    out: dict[str, dict[str, list[float]]] = {}
    for k, n in enumerate(eps.names):
        shift = union_periods(overlap[(first == k) | (second == k)])
        mine = union_periods(mine_all[eps.node == k])
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
