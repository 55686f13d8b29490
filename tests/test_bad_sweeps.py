"""Bad sweep files are refused like bad scenarios: exit status 2, one line per
problem ``error: FILE:LINE: field.path: what was expected``, nothing written.

Every file in tests/sweeps_bad/ is a case and needs a row in ``EXPECTED``."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.cli import main

BAD = Path(__file__).resolve().parent / "sweeps_bad"
CASES = sorted(BAD.glob("*.yaml"))

# file -> (line and field path the error names, a piece of its message)
EXPECTED: dict[str, tuple[str, str]] = {
    "base_missing.yaml": ("2: base", "base scenario 'no_such_base.yaml' not found"),
    "expectation_not_swept.yaml": ("9: expectations.0.in", "(did you mean 'nodes.ferry.fleet'?)"),
    "expectation_unknown_measure.yaml": ("9: expectations.0.measure", "unknown measure 'delivred'"),
    "lhs_without_n.yaml": ("3: design.n", "required field is missing; expected a whole number >= 2"),
    "measure_stream_on_corridor.yaml": ("7: measures.0.stream", "table corridor has no stream column"),
    "measure_unknown_column.yaml": ("7: measures.0.column", "no column 'delivered_mt' (did you mean 'delivered_t'?)"),
    "measure_unknown_node.yaml": ("7: measures.0.node", "unknown node id 'fery' in the base scenario"),
    "measure_year_outside.yaml": ("7: measures.0.year", "expected a year of the base scenario (2024-2025), got 2030"),
    "parameter_bad_value.yaml": ("4: parameters.0", "invalid scenario at nodes.ferry.fleet: expected a value >= 0"),
    "parameter_unknown_field.yaml": ("4: parameters.0", "unknown field 'fleat' (did you mean 'fleet'?)"),
    "replications_one.yaml": ("3: replications", "expected a number >= 2, got 1"),
    "unknown_top_key.yaml": ("6: measure", "unknown field 'measure' (did you mean 'measures'?)"),
    "yaml_error.yaml": ("6", "YAML syntax error"),
    "empty_measures.yaml": ("4: measures", "expected at least 1 item(s), got 0"),
    "parameter_bad_date.yaml": ("4: parameters.0", "invalid scenario at start_date: expected an ISO date"),
    "parameter_high_without_low.yaml": ("5: parameters.0", "give both low and high"),
    "top_level_list.yaml": ("1", "expected a mapping of"),  # validate cannot tell a sweep from a scenario here
    # limits: checked before the design is expanded (10^8 grid points once ran for minutes)
    "grid_too_many_points.yaml": ("3: design", "this grid design has 100,000,000 points; expected at most 1,000"),
    "lhs_n_huge.yaml": ("3: design.n", "expected a number <= 1000, got 100000000"),
    "lhs_negative_seed.yaml": ("3: design.seed", "expected a number >= 0, got -1"),
    "range_backwards.yaml": ("5: parameters.0.range", "expected stop >= start (a range runs upwards)"),
    "range_inf.yaml": ("5: parameters.0.range.stop", "expected a finite number, got inf"),
    "where_on_text.yaml": ("9: expectations.0.where.nodes.a.name", "takes values that are not numbers"),
    "name_path_traversal.yaml": ("1: name", "expected a name without path separators"),
    "base_outside_project.yaml": ("2: base", "/etc/passwd is outside the project tree"),
}


def test_every_bad_sweep_has_an_expectation():
    assert sorted(p.name for p in CASES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
@pytest.mark.parametrize("command", ["sweep", "validate"])
def test_bad_sweep_exits_2_naming_file_line_and_field(path, command, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["sweep", str(path), "--out", str(out)] if command == "sweep" else ["validate", str(path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    where, piece = EXPECTED[path.name]
    assert f"error: {path}:{where}" in err, err
    assert piece in err and "Traceback" not in err
    assert not out.exists()


def test_a_good_sweep_validates(capsys):
    sweep = Path(__file__).resolve().parent / "sweeps" / "small_fleet.yaml"
    assert main(["validate", str(sweep)]) == 0
    assert "sweep 'small_fleet'" in capsys.readouterr().out
