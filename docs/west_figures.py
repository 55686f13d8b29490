"""Figures of docs/validation.md §6b "The western end": gateway transit, where each flow binds, and
whether the bottleneck moves west once the Caspian fleets grow (a paired comparison).

    .venv/bin/python run.py -q batch baseline caspian_fleets_grow --replications 3 --out results/west
    .venv/bin/python docs/west_figures.py results/west       # reads the batch; simulates nothing

Prints, as markdown tables, from the batch's per-replication tables (common random numbers, so the
scenarios are paired by replication):

1. each flow's median transit to its gateway (the Georgian quay, or Kars) and to its end (Constanța,
   a Georgian berth, Istanbul) in 2024-2025, the baseline's mean over replications with a 95% t-interval;
2. where each flow binds in 2030, 2040 and 2050 (the baseline's ``flow_summary``: the node along the
   flow's main branch that is fully busy the largest share of the year, and that share);
3. per flow and year, the mean days a shipment spends beyond its gateway (the flow's mean transit less
   its mean transit to the gateway: queues and services west of the Georgian quay or of Kars), in the
   baseline and with the fleets grown, and the paired difference with its 95% t-interval. If the
   bottleneck moves west once the Caspian fleets stop holding cargo back, this is where it shows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from model.analysis.stats import t_interval  # noqa: E402

BASE, GROWN = "baseline", "caspian_fleets_grow"
FLOWS = ["containers_west", "containers_kz_west", "rail_ferry_west",
         "containers_turkiye", "containers_kz_turkiye", "rail_ferry_turkiye"]
BIND_YEARS = [2030, 2040, 2050]
PAIRED_YEARS = [2030, 2035, 2040, 2045, 2050]


def _binding_table(f: pd.DataFrame, scenario: str) -> None:
    """One scenario's binding node per flow and year, as a markdown table."""
    print("| flow | " + " | ".join(str(y) for y in BIND_YEARS) + " |")
    print("|---|" + "---|" * len(BIND_YEARS))
    for sid in FLOWS:
        cells = []
        for y in BIND_YEARS:
            r = f[(f.scenario == scenario) & (f.stream == sid) & (f.year == y)].iloc[0]
            cells.append(f"{r.binding} ({r.binding_share:.0%})")
        print(f"| {sid} | " + " | ".join(cells) + " |")


def ci(v: np.ndarray, fmt: str = "{:.1f}") -> str:
    m, _, lo, hi = t_interval(v)
    return f"{fmt.format(m)} ({fmt.format(lo)} to {fmt.format(hi)})"


def main(folder: Path) -> None:
    s = pd.read_csv(folder / "annual_streams.csv")
    s = s[s.stream.isin(FLOWS)].copy()
    s["beyond_days"] = s.transit_mean_days - s.gateway_transit_mean_days

    print("Median transit from where the flow enters (the Chinese border or the Kazakh port), baseline:\n")
    print("| flow | gateway | year | to the gateway: p50 days | to the end: p50 days |")
    print("|---|---|---|---|---|")
    b = s[s.scenario == BASE]
    for sid in FLOWS:
        for y in (2024, 2025):
            r = b[(b.stream == sid) & (b.year == y)]
            print(f"| {sid} | {r.gateway.iloc[0]} | {y} | {ci(r.gateway_transit_p50_days.to_numpy())} | "
                  f"{ci(r.transit_p50_days.to_numpy())} |")

    f = pd.read_csv(folder / "flow_summary.csv")
    print("\nWhere each flow binds (baseline; the node fully busy the largest share of the year):\n")
    _binding_table(f, BASE)
    if GROWN not in set(f.scenario):
        return
    print(f"\nSame, {GROWN}:\n")
    _binding_table(f, GROWN)

    p = s.pivot_table(index=["stream", "year", "replication"], columns="scenario", values="beyond_days")
    n = p.groupby(level=[0, 1]).size().min()
    print(f"\nMean days beyond the gateway, {BASE} and {GROWN}, and the paired difference "
          f"({n} replications, 95% t-interval):\n")
    print("| flow | year | baseline days | fleets grown days | difference (95% CI) |")
    print("|---|---|---|---|---|")
    for sid in FLOWS:
        for y in PAIRED_YEARS:
            r = p.loc[(sid, y)]
            d = (r[GROWN] - r[BASE]).to_numpy()
            print(f"| {sid} | {y} | {r[BASE].mean():.2f} | {r[GROWN].mean():.2f} | {ci(d, '{:+.2f}')} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: docs/west_figures.py RESULTS_FOLDER (a batch of baseline and caspian_fleets_grow)")
    main(Path(sys.argv[1]))
