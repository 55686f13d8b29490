"""Run folders (written atomically), manifests, and the printed summary.

A run folder is built under a hidden temporary name next to its final place
and renamed into place when complete; ``manifest.json`` is its last file and
says ``"status": "complete"``. A folder without it is not a result.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from collections import Counter
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable

import pandas as pd
import yaml

from . import __version__
from .metrics import summarise
from .schema import Scenario

PACKAGES = ["simpy", "numpy", "pandas", "matplotlib", "pydantic", "pyyaml", "scipy", "networkx"]


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "caspian-corridor": __version__}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_commit() -> str | None:
    """The commit of the code that ran (with '+dirty' for uncommitted changes), if in git."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def default_run_dir(results: Path, name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = results / f"{name}-{stamp}"
    i = 1
    while path.exists():
        path = results / f"{name}-{stamp}-{i}"
        i += 1
    return path


def write_file_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old content or the new, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    tmp.write_text(text)
    os.replace(tmp, path)


def write_atomically(final: Path, fill: Callable[[Path], dict]) -> Path:
    """Create ``final`` by filling a temporary sibling folder, then renaming it.

    ``fill(tmp)`` writes the content and returns the manifest, which is
    written last with ``status: complete``.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        manifest = fill(tmp)
        manifest["status"] = "complete"
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def write_tables(folder: Path, t: dict[str, pd.DataFrame]) -> None:
    for name, df in t.items():
        if not name.startswith("_"):
            df.to_csv(folder / f"{name}.csv", index=False, float_format="%.6g")


def scenario_yaml(s: Scenario) -> str:
    return yaml.safe_dump(s.model_dump(mode="json", exclude_defaults=False), sort_keys=False, allow_unicode=True)


def manifest_for(scenarios: list[tuple[Scenario, str]], seed: int, replications: int, wall_s: float,
                 perf: pd.DataFrame | None = None) -> dict:
    return {
        "kind": "run" if len(scenarios) == 1 else "batch",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "scenarios": [
            {"name": s.name, "file": src, "sha256": s.sha256(), "resolved": f"scenario-{s.name}.yaml"}
            for s, src in scenarios
        ],
        "seed": seed,
        "replications": replications,
        "replication_seeds": [{"seed": seed, "replication": k} for k in range(replications)],
        "versions": package_versions(),
        "git_commit": git_commit(),
        "wall_s": round(wall_s, 3),
        "simulated_hops": int(perf["hops"].sum()) if perf is not None else None,
    }


def corridor_summary(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per scenario x year: corridor demand and delivered (Mt, mean and 95% CI),
    the capacity bound (Mt, where computed), the most frequent bottleneck, and transit p50/p95 (days, means)."""
    corr = t["corridor"]
    s = summarise(corr, ["scenario", "year"], ["demand_t", "delivered_t", "transit_p50_days", "transit_p95_days"])
    wide = s.pivot_table(index=["scenario", "year"], columns="measure", values=["mean", "ci95_lo", "ci95_hi"])
    out = pd.DataFrame(index=wide.index)
    out["demand_mt"] = wide[("mean", "demand_t")] / 1e6
    out["delivered_mt"] = wide[("mean", "delivered_t")] / 1e6
    out["delivered_ci95_lo_mt"] = wide[("ci95_lo", "delivered_t")] / 1e6
    out["delivered_ci95_hi_mt"] = wide[("ci95_hi", "delivered_t")] / 1e6
    if "bound" in t and not t["bound"].empty:
        out["bound_mt"] = t["bound"].groupby(["scenario", "year"])["bound_t"].mean() / 1e6
    out["transit_p50_days"] = wide[("mean", "transit_p50_days")]
    out["transit_p95_days"] = wide[("mean", "transit_p95_days")]
    b = t["bottlenecks"]
    out["bottleneck"] = b.groupby(["scenario", "year"])["by_utilization"].agg(
        lambda v: Counter(v.dropna()).most_common(1)[0][0] if v.notna().any() else "")
    out["bottleneck_share"] = b.groupby(["scenario", "year"])["by_utilization"].agg(
        lambda v: Counter(v.dropna()).most_common(1)[0][1] / len(v) if v.notna().any() else float("nan"))
    return out.reset_index()


def format_summary(summary: pd.DataFrame) -> str:
    lines = []
    for scn, g in summary.groupby("scenario", sort=False):
        lines.append(f"Scenario {scn}: corridor cargo (background traffic excluded), mean of replications")
        has_bound = "bound_mt" in g.columns
        lines.append(f"  {'year':<6}{'demand Mt':>10}{'delivered Mt':>14}{'95% CI':>16}"
                     + (f"{'bound Mt':>10}" if has_bound else "")
                     + f"  {'bottleneck':<22}{'transit p50/p95 days':>21}")
        for _, r in g.iterrows():
            ci = ("" if pd.isna(r.delivered_ci95_lo_mt)
                  else f"{r.delivered_ci95_lo_mt:.2f}–{r.delivered_ci95_hi_mt:.2f}")
            share = "" if pd.isna(r.bottleneck_share) else f" ({r.bottleneck_share:.0%})"
            bound = "" if not has_bound else f"{'':>10}" if pd.isna(r.bound_mt) else f"{r.bound_mt:>10.2f}"
            lines.append(f"  {int(r.year):<6}{r.demand_mt:>10.2f}{r.delivered_mt:>14.2f}{ci:>16}{bound}  "
                         f"{(r.bottleneck + share):<22}{r.transit_p50_days:>10.1f} / {r.transit_p95_days:<8.1f}")
    return "\n".join(lines)


# ------------------------------------------------------------------ summaries

NODE_MEASURES = ["throughput_t", "capacity_t", "utilization", "waiting_mean_h", "waiting_p95_h", "mean_queue",
                 "hours_closed"]
ACTIVE_MEASURES = ["active_share", "sole_share", "shifting_share"]
STREAM_MEASURES = ["demand_t", "delivered_t", "backlog_t", "transit_mean_days", "transit_p50_days",
                   "transit_p95_days"]
CORRIDOR_MEASURES = ["demand_t", "delivered_t", "transit_p50_days", "transit_p95_days"]


def long_summary(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Mean, sd and 95% t-interval over replications for every scenario x year x
    node/stream measure, in one long table (``entity_type``, ``entity``, ``measure``)."""
    parts = []
    for table, key, measures, etype in [
        ("annual_nodes", "node", NODE_MEASURES, "node"),
        ("active_periods", "node", ACTIVE_MEASURES, "node"),
        ("annual_streams", "stream", STREAM_MEASURES, "stream"),
    ]:
        if table in t:
            s = summarise(t[table], ["scenario", "year", key], measures).rename(columns={key: "entity"})
            s.insert(2, "entity_type", etype)
            parts.append(s)
    c = summarise(t["corridor"], ["scenario", "year"], CORRIDOR_MEASURES)
    c.insert(2, "entity_type", "corridor")
    c.insert(3, "entity", "corridor")
    parts.append(c)
    return pd.concat(parts, ignore_index=True)


def paired_differences(t: dict[str, pd.DataFrame], reference: str | None = None) -> pd.DataFrame:
    """Each scenario minus the reference (first) scenario, per year, paired by
    replication (common random numbers): corridor delivered (Mt) and transit p50."""
    from .metrics import t_interval

    corr = t["corridor"]
    scen = list(dict.fromkeys(corr["scenario"]))
    reference = reference or scen[0]
    ref = corr[corr["scenario"] == reference].set_index(["replication", "year"])
    rows = []
    for s in scen:
        if s == reference:
            continue
        other = corr[corr["scenario"] == s].set_index(["replication", "year"])
        joined = other.join(ref.add_suffix("_ref"), how="inner")
        for year, g in joined.groupby(level="year"):
            for m, scale, unit in [("delivered_t", 1e6, "mt"), ("transit_p50_days", 1.0, "days")]:
                mean, sd, lo, hi = t_interval((g[m] - g[f"{m}_ref"]).to_numpy() / scale)
                rows.append({"scenario": s, "reference": reference, "year": year,
                             "measure": m.replace("_t", "_mt") if unit == "mt" else m, "n": len(g),
                             "mean_difference": mean, "sd": sd, "ci95_lo": lo, "ci95_hi": hi})
    return pd.DataFrame(rows)


def format_differences(d: pd.DataFrame) -> str:
    if d.empty:
        return ""
    lines = ["Paired differences vs the reference scenario (same seeds), delivered Mt, mean [95% CI]:"]
    dm = d[d["measure"] == "delivered_mt"]
    for s, g in dm.groupby("scenario", sort=False):
        cells = [f"{int(r.year)}: {r.mean_difference:+.2f} [{r.ci95_lo:+.2f}, {r.ci95_hi:+.2f}]"
                 for r in g.itertuples()]
        lines.append(f"  {s} - {g['reference'].iloc[0]}:")
        lines.extend(f"    {c}" for c in cells)
    return "\n".join(lines)


def write_outputs(folder: Path, t: dict[str, pd.DataFrame], year: int | None = None) -> None:
    """Tables, summaries, differences, plots and report.html into ``folder``."""
    from .html import write_html_report
    from .plots import batch_plots

    write_tables(folder, t)
    long_summary(t).to_csv(folder / "summary.csv", index=False, float_format="%.6g")
    corridor = corridor_summary(t)
    corridor.to_csv(folder / "corridor_summary.csv", index=False, float_format="%.6g")
    diffs = paired_differences(t)
    if not diffs.empty:
        diffs.to_csv(folder / "differences.csv", index=False, float_format="%.6g")
    plots = batch_plots(t, folder / "plots", year)
    write_html_report(folder / "report.html", t, corridor, diffs, plots,
                      title=" vs ".join(dict.fromkeys(t["corridor"]["scenario"])))


def write_results(folder: Path, t: dict[str, pd.DataFrame], scenarios: list[tuple[Scenario, str]],
                  seed: int, replications: int, wall_s: float, year: int | None = None) -> dict:
    """Fill a run or batch folder: resolved scenarios and all outputs; return the manifest.
    Adds ``t["bound"]``, the static capacity bound of each scenario and year (model.bound)."""
    from .bound import bounds_for_runs

    for s, _ in scenarios:
        (folder / f"scenario-{s.name}.yaml").write_text(scenario_yaml(s))
    t["bound"] = bounds_for_runs([s for s, _ in scenarios], t["annual_nodes"])
    write_outputs(folder, t, year)
    return manifest_for(scenarios, seed, replications, wall_s, t.get("_perf"))


def read_many(folders: list[Path]) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Tables of several finished folders, concatenated, and notes for the user.

    The same scenario run with the same file contents and seed in two folders is
    one scenario (identical replications count once, extra ones add up: with common
    random numbers replication k is the same run wherever it was made). A scenario
    name that comes back with other contents or another seed is a different
    scenario: it is renamed ``name@folder`` so replications are never mixed."""
    seen: dict[str, tuple] = {}
    parts, notes = [], []
    for folder in map(Path, folders):
        tables = read_results(folder)
        man = json.loads((folder / "manifest.json").read_text())
        renames = {}
        for sc in man.get("scenarios", []):
            key = (sc.get("sha256"), man.get("seed"))
            if seen.setdefault(sc["name"], key) != key:
                renames[sc["name"]] = f"{sc['name']}@{folder.name}"
                notes.append(f"{folder}: scenario {sc['name']!r} differs (file or seed) from the one already read; "
                             f"shown as {renames[sc['name']]!r}"
                             + ("; its seed differs, so differences with it are not paired on common random numbers"
                                if key[1] != seen[sc["name"]][1] else ""))
        for df in tables.values():
            if renames and "scenario" in df.columns:
                df["scenario"] = df["scenario"].replace(renames)
        parts.append(tables)
    names = list(dict.fromkeys(n for p in parts for n in p))
    t = {n: pd.concat([p[n] for p in parts if n in p], ignore_index=True).drop_duplicates() for n in names}
    return t, notes


def read_results(folder: Path) -> dict[str, pd.DataFrame]:
    """Tables of a finished run or batch folder (refuses unfinished ones)."""
    folder = Path(folder)
    man = folder / "manifest.json"
    if not man.exists() or json.loads(man.read_text()).get("status") != "complete":
        raise FileNotFoundError(f"{folder}: not a finished run or batch folder (no manifest.json with status complete)")
    out = {}
    for csv in folder.glob("*.csv"):
        if csv.stem not in {"summary", "corridor_summary", "differences"}:
            out[csv.stem] = pd.read_csv(csv)
    return out
