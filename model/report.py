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
import time
from collections import Counter
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable

import pandas as pd
import yaml

from . import __version__
from .metrics import summarise
from .scenario import Scenario

PACKAGES = ["simpy", "numpy", "pandas", "matplotlib", "pydantic", "pyyaml", "scipy"]


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
    the most frequent bottleneck, and transit p50/p95 (days, means)."""
    corr = t["corridor"]
    s = summarise(corr, ["scenario", "year"], ["demand_t", "delivered_t", "transit_p50_days", "transit_p95_days"])
    wide = s.pivot_table(index=["scenario", "year"], columns="measure", values=["mean", "ci95_lo", "ci95_hi"])
    out = pd.DataFrame(index=wide.index)
    out["demand_mt"] = wide[("mean", "demand_t")] / 1e6
    out["delivered_mt"] = wide[("mean", "delivered_t")] / 1e6
    out["delivered_ci95_lo_mt"] = wide[("ci95_lo", "delivered_t")] / 1e6
    out["delivered_ci95_hi_mt"] = wide[("ci95_hi", "delivered_t")] / 1e6
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
        lines.append(f"  {'year':<6}{'demand Mt':>10}{'delivered Mt':>14}{'95% CI':>16}  {'bottleneck':<22}"
                     f"{'transit p50/p95 days':>21}")
        for _, r in g.iterrows():
            ci = ("" if pd.isna(r.delivered_ci95_lo_mt)
                  else f"{r.delivered_ci95_lo_mt:.2f}–{r.delivered_ci95_hi_mt:.2f}")
            share = "" if pd.isna(r.bottleneck_share) else f" ({r.bottleneck_share:.0%})"
            lines.append(f"  {int(r.year):<6}{r.demand_mt:>10.2f}{r.delivered_mt:>14.2f}{ci:>16}  "
                         f"{(r.bottleneck + share):<22}{r.transit_p50_days:>10.1f} / {r.transit_p95_days:<8.1f}")
    return "\n".join(lines)
