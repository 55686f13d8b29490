"""Command line: ``python run.py [run|validate|bench|schema] ...``.

Exit status: 0 success, 2 bad input (one line per problem, file and field
path, nothing written). A traceback means a bug in the model, never a
user's mistake.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .scenario import ScenarioError, load_scenario, scenario_json_schema

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = ROOT / "scenarios" / "baseline.yaml"
RESULTS = Path("results")


class UsageError(Exception):
    """Bad command-line input (exit 2)."""


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {v}")
    return v


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a seed >= 0, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run.py", description="Caspian corridor freight simulator")
    sub = p.add_subparsers(dest="command")
    r = sub.add_parser("run", help="run a scenario's replications and write a run folder")
    r.add_argument("file", nargs="?", default=str(DEFAULT_SCENARIO), help="scenario YAML (default: baseline)")
    r.add_argument("--seed", type=_seed, help="base seed (default: the scenario's)")
    r.add_argument("--replications", type=_positive, help="number of replications (default: the scenario's)")
    r.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    r.add_argument("--out", help="run folder to create (default: results/<scenario>-<time>)")
    v = sub.add_parser("validate", help="check a scenario file; exit 0 or 2")
    v.add_argument("file")
    b = sub.add_parser("bench", help="time the model per shipment-hop against bare simpy")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    sub.add_parser("schema", help="print the JSON Schema of scenario files")
    return p


def cmd_run(args: argparse.Namespace) -> int:
    from .batch import run_scenario
    from .plots import run_plots
    from .report import (corridor_summary, default_run_dir, format_summary, manifest_for, scenario_yaml,
                         write_atomically, write_tables)

    scenario = load_scenario(args.file)
    out = Path(args.out) if args.out else default_run_dir(RESULTS, scenario.name)
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"--out: {out} already exists and is not empty; choose another folder")
    seed = scenario.seed if args.seed is None else args.seed
    n = args.replications or scenario.replications
    print(f"Running {scenario.name}: {n} replication(s), seed {seed} ...", flush=True)
    t0 = time.perf_counter()
    t = run_scenario(scenario, n, seed, args.workers)
    wall = time.perf_counter() - t0
    summary = corridor_summary(t)

    def fill(tmp: Path) -> dict:
        (tmp / f"scenario-{scenario.name}.yaml").write_text(scenario_yaml(scenario))
        write_tables(tmp, t)
        summary.to_csv(tmp / "summary.csv", index=False, float_format="%.6g")
        run_plots(t, scenario.name, tmp / "plots")
        return manifest_for([(scenario, str(args.file))], seed, n, wall, t.get("_perf"))

    final = write_atomically(out, fill)
    print(format_summary(summary))
    print(f"\n{n} replication(s) in {wall:.1f} s. Results: {final}/ (tables *.csv, plots/*.png, manifest.json)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    s = load_scenario(args.file)
    kinds: dict[str, int] = {}
    for spec in s.nodes.values():
        kinds[spec.kind] = kinds.get(spec.kind, 0) + 1
    print(f"{args.file}: OK: scenario '{s.name}', {s.start_date} to {s.end_date}, "
          f"{len(s.nodes)} nodes ({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}), "
          f"{len(s.streams)} streams, {len(s.investments)} investments, "
          f"{len(s.delays.projects) + len(s.delays.operational)} delays, {len(s.disruptions)} disruptions")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    load_scenario(args.scenario)  # bad input -> exit 2 before timing anything
    res = run_bench(Path(args.scenario))
    if args.json:
        print(json.dumps(res))
    else:
        print(f"model:       {res['model_us_per_hop']:.2f} µs per shipment-hop")
        print(f"bare simpy:  {res['bare_us_per_hop']:.2f} µs per customer-station (3-station tandem)")
        print(f"ratio:       {res['ratio']:.2f} (goal <= 1.3, limit 1.5)")
        print(f"baseline replication: {res['baseline_replication_s']:.2f} s (limit 3 s)")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(scenario_json_schema(), indent=2, default=str))
    return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "bench": cmd_bench, "schema": cmd_schema}


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
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
