"""Intervals over replications: Student-t means and long-form summaries.

Every confidence interval the model prints or writes comes from here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def t_quantile(p: float, df: np.ndarray | float) -> np.ndarray:
    """Student-t quantiles, vectorised over degrees of freedom (``scipy.special.stdtrit``:
    the same numbers as ``scipy.stats.t.ppf`` without importing scipy.stats)."""
    from scipy.special import stdtrit

    return stdtrit(np.asarray(df, dtype=float), p)


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """(mean, sd, lo, hi) of a Student-t interval for the mean; NaNs ignored.

    >>> m, sd, lo, hi = t_interval(np.array([1.0, 2.0, 3.0]))
    >>> m, sd, round(lo, 3), round(hi, 3)
    (2.0, 1.0, -0.484, 4.484)
    """
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n == 0:
        return (math.nan,) * 4
    m = float(v.mean())
    if n == 1:
        return m, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    half = float(t_quantile(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return m, sd, m - half, m + half


def summarise(df: pd.DataFrame, keys: list[str], measures: list[str], level: float = 0.95) -> pd.DataFrame:
    """Mean, sd and 95% t-interval over replications, per key x measure (long form),
    NaNs ignored; computed for all groups at once (one vectorised t-quantile call)."""
    cols = ["measure", "n", "mean", "sd", "ci95_lo", "ci95_hi"]
    if df.empty or not measures:
        return pd.DataFrame(columns=keys + cols)
    g = df.groupby(keys, sort=True)[measures]
    n, mean, sd = g.count(), g.mean(), g.std(ddof=1)
    long = pd.concat({"n": n.stack(future_stack=True), "mean": mean.stack(future_stack=True),
                      "sd": sd.stack(future_stack=True)}, axis=1)
    long.index = long.index.set_names(keys + ["measure"])
    long = long.reset_index()
    k = long["n"].to_numpy(dtype=float)
    sd_ok = np.where(k >= 2, long["sd"].to_numpy(dtype=float), np.nan)
    half = t_quantile(0.5 + level / 2, np.where(k >= 2, k - 1, np.nan)) * sd_ok / np.sqrt(np.where(k >= 2, k, np.nan))
    long["sd"] = sd_ok
    long["ci95_lo"], long["ci95_hi"] = long["mean"] - half, long["mean"] + half
    long["n"] = long["n"].astype(int)
    order = {m: i for i, m in enumerate(measures)}
    long = long.sort_values(keys + ["measure"], key=lambda c: c.map(order) if c.name == "measure" else c,
                            kind="stable")
    return long[keys + cols].reset_index(drop=True)
