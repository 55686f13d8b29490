"""Command line: ``corridor [run|batch|compare|sweep|appraise|validate|bench|scenarios|init|schema] ...``
(also ``python run.py ...`` and ``python -m model ...``).

A thin layer over the library API (:mod:`model.api`): parse, call, print.
Exit status: 0 success; 1 a sweep expectation failed under ``--check``, or a
runtime fault (a job failed: the others finish and the failed ones are listed;
the disk filled up); 2 bad input (one line per problem, file and field path,
nothing written) or an output path that cannot be used (read-only, a file, a
mount point: checked before anything is simulated); 130 interrupted (Ctrl-C
keeps the finished replications in ``OUT/jobs``: ``--resume`` continues). An
operating-system error is one line naming the path. A traceback means a bug in
the model, never a user's mistake or a fault of the machine.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from model import __version__
from model.outputs.folders import JOB_STORE
from model.experiments.pool import Interrupted, JobsFailed
from model.core.limits import MAX_DELAY_MONTHS, MAX_REPLICATIONS, MAX_SEED
from model.scenario import library
from model.scenario.loader import ScenarioError, load_scenario

DEFAULT_SCENARIO = "baseline"
"""The library scenario run when none is named."""
RESULTS = Path("results")


class UsageError(Exception):
    """Bad command-line input (exit 2)."""


def _number(text: str, kind: type, what: str) -> Any:
    """``text`` as an int or float, or an argparse error naming what was expected
    (NaN and infinities are not numbers here)."""
    try:
        v = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return v


def _positive(text: str) -> int:
    v = _number(text, int, "a whole number")
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {v}")
    return v


def _replications(text: str) -> int:
    v = _positive(text)
    if v > MAX_REPLICATIONS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_REPLICATIONS} replications (the limit), got {v}")
    return v


def _seed(text: str) -> int:
    v = _number(text, int, "a whole number")
    if not 0 <= v <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to {MAX_SEED}, got {v}")
    return v


def _months(text: str) -> float:
    v = _number(text, float, "a number of months")
    if not 0 < v <= MAX_DELAY_MONTHS:
        raise argparse.ArgumentTypeError(f"expected months between 0 (excluded) and {MAX_DELAY_MONTHS:g}, got {text}")
    return v


def _money(text: str) -> float:
    v = _number(text, float, "an amount in million USD")
    if not 0 < v < 1e9:
        raise argparse.ArgumentTypeError(f"expected an amount above 0, got {text}")
    return v


def _named(kind: str) -> Any:
    """An argparse type: a scenario (or sweep) file, or a library name (``baseline``) when no
    such file exists (:func:`model.scenario.library.resolve`). A note says when a name runs the
    library's file although ``scenarios/NAME.yaml`` exists here (an edited copy is run by path)."""
    def named(text: str) -> str:
        try:
            path = library.resolve(text, kind)
        except library.NotInLibrary as e:
            raise argparse.ArgumentTypeError(str(e)) from None
        if not Path(text).exists() and library.is_library_file(path):
            local = Path("scenarios") / path.resolve().relative_to(library.library_dir())
            if local.is_file() and local.resolve() != path.resolve():  # (in a checkout the library is scenarios/)
                from model.outputs.folders import note

                note(f"'{text}' is the library's {path.name} ({path}); to run your copy, name it: {local}")
        return str(path)
    named.__name__ = f"{kind} file or library name"  # how argparse names the expected value
    return named


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line ``error: ...`` and exit status 2 (``--help`` shows usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog.split()[0]} --help)\n")


_OUTSIDE_HELP = ("let extends and a sweep's base read files outside the project tree (the closest folder above "
                 "the file that holds scenarios/, pyproject.toml or .git)")


_LOG_HELP = ("also write shipments.parquet: one row per delivered shipment (stream, tonnes, created, first port "
             "and delivery hours, transit days, delivery date); grows with the shipments, off by default")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="corridor", description="Caspian corridor freight simulator")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    r = sub.add_parser("run", help="run a scenario's replications and write a run folder")
    r.add_argument("file", nargs="?", default=DEFAULT_SCENARIO, type=_named("scenario"),
                   help="scenario YAML, or a library scenario's name (default: baseline; see corridor scenarios)")
    r.add_argument("--seed", type=_seed, help="base seed (default: the scenario's)")
    r.add_argument("--replications", type=_replications, help="number of replications (default: the scenario's)")
    r.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    r.add_argument("--out", help="run folder to create (default: results/<scenario>-<date>-<time>)")
    r.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    r.add_argument("--year", type=int, help="year shown on the corridor map (default: the last)")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG figures (report.html and tables "
                    "are still written); a quarter of a run's time")
    r.add_argument("--log-shipments", action="store_true", help=_LOG_HELP)
    r.add_argument("--allow-outside", action="store_true", help=_OUTSIDE_HELP)
    bt = sub.add_parser("batch", help="run several scenarios x replications with common random numbers")
    bt.add_argument("files", nargs="+", type=_named("scenario"),
                    help="scenario YAML files or library names (the first is the reference)")
    bt.add_argument("--seed", type=_seed, help="base seed (default: the first scenario's)")
    bt.add_argument("--replications", type=_replications, help="replications per scenario")
    bt.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    bt.add_argument("--out", help="batch folder to create (default: results/batch-...)")
    bt.add_argument("--resume", action="store_true", help="continue an interrupted batch in --out")
    bt.add_argument("--year", type=int, help="year shown on the corridor map (default: the last)")
    bt.add_argument("--no-plots", action="store_true", help="skip the PNG figures (report.html and tables "
                    "are still written); a quarter of a run's time")
    bt.add_argument("--log-shipments", action="store_true", help=_LOG_HELP)
    bt.add_argument("--allow-outside", action="store_true", help=_OUTSIDE_HELP)
    cp = sub.add_parser("compare", help="rebuild comparison tables and plots from finished run/batch folders")
    cp.add_argument("dirs", nargs="+")
    cp.add_argument("--out", help="folder to create (default: results/compare-...)")
    cp.add_argument("--year", type=int, help="year shown on the corridor map (default: the last)")
    cp.add_argument("--no-plots", action="store_true", help="skip the PNG figures (report.html and tables "
                    "are still written); a quarter of a run's time")
    sw = sub.add_parser("sweep", help="run a parameter sweep; --check gates CI on its expectations")
    sw.add_argument("file", type=_named("sweep"), help="sweep YAML file, or a library sweep's name")
    sw.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    sw.add_argument("--scheduler", help="Dask scheduler address (tcp://host:port) to run on a cluster")
    sw.add_argument("--check", action="store_true", help="exit 1 when an expectation fails")
    sw.add_argument("--resume", action="store_true", help="continue an interrupted sweep in --out")
    sw.add_argument("--shard", help="I/N: run only the I-th of N deterministic slices of the points")
    sw.add_argument("--baseline", help="summary.csv of an earlier sweep to compare with")
    sw.add_argument("--tolerance", type=float, default=0.05, help="relative change allowed vs --baseline")
    sw.add_argument("--out", help="sweep folder (default: results/sweep-<name>)")
    sw.add_argument("--allow-outside", action="store_true", help=_OUTSIDE_HELP)
    ap = sub.add_parser("appraise", help="rank the scenario's investments: each removed, and each delayed")
    ap.add_argument("file", nargs="?", default=DEFAULT_SCENARIO, type=_named("scenario"),
                    help="scenario YAML, or a library scenario's name (default: baseline)")
    ap.add_argument("--replications", type=_replications, help="replications per variant (default: the scenario's)")
    ap.add_argument("--seed", type=_seed, help="base seed (default: the scenario's)")
    ap.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    ap.add_argument("--delay-months", type=_months, default=12.0, help="delay to price (default 12)")
    ap.add_argument("--by", choices=("id", "tag"), default="id", help="appraise each investment, or each tag group")
    ap.add_argument("--sequence", action="store_true", help="also build a greedy programme of the costed items")
    ap.add_argument("--budget-musd", type=_money, help="cap the programme's total cost (with --sequence)")
    ap.add_argument("--marginal", action="store_true",
                    help="also one step more capacity at each node (a vessel, or 10%%), measured against the bound")
    ap.add_argument("--resume", action="store_true", help="continue an interrupted appraisal in --out")
    ap.add_argument("--out", help="folder (default: results/appraise-<scenario>-<date>-<time>)")
    ap.add_argument("--allow-outside", action="store_true", help=_OUTSIDE_HELP)
    v = sub.add_parser("validate", help="check a scenario or sweep file; exit 0 or 2")
    v.add_argument("file", type=_named("any"), help="scenario or sweep YAML file, or a library name")
    v.add_argument("--allow-outside", action="store_true", help=_OUTSIDE_HELP)
    b = sub.add_parser("bench", help="what the model costs against bare simpy, and the speed goals it meets")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--scenario", default=DEFAULT_SCENARIO, type=_named("scenario"),
                   help="scenario YAML or library name (default: baseline)")
    b.add_argument("--quick", action="store_true", help="only the timings: skip peak memory and the 20-job sweep")
    sub.add_parser("scenarios", help="list the scenario library: each scenario and sweep with the question it answers")
    it = sub.add_parser("init", help="copy the scenario library into DIR/scenarios/ for editing")
    it.add_argument("dir", help="folder to copy it into (created if needed; DIR/scenarios must not exist)")
    sc = sub.add_parser("schema", help="print a JSON Schema of scenario or sweep files (for editors)")
    sc.add_argument("kind", nargs="?", default="scenario", choices=("scenario", "partial", "sweep"),
                    help="scenario (complete), partial (a file that extends another) or sweep; default scenario")
    sc.add_argument("--write", metavar="DIR", help="write all three schema files into DIR instead")
    return p


def _check_out(out: Path, resume: bool | None, renamed: bool) -> None:
    """Refuse an ``--out`` that cannot be used: a file; a mount point when the folder is built
    beside it and renamed into place (``renamed``); a non-empty folder unless resuming
    (``resume`` None: the command cannot resume)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} is a file; expected a folder")
    if renamed and os.path.ismount(out):
        raise UsageError(f"--out: {out} is a mount point (the folder is built beside it and renamed into "
                         f"place); choose a folder inside it, such as {out / 'run'}")
    if out.is_dir() and any(out.iterdir()) and not resume:
        raise UsageError(f"--out: {out} already exists and is not empty; "
                         + ("add --resume to continue an interrupted run there, or " if resume is not None else "")
                         + "choose another folder")


def _out_dir(args: argparse.Namespace, name: str) -> Path:
    """The run, batch or comparison folder to create (built beside it, renamed into place)."""
    from model.outputs.folders import default_run_dir

    resume = getattr(args, "resume", None)
    if resume and not args.out:
        raise UsageError("--resume: give --out, the folder of the interrupted run")
    out = Path(args.out) if args.out else default_run_dir(RESULTS, name)
    _check_out(out, resume, renamed=True)
    if resume and out.is_dir() and any(out.iterdir()):
        if (out / "manifest.json").exists():
            raise UsageError(f"--resume: {out} is already complete; choose another folder for a new run")
        if {p.name for p in out.iterdir()} != {JOB_STORE}:
            raise UsageError(f"--resume: {out} is not an interrupted run folder (it should hold only {JOB_STORE}/)")
    return out


def _prepare_out(args: argparse.Namespace, out: Path, renamed: bool) -> None:
    """Before simulating: remove what killed runs left beside ``out``, and prove ``out`` (and,
    when the folder is renamed into place, its parent) writable by creating a probe file."""
    from model.outputs.folders import check_writable, clean_stale, note

    args.out_path, args.out_created = out, not out.exists()
    stale = clean_stale(out.parent) + clean_stale(out)
    if stale:
        note(f"removed {len(stale)} temporary file(s) or folder(s) left by killed runs: "
             + ", ".join(str(p) for p in stale[:5]) + (" ..." if len(stale) > 5 else ""))
    check_writable(out)
    if renamed:
        check_writable(out.parent)


class Progress:
    """A one-line progress counter on stderr (a plain line per step when not a terminal)."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.t0 = total, 0, time.perf_counter()
        self.tty = sys.stderr.isatty()

    def __call__(self, label: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.t0
        eta = f", about {elapsed / self.done * (self.total - self.done):.0f} s to go" if self.done < self.total else ""
        msg = f"[{self.done}/{self.total}] {label} done ({elapsed:.0f} s{eta})"
        print(("\r" + msg) if self.tty else msg, end="" if self.tty and self.done < self.total else "\n",
              file=sys.stderr, flush=True)


def _run_and_print(scenarios: list, args: argparse.Namespace, out: Path, checks: bool = True) -> int:
    """Run scenarios (one: a run; several: a batch), write the folder, print the summary."""
    from model.api import batch
    from model.outputs.report import format_results
    from model.analysis.sanity import checks_summary

    n = args.replications or max(s.replications for s in scenarios)
    progress = Progress(n * len(scenarios))
    t0 = time.perf_counter()
    res = batch(scenarios, replications=n, seed=args.seed, workers=args.workers, store=out / JOB_STORE,
                progress=lambda s, k: progress(f"{s.name} replication {k + 1} of {n}"),
                log_shipments=args.log_shipments)
    res = replace(res, info=replace(res.info, files=tuple(args.sources)))
    final = res.write(out, year=args.year, figures=not args.no_plots)
    print(format_results(res))
    if checks:  # capacity bound and sanity check (model.analysis.bound, model.analysis.sanity), per scenario
        for s in res.scenarios:
            print("\n" + (f"{s.name}: " if len(res.scenarios) > 1 else "")
                  + checks_summary(s, res.annual_nodes, res.corridor, res.bound))
    cpu = float(res.perf["wall_s"].sum())
    print(f"\n{len(res.perf)} replication(s): {cpu:.1f} s of simulation in {time.perf_counter() - t0:.1f} s elapsed. "
          f"Results: {final}/ (summary.csv, tables *.csv, plots/*.png, report.html, manifest.json"
          + (", shipments.parquet)" if res.shipments is not None else ")"))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.file, allow_outside=args.allow_outside)
    out = _out_dir(args, scenario.name)
    _prepare_out(args, out, renamed=True)
    seed = scenario.seed if args.seed is None else args.seed
    n = args.replications or scenario.replications
    print(f"Running {scenario.name}: {n} replication(s), seed {seed} ...", flush=True)
    args.sources = [str(args.file)]
    return _run_and_print([scenario], args, out)


def cmd_batch(args: argparse.Namespace) -> int:
    problems, scenarios = [], []
    for f in args.files:
        try:
            scenarios.append(load_scenario(f, allow_outside=args.allow_outside))
        except ScenarioError as e:
            problems.extend(e.problems)
    if problems:
        raise ScenarioError(problems)
    names = [s.name for s in scenarios]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f"scenario names must differ within a batch; repeated: {', '.join(dup)}")
    out = _out_dir(args, "batch-" + "-vs-".join(names)[:80])
    _prepare_out(args, out, renamed=True)
    n = args.replications or max(s.replications for s in scenarios)
    seed = scenarios[0].seed if args.seed is None else args.seed
    print(f"Batch of {len(scenarios)} scenario(s) x {n} replication(s), seed {seed}, common random numbers ...",
          flush=True)
    args.sources = list(args.files)
    return _run_and_print(scenarios, args, out)


def cmd_compare(args: argparse.Namespace) -> int:
    from model.api import compare
    from model.outputs.report import format_results
    from model.outputs.results import NotAResultError

    try:
        res, notes = compare(args.dirs)
    except NotAResultError as e:
        raise UsageError(str(e)) from None
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    out = _out_dir(args, "compare")
    _prepare_out(args, out, renamed=True)
    final = res.write(out, year=args.year, figures=not args.no_plots)
    print(format_results(res))
    print(f"\nComparison written to {final}/")
    return 0


def _shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard: expected I/N such as 1/2, got {text!r}") from None
    if not 1 <= i <= n:
        raise UsageError(f"--shard: need 1 <= I <= N, got {text!r}")
    return i, n


def cmd_sweep(args: argparse.Namespace) -> int:
    import pandas as pd

    from model.outputs.folders import folder_name
    from model.experiments.runner import default_workers
    from model.experiments.sweeps import NotThisSweepsFolder, claim_folder, load_sweep, pending, plan, run_sweep

    sweep = load_sweep(args.file, allow_outside=args.allow_outside)
    shard = _shard(args.shard)
    baseline = None
    if args.baseline:
        try:
            baseline = pd.read_csv(args.baseline)
        except (OSError, pd.errors.ParserError) as e:
            raise UsageError(f"--baseline: cannot read {args.baseline}: {e.__class__.__name__}") from None
        if not {"point", "measure", "mean"} <= set(baseline.columns):
            raise UsageError(f"--baseline: {args.baseline} is not a sweep summary.csv (needs point, measure, mean)")
    if args.tolerance < 0:
        raise UsageError("--tolerance: expected a number >= 0")
    suffix = f"-shard{shard[0]}of{shard[1]}" if shard else ""
    out = Path(args.out) if args.out else RESULTS / folder_name(f"sweep-{sweep.spec.name}{suffix}")
    _check_out(out, args.resume, renamed=False)
    _prepare_out(args, out, renamed=False)
    try:
        claim_folder(sweep, out)
    except NotThisSweepsFolder as e:
        raise UsageError(f"--resume: {e}") from None
    jobs = plan(sweep, shard)
    workers = args.workers or default_workers()
    print(f"Sweep {sweep.spec.name}: {len({j[0] for j in jobs})} point(s) x {sweep.spec.replications} replication(s)"
          f"{' (shard ' + args.shard + ')' if shard else ''}, "
          f"{'Dask at ' + args.scheduler if args.scheduler else str(workers) + ' worker(s)'}", flush=True)
    progress = Progress(pending(out / "jobs", jobs))
    res = run_sweep(sweep, out, workers=workers, scheduler=args.scheduler, shard=shard, baseline=baseline,
                    tolerance=args.tolerance, progress=lambda i, k: progress(f"point {i} replication {k + 1}"))
    res.write(out)
    verdicts, base_cmp = res.expectations.to_dict("records"), res.baseline_comparison.to_dict("records")
    print(f"{res.jobs_run_now} replication(s) run now, {res.jobs - res.jobs_run_now} reused; results in {out}/")
    for v in verdicts:
        if not v["passed"]:
            print(f"FAILED  {v['expectation']} at point {v['point']} {v['params']}: {v['detail']}")
    for b in base_cmp:
        if not b["passed"]:
            print(f"CHANGED point {b['point']} {b['measure']}: {b['detail']}")
    if res.sensitivity is not None:
        print("Which input drives each measure (Morris mu*, mean absolute effect over the input's range, "
              "[95% interval half-width]; sigma: interactions):")
        for m, g in res.sensitivity.groupby("measure", sort=False):
            print(f"  {m}:")
            for _, r in g.iterrows():
                print(f"    {r['parameter']:<48} mu* {r['mu_star']:.4g} [±{r['mu_star_conf']:.2g}]  "
                      f"sigma {r['sigma']:.3g}")
    n_ok = sum(v["passed"] for v in verdicts)
    print(f"expectations: {n_ok} passed, {len(verdicts) - n_ok} failed"
          + (f"; baseline: {sum(b['passed'] for b in base_cmp)} within tolerance, "
             f"{sum(not b['passed'] for b in base_cmp)} changed" if base_cmp else ""))
    return 1 if (args.check and res.failed) else 0


def cmd_appraise(args: argparse.Namespace) -> int:
    from model.experiments.appraise import appraise, items_of
    from model.outputs.folders import default_run_dir
    from model.outputs.report import format_appraisal, format_marginal

    scenario = load_scenario(args.file, allow_outside=args.allow_outside)
    if not scenario.investments:
        raise UsageError(f"{args.file}: the scenario has no investments to appraise")
    if args.budget_musd is not None and not args.sequence:
        raise UsageError("--budget-musd: caps the programme of --sequence; add --sequence")
    out = Path(args.out) if args.out else default_run_dir(RESULTS, f"appraise-{scenario.name}")
    _check_out(out, args.resume, renamed=False)
    if args.resume and out.exists() and any(out.iterdir()) and not (out / JOB_STORE).is_dir():
        raise UsageError(f"--resume: {out} is not an appraisal folder (no {JOB_STORE}/ in it)")
    _prepare_out(args, out, renamed=False)
    n = args.replications or scenario.replications
    items, variants = items_of(scenario, args.by, args.delay_months)
    print(f"Appraising {len(items)} item(s) of {scenario.name} by {args.by}: {len(variants) + 1} variants x {n} "
          f"replication(s){', then a greedy programme' if args.sequence else ''} ...", flush=True)
    costed = sum(it.cost_musd > 0 for it in items) if args.sequence else 0
    # the programme runs the base without the costed items once, then each remaining candidate at each step
    progress = Progress((len(variants) + 1 + (costed * (costed + 1) // 2 + 1 if costed else 0)) * n)
    res = appraise(scenario, out, replications=n, seed=args.seed, workers=args.workers,
                   delay_months=args.delay_months, by=args.by, sequence=args.sequence, budget_musd=args.budget_musd,
                   marginal=args.marginal, progress=lambda s, k: progress(f"{s.name.split('~', 1)[-1]} replication {k + 1} of {n}"))
    res.write(out)
    print(f"\nInvestments of {scenario.name}, {res.span}, ranked (mean [95% paired interval] over {n} "
          f"replication(s); a delay of {args.delay_months:g} months):")
    print(format_appraisal(res.table, res.sequence, res.headline))
    if res.marginal is not None:
        print("\n" + format_marginal(res.marginal))
    print(f"\n{res.wall_s:.0f} s. Results: {out}/ (appraisal.csv, appraisal_years.csv, plots/*.png, report.html)")
    return 0


def _is_sweep_file(path: str) -> bool:
    """A sweep file names a ``base`` scenario and ``parameters`` (a scenario has neither)."""
    from model.scenario.loader import read_yaml_doc

    try:
        data = read_yaml_doc(path, "scenario", "").data
    except ScenarioError:
        return False  # load_scenario reports it properly
    return "base" in data and "parameters" in data


def cmd_validate(args: argparse.Namespace) -> int:
    if _is_sweep_file(args.file):
        from model.experiments.sweeps import load_sweep

        sw = load_sweep(args.file, allow_outside=args.allow_outside)
        print(f"{args.file}: OK: sweep '{sw.spec.name}' on {sw.base_file}, {sw.spec.design.kind} design, "
              f"{len(sw.points)} points x {sw.spec.replications} replications, {len(sw.spec.measures)} measures, "
              f"{len(sw.spec.expectations)} expectations")
        return 0
    s = load_scenario(args.file, allow_outside=args.allow_outside)
    kinds: dict[str, int] = {}
    for spec in s.nodes.values():
        kinds[spec.kind] = kinds.get(spec.kind, 0) + 1
    print(f"{args.file}: OK: scenario '{s.name}', {s.start_date} to {s.end_date}, "
          f"{len(s.nodes)} nodes ({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}), "
          f"{len(s.streams)} streams, {len(s.investments)} investments, "
          f"{len(s.delays.projects) + len(s.delays.operational)} delays, {len(s.disruptions)} disruptions")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from model.experiments.bench import format_bench, run_bench

    load_scenario(args.scenario)  # bad input -> exit 2 before timing anything
    res = run_bench(Path(args.scenario), memory=not args.quick, sweep=not args.quick)
    print(json.dumps(res) if args.json else format_bench(res))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from model.experiments.schemas import schema_text, write_schemas

    if args.write:
        for f in write_schemas(args.write):
            print(f)
    else:
        print(schema_text(args.kind), end="")
    return 0


def _wrapped(name: str, text: str, width: int = 100, indent: int = 28) -> str:
    import textwrap

    lines = textwrap.wrap(text, width - indent) or [""]
    head = f"  {name:<{indent - 3}} " if len(name) <= indent - 3 else f"  {name}\n{' ' * indent}"
    return head + ("\n" + " " * indent).join(lines)


def cmd_scenarios(args: argparse.Namespace) -> int:
    where = library.library_dir()
    print(f"The scenario library ({where}). Run one by name from any folder (corridor run baseline, "
          "model.load(\"baseline\")); corridor init DIR copies it for editing.\n")
    print("Scenarios, and the question each answers:")
    for e in library.entries("scenario"):
        print(_wrapped(e.name, e.question))
    print("\nSweeps (corridor sweep NAME):")
    for e in library.entries("sweep"):
        print(_wrapped(e.name, e.question))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    dest = Path(args.dir)
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} is a file; expected a folder to copy the scenario library into")
    target = library.copy_library(dest)
    n = len(list(target.glob("*.yaml")))
    m = len(list((target / library.SWEEPS).glob("*.yaml")))
    print(f"Copied the scenario library to {target}/: {n} scenarios, {m} sweeps in sweeps/, and the JSON Schemas "
          f"their first lines name (schemas/, for your editor's YAML plug-in). Edit a copy and run it by path:\n"
          f"  cd {dest} && corridor run scenarios/baseline.yaml --replications 1")
    return 0


COMMANDS = {"run": cmd_run, "batch": cmd_batch, "compare": cmd_compare, "sweep": cmd_sweep, "validate": cmd_validate,
            "bench": cmd_bench, "schema": cmd_schema, "appraise": cmd_appraise, "scenarios": cmd_scenarios,
            "init": cmd_init}


USER_PATH_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR, errno.EEXIST,
                    errno.ENOTEMPTY, errno.ENOENT, errno.ENAMETOOLONG, errno.ELOOP, errno.EXDEV, errno.EBUSY}
"""Operating-system errors that mean the user pointed at a path that cannot be used (exit 2);
any other (a full disk, an I/O error) is a fault of the machine at run time (exit 1)."""

def _os_hint(code: int, args: argparse.Namespace) -> str:
    """What to do about an operating-system error, if there is a plain answer."""
    out = getattr(args, "out_path", None)
    again = (f"rerun the same command with --resume --out {out}" if out is not None and hasattr(args, "resume")
             else "rerun")
    return {errno.ENOSPC: f"free some space, then {again}", errno.EDQUOT: f"free some space, then {again}",
            errno.EROFS: "choose another --out", errno.EACCES: "choose another --out, or make the folder writable",
            errno.EPERM: "choose another --out, or make the folder writable"}.get(code, "")


def _os_error(e: OSError, args: argparse.Namespace) -> str:
    """One line for an operating-system error: the path, what went wrong, what to do."""
    path = e.filename if e.filename is not None else getattr(args, "out_path", None)
    where = f"{path}" + (f" -> {e.filename2}" if e.filename2 is not None else "") if path is not None else ""
    reason = e.strerror or str(e) or type(e).__name__
    hint = _os_hint(e.errno or 0, args)
    return f"{where + ': ' if where else ''}{reason}{'; ' + hint if hint else ''}"


def _resume_hint(out: Path) -> str:
    return f"rerun the same command with --resume --out {out}"


def _interrupted(e: KeyboardInterrupt, args: argparse.Namespace) -> str:
    """What Ctrl-C kept, and how to continue (one line)."""
    if isinstance(e, Interrupted) and e.store is not None and e.done:
        return (f"interrupted: {e.done} of {e.total} replications finished and are kept in {e.store}; "
                f"{_resume_hint(e.store.parent)} to continue")
    out = getattr(args, "out_path", None)
    if out is None or not out.exists():
        return "interrupted; nothing was written"
    store = out / JOB_STORE
    if store.is_dir() and any(store.glob("*.json")):
        return f"interrupted; the finished replications are kept in {store}; {_resume_hint(out)} to continue"
    return f"interrupted before any replication finished; {_resume_hint(out)}"


def _failed(e: JobsFailed, limit: int = 20) -> list[str]:
    """The failed jobs, one a line, after a line saying what was kept."""
    from model.experiments.runner import FAILED

    kept = "" if e.store is None else (
        f"; the {e.done} other(s) finished and are kept in {e.store} (tracebacks in {e.store / FAILED}); "
        f"fix the cause, then {_resume_hint(e.store.parent)} to run only the failed ones")
    lines = [f"error: {len(e.failures)} of {e.total} replications failed{kept}. Failed:"]
    lines += [f"  {f.job}: {f.error}" for f in e.failures[:limit]]
    if len(e.failures) > limit:
        lines.append(f"  ... and {len(e.failures) - limit} more")
    return lines


def _drop_empty_out(args: argparse.Namespace) -> None:
    """After a fault: remove the output folder this command created if nothing was kept in
    it, so that the same command can simply be run again."""
    out = getattr(args, "out_path", None)
    if out is None or not getattr(args, "out_created", False):
        return
    for folder in (out / JOB_STORE, out):
        try:
            folder.rmdir()  # only if empty
        except OSError:
            return


def _end_progress_line() -> None:
    """A message after a terminal progress line starts on a line of its own."""
    if sys.stderr.isatty():
        print(file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or [])])
    try:
        return COMMANDS[args.command](args)
    except ScenarioError as e:
        for line in e.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        _end_progress_line()
        _drop_empty_out(args)
        print(_interrupted(e, args), file=sys.stderr)
        return 130
    except JobsFailed as e:
        _end_progress_line()
        _drop_empty_out(args)
        print("\n".join(_failed(e)), file=sys.stderr)
        return 1
    except OSError as e:
        _end_progress_line()
        _drop_empty_out(args)
        print(f"error: {_os_error(e, args)}", file=sys.stderr)
        return 2 if e.errno in USER_PATH_ERRNOS else 1
