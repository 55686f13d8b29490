"""Figures of docs/validation.md §6 "Transit from the Chinese border": simulated vs published.

    .venv/bin/python docs/border_transit_figures.py        # about a minute on 2 cores

Runs scenarios/baseline.yaml (5 replications, its seed) and prints, for 2024 and 2025, the
median transit of the China-origin container flows from the Chinese border, their land leg
(border crossing and Kazakh rail, up to the arrival at Aktau) and their transit from the
Kazakh port, and the Kazakh-origin flows from the port, each as the mean over replications
of the year's median with a 95% t-interval, as a markdown table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from model.scenario.loader import load_scenario  # noqa: E402
from model.engine.simulate import run_replication  # noqa: E402
from model.analysis.stats import t_interval  # noqa: E402

REPS = 5
YEARS = [2024, 2025]
FLOWS = {  # stream: what it is
    "containers_west": "China-origin containers to Poti/Batumi",
    "containers_turkiye": "China-origin containers to Türkiye (BTK)",
    "containers_kz_west": "Kazakh-origin containers to Poti/Batumi",
    "rail_ferry_west": "wagons (Kazakh exports) to Poti/Batumi",
}


def one(k: int) -> dict[tuple[str, str, int], float]:
    """Per (stream, measure, year): the median in days of one replication."""
    s = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    r = run_replication(s, k, log_shipments=True)
    out = {}
    for sid in FLOWS:
        log = r.streams[sid].log
        assert log is not None
        cols = log.columns()
        years = np.array([r.grid.index(h) for h in cols["delivered_h"]])
        total = (cols["delivered_h"] - cols["created_h"]) / 24.0
        port = (cols["delivered_h"] - cols["port_h"]) / 24.0
        for i, y in enumerate(r.grid.years):
            if y not in YEARS:
                continue
            m = years == i
            out[(sid, "from_border", y)] = float(np.median(total[m]))
            out[(sid, "land_leg", y)] = float(np.median(total[m] - port[m]))
            out[(sid, "from_port", y)] = float(np.median(port[m]))
    return out


def main() -> None:
    runs = [one(k) for k in range(REPS)]
    print(f"| flow | year | from the border: p50 days | land leg (border + Kazakh rail): p50 days | "
          f"from the Kazakh port: p50 days |")
    print("|---|---|---|---|---|")
    for sid, what in FLOWS.items():
        for y in YEARS:
            cells = []
            for measure in ("from_border", "land_leg", "from_port"):
                m, _, lo, hi = t_interval(np.array([r[(sid, measure, y)] for r in runs]))
                cells.append(f"{m:.1f} ({lo:.1f}–{hi:.1f})")
            if sid in ("containers_kz_west", "rail_ferry_west"):  # they enter at the port
                cells[0], cells[1] = "– (enter at the port)", "–"
            print(f"| {sid}: {what} | {y} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
