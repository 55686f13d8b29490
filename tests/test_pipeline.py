"""The one experiment pipeline: designs are classes in a registry; every command's folder follows one
protocol (claimed by its definition and the model's code, locked, resumed only by the same); job
files are checked by key and value; uncertain inputs are checked at their joint extremes and
truncated; the command line calls only the library API. Each defect once found by trying the
product as a new user would has a test here (or in test_faults.py / test_bad_*.py)."""

from __future__ import annotations

import ast
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import model
import model.outputs.folders as folders
from model.cli import main
from model.experiments.designs import DESIGNS, Design, LatinHypercube, Morris, Parameter, Sobol
from model.scenario.uncertainty import UncertainInput, extremes

ROOT = Path(__file__).resolve().parent.parent
SWEEPS = ROOT / "tests" / "sweeps"
SMALL = SWEEPS / "small_base.yaml"


def copy_small(folder: Path, text: str = "", name: str = "s.yaml") -> Path:
    """A scenario file in ``folder`` that extends a copy of the small base (appending ``text``)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SMALL, folder / "small_base.yaml")
    path = folder / name
    path.write_text("extends: small_base.yaml\n" + text)
    return path


@pytest.fixture
def no_plots(monkeypatch):
    monkeypatch.setattr("model.outputs.report.write_outputs", lambda *a, **k: None)
    monkeypatch.setattr("model.outputs.plots.sweep_plots", lambda *a, **k: None)


# ------------------------------------------------------------------ designs


def test_every_design_is_a_registered_class_a_sweep_file_can_name():
    assert {"grid", "oat", "lhs", "morris", "sobol"} <= set(DESIGNS)
    for kind, cls in DESIGNS.items():
        assert issubclass(cls, Design) and cls.model_fields["kind"].default == kind


def test_latin_hypercube_puts_one_point_in_each_stratum_of_every_parameter():
    params = [Parameter(path="a", low=0, high=10), Parameter(path="b", low=-1, high=1)]
    pts = LatinHypercube(n=8, seed=3).points(params)
    for p, (lo, hi) in zip(params, [(0, 10), (-1, 1)]):
        strata = sorted(int((pt[p.path] - lo) / (hi - lo) * 8) for pt in pts)
        assert strata == list(range(8))


def test_sobol_recovers_the_variance_shares_of_a_linear_function():
    """y = 4 a + b with a, b uniform on (0, 1): Var = (16 + 1) / 12, so S1 = ST = 16/17 for a and
    1/17 for b (no interaction). The estimates must cover that within their 95% bootstrap widths
    (plus a small Monte Carlo allowance)."""
    params = [Parameter(path="a", low=0, high=1), Parameter(path="b", low=0, high=1)]
    design = Sobol(n=256, seed=1)
    pts = design.points(params)
    assert len(pts) == design.count(params) == 256 * 4
    y = [4 * p["a"] + p["b"] for p in pts]
    summary = pd.DataFrame({"point": range(len(y)), "measure": "y", "mean": y})
    idx = design.analyse(params, summary).set_index("parameter")
    for name, share in (("a", 16 / 17), ("b", 1 / 17)):
        for col in ("S1", "ST"):
            assert abs(idx.loc[name, col] - share) <= idx.loc[name, f"{col}_conf"] + 0.02, (name, col)


def test_morris_ranks_the_input_with_the_larger_effect_first():
    params = [Parameter(path="a", low=0, high=1), Parameter(path="b", low=0, high=1)]
    design = Morris(n=10, levels=4, seed=2)
    pts = design.points(params)
    summary = pd.DataFrame({"point": range(len(pts)), "measure": "y", "mean": [5 * p["a"] + p["b"] for p in pts]})
    idx = design.analyse(params, summary).set_index("parameter")
    assert idx.loc["a", "mu_star"] == pytest.approx(5.0) and idx.loc["b", "mu_star"] == pytest.approx(1.0)


def test_a_sweep_file_chooses_its_design_by_kind_and_refuses_what_it_cannot_do(tmp_path, capsys):
    base = tmp_path / "small_base.yaml"
    shutil.copy(SMALL, base)
    body = ("name: s\nbase: small_base.yaml\ndesign: {kind: sobol, n: 4, seed: 1}\nparameters:\n"
            "  - {path: nodes.ferry.fleet, low: 1, high: 3, integer: true}\n"
            "  - {path: nodes.a.capacity_mt_per_year, low: 2, high: 4}\nreplications: 2\n"
            "measures:\n  - {name: d, table: corridor, column: delivered_t, year: 2025}\n")
    (tmp_path / "ok.yaml").write_text(body)
    assert main(["validate", str(tmp_path / "ok.yaml")]) == 0
    assert "sobol design, 16 points" in capsys.readouterr().out
    (tmp_path / "odd.yaml").write_text(body.replace("n: 4", "n: 6"))
    assert main(["validate", str(tmp_path / "odd.yaml")]) == 2
    assert "design: expected n a power of 2" in capsys.readouterr().err
    twice = body.replace("design: {kind: sobol, n: 4, seed: 1}", "design: {kind: morris, n: 2}").replace(
        "nodes.a.capacity_mt_per_year, low: 2", "nodes.ferry.fleet, low: 2")
    (tmp_path / "twice.yaml").write_text(twice)
    assert main(["validate", str(tmp_path / "twice.yaml")]) == 2  # was an IndexError after every job had run
    assert "parameters.1.path: 'nodes.ferry.fleet' is also parameter 0" in capsys.readouterr().err
    (tmp_path / "levels.yaml").write_text(body.replace("design: {kind: sobol, n: 4, seed: 1}",
                                                       "design: {kind: morris, n: 2, levels: 5}"))
    assert main(["validate", str(tmp_path / "levels.yaml")]) == 2  # SALib only warned, on stderr
    err = capsys.readouterr().err
    assert "design: expected an even number of levels" in err and "Warning" not in err


# ------------------------------------------------------------------ the folder protocol


def test_a_job_file_moved_to_another_key_is_not_trusted(tmp_path):
    a, b = tmp_path / ("a" * 32 + ".json"), tmp_path / ("b" * 32 + ".json")
    folders.write_checked_json(a, {"x": 1})
    folders.write_checked_json(b, {"x": 2})
    assert folders.read_checked_json(a) == {"x": 1}
    a_text, b_text = a.read_text(), b.read_text()
    a.write_text(b_text)
    b.write_text(a_text)  # swapped: each holds a whole, well-formed record of the other key
    for p in (a, b):
        with pytest.raises(folders.DamagedFile):
            folders.read_checked_json(p)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_a_job_file_is_recomputed_not_read(tmp_path, no_plots, capsys):
    """An interrupted run's folder where a FIFO stands in place of a job file: --resume once hung on it."""
    from model.experiments.runner import plan
    from model.outputs.results import run_definition

    s = copy_small(tmp_path)
    scenario = model.load(s)
    out = tmp_path / "r"
    folder = folders.RunFolder.claim(out, kind="run", name=scenario.name,
                                     definition=run_definition("run", [scenario], scenario.seed, 2, False))
    folder.jobs.mkdir()
    os.mkfifo(folder.jobs / f"{plan([scenario], 2, scenario.seed, named=True)[0].key}.json")
    folder.release()
    assert main(["run", str(s), "--replications", "2", "--workers", "1", "--out", str(out), "--resume"]) == 0
    assert "is not a regular file" in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_resume_refuses_a_folder_started_by_other_code(tmp_path, no_plots, monkeypatch, capsys):
    sweep = tmp_path / "sw.yaml"
    shutil.copy(SMALL, tmp_path / "small_base.yaml")
    sweep.write_text((SWEEPS / "small_fleet.yaml").read_text().replace("values: [1, 2, 3]", "values: [1]")
                     .replace("replications: 3", "replications: 2"))
    out = tmp_path / "o"
    real, calls = model.experiments.runner.replicate, []

    def second_interrupted(*a, **k):  # the first job finishes and is stored, the second is interrupted
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(model.experiments.runner, "replicate", second_interrupted)
    assert main(["sweep", str(sweep), "--workers", "1", "--out", str(out)]) == 130
    assert len(list((out / "jobs").glob("*.json"))) == 1
    monkeypatch.setattr(model.experiments.runner, "replicate", real)
    monkeypatch.setattr(folders, "code_sha256", lambda: "0" * 64)  # the model's code was edited since
    assert main(["sweep", str(sweep), "--workers", "1", "--out", str(out), "--resume"]) == 2
    assert "was started by other model code" in capsys.readouterr().err


def test_appraise_resume_refuses_another_scenarios_folder(tmp_path, no_plots, monkeypatch, capsys):
    monkeypatch.setattr("model.outputs.report.write_appraisal_outputs", lambda *a, **k: None)
    one = copy_small(tmp_path, "name: one\ninvestments:\n  - {id: more, node: ferry, field: fleet, change: add, "
                     "value: 1, date: 2025-01-01}\n", "one.yaml")
    two = copy_small(tmp_path, "name: two\ninvestments:\n  - {id: more, node: ferry, field: fleet, change: add, "
                     "value: 2, date: 2025-01-01}\n", "two.yaml")
    out = tmp_path / "ap"
    assert main(["appraise", str(one), "--replications", "2", "--workers", "1", "--out", str(out)]) == 0
    before = sorted(p.name for p in out.iterdir())
    assert main(["appraise", str(two), "--replications", "2", "--workers", "1", "--out", str(out), "--resume"]) == 2
    assert "holds another appraisal" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before  # no file of the other scenario beside its own


def test_a_second_command_on_a_folder_in_use_is_refused(tmp_path):
    out = tmp_path / "busy"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; import model.outputs.folders as f\n"
        f"f.RunFolder.claim({str(out)!r}, kind='run', name='x', definition={{}})\n"
        "print('held', flush=True); time.sleep(60)")], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(folders.FolderRefused, match=rf"in use by another command \(process {holder.pid}\)"):
            folders.RunFolder.claim(out, kind="run", name="x", definition={}, resume=True)
    finally:
        holder.kill()
        holder.wait()
    # the holder died: its lock went with it, and the folder can be resumed
    folders.RunFolder.claim(out, kind="run", name="x", definition={}, resume=True).release()


def test_a_probe_left_by_a_full_disk_blocks_neither_a_rerun_nor_a_resume(tmp_path, no_plots):
    out = tmp_path / "r"
    out.mkdir()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (out / f".write-probe.tmp-{gone.pid}").write_text("probe")
    s = copy_small(tmp_path)
    assert main(["run", str(s), "--replications", "2", "--workers", "1", "--out", str(out)]) == 0
    assert not list(out.glob(".write-probe*"))


def test_check_writable_removes_its_probe_when_the_write_fails(tmp_path, monkeypatch):
    import builtins

    real_open = builtins.open

    class Full:
        def __init__(self, path, mode):
            self.f = real_open(path, mode)

        def __enter__(self):
            return self

        def write(self, _):
            raise OSError(28, "No space left on device")

        def __exit__(self, *a):
            self.f.close()

    monkeypatch.setattr(folders, "open", lambda p, m: Full(p, m), raising=False)
    with pytest.raises(OSError, match="cannot write in this folder"):
        folders.check_writable(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_workers_have_a_ceiling_and_more_than_the_cores_are_cut(tmp_path, no_plots, capsys):
    s = copy_small(tmp_path)
    assert main(["run", str(s), "--workers", "100000", "--out", str(tmp_path / "a")]) == 2
    assert "expected at most 256 workers" in capsys.readouterr().err
    cores = os.cpu_count() or 1
    assert main(["run", str(s), "--replications", "2", "--workers", str(cores + 3), "--out", str(tmp_path / "b")]) == 0
    assert f"--workers {cores + 3}: using {cores}" in capsys.readouterr().err


@pytest.mark.parametrize("args, says", [
    (["--tolerance", "nan"], "--tolerance"), (["--tolerance", "inf"], "--tolerance"),
    (["--scheduler", "foo"], "--scheduler: expected a Dask scheduler address"),
    (["--scheduler", "tls://x:1"], "--scheduler: expected a Dask scheduler address"),
    (["--shard", "3/3"], "shard: 3/3 owns no point"),
])
def test_bad_sweep_options_are_one_line_before_anything_runs(args, says, tmp_path, capsys):
    shutil.copy(SMALL, tmp_path / "small_base.yaml")
    sweep = tmp_path / "sw.yaml"
    sweep.write_text((SWEEPS / "small_fleet.yaml").read_text().replace("values: [1, 2, 3]", "values: [1]"))
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_sigterm_keeps_what_finished_and_says_how_to_resume(tmp_path):
    s = copy_small(tmp_path)
    out = tmp_path / "t"
    proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "run", str(s), "--replications", "12",
                             "--workers", "1", "--no-plots", "--out", str(out)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and not list((out / "jobs").glob("*.json")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "Traceback" not in err
    assert f"rerun the same command with --resume --out {out} to continue" in err.splitlines()[-1]


# ------------------------------------------------------------------ uncertain inputs


def test_validation_checks_the_joint_extremes_of_uncertain_inputs(tmp_path, capsys):
    """A shipment size and a vessel payload drawn independently: each alone is valid at either end,
    but the largest shipment on the smallest vessel is not (two of four replications drew it)."""
    s = copy_small(tmp_path, "uncertainty:\n"
                   "  - {path: streams.cargo.shipment_t, dist: uniform, low: 1000, high: 1900}\n"
                   "  - {path: nodes.ferry.vessel_payload_t, dist: uniform, low: 1500, high: 4000}\n")
    assert main(["validate", str(s)]) == 2
    err = capsys.readouterr().err
    assert "uncertainty" in err and "Traceback" not in err
    assert "streams.cargo.shipment_t = 1899.1, nodes.ferry.vessel_payload_t = 1502.5" in err


def test_draws_are_truncated_to_the_range_validation_checked():
    x = UncertainInput(path="p", dist="normal", mean=10, sd=3)
    lo, hi = x.quantile(0.001), x.quantile(0.999)
    assert x.quantile(1e-12) == lo and x.quantile(1 - 1e-12) == hi and lo < x.quantile(0.5) < hi
    y = UncertainInput(path="p", dist="lognormal", mean=10, cv=2)
    assert y.quantile(1 - 1e-15) == y.quantile(0.999) < math.inf


def test_extremes_are_every_corner_for_few_inputs_and_each_one_against_the_rest_for_many():
    assert len(extremes(3)) == 1 + 8
    many = extremes(8)
    assert len(many) == 3 + 2 * 8
    for i in range(8):  # every input seen at either end while all the others sit at the opposite end
        for a, b in ((0.001, 0.999), (0.999, 0.001)):
            assert any(q[i] == a and all(q[k] == b for k in range(8) if k != i) for q in many)


def test_one_distribution_family_serves_durations_and_uncertain_inputs():
    from model.core.distributions import SHAPES, as_distribution

    d = as_distribution({"dist": "triangular", "low": 6, "mode": 8, "high": 12})
    u = UncertainInput(path="x", dist="triangular", low=6, mode=8, high=12)
    assert type(u.distribution()) in SHAPES.values() and isinstance(d, type(u.distribution()))
    qs = np.array([0.1, 0.5, 0.9])
    np.testing.assert_allclose(d.quantile(qs), [u.quantile(q) for q in qs])


# ------------------------------------------------------------------ text, names and sizes


def test_no_user_text_reaches_a_table_as_a_spreadsheet_formula(tmp_path, capsys):
    for text, bad in [("name: '=HYPERLINK(1)'\n", "name"),
                      ("nodes:\n  a: {name: '@SUM(1)'}\n", "nodes.a.name"),
                      ("investments:\n  - {id: '-2+3', node: ferry, field: fleet, value: 1, date: 2025-01-01}\n",
                       "investments.0.id")]:
        s = copy_small(tmp_path, text)
        assert main(["validate", str(s)]) == 2
        err = capsys.readouterr().err
        assert f": {bad}: expected a" in err and "spreadsheet" in err, err


def test_names_are_bounded_in_bytes_as_file_systems_count_them(tmp_path, capsys):
    s = copy_small(tmp_path, "name: " + "é" * 60 + "\n")  # 60 characters, 120 bytes
    assert main(["validate", str(s)]) == 2
    assert "expected a name of 1 to 100 bytes in UTF-8" in capsys.readouterr().err
    assert len(folders.folder_name("ü" * 200).encode()) <= 100


def test_a_deep_extends_chain_is_refused_naming_the_limit(tmp_path, capsys):
    shutil.copy(SMALL, tmp_path / "c0.yaml")
    for i in range(1, 41):
        (tmp_path / f"c{i}.yaml").write_text(f"extends: c{i - 1}.yaml\nname: c{i}\n")
    assert main(["validate", str(tmp_path / "c40.yaml")]) == 2
    err = capsys.readouterr().err
    assert "would make a chain of more than 32 files (the limit" in err and "nests too deeply" not in err


def test_provenance_is_copied_by_subtree():
    from model.scenario.loader import _Prov, _Where

    p = _Prov({("a",): _Where(Path("f"), 1, ("a",)), ("a", "b"): _Where(Path("f"), 2, ("a", "b")),
               ("a", "b", 0): _Where(Path("f"), 3, ("a", "b", 0)), ("ab",): _Where(Path("f"), 4, ("ab",))})
    assert sorted(p.under(("a",)), key=str) == sorted([("a",), ("a", "b"), ("a", "b", 0)], key=str)
    p[("a", "c")] = _Where(Path("f"), 5, ("a", "c"))  # an added path is found too
    assert ("a", "c") in p.under(("a",))


def test_control_characters_in_a_file_are_one_line(tmp_path, capsys):
    bad = tmp_path / "ctl.yaml"
    bad.write_bytes(b"name: x\nseed: 1\x07\n")
    assert main(["validate", str(bad)]) == 2
    assert capsys.readouterr().err == (f"error: {bad}:2: the file holds a control character ('\\x07') that YAML does "
                                       "not allow; expected plain text\n")


@pytest.mark.parametrize("life", [0, 1e-17])
def test_an_asset_life_under_a_year_is_refused(life, tmp_path, capsys):
    s = copy_small(tmp_path, f"appraisal: {{asset_life_years: {life}}}\n")
    assert main(["validate", str(s)]) == 2
    assert "appraisal.asset_life_years" in capsys.readouterr().err


def test_compare_refuses_a_sweep_or_appraisal_folder_in_one_line(tmp_path, capsys):
    for kind in ("sweep", "appraisal"):
        f = tmp_path / kind
        f.mkdir()
        (f / "manifest.json").write_text(json.dumps({"kind": kind, "status": "complete"}))
        assert main(["compare", str(f), "--out", str(tmp_path / f"c-{kind}")]) == 2
        err = capsys.readouterr().err
        assert f"a {kind} folder, not a run or batch folder" in err and err.count("\n") == 1


# ------------------------------------------------------------------ the command line is a layer on the API


def test_the_command_line_imports_nothing_of_the_package_but_the_api():
    tree = ast.parse((ROOT / "model" / "cli.py").read_text())
    used = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("model"):
            used.add(node.module)
        elif isinstance(node, ast.Import):
            used.update(a.name for a in node.names if a.name.startswith("model"))
    assert used <= {"model", "model.core.limits"}, used


def test_the_api_has_every_option_of_the_command_line():
    """Each command's options are arguments of the API function it calls (a few are the command
    line's own: printing, checking, output formats)."""
    import inspect

    from model import api
    from model.cli import build_parser

    own = {"help", "quiet", "verbose", "json", "check", "out", "file", "files", "dirs", "no_plots", "quick"}
    calls = {"run": api.run, "batch": api.batch, "sweep": api.sweep, "appraise": api.appraise,
             "compare": api.compare, "validate": api.validate, "bench": api.bench}
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name, fn in calls.items():
        options = {a.dest for a in sub.choices[name]._actions} - own
        params = set(inspect.signature(fn).parameters) | {"scenario", "year"}
        assert options <= params, (name, options - params)


@pytest.mark.parametrize("delay", [{"dist": "lognormal", "mean": 200, "cv": 1.0}, {"dist": "uniform", "low": -40,
                                                                                   "high": -20}])
def test_without_an_opening_keeps_the_line_shut_whatever_the_drawn_delays(delay):
    """The appraisal's 'without' version of a line: shut for the whole horizon on every draw, even
    a 50-year horizon with the opening in its first months (a delay of over 600 months) and drawn
    delays that are large (hundreds of months, added up over projects) or negative."""
    from functools import partial

    from model.core.timeline import effective_investment_dates
    from model.experiments.appraise import without
    from model.experiments.runner import Variant
    from simkit import make_scenario, stream

    nodes = {"p": {"kind": "port", "berths": 2, "handling_rate_t_per_h": 500},
             "line": {"kind": "rail_line", "capacity_mt_per_year": 5.0, "train_payload_t": 1000}}
    inv = [{"id": "open_it", "node": "line", "field": "opening", "date": "2024-03-01", "tags": ["rail_line"]},
           {"id": "other", "node": "p", "field": "berths", "change": "add", "value": 1, "date": "2030-01-01",
            "tags": ["rail_line"]}]
    s = make_scenario(nodes, {"x": stream(["p", "line"], 1.0, 1000)}, investments=inv, end="2073-12-01",
                      uncertainty=[{"path": "delays.projects.rail_line.months", **delay}])
    shut = [effective_investment_dates(d)["open_it"]
            for d in Variant("w", s, partial(without, ids={"open_it"}, name="w")).draws(4, 3)]
    assert shut == [None] * 4
