"""The package's layers: every module imports only from its own layer or those below.

The layers, lowest first, are the README's layout section and docs/design.md §6;
every module of ``model/`` must be in exactly one, so a new module has to be
placed (and the map kept true) before the suite passes. Imports inside
functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import pytest

import model

LAYERS: list[tuple[str, set[str]]] = [
    ("foundation", {"units", "limits", "distributions", "rng", "timeline", "years", "specs", "weather",
                    "histogram"}),
    ("node kinds", {"nodes", "nodes.base", "nodes.kind", "nodes.port", "nodes.sealink", "nodes.rail",
                    "nodes.pipeline", "nodes.border"}),
    ("scenario", {"schema", "route", "scenario_messages", "scenario_checks", "scenario", "scenario_diff",
                  "uncertainty"}),
    ("engine", {"demand", "simulate"}),
    ("analysis", {"measures", "stats", "metrics", "bottleneck", "bound", "sanity", "summary", "economics",
                  "appraisal"}),
    ("outputs", {"folders", "results", "report", "interactive", "html", "corridor_map", "plots"}),
    ("orchestration", {"pool", "runner", "sweeps", "appraiser", "bench", "api", "cli", "__main__"}),
]
LEVEL = {m: i for i, (_, mods) in enumerate(LAYERS) for m in mods}
ROOT = Path(model.__file__).parent


def _modules() -> list[str]:
    names = [info.name.removeprefix("model.") for info in pkgutil.walk_packages(model.__path__, prefix="model.")]
    return sorted(names + ["__main__"])


def _imports(name: str) -> set[str]:
    """Modules of the package that ``model.<name>`` imports (relative or absolute)."""
    path = ROOT / (name.replace(".", "/") + ("/__init__.py" if (ROOT / name.replace(".", "/")).is_dir() else ".py"))
    package = name.split(".")[:-1] if not path.name == "__init__.py" else name.split(".")
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                parts = base + (node.module.split(".") if node.module else [])
                stems = [".".join(parts)] if node.module else []
                stems += [".".join(parts + [a.name]) for a in node.names]
            elif node.module and node.module.startswith("model"):
                stems = [node.module.removeprefix("model").lstrip(".")]
                stems += [f"{stems[0]}.{a.name}".lstrip(".") for a in node.names]
            else:
                continue
            out.update(s for s in stems if s in LEVEL)
        elif isinstance(node, ast.Import):
            out.update(a.name.removeprefix("model.") for a in node.names if a.name.removeprefix("model.") in LEVEL)
    return out - {name}


def test_every_module_is_in_one_layer():
    assert sorted(set(_modules()) - {""}) == sorted(LEVEL), "place new modules in LEVELS (and docs/design.md §6)"


@pytest.mark.parametrize("name", sorted(LEVEL))
def test_no_module_imports_from_a_layer_above(name):
    above = {m: LAYERS[LEVEL[m]][0] for m in _imports(name) if LEVEL[m] > LEVEL[name]}
    assert not above, f"model.{name} ({LAYERS[LEVEL[name]][0]}) imports from a layer above it: {above}"


def test_the_layer_check_sees_imports():
    """The check is not vacuous: it finds the known dependencies of a few modules."""
    assert {"simulate", "measures", "nodes", "route"} <= _imports("metrics")
    assert "timeline" in _imports("nodes.port") and "nodes.kind" in _imports("nodes.port")
    assert "results" in _imports("api")


def test_the_readme_layout_names_the_same_layers():
    text = (ROOT.parent / "README.md").read_text(encoding="utf-8")
    for layer, _ in LAYERS:
        assert layer in text, f"README layout section does not name the {layer} layer"
