"""Command line: ``corridor [run|batch|compare|sweep|appraise|validate|bench|scenarios|init|schema] ...``
(also ``python run.py ...`` and ``python -m model ...``).

A thin layer over the library API (:mod:`model.api`, the only module of the package it
imports): parse, call, print. Exit status: 0 success; 1 a sweep expectation failed under
``--check``, or a runtime fault (a job failed: the others finish and the failed ones are
listed; the disk filled up); 2 bad input (one line per problem, file and field path, nothing
written) or an output folder that cannot be used (another command's, in use, read-only, a file:
checked before anything is simulated); 130 interrupted by Ctrl-C, 143 by SIGTERM (the finished
replications are kept in ``OUT/jobs``: ``--resume`` continues). An operating-system error is one
line naming the path. A traceback means a bug in the model, never a user's mistake or a fault
of the machine. ``-q`` shows only warnings and errors, ``-v`` more (the ``logging`` module).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

from model import __version__, api
from model.core.limits import MAX_DELAY_MONTHS, MAX_REPLICATIONS, MAX_SEED, MAX_WORKERS

DEFAULT_SCENARIO = "baseline"
"""The library scenario run when none is named."""
RESULTS = Path("results")
log = logging.getLogger("model")


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


def _workers(text: str) -> int:
    v = _positive(text)
    if v > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_WORKERS} workers (the limit; one per core is "
                                         f"what helps), got {v}")
    return v


def _tolerance(text: str) -> float:
    v = _number(text, float, "a relative tolerance such as 0.05")
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text}")
    return v


def _shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N such as 1/2, got {text!r}") from None
    if not 1 <= i <= n:
        raise argparse.ArgumentTypeError(f"need 1 <= I <= N, got {text!r}")
    return i, n


def _scheduler(text: str) -> str:
    if not text.startswith("tcp://") or len(text) <= len("tcp://"):
        raise argparse.ArgumentTypeError(f"expected a Dask scheduler address tcp://HOST:PORT, got {text!r}")
    return text


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


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected names separated by commas, got {text!r}")
    return names


def _precision(text: str) -> str:
    try:
        api.precision_target(text)
    except api.BadArgument as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix("precision: ")) from None
    return text


def _named(kind: str) -> Any:
    """An argparse type: a scenario (or sweep) file, or a library name (``baseline``) when no such
    file exists (:func:`model.api.resolve_name`)."""
    def named(text: str) -> str:
        try:
            return api.resolve_name(text, kind)
        except api.BadArgument as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    named.__name__ = f"{kind} file or library name"  # how argparse names the expected value
    return named


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line ``error: ...`` and exit status 2 (``--help`` shows usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog.split()[0]} --help)\n")


_OUTSIDE_HELP = ("let extends and a sweep's base read files outside the project tree (the closest folder above "
                 "the file that holds scenarios/, pyproject.toml or .git)")


_XLSX_HELP = "also write summary.xlsx: the summary tables as one Excel workbook, a sheet each"
_LOG_HELP = ("also write shipments.parquet: one row per delivered shipment (stream, tonnes, created, first port "
             "and delivery hours, transit days, delivery date); grows with the shipments, off by default")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors (no progress)")
    common.add_argument("-v", "--verbose", action="store_true", help="more detail (debug messages)")
    p = _Parser(prog="corridor", description="Caspian corridor freight simulator", parents=[common])
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, parents=[common])

    def runs(c: argparse.ArgumentParser, what: str) -> None:
        c.add_argument("--workers", type=_workers, help="worker processes (default: one per core, or one per job "
                       "when there are fewer than two jobs per core)")
        c.add_argument("--scheduler", type=_scheduler, help="Dask scheduler address (tcp://host:port) to run on a "
                       "cluster instead of local workers")
        c.add_argument("--resume", action="store_true", help=f"continue an interrupted {what} in --out")
        c.add_argument("--allow-outside", action="store_true", help=_OUTSIDE_HELP)

    def outputs(c: argparse.ArgumentParser) -> None:
        c.add_argument("--year", type=int, help="year shown on the corridor map (default: the last)")
        c.add_argument("--no-plots", action="store_true", help="skip the PNG figures (report.html and tables "
                       "are still written); a quarter of a run's time")
        c.add_argument("--xlsx", action="store_true", help=_XLSX_HELP)

    r = command("run", "run a scenario's replications and write a run folder")
    r.add_argument("file", nargs="?", default=DEFAULT_SCENARIO, type=_named("scenario"),
                   help="scenario YAML, or a library scenario's name (default: baseline; see corridor scenarios)")
    r.add_argument("--seed", type=_seed, help="base seed (default: the scenario's)")
    r.add_argument("--replications", type=_replications, help="number of replications (default: the scenario's)")
    r.add_argument("--out", help="run folder to create (default: results/<scenario>-<date>-<time>)")
    runs(r, "run")
    outputs(r)
    r.add_argument("--log-shipments", action="store_true", help=_LOG_HELP)
    bt = command("batch", "run several scenarios x replications with common random numbers")
    bt.add_argument("files", nargs="+", type=_named("scenario"),
                    help="scenario YAML files or library names (the first is the reference)")
    bt.add_argument("--seed", type=_seed, help="base seed (default: the first scenario's)")
    bt.add_argument("--replications", type=_replications, help="replications per scenario")
    bt.add_argument("--out", help="batch folder to create (default: results/batch-...)")
    runs(bt, "batch")
    outputs(bt)
    bt.add_argument("--log-shipments", action="store_true", help=_LOG_HELP)
    cp = command("compare", "rebuild comparison tables and plots from finished run/batch folders")
    cp.add_argument("dirs", nargs="+")
    cp.add_argument("--out", help="folder to create (default: results/compare-...)")
    outputs(cp)
    sw = command("sweep", "run a parameter sweep; --check gates CI on its expectations")
    sw.add_argument("file", type=_named("sweep"), help="sweep YAML file, or a library sweep's name")
    sw.add_argument("--check", action="store_true", help="exit 1 when an expectation fails")
    sw.add_argument("--shard", type=_shard, help="I/N: run only the I-th of N deterministic slices of the points")
    sw.add_argument("--baseline", help="summary.csv of an earlier sweep to compare with")
    sw.add_argument("--tolerance", type=_tolerance, default=api.defaults.TOLERANCE,
                    help="relative change allowed vs --baseline (default %(default)s)")
    sw.add_argument("--out", help="sweep folder (default: results/sweep-<name>)")
    sw.add_argument("--no-shared-prefixes", dest="shared_prefixes", action="store_false",
                    help="run every point in full, instead of forking it from the first point's run at the date it "
                         "first differs (the same tables)")
    runs(sw, "sweep")
    ap = command("appraise", "rank the scenario's investments: each removed, and each delayed")
    ap.add_argument("file", nargs="?", default=DEFAULT_SCENARIO, type=_named("scenario"),
                    help="scenario YAML, or a library scenario's name (default: baseline)")
    ap.add_argument("--replications", type=_replications, help="replications per variant (default: the scenario's)")
    ap.add_argument("--seed", type=_seed, help="base seed (default: the scenario's)")
    ap.add_argument("--delay-months", type=_months, default=api.defaults.DELAY_MONTHS,
                    help="delay to price (default %(default)g)")
    ap.add_argument("--by", choices=("id", "tag"), default="id", help="appraise each investment, or each tag group")
    ap.add_argument("--only", type=_names, metavar="ITEM[,ITEM...]",
                    help="appraise just these investments (ids; tags with --by tag); the others stay in every variant")
    ap.add_argument("--sequence", action="store_true", help="also build a greedy programme of the costed items")
    ap.add_argument("--budget-musd", type=_money, help="cap the programme's total cost (with --sequence)")
    ap.add_argument("--marginal", action="store_true",
                    help="also one step more capacity at each node (a vessel, or 10%%), measured against the bound")
    ap.add_argument("--precision", type=_precision, metavar="HALF_WIDTH",
                    help="run replications in rounds until each item's paired 95%% interval is this narrow or its rank "
                         "against its neighbours is settled: 0.05 (Mt of cargo gained over the horizon), 20musd (M USD "
                         "of NPV) or 5%% (of each item's NPV); --replications is then the first stage (default 5)")
    ap.add_argument("--out", help="folder (default: results/appraise-<scenario>-<date>-<time>)")
    ap.add_argument("--no-shared-prefixes", dest="shared_prefixes", action="store_false",
                    help="run every variant in full, instead of forking it from the scenario's run at the date it "
                         "first differs (the same tables; where the platform forks, on local workers)")
    runs(ap, "appraisal")
    v = command("validate", "check a scenario or sweep file; exit 0 or 2")
    v.add_argument("file", type=_named("any"), help="scenario or sweep YAML file, or a library name")
    v.add_argument("--allow-outside", action="store_true", help=_OUTSIDE_HELP)
    b = command("bench", "what the model costs against bare simpy, and the speed goals it meets")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--scenario", default=DEFAULT_SCENARIO, type=_named("scenario"),
                   help="scenario YAML or library name (default: baseline)")
    b.add_argument("--quick", action="store_true", help="only the timings: skip peak memory and the 20-job sweep")
    b.add_argument("--appraisal-years", type=_positive, metavar="YEARS",
                   help="years of the bench's appraisal from the scenario's start (default: 7, or 4 with --quick; "
                        "more than the scenario has: its whole horizon)")
    command("scenarios", "list the scenario library: each scenario and sweep with the question it answers")
    it = command("init", "copy the scenario library into DIR/scenarios/ for editing")
    it.add_argument("dir", help="folder to copy it into (created if needed; DIR/scenarios must not exist)")
    sc = command("schema", "print a JSON Schema of scenario or sweep files (for editors)")
    sc.add_argument("kind", nargs="?", default="scenario", choices=("scenario", "partial", "sweep"),
                    help="scenario (complete), partial (a file that extends another) or sweep; default scenario")
    sc.add_argument("--write", metavar="DIR", help="write all three schema files into DIR instead")
    return p


def _out(args: argparse.Namespace, name: str) -> Path:
    """The output folder: --out, or a new ``results/<name>-<date>-<time>``; remembered (with
    whether it existed) so that a fault can say where things are and remove what it created."""
    if args.resume and not args.out:
        raise UsageError("--resume: give --out, the folder of the interrupted run")
    out = Path(args.out) if args.out else api.default_run_dir(RESULTS, name)
    args.out_path, args.out_created = out, not os.path.lexists(out)
    return out


def _progress(args: argparse.Namespace, desc: str, header: str) -> Any:
    return None if args.quiet else api.progress_bar(desc, header)


def _ran(res: Any, out: Path) -> str:
    cpu = float(res.perf["wall_s"].sum())
    files = "summary.csv, tables *.csv, " + ("plots/*.png, " if (out / "plots").is_dir() else "") + "report.html, " + \
        ("summary.xlsx, " if (out / "summary.xlsx").is_file() else "") + "manifest.json" + \
        (", shipments.parquet" if res.shipments is not None else "")
    return f"{len(res.perf)} replication(s): {cpu:.1f} s of simulation in {res.info.wall_s:.1f} s. Results: {out}/ ({files})"


def cmd_run(args: argparse.Namespace) -> int:
    scenario = api.load(args.file, allow_outside=args.allow_outside)
    out = _out(args, scenario.name)
    n = args.replications or scenario.replications
    seed = scenario.seed if args.seed is None else args.seed
    header = f"Running {scenario.name}: {n} replication(s), seed {seed} ..."
    res = api.run(args.file, replications=args.replications, seed=args.seed, workers=args.workers,
                  scheduler=args.scheduler, progress=_progress(args, "replications", header), out=out, resume=args.resume,
                  figures=not args.no_plots, year=args.year, xlsx=args.xlsx, log_shipments=args.log_shipments,
                  allow_outside=args.allow_outside)
    print(api.results_text(res))
    print("\n" + _ran(res, out))
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    problems, scenarios = [], []
    for f in args.files:
        try:
            scenarios.append(api.load(f, allow_outside=args.allow_outside))
        except api.ScenarioError as e:
            problems.extend(e.problems)
    if problems:
        raise api.ScenarioError(problems)
    names = [s.name for s in scenarios]
    out = _out(args, "batch-" + "-vs-".join(names)[:80])
    n = args.replications or max(s.replications for s in scenarios)
    seed = scenarios[0].seed if args.seed is None else args.seed
    header = f"Batch of {len(scenarios)} scenario(s) x {n} replication(s), seed {seed}, common random numbers ..."
    res = api.batch(args.files, replications=args.replications, seed=args.seed, workers=args.workers,
                    scheduler=args.scheduler, progress=_progress(args, "replications", header), out=out, resume=args.resume,
                    figures=not args.no_plots, year=args.year, xlsx=args.xlsx, log_shipments=args.log_shipments,
                    allow_outside=args.allow_outside)
    print(api.results_text(res))
    print("\n" + _ran(res, out))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    args.resume = False
    res, notes = api.compare(args.dirs)
    for note in notes:
        log.warning("note: %s", note)
    out = _out(args, "compare")
    res.write(out, year=args.year, figures=not args.no_plots, xlsx=args.xlsx, pool=api.pool_map())
    print(api.results_text(res, checks=False))
    print(f"\nComparison written to {out}/")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    sweep = api.load_sweep(args.file, allow_outside=args.allow_outside)
    shard = args.shard
    suffix = f"-shard{shard[0]}of{shard[1]}" if shard else ""
    args.out = args.out or str(RESULTS / api.folder_name(f"sweep-{sweep.spec.name}{suffix}"))
    out = _out(args, "")
    header = (f"Sweep {sweep.spec.name}: {len(sweep.points)} point(s) x {sweep.spec.replications} replication(s)"
              + (f" (shard {shard[0]}/{shard[1]})" if shard else "") + ", "
              + (f"Dask at {args.scheduler}" if args.scheduler else f"{args.workers or 'one per core'} worker(s)"))
    res = api.sweep(sweep, out, workers=args.workers, scheduler=args.scheduler, shard=shard,
                    baseline=args.baseline, tolerance=args.tolerance, resume=args.resume,
                    progress=_progress(args, "point replications", header), shared_prefixes=args.shared_prefixes)
    print(api.sweep_text(res) + f"\nResults in {out}/")
    return 1 if (args.check and res.failed) else 0


def cmd_appraise(args: argparse.Namespace) -> int:
    scenario = api.load(args.file, allow_outside=args.allow_outside)
    out = _out(args, f"appraise-{scenario.name}")
    n = args.replications or (max(api.PRECISION_FIRST_STAGE, scenario.replications) if args.precision
                              else scenario.replications)
    items, variants = api.appraisal_plan(scenario, args.by, args.delay_months, args.only)
    rounds = (f" first, then rounds until each item is within {api.precision_target(args.precision)} or its rank is "
              "settled") if args.precision else ""
    header = (f"Appraising {items} item(s) of {scenario.name} by {args.by}: {variants + 1} variants x {n} "
              f"replication(s){rounds}{', then a greedy programme' if args.sequence else ''} ...")
    res = api.appraise(args.file, out, replications=args.replications, seed=args.seed, workers=args.workers,
                       scheduler=args.scheduler, delay_months=args.delay_months, by=args.by, sequence=args.sequence,
                       budget_musd=args.budget_musd, marginal=args.marginal, resume=args.resume,
                       progress=_progress(args, "variant replications", header), allow_outside=args.allow_outside,
                       precision=args.precision, only=args.only, shared_prefixes=args.shared_prefixes)
    print("\n" + api.appraisal_text(res))
    print(f"\n{res.wall_s:.0f} s. Results: {out}/ (appraisal.csv, appraisal_years.csv, plots/*.png, report.html)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    print(api.validate(args.file, allow_outside=args.allow_outside))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    res = api.bench(args.scenario, memory=not args.quick, sweep=not args.quick, appraisal_years=args.appraisal_years)
    print(json.dumps(res) if args.json else api.bench_text(res))
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    if args.write:
        for f in api.write_schemas(args.write):
            print(f)
    else:
        print(api.schema_text(args.kind), end="")
    return 0


def _wrapped(name: str, text: str, width: int = 100, indent: int = 28) -> str:
    import textwrap

    lines = textwrap.wrap(text, width - indent) or [""]
    head = f"  {name:<{indent - 3}} " if len(name) <= indent - 3 else f"  {name}\n{' ' * indent}"
    return head + ("\n" + " " * indent).join(lines)


def cmd_scenarios(args: argparse.Namespace) -> int:
    lib = api.scenarios()
    print(f"The scenario library ({api.library_dir()}). Run one by name from any folder (corridor run baseline, "
          "model.load(\"baseline\")); corridor init DIR copies it for editing.\n")
    print("Scenarios, and the question each answers:")
    for r in lib[lib["kind"] == "scenario"].itertuples():
        print(_wrapped(r.name, r.question))
    print("\nSweeps (corridor sweep NAME):")
    for r in lib[lib["kind"] == "sweep"].itertuples():
        print(_wrapped(r.name, r.question))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    dest = Path(args.dir)
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} is a file; expected a folder to copy the scenario library into")
    target = api.init(dest)
    n = len(list(target.glob("*.yaml")))
    m = len(list((target / "sweeps").glob("*.yaml")))
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


def _kept(out: Path) -> int:
    store = out / "jobs"
    return len(list(store.glob("*.json"))) if store.is_dir() else 0


def _interrupted(e: KeyboardInterrupt, args: argparse.Namespace) -> str:
    """What an interrupt kept, and how to continue (one line)."""
    if isinstance(e, api.Interrupted) and e.store is not None and e.done:
        return (f"interrupted: {e.done} of {e.total} replications finished and are kept in {e.store}; "
                f"{_resume_hint(e.store.parent)} to continue")
    out = getattr(args, "out_path", None)
    if out is None or not out.exists():
        return "interrupted; nothing was written"
    if _kept(out):
        return f"interrupted; the finished replications are kept in {out / 'jobs'}; {_resume_hint(out)} to continue"
    return f"interrupted before any replication finished; {_resume_hint(out)}"


def _failed(e: api.JobsFailed, limit: int = 20) -> list[str]:
    """The failed jobs, one a line, after a line saying what was kept."""
    kept = "" if e.store is None else (
        f"; the {e.done} other(s) finished and are kept in {e.store} (tracebacks in {e.store / api.FAILED}); "
        f"fix the cause, then {_resume_hint(e.store.parent)} to run only the failed ones")
    lines = [f"error: {len(e.failures)} of {e.total} replications failed{kept}. Failed:"]
    lines += [f"  {f.job}: {f.error}" for f in e.failures[:limit]]
    if len(e.failures) > limit:
        lines.append(f"  ... and {len(e.failures) - limit} more")
    return lines


def _drop_empty_out(args: argparse.Namespace) -> None:
    """After a fault: remove the output folder this command created if no finished job was kept
    in it (it holds only its running manifest), so that the same command can simply be run again."""
    out = getattr(args, "out_path", None)
    if out is None or not getattr(args, "out_created", False) or not out.is_dir() or out.is_symlink():
        return
    if _kept(out) == 0 and {p.name for p in out.iterdir()} <= {"manifest.json", "jobs", ".lock"}:
        shutil.rmtree(out, ignore_errors=True)


def _end_progress_line() -> None:
    """A message after a terminal progress line starts on a line of its own."""
    if sys.stderr.isatty():
        print(file=sys.stderr)


def _on_sigterm(signum: int, frame: Any) -> None:
    """SIGTERM is handled as Ctrl-C is: what finished is kept, and the user is told how to resume."""
    raise api.Terminated()


class _Lines(logging.Formatter):
    """``note: ...`` for warnings, the message alone for the rest."""

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        return f"note: {msg}" if record.levelno == logging.WARNING and not msg.startswith("note: ") else msg


def _logging(args: argparse.Namespace) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Lines())
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not any(a in COMMANDS for a in argv) and not {"-h", "--help", "--version"} & set(argv):
        argv = ["run", *argv]  # the default command: `corridor --replications 1` runs the baseline
    try:  # a usage mistake, --help, --version: argparse exits; the status is returned like any other
        args = parser.parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    _logging(args)
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if _main_thread() else None
    try:
        return COMMANDS[args.command](args)
    except api.ScenarioError as e:
        for line in e.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except (UsageError, api.BadArgument) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except api.FolderRefused as e:
        print(f"error: --out: {e}", file=sys.stderr)
        return 2
    except api.NotAResultError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        _end_progress_line()
        _drop_empty_out(args)
        print(_interrupted(e, args), file=sys.stderr)
        return 143 if isinstance(e, api.Terminated) or getattr(e, "terminated", False) else 130
    except api.JobsFailed as e:
        _end_progress_line()
        _drop_empty_out(args)
        print("\n".join(_failed(e)), file=sys.stderr)
        return 1
    except OSError as e:
        _end_progress_line()
        _drop_empty_out(args)
        print(f"error: {_os_error(e, args)}", file=sys.stderr)
        return 2 if e.errno in USER_PATH_ERRNOS else 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
