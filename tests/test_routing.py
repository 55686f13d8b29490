"""Branch choices: a branch that is not open is never chosen; fixed shares give
their split (binomial interval); least_delay steers away from a jam."""

from __future__ import annotations

import numpy as np
import pytest

from simkit import binomial_tolerance, make_scenario, stream
from model.engine.simulate import run_replication

SHIP = 1000.0


def branch_counts(r, sid: str, name: str) -> np.ndarray:
    """Shipments sent to a branch, by the year the choice was made."""
    t = r.streams[sid].branch_t.get(name, [0.0] * len(r.grid))
    return np.array(t) / SHIP


def two_branch(policy: str, shares: dict | None, b_opening: str | None, a_dwell: float = 50.0,
               end: str = "2026-01-01", volume: float = 2.0, a_opening: str | None = None) -> dict:
    """Branch a: a border then a rail line (opening on ``a_opening``); branch b: a fast
    rail line opening on ``b_opening``. Rail lines have ample paths."""
    nodes = {
        "border_a": {"kind": "border", "dwell_h": a_dwell},
        "rail_a": {"kind": "rail_line", "paths_per_day": 240, "train_payload_t": SHIP, "transit_h": 30,
                   "opening_date": a_opening},
        "rail_b": {"kind": "rail_line", "paths_per_day": 240, "train_payload_t": SHIP, "transit_h": 5,
                   "opening_date": b_opening},
    }
    choice = {"choice": {"a": ["border_a", "rail_a"], "b": ["rail_b"]}, "policy": policy}
    if shares is not None:
        choice["shares"] = shares
    return make_scenario(nodes, {"x": stream([choice], volume, SHIP)}, end=end)


@pytest.mark.parametrize("policy, shares", [("least_delay", None), ("fixed_shares", {"a": 0.3, "b": 0.7})])
def test_branch_not_yet_open_is_never_chosen(policy, shares):
    """Branch b opens on 1 Jan 2025. In 2024 everything goes to a; in 2025 b is
    used (least_delay prefers it: 5 h transit against 80 h via a)."""
    s = two_branch(policy, shares, b_opening="2025-01-01")
    r = run_replication(s, 0, 31)
    a, b = branch_counts(r, "x", "a"), branch_counts(r, "x", "b")
    assert b[0] == 0 and a[0] > 1000  # ~2,000 shipments a year
    assert b[1] > 0
    assert r.nodes["rail_b"].hops == b.sum()  # nothing reached b except by choice
    if policy == "least_delay":
        assert b[1] > a[1]


def test_fixed_shares_split_within_binomial_interval():
    """Once both branches are open, each shipment goes to b with probability 0.7:
    the count to b among n is Binomial(n, 0.7); the test allows 4 sd."""
    s = two_branch("fixed_shares", {"a": 3.0, "b": 7.0}, b_opening="2025-01-01")  # shares need not sum to 1
    r = run_replication(s, 0, 32)
    a, b = branch_counts(r, "x", "a"), branch_counts(r, "x", "b")
    n = int(a[1] + b[1])
    assert n > 1500
    assert abs(b[1] - 0.7 * n) <= binomial_tolerance(n, 0.7)


def test_fixed_shares_zero_share_never_chosen_while_others_open():
    s = two_branch("fixed_shares", {"a": 1.0, "b": 0.0}, b_opening=None, end="2025-01-01", volume=0.5)
    r = run_replication(s, 0, 33)
    assert branch_counts(r, "x", "b").sum() == 0
    assert branch_counts(r, "x", "a").sum() > 300


def test_no_branch_open_goes_to_the_one_opening_first():
    """a opens 2025, b opens 2026. In 2024 neither is open: shipments go to a (it
    opens first) although b has the larger share; in 2025 only a is open; in 2026
    the shares apply."""
    s = two_branch("fixed_shares", {"a": 0.1, "b": 0.9}, a_opening="2025-01-01", b_opening="2026-01-01",
                   end="2027-01-01", volume=1.0)
    r = run_replication(s, 0, 34)
    a, b = branch_counts(r, "x", "a"), branch_counts(r, "x", "b")
    assert b[0] == 0 and b[1] == 0 and a[0] > 500 and a[1] > 500
    n = int(a[2] + b[2])
    assert abs(b[2] - 0.9 * n) <= binomial_tolerance(n, 0.9)


def test_least_delay_steers_around_a_jam_that_fixed_shares_walk_into():
    """Branch a carries at most 1 train of 1,000 t a day (0.366 Mt in 2024) in 5 h;
    b carries 24 a day in 40 h. Demand 1.5 Mt/yr. Fixed 50/50 shares send ~0.75
    Mt to a, which can pass on only its capacity: a backlog of ~0.38 Mt. With
    least_delay an empty a (1,000 t / 41.7 t/h + 5 h = 29 h) beats b (1 + 40 h), a
    queued one does not (53 h): a is used, but its queue stays at a train or two."""
    nodes = {
        "rail_a": {"kind": "rail_line", "paths_per_day": 1, "train_payload_t": SHIP, "transit_h": 5},
        "rail_b": {"kind": "rail_line", "paths_per_day": 24, "train_payload_t": SHIP, "transit_h": 40},
    }

    def run(policy: str):
        choice = {"choice": {"a": ["rail_a"], "b": ["rail_b"]}, "policy": policy, "shares": {"a": 1, "b": 1}}
        s = make_scenario(nodes, {"x": stream([choice], 1.5, SHIP)})
        return run_replication(s, 0, 35)

    fixed, least = run("fixed_shares"), run("least_delay")
    cap_a = 8784 / 24 * SHIP
    # fixed shares: a receives ~half the demand (binomial) and passes on at most its capacity
    sent_a = branch_counts(fixed, "x", "a")[0] * SHIP
    n = (branch_counts(fixed, "x", "a")[0] + branch_counts(fixed, "x", "b")[0])
    assert abs(sent_a / SHIP - n / 2) <= binomial_tolerance(int(n), 0.5)
    assert fixed.nodes["rail_a"].in_system_t() >= sent_a - cap_a - 1e-6
    # least delay: a is used, close to its capacity, and never builds a queue
    sent_a_least = branch_counts(least, "x", "a")[0] * SHIP
    assert 0.5 * cap_a < sent_a_least <= cap_a + 2 * SHIP
    assert least.nodes["rail_a"].in_system_t() <= 2 * SHIP
    assert sum(least.streams["x"].delivered_t) > sum(fixed.streams["x"].delivered_t)
