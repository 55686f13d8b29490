"""Ports against queueing theory: M/M/c (Erlang C), M/D/1 and M/G/1
(Pollaczek–Khinchine), and a three-port tandem (Jackson network).

Every scenario here has one Poisson stream (homogeneous: see ``vstats.DAYS``)
and ports whose service time per shipment is shipment_t / rate_per_berth,
drawn exponential, fixed or lognormal. A month of warm-up, then the year 2030 is
measured from the metrics tables (``waiting_mean_h``, ``utilization`` and the
stream's ``transit_mean_days``), so the check covers the node, the recording
and the tables. 20 replications per scenario; intervals as in ``vstats``.

The theory depends on the berths and on the service-time law, so a port that
ignored its berths, scaled its service time, or drew the wrong distribution
(e.g. fixed instead of exponential halves the M/M/1 wait) fails here.
"""

from __future__ import annotations

import pytest

from model.experiments.runner import run_many
from model.analysis.sanity import mmc_wq, pk_wq
from vstats import SEED, check, per_replication, poisson_stream, port, scenario

REPS = 20
SHIP = 100.0

# name: (berths, mean service h, arrivals per h, service law, service cv)
SINGLE = {
    "mm2": (2, 1.0, 1.6, "exponential", None),
    "mm3": (3, 1.0, 2.4, "exponential", None),
    "md1": (1, 1.0, 0.8, "fixed", None),
    "mg1_lognormal": (1, 1.0, 0.8, "lognormal", 0.5),
}
# tandem: three ports in series, exponential service, arrivals 0.8 an hour
TANDEM_LAM = 0.8
TANDEM = {"p1": (1, 0.875), "p2": (2, 1.75), "p3": (3, 2.5)}  # berths, mean service (rho 0.7, 0.7, 0.67)


def _single(name: str):
    c, s, lam, law, cv = SINGLE[name]
    extra = {"service_cv": cv} if cv else {}
    return scenario({"p": port(c, s, SHIP, law, **extra)}, {"x": poisson_stream(["p"], lam, SHIP)}, name=name)


def _tandem():
    nodes = {n: port(c, s, SHIP) for n, (c, s) in TANDEM.items()}
    return scenario(nodes, {"x": poisson_stream(list(TANDEM), TANDEM_LAM, SHIP)}, name="tandem")


@pytest.fixture(scope="module")
def runs():
    scenarios = [_single(n) for n in SINGLE] + [_tandem()]
    return run_many([(s, k) for s in scenarios for k in range(REPS)], seed=SEED, workers=2)


def _theory_wq(name: str) -> float:
    c, s, lam, law, cv = SINGLE[name]
    if law == "exponential":
        return mmc_wq(lam, s, c)
    assert c == 1
    return pk_wq(lam, s, 0.0 if law == "fixed" else cv**2)


def test_theory_values_are_the_textbook_ones():
    """The formulas used as references, against hand-computed values:
    M/M/2 at rho 0.8: P(wait) = 2 rho^2/(1+rho) = 0.7111, Wq = 0.7111/(2-1.6) = 1.778 h;
    M/D/1 at rho 0.8: rho/(2(1-rho)) = 2 h; M/G/1 with cs^2 = 0.25: 2 x 1.25 = 2.5 h."""
    assert _theory_wq("mm2") == pytest.approx(1.28 / 1.8 / 0.4)
    assert _theory_wq("md1") == pytest.approx(2.0)
    assert _theory_wq("mg1_lognormal") == pytest.approx(2.5)
    # M/M/3, a = 2.4: C = (a^3/3!)/(1-rho) / (sum_{k<3} a^k/k! + (a^3/3!)/(1-rho))
    a, rho = 2.4, 0.8
    top = a**3 / 6 / (1 - rho)
    assert _theory_wq("mm3") == pytest.approx(top / (1 + a + a * a / 2 + top) / (3 - a))


@pytest.mark.parametrize("name", list(SINGLE))
def test_single_port_mean_wait_matches_theory(runs, name):
    wq = per_replication(runs, "annual_nodes", "waiting_mean_h", name, node="p")
    ci = check(f"{name} Wq", wq, _theory_wq(name), max_rel_half=0.10)
    print(f"{name}: Wq theory {_theory_wq(name):.4f} h, simulated {ci}")


@pytest.mark.parametrize("name", list(SINGLE))
def test_single_port_utilisation_matches_rho(runs, name):
    c, s, lam, _, _ = SINGLE[name]
    util = per_replication(runs, "annual_nodes", "utilization", name, node="p")
    ci = check(f"{name} rho", util, lam * s / c, max_rel_half=0.02)
    print(f"{name}: rho theory {lam * s / c:.4f}, simulated {ci}")


@pytest.mark.parametrize("node", list(TANDEM))
def test_tandem_per_node_wait_matches_jackson(runs, node):
    """Jackson: each node of an open network of exponential servers behaves as
    an independent M/M/c with the external arrival rate."""
    c, s = TANDEM[node]
    wq = per_replication(runs, "annual_nodes", "waiting_mean_h", "tandem", node=node)
    ci = check(f"tandem {node} Wq", wq, mmc_wq(TANDEM_LAM, s, c), max_rel_half=0.10)
    print(f"tandem {node}: Wq theory {mmc_wq(TANDEM_LAM, s, c):.4f} h, simulated {ci}")


def test_tandem_time_in_system_matches_jackson(runs):
    """Mean time in system = sum over nodes of (Wq + mean service): 9.96 h."""
    theory = sum(mmc_wq(TANDEM_LAM, s, c) + s for c, s in TANDEM.values())
    days = per_replication(runs, "annual_streams", "transit_mean_days", "tandem", stream="x")
    ci = check("tandem time in system", days * 24.0, theory, max_rel_half=0.05)
    print(f"tandem: time in system theory {theory:.4f} h, simulated {ci}")
