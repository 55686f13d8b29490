"""Which investment first: run the scenario as given, without each investment (or tag
group), and with each one delayed, all on common random numbers; rank them.

``appraise(scenario, ...)`` is the library call; ``python run.py appraise`` wraps it.
Every (variant, replication) is a job stored in ``OUT/jobs/`` as it finishes (keyed
by the resolved scenario, seed, replication and model version: a variant identical
to another, such as an investment delayed past the horizon and the same investment
removed, runs once), so an interrupted appraisal resumes. The method and its limits:
``docs/appraisal.md``.
"""

from __future__ import annotations

import logging
import math
from functools import partial
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Sequence, cast

import numpy as np
import pandas as pd

from model.analysis.precision import (FIRST_STAGE, MAX_REPLICATIONS, Controls, Target, at_expected_values, decide,
                                      expected_storm_hours, input_mean, storm_hours)
from model.scenario.uncertainty import valuation_only
from model.analysis.ranking import (Item, Ranked, announced_columns, appraise_items, headline, step_values,
                                    stream_values)
from model.analysis.measures import APPRAISAL_TABLES as TABLES, LOST_COLUMNS
from model.core.years import YearGrid
from model.experiments.runner import Extract, Job, Variant, drawn_inputs, execute, plan
from model.nodes import KINDS
from model.scenario.schema import Delays, Disruption, Investment, ProjectDelay, Scenario
from model.analysis.stats import t_interval
from model.core.timeline import effective_investment_dates
from model.outputs.folders import RunFolder

log = logging.getLogger("model")

STREAM_COLUMNS = ["year", "stream", "commodity", "background", "demand_t", "delivered_t", *LOST_COLUMNS,
                  "transit_mean_days"]


def stream_rows(t: dict[str, pd.DataFrame]) -> list[dict]:
    """What a job keeps: its corridor stream rows (replication and scenario name are
    re-attached on reading: one stored job may serve several identical variants)."""
    df = t["annual_streams"]
    df = df[~df["background"].astype(bool)]
    return df[STREAM_COLUMNS].astype({"background": bool}).to_dict("records")


STREAM_ROWS = Extract(stream_rows, frozenset({"annual_streams"}), "appraisal-streams")


def without(s: Scenario, ids: set[str] | frozenset[str], name: str) -> Scenario:
    """The scenario without the investments ``ids``: a capacity change is removed; an
    opening is pushed past the horizon, so the line stays closed (removing it would
    open the line from the start). Applied to each replication's draw (:class:`Variant`), so a
    drawn delay of the same project cannot undo it."""
    kept = [i for i in s.investments if i.id not in ids or i.field == "opening"]
    # a delay that, with the opening's other delays, moves it just past the horizon; built without the
    # file's bound on one delay (600 months): a 50-year horizon may need a little more
    never = [ProjectDelay.model_construct(match=i.id, months=_months_past_end(s, i))
             for i in s.investments if i.id in ids and i.field == "opening"]
    update: dict[str, object] = {"name": name, "investments": kept}
    if never:
        update["delays"] = Delays(projects=[*s.delays.projects, *never], operational=s.delays.operational)
    return s.model_copy(update=update)


def _months_past_end(s: Scenario, inv: Investment) -> float:
    """The delay (months) that, added to the project delays already matching ``inv`` (by id or tag,
    negative ones too), moves it past the scenario's end."""
    others = sum(d.months for d in s.delays.projects if d.match == inv.id or d.match in inv.tags)
    return 12.0 * (s.end_date.year - inv.date.year) + (s.end_date.month - inv.date.month) + 2.0 - others


def delayed(s: Scenario, match: str, months: float, name: str) -> Scenario:
    """The scenario with the investments matching ``match`` (an id or tag) ``months`` later (on top of
    any delay a replication drew: :class:`Variant`)."""
    projects = [*s.delays.projects, ProjectDelay(match=match, months=months)]
    return s.model_copy(update={"name": name, "delays": Delays(projects=projects, operational=s.delays.operational)})


def item_groups(s: Scenario, by: str) -> dict[str, list[Investment]]:
    """Every item one could appraise, by name (an investment's id, or a tag), with its investments:
    those that take effect within the horizon."""
    groups: dict[str, list[Investment]] = {}
    for inv in s.investments:
        if inv.date >= s.end_date:  # takes no effect within the horizon: nothing to appraise
            continue
        for key in ([inv.id] if by == "id" else inv.tags):
            groups.setdefault(key, []).append(inv)
    return groups


def items_of(s: Scenario, by: str, delay_months: float, only: Sequence[str] | None = None
             ) -> tuple[list[Item], list[Variant]]:
    """The items to appraise (each investment, or each tag's group; ``only``: those named, in the
    scenario's order) and their variants: the scenario without the item, and with it delayed, each
    change applied on top of every replication's draw."""
    groups = item_groups(s, by)
    if only is not None:
        groups = {k: v for k, v in groups.items() if k in set(only)}
    base_dates = effective_investment_dates(s)
    items, variants = [], []
    for name, invs in groups.items():
        ids = frozenset(i.id for i in invs)
        w = Variant(f"{s.name}~without~{name}", s, partial(without, ids=ids, name=f"{s.name}~without~{name}"))
        d = Variant(f"{s.name}~delayed~{name}", s,
                    partial(delayed, match=name, months=delay_months, name=f"{s.name}~delayed~{name}"))
        items.append(Item(name, by, invs, w.name, d.name, base_dates,
                          effective_investment_dates(delayed(s, name, delay_months, d.name))))
        variants += [w, d]
    return items, variants


@dataclass
class Appraisal:
    """What ``appraise`` found: the ranked table, the yearly gains, the greedy
    programme (if asked for), and the one-sentence answer."""

    scenario: Scenario
    table: pd.DataFrame
    yearly: pd.DataFrame
    sequence: pd.DataFrame | None
    headline: str
    replications: int
    seed: int
    delay_months: float
    by: str
    wall_s: float
    marginal: pd.DataFrame | None = None  # marginal_values(): with appraise(..., marginal=True)
    budget_musd: float | None = None
    rates: pd.DataFrame | None = None  # NPVs at the sensitivity rates (with an appraisal section)
    ranks: pd.DataFrame | None = None  # each item's probability of each rank
    precision: Target | None = None  # appraise(..., precision=): replications in rounds until sure
    settle: bool = True
    max_replications: int = MAX_REPLICATIONS
    only: tuple[str, ...] | None = None  # appraise(..., only=): the items asked for; None: every item

    @property
    def span(self) -> str:
        years = self.yearly["year"]
        return f"{int(years.min())}-{int(years.max())}" if len(years) else ""

    def note(self) -> str:
        if self.precision is not None:
            counts = self.table["replications"]
            what = {"gain_mt": "cargo gained", "npv_musd": "NPV"}[self.precision_measure]
            first = (f"replications in rounds until each item's {what} interval is "
                     f"{self.precision}{' or its rank against its neighbours is settled (KN)' if self.settle else ''}"
                     f" (first stage {self.replications}, at most {self.max_replications}; {int(counts.min())}-"
                     f"{int(counts.max())} per item), with control variates where they shorten that interval; ")
        else:
            first = f"{self.replications} replication(s) of each variant "
        return (first + f"with common random numbers (seed {self.seed}); "
                f"each investment {'(tag group) ' if self.by == 'tag' else ''}is compared with the scenario without it "
                f"and with it {self.delay_months:g} months late; intervals are paired 95% Student-t intervals over "
                "replications. " + ("They cover the simulation's noise and the scenario's uncertain inputs, drawn per "
                                    "replication (the same draws for every variant)." if self.scenario.uncertainty else
                                    "They cover the simulation's noise only, not the uncertainty of the inputs.")
                + (f" Only {', '.join(self.only)} appraised (asked for); the other investments are in every variant."
                   if self.only else ""))

    @property
    def precision_measure(self) -> str:
        """The table column the precision is set on ('' without one)."""
        return "" if self.precision is None else self.precision.measure(self.scenario.appraisal is not None)

    def definition(self) -> dict:
        """What this appraisal was asked for, inputs resolved: its claim on a folder."""
        return appraisal_definition(self.scenario, self.replications, self.seed, self.delay_months, self.by,
                                    self.sequence is not None, self.budget_musd, self.marginal is not None,
                                    self.precision, self.settle, self.max_replications, self.only)

    def write(self, out: str | Path) -> Path:
        """Tables, charts, report.html and manifest.json (last) into ``out`` (beside its ``jobs/``)."""
        from model.outputs.folders import package_versions, scenario_yaml, write_file_atomic
        from model.outputs.report import write_appraisal_outputs

        folder = RunFolder.claim(out, kind="appraisal", name=self.scenario.name, definition=self.definition())
        write_appraisal_outputs(folder.path, self.scenario.name, self.table, self.yearly, self.sequence,
                                self.headline, self.delay_months, self.note(), self.span, self.rates, self.ranks)
        write_file_atomic(folder.path / f"scenario-{self.scenario.name}.yaml", scenario_yaml(self.scenario))
        if self.marginal is not None:
            write_file_atomic(folder.path / "marginal_values.csv", self.marginal.to_csv(index=False))
        return folder.complete({"scenario": self.scenario.name, "replications": self.replications, "seed": self.seed,
                                "delay_months": self.delay_months, "by": self.by, "wall_s": self.wall_s,
                                "answer": self.headline, "versions": package_versions(),
                                **({"precision": str(self.precision), "precision_measure": self.precision_measure,
                                    "replications_per_item": dict(zip(self.table["item"],
                                                                      self.table["replications"].tolist()))}
                                   if self.precision is not None else {})})


def appraisal_definition(scenario: Scenario, replications: int, seed: int, delay_months: float, by: str,
                         sequence: bool, budget_musd: float | None, marginal: bool, precision: Target | None = None,
                         settle: bool = True, max_replications: int = MAX_REPLICATIONS,
                         only: Sequence[str] | None = None) -> dict:
    """What an appraisal is asked for, inputs resolved: its claim on a folder."""
    out = {"scenario": scenario.model_dump(mode="json"), "replications": replications, "seed": seed,
           "delay_months": delay_months, "by": by, "sequence": sequence, "budget_musd": budget_musd,
           "marginal": marginal}
    if precision is not None:
        out["precision"] = {"value": precision.value, "unit": precision.unit, "settle": settle,
                            "max_replications": max_replications}
    if only:
        out["only"] = sorted(set(only))
    return out


def _values(stored: dict[str, object], jobs: list[Job], draws: list[Scenario]) -> pd.DataFrame:
    """The jobs' stream rows, valued with replication k's drawn values (``draws[k]``)."""
    rows = [{**row, "scenario": j.variant, "replication": j.replication}
            for j in jobs for row in stored[j.key]]  # type: ignore[attr-defined]
    return stream_values(pd.DataFrame(rows), draws)


def _draws(jobs: list[Job], name: str) -> list[Scenario]:
    """Replication k's scenario ``name`` as drawn (its uncertain inputs fixed), at position k."""
    return [j.scenario for j in sorted((j for j in jobs if j.variant == name), key=lambda j: j.replication)]


def as_announced(s: Scenario) -> Scenario | None:
    """The scenario without the project delays it draws (every project on its announced
    date); None when it draws none."""
    keep = [u for u in s.uncertainty if not u.path.startswith("delays.projects.")]
    return None if len(keep) == len(s.uncertainty) else \
        s.model_copy(update={"name": f"{s.name}~announced", "uncertainty": keep})


@dataclass
class _Runs:
    """How an appraisal's jobs run: replications, seed, the job store, workers or a Dask scheduler,
    progress; with ``block``, uncertain inputs drawn in hypercubes of that many replications
    (:func:`~model.experiments.runner.drawn`), so that rounds can add replications."""

    n: int
    seed: int
    store: Path
    workers: int | None
    scheduler: str | None
    progress: object
    block: int | None = None
    shared_prefixes: bool = True  # fork variants from the scenario's run at their first changed date

    def run(self, variants: list[Scenario | Variant], extract: Extract = STREAM_ROWS, store: Path | None = None,
            counts: list[int] | None = None) -> tuple[dict[str, object], list[Job]]:
        jobs = plan(variants, self.n if counts is None else counts, self.seed, keeps=extract.name, block=self.block)
        return execute(jobs, extract, seed=self.seed, store=store or self.store, workers=self.workers,
                       scheduler=self.scheduler, progress=self.progress, shared_prefixes=self.shared_prefixes), jobs


def appraise(scenario: Scenario, out: str | Path, *, replications: int | None = None, seed: int | None = None,
             workers: int | None = None, scheduler: str | None = None, delay_months: float = 12.0, by: str = "id",
             sequence: bool = False, budget_musd: float | None = None, marginal: bool = False, resume: bool = False,
             progress: object = None, precision: "float | str | Target | None" = None, settle: bool = True,
             max_replications: int = MAX_REPLICATIONS, only: Sequence[str] | None = None,
             shared_prefixes: bool = True) -> Appraisal:
    """Appraise every investment of ``scenario`` (``by="tag"``: every tag group), in the folder
    ``out`` (claimed: new or empty, or with ``resume`` the folder this same appraisal started);
    jobs are stored in ``out/jobs``. ``sequence``: also build the greedy programme of the items
    with a cost (``budget_musd`` caps it); ``marginal``: also one step more capacity at each
    node (:func:`marginal_values`). ``scheduler``: a Dask scheduler address. ``only``: appraise
    just these items (ids, or tags with ``by="tag"``); every other investment stays in every variant.

    ``precision`` (:class:`~model.analysis.precision.Target`: ``0.05`` Mt of cargo gained,
    ``"20musd"`` of NPV, ``"5%"`` of each item's NPV): ``replications`` (default
    :data:`~model.analysis.precision.FIRST_STAGE`, or the scenario's if more) is then a first
    stage, and rounds add replications to the items that need them until each item's interval is
    that narrow, its rank against its neighbours is settled (``settle``) or it has
    ``max_replications`` (:func:`_rounds`); the programme and the marginal steps use the first
    stage's. ``shared_prefixes``: on local workers, each variant is forked from the scenario's run at
    the date its inputs first differ (:mod:`model.experiments.prefixes`; the same tables, less
    work); False runs every variant in full."""
    t0 = time.perf_counter()
    target = Target.parse(precision) if precision is not None else None
    n = replications or (max(FIRST_STAGE, scenario.replications) if target is not None else scenario.replications)
    seed = scenario.seed if seed is None else seed
    folder = RunFolder.claim(out, kind="appraisal", name=scenario.name, resume=resume,
                             definition=appraisal_definition(scenario, n, seed, delay_months, by, sequence,
                                                             budget_musd, marginal, target, settle, max_replications,
                                                             only))
    runs = _Runs(n, seed, folder.jobs, workers, scheduler, progress, block=n if target is not None else None,
                 shared_prefixes=shared_prefixes)
    items, variants = items_of(scenario, by, delay_months, only)
    try:
        if target is None:
            counts = None
            stored, jobs = runs.run([scenario, *variants])
            draws = _draws(jobs, scenario.name)
            values = _values(stored, jobs, draws)
            ranked = appraise_items(values, scenario, scenario.name, items, delay_months, draws)
        else:
            ranked, counts, draws = _rounds(scenario, items, variants, runs, target, delay_months, settle,
                                            max(max_replications, n))
        table = ranked.table
        years = sorted(ranked.yearly["year"].unique().tolist())
        announced = as_announced(scenario)
        if announced is not None and scenario.appraisal is not None:  # NPV and rank as announced beside as likely
            a_items, a_variants = items_of(announced, by, delay_months, only)
            a_without = [v for v in a_variants if "~without~" in v.name]
            a_counts = None if counts is None else [max(counts.values())] + [counts[it.name] for it in a_items]
            a_stored, a_jobs = runs.run([announced, *a_without], counts=a_counts)
            # valued with the same draws of costs and values as likely, less the drawn delays: paired in those
            a_draws = [d.model_copy(update={"name": announced.name, "delays": scenario.delays}) for d in draws]
            a_ranked = appraise_items(_values(a_stored, a_jobs, a_draws), announced, announced.name, a_items,
                                      delay_months, a_draws, counts)
            table = announced_columns(table, a_ranked)
        seq = _sequence(scenario, items, runs, budget_musd) if sequence else None
        more = _marginal(scenario, runs, folder.path / "jobs-marginal") if marginal else None
    except BaseException:
        folder.release()  # interrupted or failed: the folder stays "running", for --resume
        raise
    common = ranked.common
    return Appraisal(scenario, table, ranked.yearly, seq, headline(table, ranked.per_rep, years, common), n, seed,
                     delay_months, by, round(time.perf_counter() - t0, 3), more, budget_musd, ranked.rates,
                     ranked.ranks, target, settle, max_replications, tuple(it.name for it in items) if only else None)


def _rounds(s: Scenario, items: list[Item], variants: list[Variant], runs: _Runs, target: Target,
            delay_months: float, settle: bool, cap: int) -> tuple[Ranked, dict[str, int], list[Scenario]]:
    """Replications in rounds until every item is done (:func:`~model.analysis.precision.decide`):
    round 1 runs every variant ``runs.n`` times; each later round runs each unfinished item's two
    variants (without it, delayed) up to the count the rule asks for, and the scenario as given up
    to the largest count, so that replication k of an item is always paired with replication k of
    the scenario (the same random numbers and drawn inputs). What is run is stored as it finishes,
    so an interrupted appraisal resumes, and the rule, given the same numbers, takes the same path.
    Returns the final ranking (the measure's interval with its control variates), each item's
    count, and the scenario's draws."""
    economic = s.appraisal is not None
    measure = target.measure(economic)
    if measure == "npv_musd" and not economic:
        raise ValueError("a precision in M USD needs the scenario's appraisal: section (NPV)")
    # an item without a (complete) cost has no NPV: with a precision on NPV, its PV of benefits is held to it
    unranked = frozenset(it.name for it in items
                         if measure == "npv_musd" and not all(i.cost_musd is not None for i in it.investments))
    col = {it.name: ("pv_benefits_musd" if it.name in unranked else measure) for it in items}
    known = _KnownControls(s, runs.seed, runs.block)
    counts = {it.name: runs.n for it in items}
    round_no = 1
    while True:
        nb = max(counts.values())
        stored, jobs = runs.run([s, *variants], counts=[nb] + [counts[it.name] for it in items for _ in (0, 1)])
        draws = _draws(jobs, s.name)
        values = _values(stored, jobs, draws)
        ranked = appraise_items(values, s, s.name, items, delay_months, draws, counts)
        judged = ranked
        if measure != "gain_mt":  # NPV at the expected appraisal values and costs: their spread integrated out
            expected = known.expected_draws(draws)
            judged = appraise_items(_values(stored, jobs, expected), s, s.name, items, delay_months, expected, counts)
        controls = known.upto(nb)
        samples = {name: judged.samples[col[name]][name] for name in counts}
        verdict = decide(samples, controls, target, runs.n, cap, settle, unranked)
        wanted = {name: v.next_n for name, v in verdict.items()}
        if wanted == counts:
            break
        more = [name for name in counts if wanted[name] > counts[name]]
        log.info("round %d: %d of %d items need more replications (%s)", round_no + 1, len(more), len(counts),
                 ", ".join(f"{name} {counts[name]} -> {wanted[name]}" for name in more))
        counts, round_no = wanted, round_no + 1

    def estimate(item: str, column: str, y: np.ndarray) -> dict[str, object] | None:
        if column != col[item]:  # a measure the precision is not set on: its plain interval
            return None
        e = verdict[item].estimate  # on the replications' values (at expected appraisal values, for NPV)
        return {column: e.mean, f"{column}_lo": e.lo, f"{column}_hi": e.hi, "controls": "; ".join(e.controls),
                "variance_reduction": e.variance_reduction}

    ranked = appraise_items(values, s, s.name, items, delay_months, draws, counts, estimate)
    ranked.table["stopped"] = ranked.table["item"].map({name: v.status for name, v in verdict.items()})
    return ranked, counts, draws


class _KnownControls:
    """Per replication, the controls of an appraisal with known expectations (each sea area's storm
    hours, the calendar the engine draws; each drawn input that can change a simulation), and the
    replications' draws at the expected appraisal values and costs."""

    def __init__(self, s: Scenario, seed: int, block: int | None) -> None:
        self.s, self.seed, self.block = s, seed, block
        self.horizon_h = YearGrid(s.start_date, s.end_date).horizon_h
        self.areas = list(s.weather)
        self.moving = [j for j, u in enumerate(s.uncertainty) if not valuation_only(u.path)]
        self.names = [f"storm hours ({a})" for a in self.areas] + [s.uncertainty[j].path for j in self.moving]
        self.means = np.array([expected_storm_hours(s.weather[a], s.start_date, self.horizon_h) for a in self.areas]
                              + [input_mean(s.uncertainty[j]) for j in self.moving], dtype=float)
        self._storms: list[list[float]] = []

    def inputs(self, n: int) -> np.ndarray:
        return drawn_inputs(self.s, n, self.seed, self.block)

    def upto(self, n: int) -> Controls:
        while len(self._storms) < n:
            hours = storm_hours(dict(self.s.weather), self.s.start_date, self.horizon_h, self.seed, len(self._storms))
            self._storms.append([hours[a] for a in self.areas])
        storms = np.array(self._storms[:n], dtype=float).reshape(n, len(self.areas))
        return Controls(self.names, np.hstack([storms, self.inputs(n)[:, self.moving]]), self.means)

    def expected_draws(self, draws: list[Scenario]) -> list[Scenario]:
        """Each replication's draw with its appraisal values and costs at their expectations."""
        if not self.s.uncertainty:
            return draws
        values = self.inputs(len(draws))
        return [at_expected_values(self.s, values[k]).model_copy(update={"name": d.name})
                for k, d in enumerate(draws)]


def _sequence(s: Scenario, items: list[Item], runs: _Runs, budget_musd: float | None) -> pd.DataFrame:
    """Greedy programme: start from the scenario without any costed item; at each step
    fund the item with the highest NPV per million USD (or Mt per million USD without
    an ``appraisal:`` section) given those already funded, re-running each candidate;
    stop when the best adds nothing (the remaining candidates are listed, not funded,
    with what each would add). Items without a cost are kept as given (committed)."""
    candidates = [it for it in items if it.cost_musd > 0]
    all_ids = {i.id for it in candidates for i in it.investments}
    key = "npv_musd" if s.appraisal is not None else "gain_mt"
    funded: list[Item] = []
    spent, rows = 0.0, []
    current = Variant(f"{s.name}~programme~0", s, partial(without, ids=frozenset(all_ids), name=f"{s.name}~programme~0"))
    while True:
        funded_ids = {i.id for it in funded for i in it.investments}
        left = [it for it in candidates if it not in funded
                and (budget_musd is None or spent + it.cost_musd <= budget_musd + 1e-9)]
        if not left:
            break
        trials = {it.name: Variant(f"{s.name}~programme~{len(funded) + 1}~{it.name}", s, partial(
            without, ids=frozenset(all_ids - funded_ids - {i.id for i in it.investments}),
            name=f"{s.name}~programme~{len(funded) + 1}~{it.name}")) for it in left}
        stored, jobs = runs.run([current, *trials.values()])
        values = _values(stored, jobs, _draws(jobs, current.name))
        found = {it.name: step_values(values, s, trials[it.name].name, current.name, it, _draws(jobs, trials[it.name].name))
                 for it in left}
        best = max(left, key=lambda it: float(np.mean(found[it.name][key])) / it.cost_musd)
        stop = float(np.mean(found[best.name][key])) <= 0  # nothing left adds value: the programme ends
        for it in (left if stop else [best]):
            if not stop:
                funded.append(it)
                spent += it.cost_musd
            rows.append(_sequence_row(len(funded) if not stop else 0, it, spent if not stop else math.nan,
                                      found[it.name], key, funded=not stop))
        if stop:
            break
        current = Variant(f"{s.name}~programme~{len(funded)}", s, trials[best.name].change)
    return TABLES["appraisal_sequence"].frame(rows) if rows else TABLES["appraisal_sequence"].frame([])


def _sequence_row(step: int, it: Item, spent: float, found: dict[str, np.ndarray], key: str, funded: bool
                  ) -> dict[str, object]:
    """One line of the programme: what the item adds given those funded before it."""
    row: dict[str, object] = {c: math.nan for c in TABLES["appraisal_sequence"].names()}
    row.update({"step": step, "item": it.name, "funded": funded, "cost_musd": it.cost_musd,
                "cumulative_cost_musd": spent, "value_per_musd": float(np.mean(found[key])) / it.cost_musd})
    for m, v in found.items():
        mean, _, lo, hi = t_interval(v)
        row.update({f"adds_{m}": mean, f"adds_{m}_lo": lo, f"adds_{m}_hi": hi})
    return row


# ------------------------------------------------------------------ marginal capacity


def marginal_rows(t: dict[str, pd.DataFrame]) -> dict:
    """What a marginal-run job keeps: corridor stream rows and every node's capacity per year."""
    caps = t["annual_nodes"][["year", "node", "capacity_t"]]
    return {"streams": stream_rows(t), "capacity": caps.astype({"year": int}).to_dict("records")}


MARGINAL_ROWS = Extract(marginal_rows, frozenset({"annual_streams", "annual_nodes"}), "appraisal-marginal")


def more_capacity(s: Scenario, nid: str) -> tuple[Scenario, str] | None:
    """The scenario with one step more capacity at ``nid`` (the kind's ``more_capacity``:
    a capacity factor all along, or one more unit of a count), and how it was added."""
    spec = s.nodes[nid]
    how = KINDS[spec.kind].step_of(spec)
    if how is None:
        return None
    name = f"{s.name}~more~{nid}"
    field, value = how
    if field == "factor":
        d = Disruption(node=nid, start=s.start_date, end=s.end_date, capacity_factor=value)
        return s.model_copy(update={"name": name, "disruptions": [*s.disruptions, d]}), f"capacity x {value:g}"
    inv = Investment(id=f"more_{nid}", node=nid, field=field, change="add", value=value, date=s.start_date)
    return s.model_copy(update={"name": name, "investments": [*s.investments, inv]}), f"{field} +{value:g}"


def marginal_values(scenario: Scenario, out: str | Path, *, replications: int | None = None, seed: int | None = None,
                    workers: int | None = None, scheduler: str | None = None, progress: object = None) -> pd.DataFrame:
    """Per node with a capacity on a corridor route, and year: the corridor cargo one step
    more capacity there delivers (paired runs, 95% interval), per tonne of capacity added
    (the measured shadow price), beside what the static bound says for the same step.
    Jobs are stored in ``out/jobs-marginal``."""
    runs = _Runs(replications or scenario.replications, scenario.seed if seed is None else seed,
                 Path(out) / "jobs-marginal", workers, scheduler, progress)
    return _marginal(scenario, runs, runs.store)


def _marginal(scenario: Scenario, runs: _Runs, store: Path) -> pd.DataFrame:
    from model.analysis.bound import corridor_nodes, demand_bound

    variants = {nid: m for nid in corridor_nodes(scenario) if (m := more_capacity(scenario, nid)) is not None}
    stored_any, jobs = runs.run([scenario, *(m[0] for m in variants.values())], MARGINAL_ROWS, store)
    stored = cast(dict[str, dict], stored_any)

    def total(name: str) -> pd.DataFrame:  # replication x year: corridor delivered
        rows = [{**r, "replication": j.replication} for j in jobs if j.variant == name for r in stored[j.key]["streams"]]
        return pd.DataFrame(rows).groupby(["replication", "year"])["delivered_t"].sum().unstack("year")

    def capacity(name: str) -> pd.DataFrame:  # year x node: mean capacity
        rows = [{**r, "replication": j.replication} for j in jobs if j.variant == name for r in stored[j.key]["capacity"]]
        return pd.DataFrame(rows).groupby(["year", "node"])["capacity_t"].mean().unstack("node")

    base, base_cap = total(scenario.name), capacity(scenario.name)
    years = list(base.columns)
    bound_of = demand_bound(scenario)
    out_rows = []
    for nid, (more, how) in variants.items():
        gain, cap = total(more.name) - base, capacity(more.name)
        for y in years:
            added = float(cap.loc[y, nid] - base_cap.loc[y, nid])
            mean, _, lo, hi = t_interval(gain[y].to_numpy())
            caps = {k: float(x) for k, x in base_cap.loc[y].items()}
            b0, b1 = bound_of(y, caps), bound_of(y, {**caps, nid: caps[nid] + added})
            out_rows.append({"scenario": scenario.name, "year": int(y), "node": nid, "step": how,
                             "capacity_added_t": added, "gain_t": mean, "gain_t_lo": lo, "gain_t_hi": hi,
                             "shadow_price": mean / added if added > 0 else math.nan,
                             "bound_gain_t": b1 - b0,
                             "bound_shadow_price": (b1 - b0) / added if added > 0 else math.nan})
    return TABLES["marginal_values"].frame(out_rows)
