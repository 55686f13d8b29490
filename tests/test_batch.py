"""Batches: confidence intervals, active-period bottlenecks, common random numbers."""

import numpy as np
import pytest
from scipy import special, stats

from model.experiments.runner import run_many
from model.analysis.bottleneck import episodes, shares_by_window, sole_shifting
from model.analysis.stats import t_interval
from model.analysis.summary import long_summary, paired_differences
from model.scenario.schema import Scenario


# ------------------------------------------------------------ t intervals


def test_t_interval_covers_known_mean_at_nominal_rate():
    """On synthetic normal data of known mean and variance, the 95% interval covers the
    mean in about 95% of 4,000 samples (binomial 99.9% band), and its half-width
    matches t * sigma / sqrt(n) on average."""
    rng = np.random.default_rng(2024)
    n, trials, mu, sigma = 5, 4000, 10.0, 3.0
    cover, half = 0, []
    for _ in range(trials):
        x = rng.normal(mu, sigma, n)
        m, sd, lo, hi = t_interval(x)
        cover += lo <= mu <= hi
        half.append((hi - lo) / 2)
    p = cover / trials
    band = stats.norm.ppf(0.9995) * np.sqrt(0.95 * 0.05 / trials)
    assert abs(p - 0.95) < band, f"coverage {p:.3f} outside 0.95 ± {band:.3f}"
    # E[s] = c4 * sigma for normal samples
    c4 = np.sqrt(2 / (n - 1)) * np.exp(special.gammaln(n / 2) - special.gammaln((n - 1) / 2))
    expected = stats.t.ppf(0.975, n - 1) * c4 * sigma / np.sqrt(n)
    se = np.std(half, ddof=1) / np.sqrt(trials)
    assert abs(np.mean(half) - expected) < 4 * se


def test_t_interval_matches_scipy():
    x = np.array([3.1, 4.7, 2.2, 5.9, 4.4, 3.8])
    m, sd, lo, hi = t_interval(x)
    ref = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (lo, hi) == pytest.approx(ref)


# ---------------------------------------------------- active-period method


def test_single_node_is_sole_bottleneck_while_active():
    res = sole_shifting({"A": [(2.0, 5.0)], "B": []}, 0.0, 10.0)
    assert res == {"A": (3.0, 0.0), "B": (0.0, 0.0)}


def test_longest_active_period_wins_and_overlap_is_shifting():
    # A active 0-10, B active 8-20, C active 12-14 (inside B, shorter).
    periods = {"A": [(0.0, 10.0)], "B": [(8.0, 20.0)], "C": [(12.0, 14.0)]}
    eps = episodes(periods)
    assert [(e.node, e.start, e.end) for e in eps] == [("A", 0.0, 8.0), ("B", 8.0, 20.0)]
    res = sole_shifting(periods, 0.0, 20.0)
    # A and B overlap on 8-10: shifting for both; the rest of each is sole; C never leads.
    assert res["A"] == (8.0, 2.0)
    assert res["B"] == (10.0, 2.0)
    assert res["C"] == (0.0, 0.0)


def test_no_overlap_means_no_shifting():
    periods = {"A": [(0.0, 4.0), (10.0, 12.0)], "B": [(5.0, 9.0)]}
    res = sole_shifting(periods, 0.0, 12.0)
    assert res == {"A": (6.0, 0.0), "B": (4.0, 0.0)}


def test_shares_split_by_window():
    periods = {"A": [(0.0, 10.0)], "B": [(8.0, 20.0)]}
    res = shares_by_window(periods, [0.0, 9.0, 20.0])
    assert res["A"]["sole"] == [8.0, 0.0]
    assert res["A"]["shifting"] == [1.0, 1.0]
    assert res["B"]["sole"] == [0.0, 10.0]
    assert res["A"]["active"] == [9.0, 1.0]


# ------------------------------------------------ whole-model batch checks


def _tight_scenario(name: str = "tight", ferry_fleet: int = 2) -> Scenario:
    """A port feeding a small ferry fleet feeding a big port: the fleet is tight."""
    return Scenario.model_validate({
        "name": name, "start_date": "2024-01-01", "end_date": "2026-01-01", "seed": 7, "replications": 4,
        "nodes": {
            "a": {"kind": "port", "berths": 3, "capacity_mt_per_year": 6.0},
            "ferry": {"kind": "sea_link", "fleet": ferry_fleet, "vessel_payload_t": 3000,
                      "load_h": {"dist": "uniform", "low": 6, "high": 10}, "crossing_h": 20,
                      "unload_h": 8, "max_wait_h": 24,
                      "storms": {"events_per_month": 0.5, "duration_days": {"dist": "uniform", "low": 2, "high": 4}}},
            "b": {"kind": "port", "berths": 4, "capacity_mt_per_year": 10.0},
            "rail": {"kind": "rail_line", "paths_per_day": 8, "train_payload_t": 2000, "transit_h": 24},
        },
        "streams": {"cargo": {"commodity": "general", "volume_mt_per_year": 1.5, "shipment_t": 1000,
                              "route": ["a", "ferry", "b", "rail"]}},
    })


@pytest.fixture(scope="module")
def tight_runs():
    base = _tight_scenario()
    more = _tight_scenario("more_ferries", ferry_fleet=3)
    return run_many([(s, k) for s in (base, more) for k in range(6)], workers=2)


def test_tight_node_is_the_bottleneck_in_every_replication(tight_runs):
    ap = tight_runs["active_periods"]
    ap = ap[ap["scenario"] == "tight"]
    ap = ap.assign(total=ap["sole_share"] + ap["shifting_share"])
    top = ap.loc[ap.groupby(["replication", "year"])["total"].idxmax(), "node"]
    assert set(top) == {"ferry"}, f"expected the ferry fleet everywhere, got {top.tolist()}"
    b = tight_runs["bottlenecks"]
    assert set(b.loc[b["scenario"] == "tight", "by_utilization"]) == {"ferry"}


def test_common_random_numbers_narrow_the_difference_interval(tight_runs):
    corr = tight_runs["corridor"]
    a = corr[(corr["scenario"] == "tight") & (corr["year"] == 2025)].sort_values("replication")["transit_p50_days"]
    b = corr[(corr["scenario"] == "more_ferries") & (corr["year"] == 2025)].sort_values("replication")["transit_p50_days"]
    a, b = a.to_numpy(), b.to_numpy()
    _, _, plo, phi = t_interval(b - a)
    # unpaired (Welch) interval on the same runs
    va, vb, n = a.var(ddof=1), b.var(ddof=1), len(a)
    se = np.sqrt(va / n + vb / n)
    dof = (va / n + vb / n) ** 2 / ((va / n) ** 2 / (n - 1) + (vb / n) ** 2 / (n - 1))
    unpaired_half = stats.t.ppf(0.975, dof) * se
    assert (phi - plo) / 2 < unpaired_half, "pairing by replication should tighten the interval"
    assert phi < 0, "a third ferry should cut the median transit time"


def test_summary_and_differences_tables(tight_runs):
    s = long_summary(tight_runs)
    row = s[(s["scenario"] == "tight") & (s["entity"] == "ferry") & (s["measure"] == "throughput_t") & (s["year"] == 2025)]
    assert len(row) == 1 and row["n"].iloc[0] == 6
    assert row["ci95_lo"].iloc[0] <= row["mean"].iloc[0] <= row["ci95_hi"].iloc[0]
    d = paired_differences(tight_runs)
    assert set(d["scenario"]) == {"more_ferries"} and set(d["reference"]) == {"tight"}
    assert {"delivered_mt", "transit_p50_days"} <= set(d["measure"])


# ------------------------------------------------------------ folders: bound table, comparing folders


def _write_folder(tmp_path, name: str, scenario: Scenario, seed: int, reps: int):
    import model

    return model.run(scenario, replications=reps, seed=seed, workers=1).write(tmp_path / name, plots=False)


def test_run_folder_holds_the_capacity_bound_and_compare_keeps_scenarios_apart(tmp_path):
    import pandas as pd

    from model.outputs.results import read_many

    s = _tight_scenario()
    a = _write_folder(tmp_path, "a", s, seed=1, reps=2)
    bound = pd.read_csv(a / "bound.csv")
    corr = pd.read_csv(a / "corridor.csv").groupby("year")["delivered_t"].mean()
    assert set(bound["year"]) == set(corr.index)
    # the static bound is the ferry's capacity: it is never beaten by the mean delivered
    assert (corr.to_numpy() <= bound.set_index("year").loc[corr.index, "bound_t"].to_numpy()).all()
    assert set(bound["cut"]) == {"ferry"}
    assert read_many([a])[0].corridor_summary["bound_mt"].notna().all()

    same = _write_folder(tmp_path, "same", s, seed=1, reps=3)  # same seed: replications 0, 1 are the same runs
    t, notes = read_many([a, same])
    assert len(notes) == 1 and "is the same as in" in notes[0] and "counts once" in notes[0]
    assert sorted(t.corridor["replication"].unique()) == [0, 1, 2]
    assert len(t.corridor) == 3 * t.corridor["year"].nunique()
    assert len(t.perf) == 3  # one row per replication, whichever folder it came from

    other = _write_folder(tmp_path, "other", s, seed=2, reps=2)  # another seed: another scenario
    t, notes = read_many([a, other])
    assert set(t.corridor["scenario"]) == {"tight", "tight@other"}
    assert len(notes) == 1 and "not paired" in notes[0]
