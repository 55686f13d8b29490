"""Operational delays by node kind or tag: ``{kind: border, field: dwell_h, factor: 1.2}`` is
"every border +20 %", ``{tag: caucasus, ...}`` every node whose ``tags`` hold it; the same
run as listing the nodes one by one, and clear messages for a selector that selects nothing."""

from __future__ import annotations

import numpy as np
import pytest

from simkit import make_scenario, run_traced, stream
from model.core.timeline import duration_factors
from model.scenario.loader import scenario_problems

NODES = {
    "b1": {"kind": "border", "dwell_h": 10, "tags": ["caucasus", "georgia"]},
    "b2": {"kind": "border", "dwell_h": 20},
    "rail": {"kind": "rail_line", "paths_per_day": 50, "train_payload_t": 2000, "transit_h": 5, "tags": ["caucasus"]},
}
STREAMS = {"s": stream(["b1", "b2"], 0.05, 1000), "r": stream(["b2", "rail"], 0.05, 1000)}


def _scenario(*operational: dict):
    return make_scenario(NODES, STREAMS, delays={"operational": list(operational)})


def test_a_kind_stretches_every_node_of_that_kind_and_nothing_else():
    s = _scenario({"kind": "border", "field": "dwell_h", "factor": 1.2, "from_date": "2024-07-01"})
    for nid in ("b1", "b2"):
        f = duration_factors(s, nid)["dwell_h"]
        assert f.at(0.0) == 1.0 and f.at(1e6) == pytest.approx(1.2)
    assert duration_factors(s, "rail") == {}


def test_a_tag_stretches_the_tagged_nodes_and_several_delays_multiply():
    s = _scenario({"tag": "georgia", "field": "dwell_h", "factor": 2.0},
                  {"kind": "border", "field": "dwell_h", "factor": 1.5},
                  {"kind": "rail_line", "field": "transit_h", "factor": 1.1})
    assert duration_factors(s, "b1")["dwell_h"].at(0.0) == 3.0   # tagged and a border
    assert duration_factors(s, "b2")["dwell_h"].at(0.0) == 1.5   # a border only
    assert set(duration_factors(s, "rail")) == {"transit_h"}


def test_by_kind_runs_exactly_as_naming_each_node():
    """Same seed: the kind and the list of its nodes give the same shipments, and dwell doubles."""
    by_kind = run_traced(_scenario({"kind": "border", "field": "dwell_h", "factor": 2.0}), seed=7).transit_h["s"]
    by_node = run_traced(_scenario({"node": "b1", "field": "dwell_h", "factor": 2.0},
                                   {"node": "b2", "field": "dwell_h", "factor": 2.0}), seed=7).transit_h["s"]
    plain = run_traced(_scenario(), seed=7).transit_h["s"]
    assert len(by_kind) > 10 and np.array_equal(by_kind, by_node)
    # fixed dwell at borders with unlimited lanes: 10 + 20 h becomes 20 + 40 h
    assert set(np.round(plain, 6)) == {30.0} and set(np.round(by_kind, 6)) == {60.0}


def _problems(*operational: dict) -> list[tuple[tuple, str]]:
    data = {"name": "t", "start_date": "2024-01-01", "end_date": "2025-01-01", "nodes": NODES,
            "streams": STREAMS, "delays": {"operational": list(operational)}}
    scenario, problems = scenario_problems(data)
    assert scenario is None
    return problems


@pytest.mark.parametrize("delay, where, words", [
    ({"field": "dwell_h", "factor": 2}, ("delays", "operational", 0), "expected exactly one of node, kind or tag"),
    ({"node": "b1", "kind": "border", "field": "dwell_h", "factor": 2}, ("delays", "operational", 0),
     "got node and kind"),
    ({"kind": "bordr", "field": "dwell_h", "factor": 2}, ("delays", "operational", 0, "kind"),
     "unknown node kind 'bordr' (did you mean 'border'?)"),
    ({"tag": "caucasu", "field": "dwell_h", "factor": 2}, ("delays", "operational", 0, "tag"),
     "no node has tag 'caucasu' (did you mean 'caucasus'?); expected one of: caucasus"),
    ({"tag": "caucasus", "field": "dwell_h", "factor": 2}, ("delays", "operational", 0, "field"),
     "'dwell_h' is not a duration of a rail_line (node 'rail' has tag 'caucasus'); expected one of: transit_h"),
    ({"kind": "border", "field": "transit_h", "factor": 2}, ("delays", "operational", 0, "field"),
     "'transit_h' is not a duration of a border; expected one of: dwell_h"),
])
def test_a_selector_that_selects_nothing_or_the_wrong_field_is_one_clear_problem(delay, where, words):
    problems = _problems(delay)
    assert len(problems) == 1, problems
    loc, msg = problems[0]
    assert tuple(loc) == where and words in msg, problems
