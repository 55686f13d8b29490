"""The package's layers are its folders: every module imports only from its own layer or those below.

The layers, lowest first, are the sub-packages of ``model/`` in ``LAYERS`` (the README's layout
section and docs/design.md §6 name the same); the library API and the command line
(``model/api.py``, ``model/cli.py``, ``model/__main__.py``) sit on top. A module's layer is the
folder it lives in, so placing a new module is choosing its folder, and a new folder or a new
top-level module fails the suite until it is given a place here. Imports inside functions count
too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import pytest

import model

LAYERS = ["core", "nodes", "scenario", "engine", "analysis", "outputs", "experiments"]
TOP = {"api", "cli", "__main__"}      # the interface, above every layer
ROOT = Path(model.__file__).parent


def layer_of(module: str) -> int:
    """The layer index of ``model.<module>`` (a dotted name under the package): its folder."""
    head = module.split(".")[0]
    if head in TOP:
        return len(LAYERS)
    return LAYERS.index(head)


GENERATED = {"_version"}  # model/_version.py: the version, written by setuptools-scm at build or install time


def _modules() -> list[str]:
    """Every module of the package with a source (the compiled engine's shared library, an
    extension module with no ``.py``, is built from modules listed here)."""
    names = [info.name.removeprefix("model.") for info in pkgutil.walk_packages(model.__path__, prefix="model.")]
    return sorted(n for n in set(names) | {"__main__"} if (not n or _path(n).exists()) and n not in GENERATED)


def _path(name: str) -> Path:
    p = ROOT / name.replace(".", "/")
    return p / "__init__.py" if p.is_dir() else p.with_suffix(".py")


def _imports(name: str) -> set[str]:
    """Modules and packages of ``model`` that ``model.<name>`` imports (relative or absolute)."""
    path = _path(name)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package[: len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
            elif node.module and (node.module == "model" or node.module.startswith("model.")):
                parts = node.module.split(".")[1:]
            else:
                continue
            base = ".".join(parts)
            if base:
                out.add(base)
            out.update(f"{base}.{a.name}".lstrip(".") for a in node.names if a.name != "__version__")
        elif isinstance(node, ast.Import):
            out.update(a.name.removeprefix("model.") for a in node.names if a.name.startswith("model."))
    known = set(_modules()) | set(LAYERS)
    return {m for m in out if m in known} - {name}


def test_every_module_lives_in_a_layer_folder():
    loose = [m for m in _modules() if m.split(".")[0] not in set(LAYERS) | TOP]
    assert not loose, f"place these modules in a layer folder ({', '.join(LAYERS)}) or in TOP: {loose}"
    folders = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists())
    assert folders == sorted(LAYERS), "a new sub-package is a new layer: add it to LAYERS, the README and design.md"


@pytest.mark.parametrize("name", [m for m in _modules() if m])
def test_no_module_imports_from_a_layer_above(name):
    above = {m for m in _imports(name) if layer_of(m) > layer_of(name)}
    assert not above, f"model.{name} (layer {layer_of(name)}) imports from a layer above it: {sorted(above)}"


def test_the_layer_check_sees_imports():
    """The check is not vacuous: it finds the known dependencies of a few modules."""
    assert {"engine.simulate", "analysis.measures", "nodes", "scenario.route"} <= _imports("analysis.tables")
    assert "core.timeline" in _imports("nodes.port") and "nodes.kind" in _imports("nodes.port")
    assert "outputs.results" in _imports("api")
    assert layer_of("analysis.tables") > layer_of("engine.simulate") > layer_of("nodes.port")


def test_the_readme_and_design_name_the_same_layers():
    for doc in ("README.md", "docs/design.md"):
        text = (ROOT.parent / doc).read_text(encoding="utf-8")
        for layer in LAYERS:
            assert f"{layer}/" in text, f"{doc} does not name the layer folder {layer}/"
