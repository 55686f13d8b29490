"""The registry of tables and columns (model.analysis.measures) is the one declaration: the
tables built, the sweep measures allowed, the summary and the docs all follow it."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.analysis.measures import PER_REPLICATION, TABLES, label, markdown
from model.analysis.tables import tables
from model.engine.simulate import run_replication
from model.experiments.sweep_file import MEASURE_TABLES
from simkit import make_scenario, stream

ROOT = Path(__file__).resolve().parent.parent


def test_docs_outputs_page_is_the_registry():
    page = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    generated = page.split("<!-- Above: generated from the registry.")[0]  # then the figures, written by hand
    assert generated.strip() == markdown().strip(), "regenerate docs/outputs.md from model.analysis.measures.markdown()"


def test_a_replication_builds_exactly_the_declared_tables():
    s = make_scenario({"p": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 500}},
                      {"x": stream(["p"], 1.0, 1000)})
    t = tables(run_replication(s, 0, 1))
    assert set(t) == set(PER_REPLICATION)
    for name, df in t.items():
        assert list(df.columns) == TABLES[name].names(), name


def test_sweeps_may_read_exactly_the_declared_measures():
    for name, (cols, by_node, by_stream) in MEASURE_TABLES.items():
        assert TABLES[name].sweepable and list(cols) == TABLES[name].measures()
        assert by_node == (TABLES[name].entity == "node") and by_stream == (TABLES[name].entity == "stream")
    assert set(MEASURE_TABLES) == {n for n, t in TABLES.items() if t.sweepable}


def test_every_column_has_a_unit_class_and_a_label():
    for t in TABLES.values():
        assert len(set(t.names())) == len(t.names()), t.name
        for c in t.columns:
            assert c.label and c.description, (t.name, c.name)
            if c.measure:
                assert c.unit in {"t", "h", "days", "share", "count", "t·km", "s", "usd"}, (t.name, c.name, c.unit)
                suffix = {"t": "_t", "h": "_h", "days": "_days", "t·km": "_tkm", "s": "_s", "usd": "_usd"}.get(c.unit, "")
                assert c.name.endswith(suffix) or c.name.startswith("hours_"), c.name  # units in names


def test_conform_refuses_an_undeclared_or_missing_column():
    df = tables(run_replication(make_scenario({"p": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 500}},
                                              {"x": stream(["p"], 1.0, 1000)}), 0, 1))["corridor"]
    with pytest.raises(ValueError, match="not declared"):
        TABLES["corridor"].conform(df.assign(extra=1.0))
    with pytest.raises(ValueError, match="missing"):
        TABLES["corridor"].conform(df.drop(columns="delivered_t"))
    assert label("delivered_t", "corridor") == "Delivered (t)" and label("no_such_column") == "no_such_column"
