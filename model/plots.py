"""Matplotlib figures from tidy tables only (never from simulation objects).

Every node keeps one colour in every figure (its position in the scenario's
node order picks it from a qualitative palette), titles say scenario and
years, axes carry units.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .nodes import kind_of  # noqa: E402


def node_colours(nodes: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab20")
    return {n: cmap(i % 20) for i, n in enumerate(nodes)}


def _years(df: pd.DataFrame) -> str:
    return f"{int(df['year'].min())}–{int(df['year'].max())}"


def throughput_vs_capacity(nodes: pd.DataFrame, title: str, path: Path) -> None:
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
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False, sharex=True)
    for ax, n in zip(axes.flat, have_cap):
        for i, sc in enumerate(scen):
            g = mean[(mean["node"] == n) & (mean["scenario"] == sc)]
            x = g["year"] + (i - (len(scen) - 1) / 2) * width
            ax.bar(x, g["throughput_t"] / 1e6, width=width, color=cmap(i), alpha=0.75,
                   label=f"{sc}: throughput" if len(scen) > 1 else "throughput")
            ax.plot(g["year"], g["capacity_t"] / 1e6, color=cmap(i) if len(scen) > 1 else "black",
                    marker="os^Dv<>p"[i % 8], ms=max(5 - i, 2), lw=max(1.8 - 0.4 * i, 0.8),
                    label=f"{sc}: capacity" if len(scen) > 1 else "capacity")
        ax.set_title(n, fontsize=10)
        ax.set_ylabel("Mt per year")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(have_cap):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"{title}: throughput vs available capacity, {_years(nodes)}", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------- batch figures


def _scenarios(df: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(df["scenario"]))


def _all_nodes(t: dict[str, pd.DataFrame]) -> list[str]:
    return list(dict.fromkeys(t["annual_nodes"]["node"]))


def _panels(n: int, width: float = 5.0, height: float = 3.8, sharey: bool = True):
    fig, axes = plt.subplots(1, n, figsize=(width * n + 1.5, height), squeeze=False, sharey=sharey)
    return fig, list(axes.flat)


def bottleneck_chart(t: dict[str, pd.DataFrame], path: Path, min_share: float = 0.02) -> None:
    """Per scenario and year, one bar per node: sole share (solid) with its shifting
    share (hatched) stacked on top; nodes that are never a bottleneck are left out."""
    ap = t["active_periods"]
    colours = node_colours(_all_nodes(t))
    mean = ap.groupby(["scenario", "year", "node"])[["sole_share", "shifting_share"]].mean().reset_index()
    peak = (mean["sole_share"] + mean["shifting_share"]).groupby(mean["node"]).max()
    nodes = [n for n in _all_nodes(t) if peak.get(n, 0) >= min_share]
    scen = _scenarios(ap)
    fig, axes = _panels(len(scen), width=5.5)
    width = 0.8 / max(len(nodes), 1)
    for ax, s in zip(axes, scen):
        g = mean[mean["scenario"] == s]
        years = sorted(g["year"].unique())
        x = np.arange(len(years))
        for i, n in enumerate(nodes):
            gn = g[g["node"] == n].set_index("year").reindex(years).fillna(0)
            xi = x - 0.4 + width * (i + 0.5)
            sole = gn["sole_share"].to_numpy() * 100
            ax.bar(xi, sole, width, color=colours[n], label=f"{n}: sole")
            ax.bar(xi, gn["shifting_share"].to_numpy() * 100, width, bottom=sole, color=colours[n], alpha=0.4,
                   hatch="///", edgecolor="white", label=f"{n}: shifting")
        ax.set_xticks(x, [str(y) for y in years])
        ax.set_ylim(0, 100)
        ax.set_title(f"{s}, {min(years)}–{max(years)}", fontsize=10)
        ax.set_xlabel("year")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("share of the year (%)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    fig.suptitle("Corridor-wide bottlenecks (active-period method over all nodes: parallel flows mixed; see\n"
                 "flow_summary.csv for each flow): sole (solid) and shifting (hatched) shares of each year",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.82, 0.90))
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
        ax.set_yticks(range(len(order)), order)
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
    from .stats import t_interval

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
    fig.tight_layout()
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
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def waiting_by_node(t: dict[str, pd.DataFrame], path: Path, min_wait_h: float = 1.0) -> None:
    """Mean wait before service per node and year, one panel per scenario (log scale)."""
    nodes_df = t["annual_nodes"]
    colours = node_colours(_all_nodes(t))
    mean = nodes_df.groupby(["scenario", "node", "year"])["waiting_mean_h"].mean().reset_index()
    big = mean.groupby("node")["waiting_mean_h"].max()
    nodes = [n for n in _all_nodes(t) if big.get(n, 0) >= min_wait_h]
    scen = _scenarios(nodes_df)
    fig, axes = _panels(len(scen))
    for ax, s in zip(axes, scen):
        g = mean[mean["scenario"] == s]
        for n in nodes:
            gn = g[g["node"] == n]
            ax.plot(gn["year"], gn["waiting_mean_h"].clip(lower=0.1), marker="o", color=colours[n], label=n)
        ax.set_yscale("log")
        ax.set_title(s, fontsize=10)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("mean wait before service (h, log scale)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8, frameon=False)
    fig.suptitle(f"Waiting in front of each node (nodes with a mean wait of {min_wait_h:g} h or more), "
                 f"{_years(nodes_df)}", fontsize=11)
    fig.tight_layout(rect=(0, 0, 0.86, 0.95))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def transit_distributions(t: dict[str, pd.DataFrame], path: Path) -> None:
    """Distribution of corridor transit times per scenario (all replications pooled)."""
    h = t["transit_hist"]
    cmap = plt.get_cmap("tab10")
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for i, s in enumerate(_scenarios(h)):
        g = h[h["scenario"] == s].groupby(["bin_lo_days", "bin_hi_days"])["count"].sum().reset_index()
        total = g["count"].sum()
        if total == 0:
            continue
        cdf = np.cumsum(g["count"].to_numpy()) / total
        p50 = g["bin_hi_days"].to_numpy()[np.searchsorted(cdf, 0.5)]
        p95 = g["bin_hi_days"].to_numpy()[min(np.searchsorted(cdf, 0.95), len(cdf) - 1)]
        ax.step(g["bin_hi_days"], cdf * 100, where="post", color=cmap(i),
                label=f"{s} (p50 ≈ {p50:.1f} d, p95 ≈ {p95:.0f} d)")
    ax.set_xscale("log")
    ax.set_xlabel("transit time, Kazakh port to end of the last modelled node (days, log scale)")
    ax.set_ylabel("share of shipments delivered within (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(f"Transit-time distribution, corridor cargo, {_years(t['corridor'])}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _place_labels(fig, ax, pos: dict[str, tuple[float, float]], labels: dict[str, str],
                  fontsize: float = 7, marker_px: float = 12) -> None:
    """Put each node's label in the first corner (upper right, lower right, upper
    left, lower left) where it covers no other marker and no label already placed,
    so close nodes (Aktau and its oil terminal) stay readable."""
    fig.canvas.draw()  # fixes the axis limits so data -> pixel transforms are final
    px = fig.dpi / 72
    xy = {n: ax.transData.transform(p) for n, p in pos.items()}
    placed: list[tuple[float, float, float, float]] = []
    for n, text in labels.items():
        lines = text.split("\n")
        w, h = 0.62 * fontsize * px * max(map(len, lines)), 1.25 * fontsize * px * len(lines)
        off = 7 * px
        x, y = xy[n]
        boxes = []
        for sx, sy in [(1, 1), (1, -1), (-1, 1), (-1, -1)]:
            x0 = x + off if sx > 0 else x - off - w
            y0 = y + off if sy > 0 else y - off - h
            boxes.append(((sx, sy), (x0, y0, x0 + w, y0 + h)))

        def clear(b: tuple[float, float, float, float]) -> bool:
            hits_marker = any(b[0] - marker_px < mx < b[2] + marker_px and b[1] - marker_px < my < b[3] + marker_px
                              for m, (mx, my) in xy.items() if m != n)
            hits_label = any(b[0] < q[2] and q[0] < b[2] and b[1] < q[3] and q[1] < b[3] for q in placed)
            return not (hits_marker or hits_label)

        (sx, sy), box = next(((c, b) for c, b in boxes if clear(b)), boxes[0])
        placed.append(box)
        ax.annotate(text, pos[n], xytext=(7 * sx, 7 * sy), textcoords="offset points", fontsize=fontsize,
                    ha="left" if sx > 0 else "right", va="bottom" if sy > 0 else "top")


def corridor_schematic(t: dict[str, pd.DataFrame], path: Path, year: int | None = None) -> None:
    """Nodes at their rough geographic places, coloured by utilisation in one year."""
    net, edges, nodes_df = t["network_nodes"], t["network_edges"], t["annual_nodes"]
    year = year or int(nodes_df["year"].max())
    scen = _scenarios(nodes_df)
    fig, axes = plt.subplots(1, len(scen), figsize=(6.2 * len(scen) + 1, 5.4), squeeze=False)
    cmap = plt.get_cmap("RdYlGn_r")
    for ax, s in zip(axes.flat, scen):
        pos_df = net[net["scenario"] == s].dropna(subset=["lon", "lat"])
        pos = {r.node: (r.lon, r.lat) for r in pos_df.itertuples()}
        util = nodes_df[(nodes_df["scenario"] == s) & (nodes_df["year"] == year)].groupby("node")["utilization"].mean()
        for e in edges[edges["scenario"] == s].itertuples():
            if e.from_node in pos and e.to_node in pos:
                (x0, y0), (x1, y1) = pos[e.from_node], pos[e.to_node]
                ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                            arrowprops=dict(arrowstyle="->", color="grey", lw=1.2, shrinkA=9, shrinkB=9))
        for n, (x, y) in pos.items():
            u = util.get(n, np.nan)
            colour = "lightgrey" if np.isnan(u) else cmap(u)
            kind = pos_df.loc[pos_df["node"] == n, "kind"].iloc[0]
            marker = kind_of(kind).marker
            ax.scatter([x], [y], s=260, c=[colour], marker=marker, edgecolors="black", zorder=3)
        ax.set_title(f"{s}, {year}", fontsize=10)
        ax.set_xlabel("longitude (°E)")
        ax.set_ylabel("latitude (°N)")
        ax.grid(alpha=0.2)
        ax.margins(0.15)
        labels = {n: n if np.isnan(util.get(n, np.nan)) else f"{n}\n{util[n]:.0%}" for n in pos}
        _place_labels(fig, ax, pos, labels)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, 1))
    fig.colorbar(sm, ax=list(axes.flat), label="utilisation (grey: not defined, e.g. borders)")
    fig.suptitle("Corridor schematic (■ port, ● sea link, ◆ rail, ⬢ pipeline, ▲ border)", fontsize=11)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def batch_plots(t: dict[str, pd.DataFrame], folder: Path, year: int | None = None) -> list[Path]:
    """The comparison figures of a batch (or of a single run)."""
    folder.mkdir(parents=True, exist_ok=True)
    figs = [
        ("bottlenecks.png", bottleneck_chart),
        ("utilisation_heatmap.png", utilisation_panels),
        ("delivered_vs_demand.png", delivered_vs_demand),
        ("delivered_fan.png", delivered_fan),
        ("waiting_by_node.png", waiting_by_node),
        ("transit_distribution.png", transit_distributions),
    ]
    paths = []
    for name, fn in figs:
        fn(t, folder / name)
        paths.append(folder / name)
    if "network_nodes" in t:
        corridor_schematic(t, folder / "corridor_schematic.png", year)
        paths.append(folder / "corridor_schematic.png")
    throughput_vs_capacity(t["annual_nodes"], ", ".join(_scenarios(t["annual_nodes"])), folder / "throughput_vs_capacity.png")
    paths.append(folder / "throughput_vs_capacity.png")
    return paths


# ------------------------------------------------------------- sweep figures


def _short(path: str) -> str:
    return path.split(".", 1)[-1] if path.count(".") > 1 else path


def sweep_plots(summary: pd.DataFrame, design: str, folder: Path, title: str) -> list[Path]:
    """Heatmap (two parameters), tornado (one-at-a-time) or line with CI band (one parameter),
    one figure per measure."""
    folder.mkdir(parents=True, exist_ok=True)
    params = [c for c in summary.columns if c.startswith("param:")]
    paths = []
    for measure, g in summary.groupby("measure", sort=False):
        path = folder / f"{measure}.png"
        if design == "oat":
            _tornado(g, params, measure, title, path)
        elif len(params) == 1:
            _line_ci(g, params[0], measure, title, path)
        elif len(params) == 2 and design == "grid":
            _heatmap2(g, params, measure, title, path)
        else:
            _scatter(g, params[:2], measure, title, path)
        paths.append(path)
    return paths


def _line_ci(g: pd.DataFrame, p: str, measure: str, title: str, path: Path) -> None:
    g = g.sort_values(p)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.plot(g[p], g["mean"], marker="o", color="tab:blue", label="mean")
    ax.fill_between(g[p].astype(float), g["ci95_lo"], g["ci95_hi"], color="tab:blue", alpha=0.2, label="95% CI")
    ax.set_xlabel(_short(p.removeprefix("param:")))
    ax.set_ylabel(measure)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{title}: {measure}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _heatmap2(g: pd.DataFrame, params: list[str], measure: str, title: str, path: Path) -> None:
    piv = g.pivot_table(index=params[0], columns=params[1], values="mean")
    fig, ax = plt.subplots(figsize=(1.2 * piv.shape[1] + 3, 0.8 * piv.shape[0] + 2))
    im = ax.imshow(piv.to_numpy(dtype=float), cmap="viridis", aspect="auto", origin="lower")
    ax.set_xticks(range(piv.shape[1]), [str(c) for c in piv.columns])
    ax.set_yticks(range(piv.shape[0]), [str(i) for i in piv.index])
    for i in range(piv.shape[0]):
        for j in range(piv.shape[1]):
            ax.text(j, i, f"{piv.iat[i, j]:.3g}", ha="center", va="center", fontsize=8, color="white")
    ax.set_xlabel(_short(params[1].removeprefix("param:")))
    ax.set_ylabel(_short(params[0].removeprefix("param:")))
    fig.colorbar(im, ax=ax, label=f"{measure} (mean over replications)")
    ax.set_title(f"{title}: {measure}")
    fig.tight_layout()
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
        bars.append((_short(p.removeprefix("param:")), lo, hi, p))
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
    ax.set_xlabel(f"change in {measure} (mean over replications) from the base point ({base['mean']:.3g})")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.margins(x=0.15)
    ax.set_title(f"{title}: one-at-a-time sensitivity of {measure}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _scatter(g: pd.DataFrame, params: list[str], measure: str, title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 5))
    sc = ax.scatter(g[params[0]], g[params[1]] if len(params) > 1 else g["mean"], c=g["mean"], cmap="viridis", s=60)
    fig.colorbar(sc, ax=ax, label=f"{measure} (mean)")
    ax.set_xlabel(_short(params[0].removeprefix("param:")))
    if len(params) > 1:
        ax.set_ylabel(_short(params[1].removeprefix("param:")))
    ax.set_title(f"{title}: {measure}")
    fig.tight_layout()
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
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def appraisal_ranking(table: pd.DataFrame, title: str, path: Path) -> None:
    """Ranked investments: present value of benefits (when valued) and cargo gained, each with its 95% paired
    interval; blue where the interval excludes zero, grey where it does not."""
    cols = [("gain_mt", "cargo gained over the horizon (Mt)")]
    if table["pv_benefits_musd"].notna().any():
        cols.insert(0, ("pv_benefits_musd", "present value of benefits (M USD)"))
    labels = [f"{r['rank']}. {r['item']}" + (f" ({r['cost_musd']:,.0f} M USD)" if r["cost_musd"] == r["cost_musd"]
                                             else "") for _, r in table.iterrows()]
    _interval_panels(table, cols, labels, title, path)


def cost_of_delay(table: pd.DataFrame, delay_months: float, title: str, path: Path) -> None:
    """What one month of delay of each investment costs, in cargo (and NPV where valued),
    from a delay of ``delay_months``; in rank order."""
    cols = [("delay_cost_mt_per_month", "cargo lost per month of delay (Mt)")]
    if table["delay_cost_musd_per_month"].notna().any():
        cols.append(("delay_cost_musd_per_month", "NPV lost per month of delay (M USD)"))
    labels = [f"{r['rank']}. {r['item']}" for _, r in table.iterrows()]
    _interval_panels(table, cols, labels, f"{title}\n(from a {delay_months:g}-month delay of each)", path)


def morris_chart(sens: pd.DataFrame, title: str, trajectories: int, folder: Path) -> list[Path]:
    """Per measure: each parameter's Morris mu* (mean absolute elementary effect over its
    range) with its 95% bootstrap interval, largest first; sigma as a dot (high sigma:
    the effect depends on the other parameters, or is not linear)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for measure, g in sens.groupby("measure", sort=False):
        g = g.sort_values("mu_star", ascending=True)
        fig, ax = plt.subplots(figsize=(8, 0.5 * len(g) + 1.8))
        y = np.arange(len(g))
        ax.barh(y, g["mu_star"], xerr=g["mu_star_conf"], color="#2b6cb0", ecolor="#333", capsize=3, label="mu*")
        ax.plot(g["sigma"], y, "o", color="#c05621", label="sigma")
        ax.set_yticks(y, [_short(p) for p in g["parameter"]])
        ax.set_xlabel(f"{measure}: effect of moving each parameter across its range")
        ax.grid(axis="x", alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_title(f"{title}: which input drives {measure}\n(Morris elementary effects, {trajectories} trajectories)",
                     fontsize=10)
        fig.tight_layout()
        path = folder / f"sensitivity_{measure}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
