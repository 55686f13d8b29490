"""Defaults of every command and API call, in one place: what is used when nothing is asked."""

from __future__ import annotations

from typing import Sequence

from model.scenario.schema import Scenario

DELAY_MONTHS = 12.0
"""An appraisal prices a delay of this many months."""
TOLERANCE = 0.05
"""A sweep compared with an earlier one: the relative change of a point's mean it allows."""


def replications(scenarios: Sequence[Scenario], asked: int | None) -> int:
    """Replications per scenario: as asked, else the largest a scenario asks for."""
    return asked or max(s.replications for s in scenarios)


def seed(first: Scenario, asked: int | None) -> int:
    """The base seed: as asked, else the (first) scenario's."""
    return first.seed if asked is None else asked
