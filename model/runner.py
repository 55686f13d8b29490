"""Replications of scenarios on a local process pool, gathered into tables.

Replication k of any scenario uses seed streams keyed by (seed, k) only, so
results are the same whatever the number of workers, and scenarios compared
side by side share common random numbers.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable

import pandas as pd

from .metrics import tables
from .schema import Scenario
from .simulate import run_replication


def replicate(scenario: Scenario, k: int, seed: int | None = None) -> dict[str, pd.DataFrame]:
    """One replication -> its tidy tables (runs in a worker process)."""
    return tables(run_replication(scenario, k, seed))


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_many(
    jobs: Iterable[tuple[Scenario, int]],
    seed: int | None = None,
    workers: int | None = None,
    on_done: Callable[[Scenario, int], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Run (scenario, replication) jobs, in parallel when workers > 1, and
    concatenate their tables in job order (so output never depends on timing)."""
    jobs = list(jobs)
    workers = min(workers or default_workers(), max(len(jobs), 1))
    results: list[dict[str, pd.DataFrame] | None] = [None] * len(jobs)
    if workers <= 1:
        for i, (s, k) in enumerate(jobs):
            results[i] = replicate(s, k, seed)
            if on_done:
                on_done(s, k)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(replicate, s, k, seed): i for i, (s, k) in enumerate(jobs)}
            from concurrent.futures import as_completed

            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                if on_done:
                    on_done(*jobs[i])
    names = list(dict.fromkeys(n for r in results if r for n in r))
    return {n: pd.concat([r[n] for r in results if r and n in r], ignore_index=True) for n in names}


def run_scenario(scenario: Scenario, replications: int | None = None, seed: int | None = None,
                 workers: int | None = None) -> dict[str, pd.DataFrame]:
    """All replications of one scenario, as per-replication tables (``model.run``
    gives the full :class:`~model.results.Results`)."""
    n = replications or scenario.replications
    return run_many(((scenario, k) for k in range(n)), seed=seed, workers=workers)
