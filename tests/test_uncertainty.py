"""Uncertain inputs drawn per replication (a seeded Latin hypercube), and Morris
screening of which input drives a result."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import model
from simkit import make_scenario, stream
from model.experiments.sweeps import run_sweep
from model.scenario.uncertainty import UncertainInput, sample_scenarios

ROOT = Path(__file__).resolve().parent


def _toy(**extra):
    nodes = {"p": {"kind": "port", "berths": 2, "handling_rate_t_per_h": 200.0},
             "b": {"kind": "border", "dwell_h": {"dist": "lognormal", "mean": 24.0, "cv": 0.5}}}
    return make_scenario(nodes, {"x": stream(["p", "b"], 1.0, 1000.0)}, replications=4, **extra)


def test_sampled_inputs_with_zero_spread_give_the_numbers_of_fixed_inputs():
    fixed = _toy(name="fixed")
    flat = _toy(name="fixed", uncertainty=[
        {"path": "nodes.p.berths", "dist": "uniform", "low": 2, "high": 2},
        {"path": "nodes.b.dwell_h", "dist": "triangular", "low": 1, "mode": 1, "high": 1, "apply": "scale"}])
    a, b = (model.run(s, workers=1) for s in (fixed, flat))
    for name in ("corridor", "annual_nodes", "annual_streams"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_each_replication_draws_one_stratum_of_the_hypercube():
    """8 replications of a uniform input on (1, 3): one draw in each eighth of the range."""
    s = _toy(uncertainty=[{"path": "nodes.p.handling_rate_t_per_h", "dist": "uniform", "low": 100, "high": 300},
                          {"path": "nodes.b.dwell_h", "dist": "uniform", "low": 0.5, "high": 1.5, "apply": "scale"}])
    drawn = sample_scenarios(s, 8, seed=4)
    rates = np.array([d.nodes["p"].handling_rate_t_per_h for d in drawn])
    assert sorted(((rates - 100) // 25).astype(int).tolist()) == list(range(8))
    means = np.array([d.nodes["b"].dwell_h.mean for d in drawn])  # 24 h scaled by 0.5-1.5
    assert sorted(((means - 12) // 3).astype(int).tolist()) == list(range(8))
    assert all(d.uncertainty == [] for d in drawn)
    # the same seed gives the same draws: scenarios of a batch share them
    again = sample_scenarios(s.model_copy(update={"name": "other"}), 8, seed=4)
    assert [d.nodes["p"].handling_rate_t_per_h for d in again] == rates.tolist()


def test_uncertain_inputs_widen_the_spread_of_results():
    """The berths' handling rate drawn from 100 to 300 t/h (capacity 1.75 to 5.3 Mt/yr against 1 Mt
    offered) moves the waiting time at p far more than the simulation's noise alone does."""
    s = _toy()
    u = _toy(uncertainty=[{"path": "nodes.p.handling_rate_t_per_h", "dist": "uniform", "low": 60, "high": 300}])
    waits = [model.run(x, replications=6, workers=1).annual_nodes.query("node == 'p'")["waiting_mean_h"].std()
             for x in (s, u)]
    assert waits[1] > 3 * waits[0]


@pytest.mark.parametrize("spec, says", [
    ({"path": "nodes.q.berths", "dist": "uniform", "low": 1, "high": 2}, "no 'q' in nodes"),
    ({"path": "nodes.p.berths", "dist": "uniform", "low": -2, "high": 2}, "the scenario is invalid at nodes.p"),
    ({"path": "nodes.p.berths", "dist": "triangular", "low": 1, "high": 2}, "needs low, mode, high"),
])
def test_uncertain_inputs_that_cannot_run_are_refused_at_load(tmp_path, spec, says):
    import yaml

    from model.scenario.loader import ScenarioError, load_scenario

    data = {"name": "t", "start_date": "2024-01-01", "end_date": "2025-01-01",
            "nodes": {"p": {"kind": "port", "berths": 2, "handling_rate_t_per_h": 200.0}},
            "streams": {"x": {"commodity": "c", "volume_mt_per_year": 1.0, "shipment_t": 1000, "route": ["p"]}},
            "uncertainty": [spec]}
    f = tmp_path / "t.yaml"
    f.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as e:
        load_scenario(f)
    assert any(says in p and "uncertainty" in p for p in e.value.problems), e.value.problems


def test_lognormal_quantiles_have_the_stated_mean():
    inp = UncertainInput(path="x", dist="lognormal", mean=12.0, cv=0.8)
    u = (np.arange(4000) + 0.5) / 4000
    assert np.mean([inp.quantile(x) for x in u]) == pytest.approx(12.0, rel=0.01)


def test_morris_screening_ranks_the_binding_input_first(tmp_path):
    res = run_sweep(ROOT / "sweeps" / "small_morris.yaml", tmp_path / "m", workers=1)
    sens = res.sensitivity.set_index("parameter")
    fleet, transit = sens.loc["nodes.ferry.fleet", "mu_star"], sens.loc["nodes.rail.transit_h", "mu_star"]
    assert fleet > 0.2  # one more ferry: about 0.5 Mt a year more delivered
    assert transit < fleet / 10
    written = res.write(tmp_path / "m")
    assert (written / "sensitivity.csv").exists()
    assert (written / "plots" / "sensitivity_delivered_2025_mt.png").exists()
