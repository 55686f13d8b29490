"""What the report says in words: the inputs a scenario changes, and the sentences that
answer "how much moves, where it jams, what the compared scenario changes"."""

from __future__ import annotations

from pathlib import Path

import model
from model.outputs.report import headline
from model.scenario.loader import load_scenario
from model.scenario.diff import changed_inputs, touched_nodes
from simkit import make_scenario, stream

ROOT = Path(__file__).resolve().parent.parent
SHIP = 1000.0


def test_a_delay_is_one_changed_input_touching_the_delayed_investments_node():
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    late = load_scenario(ROOT / "scenarios" / "tripp_delay_2y.yaml")
    rows = changed_inputs(base, late)
    assert rows == [("delays.projects[tripp_armenia_open]", "(none)", "months: 24")]  # never a Python dict
    assert touched_nodes(base, late) == {i.node for i in base.investments if i.id == "tripp_armenia_open"}


def test_an_investment_removed_is_one_row_naming_what_it_did():
    base = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    short = load_scenario(ROOT / "scenarios" / "ferry_shortfall.yaml")
    rows = {p: (a, b) for p, a, b in changed_inputs(base, short)}
    gone = {i.id for i in base.investments} - {i.id for i in short.investments}
    assert gone and {f"investments[{g}]" for g in gone} <= set(rows)
    assert all(rows[f"investments[{g}]"][1] == "(none)" for g in gone)
    assert not any(p.startswith(f"investments[{g}].") for g in gone for p in rows)


def _port(rate_t_per_h: float, berths: int = 1) -> dict:
    return {"kind": "port", "berths": berths, "handling_rate_t_per_h": rate_t_per_h, "service": "fixed",
            "name": f"Port at {rate_t_per_h:g} t/h"}


def test_headline_says_a_change_off_the_binding_node_moves_nothing_and_why():
    """a (1,000 t per 4 h) binds; b is twice as fast. A second berth at b cannot move the
    corridor: the sentence must say no measurable difference and name b as not binding."""
    nodes = {"a": _port(SHIP / 4), "b": _port(SHIP / 2)}
    ref = make_scenario(nodes, {"x": stream(["a", "b"], 4.4, SHIP)}, name="ref")
    more_b = make_scenario({**nodes, "b": _port(SHIP / 2, berths=2)}, {"x": stream(["a", "b"], 4.4, SHIP)},
                           name="more_b")
    b = model.batch([ref, more_b], replications=3, workers=1)
    for table in (b.corridor_summary, b.commodity_summary, b.flow_summary):  # the reference first, not A-Z
        assert list(dict.fromkeys(table["scenario"])) == ["ref", "more_b"]
    text = headline(b)
    assert text[0].startswith("In ") and "Mt" in text[0]
    assert "Port at 250 t/h" in text[1]  # a's display name, where it jams
    assert "no measurable difference" in text[2] and "Port at 500 t/h" in text[2].split("changes")[1]
