"""The Kazakh land leg (issue 17): cargo that enters at the Chinese border, crosses it,
rides a rail approach to the port and sails on; its transit counted from the border
and from the first port; a rail approach saturated by its demand.

Every figure an assertion relies on is written next to it.
"""

from __future__ import annotations

import numpy as np
import pytest

from simkit import make_scenario, stream
from model.metrics import tables
from model.simulate import run_replication

SHIP_T = 1400.0  # a 100-TEU block train


def _approach_nodes(paths_per_day: float = 2400.0) -> dict:
    return {
        "border": {"kind": "border", "dwell_h": 30.0},
        # 2,400 paths a day: a path every 0.01 h, so an idle line never holds a train
        "rail": {"kind": "rail_line", "paths_per_day": paths_per_day, "train_payload_t": SHIP_T, "transit_h": 72.0},
        "port": {"kind": "port", "berths": 50, "handling_rate_t_per_h": 700.0, "service": "fixed"},
    }


def test_transit_from_the_border_and_from_the_port_differ_by_the_land_leg():
    """A lone block train: border 30 h, then a free path (at most 0.01 h away) and 72 h of rail,
    then 2 h at an idle port (1,400 t at 700 t/h). From the border: 104 h; from the port: 2 h."""
    s = make_scenario(_approach_nodes(), {"x": stream(["border", "rail", "port"], 0.02, SHIP_T)})
    r = run_replication(s, 0, 5)
    rec = r.streams["x"]
    assert len(rec.transit_h) >= 5
    assert rec.port_transit_h == pytest.approx([2.0] * len(rec.transit_h), abs=1e-9)
    assert rec.transit_h == pytest.approx([104.0] * len(rec.transit_h), abs=0.011)
    t = tables(r)
    row = t["annual_streams"].iloc[0]
    assert row["port_transit_p50_days"] == pytest.approx(2.0 / 24)
    assert row["transit_p50_days"] == pytest.approx(104.0 / 24, abs=0.011 / 24)
    corridor = t["corridor"].iloc[0]
    assert corridor["port_transit_p50_days"] == pytest.approx(2.0 / 24)


def test_a_stream_entering_at_a_port_has_the_same_transit_from_the_port():
    s = make_scenario(_approach_nodes(), {"x": stream(["port"], 0.05, SHIP_T)})
    rec = run_replication(s, 0, 6).streams["x"]
    assert len(rec.transit_h) >= 10
    assert rec.port_transit_h == rec.transit_h
    assert np.all(np.asarray(rec.transit_h) >= 2.0 - 1e-9)
