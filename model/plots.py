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


def node_colours(nodes: list[str]) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab20")
    return {n: cmap(i % 20) for i, n in enumerate(nodes)}


def _years(df: pd.DataFrame) -> str:
    return f"{int(df['year'].min())}–{int(df['year'].max())}"


def throughput_vs_capacity(nodes: pd.DataFrame, title: str, path: Path) -> None:
    """Small multiples: mean throughput (bars) and available capacity (line) per node and year."""
    order = list(dict.fromkeys(nodes["node"]))
    have_cap = [n for n in order if nodes.loc[nodes["node"] == n, "capacity_t"].notna().any()]
    colours = node_colours(order)
    mean = nodes.groupby(["node", "year"])[["throughput_t", "capacity_t"]].mean().reset_index()
    cols = 3
    rows = int(np.ceil(len(have_cap) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), squeeze=False, sharex=True)
    for ax, n in zip(axes.flat, have_cap):
        g = mean[mean["node"] == n]
        ax.bar(g["year"], g["throughput_t"] / 1e6, color=colours[n], label="throughput")
        ax.plot(g["year"], g["capacity_t"] / 1e6, color="black", marker="o", lw=1.5, label="capacity")
        ax.set_title(n, fontsize=10)
        ax.set_ylabel("Mt per year")
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[len(have_cap):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"{title}: throughput vs available capacity, {_years(nodes)}", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def utilisation_heatmap(nodes: pd.DataFrame, title: str, path: Path) -> None:
    """Node x year heatmap of mean utilisation (busy share of available servers)."""
    order = [n for n in dict.fromkeys(nodes["node"]) if nodes.loc[nodes["node"] == n, "utilization"].notna().any()]
    piv = nodes.groupby(["node", "year"])["utilization"].mean().unstack("year").reindex(order)
    fig, ax = plt.subplots(figsize=(1.1 * piv.shape[1] + 3, 0.45 * len(order) + 1.8))
    im = ax.imshow(piv.to_numpy(), cmap="RdYlGn_r", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(piv.shape[1]), [str(c) for c in piv.columns])
    ax.set_yticks(range(len(order)), order)
    for i in range(piv.shape[0]):
        for j in range(piv.shape[1]):
            v = piv.iat[i, j]
            if not np.isnan(v):
                ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=8,
                        color="white" if v > 0.8 or v < 0.15 else "black")
    fig.colorbar(im, ax=ax, label="utilisation (share of available capacity busy)")
    ax.set_title(f"{title}: utilisation by node and year, {_years(nodes)}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_plots(t: dict[str, pd.DataFrame], title: str, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / "throughput_vs_capacity.png", folder / "utilisation_heatmap.png"]
    throughput_vs_capacity(t["annual_nodes"], title, paths[0])
    utilisation_heatmap(t["annual_nodes"], title, paths[1])
    return paths
