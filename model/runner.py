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


def _stored_job(scenario: Scenario, k: int, seed: int | None, extract: Callable[[dict[str, pd.DataFrame]], object]
                ) -> object:
    """One replication -> what ``extract`` keeps of its tables (runs in a worker)."""
    return extract(replicate(scenario, k, seed))


def run_stored(jobs: list[tuple[str, Scenario, int]], store: "os.PathLike[str] | str", seed: int | None,
               extract: Callable[[dict[str, pd.DataFrame]], object], workers: int | None = None,
               on_done: Callable[[Scenario, int], None] | None = None) -> dict[str, object]:
    """Run (key, scenario, replication) jobs whose result is not yet in ``store`` (a
    folder of ``KEY.json`` files, each written atomically as its job finishes), and
    return every job's stored result by key: an interrupted run resumes where it
    stopped. ``extract`` (a top-level function, so workers can run it) turns a
    replication's tables into what is stored (JSON-able)."""
    import json
    from pathlib import Path

    from .folders import write_file_atomic

    folder = Path(store)
    folder.mkdir(parents=True, exist_ok=True)
    todo = [j for j in jobs if not (folder / f"{j[0]}.json").exists()]

    def save(key: str, s: Scenario, k: int, value: object) -> None:
        write_file_atomic(folder / f"{key}.json", json.dumps(value))
        if on_done:
            on_done(s, k)

    workers = min(workers or default_workers(), max(len(todo), 1))
    if workers <= 1:
        for key, s, k in todo:
            save(key, s, k, _stored_job(s, k, seed, extract))
    else:
        from concurrent.futures import as_completed

        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_stored_job, s, k, seed, extract): (key, s, k) for key, s, k in todo}
            for fut in as_completed(futures):
                save(*futures[fut], fut.result())
    return {key: json.loads((folder / f"{key}.json").read_text()) for key, _, _ in jobs}
