"""Run the examples in the model's docstrings (every module of the package that
has any), so documented behaviour stays true.

A compiled module (``model.core.compiled``) keeps no docstrings of its functions and classes,
so the examples are read from its source and run against the compiled module's names."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

import model


def documented(name: str) -> tuple[ModuleType, dict]:
    """The module whose docstrings hold ``name``'s examples (its source, read apart, where it
    is compiled), and the names they run with (always the module as imported)."""
    mod = importlib.import_module(name)
    if mod.__spec__ is None or str(mod.__spec__.origin).endswith(".py"):
        return mod, vars(mod)
    source = Path(model.__file__).parent.joinpath(*name.split(".")[1:]).with_suffix(".py")
    spec = importlib.util.spec_from_file_location(f"_doctest_source_{name.replace('.', '_')}", source)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = copy  # (dataclasses look their module up)
    spec.loader.exec_module(copy)
    return copy, vars(mod)


def _tests(name: str) -> list[doctest.DocTest]:
    docs, globs = documented(name)
    return [t for t in doctest.DocTestFinder().find(docs, name, globs=dict(globs)) if t.examples]


def _has_source(name: str) -> bool:
    """(Not the compiled engine's shared library: an extension module without a source.)"""
    path = Path(model.__file__).parent.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def modules_with_doctests() -> list[str]:
    return [info.name for info in pkgutil.walk_packages(model.__path__, prefix="model.")
            if _has_source(info.name) and _tests(info.name)]


MODULES = modules_with_doctests()


def test_the_known_doctest_modules_are_found():
    assert {"model.core.timeline", "model.core.units", "model.core.distributions", "model.core.rng", "model.engine.demand",
            "model.analysis.stats", "model.core.years", "model.scenario.route", "model.analysis.measures"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS, verbose=False)
    for t in _tests(name):
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
    assert result.attempted > 0
