"""As a new user would: from a wheel built here, installed into a fresh venv, in an empty folder.

``python -m build`` makes the sdist and, from it, the wheel (so the sdist must hold what the
build needs); the wheel goes into a new venv with pip, nothing from this checkout on the path;
then, each in a folder of its own: ``corridor run baseline --replications 1``, ``corridor
appraise baseline --by tag --replications 1``, ``python -c "import model; model.run('baseline',
replications=1)"``, the example notebook executed from an ``examples/`` folder, a user's mypy
on typed results, and the library's sweeps and ``corridor init``.

Marked ``wheel``: neither the fast nor the slow lane runs it (it builds, and pip installs the
dependencies into the venv: minutes, and the package index or pip's cache). ``.ci/run`` runs
it: ``python -m pytest -m wheel``, with ``CORRIDOR_TEST_DIST`` naming the folder where it built the
sdist and the wheel (else the fixture builds them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    """The environment without anything that would put this checkout on the path."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def _run(args: list, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    r = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=_env(), timeout=timeout)
    assert r.returncode == 0, f"{' '.join(map(str, args))} exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("new-user")
    # .ci/run builds the packages once, from this checkout, and names their folder here
    built = os.environ.get("CORRIDOR_TEST_DIST")
    dist = Path(built) if built else tmp / "dist"
    if not built:
        _run([sys.executable, "-m", "build", "--outdir", dist, ROOT], cwd=tmp)
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    venv.create(tmp / "venv", with_pip=True)
    bin_ = tmp / "venv" / "bin"
    # the wheel with its dependencies, and what the checks below use: a notebook runner and mypy
    _run([bin_ / "python", "-m", "pip", "install", "-q", wheel, "nbclient", "nbformat", "ipykernel", "mypy"], cwd=tmp)
    return SimpleNamespace(tmp=tmp, wheel=wheel, sdist=sdist, bin=bin_, py=bin_ / "python")


def _empty(user, name: str) -> Path:
    folder = user.tmp / name
    folder.mkdir()
    return folder


def test_the_wheel_ships_the_library_schemas_and_types_and_the_sdist_the_tests(user):
    names = set(zipfile.ZipFile(user.wheel).namelist())
    library = {f"model/library/{p.name}" for p in (ROOT / "scenarios").glob("*.yaml")}
    sweeps = {f"model/library/sweeps/{p.name}" for p in (ROOT / "scenarios" / "sweeps").glob("*.yaml")}
    schemas = {f"model/library/schemas/{p.name}" for p in (ROOT / "scenarios" / "schemas").glob("*.json")}
    assert library and sweeps and len(schemas) == 3
    assert library | sweeps | schemas | {"model/py.typed", "caspian_corridor.py", "model/_version.py"} <= names
    with tarfile.open(user.sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        members = {n.removeprefix(top + "/") for n in tar.getnames()}
    for folder in ("scenarios", "scenarios/sweeps", "tests/scenarios_bad", "tests/sweeps", "tests/sweeps_bad"):
        expected = {f"{folder}/{p.name}" for p in (ROOT / folder).glob("*.yaml")}
        assert expected and expected <= members, sorted(expected - members)[:5]
    assert {"pyproject.toml", "run.py", "examples/notebook.ipynb", "docs/api.md", "mkdocs.yml"} <= members


def test_corridor_run_baseline_in_an_empty_folder(user):
    here = _empty(user, "run")
    r = _run([user.bin / "corridor", "run", "baseline", "--replications", "1"], cwd=here)
    assert "Running baseline: 1 replication(s)" in r.stderr  # the opening line is logged (stderr)
    (folder,) = (here / "results").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    versions = manifest["versions"]
    assert {"SALib", "plotly", "pyarrow", "pandas", "numpy", "simpy"} <= set(versions)
    assert user.wheel.name.startswith(f"caspian_corridor-{versions['caspian-corridor']}-")
    # the project's own commit, from the build (this checkout's HEAD), not any repository around the venv
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    commit = manifest["git_commit"]
    assert commit and head.startswith(commit.removesuffix("+dirty")), (commit, head)
    assert (folder / "report.html").is_file()


def test_corridor_appraise_baseline_by_tag_in_an_empty_folder(user):
    here = _empty(user, "appraise")
    r = _run([user.bin / "corridor", "appraise", "baseline", "--by", "tag", "--replications", "1"], cwd=here)
    # one replication gives no interval, so the headline says what ranks first, never "matters most"
    assert "Investments of baseline" in r.stdout and "ranks first" in r.stdout and "no interval" in r.stdout
    (folder,) = (here / "results").iterdir()
    assert (folder / "appraisal.csv").is_file() and json.loads((folder / "manifest.json").read_text())["git_commit"]


def test_import_model_and_run_baseline_in_an_empty_folder(user):
    here = _empty(user, "python")
    code = ("import model; r = model.run('baseline', replications=1); "
            "print(model.__file__); print(round(float(r.delivered_mt().iloc[-1]), 3))")
    r = _run([user.py, "-c", code], cwd=here)
    where, delivered = r.stdout.split()[-2:]
    assert Path(where).is_relative_to(user.tmp / "venv") and float(delivered) > 0
    assert list(here.iterdir()) == []


def test_the_notebook_runs_where_jupyter_opens_it(user):
    here = _empty(user, "examples")
    shutil.copy(ROOT / "examples" / "notebook.ipynb", here / "notebook.ipynb")
    runner = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read('notebook.ipynb', as_version=4)\n"
        "nb.cells.append(nbformat.v4.new_code_cell('import model; print(\"model from:\", model.__file__)'))\n"
        "NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': '.'}}).execute()\n"
        "nbformat.write(nb, 'executed.ipynb')\n")
    _run([user.py, "-c", runner], cwd=here)
    nb = json.loads((here / "executed.ipynb").read_text())
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    text = "".join("".join(o["text"]) for o in outputs if o["output_type"] == "stream")  # str, or a list of lines
    assert "read back equal: True" in text
    assert f"model from: {user.tmp / 'venv'}" in text


def test_a_users_mypy_sees_typed_results(user):
    here = _empty(user, "typed")
    (here / "analysis.py").write_text("import model\nr = model.run('baseline', replications=1)\nreveal_type(r)\n"
                                      "reveal_type(model.load)\n")
    r = _run([user.py, "-m", "mypy", "--no-incremental", "analysis.py"], cwd=here)
    assert 'Revealed type is "model.outputs.results.Results"' in r.stdout
    assert "-> model.scenario.schema.Scenario" in r.stdout and "py.typed" not in r.stdout


def test_library_sweeps_and_init_work_from_the_installed_package(user):
    here = _empty(user, "project")
    r = _run([user.bin / "corridor", "validate", "tripp_delay"], cwd=here)   # base: ../baseline.yaml in model/library
    assert "OK: sweep 'tripp_delay'" in r.stdout
    assert "baseline" in _run([user.bin / "corridor", "scenarios"], cwd=here).stdout
    _run([user.bin / "corridor", "init", "."], cwd=here)
    assert len(list((here / "scenarios" / "schemas").glob("*.json"))) == 3
    r = _run([user.bin / "corridor", "validate", "scenarios/tripp_delay_2y.yaml"], cwd=here)
    assert r.stdout.startswith("scenarios/tripp_delay_2y.yaml: OK")
    r = _run([user.py, "-m", "model", "--version"], cwd=here)
    assert r.stdout.strip() == f"corridor {user.wheel.name.split('-')[1]}"
