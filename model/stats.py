"""Intervals over replications: Student-t means and long-form summaries.

Every confidence interval the model prints or writes comes from here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    """(mean, sd, lo, hi) of a Student-t interval for the mean; NaNs ignored.

    >>> m, sd, lo, hi = t_interval(np.array([1.0, 2.0, 3.0]))
    >>> m, sd, round(lo, 3), round(hi, 3)
    (2.0, 1.0, -0.484, 4.484)
    """
    from scipy import stats

    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n == 0:
        return (math.nan,) * 4
    m = float(v.mean())
    if n == 1:
        return m, math.nan, math.nan, math.nan
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return m, sd, m - half, m + half


def summarise(df: pd.DataFrame, keys: list[str], measures: list[str]) -> pd.DataFrame:
    """Mean, sd and 95% t-interval over replications, per key x measure (long form)."""
    rows = []
    for key, g in df.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        for m in measures:
            mean, sd, lo, hi = t_interval(g[m].to_numpy())
            rows.append({**dict(zip(keys, key)), "measure": m, "n": int(g[m].notna().sum()),
                         "mean": mean, "sd": sd, "ci95_lo": lo, "ci95_hi": hi})
    return pd.DataFrame(rows)
