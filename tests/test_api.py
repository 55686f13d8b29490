"""The library API: model.load / run / batch / read / sweep return typed objects;
a folder written by Results.write reads back equal; the command line wraps the API."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import model
from model.analysis.measures import TABLES
from simkit import make_scenario, stream

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def small():
    nodes = {"port": {"kind": "port", "berths": 1, "handling_rate_t_per_h": 400},
             "sea": {"kind": "sea_link", "fleet": 2, "vessel_payload_t": 3000, "load_h": 4, "crossing_h": 20,
                     "unload_h": 4},
             "rail": {"kind": "rail_line", "paths_per_day": 2, "train_payload_t": 2000, "transit_h": 24}}
    return make_scenario(nodes, {"x": stream(["port", "sea", "rail"], 1.2, 1000)}, end="2026-01-01", name="small")


@pytest.fixture(scope="module")
def results(small):
    return model.run(small, replications=2, seed=5, workers=1)


def test_run_returns_typed_results_with_every_declared_table(results, small):
    assert isinstance(results, model.Results)
    assert results.names == ["small"] and results.scenario("small") == small
    assert results.info == model.RunInfo("run", 5, 2, ("",), results.info.wall_s)
    for name, table in TABLES.items():
        assert list(getattr(results, name).columns) == table.names(), name
    assert sorted(results.corridor["replication"].unique()) == [0, 1]
    assert not results.bound.empty and results.corridor_summary["bound_mt"].notna().all()
    assert results.differences.empty  # one scenario: nothing to pair
    with pytest.raises(AttributeError):
        results.corridor = pd.DataFrame()  # frozen


def test_written_folder_reads_back_equal(results, tmp_path):
    folder = results.write(tmp_path / "run", plots=False)
    back = model.read(folder)
    assert back == results
    # and the comparison can fail: one changed number, or another seed, is another result
    changed = results.corridor.copy()
    changed.loc[0, "delivered_t"] += 1.0
    assert replace(results, corridor=changed) != back
    assert replace(results, info=replace(results.info, seed=6)) != back


def test_read_refuses_an_unfinished_folder(tmp_path):
    (tmp_path / "half").mkdir()
    with pytest.raises(FileNotFoundError, match="not a finished run"):
        model.read(tmp_path / "half")


def test_batch_pairs_scenarios_and_keeps_them_apart(small):
    bigger = small.model_copy(update={"name": "bigger", "nodes": {
        **small.nodes, "rail": small.nodes["rail"].model_copy(update={"paths_per_day": 4})}})
    b = model.batch([small, bigger], replications=2, seed=5, workers=1)
    assert b.names == ["small", "bigger"] and b.info.kind == "batch"
    d = b.differences[b.differences["measure"] == "delivered_mt"]
    assert set(d["scenario"]) == {"bigger"} and set(d["reference"]) == {"small"}
    # replication k of both scenarios used the same demand: identical generated tonnes
    dem = b.corridor.pivot_table(index=["replication", "year"], columns="scenario", values="demand_t")
    np.testing.assert_array_equal(dem["small"], dem["bigger"])
    with pytest.raises(ValueError, match="must differ"):
        model.batch([small, small], replications=2)


def test_one_replication_runs_and_leaves_intervals_empty(small, tmp_path):
    r = model.run(small, replications=1, seed=5, workers=1)
    assert r.corridor_summary["delivered_ci95_lo_mt"].isna().all()
    assert r.corridor_summary["delivered_mt"].notna().all()
    assert model.read(r.write(tmp_path / "one", plots=False)) == r


def test_load_reports_bad_files_as_scenario_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstart_date: 2024-01-01\n")
    with pytest.raises(model.ScenarioError) as e:
        model.load(bad)
    assert all(str(bad) in p for p in e.value.problems)


def test_python_m_model_and_version():
    out = subprocess.run([sys.executable, "-m", "model", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == f"corridor {model.__version__}"


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "corridor"
    if not script.exists():
        pytest.skip("the package is not installed in this interpreter's environment (pip install -e .)")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and model.__version__ in out.stdout


def test_api_names_are_not_shadowed_by_submodules():
    """Importing every submodule must not turn an API function into a module attribute of
    the same name (a submodule ``model/appraise.py`` once hid ``model.appraise``)."""
    import importlib
    import pkgutil

    for info in pkgutil.walk_packages(model.__path__, prefix="model."):
        importlib.import_module(info.name)
    for name in model.__all__:
        assert not isinstance(getattr(model, name), type(model)), f"model.{name} is a module"


@pytest.mark.parametrize("n", [0, 10_001])
def test_replications_outside_the_limit_are_refused(n):
    """The API refuses what the command line and the schema refuse (model/core/limits.py)."""
    with pytest.raises(ValueError, match="replications: expected 1 to 10000"):
        model.run(ROOT / "scenarios" / "baseline.yaml", replications=n)
