"""The appraisal's economics against closed forms: a capex profile and a residual value,
the rule of a half against the exact consumer-surplus change of a known demand curve
(linear: equal; logit: the trapezoid of Δ logsum / λ), the break-even cost, rank
probabilities, and a delay that cannot gain from a cost leaving the horizon."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
from scipy.integrate import trapezoid
import pytest
from hypothesis import given, settings, strategies as st

from simkit import make_scenario, stream
from model.analysis.economics import (capex_flows_usd, discount_factors, logit_share, logsum_usd_per_t,
                                      residual_fraction, rule_of_a_half_usd, spent_share)
from model.analysis.ranking import capital
from model.experiments.appraise import appraise
from model.scenario.schema import AppraisalSpec, Investment

SHIP = 1000.0


# ------------------------------------------------------------------ capital


def test_a_capex_profile_spends_each_share_in_its_construction_year():
    """A 5-year rail profile ending on 1 January 2030: one share in each of 2025-2029;
    its present value at 6% is the sum of each share discounted from its year."""
    shares = [0.10, 0.20, 0.30, 0.25, 0.15]
    years = list(range(2024, 2031))
    flows = capex_flows_usd(1000.0, date(2030, 1, 1), shares, years)
    assert flows.tolist() == pytest.approx([0, 100, 200, 300, 250, 150, 0])
    pv = float(discount_factors(years, 0.06, 2024) @ flows)
    assert pv == pytest.approx(sum(1000 * s * 1.06 ** -(2025 + k - 2024) for k, s in enumerate(shares)))


def test_a_capex_profile_opening_mid_year_splits_each_share_by_days_and_keeps_the_total():
    """Opening 1 July 2027 with two equal construction years, 1 July 2025 - 1 July 2026 and
    1 July 2026 - 1 July 2027 (365 days each): 2025 gets 184 of the first year's days,
    2026 its other 181 and 184 of the second's, 2027 the last 181."""
    flows = capex_flows_usd(730.0, date(2027, 7, 1), [0.5, 0.5], [2025, 2026, 2027])
    assert flows.tolist() == pytest.approx([365 * 184 / 365, 365 * 181 / 365 + 365 * 184 / 365, 365 * 181 / 365])
    # cut at a horizon of 1 January 2027: what is spent from then on is not counted
    cut = capex_flows_usd(730.0, date(2027, 7, 1), [0.5, 0.5], [2025, 2026, 2027], until=date(2027, 1, 1))
    assert cut.tolist() == pytest.approx(flows.tolist()[:2] + [0.0])
    assert cut.sum() == pytest.approx(730.0 * spent_share(date(2027, 7, 1), [0.5, 0.5], date(2027, 1, 1)))


def test_residual_value_is_remaining_life_over_life_or_work_in_progress_at_cost():
    # Kars-Dilucu-like: opens 1 Jan 2031, 50-year life, horizon 1 Jan 2051: 20 years used, 30 left
    assert residual_fraction(date(2031, 1, 1), 50, date(2051, 1, 1), [1.0]) == pytest.approx(30 / 50, abs=1e-4)
    # an asset past its life is worth nothing, never less
    assert residual_fraction(date(2000, 1, 1), 25, date(2051, 1, 1), [1.0]) == 0.0
    # still being built: 3 of 5 equal years spent
    assert residual_fraction(date(2053, 1, 1), 50, date(2051, 1, 1), [0.2] * 5) == pytest.approx(0.6, abs=1e-3)


def _one(cost: float | None, opening: date, tags: list[str] | None = None) -> Investment:
    return Investment(id="x", node="n", field="berths", date=opening, cost_musd=cost, tags=tags or ["rail_line"])


class _Draw:
    """The two things capital() reads from a replication's scenario."""

    def __init__(self, inv: Investment, months: float = 0.0):
        from model.scenario.schema import Delays, ProjectDelay

        self.investments = [inv]
        self.delays = Delays(projects=[ProjectDelay(match="x", months=months)] if months else [])


def _npv(b_per_year: float, inv: Investment, spec: AppraisalSpec, years: list[int], end: date, months: float = 0.0,
         rate: float | None = None) -> float:
    """NPV of an asset giving ``b_per_year`` (USD) for each year of service (the share of
    a year after its opening), capital as appraise counts it."""
    from model.analysis.economics import year_share_after
    from model.core.timeline import add_months

    opening = add_months(inv.date, months) if months else inv.date
    cap = capital([inv], _Draw(inv), spec, years, end, months)  # type: ignore[arg-type]
    b = np.array([b_per_year * year_share_after(opening, y) for y in years])
    df = discount_factors(years, spec.discount_rate if rate is None else rate, years[0])
    return float(df @ (b - cap.spend + cap.residual - cap.opex))


def test_the_break_even_cost_makes_npv_zero():
    """The break-even cost C* = (PV benefits - PV running costs) / PV(spend - residual per
    USD); at C* the NPV is 0 and it falls by PV(per USD) for each USD above it."""
    spec = AppraisalSpec(discount_rate=0.06, opex_musd_per_year={"x": 2.0}, life_years={"rail_line": 50})
    years, end = list(range(2020, 2051)), date(2051, 1, 1)
    inv = _one(1.0, date(2031, 1, 1))
    cap = capital([inv], _Draw(inv), spec, years, end)  # type: ignore[arg-type]
    df = discount_factors(years, 0.06, 2020)
    from model.analysis.economics import break_even_cost, year_share_after

    benefits = np.array([90e6 * year_share_after(date(2031, 1, 1), y) for y in years])
    be = break_even_cost(float(df @ benefits), float(df @ cap.opex), float(df @ cap.unit_flows))
    assert be > 0
    at_be = _one(be / 1e6, date(2031, 1, 1))
    assert _npv(90e6, at_be, spec, years, end) == pytest.approx(0.0, abs=1e-3 * be)
    above = _one(be / 1e6 + 100.0, date(2031, 1, 1))
    assert _npv(90e6, above, spec, years, end) == pytest.approx(-100e6 * float(df @ cap.unit_flows), rel=1e-9)


# ------------------------------------------------------------------ a delay and the horizon


@settings(max_examples=60, deadline=None)
@given(opening_year=st.integers(2040, 2052), delay=st.floats(1.0, 60.0), rate=st.sampled_from([0.0, 0.03, 0.06, 0.10]))
def test_a_delay_never_gains_from_a_cost_leaving_the_horizon(opening_year, delay, rate):
    """A 2.6 bn USD, 5-year railway of 50 years with no benefit at all, on a horizon ending
    1 January 2051, delayed ``delay`` months. Its NPV can rise with the delay only by what
    deferring is really worth: the time value of paying later (at most the whole cost x
    (1 - (1+r)^-d)) and the wear of the months it is not used (cost x d / life). The old
    accounts let the capital leave the horizon and 'earned' up to the whole cost."""
    spec = AppraisalSpec(discount_rate=rate, life_years={"rail_line": 50})
    years, end = list(range(2030, 2051)), date(2051, 1, 1)
    inv = _one(2600.0, date(opening_year, 1, 1))
    gain = _npv(0.0, inv, spec, years, end, delay) - _npv(0.0, inv, spec, years, end)
    from model.core.timeline import add_months

    d = (add_months(inv.date, delay) - inv.date).days / 365.25   # the delay in years, as the calendar has it
    assert gain <= 2600e6 * ((1 - (1 + rate) ** -d) + d / 50) + 1.0
    if rate == 0.0 and opening_year >= 2051:  # not open either way: spent comes back at cost, nothing gained
        assert gain == pytest.approx(0.0, abs=1.0)


def test_a_delay_across_the_horizon_moves_npv_continuously():
    """Opening one day before or one day after the horizon changes the NPV by about a day's
    worth, not by the cost (what the upfront or annualised accounts did)."""
    spec = AppraisalSpec(discount_rate=0.06, life_years={"rail_line": 50})
    years, end = list(range(2040, 2051)), date(2051, 1, 1)
    before = _npv(0.0, _one(2600.0, date(2050, 12, 31)), spec, years, end)
    after = _npv(0.0, _one(2600.0, date(2051, 1, 2)), spec, years, end)
    assert abs(after - before) < 2600e6 * 3 / 365


# ------------------------------------------------------------------ users' benefits


def test_the_rule_of_a_half_is_exact_for_a_linear_demand_curve():
    """q(c) = 1000 - 5c: the consumer-surplus change from c0 to c1 is the integral of q,
    a trapezoid; the rule of a half gives it exactly, attracted cargo at half the saving."""
    def q(c):
        return 1000.0 - 5.0 * c

    for c0, c1 in [(120.0, 100.0), (150.0, 60.0), (80.0, 95.0)]:
        exact = (c0 - c1) * (q(c0) + q(c1)) / 2  # the integral of a straight line
        integral = 1000 * (c0 - c1) - 2.5 * (c0 ** 2 - c1 ** 2)
        assert exact == pytest.approx(integral)
        assert rule_of_a_half_usd(q(c0), c0, q(c1), c1, 200.0) == pytest.approx(integral)


@pytest.mark.parametrize("scale, saving", [(0.05, 5.0), (0.05, 20.0), (0.2, 10.0)])
def test_the_rule_of_a_half_is_the_trapezoid_of_the_logsum_change(scale, saving):
    """For a binomial logit (the shippers' choice in the model) the exact change in consumer
    surplus per tonne offered is Δ logsum / λ = the integral of the corridor's share over
    its cost. The rule of a half is that integral's trapezoid: within (Δc)^3 max|s''| / 12."""
    outside, c0 = 180.0, 175.0
    c1 = c0 - saving
    exact = logsum_usd_per_t([c0, outside], scale) - logsum_usd_per_t([c1, outside], scale)
    grid = np.linspace(c1, c0, 20001)
    s = np.array([logit_share(g, [outside], scale) for g in grid])
    assert exact == pytest.approx(float(trapezoid(s, grid)), rel=1e-6)
    roh = rule_of_a_half_usd(logit_share(c0, [outside], scale), c0, logit_share(c1, [outside], scale), c1, outside)
    bound = saving ** 3 * scale ** 2 * 0.0963 / 12  # max |s''| of a logistic is λ² / (6√3)
    assert abs(roh - exact) <= bound + 1e-12


def test_simulated_users_benefit_matches_the_logsum_of_the_shippers_choice(tmp_path):
    """A toy corridor whose demand curve is known: shippers choose it or an outside route
    (60 USD/t + 1 day) by a logit at 0.2 per USD on 50 USD/t + 20 USD/t-day x its time. An
    idle port (50 berths) handles a shipment in 24 h, then in 12 h: the corridor's cost falls
    from 70 to 60 USD/t.
    The appraisal's users' benefit (the rule of a half on simulated tonnes and transit) is
    the tonnes offered x Δ logsum / λ, within the binomial noise of the tonnes that chose
    it and the trapezoid's error."""
    nodes = {"p": {"kind": "port", "berths": 50, "handling_rate_t_per_h": SHIP / 24, "service": "fixed"}}
    inv = [{"id": "faster", "node": "p", "field": "handling_rate_t_per_h", "change": "set", "value": SHIP / 12,
            "date": "2024-01-01", "cost_musd": 1.0}]
    s = make_scenario(nodes, {"x": stream(["p"], 3.0, SHIP, tariff_usd_per_t=50.0, value_of_time_usd_per_t_day=20.0,
                                          logit_scale_per_usd=0.2,
                                          outside={"north": {"tariff_usd_per_t": 60.0, "transit_days": 1.0}})},
                      investments=inv, replications=2,
                      appraisal={"value_usd_per_t": {}, "residual_value": "none"})
    res = appraise(s, tmp_path / "ap", workers=1)
    row = res.table.set_index("item").loc["faster"]
    transit_with = 12 / 24   # days: the port's handling, idle
    c0, c1, out = 50 + 20 * 1.0, 50 + 20 * transit_with, 60 + 20 * 1.0
    offered_t = 3.0e6 * 8784 / 8760  # a leap year's demand
    exact_musd = offered_t * (logsum_usd_per_t([c0, out], 0.2) - logsum_usd_per_t([c1, out], 0.2)) / 1e6
    n = offered_t / SHIP
    # Poisson arrivals and binomial choices: the tonnes that chose it vary by ~sqrt(n) shipments (3 sd)
    noise_musd = 3 * math.sqrt(n) * SHIP * (c0 - c1) / 1e6
    trapezoid_musd = offered_t * (c0 - c1) ** 3 * 0.2 ** 2 * 0.0963 / 12 / 1e6
    assert row["pv_user_benefits_musd"] == pytest.approx(exact_musd, abs=noise_musd + trapezoid_musd)
    assert row["pv_producer_musd"] == 0.0


def test_cargo_that_gives_up_pays_its_outside_option_so_nobody_drops_out():
    """A stream-year where, without the investment, 50 t are delivered in 5 days and 50 t
    renege after their 10 days' patience for the outside route (220 USD/t); with it all
    100 t are delivered, in 6 days (more cargo, a longer queue). Counting delivered cargo
    only, transit gets a day worse; counting every tonne that chose the corridor at its
    generalised cost, users gain: c0 = (50 x (50 + 5 x 5) + 50 x (220 + 5 x 10)) / 100 =
    172.5, c1 = 50 + 5 x 6 = 80, benefit (172.5 - 80) x (100 + 100) / 2 = 9,250 USD."""
    import pandas as pd

    from model.analysis.ranking import benefits_usd, stream_values

    s = make_scenario({"b": {"kind": "border", "dwell_h": 24}},
                      {"x": stream(["b"], 1.0, SHIP, tariff_usd_per_t=50.0, value_of_time_usd_per_t_day=5.0,
                                   patience_days=10.0,
                                   outside={"north": {"tariff_usd_per_t": 120.0, "transit_days": 20.0}})},
                      appraisal={})
    rows = [{"scenario": v, "replication": 0, "year": 2024, "stream": "x", "commodity": "c", "background": False,
             "demand_t": 100.0, "delivered_t": d, "diverted_t": 0.0, "reneged_t": r, "turned_away_t": 0.0,
             "transit_mean_days": t} for v, d, r, t in (("without", 50.0, 50.0, 5.0), ("with", 100.0, 0.0, 6.0))]
    v = stream_values(pd.DataFrame(rows), s)
    users, producers = benefits_usd(v, "with", "without")
    assert users[0, 0] == pytest.approx(9250.0)
    assert producers[0, 0] == 0.0   # no margin given


# ------------------------------------------------------------------ ranks


def _ranked_toy(**extra):
    nodes = {"a": {"kind": "port", "berths": 1, "handling_rate_t_per_h": SHIP / 4, "service": "fixed"},
             "b": {"kind": "port", "berths": 4, "handling_rate_t_per_h": SHIP / 4, "service": "fixed"}}
    invs = [{"id": "binding_berth", "node": "a", "field": "berths", "change": "add", "value": 1,
             "date": "2024-07-01", "cost_musd": 10},
            {"id": "slack_berth", "node": "b", "field": "berths", "change": "add", "value": 1,
             "date": "2024-07-01", "cost_musd": 10},
            {"id": "free_berth", "node": "b", "field": "berths", "change": "add", "value": 1, "date": "2024-07-01"}]
    return make_scenario(nodes, {"x": stream(["a", "b"], 3.0, SHIP)}, end="2025-01-01", investments=invs,
                         appraisal={"value_usd_per_t": {"c": 50.0}}, **extra)


def test_rank_probabilities_sum_to_one_per_item_and_an_item_without_a_cost_is_not_ranked(tmp_path):
    res = appraise(_ranked_toy(), tmp_path / "ap", workers=1, replications=4)
    sums = res.ranks.groupby("item")["probability"].sum()
    assert sums.to_numpy() == pytest.approx(1.0)
    assert set(sums.index) == {"binding_berth", "slack_berth"}
    t = res.table.set_index("item")
    assert t.loc["free_berth", "rank"] == 0 and math.isnan(t.loc["free_berth", "npv_musd"])
    assert t.loc["binding_berth", "p_first"] == res.ranks.query("item == 'binding_berth' and rank == 1")["probability"].iloc[0]
    assert "free_berth" in res.headline and "Without a cost" in res.headline


def test_one_replication_prints_no_interval_and_never_matters_most_on_an_interval_with_zero(tmp_path):
    from model.outputs.report import format_appraisal

    one = appraise(_ranked_toy(), tmp_path / "one", workers=1, replications=1)
    text = format_appraisal(one.table, None, one.headline, one.rates)
    assert "nan" not in text and "(1 replication: no interval)" in text and "matters most" not in one.headline
    # the slack berth alone: its gain interval contains 0, so it is never said to matter most
    s = _ranked_toy().model_copy(update={"investments": _ranked_toy().investments[1:2]})
    res = appraise(s, tmp_path / "slack", workers=1, replications=3)
    assert "matters most" not in res.headline


def test_likely_delays_are_appraised_beside_the_announced_dates(tmp_path):
    """With the binding berth's delay drawn (0-5 months after 1 July), the table gives its NPV
    and rank as announced beside as likely: as announced it opens on time and earns more."""
    s = _ranked_toy(uncertainty=[{"path": "delays.projects.binding_berth.months", "dist": "uniform",
                                  "low": 0.5, "high": 5.0}])
    res = appraise(s, tmp_path / "ap", workers=1, replications=3)
    t = res.table.set_index("item")
    assert t.loc["binding_berth", "rank_announced"] == 1 and t.loc["slack_berth", "rank_announced"] == 2
    assert t.loc["binding_berth", "npv_announced_musd"] > t.loc["binding_berth", "npv_musd"]
    assert t.loc["free_berth", "rank_announced"] == 0
    # a year's delay on top of the drawn one moves it past the horizon: its benefits are lost
    assert t.loc["binding_berth", "delay_cost_musd_per_month"] > 0


def test_a_drawn_delay_does_not_undo_the_delayed_or_without_versions():
    """A scenario that draws a project's delay: the appraisal's 'delayed' version is still
    12 months later than as given, and the 'without' version never opens the line, whatever
    the draw: the versions are changes applied to each replication's draw."""
    from functools import partial

    from model.experiments.appraise import delayed, without
    from model.experiments.runner import Variant
    from model.scenario.uncertainty import sample_scenarios
    from model.core.timeline import effective_investment_dates

    nodes = {"p": {"kind": "port", "berths": 2, "handling_rate_t_per_h": SHIP},
             "line": {"kind": "rail_line", "capacity_mt_per_year": 5.0, "train_payload_t": SHIP}}
    inv = [{"id": "line_open", "node": "line", "field": "opening", "date": "2024-03-01"}]
    s = make_scenario(nodes, {"x": stream(["p", "line"], 1.0, SHIP)}, investments=inv, end="2026-01-01",
                      uncertainty=[{"path": "delays.projects.line_open.months", "dist": "uniform", "low": 1, "high": 3}])
    given = [effective_investment_dates(d)["line_open"] for d in sample_scenarios(s, 4, 7)]
    late = [effective_investment_dates(d)["line_open"]
            for d in Variant("d", s, partial(delayed, match="line_open", months=12, name="d")).draws(4, 7)]
    gone = [effective_investment_dates(d)["line_open"]
            for d in Variant("w", s, partial(without, ids={"line_open"}, name="w")).draws(4, 7)]
    assert len(set(given)) == 4  # the draws differ
    assert all(12 * 30 <= (b - a).days <= 12 * 31 for a, b in zip(given, late))
    assert gone == [None] * 4
