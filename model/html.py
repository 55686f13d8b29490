"""A self-contained HTML report: summary tables and the plots embedded as data URIs."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from typing import TYPE_CHECKING

import pandas as pd

from .measures import label
from .report import interval_text

if TYPE_CHECKING:  # pragma: no cover
    from .results import Results

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1300px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0} th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} .note{color:#555;font-size:.9em}
"""

CAPTIONS = {
    "bottlenecks.png": "Which node holds the corridor back, year by year (active-period method).",
    "utilisation_heatmap.png": "Busy share of what each node has available.",
    "delivered_vs_demand.png": "What the corridor delivers against what is offered, with 95% confidence bands.",
    "delivered_fan.png": "The spread of cargo delivered over replications (P10-P90, P25-P75, median): simulation "
                         "noise, and for a scenario with uncertain inputs, their uncertainty too.",
    "waiting_by_node.png": "Where cargo waits: mean wait before service at each node.",
    "transit_distribution.png": "How long shipments take from the Kazakh port to the end of the modelled route.",
    "corridor_schematic.png": "The corridor, nodes coloured by utilisation in the last year.",
    "throughput_vs_capacity.png": "Throughput against available capacity, node by node; each scenario in its own colour.",
}


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def _headers(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Column labels with units from the registry, instead of snake_case names."""
    return df.rename(columns={c: label(c, table) for c in df.columns})


def write_html_report(path: Path, results: "Results", plots: list[Path], title: str) -> None:
    corridor, diffs = results.corridor_summary, results.differences
    reps = results.corridor["replication"].nunique()
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>Caspian corridor: {html.escape(title)}</h1>",
             f"<p class='note'>{reps} replication(s) per scenario with common random numbers. Corridor cargo "
             "excludes background traffic. Intervals are 95% Student-t intervals over replications.</p>",
             "<h2>Corridor cargo per year</h2>"]
    # the busiest node by utilisation mixes parallel flows: the per-flow table below names what binds
    c = corridor.drop(columns=["bottleneck", "bottleneck_share"]).copy()
    for col in c.columns:
        if c[col].dtype.kind == "f":
            c[col] = c[col].round(2)
    parts.append(_headers(c, "corridor_summary").to_html(index=False, na_rep="–"))
    flows = results.flow_summary
    if not flows.empty:
        year = int(flows["year"].max())
        f = flows[flows["year"] == year].drop(columns=["year"]).copy()
        for col in f.columns:
            if f[col].dtype.kind == "f":
                f[col] = f[col].round(2)
        parts.append(f"<h2>Per flow in {year}: what binds along each route</h2>"
                     "<p class='note'>The corridor is parallel flows (wagons by ferry, containers by feeder, oil by "
                     "tanker): each is judged along its own route by the active-period method; 'both binding' "
                     "when two of its nodes are saturated nearly all year. Every year: flow_summary.csv.</p>")
        parts.append(_headers(f, "flow_summary").to_html(index=False, na_rep="–"))
    if not diffs.empty:
        d = diffs.copy()
        for col in ["mean_difference", "sd", "ci95_lo", "ci95_hi"]:
            d[col] = d[col].round(3)
        parts.append("<h2>Differences against the reference scenario (paired by replication)</h2>")
        parts.append(_headers(d, "differences").to_html(index=False, na_rep="–"))
    for p in plots:
        parts.append(f"<h2>{html.escape(p.stem.replace('_', ' ').capitalize())}</h2>")
        parts.append(f"<p class='note'>{html.escape(CAPTIONS.get(p.name, ''))}</p>{_img(p)}")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")


def _with_intervals(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Readable columns: each measure with its ``_lo``/``_hi`` ends as one "mean [lo, hi]"
    text column, headed by the registry's label; other numbers rounded."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        if col.endswith(("_lo", "_hi")) and col[:-3] in df.columns:
            continue
        if f"{col}_lo" in df.columns:
            digits = (1 if "month" in col else 0) if "musd" in col else 3 if "month" in col else 2
            fmt = f"{{:,.{digits}f}}"
            out[label(col, table)] = [interval_text(row, col, fmt) for _, row in df.iterrows()]
        else:
            out[label(col, table)] = df[col].round(3) if df[col].dtype.kind == "f" else df[col]
    return out


def write_appraisal_html(path: Path, title: str, answer: str, table: pd.DataFrame, sequence: pd.DataFrame | None,
                         plots: list[Path], note: str) -> None:
    """The appraisal report: the one-sentence answer, the ranked table, the charts,
    the greedy programme, and how it was computed."""
    shown = _with_intervals(table.drop(columns=["by"]), "appraisal")
    if (table["investments"] == table["item"]).all():
        shown = shown.drop(columns=[label("investments", "appraisal")])
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_CSS} .answer{{font-size:1.15em;background:#f0f6ff;padding:.8em;border-left:4px solid #2b6cb0}}"
             f"</style></head><body>",
             f"<h1>Which investment first: {html.escape(title)}</h1>",
             f"<p class='answer'>{html.escape(answer)}</p>",
             f"<p class='note'>{html.escape(note)}</p>",
             "<h2>Investments ranked</h2>",
             "<div style='overflow-x:auto'>" + shown.to_html(index=False, na_rep="–") + "</div>"]
    for p in plots:
        parts.append(f"<h2>{html.escape(p.stem.replace('_', ' ').capitalize())}</h2>{_img(p)}")
    if sequence is not None and not sequence.empty:
        parts += ["<h2>A programme, funded greedily</h2>",
                  "<p class='note'>Starting from the scenario without any costed investment, each step funds the "
                  "one that adds most per million USD given those funded before it (re-simulated at each step).</p>",
                  _with_intervals(sequence, "appraisal_sequence").to_html(index=False, na_rep="–")]
    parts.append("<p class='note'>Method, and what it cannot tell: docs/appraisal.md.</p></body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
