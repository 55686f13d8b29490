"""The library API: load scenarios, run them, sweep and appraise them, read results. The command
line (``model.cli``) is a thin layer on this module and imports nothing else of the package: every
option it has is an argument here.

>>> import model
>>> s = model.load("baseline")                           # doctest: +SKIP
>>> r = model.run(s, replications=2)                       # doctest: +SKIP
>>> r.corridor_summary[["year", "delivered_mt"]]           # doctest: +SKIP
>>> model.read(r.write("results/my-run")) == r             # doctest: +SKIP
True

Every function takes plain values and returns typed objects: a
:class:`~model.scenario.schema.Scenario`, :class:`~model.outputs.results.Results`,
:class:`~model.experiments.sweeps.SweepResults` or :class:`~model.experiments.appraise.Appraisal`.
Bad input raises :class:`~model.scenario.loader.ScenarioError` whose ``problems`` are the same
``FILE:LINE: field.path: ...`` lines the command line prints; an output folder that may not be
used raises :class:`~model.outputs.folders.FolderRefused` before anything is simulated.

Every command writes its folder by one protocol (:class:`~model.outputs.folders.RunFolder`):
``out`` must be new or empty, or, with ``resume=True``, a folder the same command with the same
inputs and the same model code started; finished jobs are kept in ``out/jobs`` as they finish,
so an interrupted call resumes. ``progress``: None (silent), a callback ``(scenario,
replication)`` called as each job finishes, or a :class:`~model.experiments.runner.Progress`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, Union

from model.analysis.precision import FIRST_STAGE as PRECISION_FIRST_STAGE
from model.core.limits import MAX_JOBS, MAX_REPLICATIONS, MAX_VARIANTS
from model.experiments import defaults
from model.experiments.pool import Interrupted, JobsFailed, Terminated
from model.experiments.runner import FAILED, Progress, plan, pool_map, run_tables
from model.outputs.folders import FolderRefused, RunFolder, default_run_dir, folder_name
from model.outputs.results import NotAResultError, Results, RunInfo, read, read_many, run_definition
from model.scenario.checks import after_horizon
from model.scenario.loader import ScenarioError, load_scenario
from model.scenario.schema import Scenario

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from model.analysis.precision import Target
    from model.experiments.appraise import Appraisal
    from model.experiments.sweep_file import Sweep
    from model.experiments.sweeps import SweepResults

ScenarioLike = Union[Scenario, str, Path]


class BadArgument(ValueError):
    """An argument of an API call that cannot be used (the command line prints it, exit 2)."""


ProgressLike = Union[Progress, Callable[[Scenario, int], None], None]
"""None, a :class:`Progress`, or a callback called as each replication finishes: (scenario, replication from 0)."""

__all__ = ["load", "validate", "run", "batch", "sweep", "load_sweep", "appraise", "read", "compare", "scenarios",
           "init", "schema", "bench", "Results", "RunInfo", "Scenario", "ScenarioError", "FolderRefused", "Interrupted", "JobsFailed",
           "NotAResultError", "BadArgument", "Terminated", "FAILED", "default_run_dir", "folder_name"]


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


def load_sweep(path: str | Path, *, allow_outside: bool = False) -> "Sweep":
    """Read and validate a sweep file, its base scenario and every point's scenario."""
    from model.experiments.sweep_file import load_sweep as _load

    return _load(path, allow_outside=allow_outside)


def is_sweep_file(path: str | Path) -> bool:
    """A sweep file names a ``base`` scenario and ``parameters`` (a scenario has neither); a name
    that is no file may be a library sweep's."""
    from model.scenario.loader import named, read_yaml_doc

    try:
        data = read_yaml_doc(named(path, "any"), "scenario", "").data
    except ScenarioError:
        return False  # loading it as a scenario reports the problem properly
    return isinstance(data, dict) and "base" in data and "parameters" in data


def validate(path: str | Path, *, allow_outside: bool = False) -> str:
    """Check a scenario or sweep file as every command would (its uncertain inputs at their joint
    extremes, a sweep's every point); one line describing it, or ScenarioError."""
    if is_sweep_file(path):
        sw = load_sweep(path, allow_outside=allow_outside)
        return (f"{path}: OK: sweep '{sw.spec.name}' on {sw.base_file}, {sw.spec.design.kind} design, "
                f"{len(sw.points)} points x {sw.spec.replications} replications, {len(sw.spec.measures)} measures, "
                f"{len(sw.spec.expectations)} expectations")
    s = load_scenario(path, allow_outside=allow_outside)
    kinds: dict[str, int] = {}
    for spec in s.nodes.values():
        kinds[spec.kind] = kinds.get(spec.kind, 0) + 1
    return (f"{path}: OK: scenario '{s.name}', {s.start_date} to {s.end_date}, "
            f"{len(s.nodes)} nodes ({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}), "
            f"{len(s.streams)} streams, {len(s.investments)} investments, "
            f"{len(s.delays.projects) + len(s.delays.operational)} delays, {len(s.disruptions)} disruptions"
            + (f", {len(s.uncertainty)} uncertain inputs" if s.uncertainty else "")
            + _after_horizon_note(s))


def _after_horizon_note(s: Scenario) -> str:
    later = after_horizon(s)
    if not later:
        return ""
    shown = ", ".join(later[:8]) + (f" and {len(later) - 8} more" if len(later) > 8 else "")
    return (f"; {len(later)} investment(s) dated on or after end_date {s.end_date} take no effect within the "
            f"horizon: {shown}")


def _resolve(s: ScenarioLike, allow_outside: bool = False) -> tuple[Scenario, str]:
    if isinstance(s, Scenario):
        return s, ""
    return load_scenario(s, allow_outside=allow_outside), str(s)


def _check_replications(n: int | None) -> None:
    if n is not None and not 1 <= n <= MAX_REPLICATIONS:
        raise BadArgument(f"replications: expected 1 to {MAX_REPLICATIONS} (the limit), got {n}")


def batch(scenarios: Sequence[ScenarioLike], *, replications: int | None = None, seed: int | None = None,
          workers: int | None = None, scheduler: str | None = None, progress: ProgressLike = None,
          out: str | Path | None = None, resume: bool = False, plots: bool = True, figures: bool = True,
          year: int | None = None, xlsx: bool = False, log_shipments: bool = False,
          allow_outside: bool = False) -> Results:
    """Several scenarios x replications with common random numbers: replication k of every
    scenario uses the same random streams (and the same draws of uncertain inputs), so
    differences are paired. The first scenario is the reference of ``Results.differences``.

    ``replications`` defaults to the largest of the scenarios' own; ``seed`` to the first
    scenario's; ``workers`` to one per core, or one per job for fewer than two jobs per core
    (results do not depend on it); ``scheduler``: a Dask scheduler address instead. ``out``:
    also write the run folder there (tables, plots and report unless ``plots=False``;
    ``figures=False``: the report without PNG figures;
    ``year``: the map's year; ``xlsx``: also ``summary.xlsx``), keeping finished replications in ``out/jobs`` until it is
    complete, so that a call with ``resume=True`` after an interruption continues; the results
    are identical either way. Ctrl-C raises :class:`~model.experiments.pool.Interrupted`; a
    replication that fails, :class:`~model.experiments.pool.JobsFailed` once the others
    finished. ``log_shipments``: also log every delivered shipment (``Results.shipments``,
    written as ``shipments.parquet``)."""
    resolved = [_resolve(s, allow_outside) for s in scenarios]
    if not resolved:
        raise BadArgument("batch: expected at least one scenario")
    names = [s.name for s, _ in resolved]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise BadArgument(f"scenario names must differ within a batch; repeated: {', '.join(dup)}")
    _check_replications(replications)
    plain = [s for s, _ in resolved]
    n = defaults.replications(plain, replications)
    base_seed = defaults.seed(plain[0], seed)
    kind = "run" if len(resolved) == 1 else "batch"
    if n * len(plain) > MAX_JOBS:
        raise BadArgument(f"{len(plain)} scenario(s) x {n} replications is {n * len(plain):,} jobs; expected at most "
                          f"{MAX_JOBS:,} (the limit)")
    jobs = plan(plain, n, base_seed, named=True, log_shipments=log_shipments)
    folder = None
    if out is not None:
        folder = RunFolder.claim(out, kind=kind, name="-vs-".join(names)[:200], resume=resume,
                                 definition=run_definition(kind, plain, base_seed, n, log_shipments))
    t0 = time.perf_counter()
    try:
        per_rep = run_tables(jobs, seed=base_seed, store=folder.jobs if folder else None, workers=workers,
                             scheduler=scheduler, progress=progress, log_shipments=log_shipments)
    except BaseException:
        if folder is not None:
            folder.release()
        raise
    info = RunInfo(kind, base_seed, n, tuple(f for _, f in resolved), round(time.perf_counter() - t0, 3))
    res = Results.build(plain, per_rep, info, pool_map(workers))
    if folder is not None:
        res.write(folder.path, plots=plots, year=year, figures=figures, xlsx=xlsx, pool=pool_map(workers))
    return res


def run(scenario: ScenarioLike, *, replications: int | None = None, seed: int | None = None,
        workers: int | None = None, scheduler: str | None = None, progress: ProgressLike = None,
        out: str | Path | None = None, resume: bool = False, plots: bool = True, figures: bool = True,
        year: int | None = None, xlsx: bool = False, log_shipments: bool = False,
        allow_outside: bool = False) -> Results:
    """All replications of one scenario (a :class:`Scenario` or a file path).
    ``replications`` and ``seed`` default to the scenario's own; the rest: see :func:`batch`."""
    return batch([scenario], replications=replications, seed=seed, workers=workers, scheduler=scheduler,
                 progress=progress, out=out, resume=resume, plots=plots, figures=figures, year=year, xlsx=xlsx,
                 log_shipments=log_shipments, allow_outside=allow_outside)


def sweep(path: "str | Path | Sweep", out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
          shard: tuple[int, int] | None = None, baseline: "str | Path | pd.DataFrame | None" = None,
          tolerance: float = defaults.TOLERANCE, resume: bool = False, progress: ProgressLike = None,
          allow_outside: bool = False, shared_prefixes: bool = True) -> "SweepResults":
    """Run a sweep file's points x replications into the folder ``out`` (new or empty; with
    ``resume``, continuing what ``out/jobs`` holds), judge its expectations, compare with an
    earlier sweep's ``summary.csv`` (``baseline``: a path or its DataFrame; a point's mean may
    move by ``tolerance``, relative), and write the sweep folder. ``SweepResults.failed`` lists
    what failed; the tables are the same whatever the workers, shards or scheduler, and with
    ``shared_prefixes`` (points that differ from the first only from a date on forked from its run
    there) or without."""
    import math

    import pandas as pd

    from model.experiments.sweep_file import Sweep
    from model.experiments.sweeps import run_sweep

    if not (isinstance(tolerance, (int, float)) and math.isfinite(tolerance) and tolerance >= 0):
        raise BadArgument(f"tolerance: expected a finite number >= 0, got {tolerance!r}")
    if shard is not None and not (len(shard) == 2 and 1 <= shard[0] <= shard[1]):
        raise BadArgument(f"shard: expected (I, N) with 1 <= I <= N, got {shard!r}")
    sw = path if isinstance(path, Sweep) else load_sweep(path, allow_outside=allow_outside)
    if shard is not None and shard[0] > len(sw.points):
        raise BadArgument(f"shard: {shard[0]}/{shard[1]} owns no point (the sweep has {len(sw.points)})")
    base = baseline if baseline is None or isinstance(baseline, pd.DataFrame) else _read_baseline(baseline)
    res = run_sweep(sw, out, workers=workers, scheduler=scheduler, shard=shard, baseline=base, tolerance=tolerance,
                    resume=resume, progress=progress, shared_prefixes=shared_prefixes)
    res.write(out)
    return res


def _read_baseline(path: str | Path) -> "pd.DataFrame":
    """An earlier sweep's ``summary.csv`` (ValueError naming what is wrong)."""
    import pandas as pd

    try:
        df = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as e:
        raise BadArgument(f"baseline: cannot read {path}: {e.__class__.__name__}") from None
    if not {"point", "measure", "mean"} <= set(df.columns):
        raise BadArgument(f"baseline: {path} is not a sweep summary.csv (needs point, measure, mean)")
    return df


def compare(folders: Sequence[str | Path], out: str | Path | None = None, *, plots: bool = True,
            figures: bool = True, year: int | None = None, xlsx: bool = False) -> tuple[Results, list[str]]:
    """Finished run or batch folders read as one comparison (nothing is rerun), and notes for the
    user (scenarios renamed because they differ); with ``out``, the comparison folder is written.
    A folder of another kind (a sweep, an appraisal) or not finished raises
    :class:`~model.outputs.results.NotAResultError` with one line saying what it is."""
    res, notes = read_many([Path(f) for f in folders])
    if out is not None:
        res.write(out, plots=plots, year=year, figures=figures, xlsx=xlsx, pool=pool_map())
    return res, notes


def appraise(scenario: ScenarioLike, out: str | Path, *, replications: int | None = None, seed: int | None = None,
             workers: int | None = None, scheduler: str | None = None,
             delay_months: float = defaults.DELAY_MONTHS, by: str = "id", sequence: bool = False,
             budget_musd: float | None = None, marginal: bool = False, resume: bool = False,
             progress: ProgressLike = None, allow_outside: bool = False,
             precision: float | str | None = None, only: Sequence[str] | None = None,
             shared_prefixes: bool = True) -> "Appraisal":
    """Rank a scenario's investments: the scenario as given against it without each
    investment (``by="tag"``: each tag group) and with each delayed ``delay_months``,
    paired by replication; ``sequence`` adds a greedy programme of the costed ones
    (``budget_musd`` caps it); ``marginal`` adds one step more capacity at each node,
    measured against the bound (``Appraisal.marginal``). Jobs are stored in ``out/jobs``
    (``resume=True`` continues an interrupted appraisal); the folder ``out`` is written with
    the tables, charts and report. ``precision``: stop when the answer is sure (``0.05``: each
    item's cargo gained to ±0.05 Mt, ``"20musd"``: its NPV to ±20 M USD, ``"5%"``: to 5% of its
    NPV, or its rank against its neighbours settled); ``replications`` is then the first stage
    and the table's ``replications`` column says how many each item took. ``only``: appraise just
    these items (investment ids, or tags with ``by="tag"``), every other investment staying in every
    variant. ``shared_prefixes`` (where the platform forks, on local workers): each variant is forked
    from the scenario's run at the date it first differs, with the same tables; False runs every
    variant in full. See ``docs/appraisal.md``."""
    from model.analysis.precision import MAX_REPLICATIONS as MAX_ROUNDS_REPLICATIONS
    from model.experiments.appraise import appraise as _appraise

    s, _ = _resolve(scenario, allow_outside)
    if not s.investments:
        raise BadArgument(f"{s.name}: the scenario has no investments to appraise")
    if budget_musd is not None and not sequence:
        raise BadArgument("budget_musd (--budget-musd) caps the programme that sequence (--sequence) builds; "
                          "add it")
    _check_replications(replications)
    target = None
    if precision is not None:
        target = _target(precision)
        if target.unit == "musd" and s.appraisal is None:
            raise BadArgument(f"precision {precision}: a precision in M USD is on NPV, which needs the scenario's "
                              f"appraisal: section; {s.name} has none (give Mt, such as 0.05, or a share, such as 5%)")
        if replications is not None and replications < 2:
            raise BadArgument("replications: with a precision, the first stage needs at least 2 (5 or more advised)")
    items, variants = appraisal_plan(s, by, delay_months, only)
    n = replications or s.replications
    most = max(n, MAX_ROUNDS_REPLICATIONS) if target is not None else n
    extra = items * (items + 1) // 2 + 1 if sequence else 0
    if variants + extra > MAX_VARIANTS or (variants + 1 + extra) * most > MAX_JOBS:
        raise BadArgument(f"{s.name}: appraising {items} item(s) by {by} would run {variants + 1 + extra:,} variants x "
                          f"{most} replication(s); expected at most {MAX_VARIANTS:,} variants and {MAX_JOBS:,} jobs (the "
                          "limits): appraise by tag, or fewer investments")
    res = _appraise(s, out, replications=replications, seed=seed, workers=workers, scheduler=scheduler,
                    delay_months=delay_months, by=by, sequence=sequence, budget_musd=budget_musd, marginal=marginal,
                    resume=resume, progress=progress, precision=target, only=only,
                    shared_prefixes=shared_prefixes)
    res.write(out)
    return res


def _target(text: float | str) -> "Target":
    """An appraisal's precision read; :class:`BadArgument` with what is expected when it is not one."""
    from model.analysis.precision import Target

    try:
        return Target.parse(text)
    except ValueError as e:
        raise BadArgument(f"precision: {e}") from None


def precision_target(text: float | str) -> str:
    """An appraisal's precision (``0.05``, ``"20musd"``, ``"5%"``) in words; :class:`BadArgument`
    with what is expected when it is not one."""
    return str(_target(text))


def appraisal_plan(scenario: Scenario, by: str = "id", delay_months: float = defaults.DELAY_MONTHS,
                   only: Sequence[str] | None = None) -> tuple[int, int]:
    """(items, variants) an appraisal of ``scenario`` would run, without running anything;
    :class:`BadArgument` naming what can be appraised when ``only`` names something else."""
    from model.experiments.appraise import item_groups, items_of

    if only is not None:
        known = item_groups(scenario, by)
        unknown = [k for k in only if k not in known]
        if unknown or not only:
            what = "investment ids" if by == "id" else "tags"
            raise BadArgument(f"only: {', '.join(map(repr, unknown)) or 'nothing'} is not an item of {scenario.name} "
                              f"by {by}; expected {what} that take effect within its horizon: {', '.join(known)}")
    items, variants = items_of(scenario, by, delay_months, only)
    return len(items), len(variants)


def schema(kind: str = "scenario") -> dict:
    """The JSON Schema of complete scenario files (``kind="partial"``: of files that ``extends``
    another; ``"sweep"``: of sweep files), as the library's ``scenarios/schemas/`` holds it."""
    import json

    return dict(json.loads(schema_text(kind)))


def schema_text(kind: str = "scenario") -> str:
    """:func:`schema` as the text of its file."""
    from model.experiments.schemas import schema_text as text

    return text(kind)


def write_schemas(folder: str | Path) -> list[Path]:
    """Write the three JSON Schemas into ``folder``; their paths."""
    from model.experiments.schemas import write_schemas as write

    return write(folder)


def library_dir() -> Path:
    """The folder of the scenario library this package runs with."""
    from model.scenario.library import library_dir as where

    return where()


def resolve_name(text: str | Path, kind: str = "scenario") -> str:
    """The file a command's argument names: the path itself when it exists, else the library's
    scenario (``kind="sweep"``: sweep; ``"any"``: either) of that name; :class:`BadArgument` naming
    the library's names otherwise. A note says when a name runs the library's file although
    ``scenarios/NAME.yaml`` exists here (an edited copy is run by path)."""
    from model.outputs.folders import note
    from model.scenario import library

    try:
        path = library.resolve(text, kind)
    except library.NotInLibrary as e:
        raise BadArgument(str(e)) from None
    if not Path(text).exists() and library.is_library_file(path):
        local = Path("scenarios") / path.resolve().relative_to(library.library_dir())
        if local.is_file() and local.resolve() != path.resolve():  # (in a checkout the library is scenarios/)
            note(f"'{text}' is the library's {path.name} ({path}); to run your copy, name it: {local}")
    return str(path)


def bench(scenario: str | Path, *, memory: bool = True, sweep: bool = True, appraisal_years: int | None = None) -> dict:
    """What the model costs against bare simpy, and the speed goals it meets (``bench``); ``appraisal_years``:
    the horizon of its appraisal (default 7, or 4 without ``memory`` and ``sweep``)."""
    from model.experiments.bench import run_bench

    load_scenario(scenario)  # bad input -> ScenarioError before timing anything
    return run_bench(Path(scenario), memory=memory, sweep=sweep, appraisal_years=appraisal_years)


def progress_bar(desc: str = "replications", header: str = "") -> Progress:
    """The command line's progress: ``header`` once the jobs start, then a bar on a terminal, a line
    per job otherwise (``logging``)."""
    from model.experiments.progress import Bar

    return Bar(desc, header)


# ---------------------------------------------------------------- text a person reads


def results_text(res: Results, *, checks: bool = True) -> str:
    """The printed summary of a run or batch (the yearly table, the short answer, flows), then per
    scenario the capacity bound and the sanity check."""
    from model.analysis.sanity import checks_summary
    from model.outputs.report import format_results

    text = format_results(res)
    if checks:
        for s in res.scenarios:
            text += "\n\n" + (f"{s.name}: " if len(res.scenarios) > 1 else "") + \
                checks_summary(s, res.annual_nodes, res.corridor, res.bound)
    return text


def appraisal_text(a: "Appraisal") -> str:
    """The printed appraisal: the ranked table with intervals, the answer, the marginal values."""
    from model.outputs.report import format_appraisal, format_marginal

    over = (f"{a.replications} replication(s)" if a.precision is None else
            f"{int(a.table['replications'].min())}-{int(a.table['replications'].max())} replications per item, "
            f"until {a.precision_measure.replace('_mt', ' Mt').replace('_musd', ' M USD').replace('_', ' ')} is "
            f"within {a.precision}")
    text = (f"Investments of {a.scenario.name}, {a.span}, ranked (mean [95% paired interval] over {over}; a delay of "
            f"{a.delay_months:g} months):\n"
            + format_appraisal(a.table, a.sequence, a.headline, a.rates))
    if a.marginal is not None:
        text += "\n\n" + format_marginal(a.marginal)
    return text


def sweep_text(res: "SweepResults") -> str:
    """The printed sweep: jobs run and reused, failed expectations and changed points, the
    sensitivity indices of a sensitivity design, and the count of verdicts."""
    verdicts, base_cmp = res.expectations.to_dict("records"), res.baseline_comparison.to_dict("records")
    lines = [f"{res.jobs_run_now} replication(s) run now, {res.jobs - res.jobs_run_now} reused"]
    lines += [f"FAILED  {v['expectation']} at point {v['point']} {v['params']}: {v['detail']}"
              for v in verdicts if not v["passed"]]
    lines += [f"CHANGED point {b['point']} {b['measure']}: {b['detail']}" for b in base_cmp if not b["passed"]]
    if res.sensitivity is not None:
        cols = [c for c in res.sensitivity.columns if c not in ("measure", "parameter")]
        lines.append(f"Which input drives each measure ({res.sweep.spec.design.kind} design; "
                     + ", ".join(cols) + "; *_conf: 95% interval half-width):")
        for m, g in res.sensitivity.groupby("measure", sort=False):
            lines.append(f"  {m}:")
            lines += [f"    {r['parameter']:<48} " + "  ".join(f"{c} {r[c]:.4g}" for c in cols)
                      for _, r in g.iterrows()]
    n_ok = sum(v["passed"] for v in verdicts)
    lines.append(f"expectations: {n_ok} passed, {len(verdicts) - n_ok} failed"
                 + (f"; baseline: {sum(b['passed'] for b in base_cmp)} within tolerance, "
                    f"{sum(not b['passed'] for b in base_cmp)} changed" if base_cmp else ""))
    return "\n".join(lines)


def bench_text(res: dict) -> str:
    """The bench as lines a person reads, the goals last."""
    from model.experiments.bench import format_bench

    return format_bench(res)
