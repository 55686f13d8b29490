"""pytest configuration for the suite: markers. Helpers for building and running
small scenarios are in ``simkit.py``."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes several seconds (still runs by default, and in CI)")
