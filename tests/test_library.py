"""The scenario library inside the package: named from any folder, listed with its
questions, copied for editing; and the packaging around it (shadowing of the import name
``model``, the commit a manifest records, ``py.typed``). The installed wheel is checked
as a new user would in ``test_wheel.py``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import model
from model.cli import main
from model.outputs import folders
from model.scenario import library

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


# ------------------------------------------------------------- names


def test_the_library_is_the_top_level_scenarios_folder_in_a_checkout():
    assert library.library_dir() == SCENARIOS
    assert library.names() == sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    assert library.names("sweep") == sorted(p.stem for p in (SCENARIOS / "sweeps").glob("*.yaml"))


@pytest.mark.parametrize("name", ["baseline", "baseline.yaml", "tripp_delay_2y"])
def test_a_library_name_loads_from_any_folder(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = model.load(name)
    assert s.name == name.removesuffix(".yaml")


def test_a_file_that_exists_wins_over_the_library_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (SCENARIOS / "baseline.yaml").read_text(encoding="utf-8").replace("name: baseline", "name: mine", 1)
    Path("baseline.yaml").write_text(text, encoding="utf-8")
    assert model.load("baseline.yaml").name == "mine"   # the file here
    assert model.load("baseline").name == "baseline"    # no file 'baseline' here: the library's


def test_an_unknown_name_is_one_line_with_a_suggestion(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(model.ScenarioError) as e:
        model.load("baselin")
    assert e.value.problems == ["baselin: file not found, and the library has no scenario named 'baselin' (did you "
                                "mean 'baseline'?); expected a file path or a library name (`corridor scenarios` "
                                "lists them)"]
    with pytest.raises(model.ScenarioError) as e:   # a path of another shape is just not found
        model.load("sub/baseline.yaml")
    assert e.value.problems == ["sub/baseline.yaml: file not found"]


def test_sweeps_are_named_too_and_resolve_their_base_in_the_library(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert library.resolve("tripp_delay", "sweep") == SCENARIOS / "sweeps" / "tripp_delay.yaml"
    assert library.resolve("sweeps/tripp_delay", "any") == SCENARIOS / "sweeps" / "tripp_delay.yaml"
    assert main(["validate", "tripp_delay"]) == 0
    assert "OK: sweep 'tripp_delay'" in capsys.readouterr().out


def test_the_command_line_runs_names_and_says_when_a_local_copy_is_not_the_one_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "baseline"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith(f"{SCENARIOS / 'baseline.yaml'}: OK") and out.err == ""
    (tmp_path / "scenarios").mkdir()
    shutil.copy(SCENARIOS / "baseline.yaml", tmp_path / "scenarios" / "baseline.yaml")
    assert main(["validate", "baseline"]) == 0
    assert "to run your copy, name it: scenarios/baseline.yaml" in capsys.readouterr().err
    monkeypatch.chdir(ROOT)  # in the checkout, scenarios/ is the library itself: nothing to say
    assert main(["validate", "baseline"]) == 0
    assert capsys.readouterr().err == ""
    assert main(["run", "baselin", "--replications", "1"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "did you mean 'baseline'?" in err
    assert not (tmp_path / "results").exists()


def test_scenarios_lists_every_library_file_with_the_question_it_answers(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for e in library.entries() + library.entries("sweep"):
        assert re.search(rf"^  {e.name}\s", out, re.M), e.name
        assert e.question and len(e.question) > 20, e
    # every scenario states its question (a sweep may state what it measures instead)
    assert all(e.question.endswith("?") for e in library.entries()), \
        [e.name for e in library.entries() if not e.question.endswith("?")]
    assert model.scenarios().set_index("name").loc["baseline", "question"].startswith("If every announced project")


def test_init_copies_the_library_into_a_project_whose_files_validate(tmp_path, capsys):
    assert main(["init", str(tmp_path / "work")]) == 0
    copied = tmp_path / "work" / "scenarios"
    assert "Copied the scenario library" in capsys.readouterr().out
    assert sorted(p.name for p in copied.glob("*.yaml")) == sorted(p.name for p in SCENARIOS.glob("*.yaml"))
    assert sorted(p.name for p in (copied / "sweeps").glob("*.yaml")) == \
        sorted(p.name for p in (SCENARIOS / "sweeps").glob("*.yaml"))
    assert sorted(p.name for p in (copied / "schemas").glob("*.json")) == \
        sorted(p.name for p in (SCENARIOS / "schemas").glob("*.json"))
    # extends and a sweep's base resolve inside the copy (its own project tree)
    assert main(["validate", str(copied / "tripp_delay_2y.yaml")]) == 0
    assert main(["validate", str(copied / "sweeps" / "tripp_delay.yaml")]) == 0
    capsys.readouterr()
    # never over an existing copy: one line, exit 2, nothing changed
    (copied / "baseline.yaml").write_text("edited", encoding="utf-8")
    assert main(["init", str(tmp_path / "work")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "already exists" in err and len(err.strip().splitlines()) == 1
    assert (copied / "baseline.yaml").read_text(encoding="utf-8") == "edited"


def test_an_installed_library_is_its_own_project_tree(tmp_path, monkeypatch):
    """In a wheel the library is model/library/ (no scenarios/ or pyproject.toml above it): a
    sweep's ``base: ../baseline.yaml`` must still resolve there."""
    installed = tmp_path / "site-packages" / "model" / "library"
    shutil.copytree(SCENARIOS, installed)
    monkeypatch.setattr(library, "INSTALLED", installed)
    assert library.library_dir() == installed
    from model.experiments.sweeps import load_sweep

    sw = load_sweep("tripp_delay")
    assert sw.file == installed / "sweeps" / "tripp_delay.yaml" and sw.base.name == "baseline"


# ------------------------------------------------------------- the import name `model`


def test_python_m_model_refuses_another_copy_of_the_package(tmp_path):
    shutil.copytree(ROOT / "model", tmp_path / "model", ignore=shutil.ignore_patterns("__pycache__"))
    r = subprocess.run([sys.executable, "-m", "model", "--version"], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"error: python -m model found the copy of the package in {tmp_path / 'model'}")
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_the_console_script_refuses_a_foreign_model_on_the_path(tmp_path):
    script = Path(sys.executable).parent / "corridor"
    assert script.exists(), "the package is not installed in this interpreter's environment (pip install -e .)"
    (tmp_path / "model.py").write_text("raise SystemExit('a foreign model ran')\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    r = subprocess.run([str(script), "--version"], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "foreign model ran" not in r.stderr
    assert r.stderr.startswith(f"error: corridor: `import model` finds {tmp_path / 'model.py'}, not the simulator's")
    assert len(r.stderr.strip().splitlines()) == 1
    ok = subprocess.run([str(script), "--version"], cwd=tmp_path, capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == f"corridor {model.__version__}"


# ------------------------------------------------------------- versions and commits


def _git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=env).stdout.strip()


def test_the_commit_is_the_checkouts_own_when_the_package_is_its_work_tree(tmp_path, monkeypatch):
    repo = tmp_path / "clone"
    (repo / "model").mkdir(parents=True)
    (repo / "model" / "__init__.py").write_text("")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "c")
    monkeypatch.setattr(folders, "PACKAGE_DIR", repo / "model")
    assert folders.git_commit() == _git(repo, "rev-parse", "HEAD")
    (repo / "model" / "__init__.py").write_text("x = 1\n")
    assert folders.git_commit() == _git(repo, "rev-parse", "HEAD") + "+dirty"


def test_the_commit_is_never_the_users_repository_that_holds_the_install(tmp_path, monkeypatch):
    """A venv inside the user's own git project: the package folder sits in that work tree,
    but is not its model/ (nor tracked there), so the build's commit is recorded instead."""
    user = tmp_path / "analysis"
    pkg = user / ".venv" / "lib" / "site-packages" / "model"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (user / "notes.md").write_text("mine")
    _git(user, "init", "-q")
    _git(user, "add", "notes.md")
    _git(user, "commit", "-q", "-m", "user's work")
    monkeypatch.setattr(folders, "PACKAGE_DIR", pkg)
    monkeypatch.setattr(folders, "__version__", "0.2.1.dev3+g5e02eec")
    assert folders.git_commit() == folders.build_commit("0.2.1.dev3+g5e02eec") == "5e02eec"
    # even when the user's repository tracks a vendored copy under another folder name
    _git(user, "add", "-f", ".venv")
    _git(user, "commit", "-q", "-m", "vendored")
    assert folders.git_commit() == "5e02eec"


def test_this_checkout_records_its_head_and_manifests_list_the_packages_that_shape_results():
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=ROOT, capture_output=True, text=True)
    if top.returncode == 0 and Path(top.stdout.strip()).resolve() == ROOT:   # a clone
        head = _git(ROOT, "rev-parse", "HEAD")
        assert folders.git_commit() in (head, head + "+dirty")
    else:  # an unpacked sdist (no git): the commit its version was built from
        assert folders.git_commit() == folders.build_commit() and folders.build_commit() is not None
    versions = folders.package_versions()
    assert {"SALib", "plotly", "pyarrow", "numpy", "pandas", "scipy", "simpy"} <= set(versions)
    assert versions["caspian-corridor"] == model.__version__ != "0+unknown"


def test_the_package_is_typed():
    """py.typed ships beside __init__.py (pyproject's package-data), so a user's mypy reads the
    annotations (checked against the built wheel in test_wheel.py)."""
    assert (ROOT / "model" / "py.typed").is_file()
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in data["tool"]["setuptools"]["package-data"]["model"]
    assert "Typing :: Typed" in data["project"]["classifiers"]


def test_the_node_ids_in_the_scenario_docs_are_the_baselines():
    text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    begin, end = "<!-- baseline node ids: begin", "<!-- baseline node ids: end -->"
    shown = text[text.index(begin):text.index(end)].split("\n", 1)[1].strip()
    expected = library.node_table(model.load("baseline"))
    assert shown == expected, f"docs/scenarios.md: replace the baseline's node table with\n{expected}"
