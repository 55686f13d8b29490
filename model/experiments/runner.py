"""The one runner: variants x replications become jobs, run on a local pool or a Dask cluster,
each stored as it finishes, so an interrupted run, batch, sweep or appraisal resumes.

An experiment of any kind (a run, a batch, a sweep's points, an appraisal's variants) is a
list of scenarios (its *variants*) and a number of replications. :func:`plan` makes its
jobs: replication k of every variant gets row k of the same Latin hypercube of uncertain
inputs (:func:`~model.scenario.uncertainty.sample_scenarios`) and the same random streams, so
differences between variants are paired; each drawn scenario is checked before anything is
simulated. :func:`execute` runs the jobs not yet in the store and returns what each job keeps
(an :class:`Extract` of its tables).

A job's key is a hash of what makes its numbers: the resolved (drawn) scenario, the seed, the
replication, what it keeps, and the model's own code (:func:`~model.outputs.folders.code_sha256`).
What does not change a replication's numbers is left out (description, the number of
replications, the appraisal's money values; the name too unless ``named``: stored tables carry
it), so changing it reuses the stored runs. Replication k uses seed streams keyed by (seed, k)
only, so results are the same whatever the workers or scheduler; every job's result goes
through the same JSON form whether just computed or read back, so a resumed run gives
byte-identical tables. (Pools and Ctrl-C: :mod:`model.experiments.pool`.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, cast

import numpy as np
import pandas as pd

from model.analysis.tables import tables
from model.engine.simulate import run_replication
from model.experiments import prefixes
from model.experiments.pool import Failure, Interrupted, JobsFailed, run_jobs
from model.outputs.folders import (DamagedFile, clean_stale, code_sha256, note, read_checked_json, write_checked_json,
                                   write_file_atomic)
from model.scenario.loader import ScenarioError
from model.scenario.schema import Scenario
from model.scenario.uncertainty import DrawError, hypercube, sample_scenarios

log = logging.getLogger("model")


def replicate(scenario: Scenario, k: int, seed: int | None = None,
              only: frozenset[str] | None = None, log_shipments: bool = False) -> dict[str, pd.DataFrame]:
    """One replication -> its tidy tables (``only``: just these; ``log_shipments``: and the
    ``shipments`` log), in a worker process."""
    return tables(run_replication(scenario, k, seed, log_shipments), only)


def default_workers() -> int:
    """Worker processes when none are asked for: one per core."""
    return max(1, os.cpu_count() or 1)


def workers_for(asked: int | None, jobs: int) -> int:
    """Local worker processes for ``jobs`` jobs: as asked (default one per core), but never more
    than the jobs or the cores (a simulation is CPU-bound: more processes than cores only cost
    memory), with a note when the request is cut. By default, between one and two jobs per core
    get a process each: the cores then share the last jobs instead of one core running the last
    alone while the others idle (3 replications on 2 cores take 1.5 replication times, not 2)."""
    cores = default_workers()
    n = asked or cores
    if n > cores:
        note(f"--workers {n}: using {cores}, one per core of this machine (more processes only cost memory)")
        n = cores
    if asked is None and cores < jobs < 2 * cores:
        n = jobs
    return max(1, min(n, jobs))


@dataclass(frozen=True)
class Extract:
    """What a job keeps of a replication's tables (``fn``, a top-level function so workers can
    run it), the tables it reads, so a worker builds only those (a sweep's measures read one or
    two tables; the rest cost most of a replication's post-processing), and its ``name``, part
    of the job key."""

    fn: Callable[[dict[str, pd.DataFrame]], object]
    tables: frozenset[str] | None
    name: str

    def __call__(self, t: dict[str, pd.DataFrame]) -> object:
        return self.fn(t)


def table_records(t: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """A replication's tables as JSON-able records (floats exact: JSON keeps their repr), with
    each column's dtype (an empty table would otherwise come back untyped)."""
    return {name: {**df.to_dict("split", index=False), "dtypes": df.dtypes.astype(str).to_dict()}
            for name, df in t.items()}


def frames(records: dict[str, dict]) -> dict[str, pd.DataFrame]:
    """The tables :func:`table_records` made, with their dtypes."""
    return {name: pd.DataFrame(r["data"], columns=r["columns"]).astype(r["dtypes"]) for name, r in records.items()}


ALL_TABLES = Extract(table_records, None, "tables")
"""A run's or batch's jobs keep every table."""


@dataclass(frozen=True)
class Variant:
    """A variant of a scenario made by a change applied to each replication's draw of ``base``:
    replication k of every variant of one base sees the same drawn inputs, and the change (an
    investment removed or delayed) comes on top, so it cannot be undone by a draw."""

    name: str
    base: Scenario
    change: Callable[[Scenario], Scenario]

    def draws(self, replications: int, seed: int, block: int | None = None) -> list[Scenario]:
        return [self.change(d).model_copy(update={"name": self.name})
                for d in drawn(self.base, replications, seed, block)]


def block_seed(seed: int, b: int) -> int:
    """The seed of the ``b``-th block of replications (:func:`drawn`): the run's own for the first,
    so a first block is what a run of that many replications draws."""
    if b == 0:
        return seed
    return int(np.random.SeedSequence([seed, 0xB10C, b]).generate_state(1, np.uint64)[0]) >> 1  # (numpy 1 cannot shift a uint64 by a Python int)


def drawn(scenario: Scenario, replications: int, seed: int, block: int | None = None) -> list[Scenario]:
    """Each replication's scenario, its uncertain inputs drawn: rows of one Latin hypercube of
    ``replications`` rows, or with ``block``, of a hypercube per ``block`` replications (the
    first with the run's seed), so that replication k's draw depends on k and the block only,
    not on how many replications there are: an experiment can add replications in rounds
    (``appraise --precision``) and keep the ones it has."""
    if block is None or not scenario.uncertainty:
        return sample_scenarios(scenario, replications, seed)
    out: list[Scenario] = []
    for b in range(math.ceil(replications / block)):
        out += sample_scenarios(scenario, block, block_seed(seed, b))[:replications - b * block]
    return out


def drawn_inputs(scenario: Scenario, replications: int, seed: int, block: int | None = None) -> np.ndarray:
    """The values :func:`drawn` gives each uncertain input (replication x input, in the order of
    ``scenario.uncertainty``): the same hypercube rows through each input's quantile function."""
    inputs = list(scenario.uncertainty)
    if not inputs:
        return np.zeros((replications, 0))
    blocks = [(replications, seed)] if block is None else \
        [(block, block_seed(seed, b)) for b in range(math.ceil(replications / block))]
    u = np.vstack([hypercube(n, len(inputs), s) for n, s in blocks])[:replications]
    return np.array([[inp.quantile(float(u[k, j])) for j, inp in enumerate(inputs)] for k in range(replications)])


@dataclass(frozen=True)
class Job:
    """Replication ``replication`` of the variant ``variant`` (its name): ``scenario`` with its
    uncertain inputs drawn, and the ``key`` its result is stored under."""

    key: str
    variant: str
    replication: int
    scenario: Scenario

    @property
    def label(self) -> str:
        return f"{self.variant} replication {self.replication + 1}"


def job_key(s: Scenario, seed: int, replication: int, *, keeps: str = "tables", named: bool = False,
            log_shipments: bool = False) -> str:
    """Identity of one replication of one scenario: resolved scenario, seed, replication, what is
    kept (``keeps``), the model's code. See the module's docstring for what is left out."""
    body = s.model_dump(mode="json")
    for field in ("description", "replications", "appraisal") + (() if named else ("name",)):
        body.pop(field, None)
    ident = {"scenario": body, "seed": seed, "replication": replication, "keeps": keeps, "model": code_sha256()}
    if log_shipments:
        ident["log_shipments"] = True
    blob = json.dumps(ident, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def plan(variants: Sequence[Scenario | Variant], replications: int | Sequence[int], seed: int, *,
         keeps: str = "tables", named: bool = False, log_shipments: bool = False, block: int | None = None
         ) -> list[Job]:
    """The jobs of ``variants`` x ``replications`` (one number for all, or one per variant),
    variant by variant; uncertain inputs drawn per replication, the same draws for every variant
    (they share the hypercube, or with ``block`` the hypercubes: :func:`drawn`), so differences
    stay paired (a :class:`Variant` applies its change to each draw). Every drawn scenario is
    checked first: :class:`~model.scenario.loader.ScenarioError` names a draw that breaks a rule,
    before anything is simulated."""
    jobs: list[Job] = []
    problems: list[str] = []
    counts = [replications] * len(variants) if isinstance(replications, int) else list(replications)
    for v, n in zip(variants, counts, strict=True):
        try:
            draws = v.draws(n, seed, block) if isinstance(v, Variant) else drawn(v, n, seed, block)
        except DrawError as e:
            problems += [f"{v.name}: {p}" for p in e.problems]
            continue
        jobs += [Job(job_key(d, seed, k, keeps=keeps, named=named, log_shipments=log_shipments), v.name, k, d)
                 for k, d in enumerate(draws)]
    if problems:
        raise ScenarioError(problems)
    return jobs


FAILED = "failed.txt"
"""In a job store: the tracebacks of the jobs that failed in the last run."""


def stored_results(folder: Path, keys: Sequence[str], *, quiet: bool = False) -> dict[str, object]:
    """The results a job store holds for ``keys``; a damaged file (truncated, altered, another
    job's, not a regular file) is left out, to be recomputed, with a note unless ``quiet``."""
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
            if not path.is_file() and not path.is_dir():
                path.unlink(missing_ok=True)  # a FIFO or the like: out of the way of the new result
    return found


def pending(store: Path | None, jobs: Sequence[Job]) -> int:
    """How many distinct jobs have no (whole) stored result yet."""
    keys = [j.key for j in jobs]
    if store is None:
        return len(set(keys))
    return len(set(keys) - set(stored_results(store, keys, quiet=True)))


class Progress:
    """What a runner tells as it goes: :meth:`start` (jobs in all, how many were already stored),
    then :meth:`advance` as each finishes, :meth:`close` at the end. This base is silent; the
    command line's shows a bar (``model.experiments.progress``)."""

    def start(self, total: int, done: int) -> None:
        pass

    def advance(self, label: str) -> None:
        pass

    def close(self) -> None:
        pass


class _Callback(Progress):
    """The library's simple form: ``on_done(scenario, replication)`` as each job finishes."""

    def __init__(self, on_done: Callable[[Scenario, int], None]) -> None:
        self.on_done = on_done
        self.jobs: dict[str, Job] = {}

    def advance(self, label: str) -> None:
        job = self.jobs.get(label)
        if job is not None:
            self.on_done(job.scenario, job.replication)


ProgressLike = "Progress | Callable[[Scenario, int], None] | None"


def as_progress(p: object, jobs: Sequence[Job] = ()) -> Progress:
    """A :class:`Progress` from what a caller gave: one, a callback ``(scenario, replication)``, or None."""
    if isinstance(p, Progress):
        return p
    if p is None:
        return Progress()
    cb = _Callback(cast(Callable[[Scenario, int], None], p))
    cb.jobs = {j.label: j for j in jobs}
    return cb


def _stored_job(scenario: Scenario, k: int, seed: int | None, extract: Extract, log_shipments: bool = False) -> object:
    """One replication -> what ``extract`` keeps of its tables (runs in a worker)."""
    return extract(replicate(scenario, k, seed, extract.tables, log_shipments))


def _run_task(task: "prefixes.Chain", seed: int | None, extract: Extract, log_shipments: bool = False
              ) -> list["prefixes.Outcome"]:
    """A chain of jobs sharing a prefix (:func:`~model.experiments.prefixes.run_chain`), or a job alone
    (runs in a worker)."""
    if task.forks:
        return prefixes.run_chain(task, seed, extract, extract.tables, log_shipments)
    assert task.root_index is not None
    return [(task.root_index, True, _stored_job(task.root, task.replication, seed, extract, log_shipments), "full")]


def execute(jobs: Sequence[Job], extract: Extract, *, seed: int | None, store: Path | None = None,
            workers: int | None = None, scheduler: str | None = None, progress: object = None,
            log_shipments: bool = False, shared_prefixes: bool = False) -> dict[str, object]:
    """Run the jobs whose result is not yet in ``store`` (a folder of ``KEY.json`` files, each
    written atomically with a checksum as its job finishes; None: kept in memory only) and
    return every job's result by key: an interrupted run resumes where it stopped. Jobs with
    the same key run once. Results are always returned as read back from JSON, so a resumed
    run and an uninterrupted one see the same values. ``scheduler``: a Dask scheduler address
    to run on instead of a local pool of ``workers``. Raises
    :class:`~model.experiments.pool.Interrupted` or :class:`~model.experiments.pool.JobsFailed`
    (the failures' tracebacks also go to ``FAILED`` in the store). ``shared_prefixes``: on a local
    pool, jobs that differ from their replication's first job only from a date on are forked from
    its run at that date (:mod:`model.experiments.prefixes`; the same results)."""
    folder = Path(store) if store is not None else None
    results: dict[str, object] = {}
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        clean_stale(folder)
        (folder / FAILED).unlink(missing_ok=True)
        results = stored_results(folder, [j.key for j in jobs])
    todo: list[Job] = []
    seen = set(results)
    for j in jobs:
        if j.key not in seen:
            seen.add(j.key)
            todo.append(j)
    total = len({j.key for j in jobs})
    tell = as_progress(progress, jobs)
    tell.start(total, total - len(todo))

    def save(i: int, value: object) -> None:
        job = todo[i]
        value = json.loads(json.dumps(value))
        if folder is not None:
            write_checked_json(folder / f"{job.key}.json", value)
        results[job.key] = value
        tell.advance(job.label)

    calls: list[tuple] = [(j.scenario, j.replication, seed, extract, log_shipments) for j in todo]
    labels = [j.label for j in todo]
    forked_failures: list[Failure] = []
    tasks: list[prefixes.Chain] = []
    if shared_prefixes and not scheduler and len(todo) > 1 and prefixes.available():
        firsts: dict[int, Job] = {}
        for j in jobs:
            firsts.setdefault(j.replication, j)
        tasks = prefixes.chains({k: j.scenario for k, j in firsts.items()}, [(j.scenario, j.replication) for j in todo],
                                [j.key for j in todo], {k: j.key for k, j in firsts.items()})
    share = any(t.forks for t in tasks)  # else every job runs alone, as without
    if share:
        log.debug("shared prefixes: %d of %d job(s) forked from their replication's run at the date they differ",
                 sum(len(t.forks) for t in tasks), len(todo))
        calls = [(t, seed, extract, log_shipments) for t in tasks]
        labels = [todo[t.indices[0]].label + (f" and {len(t.forks)} forked from it" if t.forks else "") for t in tasks]

        def save_chain(i: int, outcomes: list[prefixes.Outcome]) -> None:
            for idx, ok, value, _ in outcomes:
                if ok:
                    save(idx, value)
                else:
                    tb = str(value)
                    forked_failures.append(Failure(todo[idx].label, tb.strip().splitlines()[-1], tb))
    try:
        if share:
            run_jobs(_run_task, calls, labels, save_chain, workers=workers_for(workers, len(calls)),
                     store=folder, done_before=total - len(todo), isolate=True)
            if forked_failures:
                raise JobsFailed(forked_failures, len(results), total, folder)
        elif scheduler and todo:
            from dask.distributed import Client

            with Client(scheduler) as client:
                run_jobs(_stored_job, calls, labels, save, executor=client.get_executor(pure=False), store=folder,
                         done_before=total - len(todo))
        else:
            run_jobs(_stored_job, calls, labels, save, workers=workers_for(workers, len(todo)) if todo else 1,
                     store=folder, done_before=total - len(todo))
    except Interrupted as e:
        if folder is None:
            if share:  # run_jobs counted chains, not jobs
                raise Interrupted(len(results), total, None, e.terminated) from None
            raise
        # counted from the store: Ctrl-C may land between a job's write and its count
        raise Interrupted(len(stored_results(folder, list(seen), quiet=True)), e.total, folder, e.terminated) from None
    except JobsFailed as e:
        failed = e
        if share and forked_failures and e.failures is not forked_failures:  # a chain failed, and forked jobs too
            failed = JobsFailed(e.failures + forked_failures, len(results), total, folder)
        if folder is not None:
            write_file_atomic(folder / FAILED, "\n\n".join(f"{f.job}:\n{f.traceback}" for f in failed.failures))
        if failed is e:
            raise
        raise failed from None
    finally:
        tell.close()
    return {j.key: results[j.key] for j in jobs}


def run_tables(jobs: Sequence[Job], *, seed: int | None, store: Path | None = None, workers: int | None = None,
               scheduler: str | None = None, progress: object = None,
               log_shipments: bool = False) -> dict[str, pd.DataFrame]:
    """Every table of every job (a run's or batch's), concatenated in job order, so the output
    never depends on timing."""
    stored = execute(jobs, ALL_TABLES, seed=seed, store=store, workers=workers, scheduler=scheduler,
                     progress=progress, log_shipments=log_shipments)
    results = [frames(cast(dict[str, dict], stored[j.key])) for j in jobs]
    names = list(dict.fromkeys(n for r in results for n in r))
    return {n: pd.concat([r[n] for r in results if n in r], ignore_index=True) for n in names}


def pool_map(workers: int | None = None) -> Callable[[Callable[..., Any], list[tuple]], list[Any]]:
    """``pool(fn, calls)``: ``[fn(*call) for call in calls]`` computed on worker processes (as many as
    :func:`workers_for` gives; in this process for one), in the calls' order: what a run folder's
    figures are drawn on (:data:`model.analysis.bound.Pool`). Ctrl-C stops them as it stops
    replications; a call that raises is a bug, raised here with the worker's traceback."""
    def pool(fn: Callable[..., Any], calls: list[tuple]) -> list[Any]:
        out: list[Any] = [None] * len(calls)

        def keep(i: int, value: Any) -> None:
            out[i] = value

        try:
            run_jobs(fn, calls, [f"{getattr(fn, '__name__', 'call')} {i + 1}" for i in range(len(calls))], keep,
                     workers=workers_for(workers, len(calls)) if calls else 1)
        except JobsFailed as e:
            raise RuntimeError("\n".join(f.traceback for f in e.failures)) from None
        return out

    return pool


def run_scenario(scenario: Scenario, replications: int | None = None, seed: int | None = None,
                 workers: int | None = None) -> dict[str, pd.DataFrame]:
    """All replications of one scenario, as per-replication tables (``model.run`` gives the
    full :class:`~model.outputs.results.Results`)."""
    s = seed if seed is not None else scenario.seed
    return run_tables(plan([scenario], replications or scenario.replications, s, named=True), seed=s,
                      workers=workers)


def run_many(pairs: Sequence[tuple[Scenario, int]], seed: int | None = None,
             workers: int | None = None) -> dict[str, pd.DataFrame]:
    """(scenario, replication) pairs as given (no uncertain input drawn), concatenated in order:
    for tests and scripts that build their own replications."""
    jobs = [Job(job_key(s, s.seed if seed is None else seed, k, named=True), s.name, k, s) for s, k in pairs]
    return run_tables(jobs, seed=seed, workers=workers)
