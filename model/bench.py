"""``python run.py bench``: the model's cost per shipment-hop against bare simpy.

Both are timed in the same process, one after the other, so the ratio is
meaningful on a shared, noisy machine even when the absolute figures are not.
The reference is a bare simpy tandem queue: 3 stations, each a
``simpy.Resource(capacity=1)``, exponential service, no recording.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import simpy

from .scenario import load_scenario
from .simulate import run_replication


def bare_tandem_us_per_hop(customers: int = 60_000, stations: int = 3, seed: int = 1) -> float:
    """Microseconds per customer-station in a bare simpy tandem queue (rho = 0.8)."""
    rnd = random.Random(seed)
    env = simpy.Environment()
    res = [simpy.Resource(env, capacity=1) for _ in range(stations)]

    def customer():
        for r in res:
            req = r.request()
            yield req
            yield env.timeout(rnd.expovariate(1.25))
            r.release(req)

    def source():
        for _ in range(customers):
            yield env.timeout(rnd.expovariate(1.0))
            env.process(customer())

    env.process(source())
    t0 = time.perf_counter()
    env.run()
    return (time.perf_counter() - t0) / (customers * stations) * 1e6


def model_us_per_hop(scenario_path: Path, replications: int = 1) -> tuple[float, float]:
    """(microseconds per shipment-hop, seconds per replication) on a scenario."""
    scenario = load_scenario(scenario_path)
    hops, wall = 0, 0.0
    for k in range(replications):
        t0 = time.perf_counter()
        r = run_replication(scenario, k)
        wall += time.perf_counter() - t0
        hops += r.hops
    return wall / hops * 1e6, wall / replications


def parallel_efficiency(scenario_path: Path, jobs: int = 4) -> float:
    """T(1 worker) / (2 x T(2 workers)) for ``jobs`` replications through the batch runner
    (process start-up and result transfer included, as users see them)."""
    from .runner import run_many

    scenario = load_scenario(scenario_path)
    work = [(scenario, k) for k in range(jobs)]
    t0 = time.perf_counter()
    run_many(work, workers=1)
    t1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_many(work, workers=2)
    t2 = time.perf_counter() - t0
    return t1 / (2 * t2)


def run_bench(scenario_path: Path, parallel: bool = True) -> dict:
    """Interleave the two measurements and keep the best of each (least noise)."""
    bare, model, rep_s = [], [], []
    for _ in range(2):
        bare.append(bare_tandem_us_per_hop())
        m, s = model_us_per_hop(scenario_path)
        model.append(m)
        rep_s.append(s)
    b, m = min(bare), min(model)
    out = {
        "model_us_per_hop": round(m, 3),
        "bare_us_per_hop": round(b, 3),
        "ratio": round(m / b, 3),
        "baseline_replication_s": round(min(rep_s), 3),
    }
    if parallel:
        out["parallel_efficiency_2_workers"] = round(parallel_efficiency(scenario_path), 3)
    return out
