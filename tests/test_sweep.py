"""Sweeps: expectations gate CI, results survive a kill, and never depend on how they ran."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from model.cli import main
from model.experiments.designs import LatinHypercube, OneAtATime
from model.experiments.runner import execute
from model.experiments.sweep_file import load_sweep
from model.experiments.sweeps import _extract, collect, sweep_jobs
from model.scenario.uncertainty import set_path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SWEEPS = HERE / "sweeps"


def run_sweep(tmp: Path, *extra: str, name: str = "small_fleet.yaml") -> int:
    return main(["sweep", str(SWEEPS / name), "--out", str(tmp), *extra])


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml")), ids=lambda p: p.name)
def test_example_sweeps_load(path):
    sweep = load_sweep(path)
    assert sweep.points and len(sweep.scenarios) == len(sweep.points)


def test_grid_oat_and_lhs_designs():
    sweep = load_sweep(SWEEPS / "small_fleet.yaml")
    assert len(sweep.points) == 6
    assert {p["nodes.ferry.fleet"] for p in sweep.points} == {1, 2, 3}
    spec = sweep.spec.model_copy(update={"design": OneAtATime()})
    oat = spec.points()
    assert oat[0] == {"nodes.ferry.fleet": 2, "nodes.a.capacity_mt_per_year": 4.0}
    assert len(oat) == 1 + 2 + 1  # base, two other fleets, one other capacity
    lhs_spec = spec.model_copy(update={"design": LatinHypercube(n=5, seed=3)})
    lhs = lhs_spec.points()
    assert len(lhs) == 5 and lhs == lhs_spec.points()
    # one point in each fifth of every parameter's span (a Latin hypercube), levels in equal shares
    assert sorted(p["nodes.a.capacity_mt_per_year"] for p in lhs) != [lhs[0]["nodes.a.capacity_mt_per_year"]] * 5


def test_set_path_creates_delay_and_finds_items_by_id():
    data = {"investments": [{"id": "x", "date": "2025-01-01"}], "nodes": {"a": {"fleet": 1}}}
    set_path(data, "investments.x.date", "2026-01-01")
    set_path(data, "delays.projects.tripp.months", 12)
    set_path(data, "nodes.a.fleet", 3)
    assert data["investments"][0]["date"] == "2026-01-01"
    assert data["delays"]["projects"] == [{"match": "tripp", "months": 12}]
    assert data["nodes"]["a"]["fleet"] == 3
    with pytest.raises(KeyError):
        set_path(data, "nodes.nowhere.fleet", 1)


def test_check_passes_on_true_and_fails_on_false_expectation(tmp_path, capsys):
    assert run_sweep(tmp_path / "ok", "--check", "--workers", "2") == 0
    assert run_sweep(tmp_path / "bad", "--check", "--workers", "2", name="small_false.yaml") == 1
    out = capsys.readouterr().out
    assert "FAILED  every fleet delivers at least 1.1 Mt at point 0 {'nodes.ferry.fleet': 1}" in out
    assert "95% CI" in out
    # without --check the same sweep reports but exits 0
    assert run_sweep(tmp_path / "bad", "--resume", "--workers", "2", name="small_false.yaml") == 0


@pytest.mark.slow
def test_workers_and_dask_give_identical_tables(tmp_path):
    sweep = load_sweep(SWEEPS / "small_fleet.yaml")
    jobs = sweep_jobs(sweep)

    def table(**how) -> pd.DataFrame:
        return collect(sweep, execute([j for _, j in jobs], _extract(sweep), seed=sweep.seed, **how), jobs)

    one = table(store=tmp_path / "one", workers=1)
    pd.testing.assert_frame_equal(one, table(store=tmp_path / "two", workers=2))
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        pd.testing.assert_frame_equal(one, table(store=tmp_path / "dask", scheduler=cluster.scheduler_address))


@pytest.mark.slow
def test_shards_together_equal_the_whole(tmp_path):
    assert run_sweep(tmp_path / "all", "--workers", "2") == 0
    assert run_sweep(tmp_path / "s1", "--shard", "1/2", "--workers", "2") == 0
    assert run_sweep(tmp_path / "s2", "--shard", "2/2", "--workers", "2") == 0
    whole = pd.read_csv(tmp_path / "all" / "sweep.csv")
    parts = pd.concat([pd.read_csv(tmp_path / s / "sweep.csv") for s in ("s1", "s2")])
    parts = parts.sort_values(["point", "replication", "measure"]).reset_index(drop=True)
    whole = whole.sort_values(["point", "replication", "measure"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(whole, parts)
    p1 = set(pd.read_csv(tmp_path / "s1" / "sweep.csv")["point"])
    p2 = set(pd.read_csv(tmp_path / "s2" / "sweep.csv")["point"])
    assert not p1 & p2


@pytest.mark.slow
def test_sigkill_and_resume_gives_the_uninterrupted_table(tmp_path):
    out = tmp_path / "killed"
    cmd = [sys.executable, str(ROOT / "run.py"), "sweep", str(SWEEPS / "small_fleet.yaml"), "--out", str(out),
           "--workers", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:  # kill once some, but not all, results are stored
        done = len(list((out / "jobs").glob("*.json"))) if (out / "jobs").exists() else 0
        if done >= 4:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = len(list((out / "jobs").glob("*.json")))
    assert 4 <= stored < 18, f"the kill should land mid-sweep, found {stored} stored results"
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"  # not complete
    assert run_sweep(out, "--resume", "--workers", "2") == 0
    assert json.loads((out / "manifest.json").read_text())["jobs_run_now"] == 18 - stored
    assert run_sweep(tmp_path / "clean", "--workers", "2") == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv"), pd.read_csv(tmp_path / "clean" / "sweep.csv"))


@pytest.mark.slow
def test_baseline_comparison_flags_changes(tmp_path, capsys):
    assert run_sweep(tmp_path / "a", "--workers", "2") == 0
    summary = pd.read_csv(tmp_path / "a" / "summary.csv")
    assert run_sweep(tmp_path / "b", "--check", "--workers", "2", "--baseline", str(tmp_path / "a" / "summary.csv"),
                     "--tolerance", "0") == 0  # same seeds, same model: no change at all
    summary.loc[0, "mean"] *= 1.5
    summary.to_csv(tmp_path / "moved.csv", index=False)
    assert run_sweep(tmp_path / "b", "--resume", "--check", "--baseline", str(tmp_path / "moved.csv")) == 1
    assert "CHANGED point 0" in capsys.readouterr().out


def test_bad_sweep_input_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbase: ../../tests/sweeps/small_base.yaml\nparameters:\n  - path: nodes.nowhere.fleet\n"
                   "    values: [1]\nmeasures:\n  - {name: m, column: delivered_t}\n")
    bad.write_text(bad.read_text().replace("../../tests/sweeps/small_base.yaml", str(SWEEPS / "small_base.yaml")))
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o"), "--allow-outside"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:4: parameters.0.path: cannot set it in the base scenario: no 'nowhere' in nodes" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert main(["sweep", str(SWEEPS / "small_fleet.yaml"), "--shard", "3/2", "--out", str(tmp_path / "o")]) == 2
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text((SWEEPS / "small_false.yaml").read_text().replace("small_base.yaml", str(SWEEPS / "small_base.yaml"))
                       + "colour: blue\n")
    assert main(["sweep", str(unknown), "--allow-outside"]) == 2
    assert "colour" in capsys.readouterr().err
