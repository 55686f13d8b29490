"""Background traffic shares a terminal's berths with corridor cargo (issue 17): against
Erlang C for the pooled arrivals.

Two Poisson streams of the same shipment size and exponential service, served first come
first served on one set of berths, form one M/M/c queue of the pooled rate: each class
waits what the pool waits, Wq(lambda_1 + lambda_2). So the background's wait rises when
corridor cargo is added and the corridor's rises when background is added, each to the
same pooled figure. Waits are read per stream, from its ``transit_mean_days`` (a route of
the terminal alone: wait + mean service), so the check covers the recording per stream,
not only the node's pooled wait. A month of warm-up, 2030 measured; intervals as in vstats.
Alone, each stream would wait Erlang C of its own rate, a tenth to a fifth of an hour (a single
stream on M/M/c berths is checked in test_validation_queues): the shared interval must lie above
it, far above, so the rise is judged against theory, not against another noisy run.
"""

from __future__ import annotations

import pytest

from model.experiments.runner import run_many
from model.analysis.sanity import mmc_wq
from vstats import SEED, check, per_replication, poisson_stream, port, scenario

REPS = 20
SHIP = 100.0
BERTHS, SERVICE_H = 2, 1.0
BACKGROUND_PER_H, CORRIDOR_PER_H = 0.6, 0.8  # rho 0.3 and 0.4 alone, 0.7 together


def _berths(background: bool, corridor: bool):
    streams = {}
    if background:
        streams["other"] = {**poisson_stream(["t"], BACKGROUND_PER_H, SHIP), "background": True}
    if corridor:
        streams["cargo"] = poisson_stream(["t"], CORRIDOR_PER_H, SHIP)
    name = "+".join(k for k, v in (("other", background), ("cargo", corridor)) if v)
    return scenario({"t": port(BERTHS, SERVICE_H, SHIP)}, streams, name=name)


@pytest.fixture(scope="module")
def runs():
    return run_many([(_berths(True, True), k) for k in range(REPS)], seed=SEED, workers=2)


def _wait_h(runs, scenario_name: str, stream: str):
    days = per_replication(runs, "annual_streams", "transit_mean_days", scenario_name, stream=stream)
    return days * 24.0 - SERVICE_H


def test_pooled_theory_values():
    """Erlang C for 2 berths reduces to Wq = rho^2 / (1 - rho^2) x mean service (rho = lambda S / 2):
    0.099 h at 0.6/h, 0.190 h at 0.8/h, 0.961 h at 1.4/h."""
    for lam in (BACKGROUND_PER_H, CORRIDOR_PER_H, BACKGROUND_PER_H + CORRIDOR_PER_H):
        rho = lam * SERVICE_H / BERTHS
        assert mmc_wq(lam, SERVICE_H, BERTHS) == pytest.approx(rho**2 / (1 - rho**2) * SERVICE_H, rel=1e-12)
    assert mmc_wq(BACKGROUND_PER_H + CORRIDOR_PER_H, SERVICE_H, BERTHS) == pytest.approx(0.9608, abs=1e-4)


def test_background_waits_rise_to_the_pooled_wait_when_corridor_cargo_shares_its_berths(runs):
    pooled = mmc_wq(BACKGROUND_PER_H + CORRIDOR_PER_H, SERVICE_H, BERTHS)
    shared = check("background with corridor cargo", _wait_h(runs, "other+cargo", "other"), pooled, max_rel_half=0.10)
    assert shared.lo > 5 * mmc_wq(BACKGROUND_PER_H, SERVICE_H, BERTHS)  # 0.96 h against 0.099 h alone


def test_corridor_waits_rise_to_the_pooled_wait_when_background_shares_its_berths(runs):
    pooled = mmc_wq(BACKGROUND_PER_H + CORRIDOR_PER_H, SERVICE_H, BERTHS)
    shared = check("corridor with background", _wait_h(runs, "other+cargo", "cargo"), pooled, max_rel_half=0.10)
    assert shared.lo > 4 * mmc_wq(CORRIDOR_PER_H, SERVICE_H, BERTHS)  # 0.96 h against 0.19 h alone
