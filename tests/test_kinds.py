"""The node-kind registry: every registered kind is complete, and honours the contract
every engine must keep (records entry and exit, frees the upstream yard when its
service starts, holds traffic while closed, conserves mass). An unknown kind is
an error everywhere."""

from __future__ import annotations

import pickle
import typing

import matplotlib.markers
import pytest

from simkit import make_scenario, stream
from model.analysis.tables import capacity_t, node_table
from model.nodes import KINDS, UnknownKindError, kind_of
from model.scenario.loader import scenario_problems
from model.engine.simulate import Corridor

SHIP = 1000.0

# One node of each kind, sized so 0.5 Mt/yr of 1,000 t shipments is far below its capacity.
NODE = {
    "port": {"kind": "port", "berths": 2, "handling_rate_t_per_h": 500},
    "sea_link": {"kind": "sea_link", "fleet": 2, "vessel_payload_t": 3000, "load_h": 2, "crossing_h": 10,
                 "unload_h": 2, "max_wait_h": 6},
    "rail_line": {"kind": "rail_line", "paths_per_day": 4, "train_payload_t": 2000, "transit_h": 12, "max_wait_h": 6},
    "pipeline": {"kind": "pipeline", "flow_mt_per_year": 3.0, "tank_t": 5000},
    "border": {"kind": "border", "dwell_h": 6},
}


def test_every_kind_is_registered_with_a_test_node():
    assert set(NODE) == set(KINDS)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_kind_declarations_name_real_fields(name):
    k = KINDS[name]
    fields = set(k.spec.model_fields)
    assert typing.get_args(k.spec.model_fields["kind"].annotation) == (name,)
    assert k.engine.kind == name
    head = lambda names: {f.split(".")[0] for f in names}  # a dotted path (vessels.*.count) starts at a field
    assert head(k.investable - {"opening"}) <= fields
    assert head(k.timelines) <= fields and head(k.counts) <= fields
    assert all(attr in fields for attr, _ in k.fits)
    assert k.carrier is None or k.carrier in fields
    assert k.after is None or k.after <= set(KINDS)
    assert k.marker in matplotlib.markers.MarkerStyle.markers
    assert (k.service is not None) == (k.utilisation_check == "equal")


def test_unknown_kind_is_an_error_everywhere():
    with pytest.raises(UnknownKindError, match="dry_port"):
        kind_of("dry_port")
    s, problems = scenario_problems({"name": "x", "start_date": "2024-01-01", "end_date": "2025-01-01",
                                     "nodes": {"d": {"kind": "dry_port"}},
                                     "streams": {"x": stream(["d"], 1.0, SHIP)}})
    assert s is None and any("dry_port" in m and "port" in m for _, m in problems)


def _contract_scenario(name: str, closed: bool = False):
    """An upstream port whose yard holds one shipment, then the node under test."""
    nodes = {"up": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 2000, "yard_limit_t": SHIP},
             "k": NODE[name]}
    extra = {"disruptions": [{"node": "k", "start": "2025-01-01", "end": "2026-01-01"}]} if closed else {}
    return make_scenario(nodes, {"x": stream(["up", "k"], 0.5, SHIP)}, end="2026-01-01", **extra)


@pytest.mark.parametrize("name", sorted(KINDS))
def test_kind_keeps_the_engine_contract(name):
    s = _contract_scenario(name)
    c = Corridor(s, 0, 3)
    r = c.run()  # the run checks generated = delivered + in system itself
    rec, up = r.nodes["k"], r.nodes["up"]
    generated = sum(r.streams["x"].generated_t)
    # records entry and exit: every tonne that left the port entered the node, once per shipment
    assert rec.entered_t == pytest.approx(up.exited_t)
    assert rec.hops == round(rec.entered_t / SHIP)
    assert sum(rec.throughput_t) == pytest.approx(rec.exited_t)
    assert rec.in_system_t() == pytest.approx(rec.entered_t - rec.exited_t)
    # frees the upstream yard as its service starts: the yard holds one shipment, so a
    # kind that kept it would let one shipment through in two years; this one keeps up
    assert rec.exited_t >= generated - 20 * SHIP
    assert c.nodes["up"].yard.level <= SHIP
    # plain records only: nothing simpy leaves the engine (a simpy object would pickle with its module's name)
    assert b"simpy" not in pickle.dumps(rec)
    table = node_table(r)
    assert set(table["kind"]) >= {name, "port"}
    cap = capacity_t(r, "k")
    assert (name == "border") == bool(all(cap != cap))  # NaN only where the kind sets no limit


@pytest.mark.parametrize("name", sorted(KINDS))
def test_kind_holds_traffic_while_closed(name):
    """Closed for the whole of 2025 (a disruption): at most what was already in
    service or in transit at the closure leaves in 2025, and the rest waits."""
    r = Corridor(_contract_scenario(name, closed=True), 0, 3).run()
    rec = r.nodes["k"]
    assert rec.throughput_t[0] > 0.4e6
    assert rec.throughput_t[1] <= 3 * 3000  # a vessel load or a train or a few parcels
    assert rec.in_system_t() + r.nodes["up"].in_system_t() >= 0.4e6


def test_scenario_checks_use_the_registry_for_route_rules():
    s, problems = scenario_problems({"name": "x", "start_date": "2024-01-01", "end_date": "2025-01-01",
                                     "nodes": {"b": NODE["border"], "sea": NODE["sea_link"]},
                                     "streams": {"x": stream(["b", "sea"], 1.0, SHIP)}})
    msgs = [m for _, m in problems]
    assert any("sea link 'sea' follows border 'b'" in m for m in msgs), msgs
