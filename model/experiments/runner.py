"""Replications of scenarios on a local process pool, gathered into tables, and the
job store that lets an interrupted run, batch, sweep or appraisal resume.

Replication k of any scenario uses seed streams keyed by (seed, k) only, so
results are the same whatever the number of workers, and scenarios compared
side by side share common random numbers. Every job's result goes through the
same JSON form whether it was just computed or read back from a store, so a
resumed run gives byte-identical tables. (Pools: :mod:`model.experiments.pool`.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
import json
import os
from concurrent.futures import Executor
from pathlib import Path
from typing import Callable, Iterable, cast

import pandas as pd

from model import __version__
from model.outputs.folders import DamagedFile, clean_stale, note, read_checked_json, write_checked_json, write_file_atomic
from model.analysis.tables import tables
from model.experiments.pool import Interrupted, JobsFailed, run_jobs
from model.scenario.schema import Scenario
from model.engine.simulate import run_replication


def replicate(scenario: Scenario, k: int, seed: int | None = None,
              only: frozenset[str] | None = None, log_shipments: bool = False) -> dict[str, pd.DataFrame]:
    """One replication -> its tidy tables (``only``: just these; ``log_shipments``: and the
    ``shipments`` log), in a worker process."""
    return tables(run_replication(scenario, k, seed, log_shipments), only)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def job_key(s: Scenario, seed: int, replication: int, *, named: bool = False, log_shipments: bool = False) -> str:
    """Identity of one replication of one scenario: resolved scenario, seed, replication, model. What
    does not change a replication's numbers is left out (description, the number of
    replications, the appraisal's money values; the name too unless ``named``: stored
    tables carry it), so changing it reuses the stored runs. A job that logs its shipments
    stores more (``log_shipments``): another key."""
    body = s.model_dump(mode="json")
    for field in ("description", "replications", "appraisal") + (() if named else ("name",)):
        body.pop(field, None)
    ident = {"scenario": body, "seed": seed, "replication": replication, "model": __version__}
    if log_shipments:
        ident["log_shipments"] = True
    blob = json.dumps(ident, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def table_records(t: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """A replication's tables as JSON-able records (floats exact: JSON keeps their repr), with
    each column's dtype (an empty table would otherwise come back untyped)."""
    return {name: {**df.to_dict("split", index=False), "dtypes": df.dtypes.astype(str).to_dict()}
            for name, df in t.items()}


def _frames(records: dict[str, dict]) -> dict[str, pd.DataFrame]:
    """The tables :func:`table_records` made, with their dtypes."""
    return {name: pd.DataFrame(r["data"], columns=r["columns"]).astype(r["dtypes"]) for name, r in records.items()}


def run_many(
    jobs: Iterable[tuple[Scenario, int]],
    seed: int | None = None,
    workers: int | None = None,
    on_done: Callable[[Scenario, int], None] | None = None,
    store: "os.PathLike[str] | str | None" = None,
    log_shipments: bool = False,
) -> dict[str, pd.DataFrame]:
    """Run (scenario, replication) jobs, in parallel when workers > 1, and
    concatenate their tables in job order (so output never depends on timing).
    ``store``: a folder keeping each finished replication, so a second call resumes.
    ``log_shipments``: with the ``shipments`` table (every delivered shipment)."""
    jobs = list(jobs)
    keyed = [(job_key(s, s.seed if seed is None else seed, k, named=True, log_shipments=log_shipments), s, k)
             for s, k in jobs]
    stored = run_stored(keyed, store, seed, table_records, workers, on_done, log_shipments=log_shipments)
    results = [_frames(cast(dict[str, dict], stored[key])) for key, _, _ in keyed]
    names = list(dict.fromkeys(n for r in results for n in r))
    return {n: pd.concat([r[n] for r in results if n in r], ignore_index=True) for n in names}


def run_scenario(scenario: Scenario, replications: int | None = None, seed: int | None = None,
                 workers: int | None = None) -> dict[str, pd.DataFrame]:
    """All replications of one scenario, as per-replication tables (``model.run``
    gives the full :class:`~model.outputs.results.Results`)."""
    n = replications or scenario.replications
    return run_many(((scenario, k) for k in range(n)), seed=seed, workers=workers)


@dataclass(frozen=True)
class Extract:
    """What a job keeps of a replication's tables (``fn``), and the tables it reads, so a
    worker builds only those (a sweep's measures read one or two tables; the rest cost
    most of a replication's post-processing)."""

    fn: Callable[[dict[str, pd.DataFrame]], object]
    tables: frozenset[str]

    def __call__(self, t: dict[str, pd.DataFrame]) -> object:
        return self.fn(t)


def _stored_job(scenario: Scenario, k: int, seed: int | None, extract: Callable[[dict[str, pd.DataFrame]], object],
                log_shipments: bool = False) -> object:
    """One replication -> what ``extract`` keeps of its tables (runs in a worker); an
    :class:`Extract` has only the tables it reads built."""
    only = extract.tables if isinstance(extract, Extract) else None
    return extract(replicate(scenario, k, seed, only, log_shipments))


FAILED = "failed.txt"
"""In a job store: the tracebacks of the jobs that failed in the last run."""


def stored_results(folder: Path, keys: Iterable[str], *, quiet: bool = False) -> dict[str, object]:
    """The results a job store holds for ``keys``; a damaged file (truncated, altered) is
    left out, to be recomputed, with a note unless ``quiet``."""
    found: dict[str, object] = {}
    for key in dict.fromkeys(keys):
        path = folder / f"{key}.json"
        try:
            found[key] = read_checked_json(path)
        except FileNotFoundError:
            continue
        except DamagedFile as e:
            if not quiet:
                note(f"{e}; recomputing it")
    return found


def run_stored(jobs: list[tuple[str, Scenario, int]], store: "os.PathLike[str] | str | None", seed: int | None,
               extract: Callable[[dict[str, pd.DataFrame]], object], workers: int | None = None,
               on_done: Callable[[Scenario, int], None] | None = None,
               executor: Executor | None = None, log_shipments: bool = False) -> dict[str, object]:
    """Run (key, scenario, replication) jobs whose result is not yet in ``store`` (a
    folder of ``KEY.json`` files, each written atomically with a checksum as its job
    finishes; None: kept in memory only), and return every job's result by key: an
    interrupted run resumes where it stopped. Jobs with the same key run once.
    ``extract`` (a top-level function, so workers can run it) turns a replication's
    tables into what is stored (JSON-able; always returned as read back from JSON, so
    a resumed run and an uninterrupted one see the same values). ``executor``: run on
    it (a Dask cluster's) instead of a local pool of ``workers``. ``log_shipments``: each
    replication logs its delivered shipments (the ``shipments`` table). Raises
    :class:`~model.experiments.pool.Interrupted` or :class:`~model.experiments.pool.JobsFailed` (the failures'
    tracebacks also go to ``FAILED`` in the store)."""
    folder = Path(store) if store is not None else None
    results: dict[str, object] = {}
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        clean_stale(folder)
        (folder / FAILED).unlink(missing_ok=True)
        results = stored_results(folder, (key for key, _, _ in jobs))
    todo: list[tuple[str, Scenario, int]] = []
    seen = set(results)
    for key, s, k in jobs:
        if key not in seen:
            seen.add(key)
            todo.append((key, s, k))

    def save(i: int, value: object) -> None:
        key, s, k = todo[i]
        value = json.loads(json.dumps(value))
        if folder is not None:
            write_checked_json(folder / f"{key}.json", value)
        results[key] = value
        if on_done:
            on_done(s, k)

    try:
        run_jobs(_stored_job, [(s, k, seed, extract, log_shipments) for _, s, k in todo],
                 [f"{s.name} replication {k + 1}" for _, s, k in todo], save,
                 workers=min(workers or default_workers(), max(len(todo), 1)), executor=executor,
                 store=folder, done_before=len({key for key, _, _ in jobs}) - len(todo))
    except Interrupted as e:
        if folder is None:
            raise
        # counted from the store: Ctrl-C may land between a job's write and its count
        raise Interrupted(len(stored_results(folder, seen, quiet=True)), e.total, folder) from None
    except JobsFailed as e:
        if folder is not None:
            write_file_atomic(folder / FAILED, "\n\n".join(f"{f.job}:\n{f.traceback}" for f in e.failures))
        raise
    return {key: results[key] for key, _, _ in jobs}
