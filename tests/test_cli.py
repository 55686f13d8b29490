"""The command line, in-process (``model.cli.main``) and once as a real process:
run folders, validation, bad input (exit 2, one line, nothing written), bench."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from model.cli import main

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"

SMALL = """\
# a two-node scenario: small enough to run in a fraction of a second
name: small
start_date: 2024-01-01
end_date: 2026-01-01
seed: 42
replications: 2
nodes:
  port:
    kind: port
    berths: 2
    capacity_mt_per_year: 1.0
  sea:
    kind: sea_link
    fleet: 2
    vessel_payload_t: 2000
    crossing_h: {dist: uniform, low: 18, high: 24}
    storms:
      events_per_month: 1.0
      duration_days: 2
streams:
  cargo:
    commodity: general
    volume_mt_per_year: {2024: 0.2, 2025: 0.3}
    shipment_t: 1000
    route: [port, sea]
"""


@pytest.fixture
def small(tmp_path: Path) -> Path:
    p = tmp_path / "small.yaml"
    p.write_text(SMALL)
    return p


def test_no_plots_writes_the_tables_and_the_report_without_figures(small: Path, tmp_path: Path):
    out = tmp_path / "quick"
    assert main(["run", str(small), "--out", str(out), "--replications", "2", "--workers", "1", "--no-plots"]) == 0
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert (out / "corridor_summary.csv").exists() and not (out / "plots").exists()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<img" not in report and "delivers" in report  # the sentences, no figures


@pytest.mark.parametrize("change", [("capacity_mt_per_year: 1.0", "capacity_mt_per_year: 0"),
                                    ("{2024: 0.2, 2025: 0.3}", "0")], ids=["port_closed", "no_demand"])
def test_one_replication_where_nothing_is_delivered(small: Path, tmp_path: Path, capsys, change):
    """A run of one replication in which nothing is delivered (a closed port, no demand):
    its intervals are NaN and its tables empty of cargo, and the whole folder, plots and
    report included, is still written (it crashed after simulating)."""
    small.write_text(small.read_text().replace(*change))
    out = tmp_path / "out"
    assert main(["run", str(small), "--out", str(out), "--replications", "1", "--workers", "1"]) == 0
    summary = pd.read_csv(out / "corridor_summary.csv")
    assert (summary["delivered_mt"] == 0).all() and summary["delivered_ci95_lo_mt"].isna().all()
    assert (out / "report.html").is_file()


def test_run_writes_a_complete_folder(small: Path, tmp_path: Path, capsys):
    out = tmp_path / "runs" / "first"
    assert main(["run", str(small), "--out", str(out), "--replications", "2", "--workers", "1",
                 "--seed", "3"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["seed"] == 3 and manifest["replications"] == 2
    assert manifest["scenarios"][0]["name"] == "small"
    for name in ["annual_nodes", "annual_streams", "bottlenecks", "corridor", "summary"]:
        assert (out / f"{name}.csv").stat().st_size > 0, name
    nodes = pd.read_csv(out / "annual_nodes.csv")
    # 2 replications x 2 years x 2 nodes
    assert len(nodes) == 8 and set(nodes["replication"]) == {0, 1} and set(nodes["year"]) == {2024, 2025}
    for png in ["throughput_vs_capacity.png", "utilisation_heatmap.png"]:
        assert (out / "plots" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "scenario-small.yaml").exists()
    # nothing but the final folder next to it (the temporary build folder was renamed)
    assert [p.name for p in out.parent.iterdir()] == ["first"]
    printed = capsys.readouterr().out
    assert "small" in printed and str(out) in printed


def test_run_refuses_a_non_empty_out_folder(small: Path, tmp_path: Path, capsys):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["run", str(small), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--out" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_validate_baseline_exits_0(capsys):
    assert main(["validate", str(BASELINE)]) == 0
    assert "OK" in capsys.readouterr().out


def test_validate_baseline_as_a_process():
    p = subprocess.run([sys.executable, "run.py", "validate", "scenarios/baseline.yaml"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "OK" in p.stdout and p.stderr == ""


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


UNKNOWN_FIELD = SMALL.replace("    berths: 2\n", "    berth: 2\n")
BAD = {
    # name: (file content or None for a missing file, what the message says, line it names)
    "missing": (None, "not found", None),
    # the parser reports where it notices the problem, a line or two below the bracket
    "yaml_syntax": (SMALL.replace("  sea:\n", "  sea: [\n", 1), "YAML", r"\d+"),
    "unknown_field": (UNKNOWN_FIELD, "unknown field 'berth'", str(line_of(UNKNOWN_FIELD, "    berth: 2"))),
}


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_one_line_naming_the_file(case, command, tmp_path: Path, capsys):
    content, says, line = BAD[case]
    path = tmp_path / f"{case}.yaml"
    if content is not None:
        path.write_text(content)
    out = tmp_path / "out"
    argv = ["validate", str(path)] if command == "validate" else ["run", str(path), "--out", str(out)]
    assert main(argv) == 2  # and no exception: a traceback would fail the test
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"error: {path}") and says in lines[0]
    if line is not None:
        assert re.match(rf"error: {re.escape(str(path))}:{line}: ", lines[0]), lines[0]
    if case == "unknown_field":
        assert "nodes.port.berth" in lines[0] and "did you mean 'berths'" in lines[0]
    assert "Traceback" not in captured.err + captured.out
    # nothing written: only the scenario file itself is in the folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ([path.name] if content is not None else [])


def test_bad_input_as_a_process_has_no_traceback(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text(UNKNOWN_FIELD)
    p = subprocess.run([sys.executable, str(ROOT / "run.py"), "run", str(path), "--out", str(tmp_path / "o")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1
    assert p.stderr.startswith(f"error: {path}:{line_of(UNKNOWN_FIELD, '    berth: 2')}: ")
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists() and not (tmp_path / "results").exists()


@pytest.mark.parametrize("argv", [["run", "--replications", "0"], ["run", "--seed", "-1"],
                                  ["run", "--workers", "x"]])
def test_bad_options_exit_2(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: corridor run: argument") and err.count("\n") == 1 and "Traceback" not in err


def test_schema_prints_json_schema(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"nodes", "streams", "extends", "start_date"} <= set(schema["properties"])


@pytest.mark.slow
def test_bench_json(small: Path, capsys):
    """Times a bare simpy tandem queue (a few seconds), the model on a small scenario,
    peak memory in fresh processes and a 20-job sweep; the figures hang together."""
    assert main(["bench", "--json", "--scenario", str(small)]) == 0
    res = json.loads(capsys.readouterr().out)
    keys = ("model_us_per_hop", "bare_us_per_hop", "ratio", "events_per_hop", "kernel_floor_share", "us_per_shipment",
            "kernel_us_per_event",
            "replication_cpu_s", "tables_share", "peak_memory_7y_mb", "peak_memory_28y_mb", "sweep_wall_s", "sweep_cpu_s")
    assert all(res[k] > 0 for k in keys)
    assert res["ratio"] == pytest.approx(res["model_us_per_hop"] / res["bare_us_per_hop"], rel=0.01)
    assert res["events"] == pytest.approx(res["events_per_hop"] * res["hops"], rel=1e-3)
    assert res["hops"] >= res["shipments"] > 0  # every shipment visits at least one node
    # a timeout and a resume cost less than a tandem's event (a resource's request or release)
    assert res["kernel_us_per_event"] < res["bare_us_per_event"] and res["kernel_floor_share"] < 1
    assert 0 < res["tables_share"] < 1 and res["sweep_jobs"] == 20
    # goals are ratios: a replication's seconds and a sweep's minutes are reported, not judged; the appraisal's
    # share only over the scenario's whole horizon (the small scenario has no costed investment: none)
    assert set(res["goals"]) == {"ratio", "events_per_hop", "memory_28y_over_7y"}
    assert res["replication_cpu_s"] > 0 and res["sweep_250_jobs_min"] > 0
    assert all(g["met"] == (g["value"] <= float(g["target"].split()[1])) for g in res["goals"].values())
    # the engine that ran, with its own goal; the load, flagged above one per core; timings as ratios
    from model.core.compiled import current

    assert res["engine"] == ("compiled" if current().compiled else "python")
    assert res["goals"]["ratio"]["target"] == ("<= 0.6" if current().compiled else "<= 1.0")
    assert res["busy"] == (max(res["load_average_before"], res["load_average_after"]) > res["cores"])
    assert res["us_per_shipment_x_bare"] == pytest.approx(res["us_per_shipment"] / res["bare_us_per_hop"], rel=0.01)
    assert res["replication_cpu_s_x_bare"] == pytest.approx(res["replication_cpu_s"] * 1e6 / res["bare_us_per_hop"],
                                                            rel=0.01)


def test_bench_with_a_bad_scenario_exits_2_before_timing(tmp_path: Path, capsys):
    assert main(["bench", "--scenario", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


SMALL_INVESTED = SMALL + """\
investments:
  - {id: second_fleet, node: sea, field: fleet, change: add, value: 2, date: 2024-07-01, cost_musd: 30}
appraisal:
  value_usd_per_t: {general: 15}
"""


def test_appraise_ranks_the_investments_and_writes_its_folder(tmp_path: Path, capsys):
    f = tmp_path / "small.yaml"
    f.write_text(SMALL_INVESTED)
    out = tmp_path / "ap"
    assert main(["appraise", str(f), "--out", str(out), "--replications", "2", "--workers", "1",
                 "--delay-months", "6", "--sequence"]) == 0
    printed = capsys.readouterr().out
    # the second fleet adds no cargo here: it ranks first (alone) but never "matters most"
    assert "second_fleet ranks first" in printed and "matters most" not in printed and "A programme" in printed
    assert "NPV (M USD) at other real discount rates" in printed and "10%" in printed
    for name in ["appraisal.csv", "appraisal_years.csv", "appraisal_sequence.csv", "report.html", "manifest.json"]:
        assert (out / name).stat().st_size > 0, name
    assert json.loads((out / "manifest.json").read_text())["delay_months"] == 6
    # a second call into the same folder needs --resume, and then reruns nothing
    assert main(["appraise", str(f), "--out", str(out), "--replications", "2", "--workers", "1"]) == 2
    assert "--resume" in capsys.readouterr().err


@pytest.mark.parametrize("args, says", [
    (["--delay-months", "0"], "--delay-months"),
    (["--budget-musd", "100"], "--sequence"),
])
def test_appraise_refuses_bad_options(tmp_path: Path, capsys, args, says):
    f = tmp_path / "small.yaml"
    f.write_text(SMALL_INVESTED)
    try:
        code = main(["appraise", str(f), "--out", str(tmp_path / "ap"), *args])
    except SystemExit as e:  # argparse's own usage errors
        code = e.code
    assert code == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "ap").exists()


def test_appraise_needs_investments(small: Path, tmp_path: Path, capsys):
    assert main(["appraise", str(small), "--out", str(tmp_path / "ap")]) == 2
    assert "no investments" in capsys.readouterr().err
