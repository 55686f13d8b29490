"""Appraisal: investments ranked by what they add, on a toy corridor whose answer is
known by hand, and the economics against closed forms."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from simkit import make_scenario, stream
from model.experiments.appraise import appraise, delayed, items_of, stream_rows, without
from model.analysis.economics import npv_and_bcr, present_value
from model.analysis.tables import tables
from model.scenario.schema import Investment
from model.engine.simulate import run_replication

SHIP = 1000.0


def _toy(**extra):
    """Port a (1 berth, 4 h a shipment: 2,196 shipments in 2024) is offered 3 Mt a year:
    it binds. Port b (4 berths, same rate) is slack. Each gets a berth in mid-2024:
    a's lets it carry all that is offered in 2024, b's adds nothing."""
    nodes = {"a": {"kind": "port", "berths": 1, "handling_rate_t_per_h": SHIP / 4, "service": "fixed"},
             "b": {"kind": "port", "berths": 4, "handling_rate_t_per_h": SHIP / 4, "service": "fixed"}}
    invs = [{"id": "binding_berth", "node": "a", "field": "berths", "change": "add", "value": 1,
             "date": "2024-07-01", "cost_musd": 10, "tags": ["ports"]},
            {"id": "slack_berth", "node": "b", "field": "berths", "change": "add", "value": 1,
             "date": "2024-07-01", "cost_musd": 10, "tags": ["ports"]}]
    return make_scenario(nodes, {"x": stream(["a", "b"], 3.0, SHIP)}, end="2025-01-01", investments=invs,
                         replications=4, **extra)


def test_the_investment_on_the_binding_node_comes_first_and_the_slack_one_adds_nothing(tmp_path):
    res = appraise(_toy(), tmp_path / "ap", workers=1)
    t = res.table.set_index("item")
    assert list(res.table["item"]) == ["binding_berth", "slack_berth"]
    # with a second berth from 1 July (12 shipments a day against 8.2 offered) a clears the
    # first half's backlog and carries all of 2024's demand; with one it carries 2,196 x 1,000 t
    gain = 3.0 * 8784 / 8760 - 8784 / 4 * SHIP / 1e6
    assert t.loc["binding_berth", "gain_mt_lo"] > 0
    assert t.loc["binding_berth", "gain_mt"] == pytest.approx(gain, rel=0.05)
    assert t.loc["slack_berth", "gain_mt_lo"] <= 0 <= t.loc["slack_berth", "gain_mt_hi"]
    # a year's delay moves the binding berth past the horizon: its whole gain is lost, over 12 months
    assert t.loc["binding_berth", "delay_cost_mt_per_month"] == pytest.approx(t.loc["binding_berth", "gain_mt"] / 12)
    assert "binding_berth matters most" in res.headline and "lead over slack_berth" in res.headline
    written = res.write(tmp_path / "ap")
    assert (written / "appraisal.csv").exists() and (written / "plots" / "appraisal_ranking.png").exists()
    assert "binding_berth matters most" in (written / "report.html").read_text()
    back = pd.read_csv(written / "appraisal.csv")
    assert back["item"].tolist() == ["binding_berth", "slack_berth"]


def test_npv_values_the_extra_cargo_at_the_commodity_margin_less_its_capital(tmp_path):
    """At 10 USD a tonne, the binding berth's ~0.8 Mt are worth ~8 M USD in 2024 (the
    base year, not discounted); its 10 M USD are spent in the year before its opening on
    1 July 2024 (the "other" profile: 1 July 2023 to 1 July 2024, 366 days, 184 of them in
    2023, compounded to 2024 at 8%, and 182 in 2024); no residual value asked for."""
    s = _toy(appraisal={"discount_rate": 0.08, "value_usd_per_t": {"c": 10.0}, "user_benefits": False,
                        "residual_value": "none"})
    res = appraise(s, tmp_path / "ap", workers=1)
    t = res.table.set_index("item")
    gain_t = t.loc["binding_berth", "gain_mt"] * 1e6
    capital = 10 * (184 / 366 * 1.08 + 182 / 366)
    assert t.loc["binding_berth", "pv_benefits_musd"] == pytest.approx(gain_t * 10 / 1e6, rel=1e-9)
    assert t.loc["binding_berth", "pv_capital_musd"] == pytest.approx(capital, rel=1e-9)
    assert t.loc["binding_berth", "npv_musd"] == pytest.approx(gain_t * 10 / 1e6 - capital, rel=1e-9)
    assert t.loc["binding_berth", "bcr"] == pytest.approx(gain_t * 10 / 1e6 / capital, rel=1e-9)
    assert t.loc["slack_berth", "npv_musd"] == pytest.approx(-capital, abs=0.5)
    # its break-even cost is what the benefits repay: NPV = 0 at that cost
    assert t.loc["binding_berth", "break_even_cost_musd"] == pytest.approx(gain_t * 10 / 1e6 / (capital / 10), rel=1e-9)


def test_the_same_seeds_give_the_same_appraisal_with_one_or_two_workers(tmp_path):
    one = appraise(_toy(), tmp_path / "one", workers=1, replications=2)
    two = appraise(_toy(), tmp_path / "two", workers=2, replications=2)
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(one.yearly, two.yearly)


def test_a_resumed_appraisal_reuses_its_stored_jobs(tmp_path):
    first = appraise(_toy(), tmp_path / "ap", workers=1, replications=2)
    stored = sorted(p.name for p in (tmp_path / "ap" / "jobs").iterdir())
    ran = []
    again = appraise(_toy(), tmp_path / "ap", workers=1, replications=2, progress=lambda s, k: ran.append((s.name, k)))
    assert ran == [] and sorted(p.name for p in (tmp_path / "ap" / "jobs").iterdir()) == stored
    pd.testing.assert_frame_equal(first.table, again.table)


def test_an_appraisal_of_one_item_gives_that_items_row_of_the_whole_appraisal(tmp_path):
    """--only: the item named is compared with the same scenario and the same replications as in the
    whole appraisal (common random numbers), so its values are the whole appraisal's; the others are not run."""
    whole = appraise(_toy(), tmp_path / "whole", workers=1, replications=2)
    ran = []
    one = appraise(_toy(), tmp_path / "one", workers=1, replications=2, only=["slack_berth"],
                   progress=lambda s, k: ran.append(s.name))
    assert one.table["item"].tolist() == ["slack_berth"]
    assert {name.rsplit("~", 1)[-1] for name in ran if "~" in name} == {"slack_berth"}
    cols = ["gain_mt", "gain_mt_lo", "gain_mt_hi", "delay_cost_mt_per_month"]
    pd.testing.assert_frame_equal(one.table.set_index("item")[cols], whole.table.set_index("item").loc[["slack_berth"], cols])
    assert "Only slack_berth appraised" in one.note()


def test_an_appraisal_of_an_unknown_item_names_what_can_be_appraised(tmp_path):
    from model import api
    with pytest.raises(api.BadArgument, match="'quay' is not an item of .* binding_berth, slack_berth"):
        api.appraise(_toy(), tmp_path / "ap", only=["quay"])
    assert not (tmp_path / "ap").exists()


def test_delaying_an_investment_past_the_horizon_equals_removing_it():
    s = _toy()
    late = delayed(s, "binding_berth", 24, "late")
    gone = without(s, {"binding_berth"}, "gone")
    a, b = (pd.DataFrame(stream_rows(tables(run_replication(v, 0, 5)))) for v in (late, gone))
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(pd.DataFrame(stream_rows(tables(run_replication(s, 0, 5)))))


def test_without_an_opening_the_line_never_opens():
    """Removing an opening investment would open the line from the start; 'without' keeps it shut."""
    nodes = {"p": {"kind": "port", "berths": 2, "handling_rate_t_per_h": SHIP},
             "line": {"kind": "rail_line", "capacity_mt_per_year": 5.0, "train_payload_t": SHIP}}
    inv = [{"id": "line_open", "node": "line", "field": "opening", "date": "2024-04-01"}]
    s = make_scenario(nodes, {"x": stream(["p", "line"], 1.0, SHIP)}, investments=inv)
    r = run_replication(without(s, {"line_open"}, "w"), 0, 1)
    assert sum(r.nodes["line"].throughput_t) == 0.0
    assert sum(run_replication(s, 0, 1).nodes["line"].throughput_t) > 0


def test_tag_groups_appraise_their_investments_together():
    items, variants = items_of(_toy(), "tag", 12)
    assert [it.name for it in items] == ["ports"]
    assert {i.id for i in items[0].investments} == {"binding_berth", "slack_berth"}
    assert items[0].cost_musd == 20 and len(variants) == 2


def test_npv_of_a_constant_benefit_is_the_annuity():
    years = list(range(2024, 2034))
    benefits = [0.0] + [5e6] * 9   # 5 M USD a year from 2025 to 2033
    costs = [30e6] + [0.0] * 9     # 30 M USD in 2024
    npv, bcr = npv_and_bcr(benefits, costs, years, 0.07, 2024)
    annuity = 5e6 * (1 - 1.07 ** -9) / 0.07
    assert npv == pytest.approx(annuity - 30e6, rel=1e-12)
    assert bcr == pytest.approx(annuity / 30e6, rel=1e-12)
    assert present_value([1.0], [2030], 0.0, 2024) == 1.0


def test_the_programme_funds_what_pays_and_stops_before_what_does_not(tmp_path):
    """At 50 USD a tonne the binding berth (~0.8 Mt for 10 M USD) pays; the slack one adds
    nothing: funded first, then the programme stops and lists the slack one unfunded."""
    s = _toy(appraisal={"value_usd_per_t": {"c": 50.0}})
    res = appraise(s, tmp_path / "ap", workers=1, replications=2, sequence=True)
    seq = res.sequence
    assert seq["item"].tolist() == ["binding_berth", "slack_berth"]
    assert seq["funded"].tolist() == [True, False] and seq["step"].tolist() == [1, 0]
    assert seq.loc[0, "adds_npv_musd"] > 0 >= seq.loc[1, "adds_npv_musd"]
    assert seq.loc[0, "cumulative_cost_musd"] == 10


def test_one_step_more_capacity_agrees_in_sign_with_the_bound(tmp_path):
    """Without its mid-year berth, port a binds (2.2 Mt against 3 Mt offered): 10% faster
    berths there deliver more, and the demand-limited bound says so too; at the slack port
    b neither the runs nor the bound move."""
    from model.experiments.appraise import marginal_values

    mv = marginal_values(_toy().model_copy(update={"investments": []}), tmp_path / "m", replications=3, workers=1)
    last = mv[mv["year"] == 2024].set_index("node")
    assert last.loc["a", "step"] == "capacity x 1.1"
    assert last.loc["a", "gain_t_lo"] > 0 and last.loc["a", "bound_gain_t"] > 0
    # a carries 10% more of an over-demanded year: gain ~ its capacity added (shadow price ~1)
    assert last.loc["a", "shadow_price"] == pytest.approx(1.0, abs=0.1)
    assert last.loc["b", "bound_gain_t"] == 0 and last.loc["b", "gain_t_lo"] <= 0 <= last.loc["b", "gain_t_hi"]
