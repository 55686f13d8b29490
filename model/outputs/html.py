"""A self-contained HTML report: summary tables and the plots embedded as data URIs."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from typing import TYPE_CHECKING

import pandas as pd

from model.outputs.interactive import INTERACTIVE, charts, plotly_script
from model.analysis.measures import label
from model.outputs.report import node_display_names, display, headline, interval_text
from model.scenario.diff import changed_inputs

if TYPE_CHECKING:  # pragma: no cover
    from model.outputs.results import Results
    from model.scenario.schema import Scenario

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em} h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd} h3{font-size:1.05em}
.wide{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0} th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left} td:last-child,th:last-child{text-align:left}
.text td{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5em 0} .note{color:#555;font-size:.9em}
.answer{font-size:1.1em;background:#f0f6ff;padding:.6em 1em;border-left:4px solid #2b6cb0}
.answer p{margin:.4em 0}
"""

CAPTIONS = {
    "bottlenecks.png": "What binds each flow along its own route, year by year (active-period method per flow): "
                       "parallel flows are never ranked against each other.",
    "utilisation_heatmap.png": "Busy share of what each node has available.",
    "delivered_vs_demand.png": "What the corridor delivers against what is offered, with 95% confidence bands.",
    "delivered_fan.png": "The spread of cargo delivered over replications (P10-P90, P25-P75, median): simulation "
                         "noise, and for a scenario with uncertain inputs, their uncertainty too.",
    "waiting_by_node.png": "Where cargo waits: mean wait before service at each node.",
    "transit_distribution.png": "How long shipments take from where they enter the model (the Chinese border for "
                                "China-origin cargo, else the Kazakh port) to the end of the modelled route, "
                                "per commodity.",
    "monthly.png": "When in the year the corridor jams: the tonnes waiting at the nodes with the longest queues, by "
                   "calendar month (a line per period of the horizon), against the days they are closed by storms or "
                   "disruptions (bars); the monthly_nodes and monthly_streams tables hold every node and stream.",
    "corridor_map.png": "The corridor on a map, one row per scenario: centred on the Caspian crossing where it jams, "
                        "with an inset of Baku/Alat and the Kazakh land leg at a small scale; links and ports "
                        "coloured by utilisation in the last year; ★ marks where more capacity would raise the "
                        "capacity bound.",
    "differences.png": "What each compared scenario changes against the reference, per year: the mean of the "
                       "paired differences (same seeds) with its 95% interval.",
    "throughput_vs_capacity.png": "Throughput against available capacity, node by node; each scenario in its own colour.",
}


def needs_png(name: str) -> bool:
    """Is the figure of this file name shown in the report as its PNG (not as an interactive chart)?"""
    return name not in INTERACTIVE


def embedded_png(path: Path) -> str:
    """A PNG embedded in the page, reduced to 256 colours (a third of the bytes, and no
    difference a reader sees on a chart); the file in plots/ keeps every colour."""
    from PIL import Image

    buf = io.BytesIO()
    with Image.open(path) as im:
        im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            buf, "PNG", optimize=True)
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def _headers(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Column labels with units from the registry, instead of snake_case names."""
    return df.rename(columns={c: label(c, table) for c in df.columns})


def _table(df: pd.DataFrame, text: bool = False) -> str:
    """A table that scrolls inside its own box when wider than the page (``text``: every
    column left-aligned, for tables of words)."""
    return (f"<div class='wide{' text' if text else ''}'>" + df.to_html(index=False, na_rep="–", escape=True)
            + "</div>")


def _round(df: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    return df.apply(lambda c: c.round(digits) if c.dtype.kind == "f" else c)


def _mt_band(df: pd.DataFrame, mean: str, lo: str, hi: str) -> list[str]:
    return [f"{m:.2f}" + (f" [{a:.2f}, {b:.2f}]" if a == a else "") for m, a, b in zip(df[mean], df[lo], df[hi])]


def _corridor_table(c: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({
        "Year": c["year"], "Demand (Mt)": c["demand_mt"].round(2),
        "Delivered (Mt) [95% CI]": _mt_band(c, "delivered_mt", "delivered_ci95_lo_mt", "delivered_ci95_hi_mt"),
        "Lost to other routes (Mt) [95% CI]": _mt_band(c, "lost_mt", "lost_ci95_lo_mt", "lost_ci95_hi_mt"),
        "Capacity bound (Mt)": c["bound_mt"].round(2),
        "Transit p50 / p95 (days)": [f"{a:.1f} / {b:.1f}" for a, b in zip(c["transit_p50_days"], c["transit_p95_days"])],
        "What binds each flow": [display(t, names) for t in c["binding_by_flow"]],
    })


def _commodity_table(g: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({
        "Year": g["year"], "Demand (Mt)": g["demand_mt"].round(2),
        "Delivered (Mt) [95% CI]": _mt_band(g, "delivered_mt", "delivered_ci95_lo_mt", "delivered_ci95_hi_mt"),
        "Lost to other routes (Mt)": g["lost_mt"].round(2),
        "Transit p50 / p95 (days)": [f"{a:.1f} / {b:.1f}" for a, b in zip(g["transit_p50_days"], g["transit_p95_days"])],
        "From port p50 (days)": g["port_transit_p50_days"].round(1),
        "Binds": [display(t, names) for t in g["binding"]],
    })


def _scenarios_section(results: "Results") -> list[str]:
    """Each scenario's description, and what it changes against the reference (the first)."""
    ref = results.scenarios[0]
    parts = ["<h2>The scenarios</h2>", "<ul>"]
    parts += [f"<li><b>{html.escape(s.name)}</b>: {html.escape(s.description or '(no description)')}</li>"
              for s in results.scenarios]
    parts.append("</ul>")
    for s in results.scenarios[1:]:
        parts.append(f"<h3>What {html.escape(s.name)} changes against {html.escape(ref.name)}</h3>")
        parts.append(_table(what_changes(ref, s), text=True) if changed_inputs(ref, s)
                     else "<p class='note'>Nothing: the same inputs (another seed or another run).</p>")
    return parts


def what_changes(reference: "Scenario", other: "Scenario") -> pd.DataFrame:
    """The inputs ``other`` changes against ``reference`` as rows of field, before, after
    (from :func:`model.scenario.diff.changed_inputs`)."""
    return pd.DataFrame(changed_inputs(reference, other),
                        columns=["Field", f"Before ({reference.name})", f"After ({other.name})"])


def _band(mean: float, lo: float, hi: float, fmt: str = "{:+.3f}") -> str:
    """ "+0.007 [-0.011, +0.025]"; with one replication "+0.007 (1 replication)", never "[nan, nan]"."""
    if mean != mean:
        return "–"
    return fmt.format(mean) + (f" [{fmt.format(lo)}, {fmt.format(hi)}]" if lo == lo and hi == hi
                               else " (1 replication)")


def differences_table(d: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """The paired differences as a person reads them: a row per year, a column per compared
    scenario and measure, each cell "mean [95% CI]" (see :func:`_band`)."""
    what = {"delivered_mt": "delivered (Mt)", "transit_p50_days": "median transit (days)"}
    out = pd.DataFrame({"Year": sorted(d["year"].unique())})
    for s in [x for x in order if x in set(d["scenario"])]:
        for m, name in what.items():
            g = d[(d["scenario"] == s) & (d["measure"] == m)].set_index("year").reindex(out["Year"])
            if g["measure"].notna().any():
                out[f"{s} minus {g['reference'].dropna().iloc[0]}: {name}"] = [
                    _band(a, lo, hi) for a, lo, hi in zip(g["mean_difference"], g["ci95_lo"], g["ci95_hi"])]
    return out


def _differences_section(results: "Results", chart: str | None) -> list[str]:
    d = results.differences
    if d.empty:
        return []
    pairs = int(d["n"].max())
    return ["<h2>Differences against the reference scenario (paired by replication)</h2>",
            "<p class='note'>Each compared scenario minus the first, replication by replication on the same seeds "
            "(common random numbers), so the noise they share cancels; an interval that excludes 0 is a "
            f"difference the replications can tell from noise ({pairs} pairs per year).</p>",
            *([chart] if chart else []), _table(differences_table(d, results.names))]


def _per_commodity_section(results: "Results", names: dict[str, str]) -> list[str]:
    cs = results.commodity_summary
    if cs.empty:
        return []
    parts = ["<h2>Per commodity</h2>", "<p class='note'>Each commodity travels its own chain (wagons by rail ferry, "
             "containers by feeder, oil by tanker), so each has its own binding node and transit time.</p>"]
    for c, g in cs.groupby("commodity", sort=True):
        parts.append(f"<h3>{html.escape(str(c).capitalize())}</h3>")
        for s in results.names:
            if len(results.scenarios) > 1:
                parts.append(f"<p class='note'>{html.escape(s)}</p>")
            parts.append(_table(_commodity_table(g[g["scenario"] == s], names)))
    return parts


def write_html_report(path: Path, results: "Results", plots: list[Path], title: str,
                      images: dict[str, str] | None = None) -> None:
    """report.html: the answer in plain sentences, the scenarios and what each changes, the
    corridor per year, the paired differences, per commodity and per flow, capacity values,
    then the charts, each once: interactive where hovering for a value and its interval helps
    (``interactive.INTERACTIVE``), else the PNG of ``plots``; every number with its unit,
    tables scrolling inside their box. ``images``: the PNGs already embedded (:func:`embedded_png`) by
    file name; the others are embedded here."""
    images = images or {}
    names = node_display_names(results)
    reps = results.corridor["replication"].nunique()
    live = charts(results.tables(), names)
    intervals = ("Intervals are 95% Student-t intervals over replications." if reps > 1 else
                 "With one replication there is no interval (shown as – or “(1 replication)”): run 2 or more "
                 "for 95% intervals.")
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_CSS}</style>{plotly_script()}</head><body>",
             f"<h1>Caspian corridor: {html.escape(title)}</h1>",
             "<div class='answer'>" + "".join(f"<p>{html.escape(t)}</p>" for t in headline(results)) + "</div>",
             f"<p class='note'>{reps} replication{'s' if reps != 1 else ''} per scenario with common random numbers. "
             f"Corridor cargo excludes background traffic. {intervals}</p>"]
    parts += _scenarios_section(results)
    cs = results.corridor_summary
    for s in results.names:
        parts.append(f"<h2>Corridor cargo per year: {html.escape(s)}</h2>")
        parts.append(_table(_corridor_table(cs[cs["scenario"] == s], names)))
    parts += _differences_section(results, live.pop("differences", None))
    parts += _per_commodity_section(results, names)
    flows = results.flow_summary
    if not flows.empty:
        year = int(flows["year"].max())
        f = flows[flows["year"] == year].drop(columns=["year"])
        f = _round(pd.concat([f[f["scenario"] == s] for s in results.names]))
        f["binding"] = [display(t, names) for t in f["binding"]]
        f["binding_share"] = [f"{v:.0%}" if v == v else "–" for v in f["binding_share"]]
        parts.append(f"<h2>Per flow in {year}: what binds along each route</h2>"
                     "<p class='note'>Each stream is judged along its own route by the active-period method; 'both "
                     "binding' when two of its nodes are saturated nearly all year. Every year: flow_summary.csv.</p>")
        parts.append(_table(_headers(f, "flow_summary")))
    cv = results.capacity_values
    if not cv.empty:
        year = int(cv["year"].max())
        g = cv[(cv["year"] == year) & (cv["bound_gain_t"] > 0)]
        g = pd.concat([g[g["scenario"] == s].sort_values("bound_gain_t", ascending=False) for s in results.names])
        if not g.empty:
            parts.append(f"<h2>Where more capacity would help, {year}</h2><p class='note'>What 10% more capacity at "
                         "one node alone adds to the static capacity bound (a ceiling for what the simulation would "
                         "deliver; `appraise --marginal` measures it). Every other node: +0.</p>")
            parts.append(_table(pd.DataFrame({
                "Scenario": g["scenario"], "Node": [names.get(n, n) for n in g["node"]],
                "Capacity (Mt)": (g["capacity_t"] / 1e6).round(2), "Bound gain (Mt)": (g["bound_gain_t"] / 1e6).round(2),
                "Shadow price (t per t)": g["shadow_price"].round(2)})))
    parts.append("<h2>Charts</h2><p class='note'>Each chart once: interactive ones (hover for a year's value and "
                 "interval, click a legend entry to hide it) are also in plots/ as PNG for print.</p>")
    for p in plots:
        key = INTERACTIVE.get(p.name)
        if key == "differences":
            continue  # shown with the differences table
        parts.append(f"<h3>{html.escape(p.stem.replace('_', ' ').capitalize())}</h3>")
        parts.append(f"<p class='note'>{html.escape(CAPTIONS.get(p.name, ''))}</p>")
        parts.append(live.pop(key) if key in live else images.get(p.name) or embedded_png(p))
    parts += list(live.values())  # without PNGs (--no-figures): the interactive charts all the same
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
                         plots: list[Path], note: str, rates: pd.DataFrame | None = None) -> None:
    """The appraisal report: the answer, the ranked table, what is surprising about each
    figure in words, the NPV at other discount rates, the charts, the greedy programme,
    and how it was computed."""
    economic = bool(table["pv_benefits_musd"].notna().any())
    drop = ["by", "note"]
    if not table["stopped"].astype(bool).any():  # not appraise --precision
        drop += ["stopped", "controls", "variance_reduction"]
    if not (table["rank_announced"] > 0).any():
        drop += ["npv_announced_musd", "npv_announced_musd_lo", "npv_announced_musd_hi", "rank_announced"]
    if not economic:
        drop += [c for c in table.columns if c.startswith(("pv_", "npv", "bcr", "break_even", "delay_cost_musd"))
                 or c == "p_first"]
    shown = _with_intervals(table.drop(columns=drop), "appraisal")
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
    if table["gain_mt_lo"].isna().all():
        parts.append("<p class='note'>1 replication: no interval.</p>")
    notes = [(r["item"], r["note"]) for _, r in table.iterrows() if r["note"]]
    if notes:
        parts += ["<h2>What the figures say</h2><ul>"] + \
            [f"<li><b>{html.escape(i)}</b>: {html.escape(n)}.</li>" for i, n in notes] + ["</ul>"]
    if rates is not None and not rates.empty:
        wide = _with_intervals(rates, "appraisal_rates")
        parts += ["<h2>At other discount rates</h2>",
                  "<p class='note'>The same simulated benefits, discounted at each real rate.</p>",
                  wide.to_html(index=False, na_rep="–")]
    for p in plots:
        parts.append(f"<h2>{html.escape(p.stem.replace('_', ' ').capitalize())}</h2>{embedded_png(p)}")
    if sequence is not None and not sequence.empty:
        parts += ["<h2>A programme, funded greedily</h2>",
                  "<p class='note'>Starting from the scenario without any costed investment, each step funds the "
                  "one that adds most per million USD given those funded before it (re-simulated at each step).</p>",
                  _with_intervals(sequence, "appraisal_sequence").to_html(index=False, na_rep="–")]
    parts.append("<p class='note'>Method, and what it cannot tell: docs/appraisal.md.</p></body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
