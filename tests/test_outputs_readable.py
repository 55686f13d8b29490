"""Outputs a person reads: the corridor map (Caspian-centred, one row per scenario, labels
apart), the paired-differences chart, the report (each chart once, the "what changes" table
as field/before/after, no "[nan, nan]"), sweep axis labels from the measure registry, and the
Excel export."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml

import model
from model.analysis.measures import TABLES
from model.analysis.tables import network_tables
from model.outputs.corridor_map import CASPIAN_CROSSING, INSETS, map_figsize, map_figure
from model.outputs.html import what_changes
from model.outputs.interactive import INTERACTIVE
from model.outputs.plots import differences_figure, measure_label, parameter_label
from model.outputs.results import EXCEL_SHEETS, read
from model.scenario.loader import load_scenario
from simkit import make_scenario, stream

ROOT = Path(__file__).resolve().parent.parent
BASELINE = load_scenario(ROOT / "scenarios" / "baseline.yaml")


def _map_tables(n_scenarios: int) -> dict[str, pd.DataFrame]:
    """The baseline network under ``n_scenarios`` names, each node busy by its position."""
    nodes, edges, annual = [], [], []
    for k in range(n_scenarios):
        s = BASELINE.model_copy(update={"name": f"s{k}"})
        nn, ne = network_tables(s)
        nodes.append(nn)
        edges.append(ne)
        annual.append(pd.DataFrame({"scenario": s.name, "node": nn["node"], "year": 2030,
                                    "utilization": np.linspace(0, 1, len(nn))}))
    return {"network_nodes": pd.concat(nodes), "network_edges": pd.concat(edges),
            "annual_nodes": pd.concat(annual), "capacity_values": pd.DataFrame()}


@pytest.mark.parametrize("n", [1, 4])
def test_the_map_stacks_one_row_per_scenario_and_never_becomes_a_strip(n):
    fig = map_figure(_map_tables(n))
    w, h = fig.get_size_inches()
    assert (w, h) == pytest.approx(map_figsize(n))
    assert w <= 14 and 0.5 <= h / (w * n) <= 0.7  # each row about as tall as half its width, whatever n
    titles = [a.get_title(loc="left") for a in fig.axes]
    assert [t for t in titles if t.endswith(", 2030")] == [f"s{k}, 2030" for k in range(n)]
    assert titles.count("Inset: Baku / Alat") == n
    plt.close(fig)


def test_the_main_map_is_the_caspian_and_the_land_leg_is_listed_beside_it():
    fig = map_figure(_map_tables(1))
    main = next(a for a in fig.axes if a.get_title(loc="left") == "s0, 2030")
    (x0, x1), (y0, y1) = main.get_xlim(), main.get_ylim()
    cx0, cy0, cx1, cy1 = CASPIAN_CROSSING
    assert x0 <= cx0 and x1 >= cx1 and y0 <= cy0 and y1 >= cy1
    assert x1 - x0 < 20  # not stretched to the Chinese border (82.5°E)
    listed = " ".join(t.get_text() for a in fig.axes for t in a.texts)
    for n, spec in BASELINE.nodes.items():
        if spec.lon is not None and spec.lon > x1:  # east of the main map: numbered in the list
            assert re.search(r"\d\. " + re.escape((spec.name or n).split(" (")[0][:20]), listed), n
    plt.close(fig)


def _covers(a, b, slack_px: float = 2.0) -> bool:
    """Do two label boxes (with their white padding) overlap by more than ``slack_px`` both ways?"""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > slack_px and min(a.y1, b.y1) - max(a.y0, b.y0) > slack_px


@pytest.mark.parametrize("n", [1, 4])
def test_map_labels_do_not_cover_each_other(n):
    """On the baseline network, in the main map and each inset (Baku/Alat, the Georgian ports), no
    two labels overlap by more than their padding (touching is allowed, covering is not), also in
    the small insets of a 4-scenario batch."""
    fig = map_figure(_map_tables(n))
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    checked = 0
    for ax in fig.axes:
        if not (ax.get_title(loc="left").endswith(", 2030") or ax.get_title(loc="left").startswith("Inset")):
            continue
        boxes = [t.get_bbox_patch().get_window_extent(r) for t in ax.texts if t.get_bbox_patch() is not None]
        assert len(boxes) >= 3
        for a, b in itertools.combinations(boxes, 2):
            assert not _covers(a, b), (a, b)
        checked += 1
    assert checked == n * (1 + len(INSETS))
    plt.close(fig)


def test_an_inset_needs_two_nodes_inside_it():
    t = _map_tables(1)
    inside = [n for n, s in BASELINE.nodes.items() if s.lon is not None and
              INSETS[0].box[0] <= s.lon <= INSETS[0].box[2] and INSETS[0].box[1] <= s.lat <= INSETS[0].box[3]]
    assert len(inside) >= 2
    t["network_nodes"] = t["network_nodes"][~t["network_nodes"]["node"].isin(inside[1:])]
    fig = map_figure(t)
    titles = [a.get_title(loc="left") for a in fig.axes if a.get_title(loc="left").startswith("Inset")]
    assert titles == [f"Inset: {i.title}" for i in INSETS[1:]]  # the others keep theirs
    plt.close(fig)


def _differences(ci: bool) -> pd.DataFrame:
    rows = [{"scenario": s, "reference": "ref", "year": y, "measure": m, "n": 3 if ci else 1,
             "mean_difference": d, "sd": 0.1, "ci95_lo": d - 0.1 if ci else np.nan, "ci95_hi": d + 0.1 if ci else np.nan}
            for s, d0 in [("a", 0.5), ("b", -0.05)] for y in (2024, 2025)
            for m, d in [("delivered_mt", d0 * (y - 2023)), ("transit_p50_days", -d0)]]
    return TABLES["differences"].frame(rows)


def test_differences_chart_draws_each_year_with_its_interval():
    fig = differences_figure(_differences(ci=True))
    delivered = fig.axes[0]
    bars = [c for c in delivered.collections if c.__class__.__name__ == "LineCollection"]
    # one error bar per compared scenario and year, spanning the 95% interval (0.2 Mt)
    segs = [s for c in bars for s in c.get_segments()]
    assert len(segs) == 4 and all(abs(s[1][1] - s[0][1] - 0.2) < 1e-9 for s in segs)
    assert [t.get_text() for t in delivered.get_legend().get_texts()] == ["a minus ref", "b minus ref"]
    plt.close(fig)


def test_differences_chart_with_one_replication_says_there_is_no_interval():
    fig = differences_figure(_differences(ci=False))
    assert "1 replication: no interval" in fig.texts[0].get_text()
    plt.close(fig)


def test_what_changes_is_rows_of_field_before_after():
    late = load_scenario(ROOT / "scenarios" / "tripp_delay_2y.yaml")
    table = what_changes(BASELINE, late)
    assert list(table.columns) == ["Field", "Before (baseline)", "After (tripp_delay_2y)"]
    assert table.values.tolist() == [["delays.projects[tripp_armenia_open]", "(none)", "months: 24"]]
    assert not table.map(lambda v: "{" in v or "[{" in v).any().any()  # no Python dict or list shown


def test_sweep_axes_read_the_registry_not_the_measure_name():
    m = SimpleNamespace(name="d_mt", table="corridor", column="delivered_t", year=None, years=[2029, 2030],
                        node=None, stream=None, agg="sum", scale=1e-6)
    assert measure_label(m) == "Delivered (Mt), corridor cargo, 2029–2030 summed"
    m2 = SimpleNamespace(name="x", table="annual_nodes", column="throughput_t", year=2030, years=None,
                         node="kars_dilucu", stream=None, agg="sum", scale=1.0)
    assert measure_label(m2, {"kars_dilucu": "TRIPP Kars-Igdir-Dilucu (TR)"}) == \
        "Throughput (t), TRIPP Kars-Igdir-Dilucu, 2030"
    assert parameter_label("param:delays.projects.tripp_armenia_open.months") == "tripp armenia open: months"


SHIP = 1000.0


def _port(rate: float) -> dict:
    return {"kind": "port", "berths": 1, "handling_rate_t_per_h": rate, "service": "fixed"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[model.Results, Path]:
    """A two-scenario batch of two nodes, two replications, written with figures and Excel."""
    nodes = {"a": _port(SHIP / 4), "b": _port(SHIP / 2)}
    ref = make_scenario(nodes, {"x": stream(["a", "b"], 4.4, SHIP)}, name="ref")
    more = make_scenario({**nodes, "a": {**_port(SHIP / 4), "berths": 2}}, {"x": stream(["a", "b"], 4.4, SHIP)},
                         name="more")
    res = model.batch([ref, more], replications=2, seed=1, workers=1)
    return res, res.write(tmp_path_factory.mktemp("pair") / "out", xlsx=True)


def test_report_shows_each_chart_once(pair):
    res, out = pair
    page = (out / "report.html").read_text(encoding="utf-8")
    pngs = re.findall(r'<img alt="([^"]+)"', page)
    assert len(pngs) == len(set(pngs)) > 0
    assert not set(pngs) & set(INTERACTIVE)  # the charts shown interactive are not also PNGs
    # each chart's call names its div by id in quotes (the embedded plotly.js names the function in its
    # own text too, in some versions)
    assert len(re.findall(r'Plotly\.newPlot\(\s*"', page)) == len(INTERACTIVE) == 3  # delivered, utilisation, differences
    assert len(re.findall(r"plotly\.js v\d", page)) == 1  # plotly.js embedded once (its banner)
    assert {p.name for p in (out / "plots").glob("*.png")} >= set(pngs) | set(INTERACTIVE)  # every PNG as a file


def test_figures_drawn_on_worker_processes_are_the_ones_drawn_here(pair, tmp_path):
    """The command line draws a folder's figures on a pool (each figure a job, the dearest first): every PNG
    and the report are the same as drawn one after the other in this process (plotly's random div ids aside)."""
    from model.experiments.runner import pool_map

    res, here = pair
    pooled = res.write(tmp_path / "pooled", xlsx=True, pool=pool_map(2))
    names = sorted(p.name for p in (here / "plots").glob("*.png"))
    assert names == sorted(p.name for p in (pooled / "plots").glob("*.png")) and len(names) >= 9
    for name in names:
        assert (here / "plots" / name).read_bytes() == (pooled / "plots" / name).read_bytes(), name

    def page(folder: Path) -> str:
        return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID",
                      (folder / "report.html").read_text(encoding="utf-8"))

    assert page(here) == page(pooled)


def test_report_never_prints_nan_intervals(tmp_path):
    nodes = {"a": _port(SHIP / 4), "b": _port(SHIP / 2)}
    ref = make_scenario(nodes, {"x": stream(["a", "b"], 4.4, SHIP)}, name="ref")
    other = make_scenario(nodes, {"x": stream(["a", "b"], 3.0, SHIP)}, name="other")
    res = model.batch([ref, other], replications=1, seed=1, workers=1)
    out = res.write(tmp_path / "one", figures=False)
    page = (out / "report.html").read_text(encoding="utf-8")
    body = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert "nan" not in body.lower().replace("nanc", "").replace("finan", "")
    assert "(1 replication)" in body
    from model.outputs.report import format_results
    assert "nan" not in format_results(res).lower()


def test_to_excel_round_trips_the_summary_tables(pair, tmp_path):
    res, out = pair
    for path in (out / "summary.xlsx", res.to_excel(tmp_path / "again.xlsx")):
        book = pd.read_excel(path, sheet_name=None)
        assert list(book) == ["about", *EXCEL_SHEETS, "columns"]
        for name in EXCEL_SHEETS:
            # Excel keeps 15 significant digits (the CSV files keep every bit)
            pd.testing.assert_frame_equal(TABLES[name].conform(book[name]), getattr(res, name), check_exact=False,
                                          rtol=1e-14, atol=0)
        assert set(book["columns"]["sheet"]) == set(EXCEL_SHEETS)
    assert read(out) == res  # the workbook is beside the tables, not instead of them


def test_the_final_line_lists_what_was_written(tmp_path, capsys):
    """``run --no-plots --xlsx``: no plots/*.png in the closing line (none were drawn), summary.xlsx in it."""
    from model.cli import main

    f = tmp_path / "two.yaml"
    f.write_text(yaml.safe_dump(make_scenario({"a": _port(SHIP / 4)}, {"x": stream(["a"], 2.0, SHIP)},
                                              name="two").model_dump(mode="json")))
    out = tmp_path / "out"
    assert main(["run", str(f), "--out", str(out), "--replications", "2", "--workers", "1", "--no-plots",
                 "--xlsx"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "plots/" not in last and "summary.xlsx" in last and "report.html" in last
    assert (out / "summary.xlsx").is_file() and not (out / "plots").exists()
