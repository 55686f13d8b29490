"""Appraisals that stop when the answer is sure: the target, the control variates, and the
stopping rule of ``appraise --precision`` (docs/appraisal.md, "Precision").

Pure analysis on per-replication numbers; ``model.experiments.appraise`` runs the rounds.

* **The target** (:class:`Target`): a half-width of an item's paired 95% interval, on its cargo
  gained over the horizon (``0.05`` or ``0.05mt``: Mt), on its NPV (``20musd``: M USD), or
  relative to the ranking measure's estimate (``5%``: of |NPV|, or of |gain| without money).
* **Control variates** (Lavenberg & Welch 1981; Nelson 1990): per replication, numbers whose
  expectation is known exactly and which can move a simulated flow: the storm hours of each sea
  area (the calendar the engine draws; its expectation from the calendar's rates and durations,
  :func:`expected_storm_hours`) and each drawn uncertain input that changes a simulation (the
  mean of its truncated quantile function). The estimate is the intercept of the measure
  regressed on the centred controls; its interval is the regression's, on n - 1 - q degrees of
  freedom. Per item, controls join one at a time where they pay (:func:`controlled`).
* **Values that change no simulated flow** (appraisal values, costs) are not controls: NPV is
  affine in each of them (a margin times tonnes, a value of time times hours, a cost times a
  present-value weight), so its expectation over them, given a replication's simulation, is its
  value at their expectations (conditional Monte Carlo): the NPV the rule judges is valued there
  (:func:`at_expected_values`), which removes their spread from the interval exactly.
* **The stopping rule**: an item is done when its interval is as narrow as the target
  (*precise*), or when its rank against each neighbour (the items next to it when ranked by the
  measure) is settled by the pairwise screening of Kim & Nelson's fully sequential procedure KN
  (Kim & Nelson 2001, "A fully sequential procedure for indifference-zone selection in
  simulation", ACM TOMACS 11(3)) with the target as the indifference zone, on the paired
  (common random numbers) differences (*rank settled*), or at :data:`MAX_REPLICATIONS`
  (*cap*). Otherwise it is given more replications: Stein's estimate of what it needs
  (Stein 1945), at most double what it has.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Sequence

import numpy as np

from model.analysis.stats import t_quantile
from model.core.distributions import as_distribution
from model.core.weather import StormSpec
from model.scenario.uncertainty import valuation_only

LEVEL = 0.95
"""Confidence level of every interval (as the appraisal's)."""
ALPHA = 0.05
"""KN's error rate: the probability that a settled pair of neighbours whose measures differ by
more than the target is ordered wrongly, over all pairs at once."""
MAX_CONTROLS = 3
"""Most control variates one estimate uses."""
MAX_REPLICATIONS = 100
"""An item not done by then stops there (its row says so)."""
FIRST_STAGE = 5
"""Replications of every variant before the first decision (KN's n0), unless more are asked."""

DONE = ("precise", "rank settled", "cap", "no measure")


# ------------------------------------------------------------------ the target


@dataclass(frozen=True)
class Target:
    """What ``--precision`` asks for: ``value`` in ``unit`` ("mt": half-width of the gain's
    interval in Mt; "musd": of the NPV's in M USD; "relative": a share of the ranking measure's
    estimate)."""

    value: float
    unit: str

    @classmethod
    def parse(cls, given: "float | str | Target") -> "Target":
        """``0.05`` or ``"0.05mt"`` (Mt), ``"20musd"`` (M USD), ``"5%"`` (relative); ValueError
        with what was expected otherwise.

        >>> Target.parse("0.05"), Target.parse("20 musd"), Target.parse("5%")
        (Target(value=0.05, unit='mt'), Target(value=20.0, unit='musd'), Target(value=0.05, unit='relative'))
        """
        if isinstance(given, Target):
            return given
        if isinstance(given, (int, float)) and not isinstance(given, bool):
            value, unit = float(given), "mt"
        else:
            m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(mt|musd|%)?\s*", str(given), re.IGNORECASE)
            if m is None:
                raise ValueError(f"expected a half-width such as 0.05 (Mt of cargo gained), 20musd (M USD of NPV) or "
                                 f"5% (of each item's NPV), got {given!r}")
            value, suffix = float(m.group(1)), (m.group(2) or "mt").lower()
            unit = "relative" if suffix == "%" else suffix
            if unit == "relative":
                value /= 100.0
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"expected a half-width above 0, got {given!r}")
        if unit == "relative" and value >= 1:
            raise ValueError(f"expected a relative half-width below 100%, got {given!r}")
        return cls(value, unit)

    def measure(self, economic: bool) -> str:
        """The table column the target is on."""
        if self.unit == "mt":
            return "gain_mt"
        if self.unit == "musd":
            return "npv_musd"
        return "npv_musd" if economic else "gain_mt"

    def width(self, estimate: float) -> float:
        """The half-width wanted for an item whose measure is estimated at ``estimate``."""
        if self.unit == "relative":
            return self.value * abs(estimate) if math.isfinite(estimate) else math.nan
        return self.value

    def __str__(self) -> str:
        if self.unit == "relative":
            return f"±{self.value:.0%} of each item's estimate"
        return f"±{self.value:g} {'Mt' if self.unit == 'mt' else 'M USD'}"


# ------------------------------------------------------------------ controls with known expectations


def storm_hours(weather: dict[str, StormSpec], start: date, horizon_h: float, seed: int, replication: int
                ) -> dict[str, float]:
    """Hours of storm per sea area over the horizon in ``replication``: the calendar the engine
    draws (its own code, :meth:`model.nodes.base.Context.area_storms`, on the replication's
    streams), clipped to the horizon. The same for every variant of a replication."""
    from model.core.clock import Environment
    from model.core.rng import RandomStreams
    from model.core.years import YearGrid
    from model.nodes.base import Context

    end = _end_of(start, horizon_h)
    ctx = Context(Environment(), YearGrid(start, end), RandomStreams(seed, replication), start, weather)
    out = {}
    for area in weather:
        out[area] = float(sum(min(b, horizon_h) - a for a, b in ctx.area_storms(area, 1.0, "precision:control")
                              if a < horizon_h))
    return out


def _end_of(start: date, horizon_h: float) -> date:
    from datetime import datetime, timedelta

    return (datetime(start.year, start.month, start.day) + timedelta(hours=horizon_h)).date()


def _hourly_rates(storms: StormSpec, start: date, n: int, step_h: float) -> np.ndarray:
    """Storm starts per hour while open, at the midpoint of each step (the month's rate)."""
    from datetime import datetime

    rates = storms.events_per_month if isinstance(storms.events_per_month, list) else [storms.events_per_month] * 12
    t0 = datetime(start.year, start.month, start.day)
    mid = (np.arange(n) + 0.5) * step_h
    out = np.zeros(n)
    cur = datetime(start.year, start.month, 1)
    while True:
        nxt = datetime(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
        a, b = ((cur - t0).total_seconds() / 3600, (nxt - t0).total_seconds() / 3600)
        if a >= n * step_h:
            return out
        out[(mid >= a) & (mid < b)] = rates[cur.month - 1] / ((nxt - cur).days * 24.0)
        cur = nxt


def _closed_hours(storms: StormSpec, start: date, horizon_h: float, step_h: float, m: int = 20_000) -> float:
    """Expected storm hours over the horizon, on a grid of ``step_h``: storms start as a Poisson
    process at the month's rate while the area is open (the calendar's rule: none starts during
    a storm) and last a drawn duration, so the share closed, c(t), solves the renewal equation
    c(t) = integral of rate(s) (1 - c(s)) P(D > t - s) ds, solved here by a fixed point of
    discrete convolutions (it contracts: at most one storm in progress)."""
    from scipy.integrate import trapezoid  # (numpy has it as np.trapezoid only from 2.0)
    from scipy.signal import fftconvolve

    n = int(math.ceil(horizon_h / step_h))
    lam = _hourly_rates(storms, start, n, step_h)
    u = (np.arange(m) + 0.5) / m
    durations = np.sort(np.asarray(as_distribution(storms.duration_days).quantile(u), dtype=float) * 24.0)
    lags = int(math.ceil(durations[-1] / step_h)) + 2
    # a start uniform in one step closes the step j later by the survival averaged over lags
    # ((j - 1) step, (j + 1) step) with triangular weights
    x = np.linspace(-1.0, 1.0, 129)
    w = 1.0 - np.abs(x)
    kernel = np.empty(lags)
    for j in range(lags):
        at = np.clip((j + x) * step_h, 0.0, None)
        surv = 1.0 - np.searchsorted(durations, at, side="right") / m
        kernel[j] = trapezoid(w * surv, x)
    starts = lam * step_h
    for _ in range(200):
        closed_before = fftconvolve(starts, kernel)[:n] - starts * kernel[0]  # from earlier steps' starts
        new = lam * step_h * np.clip(1.0 - closed_before, 0.0, 1.0)
        if np.max(np.abs(new - starts)) < 1e-12 * step_h:
            starts = new
            break
        starts = new
    closed = fftconvolve(starts, kernel)[:n]
    # the last step may reach past the horizon
    cut = horizon_h - (n - 1) * step_h
    return float(closed[:-1].sum() * step_h + closed[-1] * cut)


def expected_storm_hours(storms: StormSpec, start: date, horizon_h: float) -> float:
    """The expectation of :func:`storm_hours` for one area: the renewal equation solved on
    hour and half-hour grids, extrapolated to a step of 0 (Richardson: the error is
    first order in the step). Checked against the engine's own calendars in
    ``tests/test_precision.py``."""
    coarse = _closed_hours(storms, start, horizon_h, 1.0)
    fine = _closed_hours(storms, start, horizon_h, 0.5)
    return 2.0 * fine - coarse


def input_mean(inp: Any, m: int = 200_000) -> float:
    """The expectation of an uncertain input's draw (``model.scenario.uncertainty.UncertainInput``:
    truncated, and rounded where ``integer``): its quantile function averaged over ``m`` evenly
    spaced probabilities."""
    from model.scenario.uncertainty import HIGH_Q, LOW_Q

    d = inp.distribution()
    lo, hi = (float(v) for v in d.quantile(np.array([LOW_Q, HIGH_Q])))
    v = np.clip(np.asarray(d.quantile((np.arange(m) + 0.5) / m), dtype=float), lo, hi)
    if inp.integer:
        v = np.round(v)
    return float(v.mean())


def at_expected_values(scenario: Any, drawn: Sequence[float]) -> Any:
    """``scenario`` drawn with ``drawn`` (one value per uncertain input, in order), except that each
    input that changes no simulated flow (``valuation_only``: appraisal values, costs) is at its
    expectation (:func:`input_mean`): the replication's NPV valued there is its expectation over
    those inputs, since NPV is affine in each of them."""
    from model.scenario.schema import Scenario
    from model.scenario.uncertainty import apply_values

    inputs = list(scenario.uncertainty)
    values = [input_mean(u) if valuation_only(u.path) else float(v) for u, v in zip(inputs, drawn, strict=True)]
    base = scenario.model_dump(mode="json")
    base["uncertainty"] = []
    return Scenario.model_validate(apply_values(base, inputs, values))


@dataclass
class Controls:
    """Per replication (rows), each control's value (columns), with its known expectation. The
    controls are named before any replication is seen (what can move a simulated flow), and are
    the same for every item and measure: a value that changes no simulated flow (an appraisal
    value, a cost) is never a control, since an appraisal's NPV is valued at its expectation
    instead (:func:`at_expected_values`)."""

    names: list[str]
    values: np.ndarray  # replication x control
    means: np.ndarray

    @property
    def offered(self) -> list[int]:
        return list(range(len(self.names)))


# ------------------------------------------------------------------ the control-variate estimate


@dataclass
class Estimate:
    """An item's measure over its replications: mean, half-width of the 95% interval, the
    controls used and the share of the plain mean's variance they removed."""

    mean: float
    half: float
    n: int
    controls: list[str]
    variance_reduction: float
    plain_half: float

    @property
    def lo(self) -> float:
        return self.mean - self.half

    @property
    def hi(self) -> float:
        return self.mean + self.half


def _fit(y: np.ndarray, x: np.ndarray) -> tuple[float, float, float] | None:
    """(intercept, its variance, the last control's t statistic) of y regressed on centred
    controls ``x`` (n x q) by least squares (Lavenberg & Welch 1981); None if singular."""
    n, q = x.shape
    z = np.column_stack([np.ones(n), x])
    try:
        inv = np.linalg.inv(z.T @ z)
    except np.linalg.LinAlgError:
        return None
    coef = inv @ (z.T @ y)
    resid = y - z @ coef
    s2 = float(resid @ resid) / (n - q - 1)
    var_last = s2 * float(inv[q, q])
    t_last = float(coef[q]) / math.sqrt(var_last) if var_last > 0 else math.inf
    return float(coef[0]), s2 * float(inv[0, 0]), t_last


MIN_CONTROLLED = 8
"""Fewest replications an estimate uses control variates with: below, choosing them costs more
coverage than they give (``tests/test_precision.py`` measures it)."""


def controlled(y: Sequence[float] | np.ndarray, controls: Controls | None = None, offered: Sequence[int] | None = None
               ) -> Estimate:
    """The estimate of E[y], with control variates where they pay; the plain Student-t mean
    otherwise. Forward selection among ``offered`` (default: all the controls), one at a time: a
    control joins when its coefficient is significant at 5% divided by the number offered
    (Bonferroni: the chance that one with no effect joins stays below 5%) and it shortens the
    interval; at most :data:`MAX_CONTROLS`, never leaving fewer than 3 degrees of freedom, and
    none below :data:`MIN_CONTROLLED` replications. Choosing on the same replications costs a
    little coverage (measured at 93-95% for a nominal 95%, docs/appraisal.md).

    >>> e = controlled([1.0, 2.0, 3.0])
    >>> e.mean, round(e.half, 3), e.controls
    (2.0, 2.484, [])
    """
    from scipy.special import stdtr

    y = np.asarray(y, dtype=float)
    n = y.size
    if n == 0 or np.isnan(y).any():
        return Estimate(math.nan, math.nan, n, [], 0.0, math.nan)
    mean = float(y.mean())
    if n == 1:
        return Estimate(mean, math.nan, 1, [], 0.0, math.nan)
    plain_var = float(y.var(ddof=1)) / n
    plain = float(t_quantile(0.5 + LEVEL / 2, n - 1)) * math.sqrt(plain_var)
    best = Estimate(mean, plain, n, [], 0.0, plain)
    if controls is None or n < MIN_CONTROLLED or plain_var == 0.0:
        return best
    offered = controls.offered if offered is None else list(offered)
    if not offered:
        return best
    x_all = controls.values[:n] - controls.means
    gate = (1.0 - LEVEL) / len(offered)
    chosen: list[int] = []
    usable = [j for j in offered if np.ptp(x_all[:, j]) > 0]
    while len(chosen) < MAX_CONTROLS and n - (len(chosen) + 1) - 1 >= 3:
        trial = None
        for j in usable:
            if j in chosen:
                continue
            cols = chosen + [j]
            fit = _fit(y, x_all[:, cols])
            if fit is None:
                continue
            m, var, coef_t = fit
            dof = n - len(cols) - 1
            p_value = 2.0 * float(stdtr(dof, -abs(coef_t)))
            half = float(t_quantile(0.5 + LEVEL / 2, dof)) * math.sqrt(max(var, 0.0))
            if p_value < gate and half < best.half and (trial is None or half < trial[1]):
                trial = (m, half, var, j)
        if trial is None:
            break
        chosen.append(trial[3])
        best = Estimate(trial[0], trial[1], n, [controls.names[c] for c in chosen],
                        max(0.0, 1.0 - trial[2] / plain_var), plain)
    return best


# ------------------------------------------------------------------ ranks settled: KN's screening


def kn_h2(k: int, n0: int, alpha: float = ALPHA) -> float:
    """KN's h² for ``k`` systems and a first stage of ``n0`` replications (Kim & Nelson 2001):
    2 eta (n0 - 1), eta = ((2 alpha / (k - 1))^(-2 / (n0 - 1)) - 1) / 2.

    Two systems, n0 = 10: (n0 - 1) ((2 alpha)^(-2 / 9) - 1) = 9 (10^(2/9) - 1):

    >>> round(kn_h2(2, 10), 3), round(9 * (10 ** (2 / 9) - 1), 3)
    (6.013, 6.013)
    """
    if k < 2 or n0 < 2:
        return math.inf
    eta = 0.5 * ((2.0 * alpha / (k - 1)) ** (-2.0 / (n0 - 1)) - 1.0)
    return 2.0 * eta * (n0 - 1)


def separated(diffs: np.ndarray, n0: int, delta: float, h2: float) -> bool:
    """KN's screening of one pair on its paired differences ``diffs`` (one per common
    replication, the first ``n0`` giving the variance S²): settled once the mean difference
    leaves the triangle W(r) = max(0, delta / (2r) (h² S² / delta² - r)), which closes at
    r = h² S² / delta²: after that the pair is within the indifference zone ``delta`` and its
    order no longer matters at that precision."""
    r = diffs.size
    if r < max(n0, 2) or not (delta > 0):
        return False
    s2 = float(np.var(diffs[:n0], ddof=1))
    w = max(0.0, delta / (2.0 * r) * (h2 * s2 / delta ** 2 - r))
    return abs(float(diffs.mean())) > w or w == 0.0


# ------------------------------------------------------------------ the rule


@dataclass
class Decision:
    """One round's verdict on an item: its estimate, the half-width wanted, whether it is done
    and why, and the replications it needs next."""

    item: str
    estimate: Estimate
    width: float
    status: str  # "precise", "rank settled", "cap", or "running"
    next_n: int


def stein(n: int, half: float, width: float, cap: int) -> int:
    """Replications for the next round: Stein's estimate of what gives the wanted half-width
    (n (half / width)², rounded up), at least one more, at most double (a first stage's variance
    is rough), at most ``cap``.

    >>> stein(5, 0.10, 0.05, 100), stein(10, 0.06, 0.05, 100), stein(80, 1.0, 0.05, 100)
    (10, 15, 100)
    """
    if not (width > 0) or not math.isfinite(half):
        want = 2 * n
    else:
        want = math.ceil(n * (half / width) ** 2)
    return int(min(cap, max(n + 1, min(want, 2 * n))))


def decide(samples: dict[str, np.ndarray], controls: Controls | None, target: Target, n0: int, cap: int = MAX_REPLICATIONS, settle: bool = True,
           unranked: frozenset[str] = frozenset()) -> dict[str, Decision]:
    """Each item's verdict after a round: ``samples`` holds each item's measure per replication
    (its replications 0..n-1, replication k paired with every other item's k). Items in
    ``unranked`` (no cost, so no NPV: their measure is another) must reach the target; the others'
    ranks can settle. ``settle``: let KN's screening settle ranks (off: every item must reach the
    target)."""
    est = {name: controlled(y, controls) for name, y in samples.items()}
    ranked = sorted((name for name, e in est.items() if math.isfinite(e.mean) and name not in unranked),
                    key=lambda nm: -est[nm].mean)
    h2 = kn_h2(len(ranked), n0)
    out: dict[str, Decision] = {}
    for name, y in samples.items():
        e = est[name]
        n = y.size
        width = target.width(e.mean)
        if not math.isfinite(e.mean):
            status = "no measure"
        elif e.half <= width:
            status = "precise"
        elif settle and name in ranked and _settled(name, ranked, samples, est, target, n0, h2):
            status = "rank settled"
        elif n >= cap:
            status = "cap"
        else:
            status = "running"
        out[name] = Decision(name, e, width, status, n if status != "running" else stein(n, e.half, width, cap))
    return out


def _settled(name: str, ranked: list[str], samples: dict[str, np.ndarray], est: dict[str, Estimate], target: Target,
             n0: int, h2: float) -> bool:
    """Whether KN separates ``name`` from each neighbour in the ranking, on their common
    replications, with the smaller of their wanted half-widths as the indifference zone."""
    i = ranked.index(name)
    neighbours = [ranked[j] for j in (i - 1, i + 1) if 0 <= j < len(ranked)]
    if not neighbours:
        return False
    for other in neighbours:
        r = min(samples[name].size, samples[other].size)
        delta = min(target.width(est[name].mean), target.width(est[other].mean))
        if not separated(samples[name][:r] - samples[other][:r], n0, delta, h2):
            return False
    return True
