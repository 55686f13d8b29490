"""Parameter sweeps: a design (``model.experiments.designs``) over scenario fields, replications
per point, measures, and expectations judged with confidence intervals, so that a pull request
that changes a scenario or the model can be gated in CI.

A sweep is an experiment like any other: its points are the variants, each replicated; the one
runner (``model.experiments.runner``) stores every (point, replication) as it finishes in the
sweep folder's ``jobs/`` (the one folder protocol: ``model.outputs.folders.RunFolder``), so a
killed sweep resumes where it stopped, nothing is counted twice, and the final table is rebuilt
in plan order: identical whatever the workers, shards, scheduler or interruptions.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import cast

import pandas as pd

from model.analysis.stats import t_interval
from model.experiments.expectations import compare_baseline, judge
from model.experiments.runner import Extract, Job, execute, plan
from model.experiments.sweep_file import Sweep, load_sweep, measure_values
from model.outputs.folders import RunFolder, definition_sha256

SWEEP_TABLE_COLUMNS = ["expectation", "point", "params", "passed", "detail"]


def sweep_definition(sweep: Sweep, shard: tuple[int, int] | None = None) -> dict:
    """What a sweep is, resolved: the file as read, its seed, every point's scenario and the shard
    (an edit to the sweep file or its base scenario changes it): its claim on a folder."""
    return {"spec": sweep.spec.model_dump(mode="json"), "seed": sweep.seed,
            "scenarios": [s.model_dump(mode="json") for s in sweep.scenarios],
            "shard": list(shard) if shard else None}


def _extract(sweep: Sweep) -> Extract:
    measures = sweep.spec.measures
    name = "measures:" + hashlib.sha256(json.dumps([m.model_dump(mode="json") for m in measures],
                                                   sort_keys=True).encode()).hexdigest()[:16]
    return Extract(partial(measure_values, measures=measures), frozenset(m.table for m in measures), name)


def sweep_jobs(sweep: Sweep, shard: tuple[int, int] | None = None) -> list[tuple[int, Job]]:
    """(point index, job) of the jobs this run owns. A shard I/N owns the points whose index is
    I-1 modulo N."""
    owned = [(i, s) for i, s in enumerate(sweep.scenarios) if not shard or i % shard[1] == shard[0] - 1]
    jobs = plan([s for _, s in owned], sweep.spec.replications, sweep.seed, keeps=_extract(sweep).name)
    point_of = {s.name: i for i, s in owned}
    return [(point_of[j.variant], j) for j in jobs]


def collect(sweep: Sweep, stored: dict[str, object], jobs: list[tuple[int, Job]]) -> pd.DataFrame:
    """The tidy table (point x replication x measure) in plan order."""
    rows = []
    for i, j in jobs:
        values = cast(dict[str, float], stored[j.key])
        for m in sweep.spec.measures:
            rows.append({"point": i, **{f"param:{kk}": v for kk, v in sweep.points[i].items()},
                         "replication": j.replication, "measure": m.name, "value": values[m.name]})
    return pd.DataFrame(rows)


def summarise_points(table: pd.DataFrame) -> pd.DataFrame:
    params = [c for c in table.columns if c.startswith("param:")]
    rows = []
    for (point, measure), g in table.groupby(["point", "measure"], sort=True):
        mean, sd, lo, hi = t_interval(g["value"].to_numpy())
        rows.append({"point": point, **g.iloc[0][params].to_dict(), "measure": measure, "n": len(g),
                     "mean": mean, "sd": sd, "ci95_lo": lo, "ci95_hi": hi})
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False)
class SweepResults:
    """A finished (or resumed) sweep: the tidy table (point x replication x
    measure), the per-point summary with 95% intervals, every expectation's
    verdict and, against an earlier sweep, each point's change."""

    sweep: Sweep
    table: pd.DataFrame
    summary: pd.DataFrame
    expectations: pd.DataFrame
    baseline_comparison: pd.DataFrame
    jobs: int
    jobs_run_now: int
    wall_s: float
    shard: tuple[int, int] | None = None
    sensitivity: pd.DataFrame | None = None  # indices per measure and parameter (a sensitivity design)

    @property
    def failed(self) -> list[dict]:
        """Failed expectations and baseline points that moved beyond the tolerance."""
        rows = [r for r in self.expectations.to_dict("records") if not r["passed"]]
        return rows + [r for r in self.baseline_comparison.to_dict("records") if not r["passed"]]

    def write(self, out: str | Path) -> Path:
        """Tables, plots, the sweep file and its resolved base scenario into the sweep folder
        (claimed by :func:`run_sweep`, or new), and the manifest last."""
        from model.outputs.folders import package_versions, scenario_yaml, write_file_atomic
        from model.outputs.plots import sweep_plots

        sw = self.sweep
        folder = RunFolder.claim(out, kind="sweep", name=sw.spec.name, definition=sweep_definition(sw, self.shard),
                                 describe=str(sw.file))
        out = folder.path

        def put(name: str, text: str | None) -> None:  # None: this run has no such table (remove an old one)
            if text is None:
                (out / name).unlink(missing_ok=True)
                return
            write_file_atomic(out / name, text)

        put("sweep.csv", self.table.to_csv(index=False))  # full precision: a baseline later
        put("summary.csv", self.summary.to_csv(index=False))
        put("expectations.csv", self.expectations.to_csv(index=False))
        put("baseline_comparison.csv",
            None if self.baseline_comparison.empty else self.baseline_comparison.to_csv(index=False))
        put("sensitivity.csv", None if self.sensitivity is None else self.sensitivity.to_csv(index=False))
        put("sweep.yaml", sw.file.read_text(encoding="utf-8"))
        put("base-scenario.yaml", scenario_yaml(sw.base))
        shutil.rmtree(out / "plots", ignore_errors=True)  # no chart of an earlier run stays
        names = {n: spec.name or n for n, spec in sw.base.nodes.items()}  # axes name nodes as the scenario does
        sweep_plots(self.summary, sw.spec.design.kind, out / "plots", sw.spec.name, sw.spec.measures, names)
        if self.sensitivity is not None:
            from model.outputs.plots import sensitivity_chart

            sensitivity_chart(self.sensitivity, sw.spec.name, sw.spec.design.kind, out / "plots", sw.spec.measures,
                              names)
        return folder.complete({"sweep": str(sw.file), "seed": sw.seed, "replications": sw.spec.replications,
                                "points": len(sw.points),
                                "shard": f"{self.shard[0]}/{self.shard[1]}" if self.shard else None,
                                "jobs": self.jobs, "jobs_run_now": self.jobs_run_now, "versions": package_versions(),
                                "wall_s": round(self.wall_s, 3), "expectations_failed": len(self.failed)})


def claim_folder(sweep: Sweep, out: str | Path, *, resume: bool = False, shard: tuple[int, int] | None = None
                 ) -> RunFolder:
    """Make ``out`` this sweep's folder (:meth:`RunFolder.claim`: new or empty; with ``resume``,
    a folder this same sweep, definition and code started)."""
    return RunFolder.claim(out, kind="sweep", name=sweep.spec.name, definition=sweep_definition(sweep, shard),
                           resume=resume, describe=str(sweep.file))


def run_sweep(path: str | Path | Sweep, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              shard: tuple[int, int] | None = None, baseline: pd.DataFrame | None = None, tolerance: float = 0.05,
              resume: bool = False, progress: object = None, shared_prefixes: bool = True) -> SweepResults:
    """Claim ``out`` (:func:`claim_folder`), run the jobs of a sweep not yet stored in ``out/jobs``
    (so a call with ``resume`` continues an interrupted one), then gather, summarise and judge
    them. ``progress``, ``shared_prefixes`` (points that differ from the first only from a date on
    are forked from its run then): see :func:`model.experiments.runner.execute`."""
    sweep = path if isinstance(path, Sweep) else load_sweep(path)
    folder = claim_folder(sweep, out, resume=resume, shard=shard)
    jobs = sweep_jobs(sweep, shard)
    t0 = time.perf_counter()
    before = _stored_count(folder, jobs)
    try:
        stored = execute([j for _, j in jobs], _extract(sweep), seed=sweep.seed, store=folder.jobs, workers=workers,
                         scheduler=scheduler, progress=progress, shared_prefixes=shared_prefixes)
    except BaseException:
        folder.release()  # interrupted or failed: the folder stays "running", for --resume
        raise
    wall = time.perf_counter() - t0
    table = collect(sweep, stored, jobs)
    summary = summarise_points(table)
    verdicts = pd.DataFrame(judge(sweep, table), columns=SWEEP_TABLE_COLUMNS)
    base_cmp = pd.DataFrame(compare_baseline(summary, baseline, tolerance) if baseline is not None else [],
                            columns=["point", "measure", "passed", "detail"])
    sensitivity = sweep.spec.design.analyse(sweep.spec.parameters, summary) if not shard else None
    distinct = len({j.key for _, j in jobs})
    return SweepResults(sweep, table, summary, verdicts, base_cmp, distinct, distinct - before, wall, shard,
                        sensitivity)


def _stored_count(folder: RunFolder, jobs: list[tuple[int, Job]]) -> int:
    from model.experiments.runner import pending

    keys = {j.key for _, j in jobs}
    return len(keys) - pending(folder.jobs, [j for _, j in jobs])
