"""Run the examples in the model's docstrings (every module of the package that
has any), so documented behaviour stays true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import model


def modules_with_doctests() -> list[str]:
    finder = doctest.DocTestFinder()
    return [info.name for info in pkgutil.walk_packages(model.__path__, prefix="model.")
            if any(t.examples for t in finder.find(importlib.import_module(info.name)))]


MODULES = modules_with_doctests()


def test_the_known_doctest_modules_are_found():
    assert {"model.core.timeline", "model.core.units", "model.core.distributions", "model.core.rng", "model.engine.demand",
            "model.analysis.stats", "model.core.years", "model.scenario.route", "model.analysis.measures"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
    assert result.attempted > 0
