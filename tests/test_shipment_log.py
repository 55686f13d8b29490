"""``--log-shipments``: a Parquet log of every delivered shipment, through the worker pool,
that agrees with the per-year tables and changes none of them; off by default."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import model
from model.cli import main
from model.analysis.measures import LOG_TABLES
from simkit import make_scenario, stream

TWO_STREAMS = """\
name: logged
start_date: 2024-01-01
end_date: 2026-01-01
seed: 11
replications: 2
nodes:
  border: {kind: border, dwell_h: {dist: exponential, mean: 20}}
  port: {kind: port, berths: 2, capacity_mt_per_year: 1.0}
  sea:
    kind: sea_link
    fleet: 2
    vessel_payload_t: 2000
    crossing_h: {dist: uniform, low: 18, high: 24}
    storms: {events_per_month: 1.0, duration_days: 2}
streams:
  cargo:
    commodity: general
    volume_mt_per_year: {2024: 0.2, 2025: 0.3}
    shipment_t: 1000
    route: [border, port, sea]
  other:
    commodity: general
    background: true
    volume_mt_per_year: 0.1
    shipment_t: 500
    route: [port]
"""


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario run with the log on two workers (the pool path) and written by the command line."""
    d = tmp_path_factory.mktemp("log")
    (d / "logged.yaml").write_text(TWO_STREAMS)
    out = d / "out"
    assert main(["run", str(d / "logged.yaml"), "--out", str(out), "--workers", "2", "--no-plots",
                 "--log-shipments"]) == 0
    return out


def test_the_log_has_a_row_per_delivered_shipment_and_their_tonnes(logged: Path):
    log = pd.read_parquet(logged / "shipments.parquet")
    streams = pd.read_csv(logged / "annual_streams.csv")
    size = {"cargo": 1000.0, "other": 500.0}
    for (rep, sid), g in streams.groupby(["replication", "stream"]):
        rows = log[(log["replication"] == rep) & (log["stream"] == sid)]
        assert len(rows) == round(g["delivered_t"].sum() / size[sid]) > 0
        assert rows["tonnes"].sum() == pytest.approx(g["delivered_t"].sum(), rel=1e-12)
    assert len(log) == round(sum(streams["delivered_t"] / streams["stream"].map(size)))
    assert log["tonnes"].sum() == pytest.approx(streams["delivered_t"].sum(), rel=1e-12)
    assert json.loads((logged / "manifest.json").read_text())["shipment_log"]["rows"] == len(log)


def test_the_log_agrees_with_the_yearly_tables(logged: Path):
    log = pd.read_parquet(logged / "shipments.parquet")
    assert list(log.columns) == LOG_TABLES["shipments"].names()
    assert (log["created_h"] <= log["port_h"]).all() and (log["port_h"] <= log["delivered_h"]).all()
    assert (log["transit_days"] == (log["delivered_h"] - log["created_h"]) / 24.0).all()
    start = date(2024, 1, 1)
    assert list(log["delivered_date"]) == [start + timedelta(days=int(h // 24)) for h in log["delivered_h"]]
    streams = pd.read_csv(logged / "annual_streams.csv").set_index(["replication", "year", "stream"])
    log["year"] = [d.year for d in log["delivered_date"]]
    for (rep, year, sid), g in log.groupby(["replication", "year", "stream"]):
        row = streams.loc[(rep, year, sid)]
        assert row["transit_mean_days"] == pytest.approx(g["transit_days"].mean(), rel=1e-12)
        # percentiles come from histograms: within 0.05 h + 0.25 % (model.core.histogram)
        for q, col in ((50, "transit_p50_days"), (95, "transit_p95_days")):
            exact = float(np.percentile(g["transit_days"], q))
            assert abs(row[col] - exact) <= 0.05 / 24 + 0.0025 * exact + 1e-12


def test_the_log_reads_back_and_changes_no_table(logged: Path, tmp_path: Path):
    r = model.read(logged)
    assert r.shipments is not None and len(r.shipments) == len(pd.read_parquet(logged / "shipments.parquet"))
    assert model.read(r.write(tmp_path / "again", plots=False)) == r
    plain = tmp_path / "plain"
    assert main(["run", str(logged.parent / "logged.yaml"), "--out", str(plain), "--workers", "1",
                 "--no-plots"]) == 0
    assert not (plain / "shipments.parquet").exists() and "shipment_log" not in json.loads(
        (plain / "manifest.json").read_text())
    for f in logged.glob("*.csv"):
        if f.name not in ("perf.csv",):  # perf: seconds of simulation
            assert f.read_bytes() == (plain / f.name).read_bytes(), f.name


def test_the_api_logs_the_same_on_one_worker_or_two():
    s = make_scenario({"b": {"kind": "border", "dwell_h": {"dist": "exponential", "mean": 5}}},
                      {"x": stream(["b"], 0.3, 1000)}, name="api")
    one = model.run(s, replications=2, seed=3, workers=1, log_shipments=True)
    two = model.run(s, replications=2, seed=3, workers=2, log_shipments=True)
    assert one.shipments is not None and len(one.shipments) > 100
    pd.testing.assert_frame_equal(one.shipments, two.shipments)
    assert model.run(s, replications=1, seed=3, workers=1).shipments is None
