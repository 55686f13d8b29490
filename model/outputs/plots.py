"""Matplotlib figures from tidy tables only (never from simulation objects).

Every node keeps one colour in every figure (its position in the scenario's
node order picks it from a qualitative palette), titles say scenario and
years, axes carry units.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.layout_engine import TightLayoutEngine  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from model.outputs.corridor_map import corridor_map, short_name  # noqa: E402
from model.analysis.measures import TABLES  # noqa: E402
from model.analysis.summary import BOTH_BINDING_ACTIVE  # noqa: E402


def _tight(fig: Figure, rect: tuple[float, float, float, float] = (0, 0, 1, 1)) -> None:
    """``fig.tight_layout(rect=rect)``, without leaving a layout engine on the figure: with one (even the
    placeholder tight_layout leaves), saving the figure lays it out once more first, a whole draw whose
    result is thrown away (a third of a large figure's time)."""
    TightLayoutEngine(rect=rect).execute(fig)


def _bars(ax, x, height, width: float, bottom=0.0, label: str | None = None, **style) -> None:
    """``ax.bar(x, height, width, bottom, ...)`` as one collection of rectangles: one artist instead
    of a patch per bar (a figure of 40 panels x 27 years drew its 2,000 patches in seconds), the
    same look; ``label`` names it in a legend, ``style`` is the bars' (color, alpha, hatch, edgecolor)."""
    x, h = np.asarray(x, dtype=float), np.asarray(height, dtype=float)
    b = np.broadcast_to(np.asarray(bottom, dtype=float), h.shape)
    keep = np.isfinite(h) & np.isfinite(x) & np.isfinite(b)
    x, h, b = x[keep], h[keep], b[keep]
    left, right, top = x - width / 2, x + width / 2, b + h
    verts = np.stack([np.column_stack(c) for c in ((left, b), (left, top), (right, top), (right, b))], axis=1)
    colour = style.pop("color")
    edge = style.pop("edgecolor", "none")
    col = PolyCollection(list(verts), facecolors=colour, edgecolors=edge,
                         linewidths=plt.rcParams["patch.linewidth"] if edge != "none" else 0.0, label=label, **style)
    col.sticky_edges.y.append(0.0)  # (as bars: the axis starts at their base)
    ax.add_collection(col, autolim=True)
    ax.autoscale_view()


def node_colours(nodes: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab20")
    return {n: cmap(i % 20) for i, n in enumerate(nodes)}


def _years(df: pd.DataFrame) -> str:
    return f"{int(df['year'].min())}–{int(df['year'].max())}"


def node_names(t: dict[str, pd.DataFrame], width: int = 44) -> dict[str, str]:
    """Display names of nodes for figures: the scenario's ``name:`` without its parenthesis, at most
    ``width`` characters (:func:`model.outputs.corridor_map.short_name`); the id where none is given."""
    net = t.get("network_nodes")
    if net is None or net.empty:
        return {}
    return {n: short_name(str(name), width) for n, name in zip(net["node"], net["name"])
            if isinstance(name, str) and name}


STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v")]
"""(line style, marker) per scenario of a batch, so identical scenarios overlaid stay visible."""


def throughput_vs_capacity(nodes: pd.DataFrame, title: str, path: Path, names: dict[str, str] | None = None) -> None:
    """Write :func:`throughput_figure` to ``path``."""
    fig = throughput_figure(nodes, title, names)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def throughput_figure(nodes: pd.DataFrame, title: str, names: dict[str, str] | None = None):
    """Small multiples, one per node with a capacity: mean throughput (bars) and available
    capacity (line) per year, each scenario of a batch side by side in its own colour
    (never averaged: a line that is open in one scenario and closed in another shows both)."""
    order = list(dict.fromkeys(nodes["node"]))
    have_cap = [n for n in order if nodes.loc[nodes["node"] == n, "capacity_t"].notna().any()]
    scen = _scenarios(nodes)
    cmap = plt.get_cmap("tab10")
    width = 0.8 / len(scen)
    mean = nodes.groupby(["scenario", "node", "year"])[["throughput_t", "capacity_t"]].mean().reset_index()
    cols = 3
    rows = int(np.ceil(len(have_cap) / cols))
    # a fixed layout (margins in inches) instead of tight_layout, which measured every tick label of
    # every panel twice: the panels are alike (one title line, "Mt per year", years below)
    fw, fh = 4.2 * cols, 2.9 * rows + 0.35
    left, right, bottom, top, gap_w, gap_h = 0.75, 0.15, 0.45, 0.75, 0.7, 0.55
    aw, ah = (fw - left - right - gap_w * (cols - 1)) / cols, (fh - bottom - top - gap_h * (rows - 1)) / rows
    fig, axes = plt.subplots(rows, cols, figsize=(fw, fh), squeeze=False, gridspec_kw=dict(
        left=left / fw, right=1 - right / fw, bottom=bottom / fh, top=1 - top / fh, wspace=gap_w / aw, hspace=gap_h / ah))
    # the same years on every panel, set on each rather than shared (sharing the x axis of 40 panels made
    # every tick update look at all of them: most of the figure's time): the bars' extent and matplotlib's
    # 5 % margin; the years written under the lowest panel of each column
    lo_year, hi_year = float(mean["year"].min()), float(mean["year"].max())
    pad = 0.4 + 0.05 * (hi_year - lo_year + 0.8)
    for k, (ax, n) in enumerate(zip(axes.flat, have_cap)):
        ax.set_xlim(lo_year - pad, hi_year + pad)
        if k + cols < len(have_cap):
            ax.tick_params(labelbottom=False)
        for i, sc in enumerate(scen):
            g = mean[(mean["node"] == n) & (mean["scenario"] == sc)]
            x = g["year"] + (i - (len(scen) - 1) / 2) * width
            _bars(ax, x, g["throughput_t"] / 1e6, width, color=cmap(i), alpha=0.75,
                  label=f"{sc}: throughput" if len(scen) > 1 else "throughput")
            ax.plot(g["year"], g["capacity_t"] / 1e6, color=cmap(i) if len(scen) > 1 else "black",
                    marker="os^Dv<>p"[i % 8], ms=max(5 - i, 2), lw=max(1.8 - 0.4 * i, 0.8),
                    label=f"{sc}: capacity" if len(scen) > 1 else "capacity")
        ax.set_title((names or {}).get(n, n), fontsize=9)
        ax.set_ylabel("Mt per year")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(have_cap):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"{title}: throughput vs available capacity, {_years(nodes)}", fontsize=12, y=1 - 0.2 / fh)
    return fig


# ------------------------------------------------------------- batch figures


def _scenarios(df: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(df["scenario"]))


def _all_nodes(t: dict[str, pd.DataFrame]) -> list[str]:
    return list(dict.fromkeys(t["annual_nodes"]["node"]))


def _panels(n: int, width: float = 5.0, height: float = 3.8, sharey: bool = True):
    fig, axes = plt.subplots(1, n, figsize=(width * n + 1.5, height), squeeze=False, sharey=sharey)
    return fig, list(axes.flat)


def _flow_shares(fb: pd.DataFrame) -> pd.DataFrame:
    """Mean sole/shifting/active shares per scenario, flow, year and node; where two or
    more nodes of a flow are active nearly all year (``BOTH_BINDING_ACTIVE``), they are
    flagged ``both`` and their bar is their active share (the split between them is the
    accident of which saturated first, not a share of time)."""
    m = fb.groupby(["scenario", "stream", "year", "node"], sort=False)[
        ["sole_share", "shifting_share", "active_share"]].mean().reset_index()
    m["both"] = False
    full = m["active_share"] >= BOTH_BINDING_ACTIVE
    n_full = full.groupby([m["scenario"], m["stream"], m["year"]]).transform("sum")
    both = full & (n_full >= 2)
    m.loc[both, "both"] = True
    m.loc[both, "sole_share"] = m.loc[both, "active_share"]
    m.loc[both, "shifting_share"] = 0.0
    return m


def _legend_columns(fig: Figure, n: int) -> int:
    """Columns for a figure-wide legend of ``n`` node names: as many as fit across the
    figure (a name from :func:`node_names` runs to about 44 characters, 3.4 inches at 8 pt), so none is
    cut off."""
    return max(1, min(n, int(fig.get_figwidth() // 3.4)))


def bottleneck_chart(t: dict[str, pd.DataFrame], path: Path, min_share: float = 0.02) -> None:
    """What binds along each flow's route (the active-period method per flow, so parallel
    flows are never ranked against each other): one row of panels per corridor stream, one
    column per scenario; per year one bar per node of the route, its sole share (solid) with
    its shifting share (light) on top; cross-hatched where several nodes bind all year."""
    fb = t["flow_bottlenecks"]
    if fb.empty:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, "no corridor stream has a node with a bottleneck share", ha="center")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return
    m = _flow_shares(fb)
    names, colours = node_names(t), node_colours(_all_nodes(t))
    peak = (m["sole_share"] + m["shifting_share"]).groupby(m["node"]).max()
    nodes = [n for n in _all_nodes(t) if peak.get(n, 0) >= min_share]
    flows, scen = list(dict.fromkeys(fb["stream"])), _scenarios(fb)
    years = sorted(m["year"].unique())
    fig, axes = plt.subplots(len(flows), len(scen), figsize=(5.2 * len(scen) + 3.2, 1.9 * len(flows) + 1.2),
                             squeeze=False, sharex=True, sharey=True)
    for (r, f), (c, s) in ((rf, cs) for rf in enumerate(flows) for cs in enumerate(scen)):
        ax = axes[r][c]
        g = m[(m["scenario"] == s) & (m["stream"] == f)]
        on = [n for n in nodes if n in set(g["node"])]
        width = 0.8 / max(len(on), 1)
        x = np.arange(len(years))
        for i, n in enumerate(on):
            gn = g[g["node"] == n].set_index("year").reindex(years)
            xi = x - 0.4 + width * (i + 0.5)
            sole = gn["sole_share"].fillna(0).to_numpy() * 100
            both = gn["both"].fillna(False).to_numpy(dtype=bool)
            _bars(ax, xi[~both], sole[~both], width, color=colours[n], label=names.get(n, n))
            if both.any():
                _bars(ax, xi[both], sole[both], width, color=colours[n], hatch="xx", edgecolor="white")
            _bars(ax, xi, gn["shifting_share"].fillna(0).to_numpy() * 100, width, bottom=sole, color=colours[n],
                  alpha=0.35)
        ax.set_ylim(0, 100)
        ax.set_xticks(x, [str(y) for y in years], fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        ax.set_title(f"{f} ({g['node'].nunique()} nodes on its route) - {s}" if len(scen) > 1 else
                     f"{f}", fontsize=9)
        if c == 0:
            ax.set_ylabel("% of the year", fontsize=8)
    handles: dict[str, Artist] = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    ncol = _legend_columns(fig, len(handles))
    fig.legend(list(handles.values()), list(handles.keys()), loc="lower center", ncol=ncol, fontsize=8, frameon=False)
    fig.suptitle(f"What binds each flow, {years[0]}–{years[-1]} ({', '.join(scen)}): the bottleneck share of the "
                 "year along each route\n(solid: sole; light: shifting; cross-hatched: saturated all year together "
                 "with another node of the route, both binding)", fontsize=10)
    legend_in = 0.2 * int(np.ceil(len(handles) / max(ncol, 1))) + 0.1
    _tight(fig, rect=(0, legend_in / fig.get_figheight(), 1, 1 - 0.6 / fig.get_figheight()))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def utilisation_panels(t: dict[str, pd.DataFrame], path: Path) -> None:
    """Node x year utilisation heatmaps, one panel per scenario, same node order and scale."""
    nodes_df = t["annual_nodes"]
    order = [n for n in _all_nodes(t) if nodes_df.loc[nodes_df["node"] == n, "utilization"].notna().any()]
    scen = _scenarios(nodes_df)
    fig, axes = plt.subplots(1, len(scen), figsize=(0.9 * nodes_df["year"].nunique() * len(scen) + 4,
                                                    0.42 * len(order) + 2), squeeze=False, sharey=True)
    im = None
    for ax, s in zip(axes.flat, scen):
        g = nodes_df[nodes_df["scenario"] == s]
        piv = g.groupby(["node", "year"])["utilization"].mean().unstack("year").reindex(order)
        im = ax.imshow(piv.to_numpy(dtype=float), cmap="RdYlGn_r", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(piv.shape[1]), [str(c) for c in piv.columns], rotation=45)
        ax.set_yticks(range(len(order)), [node_names(t).get(n, n) for n in order])
        for (i, j), v in np.ndenumerate(piv.to_numpy(dtype=float)):
            if not np.isnan(v):
                ax.text(j, i, f"{v * 100:.0f}", ha="center", va="center", fontsize=7,
                        color="white" if v > 0.8 or v < 0.15 else "black")
        ax.set_title(s, fontsize=10)
    assert im is not None  # plt.subplots made at least one panel
    fig.colorbar(im, ax=list(axes.flat), label="utilisation (%/100)")
    fig.suptitle(f"Utilisation by node and year (%), {_years(nodes_df)}", fontsize=11)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def delivered_vs_demand(t: dict[str, pd.DataFrame], path: Path) -> None:
    """Corridor delivered (line, 95% CI band), demand (dashed) and the capacity bound
    (dotted, where computed), scenarios overlaid."""
    from model.analysis.stats import t_interval

    corr = t["corridor"]
    scen = _scenarios(corr)
    cmap = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(9, 5))
    for i, s in enumerate(scen):
        g = corr[corr["scenario"] == s]
        rows = [(y, *t_interval(gy["delivered_t"].to_numpy() / 1e6), gy["demand_t"].mean() / 1e6)
                for y, gy in g.groupby("year")]
        ys = np.array([r[0] for r in rows])
        m = np.array([r[1] for r in rows])
        lo = np.array([r[3] for r in rows])
        hi = np.array([r[4] for r in rows])
        dem = np.array([r[5] for r in rows])
        # distinct markers and thinning lines keep identical scenarios visible on top of each other
        ax.plot(ys, m, marker="os^Dv<>p"[i % 8], ms=max(7 - 1.5 * i, 3), lw=max(2.5 - 0.6 * i, 1),
                color=cmap(i), label=f"{s}: delivered")
        if np.isfinite(lo).any():
            ax.fill_between(ys, lo, hi, color=cmap(i), alpha=0.2)
        ax.plot(ys, dem, ls="--", color=cmap(i), alpha=0.8, label=f"{s}: demand")
        if "bound" in t and not t["bound"].empty:
            b = t["bound"][t["bound"]["scenario"] == s].groupby("year")["bound_t"].mean() / 1e6
            ax.plot(b.index, b.to_numpy(), ls=":", color=cmap(i), alpha=0.8, label=f"{s}: capacity bound")
    ax.set_xlabel("year")
    ax.set_ylabel("Mt per year (corridor cargo)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    ax.set_title(f"Corridor cargo delivered vs demand, 95% CI bands, {_years(corr)}")
    _tight(fig)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def delivered_fan(t: dict[str, pd.DataFrame], path: Path) -> None:
    """Fan chart, one panel per scenario: P10-P90 and P25-P75 bands and the median of
    corridor cargo delivered per year over replications (which spread over both the
    simulation's noise and, for a scenario with ``uncertainty:``, its uncertain inputs),
    with demand's median dashed."""
    corr = t["corridor"]
    scen = _scenarios(corr)
    fig, axes = _panels(len(scen), width=5.5, height=4.0)
    for ax, s in zip(axes, scen):
        g = corr[corr["scenario"] == s].groupby("year")
        q = g["delivered_t"].quantile([0.1, 0.25, 0.5, 0.75, 0.9]).unstack() / 1e6
        ys = q.index.to_numpy()
        ax.fill_between(ys, q[0.1], q[0.9], color="#2b6cb0", alpha=0.18, label="P10-P90")
        ax.fill_between(ys, q[0.25], q[0.75], color="#2b6cb0", alpha=0.3, label="P25-P75")
        ax.plot(ys, q[0.5], color="#2b6cb0", marker="o", ms=4, label="median")
        ax.plot(ys, g["demand_t"].median() / 1e6, ls="--", color="#555", label="demand (median)")
        n = corr.loc[corr["scenario"] == s, "replication"].nunique()
        ax.set_title(f"{s} ({n} replications)", fontsize=10)
        ax.set_xlabel("year")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("Mt per year (corridor cargo)")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Corridor cargo delivered: spread over replications, {_years(corr)}")
    _tight(fig)
    fig.savefig(path, dpi=110)
    plt.close(fig)


WAIT_FLOOR_H = 0.1
"""The bottom of the log axis of waits (6 minutes): a mean wait below it is drawn as an open
marker on the axis's floor, never as if it were this value."""


def waiting_by_node(t: dict[str, pd.DataFrame], path: Path, min_wait_h: float = 1.0) -> None:
    """Mean wait before service per node and year, one panel per scenario (log scale); nodes
    whose mean wait reaches ``min_wait_h`` in some year of some scenario. A year below
    ``WAIT_FLOOR_H`` is an open marker on the floor of the axis, not a point of the line."""
    nodes_df = t["annual_nodes"]
    colours = node_colours(_all_nodes(t))
    names = node_names(t)
    mean = nodes_df.groupby(["scenario", "node", "year"])["waiting_mean_h"].mean().reset_index()
    big = mean.groupby("node")["waiting_mean_h"].max()
    nodes = [n for n in _all_nodes(t) if big.get(n, 0) >= min_wait_h]
    scen = _scenarios(nodes_df)
    fig, axes = _panels(len(scen), width=6.0, height=4.2)
    floor_seen = False
    for ax, s in zip(axes, scen):
        g = mean[mean["scenario"] == s]
        for n in nodes:
            gn = g[g["node"] == n]
            w = gn["waiting_mean_h"].to_numpy(dtype=float)
            low = w < WAIT_FLOOR_H
            ax.plot(gn["year"], np.where(low, np.nan, w), marker="o", color=colours[n], label=names.get(n, n))
            if low.any():
                floor_seen = True
                ax.scatter(gn["year"][low], np.full(int(low.sum()), WAIT_FLOOR_H), marker="v", s=36,
                           facecolors="none", edgecolors=colours[n], clip_on=False, zorder=3)
        ax.set_yscale("log")
        ax.set_ylim(bottom=WAIT_FLOOR_H)
        ax.set_title(s, fontsize=10)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("mean wait before service (h, log scale)")
    handles, labels = axes[0].get_legend_handles_labels()
    ncol = _legend_columns(fig, len(labels))
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=8, frameon=False)
    floor = f"; ▽ on the floor: below {WAIT_FLOOR_H:g} h (6 minutes)" if floor_seen else ""
    fig.suptitle(f"Waiting in front of each node, {_years(nodes_df)}\n(nodes whose mean wait reaches "
                 f"{min_wait_h:g} h in some year{floor})", fontsize=11)
    legend_in = 0.2 * np.ceil(len(labels) / max(ncol, 1)) + 0.1
    fig.set_figheight(fig.get_figheight() + legend_in)
    _tight(fig, rect=(0, legend_in / fig.get_figheight(), 1, 1 - 0.55 / fig.get_figheight()))
    fig.savefig(path, dpi=110)
    plt.close(fig)


MONTHS = "JFMAMJJASOND"


def _periods(years: list[int], n: int = 3) -> list[tuple[int, int]]:
    """The horizon's years cut into up to ``n`` periods of about equal length."""
    if not years:
        return []
    parts = np.array_split(np.array(sorted(years)), min(n, len(years)))
    return [(int(p[0]), int(p[-1])) for p in parts if len(p)]


def monthly_chart(t: dict[str, pd.DataFrame], path: Path, top: int = 6) -> None:
    """When in the year the corridor jams: for the nodes with the longest queues, the mean queue by calendar
    month (a line per period of the horizon, mean over its years and the replications) and the days closed by
    month (bars: storms and disruptions, mean over all years), one panel per node; the first scenario."""
    mn = t.get("monthly_nodes")
    fig, axes = plt.subplots(2, 3, figsize=(13.5, 7.2), squeeze=False)
    if mn is None or mn.empty:
        for ax in axes.ravel():
            ax.axis("off")
        fig.suptitle("No monthly records in this run")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return
    scen = _scenarios(mn)[0]
    g = mn[mn["scenario"] == scen]
    names = node_names(t)
    colours = node_colours(_all_nodes(t))
    rank = g.groupby("node")["queue_mean_t"].mean().sort_values(ascending=False)
    closed = g.groupby("node")["hours_closed"].sum()
    nodes = [n for n in rank.index if rank[n] > 0][:top]
    nodes += [n for n in closed.sort_values(ascending=False).index if closed[n] > 0 and n not in nodes][:top - len(nodes)]
    periods = _periods(sorted(g["year"].unique()))
    styles = ["-", "--", ":"]
    for ax, n in zip(axes.ravel(), nodes):
        gn = g[g["node"] == n]
        days = gn.groupby("month")["hours_closed"].mean().reindex(range(1, 13), fill_value=0.0) / 24.0
        twin = ax.twinx()
        twin.bar(range(1, 13), days.to_numpy(), color="0.85", width=0.7, zorder=0)
        twin.set_ylim(0, max(31.0, float(days.max()) * 1.1))
        twin.set_ylabel("days closed (bars)", fontsize=8, color="0.4")
        twin.tick_params(labelsize=7, colors="0.4")
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
        for (a, b), ls in zip(periods, styles):
            q = gn[(gn["year"] >= a) & (gn["year"] <= b)].groupby("month")["queue_mean_t"].mean()
            q = q.reindex(range(1, 13)) / 1e3
            ax.plot(range(1, 13), q.to_numpy(), ls, marker="o", ms=3, color=colours.get(n, "k"),
                    label=f"{a}–{b}" if a != b else str(a))
        ax.set_xticks(range(1, 13), list(MONTHS))
        ax.set_title(textwrap.fill(names.get(n, n), 40), fontsize=9)
        ax.set_ylabel("mean queue (kt)", fontsize=8)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", frameon=False)
    for ax in axes.ravel()[len(nodes):]:
        ax.axis("off")
    fig.suptitle(f"When in the year the corridor jams ({scen}): tonnes waiting by month, per period of the horizon "
                 "(lines),\nand days closed by storms or disruptions (bars, mean over the years)", fontsize=11)
    _tight(fig, rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cdf_line(ax, g: pd.DataFrame, i: int, s: str) -> None:
    """One scenario's transit-time CDF from pooled histogram counts, p50/p95 in the label."""
    g = g.groupby(["bin_lo_days", "bin_hi_days"])["count"].sum().reset_index()
    total = g["count"].sum()
    if total == 0:
        return
    cdf = np.cumsum(g["count"].to_numpy()) / total
    p50 = g["bin_hi_days"].to_numpy()[np.searchsorted(cdf, 0.5)]
    p95 = g["bin_hi_days"].to_numpy()[min(np.searchsorted(cdf, 0.95), len(cdf) - 1)]
    ls, marker = STYLES[i % len(STYLES)]
    ax.step(g["bin_hi_days"], cdf * 100, where="post", color=plt.get_cmap("tab10")(i), ls=ls,
            lw=max(2.2 - 0.5 * i, 1), label=f"{s} (p50 ≈ {p50:.1f} d, p95 ≈ {p95:.0f} d)")


def transit_distributions(t: dict[str, pd.DataFrame], path: Path) -> None:
    """Transit-time distribution (CDF) per commodity, one panel each plus all corridor
    cargo; scenarios in their own colour and line style (all replications pooled)."""
    h = t["transit_hist"]
    commodities = sorted(h["commodity"].dropna().unique()) if "commodity" in h else []
    groups = [("all corridor cargo", h)] + [(c, h[h["commodity"] == c]) for c in commodities]
    cols = min(len(groups), 2)
    rows = int(np.ceil(len(groups) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 3.6 * rows + 0.6), squeeze=False, sharey=True)
    for ax in list(axes.flat)[len(groups):]:
        ax.axis("off")
    for ax, (what, hg) in zip(axes.flat, groups):
        for i, s in enumerate(_scenarios(h)):
            _cdf_line(ax, hg[hg["scenario"] == s], i, s)
        ax.set_xscale("log")
        ax.set_xlim(0.5, max(float(hg.loc[hg["count"] > 0, "bin_hi_days"].max()) * 1.5, 10) if (hg["count"] > 0).any()
                    else 100)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3, which="both")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="lower right")
        else:
            ax.text(0.5, 0.5, "nothing delivered", ha="center", transform=ax.transAxes)
        ax.set_title(what, fontsize=10)
        ax.set_xlabel("transit time (days, log scale)")
    for row in axes:
        row[0].set_ylabel("delivered within (%)")
    fig.suptitle("Transit time from where cargo enters (the Chinese border for China-origin containers, else "
                 f"the Kazakh port) to the end of the modelled route, {_years(t['corridor'])}", fontsize=10)
    _tight(fig, rect=(0, 0, 1, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)


DIFFERENCE_MEASURES = {"delivered_mt": "corridor cargo delivered (Mt)",
                       "transit_p50_days": "median transit time (days)"}
"""The measures of the differences table, as the differences chart names its panels."""


def differences_figure(d: pd.DataFrame):
    """Paired differences against the reference, per year: the mean difference with its 95%
    interval (Student-t over replications paired on common random numbers), one panel per
    measure, each compared scenario in its own colour and marker; filled where the interval
    excludes zero. With one replication there is no interval: the points stand alone and the
    title says so."""
    measures = [m for m in DIFFERENCE_MEASURES if m in set(d["measure"])]
    scen = _scenarios(d)
    fig, axes = plt.subplots(1, len(measures), figsize=(6.2 * len(measures), 4.4), squeeze=False)
    cmap = plt.get_cmap("tab10")
    single = bool(d["ci95_lo"].isna().all())
    for ax, m in zip(axes[0], measures):
        g = d[d["measure"] == m]
        for i, s in enumerate(scen):
            gs = g[g["scenario"] == s].sort_values("year")
            x = gs["year"].to_numpy(dtype=float) + (i - (len(scen) - 1) / 2) * 0.8 / max(len(scen), 1)
            mean = gs["mean_difference"].to_numpy(dtype=float)
            lo, hi = gs["ci95_lo"].to_numpy(dtype=float), gs["ci95_hi"].to_numpy(dtype=float)
            err = np.vstack([mean - lo, hi - mean])
            colour, marker = cmap(i + 1), STYLES[i % len(STYLES)][1]
            ax.errorbar(x, mean, yerr=None if single else err, fmt="none", ecolor=colour, elinewidth=1.6, capsize=4)
            sure = (lo > 0) | (hi < 0)
            ax.scatter(x[sure], mean[sure], color=colour, marker=marker, s=42, zorder=3)
            ax.scatter(x[~sure], mean[~sure], facecolors="white", edgecolors=colour, marker=marker, s=42, zorder=3)
            ax.plot([], [], ls="none", marker=marker, color=colour, label=f"{s} minus {g['reference'].iloc[0]}")
        ax.axhline(0, color="#444", lw=0.9)
        ax.set_xticks(sorted(g["year"].unique()))
        ax.set_xlabel("year")
        ax.set_ylabel(f"difference in {DIFFERENCE_MEASURES[m]}")
        ax.set_title(DIFFERENCE_MEASURES[m][0].upper() + DIFFERENCE_MEASURES[m][1:], fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="best")
    pairs = int(d["n"].max()) if len(d) else 0
    how = ("1 replication: no interval" if single else
           f"mean and 95% interval over {pairs} paired replications; filled: the interval excludes 0")
    fig.suptitle(f"What each scenario changes against {d['reference'].iloc[0]}, per year ({how})", fontsize=11)
    _tight(fig, rect=(0, 0, 1, 0.95))
    return fig


def differences_chart(t: dict[str, pd.DataFrame], path: Path) -> None:
    """Write :func:`differences_figure` of ``t["differences"]`` to ``path``."""
    fig = differences_figure(t["differences"])
    fig.savefig(path, dpi=110)
    plt.close(fig)


@dataclass(frozen=True)
class FigureJob:
    """One PNG of a run folder: ``draw(*args)`` writes ``path``. Jobs are independent of each other
    (each its own figure from the tables), so they can be drawn in any order or process; ``cost`` is
    its rough drawing time in seconds on the 2050 baseline (the dearest start first on a pool)."""

    path: Path
    draw: Callable[..., None]
    args: tuple
    cost: float = 1.0

    def __call__(self) -> Path:
        self.draw(*self.args)
        return self.path


def figure_jobs(t: dict[str, pd.DataFrame], folder: Path, year: int | None = None) -> list[FigureJob]:
    """The comparison figures of a batch (or of a single run), in the report's order; ``folder`` is
    created."""
    folder.mkdir(parents=True, exist_ok=True)
    figs: list[tuple[str, Callable[..., None], float]] = [
        ("bottlenecks.png", bottleneck_chart, 1.9),
        ("utilisation_heatmap.png", utilisation_panels, 1.4),
        ("delivered_vs_demand.png", delivered_vs_demand, 0.1),
        ("delivered_fan.png", delivered_fan, 0.1),
        ("waiting_by_node.png", waiting_by_node, 0.3),
        ("transit_distribution.png", transit_distributions, 0.4),
        ("monthly.png", monthly_chart, 0.7),
    ]
    if "differences" in t and not t["differences"].empty:
        figs.insert(3, ("differences.png", differences_chart, 0.3))
    jobs = [FigureJob(folder / name, fn, (t, folder / name), cost) for name, fn, cost in figs]
    if "network_nodes" in t:
        jobs.append(FigureJob(folder / "corridor_map.png", corridor_map, (t, folder / "corridor_map.png", year), 1.6))
    jobs.append(FigureJob(folder / "throughput_vs_capacity.png", throughput_vs_capacity,
                          (t["annual_nodes"], ", ".join(_scenarios(t["annual_nodes"])),
                           folder / "throughput_vs_capacity.png", node_names(t)), 2.7))
    return jobs


def batch_plots(t: dict[str, pd.DataFrame], folder: Path, year: int | None = None) -> list[Path]:
    """The comparison figures of a batch (or of a single run), drawn here one after the other."""
    return [job() for job in figure_jobs(t, folder, year)]


# ------------------------------------------------------------- sweep figures


_SCALED_UNITS = {("t", 1e-6): "Mt", ("t", 1e-3): "kt", ("share", 100.0): "%"}


def measure_label(m: object, names: dict[str, str] | None = None) -> str:
    """A sweep measure as an axis reads it, from the registry's label of the column it reads
    and the measure's selection: "Delivered (Mt), corridor cargo, 2029–2030 summed",
    "Throughput (t), TRIPP Kars-Igdir-Dilucu, 2030". ``m`` has a sweep measure's fields
    (table, column, year, years, node, stream, agg, scale); ``names``: node display names."""
    table, column = getattr(m, "table"), getattr(m, "column")
    try:
        col = TABLES[table].column(column)
    except KeyError:
        return str(getattr(m, "name", column))
    scale = float(getattr(m, "scale", 1.0))
    text = col.label
    scaled = _SCALED_UNITS.get((col.unit, scale))
    if scale != 1.0:
        text = (text.replace(f"({col.unit})", f"({scaled})") if f"({col.unit})" in text
                else f"{text} ({scaled})") if scaled else f"{text} × {scale:g}"
    node, stream = getattr(m, "node", None), getattr(m, "stream", None)
    where = (short_name((names or {}).get(node, node), 40) if node else stream if stream
             else "corridor cargo" if table == "corridor" else f"all of {table.replace('_', ' ')}")
    agg = "summed" if getattr(m, "agg", "sum") == "sum" else "averaged"
    year, years = getattr(m, "year", None), getattr(m, "years", None)
    if years:
        ys = sorted(years)
        span = f"{ys[0]}–{ys[-1]}" if ys == list(range(ys[0], ys[-1] + 1)) else ", ".join(map(str, ys))
        when = f"{span} {agg}" if len(ys) > 1 else span
    else:
        when = str(year) if year is not None else f"all years {agg}"
    return f"{text}, {where}, {when}"


def parameter_label(param: str) -> str:
    """A swept scenario path as an axis reads it: its last two parts, underscores as spaces
    ("delays.projects.tripp_armenia_open.months" reads "tripp armenia open: months")."""
    parts = param.removeprefix("param:").replace("_", " ").split(".")
    return ": ".join(parts[-2:])


def sweep_plots(summary: pd.DataFrame, design: str, folder: Path, title: str, measures: list | None = None,
                names: dict[str, str] | None = None) -> list[Path]:
    """Heatmap (two parameters), tornado (one-at-a-time) or line with CI band (one parameter),
    one figure per measure (file named after the measure; axes labelled by
    :func:`measure_label` when the sweep's ``measures`` are given)."""
    folder.mkdir(parents=True, exist_ok=True)
    params = [c for c in summary.columns if c.startswith("param:")]
    labels = {getattr(m, "name"): measure_label(m, names) for m in measures or []}
    paths = []
    for measure, g in summary.groupby("measure", sort=False):
        path = folder / f"{measure}.png"
        what = labels.get(str(measure), str(measure))
        if design == "oat":
            _tornado(g, params, what, title, path)
        elif len(params) == 1:
            _line_ci(g, params[0], what, title, path)
        elif len(params) == 2 and design == "grid":
            _heatmap2(g, params, what, title, path)
        else:
            _scatter(g, params[:2], what, title, path)
        paths.append(path)
    return paths


def _line_ci(g: pd.DataFrame, p: str, measure: str, title: str, path: Path) -> None:
    g = g.sort_values(p)
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    ax.plot(g[p], g["mean"], marker="o", color="tab:blue", label="mean over replications")
    if g["ci95_lo"].notna().any():
        ax.fill_between(g[p].astype(float), g["ci95_lo"], g["ci95_hi"], color="tab:blue", alpha=0.2, label="95% CI")
    ax.set_xlabel(parameter_label(p))
    ax.set_ylabel(textwrap.fill(measure, 42), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{title}:\n{measure}", fontsize=10)
    _tight(fig)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _heatmap2(g: pd.DataFrame, params: list[str], measure: str, title: str, path: Path) -> None:
    piv = g.pivot_table(index=params[0], columns=params[1], values="mean")
    fig, ax = plt.subplots(figsize=(1.2 * piv.shape[1] + 3.5, 0.8 * piv.shape[0] + 2.2))
    im = ax.imshow(piv.to_numpy(dtype=float), cmap="viridis", aspect="auto", origin="lower")
    ax.set_xticks(range(piv.shape[1]), [str(c) for c in piv.columns])
    ax.set_yticks(range(piv.shape[0]), [str(i) for i in piv.index])
    for i in range(piv.shape[0]):
        for j in range(piv.shape[1]):
            ax.text(j, i, f"{piv.iat[i, j]:.3g}", ha="center", va="center", fontsize=8, color="white")
    ax.set_xlabel(parameter_label(params[1]))
    ax.set_ylabel(parameter_label(params[0]))
    fig.colorbar(im, ax=ax, label=textwrap.fill(f"{measure} (mean over replications)", 40))
    ax.set_title(f"{title}:\n{measure}", fontsize=10)
    _tight(fig)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _tornado(g: pd.DataFrame, params: list[str], measure: str, title: str, path: Path) -> None:
    """One bar pair per parameter: the change in the measure from the base point when
    the parameter alone is at its lowest and at its highest tested value (labelled),
    widest first. The differences are of means over replications (see summary.csv
    for each point's interval)."""
    base = g.iloc[0]  # the design's first point is the base point
    bars = []
    for p in params:
        others = [q for q in params if q != p]
        sel = g[(g[others] == base[others]).all(axis=1)] if others else g
        sel = sel.sort_values(p)
        lo, hi = sel.iloc[0], sel.iloc[-1]
        bars.append((parameter_label(p), lo, hi, p))
    bars.sort(key=lambda b: abs(b[2]["mean"] - b[1]["mean"]))
    fig, ax = plt.subplots(figsize=(8.5, 0.7 * len(bars) + 2))
    for i, (name, lo, hi, p) in enumerate(bars):
        for row, colour, label in ((lo, "tab:blue", "parameter at its lowest value"),
                                   (hi, "tab:orange", "parameter at its highest value")):
            d = row["mean"] - base["mean"]
            ax.barh(i, d, color=colour, alpha=0.85, label=label if i == 0 else None)
            ax.annotate(f"{row[p]:g}", (d, i), xytext=(4 if d >= 0 else -4, 0), textcoords="offset points",
                        ha="left" if d >= 0 else "right", va="center", fontsize=8)
    ax.set_yticks(range(len(bars)), [b[0] for b in bars])
    ax.axvline(0, color="black", lw=1)
    ax.set_xlabel(textwrap.fill(f"change in {measure} (mean over replications) from the base point "
                                f"({base['mean']:.3g})", 90))
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.margins(x=0.15)
    ax.set_title(f"{title}: one-at-a-time sensitivity of\n{measure}", fontsize=10)
    _tight(fig)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _scatter(g: pd.DataFrame, params: list[str], measure: str, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7.5, 5))
    sc = ax.scatter(g[params[0]], g[params[1]] if len(params) > 1 else g["mean"], c=g["mean"], cmap="viridis", s=60)
    fig.colorbar(sc, ax=ax, label=textwrap.fill(f"{measure} (mean)", 40))
    ax.set_xlabel(parameter_label(params[0]))
    if len(params) > 1:
        ax.set_ylabel(parameter_label(params[1]))
    ax.set_title(f"{title}:\n{measure}", fontsize=10)
    _tight(fig)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _interval_bars(ax, table: pd.DataFrame, col: str, labels: list[str]) -> None:
    """Horizontal bars of ``col`` with its 95% interval as whiskers, first at the top."""
    y = np.arange(len(table))[::-1]
    mean = table[col].to_numpy(dtype=float)
    lo, hi = table[f"{col}_lo"].to_numpy(dtype=float), table[f"{col}_hi"].to_numpy(dtype=float)
    err = np.vstack([np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)])
    sure = (lo > 0) | (hi < 0)
    ax.barh(y, mean, xerr=err, color=np.where(sure, "#2b6cb0", "#a0aec0"), ecolor="#333", capsize=3)
    ax.set_yticks(y, labels)
    ax.axvline(0, color="#666", lw=0.8)
    ax.grid(axis="x", alpha=0.3)


def _interval_panels(table: pd.DataFrame, cols: list[tuple[str, str]], labels: list[str], title: str,
                     path: Path) -> None:
    """One panel of interval bars per (column, axis label), rows in the table's order."""
    fig, axes = plt.subplots(1, len(cols), figsize=(6.2 * len(cols), 0.42 * len(table) + 1.8), squeeze=False,
                             sharey=True)
    for ax, (col, xlabel) in zip(axes[0], cols):
        _interval_bars(ax, table, col, labels)
        ax.set_xlabel(xlabel)
    fig.suptitle(title)
    _tight(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def appraisal_ranking(table: pd.DataFrame, title: str, path: Path) -> None:
    """Ranked investments: NPV (when valued; items without a cost show their break-even
    cost instead) and cargo gained, each with its 95% paired interval; blue where the
    interval excludes zero, grey where it does not."""
    cols = [("gain_mt", "cargo gained over the horizon (Mt)")]
    if table["pv_benefits_musd"].notna().any():
        cols.insert(0, ("npv_musd", "NPV (M USD)" + ("; no bar: no cost given" if (table["rank"] == 0).any() else "")))
        if (table["rank"] == 0).any():
            cols.insert(1, ("break_even_cost_musd", "break-even capital cost (M USD)"))
    labels = [f"{r['rank'] or '–'}. {r['item']}" + (f" ({r['cost_musd']:,.0f} M USD)" if r["cost_musd"] == r["cost_musd"]
                                                    else " (no cost)") for _, r in table.iterrows()]
    _interval_panels(table, cols, labels, title, path)


def cost_of_delay(table: pd.DataFrame, delay_months: float, title: str, path: Path) -> None:
    """What one month of delay of each investment costs, in cargo (and NPV where valued:
    benefits and capital both later, residual value at the horizon), from a delay of
    ``delay_months``; in rank order."""
    cols = [("delay_cost_mt_per_month", "cargo lost per month of delay (Mt)")]
    if table["delay_cost_musd_per_month"].notna().any():
        cols.append(("delay_cost_musd_per_month", "NPV lost per month of delay (M USD)"))
    labels = [f"{r['rank'] or '–'}. {r['item']}" for _, r in table.iterrows()]
    _interval_panels(table, cols, labels, f"{title}\n(from a {delay_months:g}-month delay of each)", path)


def rank_probabilities(ranks: pd.DataFrame, table: pd.DataFrame, title: str, path: Path) -> None:
    """Each ranked item's probability of each rank by NPV over the replications (a row per
    item in rank order; darker = more often)."""
    items = [i for i in table.loc[table["rank"] > 0, "item"]]
    n = len(items)
    m = ranks.pivot(index="item", columns="rank", values="probability").reindex(items).fillna(0.0)
    fig, ax = plt.subplots(figsize=(0.45 * n + 4.5, 0.4 * n + 1.8))
    im = ax.imshow(m.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_yticks(range(n), [f"{i}" for i in items])
    ax.set_xticks(range(m.shape[1]), [str(c) for c in m.columns])
    ax.set_xlabel("rank by NPV")
    for (y, x), v in np.ndenumerate(m.to_numpy()):
        if v > 0:
            ax.text(x, y, f"{v:.1f}", ha="center", va="center", fontsize=7, color="white" if v > 0.6 else "black")
    fig.colorbar(im, ax=ax, fraction=0.03, label="share of replications")
    ax.set_title(title, fontsize=10)
    _tight(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sensitivity_chart(sens: pd.DataFrame, title: str, design: str, folder: Path, measures: list | None = None,
                      names: dict[str, str] | None = None) -> list[Path]:
    """Per measure: each parameter's main index (Morris mu*, the mean absolute elementary effect
    over its range; Sobol' ST, its share of the variance with interactions) with its 95% bootstrap
    interval, largest first; the second index as a dot (Morris sigma: the effect depends on the
    other parameters, or is not linear; Sobol' S1: the share it explains alone). Axes read from
    the measure registry (``measures``) and the scenario's node names (``names``)."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = {getattr(m, "name"): measure_label(m, names) for m in measures or []}
    indices = [c for c in sens.columns if c not in ("measure", "parameter") and not c.endswith("_conf")]
    main, second = indices[0], (indices[1] if len(indices) > 1 else None)
    index_names = {"mu_star": "mu*", "sigma": "sigma", "ST": "total index ST", "S1": "first-order index S1"}
    paths = []
    for measure, g in sens.groupby("measure", sort=False):
        what = labels.get(str(measure), str(measure))
        g = g.sort_values(main, ascending=True)
        fig, ax = plt.subplots(figsize=(8, 0.5 * len(g) + 1.8))
        y = np.arange(len(g))
        conf = g[f"{main}_conf"] if f"{main}_conf" in g else None
        ax.barh(y, g[main], xerr=conf, color="#2b6cb0", ecolor="#333", capsize=3, label=index_names.get(main, main))
        if second is not None:
            ax.plot(g[second], y, "o", color="#c05621", label=index_names.get(second, second))
        ax.set_yticks(y, [parameter_label(p) for p in g["parameter"]])
        ax.set_xlabel(textwrap.fill(f"{what}: " + ("effect of moving each parameter across its range"
                                                     if design == "morris" else "share of its variance"), 90))
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=8)
        kind = {"morris": "Morris elementary effects", "sobol": "Sobol' indices"}.get(design, design)
        ax.set_title(f"{title}: which input drives\n{what}\n({kind})", fontsize=10)
        _tight(fig)
        path = folder / f"sensitivity_{measure}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
