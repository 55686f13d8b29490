"""Figures of docs/validation.md §5 "History 2023-2025": simulated vs published.

    .venv/bin/python docs/history_figures.py        # about a minute on 2 cores

Runs scenarios/history_2023_2025.yaml (5 replications, its seed) and prints, per
year, the simulated mean with a 95% t-interval next to the published figure, as
a markdown table. Port times and call counts come from the sea links' records
(hours at berth per call), the rest from the run's tables.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from model.analysis.tables import node_table  # noqa: E402
from model.scenario.loader import load_scenario  # noqa: E402
from model.engine.simulate import run_replication  # noqa: E402
from model.analysis.stats import t_interval  # noqa: E402

REPS = 5
T_PER_TEU = 14.0
YEARS = [2023, 2024, 2025]

# (label, published per year or None, what it is, source)
PUBLISHED = {
    "corridor_mt": ({2023: 2.764, 2024: 4.484, 2025: 4.119}, "TITR volume (Kazakh MoT, report.az, §1a)"),
    "baku_mt": ({2023: 7.3, 2024: 7.6, 2025: 8.0}, "Port of Baku, all cargo (§4; 2023 an estimate)"),
    "baku_corridor_teu": ({2024: 76775, 2025: 104500}, "Port of Baku TEU, all lines (§4)"),
    "kuryk_mt": ({2023: 1.807 * 12 / 10, 2024: 2.2}, "Kuryk (2023: 1.807 Mt Jan-Oct annualised; 2024 expected, §2)"),
    "ferry_calls": ({2023: 599 * 12 / 10}, "ferry calls at Kuryk (599 in Jan-Oct 2023 annualised, §2)"),
    "teu_per_vessel_year": ({2025: 14800}, "feeder TEU carried per vessel-year one way (D from sia.az, §3)"),
    "feeder_capacity_teu": ({2025: 89000}, "feeder fleet ceiling Aktau->Alat, 6 vessels (sia.az 1235452, §3)"),
    "alat_call_h": ({2024: 20.1}, "hours per container vessel at Alat (trend.az 4052708, §4)"),
    "kuryk_call_h": ({2023: 7.0}, "ferry handling cycle at Kuryk, 6-8 h single-deck (§2)"),
}


def one(k: int) -> dict[str, dict[int, float]]:
    s = load_scenario(ROOT / "scenarios" / "history_2023_2025.yaml")
    r = run_replication(s, k)
    nt = node_table(r).set_index(["node", "year"])
    t, cap = nt["throughput_t"], nt["capacity_t"]
    years = r.grid.years
    feeder, ferry = r.nodes["caspian_feeder"].extra, r.nodes["caspian_ferry"].extra
    fleet = {2023: 3, 2024: 5, 2025: 6}
    out: dict[str, dict[int, float]] = {k: {} for k in PUBLISHED}
    for i, y in enumerate(years):
        out["corridor_mt"][y] = sum(r.streams[sid].delivered_t[i] for sid, st in s.streams.items()
                                    if not st.background) / 1e6
        out["baku_mt"][y] = sum(t[(n, y)] for n in ("alat_container", "alat_ferry", "alat_general")) / 1e6
        out["baku_corridor_teu"][y] = t[("alat_container", y)] / T_PER_TEU
        out["kuryk_mt"][y] = t[("kuryk_ferry", y)] / 1e6
        out["ferry_calls"][y] = ferry["round_trips"][i]
        out["teu_per_vessel_year"][y] = t[("caspian_feeder", y)] / T_PER_TEU / fleet[y]
        out["feeder_capacity_teu"][y] = cap[("caspian_feeder", y)] / T_PER_TEU
        out["alat_call_h"][y] = feeder["unload_call_h"][i] / max(feeder["round_trips"][i], 1)
        out["kuryk_call_h"][y] = ferry["load_call_h"][i] / max(ferry["round_trips"][i], 1)
    return out


def main() -> None:
    runs = [one(k) for k in range(REPS)]
    print(f"| figure | year | published | simulated (mean, 95% CI, {REPS} replications) | source |")
    print("|---|---|---|---|---|")
    for key, (pub, what) in PUBLISHED.items():
        for y in YEARS:
            vals = np.array([r[key][y] for r in runs])
            m, _, lo, hi = t_interval(vals)
            fmt = (lambda v: f"{v:,.0f}") if abs(m) >= 100 else (lambda v: f"{v:.2f}")
            p = pub.get(y)
            print(f"| {key} | {y} | {fmt(p) if p is not None else '–'} | {fmt(m)} ({fmt(lo)}–{fmt(hi)}) | {what} |")


if __name__ == "__main__":
    main()
