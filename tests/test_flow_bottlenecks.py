"""Bottlenecks per flow: the active-period method along each stream's own route, so
parallel flows are not ranked against each other, and 'both binding' where two nodes
of one route are saturated all year."""

from __future__ import annotations

import pytest

import model
from simkit import make_scenario, stream

SHIP = 1000.0


def _port(rate_t_per_h: float) -> dict:
    return {"kind": "port", "berths": 1, "handling_rate_t_per_h": rate_t_per_h, "service": "fixed"}


def test_each_parallel_flow_names_its_own_binding_node():
    """Flow x is held by its first port (offered 2x what it handles), flow y by its second;
    the corridor-wide busiest node would name one of them for both."""
    nodes = {"a1": _port(SHIP / 4), "b1": _port(SHIP), "a2": _port(SHIP), "b2": _port(SHIP / 4)}
    s = make_scenario(nodes, {"x": stream(["a1", "b1"], 4.4, SHIP), "y": stream(["a2", "b2"], 4.4, SHIP)},
                      name="parallel")
    r = model.run(s, replications=2, workers=1)
    f = r.flow_summary.set_index("stream")
    assert f.loc["x", "binding"] == "a1" and f.loc["y", "binding"] == "b2"
    assert f.loc["x", "binding_share"] > 0.95 and f.loc["y", "binding_share"] > 0.95
    # shadow prices: each flow's own saturated node is worth capacity, the slack ones nothing
    cv = r.capacity_values.groupby("node")["shadow_price"].mean()
    assert cv["a1"] > 0 and cv["b2"] > 0
    assert cv["b1"] == pytest.approx(0.0, abs=1e-9) and cv["a2"] == pytest.approx(0.0, abs=1e-9)
    # and no output names one corridor bottleneck: the corridor line names each commodity's own
    assert set(r.corridor_summary["binding_by_flow"]) == {next(iter(r.commodity_summary["commodity"])) + ": a1 / b2"}


def test_two_saturated_nodes_of_one_route_are_both_binding():
    """Two ports in series with the same fixed 4-h service, offered twice that: the first is
    busy all year and passes the second exactly its capacity, so both are active all year;
    the summary names both instead of splitting the year between them by accident."""
    nodes = {"a": _port(SHIP / 4), "b": _port(SHIP / 4)}
    s = make_scenario(nodes, {"x": stream(["a", "b"], 4.4, SHIP)}, name="tandem")
    r = model.run(s, replications=2, workers=1)
    row = r.flow_summary.iloc[0]
    assert row["binding"] == "a + b (both binding)", row["binding"]
    assert row["binding_share"] >= 0.98
    assert set(r.flow_bottlenecks["node"]) == {"a", "b"}
    from model.outputs.report import format_results  # (model.outputs does not import its modules)

    assert "both binding" in format_results(r)


def test_capacity_values_are_the_bound_sensitivity_by_hand():
    """Serial a (1.00 Mt) -> b (1.05 Mt), and a parallel flow through c (2 Mt): 10% more at a
    lifts the bound only up to b (+0.05 Mt, shadow price 0.5); more at b adds nothing (a binds);
    more at c adds all of its 10% (+0.2 Mt, shadow price 1)."""
    from model.analysis.bound import capacity_values

    nodes = {"a": _port(SHIP), "b": _port(SHIP), "c": _port(SHIP)}
    s = make_scenario(nodes, {"x": stream(["a", "b"], 5.0, SHIP), "y": stream(["c"], 5.0, SHIP)})
    caps = {"a": {2024: 1.00e6}, "b": {2024: 1.05e6}, "c": {2024: 2.0e6}}
    cv = capacity_values(s, caps).set_index("node")
    assert cv.loc["a", "bound_gain_t"] == pytest.approx(0.05e6) and cv.loc["a", "shadow_price"] == pytest.approx(0.5)
    assert cv.loc["b", "bound_gain_t"] == pytest.approx(0.0, abs=1e-6)
    assert cv.loc["c", "bound_gain_t"] == pytest.approx(0.2e6) and cv.loc["c", "shadow_price"] == pytest.approx(1.0)


def test_capacity_values_skip_only_nodes_whose_gain_a_max_flow_per_node_finds_zero():
    """Nodes a maximum flow leaves below capacity are given a gain of 0 without their own max-flow: on
    the baseline's network, with capacities that make different nodes bind in different years, the
    table is the one a max-flow for every node and year gives, bit for bit, and some nodes gain."""
    import datetime
    from pathlib import Path

    import pandas as pd

    from model.analysis.bound import capacity_values, corridor_nodes, demand_bound
    from model.scenario.loader import load_scenario

    base = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml")
    s = base.model_copy(update={"end_date": datetime.date(2036, 1, 1)})
    nodes = corridor_nodes(s)
    caps = {y: {n: 2e5 * (1 + (k * 7 + y) % 11) for k, n in enumerate(nodes)} for y in range(2024, 2036)}
    bound = demand_bound(s)
    rows = []
    for y, cap in caps.items():
        b0 = bound(y, cap)
        for n in nodes:
            gain = bound(y, {**cap, n: cap[n] * 1.1}) - b0
            rows.append({"year": y, "node": n, "capacity_t": cap[n], "bound_gain_t": gain,
                         "shadow_price": gain / (cap[n] * 0.1)})
    brute = pd.DataFrame(rows)
    got = capacity_values(s, caps)
    assert (brute["bound_gain_t"] > 0).sum() >= 10 and (brute["bound_gain_t"] == 0).sum() >= 10
    pd.testing.assert_frame_equal(got, brute, check_exact=True)


def test_capacity_values_in_blocks_of_years_on_a_pool_are_the_whole_horizons():
    """A run's capacity values are computed in blocks of years on the figures' pool: the same table, bit
    for bit, as one pass over each scenario's horizon (each year's max-flows are its own)."""
    import datetime
    from pathlib import Path

    import pandas as pd

    from model.analysis.bound import capacity_values, capacity_values_for_runs
    from model.experiments.runner import pool_map
    from model.scenario.loader import load_scenario

    base = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml")
    runs = [base.model_copy(update={"name": n, "end_date": datetime.date(2030, 1, 1)}) for n in ("a", "b")]
    nodes = list(base.nodes)
    annual = pd.DataFrame([{"scenario": s.name, "replication": 0, "year": y, "node": n,
                            "capacity_t": 1e6 * (1 + (k % 7) + 0.3 * (y - 2024) + (s.name == "b"))}
                           for s in runs for y in range(2024, 2030) for k, n in enumerate(nodes)])
    whole = pd.concat([capacity_values(s, annual[annual["scenario"] == s.name]).assign(scenario=s.name) for s in runs],
                      ignore_index=True)[["scenario", "year", "node", "capacity_t", "bound_gain_t", "shadow_price"]]
    assert (whole["bound_gain_t"] > 0).any()
    pd.testing.assert_frame_equal(capacity_values_for_runs(runs, annual, pool_map(2)), whole, check_exact=True)
    pd.testing.assert_frame_equal(capacity_values_for_runs(runs, annual), whole, check_exact=True)


def test_batch_throughput_plot_keeps_each_scenarios_capacity_line(tmp_path):
    """Two scenarios whose port b differs in capacity (one berth vs two): the batch figure
    draws b's capacity once per scenario, read back from the figure's lines, and the two
    lines differ by the second berth (never their average)."""
    import matplotlib.pyplot as plt

    from model.outputs.plots import throughput_figure

    one = make_scenario({"a": _port(SHIP / 4), "b": _port(SHIP / 4)}, {"x": stream(["a", "b"], 1.0, SHIP)}, name="one")
    two = make_scenario({"a": _port(SHIP / 4), "b": {**_port(SHIP / 4), "berths": 2}},
                        {"x": stream(["a", "b"], 1.0, SHIP)}, name="two")
    b = model.batch([one, two], replications=1, workers=1)
    fig = throughput_figure(b.annual_nodes, "one vs two", {"b": "port b"})
    ax = next(a for a in fig.axes if a.get_title() == "port b")
    lines = {ln.get_label(): ln.get_ydata() for ln in ax.get_lines()}
    assert set(lines) == {"one: capacity", "two: capacity"}
    assert lines["two: capacity"] == pytest.approx(2 * lines["one: capacity"])
    caps = b.annual_nodes[b.annual_nodes["node"] == "b"].groupby("scenario")["capacity_t"].mean() / 1e6
    assert lines["one: capacity"].mean() == pytest.approx(caps["one"])
    plt.close(fig)
