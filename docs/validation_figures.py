"""Figures of docs/validation.md: theory vs simulation, bound vs delivered, published vs simulated.

    .venv/bin/python docs/validation_figures.py        # about 2 minutes on 2 cores

Runs the scenarios of tests/validation with the same seeds and replications,
prints the tables of docs/validation.md (markdown) and writes
docs/validation_checks.png. 95% intervals here are plain (per figure) t-intervals;
the tests use simultaneous (Bonferroni) intervals, which are wider.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "validation")]

import test_validation_links as L  # noqa: E402
import test_validation_queues as Q  # noqa: E402
import test_validation_sharing as S  # noqa: E402
import test_validation_waiting_room as W  # noqa: E402
from vstats import SEED, interval, per_replication  # noqa: E402

from model.experiments.runner import run_many  # noqa: E402
from model.analysis.bound import bound_table  # noqa: E402
from model.core.distributions import as_distribution  # noqa: E402
from model.analysis.sanity import check_run, mmc_wq  # noqa: E402
from model.scenario.loader import load_scenario  # noqa: E402


def ci95(values):
    return interval(values, level=0.95)


def main() -> None:
    rows = []  # (label, theory, ci)

    # ---- ports vs queueing theory
    qs = [Q._single(n) for n in Q.SINGLE] + [Q._tandem()]
    tq = run_many([(s, k) for s in qs for k in range(Q.REPS)], seed=SEED, workers=2)
    for n, (c, s, lam, law, cv) in Q.SINGLE.items():
        rows.append((f"{n}: Wq (h)", Q._theory_wq(n), ci95(per_replication(tq, "annual_nodes", "waiting_mean_h", n, node="p"))))
        rows.append((f"{n}: rho", lam * s / c, ci95(per_replication(tq, "annual_nodes", "utilization", n, node="p"))))
    for node, (c, s) in Q.TANDEM.items():
        rows.append((f"tandem {node} (c={c}): Wq (h)", mmc_wq(Q.TANDEM_LAM, s, c),
                     ci95(per_replication(tq, "annual_nodes", "waiting_mean_h", "tandem", node=node))))
    soj = sum(mmc_wq(Q.TANDEM_LAM, s, c) + s for c, s in Q.TANDEM.values())
    rows.append(("tandem: time in system (h)", soj,
                 ci95(per_replication(tq, "annual_streams", "transit_mean_days", "tandem", stream="x") * 24)))

    # ---- sea links and rail lines at saturation
    jobs = [(L._sea(n), k) for n in L.STORMS for k in range(L.REPS_BY_NAME[n])]
    jobs += [(L._rail(n), k) for n in L.RAIL for k in range(L.REPS)]
    tl = run_many(jobs, seed=SEED, workers=2)
    old_formula = {}
    for n in ("sea_calm", "sea_storms_uniform"):
        rows.append((f"{n}: throughput (kt)", L.sea_theory(n) / 1e3,
                     ci95(per_replication(tl, "annual_nodes", "throughput_t", n, node="link") / 1e3)))
    for n in ("sea_storms_uniform", "sea_storms_exponential"):
        thr = per_replication(tl, "annual_nodes", "throughput_t", n, node="link")
        cap = per_replication(tl, "annual_nodes", "capacity_t", n, node="link")
        closed = per_replication(tl, "annual_nodes", "hours_closed", n, node="link") / 8760
        rows.append((f"{n}: throughput / capacity_t", 1.0, ci95(thr / cap)))
        d = as_distribution(L.STORMS[n][1])
        residual = 24 * d.mean * (1 + d.scv) / 2
        old = L.FLEET * L.PAYLOAD * 8760 / (L.CYCLE + 2 * closed * residual)
        old_formula[n] = (ci95(thr / old), cap.mean(), old.mean(), thr.mean())
    for n, (spec, _, theory) in L.RAIL.items():
        rows.append((f"{n}: throughput (kt)", theory / 1e3,
                     ci95(per_replication(tl, "annual_nodes", "throughput_t", n, node="line") / 1e3)))

    # ---- a finite tank that turns parcels away: M/D/1/K blocking
    tw = run_many([(W._scenario(n), k) for n in W.CASES for k in range(W.REPS)], seed=SEED, workers=2)
    for n, (k, rho) in W.CASES.items():
        away = per_replication(tw, "annual_streams", "turned_away_t", n)
        offered = per_replication(tw, "annual_streams", "demand_t", n)
        rows.append((f"{n}: share turned away, M/D/1/K", W.md1k_blocking(k, rho), ci95(away / offered)))

    # ---- background and corridor cargo on shared berths: Erlang C of the pooled arrivals
    tsh = run_many([(S._berths(True, True), k) for k in range(S.REPS)], seed=SEED, workers=2)
    pooled = mmc_wq(S.BACKGROUND_PER_H + S.CORRIDOR_PER_H, S.SERVICE_H, S.BERTHS)
    for label, sid in [("shared berths: background with corridor cargo, Wq (h)", "other"),
                       ("shared berths: corridor with background, Wq (h)", "cargo")]:
        rows.append((label, pooled, ci95(S._wait_h(tsh, "other+cargo", sid))))

    print("| check | theory | simulated mean | 95% CI | (sim - theory) / theory |")
    print("|---|---|---|---|---|")
    for label, th, ci in rows:
        print(f"| {label} | {th:.4g} | {ci.mean:.4g} | {ci.lo:.4g} – {ci.hi:.4g} | {(ci.mean - th) / th:+.1%} |")
    print()
    print("Former sea-link capacity formula (closed share x mean residual per departure):")
    for n, (ci, cap, old, thr) in old_formula.items():
        print(f"  {n}: throughput {thr:,.0f} t, capacity_t now {cap:,.0f} t, former formula {old:,.0f} t; "
              f"throughput / former = {ci}")

    # ---- the corridor: bound, published figures
    names = {"baseline": 4, "as_built_2024": 4, "as_built_2024_saturated": 10}
    scen = {n: load_scenario(ROOT / "scenarios" / f"{n}.yaml") for n in names}
    tc = run_many([(scen[n], k) for n, r in names.items() for k in range(r)], seed=SEED, workers=2)
    bounds = {}
    for n, s in scen.items():
        nodes = tc["annual_nodes"][tc["annual_nodes"]["scenario"] == n]
        corr = tc["corridor"][tc["corridor"]["scenario"] == n]
        b = bound_table(s, nodes)
        bounds[n] = (b, corr)
        print(f"\n{n}: year | delivered Mt (95% CI) | bound Mt | share | cut | transit p50 / p95 days")
        for r in b.itertuples():
            ci = ci95(corr[corr["year"] == r.year]["delivered_t"].to_numpy() / 1e6)
            g = corr[corr["year"] == r.year]
            print(f"| {r.year} | {ci.mean:.2f} ({ci.lo:.2f}–{ci.hi:.2f}) | {r.bound_t / 1e6:.2f} | "
                  f"{ci.mean * 1e6 / r.bound_t:.0%} | {r.cut} | {g['transit_p50_days'].mean():.1f} / "
                  f"{g['transit_p95_days'].mean():.1f} |")
        rows_s = check_run(s, {k: v[v["scenario"] == n] for k, v in tc.items() if "scenario" in v})
        print(f"  sanity: {int(rows_s['large'].sum())} large of {len(rows_s)}")
        th = nodes.groupby(["node", "year"])[["throughput_t", "capacity_t", "utilization", "hours_closed"]].mean()
        if n in ("baseline", "as_built_2024_saturated"):
            for node in ["aktau_container", "aktau_oil", "kuryk_ferry", "alat_container", "alat_ferry", "alat_general",
                         "alat_rail", "caspian_ferry", "caspian_feeder", "tanker_shuttle", "btc", "btk", "ge_mainline"]:
                for y in (2024, 2025):
                    r = th.loc[(node, y)]
                    print(f"  {node} {y}: throughput {r.throughput_t / 1e6:.2f} Mt, capacity {r.capacity_t / 1e6:.2f} Mt, "
                          f"util {r.utilization:.2f}, closed {r.hours_closed:.0f} h")

    # ---- the figure
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.8), gridspec_kw={"width_ratios": [1.1, 1]})
    labels = [r[0] for r in rows]
    rel = np.array([(ci.mean - th) / th for _, th, ci in rows]) * 100
    err = np.array([[(ci.mean - ci.lo) / th, (ci.hi - ci.mean) / th] for _, th, ci in rows]).T * 100
    y = np.arange(len(rows))[::-1]
    ax1.errorbar(rel, y, xerr=err, fmt="o", ms=3.5, color="tab:blue", ecolor="tab:blue", capsize=2, lw=1)
    for n, (ci, *_rest) in old_formula.items():
        i = labels.index(f"{n}: throughput / capacity_t")
        ax1.plot([(ci.mean - 1) * 100], [y[i]], "x", color="tab:red", ms=6,
                 label="sea link, former capacity formula" if n == "sea_storms_uniform" else None)
    ax1.axvline(0, color="black", lw=0.8)
    ax1.set_yticks(y, [lab.replace("throughput", "thr.").replace("sea_storms_", "storms ").replace("exponential", "exp.") for lab in labels],
                   fontsize=7)
    ax1.set_xlabel("simulated − theory, % of theory (mean, 95% CI)")
    ax1.set_title("Nodes vs queueing / capacity theory", fontsize=10)
    ax1.legend(fontsize=7, loc="lower right")
    ax1.grid(axis="x", alpha=0.3)

    for n, colour in (("baseline", "tab:blue"), ("as_built_2024", "tab:orange"), ("as_built_2024_saturated", "tab:green")):
        b, corr = bounds[n]
        d = corr.groupby("year")["delivered_t"].mean() / 1e6
        ax2.plot(b["year"], b["bound_t"] / 1e6, "--", color=colour, lw=1.2)
        ax2.plot(d.index, d.values, "o-", color=colour, ms=3.5, lw=1.2, label=f"{n}: delivered (solid), bound (dashed)")
    ax2.plot([2023, 2024, 2025], [2.76, 4.48, 4.12], "ks", ms=5, label="carried, published (2.76, 4.48, 4.12 Mt)")
    ax2.plot([2024], [6.0], "k^", ms=6, label="stated capacity 2024 (6 Mt/yr)")
    ax2.set_xlabel("year")
    ax2.set_ylabel("corridor cargo, Mt (background traffic excluded)")
    ax2.set_title("Corridor: delivered vs max-flow bound", fontsize=10)
    ax2.legend(fontsize=6.5, loc="lower right")
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    out = ROOT / "docs" / "validation_checks.png"
    fig.savefig(out, dpi=90)
    print(f"\nwrote {out} ({out.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
