"""model.analysis.sanity: the quick analytic estimates and the 'large disagreement' flag."""

from __future__ import annotations

import math

import pytest

from model.experiments.runner import run_many
from model.analysis.sanity import (allen_cunneen_wq, check_run, disagreements, erlang_c, format_sanity, kingman_wq, mmc_wq,
                          pk_wq)
from vstats import SEED, poisson_stream, port, scenario


def test_formulas_against_hand_values():
    assert erlang_c(1, 0.8) == pytest.approx(0.8)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.6) == pytest.approx(2 * 0.8**2 / 1.8)
    assert mmc_wq(0.8, 1.0, 1) == pytest.approx(4.0)  # rho/(mu - lambda)
    assert pk_wq(0.8, 1.0, 1.0) == pytest.approx(4.0)  # P-K with exponential service = M/M/1
    assert pk_wq(0.8, 1.0, 0.0) == pytest.approx(2.0)  # M/D/1
    assert kingman_wq(0.8, 1.0, 1.0, 1.0) == pytest.approx(4.0)  # exact for M/M/1
    assert allen_cunneen_wq(1.6, 1.0, 2, 1.0, 1.0) == pytest.approx(mmc_wq(1.6, 1.0, 2))
    assert allen_cunneen_wq(1.6, 1.0, 2, 1.0, 0.0) == pytest.approx(mmc_wq(1.6, 1.0, 2) / 2)
    assert math.isinf(mmc_wq(2.0, 1.0, 2))


@pytest.fixture(scope="module")
def runs():
    mm2 = scenario({"p": port(2, 1.0, 100.0)}, {"x": poisson_stream(["p"], 1.6, 100.0)}, name="s_mm2")
    md1 = scenario({"p": port(1, 1.0, 100.0, "fixed")}, {"x": poisson_stream(["p"], 0.7, 100.0)}, name="s_md1")
    # a one-berth port fed by a ferry in loads of 3 shipments (batch arrivals, M^X/D/1)
    ferry = {"kind": "sea_link", "fleet": 2, "vessel_payload_t": 300.0, "load_h": 2, "crossing_h": 10,
             "unload_h": 2, "max_wait_h": 1000}
    batch = scenario({"sea": ferry, "p": port(1, 1.0, 100.0, "fixed")},
                     {"x": poisson_stream(["sea", "p"], 0.3, 100.0)}, name="s_batch")
    jobs = [(s, k) for s in (mm2, md1, batch) for k in range(3)]
    return {s.name: s for s in (mm2, md1, batch)}, run_many(jobs, seed=SEED, workers=2)


def _rows(runs, name):
    scenarios, t = runs
    sub = {k: v[v["scenario"] == name] for k, v in t.items() if "scenario" in v.columns}
    return scenarios[name], sub, check_run(scenarios[name], sub)


def test_mm2_uses_erlang_c_and_agrees(runs):
    s, t, rows = _rows(runs, "s_mm2")
    w = rows[(rows["measure"] == "waiting_mean_h") & (rows["year"] == 2030)].iloc[0]
    assert w["method"] == "Erlang C (M/M/c)"
    assert w["estimate"] == pytest.approx(mmc_wq(1.6, 1.0, 2), rel=0.05)  # lambda from the simulated throughput
    assert not rows["large"].any()
    assert "none differs" in format_sanity(rows)


def test_md1_uses_pollaczek_khinchine(runs):
    _, _, rows = _rows(runs, "s_md1")
    w = rows[(rows["measure"] == "waiting_mean_h") & (rows["year"] == 2030)].iloc[0]
    assert w["method"].startswith("Pollaczek–Khinchine")
    assert w["estimate"] == pytest.approx(pk_wq(0.7, 1.0, 0.0), rel=0.05)
    assert not rows["large"].any()


def test_batch_arrivals_from_a_vessel_are_accounted_for(runs):
    """Loads of 3 parcels reach a one-berth port at once: the 2nd and 3rd wait 1 and 2 h
    behind the 1st even at low load. M^X/G/1 includes that wait (about 1 h); plain P-K
    (about 0.2 h at rho 0.3) would be flagged as a large disagreement."""
    _, _, rows = _rows(runs, "s_batch")
    w = rows[(rows["node"] == "p") & (rows["measure"] == "waiting_mean_h") & (rows["year"] == 2030)].iloc[0]
    assert w["method"].startswith("M^X/G/1")
    assert w["simulated"] > 0.8 and not w["large"], w.to_dict()
    assert pk_wq(0.3, 1.0, 0.0) < w["simulated"] / 2


def test_a_wrong_utilisation_or_wait_is_flagged(runs):
    s, t, _ = _rows(runs, "s_mm2")
    bad = t["annual_nodes"].copy()
    bad.loc[bad["year"] == 2030, "utilization"] += 0.1
    bad.loc[bad["year"] == 2030, "waiting_mean_h"] *= 3
    flagged = disagreements(s, {"annual_nodes": bad})
    assert set(zip(flagged["year"], flagged["measure"])) == {(2030, "utilization"), (2030, "waiting_mean_h")}
    text = format_sanity(check_run(s, {"annual_nodes": bad}))
    assert text.startswith("Sanity check: 2 of") and "p 2030 utilization" in text
