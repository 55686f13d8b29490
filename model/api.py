"""The library API: load scenarios, run them, read results. The command line is a thin layer on this.

>>> import model
>>> s = model.load("baseline")                           # doctest: +SKIP
>>> r = model.run(s, replications=2)                       # doctest: +SKIP
>>> r.corridor_summary[["year", "delivered_mt"]]           # doctest: +SKIP
>>> model.read(r.write("results/my-run")) == r             # doctest: +SKIP
True

Every function takes plain values and returns typed objects: a
:class:`~model.scenario.schema.Scenario`, :class:`~model.outputs.results.Results` or
:class:`~model.experiments.sweeps.SweepResults`. Bad input raises
:class:`~model.scenario.loader.ScenarioError` whose ``problems`` are the same
``FILE:LINE: field.path: ...`` lines the command line prints.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, Union

from model.core.limits import MAX_REPLICATIONS
from model.experiments.runner import run_many
from model.outputs.results import Results, RunInfo, read, read_many
from model.scenario.loader import load_scenario
from model.scenario.schema import Scenario
from model.scenario.uncertainty import sample_scenarios

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from model.experiments.appraise import Appraisal
    from model.experiments.sweeps import SweepResults

ScenarioLike = Union[Scenario, str, Path]
Progress = Callable[[Scenario, int], None]
"""Called as each replication finishes: (scenario, replication number from 0)."""

__all__ = ["load", "run", "batch", "sweep", "appraise", "read", "compare", "scenarios", "init", "Results", "RunInfo",
           "Scenario"]


def load(path: str | Path, *, allow_outside: bool = False) -> Scenario:
    """Read and validate a scenario file (``extends`` resolved), or the library scenario of
    that name when no such file exists (``load("baseline")``: :func:`scenarios` lists them);
    raises :class:`~model.scenario.loader.ScenarioError` listing every problem. Parents must
    lie in the file's project tree (:func:`~model.scenario.loader.project_root`) unless
    ``allow_outside``; a :class:`Scenario` so loaded can then be run."""
    return load_scenario(path, allow_outside=allow_outside)


def scenarios() -> "pd.DataFrame":
    """The scenario library that ships with the package: one row per scenario and sweep, with
    ``name``, ``kind`` (scenario or sweep), the ``question`` it answers and its ``path``. Any
    function that takes a scenario or sweep file also takes its name (``run("baseline")``,
    ``sweep("tripp_delay", out)``); :func:`init` copies the library for editing."""
    import pandas as pd

    from model.scenario.library import entries

    rows = [(e.name, kind, e.question, e.path) for kind in ("scenario", "sweep") for e in entries(kind)]
    return pd.DataFrame(rows, columns=["name", "kind", "question", "path"])


def init(folder: str | Path) -> Path:
    """Copy the scenario library into ``folder/scenarios/`` (created; it must not exist yet) for
    editing, with ``sweeps/`` and the JSON Schemas the files name, and return that folder
    (``corridor init DIR``). ``folder`` is then a project: ``extends`` and a sweep's ``base``
    resolve inside it."""
    from model.scenario.library import copy_library

    return copy_library(Path(folder))


def _resolve(s: ScenarioLike) -> tuple[Scenario, str]:
    if isinstance(s, Scenario):
        return s, ""
    return load_scenario(s), str(s)


def batch(scenarios: Sequence[ScenarioLike], *, replications: int | None = None, seed: int | None = None,
          workers: int | None = None, progress: Progress | None = None,
          store: str | Path | None = None, log_shipments: bool = False) -> Results:
    """Several scenarios x replications with common random numbers: replication k
    of every scenario uses the same random streams, so differences are paired.
    The first scenario is the reference of ``Results.differences``.

    ``replications`` defaults to the largest of the scenarios' own; ``seed`` to
    the first scenario's; ``workers`` to all cores (results do not depend on it).
    ``store``: a folder where each finished replication is kept (the command line
    uses ``OUT/jobs``), so that a call after an interruption resumes; the results
    are identical either way. Ctrl-C raises :class:`model.experiments.pool.Interrupted`; a
    replication that fails, :class:`model.experiments.pool.JobsFailed` once the others finished.
    ``log_shipments``: also log every delivered shipment (``Results.shipments``, written
    as ``shipments.parquet``); it costs memory in proportion to the shipments, the other
    tables are the same."""
    resolved = [_resolve(s) for s in scenarios]
    if not resolved:
        raise ValueError("batch: expected at least one scenario")
    names = [s.name for s, _ in resolved]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"scenario names must differ within a batch; repeated: {', '.join(dup)}")
    if replications is not None and not 1 <= replications <= MAX_REPLICATIONS:
        raise ValueError(f"replications: expected 1 to {MAX_REPLICATIONS} (the limit), got {replications}")
    n = replications or max(s.replications for s, _ in resolved)
    base_seed = resolved[0][0].seed if seed is None else seed
    # uncertain inputs: replication k of every scenario gets row k of the same Latin hypercube
    jobs = [(v, k) for s, _ in resolved for k, v in enumerate(sample_scenarios(s, n, base_seed))]
    t0 = time.perf_counter()
    per_rep = run_many(jobs, seed=base_seed, workers=workers, on_done=progress, store=store,
                       log_shipments=log_shipments)
    info = RunInfo("run" if len(resolved) == 1 else "batch", base_seed, n, tuple(f for _, f in resolved),
                   round(time.perf_counter() - t0, 3))
    return Results.build([s for s, _ in resolved], per_rep, info)


def run(scenario: ScenarioLike, *, replications: int | None = None, seed: int | None = None,
        workers: int | None = None, progress: Progress | None = None, log_shipments: bool = False) -> Results:
    """All replications of one scenario (a :class:`Scenario` or a file path).
    ``replications`` and ``seed`` default to the scenario's own; ``log_shipments``: see :func:`batch`."""
    return batch([scenario], replications=replications, seed=seed, workers=workers, progress=progress,
                 log_shipments=log_shipments)


def sweep(path: str | Path, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
          shard: tuple[int, int] | None = None) -> "SweepResults":
    """Run a sweep file's points x replications (resuming what ``out/jobs`` already
    holds), judge its expectations, and write the sweep folder ``out``.
    ``SweepResults.failed`` lists what failed; the tables are the same whatever
    the workers, shards or scheduler."""
    from model.experiments.runner import default_workers
    from model.experiments.sweeps import run_sweep

    res = run_sweep(path, out, workers=workers or default_workers(), scheduler=scheduler, shard=shard)
    res.write(out)
    return res


def compare(folders: Sequence[str | Path]) -> tuple[Results, list[str]]:
    """Finished run or batch folders read as one comparison (nothing is rerun),
    and notes for the user (scenarios renamed because they differ)."""
    return read_many([Path(f) for f in folders])


def appraise(scenario: ScenarioLike, out: str | Path, *, replications: int | None = None, seed: int | None = None,
             workers: int | None = None, delay_months: float = 12.0, by: str = "id", sequence: bool = False,
             budget_musd: float | None = None, marginal: bool = False,
             progress: Progress | None = None) -> "Appraisal":
    """Rank a scenario's investments: the scenario as given against it without each
    investment (``by="tag"``: each tag group) and with each delayed ``delay_months``,
    paired by replication; ``sequence`` adds a greedy programme of the costed ones
    (``budget_musd`` caps it); ``marginal`` adds one step more capacity at each node,
    measured against the bound (``Appraisal.marginal``). Jobs are stored in ``out/jobs`` (a second call
    resumes); ``Appraisal.write(out)`` writes the tables, charts and report. See
    ``docs/appraisal.md``."""
    from model.experiments.appraise import appraise as _appraise

    s, _ = _resolve(scenario)
    return _appraise(s, out, replications=replications, seed=seed, workers=workers, delay_months=delay_months,
                     by=by, sequence=sequence, budget_musd=budget_musd, marginal=marginal, progress=progress)
