"""A finite waiting room against queueing theory: a pipeline whose tank holds K
parcels (waiting or being pumped), Poisson arrivals, a fixed pumping time, and
``when_full: divert``: an M/D/1/K loss system. The share of parcels turned away is
the blocking probability P_K, computed from the M/G/1/K embedded chain at
departures (Gross & Harris, Fundamentals of Queueing Theory, §5.1.4):
P_K = 1 - 1 / (pi_0 + rho), pi the departure-epoch distribution on 0..K-1."""

from __future__ import annotations

import math

import numpy as np
import pytest

from model.experiments.runner import run_many
from vstats import SEED, YEAR_H, check, per_replication, poisson_stream, scenario

REPS = 20
PARCEL = 1000.0
PUMP_H = 1.0  # fixed pumping time per parcel
CASES = {"md1k2": (2, 0.9), "md1k4": (4, 0.9)}  # name: (K, rho)


def md1k_blocking(k: int, rho: float) -> float:
    """Blocking probability of M/D/1/K (fixed service, offered load rho)."""
    a = [math.exp(-rho) * rho**j / math.factorial(j) for j in range(k)]
    a.append(1.0 - sum(a))  # k or more arrivals in one service: capped
    p = np.zeros((k, k))
    for i in range(k):
        base = max(i - 1, 0)  # after a departure from i (from 0: the next arrival starts service)
        for j in range(base, k):
            p[i, j] = a[j - base] if j < k - 1 else sum(a[j - base:])
    w, v = np.linalg.eig(p.T)
    pi = np.real(v[:, np.argmin(abs(w - 1.0))])
    pi = pi / pi.sum()
    return 1.0 - 1.0 / (pi[0] + rho)


def test_blocking_theory_is_the_textbook_one():
    # K = 1: Erlang's loss formula for one server, rho / (1 + rho), whatever the service law
    assert md1k_blocking(1, 0.9) == pytest.approx(0.9 / 1.9)
    # more room, less blocking; and it tends to M/D/1's zero as K grows at rho < 1
    assert md1k_blocking(2, 0.9) > md1k_blocking(4, 0.9) > md1k_blocking(12, 0.9) > 0


def _scenario(name: str):
    k, rho = CASES[name]
    flow_mt = PARCEL / PUMP_H * YEAR_H / 1e6
    node = {"kind": "pipeline", "flow_mt_per_year": flow_mt, "tank_t": k * PARCEL, "when_full": "divert"}
    return scenario({"pipe": node}, {"x": poisson_stream(["pipe"], rho / PUMP_H, PARCEL)}, name=name)


@pytest.fixture(scope="module")
def runs():
    return run_many([(_scenario(n), r) for n in CASES for r in range(REPS)], seed=SEED, workers=2)


@pytest.mark.parametrize("name", list(CASES))
def test_share_turned_away_by_a_full_tank_matches_md1k(runs, name):
    k, rho = CASES[name]
    away = per_replication(runs, "annual_streams", "turned_away_t", name)
    offered = per_replication(runs, "annual_streams", "demand_t", name)
    check(f"{name} blocking", away / offered, md1k_blocking(k, rho), max_rel_half=0.1)
