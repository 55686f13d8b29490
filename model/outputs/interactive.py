"""Interactive versions of the report's key charts (plotly, embedded offline in the one
report.html): hover to read a year's value and interval, click a legend entry to hide a
scenario. The PNGs stay for print; these are drawn from the same tidy tables.

plotly.js is embedded once, in the first chart, so the page works without a network.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from model.analysis.stats import t_interval

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


def charts_html(t: dict[str, pd.DataFrame], names: dict[str, str]) -> list[str]:
    """The interactive charts as HTML fragments, plotly.js inlined in the first."""
    figs = [delivered_chart(t["corridor"], t["bound"]), utilisation_chart(t["annual_nodes"], names)]
    return [f.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
            for i, f in enumerate(figs)]
