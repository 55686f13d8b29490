"""Waits and transit times are kept per year as counts, exact sums and histograms
(``model.core.histogram``): means stay exact, and a percentile is within the stated bound
(0.05 h + 0.25 % of the value, so within max(0.1 h, 0.5 %)) of numpy's exact one, on
random samples and on a baseline replication's own waits and transits, recorded both
ways (the records, and every value one by one through ``simkit.run_traced``)."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.core.histogram import EDGES_H, TRANSIT_BINS_DAYS, YearSamples, error_bound, pooled_percentile
from model.scenario.loader import load_scenario
from simkit import run_traced

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"

values = st.one_of(
    st.just(0.0),  # no wait: most waits
    st.floats(0.0, 25.0, allow_nan=False),  # the linear bins and where they turn geometric
    st.floats(0.0, 5_000.0, allow_nan=False),
    st.sampled_from([19.95, 20.0, 20.05, 0.05, 0.1]),  # bin edges
    st.floats(5_000.0, 400_000.0, allow_nan=False),  # decades of waiting: the far tail
)


def _within(est: float, exact: float, unit_h: float = 1.0) -> bool:
    return abs(est - exact) <= error_bound(exact, unit_h) * (1 + 1e-9) + 1e-12


def _recorded(vals: list[float], unit_h: float = 1.0) -> YearSamples:
    s = YearSamples(1, unit_h=unit_h)
    for v in vals:
        s.add(0, v)
    s.close()
    return s


def test_the_bins_are_as_stated():
    widths = np.diff(EDGES_H)
    lin = EDGES_H[1:] <= 20.0 + 1e-9
    assert widths[lin] == pytest.approx(0.05)
    assert (widths[~lin] <= 0.0025 * EDGES_H[:-1][~lin] * (1 + 1e-12)).all()
    assert EDGES_H[-1] > 50 * 8784  # past the longest horizon a scenario may have


@settings(max_examples=300, deadline=None)
@given(st.lists(values, min_size=1, max_size=300), st.floats(0.0, 100.0), st.sampled_from([1.0, 24.0]))
def test_a_percentile_from_the_histogram_is_within_the_bound(vals, q, unit_h):
    s = _recorded(vals, unit_h)
    v = np.asarray(vals) / unit_h
    for p in (q, 50.0, 95.0):
        exact = float(np.percentile(v, p))
        assert _within(s.percentile(0, p), exact, unit_h), (p, s.percentile(0, p), exact)
    assert s.mean(0) == float(np.mean(v))  # means stay exact: numpy's own sum of the same values
    assert s.sum(0) == float(np.sum(v)) and s.count(0) == len(vals)
    assert s.max(0) == v.max() and s.min(0) == v.min()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(values, max_size=60), min_size=1, max_size=4), st.floats(0.0, 100.0))
def test_pooled_histograms_give_the_percentile_of_the_pooled_samples(parts, q):
    """Several streams (or years) pooled by adding their histograms' counts."""
    recs = []
    for vals in parts:
        s = YearSamples(2, unit_h=24.0)
        for i, v in enumerate(vals):
            s.add(i % 2, v)  # years interleaved: each change of year closes one and opens the other
        s.close()
        recs.append(s)
    every = np.concatenate([np.asarray(v, dtype=float) for v in parts]) / 24.0
    est = pooled_percentile(recs, [0, 1], q)
    if not len(every):
        assert np.isnan(est)
        return
    assert _within(est, float(np.percentile(every, q)), 24.0)
    assert sum(sum(r.n) for r in recs) == len(every)


def test_the_transit_histogram_table_counts_exactly():
    rng = np.random.default_rng(3)
    h = np.concatenate([rng.exponential(200.0, 5000), rng.uniform(0, 30 * 24, 500), [0.0, 12.0, 24.0, 2580 * 24.0]])
    s = YearSamples(3, unit_h=24.0, horizon_edges=TRANSIT_BINS_DAYS)
    for i, v in enumerate(h):
        s.add(i * 3 // len(h), float(v))
    s.close()
    assert s.horizon_counts is not None
    assert (s.horizon_counts == np.histogram(h / 24.0, bins=TRANSIT_BINS_DAYS)[0]).all()


@pytest.mark.parametrize("years", [pytest.param(3, id="3y"), pytest.param(7, id="7y", marks=pytest.mark.slow)])
def test_a_baseline_replication_recorded_both_ways(years):
    """Every node-year's mean and p95 wait, every stream-year's and commodity-year's transit
    mean, p50 and p95 (from the border and from the port): the records' means are numpy's
    exact ones and their percentiles within the bound of numpy's, computed from every
    value recorded one by one."""
    s = load_scenario(BASELINE)
    end = datetime.date(s.start_date.year + years, s.start_date.month, s.start_date.day)
    tr = run_traced(s.model_copy(update={"end_date": min(end, s.end_date)}), seed=s.seed)
    r = tr.records
    grid = r.grid
    checked = 0
    # waits: the trace holds them in the order recorded; the year is the one they ended in,
    # which the records' own counts give (values are recorded in time order)
    for nid, node in r.nodes.items():
        w = tr.wait_h[nid]
        bounds = np.cumsum([0] + node.waits.n)
        assert bounds[-1] == len(w)
        for y in range(len(grid)):
            year = w[bounds[y]:bounds[y + 1]]
            if not len(year):
                assert np.isnan(node.waits.percentile(y, 95))
                continue
            assert node.waits.mean(y) == float(np.mean(year))
            assert _within(node.waits.percentile(y, 95), float(np.percentile(year, 95)))
            checked += 1
    commodity: dict[tuple[str, int], list[np.ndarray]] = {}
    for sid, rec in r.streams.items():
        log = rec.log
        assert log is not None
        delivered = np.asarray(log.delivered_h)
        year_of = np.array([grid.index(h) for h in delivered], dtype=int)
        for which, samples in (("transit", rec.transit), ("port", rec.port_transit)):
            days = (tr.transit_h[sid] if which == "transit" else tr.port_transit_h[sid]) / 24.0
            for y in range(len(grid)):
                d = days[year_of == y]
                assert samples.count(y) == len(d)
                if not len(d):
                    continue
                assert samples.mean(y) == float(np.mean(d))
                for q in (50, 95):
                    assert _within(samples.percentile(y, q), float(np.percentile(d, q)), 24.0)
                if which == "transit":
                    commodity.setdefault((r.scenario.streams[sid].commodity, y), []).append(d)
                checked += 1
    for (c, y), parts in commodity.items():
        sids = [sid for sid in r.streams if r.scenario.streams[sid].commodity == c]
        every = np.concatenate(parts)
        for q in (50, 95):
            est = pooled_percentile([r.streams[sid].transit for sid in sids], [y], q)
            assert _within(est, float(np.percentile(every, q)), 24.0)
    assert checked > 30 * years
