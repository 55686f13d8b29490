"""Appraisals that stop when the answer is sure (``appraise --precision``): the storm calendar's
expectation against the engine's own calendars, control variates against Lavenberg & Welch's
theory and their coverage, KN's pairwise screening against its guarantee, replications drawn in
blocks, and an appraisal in rounds on a toy corridor."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simkit import binomial_tolerance, make_scenario, stream
from model.analysis.precision import (Controls, Target, at_expected_values, controlled, decide, expected_storm_hours,
                                      input_mean, kn_h2, separated, stein, storm_hours)
from model.core.weather import StormSpec
from model.core.years import YearGrid
from model.experiments.appraise import appraise
from model.experiments.runner import drawn, drawn_inputs
from model.scenario.uncertainty import UncertainInput, get_path, sample_scenarios

ROOT = Path(__file__).resolve().parent.parent
SHIP = 1000.0


# ------------------------------------------------------------------ the target


def test_a_precision_is_mt_by_default_musd_or_a_share():
    assert Target.parse(0.05) == Target(0.05, "mt") == Target.parse("0.05") == Target.parse("0.05Mt")
    assert Target.parse("20musd") == Target(20.0, "musd")
    assert Target.parse("5%") == Target(0.05, "relative")
    assert Target.parse("0.05").measure(economic=True) == "gain_mt"
    assert Target.parse("5%").measure(economic=True) == "npv_musd"
    assert Target.parse("5%").measure(economic=False) == "gain_mt"
    assert Target.parse("5%").width(-200.0) == pytest.approx(10.0)
    for bad in ("0", "-1", "abc", "120%", "5 km"):
        with pytest.raises(ValueError):
            Target.parse(bad)


# ------------------------------------------------------------------ storm hours: a control with a known mean


SEA = {"sea": StormSpec(events_per_month=[3.0, 2.0, 1.0, 0.5, 0.2, 0.2, 0.2, 0.2, 0.5, 1.0, 2.0, 3.0],
                        duration_days={"dist": "uniform", "low": 1.0, "high": 4.0})}


def test_expected_storm_hours_is_the_mean_of_the_calendars_the_engine_draws():
    """Two years of a strongly seasonal sea: the renewal equation's expectation against 1,500
    calendars drawn by the engine's own code (each replication's streams), within 4 standard
    errors of their mean."""
    start = date(2024, 1, 1)
    horizon = YearGrid(start, date(2026, 1, 1)).horizon_h
    hours = np.array([storm_hours(SEA, start, horizon, 11, k)["sea"] for k in range(1500)])
    se = hours.std(ddof=1) / math.sqrt(hours.size)
    expected = expected_storm_hours(SEA["sea"], start, horizon)
    assert abs(hours.mean() - expected) < 4 * se
    # no storm may start during one: the expectation is below the rate x mean duration of Poisson storms
    poisson = sum(SEA["sea"].events_per_month) * 2 * 2.5 * 24
    assert expected < 0.95 * poisson


def test_storm_hours_are_the_same_in_every_variant_of_a_replication():
    """The control is the area's calendar: it depends on the seed and replication only."""
    start = date(2024, 1, 1)
    a = storm_hours(SEA, start, 8784.0, 3, 2)
    assert a == storm_hours(SEA, start, 8784.0, 3, 2) and a != storm_hours(SEA, start, 8784.0, 3, 1)


def test_an_input_mean_is_its_distributions_within_its_truncation():
    assert input_mean(UncertainInput(path="x", dist="uniform", low=2, high=6)) == pytest.approx(4.0, abs=1e-9)
    assert input_mean(UncertainInput(path="x", dist="triangular", low=0.5, mode=1.0, high=1.5)) == \
        pytest.approx(1.0, abs=1e-9)
    # asymmetric: (a + m + b) / 3, less what the 0.1% tails cut (under 0.001 of the range here)
    assert input_mean(UncertainInput(path="x", dist="triangular", low=0.5, mode=1.0, high=2.0)) == \
        pytest.approx(3.5 / 3, abs=1.5e-3)
    assert input_mean(UncertainInput(path="x", dist="uniform", low=4, high=6, integer=True)) == \
        pytest.approx(5.0, abs=1e-9)


# ------------------------------------------------------------------ control variates


def _data(rng: np.random.Generator, n: int, r2: float, extra: int = 0) -> tuple[np.ndarray, Controls]:
    """y = 1 + b x + e with x, e standard normal and b set for the share ``r2`` of Var(y) that x
    explains; ``extra`` controls that explain nothing."""
    x = rng.normal(size=(n, 1 + extra))
    y = 1.0 + math.sqrt(r2 / (1.0 - r2)) * x[:, 0] + rng.normal(size=n)
    return y, Controls([f"x{j}" for j in range(1 + extra)], x, np.zeros(1 + extra))


def test_a_control_that_explains_most_of_the_variance_removes_it_as_lavenberg_and_welch_say():
    """With one control explaining R² = 0.9 of the variance, the controlled mean's variance is
    (1 - R²)(n - 2)/(n - 3) of the plain mean's (Lavenberg & Welch 1981, normal data): over 3,000
    datasets of 12 replications, the spread of the two estimates around the truth says so (each
    variance within about 2.6% from its sampling error; 10% allowed), and the variance reduction
    each estimate reports averages about 1 minus that ratio."""
    rng = np.random.default_rng(1)
    n, r2 = 12, 0.9
    cv, plain, reported = [], [], []
    for _ in range(3000):
        y, c = _data(rng, n, r2)
        e = controlled(y, c)
        cv.append(e.mean)
        plain.append(y.mean())
        reported.append(e.variance_reduction)
    ratio = np.var(cv) / np.var(plain)
    theory = (1.0 - r2) * (n - 2) / (n - 3)
    assert ratio == pytest.approx(theory, rel=0.10)
    assert np.mean(reported) == pytest.approx(1.0 - theory, abs=0.03)


@pytest.mark.parametrize("r2, extra", [(0.0, 0), (0.6, 0), (0.9, 0), (0.6, 2)])
def test_controlled_intervals_cover_the_mean_at_close_to_95_percent_though_chosen_on_the_same_data(r2, extra):
    """Choosing controls on the replications they then estimate from costs coverage (the first
    version, which took any control that shortened the interval, covered 88% at n = 8); the rule
    (a Bonferroni-gated coefficient and at least 8 replications) keeps it within the band
    docs/appraisal.md states, 92-96%, here at n = 10 over 2,000 datasets (binomial tolerance)."""
    rng = np.random.default_rng(7 + extra + int(10 * r2))
    trials = 2000
    covered = 0
    for _ in range(trials):
        y, c = _data(rng, 10, r2, extra)
        e = controlled(y, c)
        covered += e.lo <= 1.0 <= e.hi
    tol = binomial_tolerance(trials, 0.94) / trials
    assert 0.92 - tol <= covered / trials <= 0.96 + tol


def test_no_control_below_eight_replications_and_none_that_is_constant():
    rng = np.random.default_rng(3)
    y, c = _data(rng, 7, 0.95)
    assert controlled(y, c).controls == []
    y, _ = _data(rng, 12, 0.0)
    flat = Controls(["flat"], np.ones((12, 1)), np.array([1.0]))
    e = controlled(y, flat)
    assert e.controls == [] and e.half == e.plain_half


# ------------------------------------------------------------------ KN's screening


def test_kn_orders_two_systems_a_zone_apart_correctly_at_least_1_minus_alpha_of_the_time():
    """Two systems whose means differ by exactly the indifference zone (the least favourable
    case of KN's guarantee), normal noise, common random numbers: screened pair by pair until
    separated, KN puts the better first in at least 95% of 1,000 runs (binomial tolerance)."""
    rng = np.random.default_rng(11)
    n0, delta, h2 = 10, 0.5, kn_h2(2, 10)
    wrong, runs = 0, 1000
    for _ in range(runs):
        d = list(rng.normal(delta, 1.0, size=n0))
        while not separated(np.array(d), n0, delta, h2):
            d.append(rng.normal(delta, 1.0))
        wrong += np.mean(d) < 0
    assert wrong <= 0.05 * runs + binomial_tolerance(runs, 0.05)


def test_kn_settles_a_pair_within_the_zone_once_its_triangle_closes():
    """Equal means: the pair is never told apart, but after h² S² / delta² replications it is
    within the zone and settled."""
    rng = np.random.default_rng(2)
    n0, delta = 5, 0.5
    h2 = kn_h2(4, n0)
    d = rng.normal(0.0, 1.0, size=2000)
    s2 = float(np.var(d[:n0], ddof=1))
    closes = math.ceil(h2 * s2 / delta ** 2)
    assert separated(d[:closes + 1], n0, delta, h2)
    assert kn_h2(2, 10) < kn_h2(16, 10) < kn_h2(16, 5)  # more systems or a shorter first stage: wider


def test_stein_asks_for_what_gives_the_width_at_most_doubling():
    assert stein(5, 0.10, 0.05, 100) == 10
    assert stein(20, 0.06, 0.05, 100) == math.ceil(20 * 1.44)
    assert stein(60, 0.2, 0.05, 100) == 100


def test_the_rule_stops_a_precise_item_settles_a_clear_rank_and_runs_a_close_pair_on():
    rng = np.random.default_rng(4)
    samples = {"far": rng.normal(10.0, 0.3, 5), "precise": rng.normal(1.0, 0.001, 5),
               "close_a": rng.normal(0.5, 0.3, 5), "close_b": rng.normal(0.45, 0.3, 5)}
    verdict = decide(samples, None, Target(0.05, "mt"), 5)
    assert verdict["precise"].status == "precise" and verdict["precise"].next_n == 5
    assert verdict["far"].status == "rank settled"
    assert verdict["close_a"].status == "running" and verdict["close_a"].next_n == 10
    assert decide(samples, None, Target(0.05, "mt"), 5, settle=False)["far"].status == "running"


# ------------------------------------------------------------------ replications drawn in blocks


def _uncertain(**extra):
    return _toy(uncertainty=[{"path": "streams.x.volume_mt_per_year", "dist": "uniform", "low": 0.9, "high": 1.1,
                              "apply": "scale"},
                             {"path": "appraisal.value_usd_per_t.c", "dist": "triangular", "low": 5, "mode": 10,
                              "high": 20}], appraisal={"value_usd_per_t": {"c": 10.0}}, **extra)


def test_replication_k_is_drawn_the_same_however_many_replications_there_are():
    """In blocks, replication k's draw depends on k and the block only, so rounds can add
    replications; the first block is what a run of that many replications draws."""
    s = _uncertain()
    dump = [d.model_dump() for d in drawn(s, 12, 7, block=5)]
    assert dump[:7] == [d.model_dump() for d in drawn(s, 7, 7, block=5)]
    assert dump[:5] == [d.model_dump() for d in sample_scenarios(s, 5, 7)]
    assert len({str(d) for d in dump}) == 12
    values = drawn_inputs(s, 12, 7, block=5)
    assert [get_path(d, "appraisal.value_usd_per_t.c") for d in dump] == pytest.approx(values[:, 1].tolist())


def test_at_expected_values_keeps_the_flows_draw_and_sets_the_values_to_their_mean():
    s = _uncertain()
    values = drawn_inputs(s, 3, 7, block=3)
    d = drawn(s, 3, 7, block=3)[1]
    e = at_expected_values(s, values[1])
    assert e.streams["x"].volume_mt_per_year == d.streams["x"].volume_mt_per_year
    assert e.appraisal.value_usd_per_t["c"] == pytest.approx(35 / 3, abs=0.02)


# ------------------------------------------------------------------ an appraisal in rounds


def _toy(**extra):
    """Port a (1 berth, 4 h a shipment) binds under 3 Mt a year; port b (4 berths) is slack. Each
    gets a berth in mid-2024: a's lets it carry all that is offered, b's adds nothing."""
    nodes = {"a": {"kind": "port", "berths": 1, "handling_rate_t_per_h": SHIP / 4, "service": "fixed"},
             "b": {"kind": "port", "berths": 4, "handling_rate_t_per_h": SHIP / 4, "service": "fixed"}}
    invs = [{"id": "binding_berth", "node": "a", "field": "berths", "change": "add", "value": 1,
             "date": "2024-07-01", "cost_musd": 10},
            {"id": "slack_berth", "node": "b", "field": "berths", "change": "add", "value": 1,
             "date": "2024-07-01", "cost_musd": 10}]
    return make_scenario(nodes, {"x": stream(["a", "b"], 3.0, SHIP)}, end="2025-01-01", investments=invs,
                         replications=4, **extra)


def test_a_clear_answer_stops_at_the_first_stage(tmp_path):
    """The binding berth's lead (0.8 Mt) is far beyond the target: its rank is settled; the slack
    berth adds exactly nothing: precise. Five replications each, as a fixed appraisal would run."""
    res = appraise(_toy(), tmp_path / "ap", workers=1, precision=0.01)
    t = res.table.set_index("item")
    assert t.loc["binding_berth", "stopped"] == "rank settled" and t.loc["slack_berth", "stopped"] == "precise"
    assert t["replications"].tolist() == [5, 5]
    fixed = appraise(_toy(), tmp_path / "fixed", workers=1, replications=5)
    cols = ["item", "gain_mt", "gain_mt_lo", "gain_mt_hi", "npv_musd", "delay_cost_mt_per_month"]
    pd.testing.assert_frame_equal(res.table[cols], fixed.table[cols])


def test_rounds_give_each_item_what_it_needs_and_the_scenario_what_the_most_needs(tmp_path):
    """Ranks not allowed to settle: the binding berth's gain (sd ~0.04 Mt) needs more than five
    replications for ±0.02 Mt; the slack berth does not. Its interval ends as narrow as asked, the
    slack berth's variants stop at the first stage, and the scenario as given runs as often as the
    binding berth (replication k of an item paired with replication k of the scenario)."""
    import model.experiments.appraise as ap

    res = ap.appraise(_toy(), tmp_path / "ap", workers=1, precision=0.02, settle=False)
    t = res.table.set_index("item")
    n = int(t.loc["binding_berth", "replications"])
    assert n > 5 and t.loc["slack_berth", "replications"] == 5
    assert t.loc["binding_berth", "stopped"] == "precise"
    assert (t.loc["binding_berth", "gain_mt_hi"] - t.loc["binding_berth", "gain_mt_lo"]) / 2 <= 0.02
    # jobs: the scenario n times, the binding berth's two variants n times each, the slack one's 5 each
    assert len(list((tmp_path / "ap" / "jobs").glob("*.json"))) == 3 * n + 2 * 5
    # the same numbers, from the store, resumed: the same path and table
    again = ap.appraise(_toy(), tmp_path / "ap", workers=2, precision=0.02, settle=False, resume=True)
    pd.testing.assert_frame_equal(res.table, again.table)


def test_an_appraisal_interrupted_between_rounds_resumes_to_the_uninterrupted_table(tmp_path, monkeypatch):
    """Interrupted after its second round's jobs are stored (the rule raises on its second
    verdict), the appraisal resumes by round: the jobs it stored are reused, not run again, and
    the tables are those of an uninterrupted appraisal."""
    import model.experiments.appraise as ap

    whole = ap.appraise(_toy(), tmp_path / "whole", workers=1, precision=0.02, settle=False)
    assert int(whole.table["replications"].max()) > 5  # there is a second round to interrupt
    real = ap.decide
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ap, "decide", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ap.appraise(_toy(), tmp_path / "cut", workers=1, precision=0.02, settle=False)
    jobs = tmp_path / "cut" / "jobs"
    stored = {f.name: f.stat().st_mtime_ns for f in jobs.glob("*.json")}
    assert len(stored) > 5 * 5  # the first stage (5 variants x 5) and the second round's jobs
    monkeypatch.setattr(ap, "decide", real)
    again = ap.appraise(_toy(), tmp_path / "cut", workers=1, precision=0.02, settle=False, resume=True)
    assert {name: (jobs / name).stat().st_mtime_ns for name in stored} == stored  # reused, not run again
    assert {f.name for f in jobs.glob("*.json")} == {f.name for f in (tmp_path / "whole" / "jobs").glob("*.json")}
    pd.testing.assert_frame_equal(whole.table, again.table)
    pd.testing.assert_frame_equal(whole.yearly, again.yearly)


def test_npv_precision_values_each_replication_at_the_expected_appraisal_values(tmp_path):
    """A margin drawn 5-20 USD/t changes no simulated flow: the NPV the rule judges is each
    replication's at the margin's expectation, so its interval has no margin spread in it (the
    slack berth's NPV, minus its capital, is then known exactly: precise at once)."""
    res = appraise(_uncertain(), tmp_path / "ap", workers=1, precision="5%")
    t = res.table.set_index("item")
    assert t.loc["slack_berth", "stopped"] == "precise"
    assert t.loc["slack_berth", "npv_musd_hi"] - t.loc["slack_berth", "npv_musd_lo"] < 1e-6
    plain = appraise(_uncertain(), tmp_path / "plain", workers=1, replications=5)
    p = plain.table.set_index("item")
    assert (t.loc["binding_berth", "npv_musd_hi"] - t.loc["binding_berth", "npv_musd_lo"]
            < p.loc["binding_berth", "npv_musd_hi"] - p.loc["binding_berth", "npv_musd_lo"])


def test_the_command_line_prints_each_items_replications_and_refuses_a_bad_precision(tmp_path):
    f = tmp_path / "toy.yaml"
    import yaml

    f.write_text(yaml.safe_dump(_toy().model_dump(mode="json", exclude_none=True)), encoding="utf-8")
    bad = subprocess.run([sys.executable, str(ROOT / "run.py"), "appraise", str(f), "--precision", "ten",
                          "--out", str(tmp_path / "bad")], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "--precision" in bad.stderr
    assert not (tmp_path / "bad").exists()
    # a precision on NPV (M USD) where the scenario has no appraisal: section, so no NPV
    money = subprocess.run([sys.executable, str(ROOT / "run.py"), "appraise", str(f), "--precision", "20musd",
                            "--out", str(tmp_path / "money")], capture_output=True, text=True, cwd=tmp_path)
    assert money.returncode == 2 and len(money.stderr.strip().splitlines()) == 1 and "appraisal" in money.stderr
    assert not (tmp_path / "money").exists()
    ok = subprocess.run([sys.executable, str(ROOT / "run.py"), "-q", "appraise", str(f), "--precision", "0.01",
                         "--workers", "1", "--out", str(tmp_path / "ap")], capture_output=True, text=True,
                        cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "Replications per item" in ok.stdout and "rank settled" in ok.stdout
    written = pd.read_csv(tmp_path / "ap" / "appraisal.csv")
    assert written["replications"].tolist() == [5, 5]


def _stormy():
    """One berth (3 h a shipment) offered 2.6 Mt a year, closed by every storm of its sea (2 a
    month, 1-4 days): a second berth from April gains what storms would have cost, so the
    replication's storm hours explain much of its gain."""
    nodes = {"a": {"kind": "port", "berths": 1, "handling_rate_t_per_h": SHIP / 3, "service": "fixed",
                   "storms": "sea"}}
    invs = [{"id": "berth", "node": "a", "field": "berths", "change": "add", "value": 1, "date": "2024-04-01",
             "cost_musd": 10}]
    return make_scenario(nodes, {"x": stream(["a"], 2.6, SHIP)}, end="2025-01-01", investments=invs,
                         weather={"sea": {"events_per_month": 2.0,
                                          "duration_days": {"dist": "uniform", "low": 1, "high": 4}}})


@pytest.mark.slow
def test_storm_hours_pay_as_a_control_and_the_estimate_agrees_with_many_plain_replications(tmp_path):
    """The berth's gain to ±0.02 Mt: storm hours join as a control and remove most of the variance
    of its mean; the controlled estimate agrees with 60 plain replications of a fixed appraisal
    (other random numbers' worth of replications: the two intervals' half-widths combined)."""
    res = appraise(_stormy(), tmp_path / "cv", workers=2, precision=0.02, settle=False)
    row = res.table.iloc[0]
    assert row["controls"] == "storm hours (sea)" and row["variance_reduction"] > 0.4
    assert row["stopped"] == "precise" and (row["gain_mt_hi"] - row["gain_mt_lo"]) / 2 <= 0.02
    peer = appraise(_stormy(), tmp_path / "plain", workers=2, replications=60, seed=99).table.iloc[0]
    half = (row["gain_mt_hi"] - row["gain_mt_lo"]) / 2
    peer_half = (peer["gain_mt_hi"] - peer["gain_mt_lo"]) / 2
    assert abs(row["gain_mt"] - peer["gain_mt"]) <= math.hypot(half, peer_half)
    # without the control it would have needed about 1 / (1 - reduction) times the replications
    assert int(row["replications"]) < 60


@pytest.mark.slow
def test_dask_and_local_workers_give_identical_appraisal_tables(tmp_path):
    """An appraisal in rounds on a Dask cluster (two worker processes) and on local workers: the
    same jobs, the same rule, the same tables to the byte."""
    from dask.distributed import LocalCluster

    local = appraise(_toy(), tmp_path / "local", workers=2, precision=0.02, settle=False)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask = appraise(_toy(), tmp_path / "dask", scheduler=cluster.scheduler_address, precision=0.02, settle=False)
    pd.testing.assert_frame_equal(local.table, dask.table)
    pd.testing.assert_frame_equal(local.yearly, dask.yearly)
    assert local.table.to_csv(index=False) == dask.table.to_csv(index=False)


def test_the_bench_asks_the_fixed_appraisal_for_the_replications_the_widest_plain_interval_needs():
    """bench's fixed comparator: from each item's interval after its rounds (widened back by its
    control variates' variance reduction) the standard deviation of its gain, and the fewest
    replications n whose Student-t half-width t(n-1) sd / sqrt(n) is within the precision, for the
    item that needs the most."""
    from scipy.stats import t as student

    from model.experiments.bench import fixed_replications

    sd = {"ships": 0.085, "cranes": 0.02}
    rows = []
    for item, n, reduction in (("ships", 10, 0.55), ("cranes", 5, 0.0)):
        plain = student.ppf(0.975, n - 1) * sd[item] / math.sqrt(n)
        half = plain * math.sqrt(1.0 - reduction)
        rows.append({"item": item, "replications": n, "gain_mt_lo": 0.1 - half, "gain_mt_hi": 0.1 + half,
                     "variance_reduction": reduction})
    n = fixed_replications(pd.DataFrame(rows), 0.05)
    assert student.ppf(0.975, n - 1) * sd["ships"] / math.sqrt(n) <= 0.05
    assert student.ppf(0.975, n - 2) * sd["ships"] / math.sqrt(n - 1) > 0.05
    assert n == 14  # 2.160 x 0.085 / sqrt(14) = 0.0491; 2.179 x 0.085 / sqrt(13) = 0.0514


def test_the_bench_appraises_over_the_years_asked_at_most_the_scenarios_horizon(capsys):
    """The bench's appraisal (its three items; the others removed) runs over the first years asked, or the
    scenario's whole horizon when more are asked; 0 years is refused with what was expected (exit 2)."""
    from model.cli import main
    from model.experiments.bench import APPRAISAL_ITEMS, bench_appraisal
    from model.scenario.library import resolve

    path = resolve("baseline")
    seven, every = bench_appraisal(path, 7), bench_appraisal(path, 100)
    assert seven is not None and every is not None
    assert (seven.start_date, seven.end_date) == (date(2024, 1, 1), date(2031, 1, 1))
    assert every.end_date == date(2051, 1, 1)  # the baseline's horizon, 2024-2050
    assert {i.id for i in every.investments} == set(APPRAISAL_ITEMS)
    assert main(["bench", "--appraisal-years", "0"]) == 2
    assert "expected a number >= 1" in capsys.readouterr().err
