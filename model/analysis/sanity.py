"""After a run: each node's utilisation and waiting against a quick analytic estimate.

The estimates are textbook queueing formulas fed with the run's own yearly
throughput (mean over replications), so they check that the simulation behaves
as a queue with that load would, not that the load is right:

* **utilisation** of a port or pipeline: rho = throughput / capacity (tonnes
  over tonnes). Utilisation is busy server-hours over available server-hours,
  so the two agree unless busy time or capacity is mis-counted. For a sea link
  or rail line throughput / capacity is a *lower* bound (vessels and trains may
  leave part-loaded), and utilisation must not exceed 1.
* **waiting** (mean time before service) at a port with several berths:
  Erlang C (M/M/c) when the service is exponential, shipments of one size and
  arrivals Poisson; otherwise Allen–Cunneen, Wq(M/M/c) x (ca² + cs²)/2 (its
  one-server case is Kingman's formula). With one server (a one-berth port, or
  a pipeline's pump, whose pumping time t / rate is deterministic per size):
  Pollaczek–Khinchine, extended to batch arrivals (M^X/G/1: plus
  E[S](E[B²]-E[B]) / (2E[B](1-rho)), the wait behind the earlier members of the
  same vessel load), which is exact for Poisson batches where Kingman would
  miss the within-batch wait at low load. cs² comes from the shipment-size mix
  and the service shape; a stream arriving straight from its source or from a
  port counts as Poisson (ca² = 1, batch 1), one arriving from a vessel or a
  train in loads of b = floor(payload / shipment) shipments (a batch-Poisson
  stream has an index of dispersion b, so ca² = b; streams are merged weighted
  by arrival rate, as in QNA).
  Sea links and rail lines are bulk-service queues with dispatch rules and have
  no quick closed form: only their utilisation is checked.

**What counts as a large disagreement** (``large`` column):

* utilisation: |simulated - estimate| > 0.05 (ports, pipelines), or, for sea
  links and rail lines, simulated < estimate - 0.05 or > 1.02. Utilisation is
  accounting: over a year of thousands of services the only differences are
  services cut by the year's edges and the spread of drawn service times
  (about 1/sqrt(n), 1-2 %); five points is beyond both.
* waiting: the ratio simulated / estimate outside [1/2, 2] **and** a
  difference of more than a quarter of a mean service time. Allen–Cunneen and
  Kingman are usually within 10-30 % for these loads; monthly rate steps,
  mid-year capacity changes and the batch approximation can add as much again.
  A factor of two is more than those explain, and a difference under a quarter
  of a service is immaterial to transit times counted in days. Waiting is not
  compared when rho >= 0.9 (steady-state formulas do not describe a queue that
  is near saturation or still growing) or when fewer than 100 shipments were
  served in the year.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from model.analysis.bound import format_bound
from model.engine.demand import expected_tonnes_by_year
from model.nodes import kind_of
from model.scenario.route import Route
from model.scenario.schema import Scenario
from model.core.timeline import resolve_node_specs
from model.core.years import YearGrid

UTIL_ABS_TOL = 0.05
LINK_UTIL_MAX = 1.02
WAIT_RATIO = 2.0
WAIT_MIN_SERVICES = 0.25
RHO_MAX_FOR_WAIT = 0.9
MIN_SHIPMENTS = 100


# ------------------------------------------------------------- formulas

def erlang_c(c: int, a: float) -> float:
    """Probability of waiting in M/M/c with offered load a = lambda x mean service
    (Erlang B by its stable recursion, then C = B / (1 - rho (1 - B))).

    >>> round(erlang_c(1, 0.8), 6), round(erlang_c(2, 1.6), 4)
    (0.8, 0.7111)
    """
    if c < 1:
        raise ValueError("c must be >= 1")
    rho = a / c
    if rho >= 1:
        return 1.0
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b / (1.0 - rho * (1.0 - b))


def mmc_wq(lam: float, mean_s: float, c: int) -> float:
    """Mean wait in queue of M/M/c (inf at rho >= 1).

    >>> round(mmc_wq(1.6, 1.0, 2), 4)
    1.7778
    """
    rho = lam * mean_s / c
    if rho >= 1:
        return math.inf
    return erlang_c(c, lam * mean_s) * mean_s / (c * (1.0 - rho))


def mmc_wq_fractional(lam: float, mean_s: float, c: float) -> float:
    """M/M/c mean wait for a time-averaged, non-integer number of servers:
    linear between floor(c) and ceil(c)."""
    lo, hi = max(int(math.floor(c)), 1), max(int(math.ceil(c)), 1)
    if lo == hi:
        return mmc_wq(lam, mean_s, lo)
    w_lo, w_hi = mmc_wq(lam, mean_s, lo), mmc_wq(lam, mean_s, hi)
    if math.isinf(w_lo):
        return math.inf
    f = c - lo
    return (1 - f) * w_lo + f * w_hi


def pk_wq(lam: float, mean_s: float, scv_s: float) -> float:
    """Pollaczek–Khinchine mean wait in queue of M/G/1.

    >>> round(pk_wq(0.8, 1.0, 0.0), 9)  # M/D/1 at rho 0.8
    2.0
    """
    rho = lam * mean_s
    if rho >= 1:
        return math.inf
    return rho * mean_s * (1.0 + scv_s) / (2.0 * (1.0 - rho))


def allen_cunneen_wq(lam: float, mean_s: float, c: float, ca2: float, cs2: float) -> float:
    """GI/G/c mean wait: Wq(M/M/c) x (ca² + cs²) / 2 (Kingman's formula for c = 1)."""
    return mmc_wq_fractional(lam, mean_s, c) * (ca2 + cs2) / 2.0


def kingman_wq(lam: float, mean_s: float, ca2: float, cs2: float) -> float:
    """Kingman's heavy-traffic GI/G/1 mean wait: rho/(1-rho) x (ca²+cs²)/2 x E[S]."""
    rho = lam * mean_s
    if rho >= 1:
        return math.inf
    return rho / (1.0 - rho) * (ca2 + cs2) / 2.0 * mean_s


# ------------------------------------------------------------- the check

def _arrivals_at(scenario: Scenario, specs: Mapping, nid: str) -> list[tuple[str, float, float]]:
    """(stream, share of the stream reaching the node, batch size) for each stream
    using the node: cargo that comes off a vessel or a train (a kind with a
    ``carrier``) arrives in batches of that load."""
    # a terminal that vessels unload at hands their loads on whole (a pass-through, no wait): what leaves it
    # comes in the vessel's batches
    unloaded_by = {t: cid for cid, sp in specs.items() for f, side in kind_of(sp.kind).calls_at
                   if side == "after" for t in sp.terminals(f)}
    out = []
    for sid, st in scenario.streams.items():
        route = Route.of(st)
        hit = route.reach(nid)
        if hit is None:
            continue
        share, before = hit
        b = 1.0
        if before is not None and before in unloaded_by and route.reach(unloaded_by[before]) is not None:
            before = unloaded_by[before]
        if before is not None:
            payload = kind_of(specs[before].kind).carried_t(specs[before], scenario)
            if payload:
                b = max(1.0, math.floor(payload / st.shipment_t + 1e-9))
        out.append((sid, share, b))
    return out


def check_run(scenario: Scenario, tables: Mapping[str, pd.DataFrame] | pd.DataFrame) -> pd.DataFrame:
    """Every node-year's simulated utilisation and waiting next to its estimate.

    ``tables`` is a run's tables (or just ``annual_nodes``); values are means
    over replications. Columns: node, kind, year, measure, simulated, estimate,
    method, large, note."""
    annual = tables["annual_nodes"] if isinstance(tables, Mapping) else tables
    if "scenario" in annual.columns:
        annual = annual[annual["scenario"] == scenario.name]
    mean = annual.groupby(["node", "year"])[["throughput_t", "capacity_t", "utilization", "waiting_mean_h"]].mean()
    grid = YearGrid(scenario.start_date, scenario.end_date)
    hours = dict(zip(grid.years, grid.hours()))
    specs = resolve_node_specs(scenario)
    tonnes = {sid: expected_tonnes_by_year(scenario, sid) for sid in scenario.streams}
    rows: list[dict] = []

    def row(nid, kind, year, measure, sim, est, method, large, note=""):
        rows.append({"node": nid, "kind": kind, "year": year, "measure": measure, "simulated": sim,
                     "estimate": est, "method": method, "large": bool(large), "note": note})

    called = {t for sp in specs.values() for f, _ in kind_of(sp.kind).calls_at for t in sp.terminals(f)}
    for (nid, year), m in mean.iterrows():
        spec = specs.get(nid)
        if spec is None:
            continue
        kind = kind_of(spec.kind)
        if kind.utilisation_check == "none":
            continue
        h = hours[year]
        thr, cap, util, wait = m.throughput_t, m.capacity_t, m.utilization, m.waiting_mean_h
        if not (cap > 0) or math.isnan(util):
            continue
        rho = thr / cap
        if nid in called:  # vessels call: berth time adds call time to the tonnes handled
            large = util < rho - UTIL_ABS_TOL or util > LINK_UTIL_MAX
            row(nid, spec.kind, year, "utilization", util, rho, "throughput/capacity (lower bound)", large,
                "vessel calls add call time; waits of calls have no closed form here")
            continue
        if kind.utilisation_check == "lower_bound":
            large = util < rho - UTIL_ABS_TOL or util > LINK_UTIL_MAX
            row(nid, spec.kind, year, "utilization", util, rho, "throughput/capacity (lower bound)", large,
                "part loads raise utilisation above throughput/capacity" if not large else
                ("busy time below the tonnes carried" if util < rho - UTIL_ABS_TOL else "utilisation above 1"))
            continue
        model = kind.service(spec, grid, grid.years.index(year), cap) if kind.service else None
        arrivals = _arrivals_at(scenario, specs, nid)
        w = np.array([tonnes[sid].get(year, 0.0) * share / scenario.streams[sid].shipment_t
                      for sid, share, _ in arrivals])  # shipments per year, by stream
        if model is None or w.sum() <= 0:
            row(nid, spec.kind, year, "utilization", util, rho, "throughput/capacity", abs(util - rho) > UTIL_ABS_TOL)
            continue
        sizes = np.array([scenario.streams[sid].shipment_t for sid, _, _ in arrivals])
        batch = np.array([b for _, _, b in arrivals])
        p = w / w.sum()
        et, et2 = float(p @ sizes), float(p @ sizes**2)
        ca2 = float(p @ batch)
        lam = thr / h / et
        c, rate, unit_scv = model.servers, model.rate_t_per_h, model.unit_scv
        # busy share: tonnes / rate plus the fixed part of each call, over the berths
        util_est = rho + lam * model.fixed_h / c
        row(nid, spec.kind, year, "utilization", util, util_est,
            "throughput/capacity" + (" + calls x call time" if model.fixed_h else ""),
            abs(util - util_est) > UTIL_ABS_TOL)

        # waiting ---------------------------------------------------------------
        if math.isnan(wait):
            continue
        handling = et / rate
        mean_s = handling + model.fixed_h
        es2 = et2 * (1.0 + unit_scv) / rate**2 + 2 * handling * model.fixed_h + model.fixed_h**2 * (1 + model.fixed_scv)
        cs2 = es2 / mean_s**2 - 1.0
        rho = lam * mean_s / c  # the load of the berths, call time included
        if lam * h < MIN_SHIPMENTS:
            continue
        if rho >= RHO_MAX_FOR_WAIT:
            row(nid, spec.kind, year, "waiting_mean_h", wait, math.nan, "not compared", False,
                f"rho {rho:.2f} >= {RHO_MAX_FOR_WAIT}: near saturation")
            continue
        exact = abs(cs2 - 1.0) < 1e-9 and abs(ca2 - 1.0) < 1e-9 and abs(c - round(c)) < 1e-9
        if abs(c - 1.0) < 1e-9:
            # one server: M^X/G/1 (Pollaczek–Khinchine plus the wait behind earlier members of
            # the same batch); exact for Poisson batches, and plain P-K when nothing is batched
            eb = 1.0 / float(p @ (1.0 / batch))  # mean batch size over batches
            eb2 = eb * ca2  # E[B^2] = E[B] x (customer-weighted mean batch size)
            est = pk_wq(lam, mean_s, cs2) + mean_s * (eb2 - eb) / (2.0 * eb * (1.0 - rho))
            method = ("Pollaczek–Khinchine (M/G/1" if ca2 == 1.0 else "M^X/G/1 (batches") + f", cs²={cs2:.2g})"
        elif exact:
            est, method = mmc_wq(lam, mean_s, int(round(c))), "Erlang C (M/M/c)"
        else:
            est = allen_cunneen_wq(lam, mean_s, c, ca2, cs2)
            method = f"Allen–Cunneen (ca²={ca2:.2g}, cs²={cs2:.2g})"
            if ca2 > c:
                # lots handed on from a vessel's load, more of them than berths: the wait behind earlier lots
                # of the same vessel dominates, and depends on how the unloading staggers them (Allen-Cunneen
                # gave 0.03 h against 2.2 h simulated behind a 780-TEU ship's 15 lots at 4 berths; a
                # deterministic batch 7 h): no closed form here
                row(nid, spec.kind, year, "waiting_mean_h", wait, math.nan, "not compared", False,
                    f"fed by vessel loads of about {ca2:.0f} lots at {c:g} berths: no closed form here")
                continue
        ratio = wait / est if est > 0 else math.inf
        large = (ratio > WAIT_RATIO or ratio < 1 / WAIT_RATIO) and abs(wait - est) > WAIT_MIN_SERVICES * mean_s
        row(nid, spec.kind, year, "waiting_mean_h", wait, est, method, large,
            f"rho {rho:.2f}, c {c:g}, mean service {mean_s:.2f} h")
    return pd.DataFrame(rows, columns=["node", "kind", "year", "measure", "simulated", "estimate", "method",
                                       "large", "note"])


def disagreements(scenario: Scenario, tables: Mapping[str, pd.DataFrame] | pd.DataFrame) -> pd.DataFrame:
    """Only the large disagreements of :func:`check_run`."""
    rows = check_run(scenario, tables)
    return rows[rows["large"]].reset_index(drop=True)


def format_sanity(rows: pd.DataFrame) -> str:
    """Lines for the printed summary: the large disagreements, or one line saying there are none."""
    checked = rows[rows["method"] != "not compared"]
    large = rows[rows["large"]]
    if large.empty:
        return (f"Sanity check: utilisation and waiting agree with queueing estimates "
                f"({len(checked)} node-year comparisons; none differs by a large margin).")
    lines = [f"Sanity check: {len(large)} of {len(checked)} node-year comparisons disagree with a "
             f"queueing estimate by a large margin:"]
    for r in large.itertuples():
        unit = "" if r.measure == "utilization" else " h"
        lines.append(f"  {r.node} {r.year} {r.measure}: simulated {r.simulated:.3g}{unit}, "
                     f"estimate {r.estimate:.3g}{unit} ({r.method}) {r.note}".rstrip())
    return "\n".join(lines)


def checks_summary(scenario: Scenario, annual_nodes: pd.DataFrame, corridor: pd.DataFrame,
                   bound: pd.DataFrame) -> str:
    """The capacity bound and the sanity check of one scenario's run, as printed
    after the summary. Never fails a run: a check that cannot be computed says
    so in one line."""
    mine = (lambda df: df[df["scenario"] == scenario.name] if "scenario" in df.columns else df)
    parts = []
    try:
        delivered = (mine(corridor).groupby("year")["delivered_t"].mean() / 1e6).to_dict()
        parts.append(format_bound(mine(bound), delivered))
    except Exception as e:  # a diagnostic must not break a completed run
        parts.append(f"Capacity bound: not computed ({e.__class__.__name__}: {e})")
    try:
        parts.append(format_sanity(check_run(scenario, mine(annual_nodes))))
    except Exception as e:
        parts.append(f"Sanity check: not computed ({e.__class__.__name__}: {e})")
    return "\n".join(parts)
