"""Interactive versions of the report's charts with intervals (plotly, embedded offline in the
one report.html): hover to read a year's value and interval, click a legend entry to hide a
scenario. The report shows these instead of their PNGs (each chart once); the PNGs stay in
plots/ for print; both are drawn from the same tidy tables.

plotly.js is embedded once, in the page's head, so the page works without a network.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from model.analysis.stats import t_interval
from model.outputs.corridor_map import short_name

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def delivered_chart(corridor: pd.DataFrame, bound: pd.DataFrame) -> go.Figure:
    """Corridor cargo delivered per year with its 95% band, demand and the capacity bound,
    one colour per scenario (never averaged over scenarios)."""
    fig = go.Figure()
    for i, s in enumerate(dict.fromkeys(corridor["scenario"])):
        c = COLOURS[i % len(COLOURS)]
        rows = [(y, *t_interval(g["delivered_t"].to_numpy() / 1e6), g["demand_t"].mean() / 1e6)
                for y, g in corridor[corridor["scenario"] == s].groupby("year")]
        years = [r[0] for r in rows]
        lo, hi = [r[3] for r in rows], [r[4] for r in rows]
        fig.add_scatter(x=years + years[::-1], y=hi + lo[::-1], fill="toself", fillcolor=c, opacity=0.2,
                        line={"width": 0}, hoverinfo="skip", legendgroup=s, showlegend=False)
        fig.add_scatter(x=years, y=[r[1] for r in rows], name=f"{s}: delivered", legendgroup=s, line={"color": c},
                        mode="lines+markers", customdata=list(zip(lo, hi)),
                        hovertemplate="%{x}: %{y:.2f} Mt [%{customdata[0]:.2f}, %{customdata[1]:.2f}]")
        fig.add_scatter(x=years, y=[r[5] for r in rows], name=f"{s}: demand", legendgroup=s,
                        line={"color": c, "dash": "dash"}, hovertemplate="%{x}: %{y:.2f} Mt offered")
        b = bound[bound["scenario"] == s].groupby("year")["bound_t"].mean() / 1e6
        if not b.empty:
            fig.add_scatter(x=b.index.tolist(), y=b.tolist(), name=f"{s}: capacity bound", legendgroup=s,
                            line={"color": c, "dash": "dot"}, hovertemplate="%{x}: bound %{y:.2f} Mt")
    fig.update_layout(title="Corridor cargo delivered vs demand (95% bands)", yaxis_title="Mt per year",
                      xaxis_title="year", yaxis_rangemode="tozero", height=480, margin={"t": 50})
    return fig


def utilisation_chart(nodes: pd.DataFrame, names: dict[str, str]) -> go.Figure:
    """Utilisation by node and year, a heatmap per scenario from a dropdown."""
    fig = go.Figure()
    scen = list(dict.fromkeys(nodes["scenario"]))
    order = list(dict.fromkeys(nodes.loc[nodes["utilization"].notna(), "node"]))
    for i, s in enumerate(scen):
        piv = (nodes[nodes["scenario"] == s].groupby(["node", "year"])["utilization"].mean().unstack("year")
               .reindex(order))
        fig.add_heatmap(z=(piv.to_numpy() * 100).round(1), x=[str(c) for c in piv.columns],
                        y=[names.get(n, n) for n in order], zmin=0, zmax=100, colorscale="RdYlGn_r",
                        colorbar={"title": "%"}, visible=i == 0, name=s,
                        hovertemplate="%{y}, %{x}: %{z:.0f}% busy<extra>" + s + "</extra>")
    if len(scen) > 1:
        fig.update_layout(updatemenus=[{"buttons": [
            {"label": s, "method": "update", "args": [{"visible": [j == i for j in range(len(scen))]}]}
            for i, s in enumerate(scen)], "x": 1.0, "y": 1.15}])
    fig.update_layout(title="Utilisation by node and year (%)", height=120 + 26 * len(order), margin={"t": 60},
                      yaxis={"autorange": "reversed"})
    return fig


DIFFERENCES = {"delivered_mt": ("Corridor cargo delivered", "Mt"), "transit_p50_days": ("Median transit time", "days")}


def differences_chart(d: pd.DataFrame) -> go.Figure:
    """Paired differences against the reference per year: mean with its 95% interval as an
    error bar, one panel per measure, one colour per compared scenario (filled marker where
    the interval excludes zero)."""
    from plotly.subplots import make_subplots

    measures = [m for m in DIFFERENCES if m in set(d["measure"])]
    fig = make_subplots(rows=1, cols=len(measures), subplot_titles=[f"{DIFFERENCES[m][0]} ({DIFFERENCES[m][1]})"
                                                                     for m in measures])
    for i, s in enumerate(dict.fromkeys(d["scenario"])):
        c = COLOURS[(i + 1) % len(COLOURS)]
        for j, m in enumerate(measures, 1):
            g = d[(d["scenario"] == s) & (d["measure"] == m)].sort_values("year")
            lo, hi, mean = g["ci95_lo"], g["ci95_hi"], g["mean_difference"]
            sure = (lo > 0) | (hi < 0)
            unit = DIFFERENCES[m][1]
            band = [f"[{a:+.3f}, {b:+.3f}]" if a == a else "(1 replication: no interval)" for a, b in zip(lo, hi)]
            fig.add_scatter(x=g["year"], y=mean, mode="markers", name=f"{s} minus {g['reference'].iloc[0]}"
                            if len(g) else s, legendgroup=s, showlegend=j == 1,
                            marker={"color": [c if x else "white" for x in sure], "line": {"color": c, "width": 2},
                                    "size": 9},
                            error_y={"type": "data", "symmetric": False, "array": (hi - mean).tolist(),
                                     "arrayminus": (mean - lo).tolist(), "color": c, "visible": bool(lo.notna().any())},
                            customdata=band, hovertemplate="%{x}: %{y:+.3f} " + unit + " %{customdata}<extra>" + s
                                                           + "</extra>", row=1, col=j)
            fig.add_hline(y=0, line={"color": "#444", "width": 1}, row=1, col=j)
            fig.update_yaxes(title_text=f"difference ({unit})", row=1, col=j)
            fig.update_xaxes(title_text="year", dtick=1, row=1, col=j)
    fig.update_layout(title=f"What each scenario changes against {d['reference'].iloc[0]}, per year (paired by "
                      "replication; bars: 95% interval; filled: it excludes 0)", height=430, margin={"t": 80})
    return fig


INTERACTIVE = {"delivered_vs_demand.png": "delivered", "utilisation_heatmap.png": "utilisation",
               "differences.png": "differences"}
"""The PNG figures the report shows as an interactive chart instead (each chart once)."""


def plotly_script() -> str:
    """plotly.js as one ``<script>`` for the page's head: the charts then work offline, in any
    order on the page (about 4.8 MB, the bulk of a report)."""
    from plotly.offline import get_plotlyjs

    return f"<script type='text/javascript'>{get_plotlyjs()}</script>"


def charts(t: dict[str, pd.DataFrame], names: dict[str, str]) -> dict[str, str]:
    """The interactive charts as HTML fragments by name (see ``INTERACTIVE``), without
    plotly.js (:func:`plotly_script` goes once in the page's head)."""
    figs = {"delivered": delivered_chart(t["corridor"], t["bound"]),
            "utilisation": utilisation_chart(t["annual_nodes"], {n: short_name(m, 44) for n, m in names.items()})}
    if not t["differences"].empty:
        figs["differences"] = differences_chart(t["differences"])
    return {k: f.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
            for k, f in figs.items()}
