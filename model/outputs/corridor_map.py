"""The corridor map: the network on a coastline, links coloured by how busy they are.

The outline is Natural Earth's 1:50m countries clipped to the corridor's region,
shipped with the package (``model/data/caspian_region.json``, built once by
``docs/make_basemap.py``); nothing is downloaded at run time. Countries are land,
and what lies between them (the Caspian, the Black Sea) is water.

Links (sea crossings, railways, the pipeline: kinds with ``link=True``) are drawn
as lines from the nodes before them through their own map point to the nodes
after them; ports and borders as points. Colour is utilisation in one year; a
node with a positive capacity value (10% more of it would raise the corridor's
capacity bound) is labelled with that gain.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from model.nodes import kind_of  # noqa: E402

LAND, WATER, BORDER = "#efeadf", "#cfe3f3", "#b9b2a5"
CMAP = "RdYlGn_r"
Point = tuple[float, float]


@lru_cache(maxsize=1)
def outline() -> list[np.ndarray]:
    """The shipped country outlines: one (n, 2) array of lon/lat per ring."""
    doc = json.loads(resources.files("model").joinpath("data/caspian_region.json").read_text(encoding="utf-8"))
    return [np.asarray(ring, dtype=float) for c in doc["countries"] for ring in c["rings"]]


def draw_outline(ax) -> None:
    """Land on water, behind everything else."""
    ax.set_facecolor(WATER)
    for ring in outline():
        ax.fill(ring[:, 0], ring[:, 1], facecolor=LAND, edgecolor=BORDER, lw=0.6, zorder=0)


def _extent(ax, pos: dict[str, Point], margin_deg: float = 1.2) -> None:
    xy = np.array(list(pos.values()))
    (x0, y0), (x1, y1) = xy.min(axis=0) - margin_deg, xy.max(axis=0) + margin_deg
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / np.cos(np.radians((y0 + y1) / 2)))  # degrees of longitude shrink with latitude


def _segments(n: str, pos: dict[str, Point], links: set[str], edges: pd.DataFrame) -> list[tuple[Point, Point]]:
    """A link's line: from each node before it to its own point, and on to each node after
    it; half way only where the neighbour is itself a link (which draws the other half)."""
    def toward(m: str) -> Point:
        (x0, y0), (x1, y1) = pos[n], pos[m]
        return ((x0 + x1) / 2, (y0 + y1) / 2) if m in links else (x1, y1)

    neighbours = list(edges.loc[edges["to_node"] == n, "from_node"]) + list(edges.loc[edges["from_node"] == n, "to_node"])
    return [(pos[n], toward(m)) for m in neighbours if m in pos]


def _label(name: str, util: float, gain_mt: float) -> str:
    text = name if len(name) <= 26 else name[:25] + "…"
    if not np.isnan(util):
        text += f"\n{util:.0%}"
    if gain_mt > 0.005:
        text += f"  ★ +{gain_mt:.2f} Mt"
    return text


def _panel(ax, s: str, year: int, t: dict[str, pd.DataFrame]) -> None:
    net = t["network_nodes"]
    net = net[net["scenario"] == s].dropna(subset=["lon", "lat"])
    pos = {r.node: (float(r.lon), float(r.lat)) for r in net.itertuples()}
    if not pos:
        ax.axis("off")
        ax.text(0.5, 0.5, f"{s}: no node has lon/lat, so there is no map", ha="center", transform=ax.transAxes)
        return
    kinds = dict(zip(net["node"], net["kind"]))
    links = {n for n in pos if kind_of(kinds[n]).link}
    edges = t["network_edges"][t["network_edges"]["scenario"] == s]
    a = t["annual_nodes"]
    util = a[(a["scenario"] == s) & (a["year"] == year)].groupby("node")["utilization"].mean()
    gains = pd.Series(dtype=float)
    if "capacity_values" in t and not t["capacity_values"].empty:
        cv = t["capacity_values"]
        gains = cv[(cv["scenario"] == s) & (cv["year"] == year)].groupby("node")["bound_gain_t"].mean() / 1e6
    cmap = plt.get_cmap(CMAP)
    draw_outline(ax)
    for e in edges.itertuples():  # point to point (a port to its loading tracks): a thin connector
        if e.from_node in pos and e.to_node in pos and not {e.from_node, e.to_node} & links:
            (x0, y0), (x1, y1) = pos[e.from_node], pos[e.to_node]
            ax.plot([x0, x1], [y0, y1], color="dimgrey", lw=1.2, ls="--", zorder=1)
    for n in links:
        u = util.get(n, np.nan)
        colour = "lightgrey" if np.isnan(u) else cmap(u)
        for (x0, y0), (x1, y1) in _segments(n, pos, links, edges):
            ax.plot([x0, x1], [y0, y1], color="black", lw=5.5, solid_capstyle="round", zorder=1)
            ax.plot([x0, x1], [y0, y1], color=colour, lw=4, solid_capstyle="round", zorder=2)
    for n, (x, y) in pos.items():
        if n in links:
            continue
        u = util.get(n, np.nan)
        ax.scatter([x], [y], s=110, c=["lightgrey" if np.isnan(u) else cmap(u)], marker=kind_of(kinds[n]).marker,
                   edgecolors="black", zorder=3)
    names = dict(zip(net["node"], net["name"]))
    labels = {n: _label(names[n], util.get(n, np.nan), gains.get(n, 0.0)) for n in pos}
    _place_labels(ax.figure, ax, pos, labels, fontsize=6.5)
    _extent(ax, pos)
    ax.set_title(f"{s}, {year}", fontsize=10)
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")


def _panel_width(t: dict[str, pd.DataFrame]) -> float:
    """Inches per map panel: 7.5, wider for a network that stretches east-west (from the Chinese
    border to the Black Sea the map is about three times as wide as it is tall), at most 16."""
    net = t.get("network_nodes")
    if net is None or net.empty:
        return 7.5
    xy = net.dropna(subset=["lon", "lat"])
    if xy.empty:
        return 7.5
    lat = np.radians((xy["lat"].min() + xy["lat"].max()) / 2)
    aspect = ((xy["lon"].max() - xy["lon"].min() + 2.4) * np.cos(lat)) / (xy["lat"].max() - xy["lat"].min() + 2.4)
    return float(np.clip(5.5 * aspect, 7.5, 16.0))


def corridor_map(t: dict[str, pd.DataFrame], path: Path, year: int | None = None) -> None:
    """One map per scenario of a batch, side by side, in one year (default: the last)."""
    year = year or int(t["annual_nodes"]["year"].max())
    scen = list(dict.fromkeys(t["annual_nodes"]["scenario"]))
    fig, axes = plt.subplots(1, len(scen), figsize=(_panel_width(t) * len(scen) + 1, 6.6), squeeze=False)
    for ax, s in zip(axes.flat, scen):
        _panel(ax, s, year, t)
    sm = plt.cm.ScalarMappable(cmap=plt.get_cmap(CMAP), norm=plt.Normalize(0, 1))
    fig.colorbar(sm, ax=list(axes.flat), label="utilisation (grey: not defined, e.g. borders)", shrink=0.8)
    fig.suptitle(f"The corridor in {year}: links and ports coloured by utilisation; ★ +x Mt: what 10% more "
                 "capacity there would add to the corridor's capacity bound\n(lines: sea crossings, railways, "
                 "pipeline; dashed: a leg not modelled; ■ port, ▲ border; coastline: Natural Earth)", fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _place_labels(fig, ax, pos: dict[str, Point], labels: dict[str, str],
                  fontsize: float = 7, marker_px: float = 10) -> None:
    """Put each node's label in the first corner (upper right, lower right, upper
    left, lower left) where it covers no other point and no label already placed,
    so close nodes (Aktau and its oil terminal) stay readable."""
    _extent(ax, pos)
    fig.canvas.draw()  # fixes the axis limits so data -> pixel transforms are final
    px = fig.dpi / 72
    xy = {n: ax.transData.transform(p) for n, p in pos.items()}
    placed: list[tuple[float, float, float, float]] = []
    for n, text in labels.items():
        lines = text.split("\n")
        w, h = 0.58 * fontsize * px * max(map(len, lines)), 1.25 * fontsize * px * len(lines)
        off = 6 * px
        x, y = xy[n]
        boxes = []
        for sx, sy in [(1, 1), (1, -1), (-1, 1), (-1, -1)]:
            x0 = x + off if sx > 0 else x - off - w
            y0 = y + off if sy > 0 else y - off - h
            boxes.append(((sx, sy), (x0, y0, x0 + w, y0 + h)))

        def clear(b: tuple[float, float, float, float]) -> bool:
            hits_point = any(b[0] - marker_px < mx < b[2] + marker_px and b[1] - marker_px < my < b[3] + marker_px
                             for m, (mx, my) in xy.items() if m != n)
            hits_label = any(b[0] < q[2] and q[0] < b[2] and b[1] < q[3] and q[1] < b[3] for q in placed)
            return not (hits_point or hits_label)

        (sx, sy), box = next(((c, b) for c, b in boxes if clear(b)), boxes[0])
        placed.append(box)
        ax.annotate(text, pos[n], xytext=(6 * sx, 6 * sy), textcoords="offset points", fontsize=fontsize,
                    ha="left" if sx > 0 else "right", va="bottom" if sy > 0 else "top", zorder=4,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7))
