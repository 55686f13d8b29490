"""The corridor map: the network on a coastline, links coloured by how busy they are.

The outline is Natural Earth's 1:50m countries clipped to the corridor's region,
shipped with the package (``model/data/caspian_region.json``, built once by
``docs/make_basemap.py``); nothing is downloaded at run time. Countries are land,
and what lies between them (the Caspian, the Black Sea) is water.

Each scenario is one row of the figure (a batch stacks its scenarios), made of three maps:

* the main map, centred on the Caspian crossing (Aktau/Kuryk to Alat), where the corridor
  jams: every node west of the Caspian's east shore, labelled (each label at the nearest place
  beside its point where it covers no other label, marker or note: :func:`place_labels`);
* insets of crowded places (Baku/Alat, with its four port nodes within 30 km; the Georgian
  ports, Poti, Batumi and Anaklia, with the rail sections to them), their boxes outlined on
  the main map, stacked at its right;
* the whole corridor at a small scale, numbered nodes for the Kazakh land leg east of
  the main map (2,000-3,000 km of rail to the Chinese border that would otherwise take
  most of the map), listed by number with their utilisation beneath.

Links (sea crossings, railways, the pipeline: kinds with ``link=True``) are drawn
as lines from the nodes before them through their own map point to the nodes
after them; ports and borders as points. Colour is utilisation in one year; a
node with a positive capacity value (10% more of it would raise the corridor's
capacity bound) is labelled with that gain.
"""

from __future__ import annotations

import json
import textwrap
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from model.nodes import kind_of  # noqa: E402

LAND, WATER, BORDER = "#efeadf", "#cfe3f3", "#b9b2a5"
CMAP = "RdYlGn_r"
Point = tuple[float, float]
Box = tuple[float, float, float, float]
"""lon_min, lat_min, lon_max, lat_max"""

CASPIAN_CROSSING: Box = (46.8, 38.3, 54.9, 45.6)
"""The middle Caspian, Aktau/Kuryk to Alat and Turkmenbashi: always on the main map whatever the nodes."""
MARGIN_DEG = 0.8
EAST_OF_MAIN_DEG = 3.0
"""Nodes more than this east of the Caspian box (the Kazakh land leg) go to the overview."""
WEST_OF_MAIN_DEG = 6.5
"""Nodes more than this west of the Caspian box (the Black Sea crossing, Constanța, Türkiye west of Kars) go to
the overview too: Georgia's ports (about 41.6°E) stay on the main map, which stays centred on the Caspian."""


@dataclass(frozen=True)
class Inset:
    title: str
    box: Box
    labels_west: bool = False
    """Labels start west of their points (ports on a west-facing coast: the labels go to sea, not onto
    the markers of the terminals beside them)."""


INSETS = (Inset("Baku / Alat", (48.95, 39.8, 49.95, 40.55)),
          Inset("Georgian ports", (40.3, 41.4, 42.25, 42.55), labels_west=True))
"""Crowded places drawn at a larger scale where a scenario has two or more nodes inside: Alat's four
terminals within 30 km, and Poti, Batumi and Anaklia (five terminals and the three rail sections to
them within 130 km of coast)."""

ROW_HEIGHT_IN = 8.2
FIG_WIDTH_IN = 13.5


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


def _set_box(ax, box: Box) -> None:
    x0, y0, x1, y1 = box
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / np.cos(np.radians((y0 + y1) / 2)))  # degrees of longitude shrink with latitude


def _inside(p: Point, box: Box) -> bool:
    return box[0] <= p[0] <= box[2] and box[1] <= p[1] <= box[3]


def short_name(name: str, width: int = 30) -> str:
    """A display name without its parenthesis, at most ``width`` characters:
    "Aktau oil terminal", "Dostyk-Aktogay-Moyinty" (from "... (second track from 30 Sep 2025)")."""
    text = re.sub(r"\s*\([^)]*\)", "", name).strip() or name
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass
class _Net:
    """One scenario's network, ready to draw."""

    pos: dict[str, Point]
    kinds: dict[str, str]
    names: dict[str, str]
    links: set[str]
    edges: pd.DataFrame
    util: pd.Series
    gains: pd.Series

    def colour(self, n: str):
        u = self.util.get(n, np.nan)
        return "lightgrey" if np.isnan(u) else plt.get_cmap(CMAP)(u)

    def label(self, n: str, width: int = 30, wrap: int | None = None) -> str:
        text = short_name(self.names.get(n, n), width)
        if wrap:
            text = textwrap.fill(text, wrap)
        u = self.util.get(n, np.nan)
        if not np.isnan(u):
            text += f" {u:.0%}"
        g = self.gains.get(n, 0.0)
        if g > 0.005:
            text += f"\n★ +{g:.2f} Mt"
        return text


def _network(s: str, year: int, t: dict[str, pd.DataFrame]) -> _Net:
    net = t["network_nodes"]
    net = net[net["scenario"] == s].dropna(subset=["lon", "lat"])
    kinds = dict(zip(net["node"], net["kind"]))
    a = t["annual_nodes"]
    util = a[(a["scenario"] == s) & (a["year"] == year)].groupby("node")["utilization"].mean()
    gains = pd.Series(dtype=float)
    if "capacity_values" in t and not t["capacity_values"].empty:
        cv = t["capacity_values"]
        gains = cv[(cv["scenario"] == s) & (cv["year"] == year)].groupby("node")["bound_gain_t"].mean() / 1e6
    return _Net(pos={r.node: (float(r.lon), float(r.lat)) for r in net.itertuples()}, kinds=kinds,
                names={n: str(m) if isinstance(m, str) and m else n for n, m in zip(net["node"], net["name"])},
                links={n for n in kinds if kind_of(kinds[n]).link},
                edges=t["network_edges"][t["network_edges"]["scenario"] == s], util=util, gains=gains)


def main_box(pos: dict[str, Point]) -> Box:
    """The main map: the Caspian crossing and every node not far east or west of it, with a margin."""
    x0, y0, x1, y1 = CASPIAN_CROSSING
    near = [p for p in pos.values() if x0 - WEST_OF_MAIN_DEG <= p[0] <= x1 + EAST_OF_MAIN_DEG]
    if near:
        xy = np.array(near)
        x0, y0 = min(x0, xy[:, 0].min() - MARGIN_DEG), min(y0, xy[:, 1].min() - MARGIN_DEG)
        x1, y1 = max(x1, xy[:, 0].max() + MARGIN_DEG), max(y1, xy[:, 1].max() + MARGIN_DEG)
    return (float(x0), float(y0), float(x1), float(y1))


def _segments(n: str, w: _Net) -> list[tuple[Point, Point]]:
    """A link's line: from each node before it to its own point, and on to each node after
    it; half way only where the neighbour is itself a link (which draws the other half)."""
    def toward(m: str) -> Point:
        (x0, y0), (x1, y1) = w.pos[n], w.pos[m]
        return ((x0 + x1) / 2, (y0 + y1) / 2) if m in w.links else (x1, y1)

    e = w.edges
    neighbours = list(e.loc[e["to_node"] == n, "from_node"]) + list(e.loc[e["from_node"] == n, "to_node"])
    return [(w.pos[n], toward(m)) for m in neighbours if m in w.pos]


def _draw_network(ax, w: _Net, lw: float = 4.0, marker_size: float = 110) -> None:
    for e in w.edges.itertuples():  # point to point (a port to its loading tracks): a thin connector
        if e.from_node in w.pos and e.to_node in w.pos and not {e.from_node, e.to_node} & w.links:
            (x0, y0), (x1, y1) = w.pos[e.from_node], w.pos[e.to_node]
            ax.plot([x0, x1], [y0, y1], color="dimgrey", lw=lw * 0.3, ls="--", zorder=1)
    for n in sorted(w.links):
        for (x0, y0), (x1, y1) in _segments(n, w):
            ax.plot([x0, x1], [y0, y1], color="black", lw=lw + 1.5, solid_capstyle="round", zorder=1)
            ax.plot([x0, x1], [y0, y1], color=w.colour(n), lw=lw, solid_capstyle="round", zorder=2)
    for n, (x, y) in w.pos.items():
        if n not in w.links:
            ax.scatter([x], [y], s=marker_size, c=[w.colour(n)], marker=kind_of(w.kinds[n]).marker,
                       edgecolors="black", zorder=3)


Pending = list[Callable[[], object]]
"""Label placements, run once the figure's layout is final (labels are placed in pixels)."""

RINGS = 12
"""How far a label may go from its point: this many rings of candidate places around it, each
about a third of a label's height further out (beyond the first ring a thin line joins it to its point)."""


def _labels(ax, w: _Net, nodes: list[str], fontsize: float, pending: Pending, width: int = 34,
            wrap: int | None = None, extra: dict[Point, str] | None = None, west: bool = False) -> None:
    """Labels of ``nodes`` (and ``extra`` texts at points), each placed beside its point where it
    covers no other label, no node's marker and no note of the map (:func:`place_labels`); ``west``:
    west of its point first (otherwise east first)."""
    bbox = dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8)
    texts = [ax.text(*w.pos[n], w.label(n, width, wrap), fontsize=fontsize, zorder=5, bbox=bbox, in_layout=False)
             for n in nodes]
    texts += [ax.text(*p, s, fontsize=fontsize, zorder=5, style="italic", bbox=bbox, in_layout=False)
              for p, s in (extra or {}).items()]
    if texts:
        markers = [p for n, p in w.pos.items() if n not in w.links and _inside(p, _box_of(ax))]
        pending.append(lambda: place_labels(ax, texts, markers, west=west))


def _extent(t, renderer) -> np.ndarray:
    """x0, y0, x1, y1 in pixels of a text with its box (the white patch), or of the text alone."""
    patch = t.get_bbox_patch()
    if patch is not None:
        t.update_bbox_position_size(renderer)
        e = patch.get_window_extent(renderer)
    else:
        e = t.get_window_extent(renderer)
    return np.array([e.x0, e.y0, e.x1, e.y1])


def _candidates(px: float, py: float, wd: float, ht: float, gap: float, west: bool) -> np.ndarray:
    """Lower-left corners of a ``wd`` x ``ht`` box beside the point (px, py), nearest first: the eight
    places touching it at ``gap`` (east, the corners, west, north, south; west first with ``west``), then
    rings further out in 16 directions."""
    e, w_, c = (px + gap, px - gap - wd, px - wd / 2)
    n, s, m = (py + gap, py - gap - ht, py - ht / 2)
    d = gap * 0.7
    east = [(e, m), (px + d, py + d), (px + d, py - d - ht)]
    westward = [(w_, m), (px - d - wd, py + d), (px - d - wd, py - d - ht)]
    first = (westward + east if west else east + westward) + [(c, n), (c, s)]
    out = [np.array(first)]
    angles = np.radians(np.arange(0, 360, 22.5)) + (np.pi if west else 0.0)
    for k in range(1, RINGS + 1):
        r = gap + k * ht / 3
        cx, cy = px + np.cos(angles) * (r + wd / 2), py + np.sin(angles) * (r + ht / 2)
        out.append(np.column_stack([cx - wd / 2, cy - ht / 2]))
    return np.concatenate(out)


def place_labels(ax, texts: list, markers: list[Point], west: bool = False, gap_px: float = 7.0,
                 leader: dict | None = None) -> None:
    """Move each text to the first place beside its point, nearest first (:func:`_candidates`), where
    its box stays inside the axes and covers no label placed before it, no marker of ``markers`` and no
    other text of the axes (a note); where none is free, to the place that covers least. Greedy, in the
    given order; where a label can only cover another label, the texts are placed again with that
    label first (at most once per label), and the order whose labels cover each other least is kept
    (then the one that covers least in all). A label beyond the first ring is
    joined to its point by a thin line. In pixels of the final layout: the same figure every time for
    one matplotlib version (whose layout can give an inset a few pixels more or less)."""
    renderer = ax.figure.canvas.get_renderer()
    to_px, to_data = ax.transData.transform, ax.transData.inverted().transform
    frame = ax.get_window_extent(renderer)
    mine = set(map(id, texts))
    notes = [_extent(t, renderer) for t in ax.texts if id(t) not in mine and t.get_visible()]
    dots = to_px(np.array(markers)) if markers else np.empty((0, 2))
    radius = gap_px * 0.85
    places = []  # per text: its anchor (data), its point (px), the box's offset and the candidate boxes
    for t in texts:
        anchor = np.array(t.get_position(), dtype=float)
        px, py = to_px(anchor)
        t.set_horizontalalignment("left")
        t.set_verticalalignment("bottom")
        box = _extent(t, renderer)
        ox, oy, wd, ht = box[0] - px, box[1] - py, box[2] - box[0], box[3] - box[1]
        cand = _candidates(px, py, wd, ht, gap_px, west)
        x0, y0, x1, y1 = cand[:, 0], cand[:, 1], cand[:, 0] + wd, cand[:, 1] + ht
        # what a place covers, in square pixels, but for the labels placed before it: beyond the frame (a
        # fifth at the sides and bottom: where nothing is free, out of a small inset rather than over
        # another label; in full at the top, where the title is), the notes, the markers
        cost = ((np.maximum(frame.x0 + 1 - x0, 0) + np.maximum(x1 - frame.x1 + 1, 0)) * ht
                + np.maximum(frame.y0 + 1 - y0, 0) * wd) * 0.2 + np.maximum(y1 - frame.y1 + 1, 0) * wd
        for b in notes:
            cost += _overlap(x0, y0, x1, y1, b)
        if len(dots):
            near_x = np.clip(dots[:, 0][None, :], x0[:, None], x1[:, None]) - dots[:, 0][None, :]
            near_y = np.clip(dots[:, 1][None, :], y0[:, None], y1[:, None]) - dots[:, 1][None, :]
            cost += (np.hypot(near_x, near_y) < radius).sum(axis=1) * radius ** 2
        places.append((anchor, px, py, ox, oy, np.column_stack([x0, y0, x1, y1]), cost))

    def greedy(order: list[int]) -> tuple[tuple[float, float], dict[int, int], list[int]]:
        """(labels over labels, all covered) in square pixels, the place of each text, the texts that
        could only cover another label."""
        taken: list[np.ndarray] = []
        pick: dict[int, int] = {}
        mutual, total, stuck = 0.0, 0.0, []
        for i in order:
            boxes, own = places[i][5], places[i][6]
            others = np.zeros(len(boxes))
            for b in taken:
                others += _overlap(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3], b)
            cost = own + others
            free = np.flatnonzero(cost <= 0)
            k = int(free[0]) if len(free) else int(np.argmin(cost))
            if others[k] > 0:
                stuck.append(i)
            pick[i], mutual, total = k, mutual + float(others[k]), total + float(cost[k])
            taken.append(boxes[k])
        return (mutual, total), pick, stuck

    order = list(range(len(texts)))
    best = greedy(order)
    promoted: set[int] = set()
    while best[0][0] > 0:
        first = next((i for i in best[2] if i not in promoted), None)
        if first is None:
            break
        promoted.add(first)
        order = [first] + [i for i in order if i != first]
        trial = greedy(order)
        if trial[0] < best[0]:
            best = trial
    for i, t in enumerate(texts):
        anchor, px, py, ox, oy, boxes, _ = places[i]
        k = best[1][i]
        x0, y0, x1, y1 = boxes[k]
        t.set_position(tuple(to_data((x0 - ox, y0 - oy))))
        if k >= 8:  # off the first ring: a thin line from the point to the nearest side of the label
            near = to_data((np.clip(px, x0, x1), np.clip(py, y0, y1)))
            ax.plot([anchor[0], near[0]], [anchor[1], near[1]], zorder=4.5,
                    **(leader or dict(color="#555", lw=0.6)))


def _overlap(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Square pixels each box (x0, y0, x1, y1) shares with box ``b`` grown by a pixel each way."""
    return np.maximum(np.minimum(x1, b[2] + 1) - np.maximum(x0, b[0] - 1), 0) * \
        np.maximum(np.minimum(y1, b[3] + 1) - np.maximum(y0, b[1] - 1), 0)


def _box_of(ax) -> Box:
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return (x0, y0, x1, y1)


def _frame(ax, box: Box, colour: str = "#2b6cb0") -> None:
    ax.add_patch(Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1], fill=False, ec=colour,
                           lw=1.4, zorder=4))


def _main_map(ax, w: _Net, box: Box, insets: list[Inset], far: list[str], pending: Pending) -> None:
    _set_box(ax, box)
    draw_outline(ax)
    _draw_network(ax, w)
    extra: dict[Point, str] = {}
    for i in insets:
        _frame(ax, i.box)
        extra[(i.box[0], i.box[1])] = f"{i.title}: see inset"
    shown = [n for n, p in w.pos.items() if _inside(p, box) and not any(_inside(p, i.box) for i in insets)]
    _labels(ax, w, shown, 8.5, pending, extra=extra)
    note = dict(xycoords="axes fraction", va="top", fontsize=8.5, style="italic", zorder=6,
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#2b6cb0", alpha=0.85))
    if any(w.pos[n][0] > box[2] for n in far):
        ax.annotate("Kazakh rail from the Chinese border →\n(the land leg: overview at right)", xy=(0.99, 0.96),
                    ha="right", **note)
    if any(w.pos[n][0] < box[0] for n in far):
        ax.annotate("← Black Sea crossing, Türkiye\nwest of Kars (overview at right)", xy=(0.01, 0.04),
                    ha="left", **{**note, "va": "bottom"})
    ax.set_xlabel("longitude (°E)", fontsize=9)
    ax.set_ylabel("latitude (°N)", fontsize=9)
    ax.tick_params(labelsize=7)


def _inset_map(ax, w: _Net, inset: Inset, pending: Pending) -> None:
    _set_box(ax, inset.box)
    draw_outline(ax)
    _draw_network(ax, w, lw=3.0, marker_size=90)
    _labels(ax, w, [n for n, p in w.pos.items() if _inside(p, inset.box)], 8.5, pending, width=40, wrap=20,
            west=inset.labels_west)
    ax.set_title(f"Inset: {inset.title}", fontsize=10, loc="left")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_edgecolor("#2b6cb0")
        side.set_linewidth(1.4)


def _overview(ax, w: _Net, box: Box, far: list[str], pending: Pending) -> None:
    xy = np.array(list(w.pos.values()))
    whole = (min(box[0], xy[:, 0].min() - 1.0), min(box[1], xy[:, 1].min() - 1.0),
             max(box[2], xy[:, 0].max() + 1.0), max(box[3], xy[:, 1].max() + 1.0))
    _set_box(ax, whole)
    draw_outline(ax)
    _draw_network(ax, w, lw=1.8, marker_size=22)
    _frame(ax, box, "#333")
    texts = [ax.text(*w.pos[n], str(k), fontsize=8, fontweight="bold", zorder=5, in_layout=False,
                     bbox=dict(boxstyle="circle,pad=0.12", fc="white", ec="#333", lw=0.6))
             for k, n in enumerate(far, 1)]
    if texts:
        pending.append(lambda: place_labels(ax, texts, [], gap_px=3.0, leader=dict(color="#555", lw=0.5)))
    ax.set_title("The whole corridor (box: the main map)", fontsize=10, loc="left")
    ax.set_xticks([])
    ax.set_yticks([])


def _far_list(ax, w: _Net, far: list[str]) -> None:
    """The nodes beyond the main map (the land leg; the Black Sea and Türkiye west of Kars) by their
    overview number: name, utilisation, capacity value."""
    ax.axis("off")
    if not far:
        return
    ax.text(0.0, 1.0, "Beyond the main map (numbers on the overview):", fontsize=9, fontweight="bold",
            va="top", transform=ax.transAxes)
    step = min(0.11, 0.88 / len(far))
    fontsize = 8.5 if len(far) <= 11 else 8.0  # a line of 13 or more at 8.5 pt would touch the next
    for k, n in enumerate(far, 1):
        y = 1.0 - step * (k + 0.3)
        ax.scatter([0.02], [y - step * 0.25], s=40, c=[w.colour(n)], marker=kind_of(w.kinds[n]).marker,
                   edgecolors="black", transform=ax.transAxes, clip_on=False)
        ax.text(0.05, y, f"{k}. " + w.label(n, width=44).replace("\n", "  "), fontsize=fontsize, va="top",
                transform=ax.transAxes)


def _row(fig, spec, s: str, year: int, t: dict[str, pd.DataFrame], pending: Pending) -> None:
    w = _network(s, year, t)
    if not w.pos:
        ax = fig.add_subplot(spec)
        ax.axis("off")
        ax.text(0.5, 0.5, f"{s}: no node has lon/lat, so there is no map", ha="center", transform=ax.transAxes)
        return
    box = main_box(w.pos)
    far = [n for n, p in w.pos.items() if not _inside(p, box)]
    insets = [i for i in INSETS if sum(_inside(p, i.box) for p in w.pos.values()) >= 2]
    # the right column: the insets stacked (one gets the height the pair shares), the overview, the list
    heights = (1.25,) if len(insets) <= 1 else (1.0,) * len(insets)
    gs = spec.subgridspec(len(heights) + 2, 2, width_ratios=(2.05, 1), height_ratios=(*heights, 0.45, 0.8),
                          wspace=0.04, hspace=0.12)
    main = fig.add_subplot(gs[:, 0])
    _main_map(main, w, box, insets, far, pending)
    main.set_title(f"{s}, {year}", fontsize=12, loc="left", fontweight="bold")
    for k, inset in enumerate(insets):
        _inset_map(fig.add_subplot(gs[k, 1]), w, inset, pending)
    _overview(fig.add_subplot(gs[-2, 1]), w, box, far, pending)
    _far_list(fig.add_subplot(gs[-1, 1]), w, far)


def map_figsize(n_scenarios: int) -> tuple[float, float]:
    """Inches: one row per scenario, stacked (a batch never becomes a strip)."""
    return FIG_WIDTH_IN, ROW_HEIGHT_IN * max(n_scenarios, 1) + 1.2


def map_figure(t: dict[str, pd.DataFrame], year: int | None = None):
    """The figure :func:`corridor_map` writes."""
    year = year or int(t["annual_nodes"]["year"].max())
    scen = list(dict.fromkeys(t["annual_nodes"]["scenario"]))
    fig = plt.figure(figsize=map_figsize(len(scen)), layout="constrained")
    fig.suptitle(f"The corridor in {year}: where it is busy", fontsize=13, fontweight="bold")
    rows = fig.add_gridspec(len(scen) + 1, 1, height_ratios=[ROW_HEIGHT_IN] * len(scen) + [1.0])
    pending: Pending = []
    for i, s in enumerate(scen):
        _row(fig, rows[i], s, year, t, pending)
    foot = fig.add_subplot(rows[-1])
    foot.axis("off")
    fig.draw_without_rendering()  # the constrained layout fixes every axis before labels are placed in pixels
    fig.set_layout_engine("none")
    for place in pending:
        place()
    box = foot.get_position()
    cax = fig.add_axes((box.x0 + box.width * 0.25, box.y0 + box.height * 0.55, box.width * 0.5, box.height * 0.15))
    sm = plt.cm.ScalarMappable(cmap=plt.get_cmap(CMAP), norm=plt.Normalize(0, 1))
    fig.colorbar(sm, cax=cax, orientation="horizontal", format=lambda v, _: f"{v:.0%}")
    cax.set_title("utilisation (grey: not defined, e.g. borders)", fontsize=9)
    cax.tick_params(labelsize=7)
    foot.text(0.5, 0.05, "Lines: sea crossings, railways, pipeline (dashed: a leg not modelled); ■ port, ▲ border. "
              f"★ +x Mt: what 10% more capacity there would add to the corridor's capacity bound in {year}. "
              "Coastline: Natural Earth.", ha="center", fontsize=9, transform=foot.transAxes)
    return fig


def corridor_map(t: dict[str, pd.DataFrame], path: Path, year: int | None = None) -> None:
    """One map row per scenario of a batch, stacked, in one year (default: the last)."""
    fig = map_figure(t, year)
    fig.savefig(path, dpi=110)
    plt.close(fig)
