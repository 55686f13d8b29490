"""The fast paths give the same numbers as the slow, obvious ones (issue 16): closed-form
quantiles against scipy.stats, the vectorised active-period episodes against a
segment-by-segment reference, vectorised t-intervals against one group at a time; a
worker's replication does not import scipy.stats; the collector is restored after a run."""

from __future__ import annotations

import gc
import math
import subprocess
import sys
from array import array
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.analysis.bottleneck import Episode, episodes, shares_by_window
from model.core.distributions import as_distribution, quantiles
from model.analysis.stats import summarise, t_interval


@pytest.mark.parametrize("spec, ppf", [
    ({"dist": "exponential", "mean": 3.0}, lambda s, u: s.expon(scale=3.0).ppf(u)),
    ({"dist": "uniform", "low": 1.0, "high": 4.0}, lambda s, u: s.uniform(loc=1.0, scale=3.0).ppf(u)),
    ({"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 5.0}, lambda s, u: s.triang(c=0.25, loc=1, scale=4).ppf(u)),
    ({"dist": "triangular", "low": 1.0, "mode": 1.0, "high": 5.0}, lambda s, u: s.triang(c=0.0, loc=1, scale=4).ppf(u)),
    ({"dist": "lognormal", "mean": 2.0, "cv": 0.5},
     lambda s, u: s.lognorm(s=math.sqrt(math.log(1.25)), scale=math.exp(math.log(2.0) - math.log(1.25) / 2)).ppf(u)),
])
def test_closed_form_quantiles_equal_scipy(spec, ppf):
    from scipy import stats

    u = (np.arange(2000) + 0.5) / 2000
    assert quantiles(as_distribution(spec)) == pytest.approx(ppf(stats, u), rel=1e-12, abs=1e-12)


def _reference_episodes(periods: dict[str, list[tuple[float, float]]]) -> list[Episode]:
    """The definition, segment by segment: the covering period that is longest wins
    (the first node on a tie); contiguous segments of one node and period merge."""
    cuts = sorted({t for ps in periods.values() for p in ps for t in p})
    out: list[Episode] = []
    for lo, hi in zip(cuts, cuts[1:]):
        cover = [(b - a, n, (a, b)) for n, ps in periods.items() for a, b in ps if a <= lo and b >= hi and b > a]
        if not cover:
            continue
        best = max(cover, key=lambda c: c[0])  # max keeps the first of equals: periods order
        _, n, p = best
        if out and out[-1].node == n and out[-1].period == p and out[-1].end == lo:
            out[-1] = Episode(n, out[-1].start, hi, p)
        else:
            out.append(Episode(n, lo, hi, p))
    return out


def _reference_shares(periods: dict[str, list[tuple[float, float]]], bounds: list[float]) -> dict[str, dict]:
    """The definition, interval by interval: consecutive episodes of two nodes whose periods overlap
    give both that overlap as shifting time; a node's sole time is its episodes less its shifting
    time; each summed per window by clipping."""
    eps = _reference_episodes(periods)

    def union(iv: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[list[float]] = []
        for a, b in sorted(iv):
            if out and a <= out[-1][1]:
                out[-1][1] = max(out[-1][1], b)
            else:
                out.append([a, b])
        return [(a, b) for a, b in out]

    def minus(iv: list[tuple[float, float]], holes: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for h0, h1 in holes:
            iv = [p for a, b in iv for p in ((a, min(b, h0)), (max(a, h1), b)) if p[1] > p[0]]
        return iv

    def per_window(iv: list[tuple[float, float]]) -> list[float]:
        return [sum(max(0.0, min(b, hi) - max(a, lo)) for a, b in iv) for lo, hi in zip(bounds, bounds[1:])]

    shifting: dict[str, list[tuple[float, float]]] = {n: [] for n in periods}
    for e1, e2 in zip(eps, eps[1:]):
        a, b = max(e1.period[0], e2.period[0]), min(e1.period[1], e2.period[1])
        if e1.node != e2.node and b > a:
            shifting[e1.node].append((a, b))
            shifting[e2.node].append((a, b))
    out = {}
    for n, ps in periods.items():
        shift = union(shifting[n])
        mine = union([(e.start, e.end) for e in eps if e.node == n])
        out[n] = {"active": per_window(union([p for p in ps if p[1] > p[0]])), "sole": per_window(minus(mine, shift)),
                  "shifting": per_window(shift)}
    return out


def _disjoint(draw_starts: list[int]) -> list[tuple[float, float]]:
    pts = sorted(set(draw_starts))
    return [(float(a), float(b)) for a, b in zip(pts[::2], pts[1::2])]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.integers(0, 60), max_size=12), min_size=1, max_size=4),
       st.sampled_from([1e9, 7.0, 2.5, 1.0]))
def test_vectorised_episodes_follow_the_definition(raw, window_h):
    """Whatever the window the episodes are found in (a window's bounds fall inside
    segments, on cut points, inside episodes), and whether the periods are lists or
    flat arrays as the records keep them."""
    periods = {f"n{i}": _disjoint(r) for i, r in enumerate(raw)}
    assert episodes(periods, window_h=window_h) == _reference_episodes(periods)
    flat = {n: array("d", [t for p in ps for t in p]) for n, ps in periods.items()}
    assert episodes(flat, window_h=window_h) == _reference_episodes(periods)
    shares = shares_by_window(periods, [0.0, 30.0, 61.0])
    assert shares_by_window(flat, [0.0, 30.0, 61.0]) == shares
    reference = _reference_shares(periods, [0.0, 30.0, 61.0])
    for n in periods:  # (the reference sums clipped pieces, the fast path differences of running totals)
        for k in ("active", "sole", "shifting"):
            assert shares[n][k] == pytest.approx(reference[n][k], rel=1e-12, abs=1e-9), (n, k)
    for n, ps in periods.items():  # active hours per window add up to each node's periods
        assert sum(shares[n]["active"]) == pytest.approx(sum(b - a for a, b in ps))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 6)), max_size=10), min_size=1, max_size=4),
       st.sampled_from([3.0, 0.7]))
def test_episodes_of_touching_periods_follow_the_definition(raw, window_h):
    """Periods as a node records them: one may start where the last ended (set inactive and
    active again at one instant); each is a period of its own, with its own length."""
    periods = {}
    for i, r in enumerate(raw):
        t, ps = 0.0, []
        for gap, length in r:
            t += gap
            if length:
                ps.append((t, t + length))
                t += length
        periods[f"n{i}"] = ps
    assert episodes(periods, window_h=window_h) == _reference_episodes(periods)
    shares, reference = shares_by_window(periods, [0.0, 50.0, 500.0]), _reference_shares(periods, [0.0, 50.0, 500.0])
    assert {n: {k: pytest.approx(v, rel=1e-12, abs=1e-9) for k, v in r.items()} for n, r in reference.items()} == shares


def test_vectorised_summary_equals_one_group_at_a_time():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"scenario": "s", "year": np.repeat([2024, 2025, 2026], 5), "x": rng.normal(size=15),
                       "y": rng.exponential(size=15)})
    df.loc[[0, 1, 2, 3], "y"] = np.nan  # 2024: one y left (no interval); NaNs ignored
    s = summarise(df, ["scenario", "year"], ["x", "y"]).set_index(["year", "measure"])
    for (year, m), row in s.iterrows():
        mean, sd, lo, hi = t_interval(df.loc[df["year"] == year, m].to_numpy())
        assert row["n"] == df.loc[df["year"] == year, m].notna().sum()
        assert [row["mean"], row["sd"], row["ci95_lo"], row["ci95_hi"]] == pytest.approx(
            [mean, sd, lo, hi], rel=1e-12, nan_ok=True)


def test_a_replication_does_not_import_scipy_stats():
    """Workers pay every import: scipy.stats alone cost more than a second."""
    path = Path(__file__).resolve().parent.parent / "scenarios" / "as_built_2024.yaml"
    # one year is enough to import what a replication imports (the file runs to 2050)
    code = ("import sys, datetime; from model.scenario.loader import load_scenario; "
            "from model.engine.simulate import run_replication; "
            f"from model.analysis.tables import tables; s = load_scenario({str(path)!r}); "
            "s = s.model_copy(update={'end_date': datetime.date(2025, 1, 1)}); "
            "tables(run_replication(s, 0)); print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.strip() == "False"


def test_the_collector_is_restored_after_a_run():
    from model.engine.simulate import quiet_collector

    before = gc.get_threshold()
    with quiet_collector():
        assert gc.get_threshold()[0] > before[0]
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_a_sweep_job_builds_only_the_tables_its_measures_read(monkeypatch):
    """The bottleneck tables are most of a replication's post-processing; a sweep measuring
    the corridor must not pay for them, and gets the same corridor numbers."""
    import model.analysis.tables as metrics
    from model.experiments.runner import Extract, _stored_job
    from model.engine.simulate import run_replication
    from simkit import make_scenario, stream

    s = make_scenario({"a": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 500.0, "service": "fixed"}},
                      {"x": stream(["a"], 1.0, 1000.0)})
    full = metrics.tables(run_replication(s, 0))

    def boom(_r):
        raise AssertionError("built a table the sweep does not read")

    monkeypatch.setattr(metrics, "active_period_table", boom)
    monkeypatch.setattr(metrics, "flow_bottleneck_table", boom)
    got = _stored_job(s, 0, None, Extract(lambda t: t["corridor"], frozenset({"corridor"}), "corridor"))
    pd.testing.assert_frame_equal(got, full["corridor"])
