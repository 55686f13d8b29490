"""What a person reads: the printed summary, and the plots and report.html of a folder.

Everything here reads a :class:`model.results.Results` and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from .results import Results


def format_summary(summary: pd.DataFrame) -> str:
    lines = []
    for scn, g in summary.groupby("scenario", sort=False):
        lines.append(f"Scenario {scn}: corridor cargo (background traffic excluded), mean of replications")
        has_bound = "bound_mt" in g.columns
        has_lost = "lost_mt" in g.columns and bool((g["lost_mt"].fillna(0) > 0).any())
        lines.append(f"  {'year':<6}{'demand Mt':>10}{'delivered Mt':>14}{'95% CI':>16}"
                     + (f"{'lost Mt':>9}{'95% CI':>14}" if has_lost else "")
                     + (f"{'bound Mt':>10}" if has_bound else "")
                     + f"  {'bottleneck':<22}{'transit p50/p95 days':>21}")
        for _, r in g.iterrows():
            ci = ("" if pd.isna(r.delivered_ci95_lo_mt)
                  else f"{r.delivered_ci95_lo_mt:.2f}–{r.delivered_ci95_hi_mt:.2f}")
            share = "" if pd.isna(r.bottleneck_share) else f" ({r.bottleneck_share:.0%})"
            bound = "" if not has_bound else f"{'':>10}" if pd.isna(r.bound_mt) else f"{r.bound_mt:>10.2f}"
            lost = ""
            if has_lost:
                lci = "" if pd.isna(r.lost_ci95_lo_mt) else f"{r.lost_ci95_lo_mt:.2f}–{r.lost_ci95_hi_mt:.2f}"
                lost = f"{r.lost_mt:>9.2f}{lci:>14}"
            lines.append(f"  {int(r.year):<6}{r.demand_mt:>10.2f}{r.delivered_mt:>14.2f}{ci:>16}{lost}{bound}  "
                         f"{(r.bottleneck + share):<22}{r.transit_p50_days:>10.1f} / {r.transit_p95_days:<8.1f}")
    return "\n".join(lines)


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


def format_results(results: "Results") -> str:
    """The printed summary of a run or batch: the yearly table of every scenario,
    then (batches) the paired differences against the first."""
    text = format_summary(results.corridor_summary)
    if len(results.scenarios) > 1 and not results.differences.empty:
        text += "\n\n" + format_differences(results.differences)
    return text


def write_outputs(folder: Path, results: "Results", year: int | None = None) -> list[Path]:
    """Plots and report.html into ``folder``; returns the plot files."""
    from .html import write_html_report
    from .plots import batch_plots

    plots = batch_plots(results.tables(), Path(folder) / "plots", year)
    write_html_report(Path(folder) / "report.html", results, plots, title=" vs ".join(results.names))
    return plots
