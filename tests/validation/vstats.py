"""Helpers for the statistical validation tests: tiny scenarios whose theory is
known, and confidence intervals over independent replications.

How a check is judged. Each replication is an independent run (its own random
streams); a measure is averaged per replication after a warm-up, and the test
asserts that the theoretical value lies in a t-interval over the replications.
The intervals are *simultaneous* 95% intervals: Bonferroni over the FAMILY
checks of the validation suite, so a correct model fails the whole suite with
probability at most 5% whatever seed is used. Seeds are fixed, so a given
version of the model passes or fails deterministically. Each check also asserts
that its interval is narrow (``max_rel_half``), so it has the power to see a
wrong service logic rather than passing because it is vague.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from model.scenario.checks import check_references
from model.scenario.schema import Scenario

FAMILY = 32  # >= the number of interval checks in tests/validation (32 now): Bonferroni
LEVEL = 1.0 - 0.05 / FAMILY
SEED = 2718

# Days per month of a non-leap year: as seasonality factors they make a stream's
# arrival rate the same in every month (volume x days/365 over days x 24 h), so
# arrivals are one homogeneous Poisson process of rate volume / 8,760 h / shipment.
DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

# A month of warm-up (the queues relax in well under 100 h), then one measured
# non-leap year: results are read for 2030 only.
START, END, YEAR = "2029-12-01", "2031-01-01", 2030
YEAR_H = 8760.0


@dataclass
class Interval:
    mean: float
    lo: float
    hi: float
    n: int

    @property
    def half(self) -> float:
        return (self.hi - self.lo) / 2

    def contains(self, x: float) -> bool:
        return self.lo <= x <= self.hi

    def __str__(self) -> str:
        return f"{self.mean:.5g} [{self.lo:.5g}, {self.hi:.5g}] (n={self.n})"


def interval(values, level: float = LEVEL) -> Interval:
    """Student-t interval for the mean of independent replication values."""
    v = np.asarray(values, dtype=float)
    n = v.size
    m = float(v.mean())
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(v.std(ddof=1)) / math.sqrt(n)
    return Interval(m, m - half, m + half, n)


def check(name: str, values, theory: float, max_rel_half: float, allowance: float = 0.0) -> Interval:
    """Assert that ``theory`` lies in the simultaneous interval of ``values``
    (widened by ``allowance``, in the measure's units, only where a test states
    why) and that the interval is narrower than ``max_rel_half`` x theory."""
    ci = interval(values)
    assert ci.half <= max_rel_half * abs(theory), (
        f"{name}: interval too wide to judge: half-width {ci.half:.4g} > {max_rel_half:.0%} of {theory:.4g}")
    assert ci.lo - allowance <= theory <= ci.hi + allowance, (
        f"{name}: theory {theory:.5g} outside the {LEVEL:.2%} interval {ci} (allowance {allowance:.3g})")
    return ci


def scenario(nodes: dict, streams: dict, name: str = "validation", start: str = START, end: str = END,
             **extra) -> Scenario:
    s = Scenario.model_validate({"name": name, "start_date": start, "end_date": end, "nodes": nodes,
                                 "streams": streams, **extra})
    assert not check_references(s)
    return s


def poisson_stream(route: list, per_h: float, shipment_t: float) -> dict:
    """A stream of Poisson arrivals at ``per_h`` shipments an hour, the same all year."""
    return {"commodity": "c", "volume_mt_per_year": per_h * YEAR_H * shipment_t / 1e6, "shipment_t": shipment_t,
            "seasonality": DAYS, "route": route}


def port(berths: int, mean_service_h: float, shipment_t: float, service: str = "exponential", **extra) -> dict:
    """A port whose service time per shipment has mean ``mean_service_h``
    (rate per berth = shipment / mean)."""
    return {"kind": "port", "berths": berths, "handling_rate_t_per_h": shipment_t / mean_service_h,
            "service": service, **extra}


def per_replication(t: dict, table: str, column: str, scenario: str, year: int = YEAR, **where) -> np.ndarray:
    """One value per replication (sorted by replication) from a run_many table."""
    df = t[table]
    df = df[(df["scenario"] == scenario) & (df["year"] == year)]
    for k, v in where.items():
        df = df[df[k] == v]
    return df.sort_values("replication")[column].to_numpy(dtype=float)
