"""Bad scenario files are refused clearly: exit status 2, one line per problem
``error: FILE:LINE: field.path: what was expected``, no traceback, nothing written.

Every file in tests/scenarios_bad/ (except helpers named ``_*.yaml``) is a case;
``EXPECTED`` says, per file, the field path the error must name and a piece of
its message. A new bad file needs a row here, so that its error stays explicit.
"""

from __future__ import annotations

import json
from datetime import date
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import model
from model.cli import main
from model.experiments.appraise import items_of
from model.scenario.loader import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
BAD = Path(__file__).resolve().parent / "scenarios_bad"
CASES = sorted(p for p in BAD.glob("*.yaml") if not p.name.startswith("_"))

# file -> (field path the error names, or None for a whole-file problem; piece of the message)
EXPECTED: dict[str, tuple[str | None, str]] = {
    # YAML and file structure
    "yaml_bad_indent.yaml": (None, "YAML syntax error"),
    "yaml_unclosed_bracket.yaml": (None, "expected the ']' that closes it"),
    "yaml_tab.yaml": (None, "not tabs"),
    "yaml_alias_bomb.yaml": (None, "would repeat more than 10,000 values (the limit: an alias bomb?)"),
    "yaml_deep_nesting.yaml": (None, "YAML nests more than 50 mappings or lists deep (the limit)"),
    "duplicate_yaml_key.yaml": ("nodes.alat.berths", "duplicate key 'berths' (also at line 5)"),
    "top_level_list.yaml": (None, "expected a mapping of scenario fields"),
    "top_level_scalar.yaml": (None, "expected a mapping of scenario fields"),
    "empty.yaml": (None, "the file is empty"),
    "comments_only.yaml": (None, "the file is empty"),
    # extends
    "extends_cycle_a.yaml": ("extends", "closes a cycle"),
    "extends_cycle_b.yaml": ("extends", "closes a cycle"),
    "extends_missing_parent.yaml": ("extends", "parent file 'no_such_parent.yaml' not found"),
    "extends_not_string.yaml": ("extends", "expected the file name of one parent scenario, got a list"),
    # wrong types (union noise collapsed into one message)
    "type_string_for_number.yaml": ("nodes.ferry.vessel_payload_t", "expected a number, got 'three thousand'"),
    "type_string_for_timeline.yaml": ("nodes.aktau.capacity_mt_per_year",
                                      "expected a number or a mapping {ISO date: number}, got 'lots'"),
    "type_list_for_mapping.yaml": ("nodes", "expected a mapping {node id: {kind:"),
    "type_node_not_mapping.yaml": ("nodes.alat", "expected a node mapping {kind: port|sea_link|"),
    "investment_not_mapping.yaml": ("investments.0", "expected a mapping {id: ..., node: ..."),
    "timeline_bad_date_key.yaml": ("nodes.aktau.berths.next year", "expected an ISO date (YYYY-MM-DD) as key"),
    "volume_bad_year_key.yaml": ("streams.oil.volume_mt_per_year.20277", "expected a calendar year"),
    "missing_required_field.yaml": ("streams.grain.shipment_t", "required field is missing; expected a number > 0"),
    "invalid_date.yaml": ("start_date", "expected an ISO date (YYYY-MM-DD), got '2024-13-01'"),
    "invalid_date_text.yaml": ("end_date", "expected an ISO date (YYYY-MM-DD), got 'end of 2026'"),
    # unknown keys, at every level, with a hint
    "unknown_key_top.yaml": ("replication", "did you mean 'replications'?"),
    "unknown_key_node.yaml": ("nodes.alat.capacity_mt_per_yr", "did you mean 'capacity_mt_per_year'?"),
    "unknown_key_storm.yaml": ("nodes.ferry.storms.event_per_month", "did you mean 'events_per_month'?"),
    "unknown_key_stream.yaml": ("streams.oil.shipment_tonnes", "did you mean 'shipment_t'?"),
    "unknown_key_investment.yaml": ("investments.0.cost_usd", "did you mean 'cost_musd'?"),
    "unknown_key_delay.yaml": ("delays.projects.0.month", "did you mean 'months'?"),
    "unknown_key_delays_section.yaml": ("delays.project", "did you mean 'projects'?"),
    "unknown_key_distribution.yaml": ("nodes.ferry.crossing_h.hi", "did you mean 'high'?"),
    "unknown_node_kind.yaml": ("nodes.baku_airport.kind", "unknown node kind 'airport'"),
    "missing_node_kind.yaml": ("nodes.kuryk.kind", "required field is missing; expected one of: port, sea_link"),
    "unknown_distribution.yaml": ("nodes.ferry.crossing_h.dist", "unknown distribution 'gamma'"),
    "unknown_policy.yaml": ("streams.general.route.3.policy", "expected one of: fixed_shares, least_delay"),
    # bad values
    "uniform_high_below_low.yaml": ("nodes.ferry.storms.duration_days", "high must be >= low (got low 5, high 2)"),
    "triangular_order.yaml": ("nodes.ferry.crossing_h", "low <= mode <= high"),
    "end_before_start.yaml": ("end_date", "expected a date after start_date 2024-01-01, got 2023-01-01"),
    "baseline_disruption_backwards.yaml": ("disruptions.0.end", "expected a date after start 2026-03-10"),
    "negative_capacity.yaml": ("nodes.alat.capacity_mt_per_year", "expected a value >= 0, got -15"),
    "negative_fleet.yaml": ("nodes.ferry.fleet.2025-01-01", "expected a value >= 0, got -1"),
    "fractional_berths.yaml": ("nodes.alat.berths", "expected a whole number (a count of berths or vessels), got 2.5"),
    "investment_fractional_vessels.yaml": ("investments.0.value", "expected a whole number of fleet (a count), got 0.5"),
    "negative_volume.yaml": ("streams.oil.volume_mt_per_year", "expected a volume >= 0, got -1.5"),
    "negative_shipment.yaml": ("streams.general.shipment_t", "expected a number > 0, got -1000"),
    "negative_payload.yaml": ("nodes.btk.train_payload_t", "expected a number > 0, got -2000"),
    "replications_zero.yaml": ("replications", "expected a number >= 1, got 0"),
    "seasonality_11_values.yaml": ("streams.general.seasonality", "expected 12 monthly factors"),
    "storms_13_rates.yaml": ("nodes.ferry.storms.events_per_month", "got 13 rates"),
    "nan_and_inf.yaml": ("nodes.caspian_ferry.vessel_payload_t", "expected a finite number, got inf"),
    "port_two_rates.yaml": ("nodes.alat", "expected exactly one of capacity_mt_per_year, handling_rate_t_per_h or "
                            "minutes_per_move (with t_per_move), got capacity_mt_per_year and handling_rate_t_per_h"),
    "when_full_without_room.yaml": ("nodes.aktau", "when_full: divert needs a waiting room: set yard_limit_t"),
    "appraisal_unknown_commodity.yaml": ("appraisal.value_usd_per_t.containres", "no stream carries commodity "
                                         "'containres'"),
    "uncertainty_bad_path.yaml": ("uncertainty.0.path", "cannot find it in the scenario"),
    # choices
    "choice_one_option.yaml": ("streams.general.route.3.choice", "expected at least two options"),
    "fixed_shares_without_shares.yaml": ("streams.general.route.3.shares", "policy fixed_shares (the default) needs"),
    "shares_unknown_option.yaml": ("streams.general.route.3.shares.trip", "did you mean 'tripp'?"),
    # references
    "route_unknown_node.yaml": ("streams.oil.route.1", "unknown node id 'ferri' (did you mean 'ferry'?)"),
    "choice_unknown_node.yaml": ("streams.general.route.3.choice.tripp.0", "unknown node id 'border_tripp'"),
    "investment_unknown_node.yaml": ("investments.0.node", "unknown node id 'kuryk'"),
    "baseline_unknown_node_id.yaml": ("investments.0.node", "unknown node id 'alat_containr' (did you mean 'alat_container'?)"),
    "delay_unknown_node.yaml": ("delays.operational.0.node", "unknown node id 'border_tr'"),
    "disruption_unknown_node.yaml": ("disruptions.0.node", "unknown node id 'kuryk'"),
    "investment_field_wrong_kind.yaml": ("investments.0.field", "'fleet' cannot be invested in on a port"),
    "investment_duplicate_id.yaml": ("investments.1.id", "duplicate investment id 'aktau_x'"),
    "investment_duplicate_id_extends.yaml": ("investments.1.id", "duplicate investment id 'ferry_new'"),
    "remove_unknown_investment.yaml": ("investments.0.id", "did you mean 'aktau_phase1'?"),
    "delay_no_match.yaml": ("delays.projects.0.match", "no investment id or tag 'tripp_open'"),
    "operational_delay_bad_field.yaml": ("delays.operational.0.field", "expected one of: dwell_h"),
    # horizon
    "investment_date_before_start.yaml": ("investments.0.date", "on or after start_date 2024-01-01, got 2023-01-01"),
    "disruption_date_outside.yaml": ("disruptions.0.start", "got 2023-01-01"),
    "opening_date_outside.yaml": ("nodes.tripp.opening_date", "on or after start_date 2024-01-01, got 2023-06-01"),
    # shipments that do not fit
    "shipment_exceeds_vessel.yaml": ("streams.general.shipment_t", "does not fit a vessel of node 'ferry'"),
    "shipment_exceeds_train.yaml": ("streams.general.shipment_t", "does not fit a train of node 'btk'"),
    "shipment_exceeds_tank.yaml": ("streams.oil.shipment_t", "does not fit the tank of node 'btc'"),
    "shipment_exceeds_yard.yaml": ("streams.general.shipment_t", "does not fit the yard of node 'alat'"),
    # route shape
    "route_visits_twice.yaml": ("streams.oil.route.3", "node 'ferry' is visited twice (also at route.1)"),
    "route_sealink_without_port.yaml": ("streams.oil.route.2", "sea link 'ferry' follows border 'border_ge'"),
    "route_starts_with_sealink.yaml": ("streams.oil.route.0", "the route starts with sea link 'ferry'"),
    "route_starts_with_rail.yaml": ("streams.rail_only.route.0", "the route starts with rail line 'btk'"),
    "route_empty.yaml": ("streams.oil.route", "expected at least one node id"),
    # several problems at once
    "three_errors.yaml": ("streams.oil.route.2", "unknown node id 'btcc'"),
    # limits (model/core/limits.py): what validate passes, run can do
    "horizon_too_long.yaml": ("end_date", "expected an end_date at most 50 years after start_date 2024-01-01"),
    "end_date_far_future.yaml": ("end_date", "expected a date <= 2200-12-31, got 9999-12-31"),
    "replications_too_many.yaml": ("replications", "expected a number <= 10000, got 1000000000"),
    "replications_inf.yaml": ("replications", "expected a finite number, got inf"),
    "shipments_too_many.yaml": ("streams.oil.shipment_t", "this run would create more than 10^15 shipments a "
                                "replication (limit 2,000,000)"),
    "negative_dwell.yaml": ("nodes.border_ge.dwell_h", "expected a number >= 0, got -5"),
    "uncertainty_parameter_huge.yaml": ("uncertainty.0.high", "expected a number <= 1e+12, got 1e+308"),
    "delay_months_huge.yaml": ("delays.projects.0.months", "expected a number <= 600, got 1e+308"),
    "delay_total_too_long.yaml": ("delays.projects.1.months", "the delays of investment 'aktau_phase1' add up to "
                                  "800 months; expected at most 600 (the limit)"),
    "investment_exceeds_limit.yaml": ("investments.0.value", "with the investments in node 'ferry', fleet.2025-01-01 "
                                      "is out of bounds: expected a value <= 1000 (the limit), got 5003"),
    "fleet_too_large.yaml": ("nodes.ferry.fleet", "expected a value <= 1000 (the limit), got 1e+09"),
    # vessel classes
    "vessel_class_unknown.yaml": ("nodes.ferry.vessels.big.vessel_class", "unknown vessel class 'jumbo'"),
    "vessel_class_without_unit.yaml": ("nodes.ferry.vessels.feeders.vessel_class",
                                       "gives no payload in wagons (the link's cargo_unit)"),
    "vessel_class_shipment_too_big.yaml": ("streams.oil.shipment_t", "does not fit the smallest vessel of node 'ferry' "
                                           "(1500 t fully loaded)"),
    "fleet_and_vessels.yaml": ("nodes.ferry", "or vessels (by class), got both"),
    "investment_unknown_vessel_group.yaml": ("investments.0.field", "does not use vessels.small.count"),
    "vessel_group_unknown_line.yaml": ("nodes.ferry.vessels.big.lines.0", "unknown line 'kuryk'"),
    "storm_rate_nan.yaml": ("nodes.ferry.storms.events_per_month.0", "expected a finite number, got nan"),
    "storm_rate_too_high.yaml": ("nodes.ferry.storms.events_per_month", "expected a rate <= 1000 (the limit)"),
    "latitude_out_of_range.yaml": ("nodes.alat.lat", "expected a number <= 90, got 1000"),
    # names become output folders
    "name_nul_byte.yaml": ("name", "expected a name without path separators or control characters"),
    "name_path_traversal.yaml": ("name", "got '/' in it"),
}

ERROR_LINE = re.compile(r"^error: (?P<file>[^:]+)(?::(?P<line>\d+))?: (?P<rest>.+)$")


def _errors(capsys: pytest.CaptureFixture) -> tuple[list[str], str]:
    out = capsys.readouterr()
    return out.err.splitlines(), out.out


def _line_of(path: Path, text: str, nth: int = 1) -> int:
    """1-based number of the ``nth`` line of a file containing ``text``."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return hits[nth - 1]


def test_every_bad_file_has_an_expectation():
    assert len(CASES) >= 30
    assert {p.name for p in CASES} == set(EXPECTED)


def test_the_helper_base_is_valid(capsys):
    assert main(["validate", str(BAD / "_base.yaml")]) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_validate_refuses_with_field_path(path, capsys):
    assert main(["validate", str(path)]) == 2
    lines, out = _errors(capsys)
    assert "OK" not in out
    assert lines, "no error printed"
    text = "\n".join(lines)
    assert "Traceback" not in text
    for line in lines:
        m = ERROR_LINE.match(line)
        assert m, f"not 'error: FILE[:LINE]: ...': {line}"
        assert path.name in line, f"the line does not name {path.name}: {line}"
        # pydantic's internal tags never leak into a path
        assert not re.search(r"function-after|tagged-union|\[key\]|Input should|Value error", line), line
    field, message = EXPECTED[path.name]
    wanted = [ln for ln in lines if message in ln and (field is None or f": {field}: " in ln)]
    assert wanted, f"expected a line with path {field!r} and {message!r}, got:\n{text}"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_run_refuses_and_writes_nothing(path, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    lines, stdout = _errors(capsys)
    assert lines and all(ln.startswith("error: ") for ln in lines)
    assert "Running" not in stdout
    assert list(tmp_path.iterdir()) == []


def test_all_problems_are_reported_in_one_pass(capsys):
    path = BAD / "three_errors.yaml"
    assert main(["validate", str(path)]) == 2
    lines, _ = _errors(capsys)
    assert len(lines) == 3, lines
    assert f"{path}:{_line_of(path, 'replications: 0')}: replications: expected a number >= 1" in lines[0]
    assert f"{path}:{_line_of(path, 'berths: -4')}: nodes.alat.berths: expected a value >= 0" in lines[1]
    assert f"{path}:{_line_of(path, 'btcc')}: streams.oil.route.2: unknown node id 'btcc'" in lines[2]


def test_a_broken_node_does_not_make_references_to_it_unknown(capsys):
    """three_errors.yaml breaks node 'alat', which the other routes, a disruption and
    the base's investments use: only the node's own error is reported."""
    main(["validate", str(BAD / "three_errors.yaml")])
    err = capsys.readouterr().err
    assert "unknown node id 'alat'" not in err


@pytest.mark.parametrize("name, text, nth", [
    ("unknown_key_node.yaml", "capacity_mt_per_yr", 1),
    ("route_unknown_node.yaml", "ferri", 1),
    ("investment_duplicate_id.yaml", "id: aktau_x", 2),
    ("yaml_tab.yaml", "\tberths", 1),
    ("yaml_bad_indent.yaml", "berths: 3", 1),
    ("yaml_unclosed_bracket.yaml", "shipment_t", 1),
    ("shares_unknown_option.yaml", "shares:", 1),
    ("baseline_unknown_node_id.yaml", "node: alat_containr", 1),
    ("investment_date_before_start.yaml", "date: 2023", 1),
    ("duplicate_yaml_key.yaml", "berths: 6", 1),
    ("invalid_date.yaml", "2024-13-01", 1),
])
def test_line_number_points_at_the_yaml_line(name, text, nth, capsys):
    path = BAD / name
    main(["validate", str(path)])
    err = capsys.readouterr().err
    assert f"error: {path}:{_line_of(path, text, nth)}: " in err, err


def test_inherited_value_points_at_the_parent_line(capsys):
    """The tank shrinks in the child; the shipment that no longer fits is written
    in the parent, so the error points there and says through which child."""
    path = BAD / "shipment_exceeds_tank.yaml"
    main(["validate", str(path)])
    err = capsys.readouterr().err
    base = BAD / "_base.yaml"
    line = _line_of(base, "shipment_t: 2000")
    assert f"error: {base}:{line}: streams.oil.shipment_t: " in err
    assert f"[inherited by {path} through extends]" in err


def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "nope.yaml"
    assert main(["validate", str(missing)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {missing}: file not found"


def test_scenario_error_lists_problems():
    with pytest.raises(ScenarioError) as e:
        load_scenario(BAD / "three_errors.yaml")
    assert len(e.value.problems) == 3
    assert str(e.value) == "\n".join(e.value.problems)


# ---------------------------------------------------------- extends merging


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_extends_replaces_timelines_and_changed_distributions(tmp_path):
    """Mappings of fields merge; a dated timeline or a distribution whose ``dist``
    changes replaces the parent's instead of mixing with it."""
    parent = (BAD / "_base.yaml").read_text()
    _write(tmp_path, "parent.yaml", parent)
    child = _write(tmp_path, "child.yaml", """\
extends: parent.yaml
nodes:
  btk:
    capacity_mt_per_year: {2024-01-01: 2.0}
  ferry:
    crossing_h: {dist: uniform, low: 20, high: 30}
  border_ge:
    dwell_h: {mean: 20}
streams:
  general:
    volume_mt_per_year: {2025: 1.0}
""")
    s = load_scenario(child)
    assert s.nodes["btk"].capacity_mt_per_year == {__import__("datetime").date(2024, 1, 1): 2.0}
    assert (s.nodes["ferry"].crossing_h.dist, s.nodes["ferry"].crossing_h.low) == ("uniform", 20)
    assert (s.nodes["border_ge"].dwell_h.mean, s.nodes["border_ge"].dwell_h.cv) == (20, 0.5)  # same dist: merged
    assert s.streams["general"].volume_mt_per_year == {2025: 1.0}
    assert s.nodes["aktau"].capacity_mt_per_year == 4.5  # untouched fields inherited


def test_extends_investment_paths_are_the_childs(tmp_path):
    """An investment added by a child is the parent's third after merging, but its
    error names it as the child wrote it: investments.0, at the child's line."""
    _write(tmp_path, "parent.yaml", (BAD / "_base.yaml").read_text())
    child = _write(tmp_path, "child.yaml", "extends: parent.yaml\ninvestments:\n"
                                           "  - {id: x, node: alat, field: berths, value: 1, date: 2023-01-01}\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(child)
    assert e.value.problems == [f"{child}:3: investments.0.date: expected a date on or after start_date 2024-01-01, "
                                "got 2023-01-01"]


def test_dates_after_the_horizon_are_legal_and_take_no_effect(tmp_path):
    """A child may cut its parent's horizon short: an investment or a timeline step dated on or after
    end_date is accepted, named by validate, and changes nothing within the horizon (the same tables
    as without it); an appraisal does not list it."""
    _write(tmp_path, "_base.yaml", (BAD / "_base.yaml").read_text())
    later = _write(tmp_path, "later.yaml", "extends: _base.yaml\nname: later\n"
                   "investments:\n  - {id: ferry_new, date: 2029-01-01}\n"
                   "nodes:\n  btk:\n    capacity_mt_per_year: {2024-01-01: 1.0, 2030-01-01: 5.0}\n")
    gone = _write(tmp_path, "gone.yaml", "extends: _base.yaml\nname: gone\n"
                  "investments:\n  - {id: ferry_new, remove: true}\n"
                  "nodes:\n  btk:\n    capacity_mt_per_year: {2024-01-01: 1.0}\n")
    assert "1 investment(s) dated on or after end_date 2027-01-01 take no effect within the horizon: ferry_new" \
        in model.validate(later)
    a, b = model.load(later), model.load(gone)
    assert a.end_date == date(2027, 1, 1)
    ra, rb = model.run(a, replications=1, seed=3), model.run(b, replications=1, seed=3)
    for name in ("annual_nodes", "annual_streams"):
        x, y = ra.tables()[name].drop(columns="scenario"), rb.tables()[name].drop(columns="scenario")
        pd.testing.assert_frame_equal(x, y)
    items, _ = items_of(a, "id", 12.0)
    assert "ferry_new" not in [it.name for it in items]


# --------------------------------------------------------- real entry point


def _run_py(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("name", ["yaml_tab.yaml", "three_errors.yaml", "extends_cycle_a.yaml"])
def test_run_py_validate_exits_2_without_traceback(name):
    r = _run_py("validate", str(BAD / name))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr and all(ln.startswith("error: ") for ln in r.stderr.splitlines())


def test_run_py_run_exits_2_and_writes_nothing(tmp_path):
    r = _run_py("run", str(BAD / "invalid_date.yaml"), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith("error: ")
    assert list(tmp_path.iterdir()) == []


def test_run_py_schema_prints_json_schema():
    r = _run_py("schema")
    assert r.returncode == 0, r.stderr
    schema = json.loads(r.stdout)
    assert {"nodes", "streams", "investments", "extends"} <= set(schema["properties"])
