"""pytest configuration for the suite: the two lanes. Helpers for building and
running small scenarios are in ``simkit.py``.

``pytest`` runs the fast lane (everything not marked ``slow`` or ``wheel``: under 3
minutes on 2 cores). ``pytest -m slow`` runs the slow lane: the statistical checks of
``tests/validation`` (every test there is slow), the scenario library, and the
longest sweep and CLI checks. ``pytest -m wheel`` builds the wheel and runs it as a new
user would (``test_wheel.py``). ``.ci/run`` runs all three.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes several seconds; run with -m slow (CI runs it)")
    config.addinivalue_line("markers", "wheel: builds the wheel and installs it into a fresh venv, as a new user "
                            "(test_wheel.py); run with -m wheel (CI runs it)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "validation" in item.path.parts:
            item.add_marker(pytest.mark.slow)
