"""A sweep's expectations judged on its replications' 95% intervals, and its points compared
with an earlier sweep's summary: what gates a pull request in CI."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from model.analysis.stats import t_interval
from model.experiments.sweep_file import Sweep, WhereOp


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
}


def _selected(point: dict[str, Any], where: dict[str, dict[WhereOp, float]]) -> bool:
    return all(_OPS.get(op, lambda a, b: a == b)(point[path], v) for path, conds in where.items()
               for op, v in conds.items())


def _interval(values: np.ndarray) -> tuple[float, float, float]:
    """(mean, lo, hi); a constant sample is its own interval."""
    mean, sd, lo, hi = t_interval(values)
    if not np.isfinite(lo) or sd == 0:
        return mean, mean, mean
    return mean, lo, hi


def judge(sweep: Sweep, table: pd.DataFrame) -> list[dict]:
    """Every expectation at every point it covers: passed or failed, with the figures."""
    out = []
    by = {(p, m): g.sort_values("replication")["value"].to_numpy()
          for (p, m), g in table.groupby(["point", "measure"])}
    present = sorted(table["point"].unique())
    for e in sweep.spec.expectations:
        pts = [i for i in present if _selected(sweep.points[i], e.where)]
        if e.op:
            assert e.value is not None  # Expectation._kind: op needs a value
            for i in pts:
                mean, lo, hi = _interval(by[(i, e.measure)])
                if e.op == "==":
                    ok = lo <= e.value <= hi
                elif e.op in (">=", ">"):
                    ok = _OPS[e.op](hi, e.value) or (e.op == ">" and hi == e.value and mean > e.value)
                else:
                    ok = _OPS[e.op](lo, e.value)
                out.append({"expectation": e.label(), "point": i, "params": sweep.points[i], "passed": bool(ok),
                            "detail": f"mean {mean:.4g}, 95% CI [{lo:.4g}, {hi:.4g}] vs {e.op} {e.value:g}"})
        else:
            assert e.in_ is not None  # Expectation._kind: monotone needs 'in'
            along: str = e.in_
            others = [p for p in sweep.points[0] if p != e.in_]
            groups: dict[tuple, list[int]] = {}
            for i in pts:
                groups.setdefault(tuple(sweep.points[i][p] for p in others), []).append(i)
            sign = 1.0 if e.monotone == "increasing" else -1.0
            for _, idx in groups.items():
                idx.sort(key=lambda i: sweep.points[i][along])
                for a, b in zip(idx, idx[1:]):
                    diff = sign * (by[(b, e.measure)] - by[(a, e.measure)])
                    mean, lo, hi = _interval(diff)
                    ok = hi >= 0
                    out.append({"expectation": e.label(), "point": b,
                                "params": {e.in_: f"{sweep.points[a][e.in_]} -> {sweep.points[b][e.in_]}",
                                           **{p: sweep.points[b][p] for p in others}},
                                "passed": bool(ok),
                                "detail": f"paired change {sign * mean:+.4g}, 95% CI "
                                          f"[{min(sign * lo, sign * hi):+.4g}, {max(sign * lo, sign * hi):+.4g}]"})
    return out


def compare_baseline(summary: pd.DataFrame, baseline: pd.DataFrame, tolerance: float) -> list[dict]:
    """Points x measures whose mean moved more than ``tolerance`` (relative) from an earlier sweep's summary."""
    key = ["point", "measure"]
    j = summary.merge(baseline[key + ["mean"]], on=key, suffixes=("", "_baseline"), how="left")
    out = []
    for r in j.itertuples():
        ref = r.mean_baseline
        if pd.isna(ref):
            out.append({"point": r.point, "measure": r.measure, "passed": False, "detail": "not in the baseline"})
            continue
        rel = abs(r.mean - ref) / max(abs(ref), 1e-12)
        out.append({"point": r.point, "measure": r.measure, "passed": rel <= tolerance,
                    "detail": f"{r.mean:.4g} vs baseline {ref:.4g} ({rel:+.1%}, tolerance {tolerance:.1%})"})
    return out
