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
    """Momentary bottlenecks over time, merged into episodes."""
    cuts = sorted({t for ps in periods.values() for p in ps for t in p})
    # pointer per node into its (sorted, disjoint) periods
    sorted_p = {n: sorted(ps) for n, ps in periods.items()}
    idx = {n: 0 for n in periods}
    out: list[Episode] = []
    for lo, hi in zip(cuts, cuts[1:]):
        best: tuple[float, str, Interval] | None = None
        for n, ps in sorted_p.items():
            i = idx[n]
            while i < len(ps) and ps[i][1] <= lo:
                i += 1
            idx[n] = i
            if i < len(ps) and ps[i][0] <= lo and ps[i][1] >= hi:
                length = ps[i][1] - ps[i][0]
                if best is None or length > best[0]:
                    best = (length, n, ps[i])
        if best is None:
            continue
        _, n, p = best
        if out and out[-1].node == n and out[-1].period == p and out[-1].end == lo:
            out[-1] = Episode(n, out[-1].start, hi, p)
        else:
            out.append(Episode(n, lo, hi, p))
    return out


def _clip(a: float, b: float, lo: float, hi: float) -> float:
    return max(0.0, min(b, hi) - max(a, lo))


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
    """Hours of sorted ``intervals`` inside each window [bounds[i], bounds[i+1])."""
    acc = [0.0] * (len(bounds) - 1)
    i = 0
    for a, b in intervals:
        while i < len(acc) and bounds[i + 1] <= a:
            i += 1
        k = i
        while k < len(acc) and bounds[k] < b:
            acc[k] += _clip(a, b, bounds[k], bounds[k + 1])
            k += 1
    return acc


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
