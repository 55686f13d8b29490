"""The compiled engine (mypyc, built at install where a C compiler is present) and its
pure-Python fallback give the same tables to the byte; a compiled module that no longer
matches its source is never run (``model/core/compiled.py``).

The rules are checked on a package laid out by hand; the real build, where this install has
one (CI builds it: ``CORRIDOR_COMPILE=1``), is checked by running the engine both ways on
one seed and by editing a copy of the installed package."""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import model
from model.core.compiled import MANIFEST, PURE_ENV, compiled_twins, current, decide

ROOT = Path(__file__).resolve().parent.parent
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
BUILD = current()
CUT_END_DATE = "2036-01-01"
needs_build = pytest.mark.skipif(not BUILD.compiled, reason=f"this install runs the {BUILD.describe()}")


# -- the rules, on a package laid out by hand ---------------------------------------------

def _package(tmp_path: Path) -> Path:
    """A package ``pkg`` with two compiled modules, their shared library and a manifest."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    sources = {"pkg.a": pkg / "a.py", "pkg.sub.b": pkg / "sub" / "b.py"}
    for name, src in sources.items():
        src.write_text(f"NAME = {name!r}\n")
        src.with_name(src.stem + SUFFIX).write_bytes(b"")
    (pkg / "plain.py").write_text("")  # a module that was not compiled
    (pkg / ("compiled__mypyc" + SUFFIX)).write_bytes(b"")
    manifest = {"group": "pkg.compiled__mypyc", "mypy": "9.9",
                "modules": {n: hashlib.sha256(s.read_bytes()).hexdigest() for n, s in sources.items()}}
    (pkg / MANIFEST.name).write_text(json.dumps(manifest))
    return pkg


def test_a_fresh_build_runs_compiled(tmp_path):
    pkg = _package(tmp_path)
    b = decide(pkg, {})
    assert b.compiled and b.modules == ("pkg.a", "pkg.sub.b") and "mypyc 9.9" in b.reason
    assert set(compiled_twins(pkg)) == {"pkg.a", "pkg.sub.b"}


def test_an_edited_source_makes_the_whole_engine_run_from_source(tmp_path):
    pkg = _package(tmp_path)
    (pkg / "sub" / "b.py").write_text("NAME = 'edited'\n")
    b = decide(pkg, {})
    assert not b.compiled and b.reason == "stale: pkg/sub/b.py changed since it was compiled"


@pytest.mark.parametrize("damage", ["no manifest", "bad manifest", "extra module", "module gone", "no library"])
def test_a_build_the_manifest_does_not_vouch_for_is_stale(tmp_path, damage):
    pkg = _package(tmp_path)
    if damage == "no manifest":
        (pkg / MANIFEST.name).unlink()
    elif damage == "bad manifest":
        (pkg / MANIFEST.name).write_text("{")
    elif damage == "extra module":  # left over from a build with another module list
        (pkg / ("plain" + SUFFIX)).write_bytes(b"")
    elif damage == "module gone":
        (pkg / ("a" + SUFFIX)).unlink()
    else:
        (pkg / ("compiled__mypyc" + SUFFIX)).unlink()
    b = decide(pkg, {})
    assert not b.compiled and b.reason.startswith("stale:")


def test_the_sources_run_when_asked_or_when_nothing_was_compiled(tmp_path):
    pkg = _package(tmp_path)
    assert not decide(pkg, {PURE_ENV: "1"}).compiled
    assert decide(pkg, {PURE_ENV: "0"}).compiled
    for ext in pkg.rglob(f"*{SUFFIX}"):
        ext.unlink()
    b = decide(pkg, {})
    assert not b.compiled and b.modules == () and "not compiled" in b.reason


# -- the real build ------------------------------------------------------------------------

_DIGESTS = """
import datetime, hashlib, json, os, sys
import model
from model.core.compiled import current
from model.scenario.loader import load_scenario
from model.engine.simulate import run_replication
from model.analysis.tables import tables
import model.nodes.port as port
out = {"engine": current().compiled, "port": port.__file__, "tables": {}}
end = os.environ.get("DIGEST_END_DATE")
for f in sys.argv[1:]:
    s = load_scenario(f)
    if end:
        s = s.model_validate(s.model_dump() | {"end_date": min(s.end_date, datetime.date.fromisoformat(end))})
    h = hashlib.sha256()
    for name, df in sorted(tables(run_replication(s, 0)).items()):
        if name != "perf":  # (wall-clock seconds)
            h.update(name.encode() + b"\\0" + df.to_csv(index=False).encode())
    out["tables"][f] = h.hexdigest()
print(json.dumps(out))
"""


def _start_digests(files: list[str], pure: bool, cwd: Path = ROOT, pythonpath: Path | None = None,
                   end_date: str | None = None) -> subprocess.Popen:
    """Start hashing each scenario's replication-0 tables in a fresh process (``pure``: from source;
    ``end_date``: each scenario's horizon cut there)."""
    env = {k: v for k, v in os.environ.items() if k not in (PURE_ENV, "CORRIDOR_STALE_ENGINE_WARNED")}
    if end_date is not None:
        env["DIGEST_END_DATE"] = end_date
    if pure:
        env[PURE_ENV] = "1"
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.Popen([sys.executable, "-c", _DIGESTS, *files], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, proc.args, out, err)
    return json.loads(out.strip().splitlines()[-1]) | {"stderr": err}


def _digests(files: list[str], pure: bool, cwd: Path = ROOT, pythonpath: Path | None = None) -> dict:
    """Each scenario's replication-0 tables hashed, in a fresh process (``pure``: from source)."""
    return _finish(_start_digests(files, pure, cwd, pythonpath))


def _compare(files: list[str], end_date: str | None = None) -> None:
    # the two engines side by side (two processes: the machine's two cores)
    started = _start_digests(files, pure=False, end_date=end_date), _start_digests(files, pure=True, end_date=end_date)
    compiled, pure = _finish(started[0]), _finish(started[1])
    assert compiled["engine"] and compiled["port"].endswith(SUFFIX)
    assert not pure["engine"] and pure["port"].endswith(".py")
    differ = [f for f in files if compiled["tables"][f] != pure["tables"][f]]
    assert not differ, f"the compiled and the pure-Python engine disagree on {differ}"


@needs_build
def test_the_compiled_engine_runs_and_gives_the_pure_python_tables_to_the_byte():
    assert model.nodes.port.__file__.endswith(SUFFIX)  # (this process runs compiled)
    _compare([str(ROOT / "scenarios" / "baseline.yaml")])


@needs_build
@pytest.mark.slow
def test_every_library_scenario_gives_the_same_tables_compiled_and_from_source():
    """Each library scenario to the end of 2035, at about a third of the pure-Python engine's time
    (the baseline runs to 2050 in the fast lane's test above). Measured under coverage (December
    2026): the library's full horizons run one engine line that the cut ones do not, a chartered
    vessel still on hire at the horizon, so the charter scenario also runs to its end."""
    _compare(sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml")), end_date=CUT_END_DATE)
    _compare([str(ROOT / "scenarios" / "charter_feeders.yaml")])


@needs_build
def test_an_edited_copy_of_the_installed_engine_never_runs_its_stale_compiled_modules(tmp_path):
    """A copy of the installed package with its compiled modules: as built it runs compiled;
    after one engine source is edited it runs every engine module from source, with a
    warning naming the file, and the edit takes effect."""
    copy = tmp_path / "site"
    shutil.copytree(Path(model.__file__).parent, copy / "model", ignore=shutil.ignore_patterns("__pycache__"))
    probe = ("import warnings, json\nwarnings.simplefilter('always')\nimport model, model.nodes.border as b, "
             "model.nodes.port as p\nfrom model.core.compiled import current\n"
             "print(json.dumps([current().compiled, current().reason, b.__file__, p.__file__, "
             "getattr(b, 'EDITED', False)]))")
    env = {k: v for k, v in os.environ.items() if k not in (PURE_ENV, "CORRIDOR_STALE_ENGINE_WARNED")}
    env["PYTHONPATH"] = str(copy)

    def run() -> tuple[list, str]:
        out = subprocess.run([sys.executable, "-c", probe], cwd=copy, env=env, capture_output=True, text=True,
                             check=True)
        return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr

    (compiled, reason, border, port, edited), err = run()
    assert compiled and border.startswith(str(copy)) and border.endswith(SUFFIX) and not edited, (reason, err)
    src = copy / "model" / "nodes" / "border.py"
    src.write_text(src.read_text(encoding="utf-8") + "\nEDITED = True\n", encoding="utf-8")
    (compiled, reason, border, port, edited), err = run()
    assert not compiled and edited and border.endswith("border.py") and port.endswith("port.py")
    assert "model/nodes/border.py changed since it was compiled" in reason and "StaleEngineWarning" in err
