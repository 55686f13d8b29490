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

>>> periods = {"A": [(0.0, 6.0)], "B": [(4.0, 12.0)]}
>>> sole_shifting(periods, 0.0, 12.0)["A"]
(4.0, 2.0)
>>> sole_shifting(periods, 0.0, 12.0)["B"]
(6.0, 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .timeline import union_intervals as _union

Interval = tuple[float, float]


@dataclass(frozen=True)
class Episode:
    """A stretch of time during which one node is the momentary bottleneck."""

    node: str
    start: float
    end: float
    period: Interval  # the active period of the node that made it the bottleneck


def episodes(periods: dict[str, list[Interval]]) -> list[Episode]:
    """Momentary bottlenecks over time, merged into episodes.

    The cut points (every period's ends) split time into segments, each covered whole
    or not at all by any period; in each, the node whose covering period is longest is
    the bottleneck (the first such node in ``periods`` order on a tie). Vectorised:
    one (nodes x segments) array of covering-period lengths and an argmax per segment.
    """
    names = list(periods)
    cuts = np.unique(np.array([t for ps in periods.values() for p in ps for t in p], dtype=float))
    if len(cuts) < 2 or not names:
        return []
    lo, hi = cuts[:-1], cuts[1:]
    length = np.full((len(names), len(lo)), -1.0)
    which = np.zeros((len(names), len(lo)), dtype=np.int64)
    kept: list[np.ndarray] = []
    for k, n in enumerate(names):
        ps = np.array(sorted(p for p in periods[n] if p[1] > p[0]), dtype=float).reshape(-1, 2)
        kept.append(ps)
        if not len(ps):
            continue
        i = np.searchsorted(ps[:, 0], lo, side="right") - 1  # the last period starting by the segment
        ok = (i >= 0) & (ps[np.maximum(i, 0), 1] >= hi)
        length[k] = np.where(ok, ps[np.maximum(i, 0), 1] - ps[np.maximum(i, 0), 0], -1.0)
        which[k] = i
    best = np.argmax(length, axis=0)
    seg = np.arange(len(lo))
    covered = length[best, seg] >= 0
    period_of = which[best, seg]
    # a run of covered segments with the same (node, period) is one episode
    cont = np.zeros(len(lo), dtype=bool)  # segment j carries on segment j-1's episode
    cont[1:] = covered[1:] & covered[:-1] & (best[1:] == best[:-1]) & (period_of[1:] == period_of[:-1])
    starts = np.flatnonzero(covered & ~cont)
    breaks = np.flatnonzero(~cont)
    nxt = np.searchsorted(breaks, starts, side="right")
    last = np.where(nxt < len(breaks), breaks[np.minimum(nxt, len(breaks) - 1)] - 1, len(lo) - 1)
    out: list[Episode] = []
    for a, z in zip(starts, last):
        node, pi = int(best[a]), int(period_of[a])
        p = kept[node][pi]
        out.append(Episode(names[node], float(lo[a]), float(hi[z]), (float(p[0]), float(p[1]))))
    return out


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


def _per_window(intervals: list[Interval], bounds: list[float]) -> list[float]:
    """Hours of sorted disjoint ``intervals`` inside each window [bounds[i], bounds[i+1]):
    differences of F(t), the hours covered before t (cumulative lengths of the intervals
    wholly before t plus the covered part of the one t falls in)."""
    if not intervals:
        return [0.0] * (len(bounds) - 1)
    arr = np.asarray(intervals, dtype=float)
    a, length = arr[:, 0], arr[:, 1] - arr[:, 0]
    cum = np.concatenate([[0.0], np.cumsum(length)])
    t = np.asarray(bounds, dtype=float)
    k = np.searchsorted(a, t, side="right")  # intervals starting at or before t
    j = np.maximum(k - 1, 0)
    covered = cum[j] + np.where(k > 0, np.clip(t - a[j], 0.0, length[j]), 0.0)
    return np.diff(covered).tolist()


def shares_by_window(periods: dict[str, list[Interval]], bounds: list[float]) -> dict[str, dict[str, list[float]]]:
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
            "active": _per_window(_union(periods[n]), bounds),
            "sole": _per_window(_subtract(mine, shift), bounds),
            "shifting": _per_window(shift, bounds),
        }
    return out


def sole_shifting(periods: dict[str, list[Interval]], lo: float, hi: float) -> dict[str, tuple[float, float]]:
    """Hours of sole and shifting bottleneck per node within [lo, hi)."""
    res = shares_by_window(periods, [lo, hi])
    return {n: (r["sole"][0], r["shifting"][0]) for n, r in res.items()}
