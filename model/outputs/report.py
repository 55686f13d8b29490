"""What a person reads: the printed summary, and the plots and report.html of a folder.

Everything here reads a :class:`model.outputs.results.Results` and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from model.analysis.bound import Pool
from model.scenario.diff import touched_nodes

if TYPE_CHECKING:  # pragma: no cover
    from model.outputs.plots import FigureJob
    from model.outputs.results import Results


def format_summary(summary: pd.DataFrame) -> str:
    lines = []
    for scn, g in summary.groupby("scenario", sort=False):
        lines.append(f"Scenario {scn}: corridor cargo (background traffic excluded), mean of replications")
        has_bound = "bound_mt" in g.columns
        has_lost = "lost_mt" in g.columns and bool((g["lost_mt"].fillna(0) > 0).any())
        lines.append(f"  {'year':<6}{'demand Mt':>10}{'delivered Mt':>14}{'95% CI':>16}"
                     + (f"{'lost Mt':>9}{'95% CI':>14}" if has_lost else "")
                     + (f"{'bound Mt':>10}" if has_bound else "")
                     + f"  {'transit p50/p95 days':>21}")
        for _, r in g.iterrows():
            ci = ("" if pd.isna(r.delivered_ci95_lo_mt)
                  else f"{r.delivered_ci95_lo_mt:.2f}–{r.delivered_ci95_hi_mt:.2f}")
            bound = "" if not has_bound else f"{'':>10}" if pd.isna(r.bound_mt) else f"{r.bound_mt:>10.2f}"
            lost = ""
            if has_lost:
                lci = "" if pd.isna(r.lost_ci95_lo_mt) else f"{r.lost_ci95_lo_mt:.2f}–{r.lost_ci95_hi_mt:.2f}"
                lost = f"{r.lost_mt:>9.2f}{lci:>14}"
            lines.append(f"  {int(r.year):<6}{r.demand_mt:>10.2f}{r.delivered_mt:>14.2f}{ci:>16}{lost}{bound}  "
                         f"{r.transit_p50_days:>10.1f} / {r.transit_p95_days:<8.1f}")
    return "\n".join(lines)


def _per_scenario(df: pd.DataFrame, year: int | None, title: str, header: str,
                  row: Callable[[Any], str]) -> str:
    """One year (default: the last) of a per-scenario table as printed lines: per scenario
    "<scenario>, <year>, <title>", the header, then ``row`` of each of its rows."""
    if df.empty:
        return ""
    year = int(df["year"].max()) if year is None else year
    lines = []
    for scn, g in df[df["year"] == year].groupby("scenario", sort=False):
        lines += [f"{scn}, {year}, {title}:", f"  {header}"]
        lines += [f"  {row(r)}" for r in g.itertuples()]
    return "\n".join(lines)


def _transits(r: Any) -> str:
    return f"{r.transit_p50_days:>10.1f} / {r.transit_p95_days:<6.1f}{r.port_transit_p50_days:>10.1f}      "


def format_flows(flows: pd.DataFrame, year: int | None = None) -> str:
    """Per scenario, each corridor flow in one year (default: the last): delivered, lost,
    transit and the node that binds along its own route. The corridor is parallel
    flows, so there is no single corridor bottleneck to print."""
    def row(r: Any) -> str:
        share = "" if pd.isna(r.binding_share) else f" ({r.binding_share:.0%})"
        gate = "-" if pd.isna(r.gateway_transit_p50_days) else f"{r.gateway_transit_p50_days:.1f}"
        return (f"{r.stream:<22}{r.commodity:<12}{r.delivered_mt:>13.2f}{r.lost_mt:>9.2f}{_transits(r)}"
                f"{gate:>8}   {(r.binding or '-') + share}")

    return _per_scenario(flows, year, "per flow (the binding node along each flow's route, share of the year)",
                         f"{'flow':<22}{'commodity':<12}{'delivered Mt':>13}{'lost Mt':>9}{'transit p50/p95 d':>19}"
                         f"{'from port p50':>14}{'to gateway p50':>17}   binds", row)


def format_commodities(cs: pd.DataFrame, year: int | None = None) -> str:
    """Per scenario, each commodity in one year (default: the last): delivered with its
    interval, lost, transit p50/p95 and what binds its flows."""
    def row(r: Any) -> str:
        ci = "" if pd.isna(r.delivered_ci95_lo_mt) else f"{r.delivered_ci95_lo_mt:.2f}–{r.delivered_ci95_hi_mt:.2f}"
        return f"{r.commodity:<12}{r.delivered_mt:>13.2f}{ci:>13}{r.lost_mt:>9.2f}{_transits(r)}{r.binding or '-'}"

    return _per_scenario(cs, year, "per commodity (each a parallel flow with its own binding node)",
                         f"{'commodity':<12}{'delivered Mt':>13}{'95% CI':>13}{'lost Mt':>9}{'transit p50/p95 d':>19}"
                         f"{'from port p50':>14}  binds", row)


def format_capacity_values(cv: pd.DataFrame, year: int | None = None) -> str:
    """Per scenario, the nodes where 10% more capacity raises the static bound, in one year
    (default: the last), largest first: where the corridor jams, in Mt."""
    if cv.empty:
        return ""
    year = int(cv["year"].max()) if year is None else year
    lines = []
    for scn, g in cv[(cv["year"] == year) & (cv["bound_gain_t"] > 0)].groupby("scenario", sort=False):
        g = g.sort_values("bound_gain_t", ascending=False)
        cells = ", ".join(f"{r.node} +{r.bound_gain_t / 1e6:.2f} Mt" for r in g.itertuples())
        lines.append(f"{scn}, {year}: 10% more capacity at one node would raise the capacity bound by: {cells}"
                     " (everything else: +0)")
    return "\n".join(lines)


def format_differences(d: pd.DataFrame) -> str:
    if d.empty:
        return ""
    lines = ["Paired differences vs the reference scenario (same seeds), delivered Mt, mean [95% CI]:"]
    dm = d[d["measure"] == "delivered_mt"]
    for s, g in dm.groupby("scenario", sort=False):
        cells = [f"{int(r.year)}: {r.mean_difference:+.2f} "
                 + (f"[{r.ci95_lo:+.2f}, {r.ci95_hi:+.2f}]" if r.ci95_lo == r.ci95_lo else "(1 replication)")
                 for r in g.itertuples()]
        lines.append(f"  {s} - {g['reference'].iloc[0]}:")
        lines.extend(f"    {c}" for c in cells)
    return "\n".join(lines)


def _mt(mean: float, lo: float, hi: float, sign: str = "") -> str:
    """ "7.70 Mt [7.56, 7.83]", the interval left out where it cannot be computed."""
    band = f" [{lo:{sign}.2f}, {hi:{sign}.2f}]" if np.isfinite(lo) and np.isfinite(hi) else ""
    return f"{mean:{sign}.2f} Mt{band}"


def display(text: str, names: dict[str, str]) -> str:
    """Node ids in ``text`` replaced by their display names."""
    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: names.get(m.group(0), m.group(0)), text)


def node_display_names(results: "Results") -> dict[str, str]:
    return {n: spec.name or n for s in results.scenarios for n, spec in s.nodes.items()}


def _volume_sentence(results: "Results", s: str, year: int) -> str:
    c = results.corridor_summary.set_index(["scenario", "year"])
    r, first = c.loc[(s, year)], int(c.loc[s].index.min())
    since = f" (from {c.loc[(s, first), 'delivered_mt']:.2f} Mt in {first})" if first != year else ""
    return (f"In {year}, {s} delivers {_mt(r.delivered_mt, r.delivered_ci95_lo_mt, r.delivered_ci95_hi_mt)} of "
            f"corridor cargo{since} against {r.demand_mt:.2f} Mt offered; {r.lost_mt:.2f} Mt is lost to other routes.")


def _jam_sentence(results: "Results", s: str, year: int, names: dict[str, str]) -> str:
    cs = results.commodity_summary
    g = cs[(cs["scenario"] == s) & (cs["year"] == year) & (cs["binding"] != "")]
    if g.empty:
        return f"Nothing binds in {year}: the corridor carries what is offered."
    jams = "; ".join(f"{r.commodity} at {display(r.binding, names)}" for r in g.itertuples())
    text = f"It jams where each flow binds: {jams}."
    cv = results.capacity_values
    cv = cv[(cv["scenario"] == s) & (cv["year"] == year)].sort_values("bound_gain_t", ascending=False)
    if not cv.empty and cv["bound_gain_t"].iloc[0] > 0:
        top = cv.iloc[0]
        text += (f" 10% more capacity at {names.get(top.node, top.node)} would raise the corridor's capacity bound "
                 f"most (+{top.bound_gain_t / 1e6:.2f} Mt).")
    return text


def _difference_sentence(results: "Results", s: str, ref: str, year: int, names: dict[str, str]) -> str:
    d = results.differences
    d = d[(d["scenario"] == s) & (d["measure"] == "delivered_mt")].set_index("year")
    if year not in d.index:
        return ""
    r = d.loc[year]
    text = f"{s} against {ref}: {_mt(r.mean_difference, r.ci95_lo, r.ci95_hi, '+')} delivered in {year}, paired by replication"
    if np.isfinite(r.ci95_lo) and (r.ci95_lo > 0 or r.ci95_hi < 0):
        text += "."
    else:
        text += ", no measurable difference"
        cv = results.capacity_values
        cv = cv[(cv["scenario"] == ref) & (cv["year"] == year)].set_index("node")["bound_gain_t"]
        touched = touched_nodes(results.scenario(ref), results.scenario(s))
        binding = cv[cv > 0].index.tolist()
        if touched and binding and all(cv.get(n, 0.0) <= 0 for n in touched):
            text += (f": what it changes ({', '.join(names.get(n, n) for n in sorted(touched))}) is not where the "
                     f"corridor binds in {year} ({', '.join(names.get(n, n) for n in binding)})")
        text += "."
    real = d[((d["ci95_lo"] > 0) | (d["ci95_hi"] < 0)) & (d["mean_difference"].abs() >= MATERIAL_MT)]
    if not real.empty:
        peak = int(real["mean_difference"].abs().idxmax())
        if peak != year:
            p = d.loc[peak]
            text += f" Its largest effect is in {peak}: {_mt(p.mean_difference, p.ci95_lo, p.ci95_hi, '+')}."
    return text


MATERIAL_MT = 0.05
"""A difference in another year is worth a sentence from this size on (Mt a year); smaller
ones, even where the interval excludes zero (common random numbers make tiny ones
significant), stay in the differences table."""


def headline(results: "Results", year: int | None = None) -> list[str]:
    """Two to four plain sentences from the numbers: how much moves (with its interval),
    where it jams, and what each compared scenario changes against the first."""
    names = node_display_names(results)
    ref = results.names[0]
    year = int(results.corridor_summary["year"].max()) if year is None else year
    out = [_volume_sentence(results, ref, year), _jam_sentence(results, ref, year, names)]
    out += [t for s in results.names[1:] if (t := _difference_sentence(results, s, ref, year, names))]
    return out


def format_results(results: "Results") -> str:
    """The printed summary of a run or batch: the yearly table of every scenario,
    then (batches) the paired differences against the first."""
    text = format_summary(results.corridor_summary)
    text += "\n\nIn short: " + " ".join(headline(results))
    commodities = format_commodities(results.commodity_summary)
    if commodities:
        text += "\n\n" + commodities
    flows = format_flows(results.flow_summary)
    if flows:
        text += "\n\n" + flows
    values = format_capacity_values(results.capacity_values)
    if values:
        text += "\n\n" + values
    if len(results.scenarios) > 1 and not results.differences.empty:
        text += "\n\n" + format_differences(results.differences)
    return text


def _here(fn: Callable[..., Any], calls: list[tuple]) -> list[Any]:
    return [fn(*c) for c in calls]


def draw_figure(job: "FigureJob", embed: bool) -> str | None:
    """Draw one figure; with ``embed``, also return it as report.html embeds it (its PNG reduced to
    256 colours), so that this work is done where the figure was drawn."""
    from model.outputs.html import embedded_png

    path = job()
    return embedded_png(path) if embed else None


def write_outputs(folder: Path, results: "Results", year: int | None = None, figures: bool = True,
                  pool: Pool | None = None) -> list[Path]:
    """Plots (unless ``figures`` is False) and report.html into ``folder``; returns the plot files.
    ``pool``: where the figures are drawn (each is independent of the others; the dearest first),
    by default one after the other in this process."""
    from model.outputs.html import needs_png, write_html_report
    from model.outputs.plots import figure_jobs

    jobs = figure_jobs(results.tables(), Path(folder) / "plots", year) if figures else []
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i].cost)
    drawn = (pool or _here)(draw_figure, [(jobs[i], needs_png(jobs[i].path.name)) for i in order])
    images = {jobs[i].path.name: img for i, img in zip(order, drawn) if img is not None}
    plots = [job.path for job in jobs]
    write_html_report(Path(folder) / "report.html", results, plots, title=" vs ".join(results.names), images=images)
    return plots


def format_appraisal(table: "pd.DataFrame", sequence: "pd.DataFrame | None", answer: str,
                     rates: "pd.DataFrame | None" = None) -> str:
    """The printed appraisal: the ranked table (with intervals), what is surprising about
    each figure, the NPV at the other discount rates, the programme, and the answer."""
    economic = bool(table["pv_benefits_musd"].notna().any())
    single = bool(table["gain_mt_lo"].isna().all())
    announced = bool((table["rank_announced"] > 0).any())
    if not economic:
        lines = [f"  {'rank':>4}  {'investment':<28} {'cost M USD':>10}  {'cargo gained Mt':>22}  {'delay Mt/month':>20}"]
        for _, r in table.iterrows():
            lines.append(f"  {_rank(r['rank']):>4}  {r['item']:<28} {_num(r['cost_musd']):>10}  "
                         f"{interval_text(r, 'gain_mt', '{:+.2f}'):>22}  "
                         f"{interval_text(r, 'delay_cost_mt_per_month', '{:+.3f}'):>20}")
    else:
        lines = [f"  {'rank':>4}  {'investment':<28} {'cost':>6} {'opens':>10}  {'NPV M USD':>22} {'BCR':>5} "
                 f"{'P(1st)':>6}  {'break-even':>10}  {'PV users':>8} {'PV margin':>9}  {'delay M USD/month':>19}"
                 + (f"  {'as announced: NPV':>24} {'rank':>4}" if announced else "")]
        for _, r in table.iterrows():
            line = (f"  {_rank(r['rank']):>4}  {r['item']:<28} {_num(r['cost_musd']):>6} {str(r['first_date']):>10}  "
                    f"{interval_text(r, 'npv_musd', '{:+,.0f}'):>22} {_num(r['bcr'], '{:.2f}'):>5} "
                    f"{_num(r['p_first'], '{:.2f}'):>6}  {_num(r['break_even_cost_musd']):>10}  "
                    f"{_num(r['pv_user_benefits_musd']):>8} {_num(r['pv_producer_musd']):>9}  "
                    f"{interval_text(r, 'delay_cost_musd_per_month', '{:+,.1f}'):>19}")
            if announced:
                line += (f"  {interval_text(r, 'npv_announced_musd', '{:+,.0f}'):>24} "
                         f"{_rank(r['rank_announced']):>4}")
            lines.append(line)
        lines.append("  (M USD, present values; cost as given; break-even: the capital cost at which NPV = 0; "
                     "rank 0 = no cost given, not ranked)")
    if single:
        lines.append("  (1 replication: no interval)")
    if table["stopped"].astype(bool).any():  # appraise --precision: how many replications each item took
        lines.append("\nReplications per item, and why they stopped (precise: as narrow as asked; rank settled: "
                     "ordered against its neighbours; cap: the most allowed):")
        lines.append(f"  {'investment':<28} {'replications':>12}  {'stopped':<13} {'cargo gained Mt':>22}  "
                     "control variates (variance of the mean removed)")
        for _, r in table.iterrows():
            cv = f"{r['controls']} ({r['variance_reduction']:.0%})" if r["controls"] else "none"
            lines.append(f"  {r['item']:<28} {int(r['replications']):>12}  {r['stopped']:<13} "
                         f"{interval_text(r, 'gain_mt', '{:+.3f}'):>22}  {cv}")
    notes = [(r["item"], r["note"]) for _, r in table.iterrows() if r["note"]]
    if notes:
        lines.append("\nWhat the figures say:")
        lines += [f"  {item}: {note}." for item, note in notes]
    if rates is not None and not rates.empty:
        rs = sorted(rates["discount_rate"].unique())
        lines.append("\nNPV (M USD) at other real discount rates, from the same simulated benefits:")
        lines.append(f"  {'investment':<28}" + "".join(f"{f'{r:.0%}':>24}" for r in rs))
        by = rates.set_index(["item", "discount_rate"])
        for item in table.loc[table["rank"] > 0, "item"]:
            lines.append(f"  {item:<28}" + "".join(f"{interval_text(by.loc[(item, r)], 'npv_musd', '{:+,.0f}'):>24}"
                                                  for r in rs))
    if sequence is not None and not sequence.empty:
        lines.append("\nA programme, funded greedily (what each step adds given those before it):")
        for _, r in sequence.iterrows():
            adds = interval_text(r, "adds_npv_musd", "{:+,.0f}") + " M USD" if economic else interval_text(r, "adds_gain_mt", "{:+.2f}") + " Mt"
            if r["funded"]:
                lines.append(f"  {r['step']:>2}. {r['item']:<22} {r['cost_musd']:>8,.0f} M USD "
                             f"(total {r['cumulative_cost_musd']:,.0f}): adds {adds}")
            else:
                lines.append(f"   -  {r['item']:<22} {r['cost_musd']:>8,.0f} M USD not funded: would add {adds}")
    return "\n".join(lines) + "\n\n" + answer


def _rank(x: object) -> str:
    return "–" if not x else str(x)


def _num(x: float, fmt: str = "{:,.0f}") -> str:
    return "–" if x != x else fmt.format(x)


def interval_text(r: "pd.Series", col: str, fmt: str) -> str:
    """``col`` of a row with its ``_lo``/``_hi`` ends: "mean [lo, hi]" ("–" when missing)."""
    if r[col] != r[col]:
        return "–"
    lo, hi = r[f"{col}_lo"], r[f"{col}_hi"]
    band = f" [{fmt.format(lo)}, {fmt.format(hi)}]" if lo == lo else ""
    return fmt.format(r[col]) + band


def write_appraisal_outputs(folder: Path, scenario_name: str, table: "pd.DataFrame", yearly: "pd.DataFrame",
                            sequence: "pd.DataFrame | None", answer: str, delay_months: float, note: str,
                            span: str, rates: "pd.DataFrame | None" = None, ranks: "pd.DataFrame | None" = None
                            ) -> list[Path]:
    """Tables, charts and report.html of an appraisal into ``folder`` (each file atomically)."""
    from model.outputs.folders import write_file_atomic
    from model.outputs.html import write_appraisal_html
    from model.outputs.plots import appraisal_ranking, cost_of_delay, rank_probabilities

    folder = Path(folder)
    write_file_atomic(folder / "appraisal.csv", table.to_csv(index=False))
    write_file_atomic(folder / "appraisal_years.csv", yearly.to_csv(index=False))
    if sequence is not None:
        write_file_atomic(folder / "appraisal_sequence.csv", sequence.to_csv(index=False))
    for name, extra in (("appraisal_rates", rates), ("appraisal_ranks", ranks)):
        if extra is not None:
            write_file_atomic(folder / f"{name}.csv", extra.to_csv(index=False))
    title = f"{scenario_name}, {span}"
    plots = [folder / "plots" / "appraisal_ranking.png", folder / "plots" / "cost_of_delay.png"]
    appraisal_ranking(table, f"Which investment first: {title}", plots[0])
    cost_of_delay(table, delay_months, f"What a month of delay costs: {title}", plots[1])
    if ranks is not None and not ranks.empty:
        plots.append(folder / "plots" / "rank_probabilities.png")
        rank_probabilities(ranks, table, f"How sure is each rank: {title}", plots[-1])
    write_appraisal_html(folder / "report.html.tmp", title, answer, table, sequence, plots, note, rates)
    (folder / "report.html.tmp").replace(folder / "report.html")
    return plots


def format_marginal(mv: "pd.DataFrame", year: int | None = None) -> str:
    """One step more capacity at each node, in one year (default: the last): cargo it
    delivers (paired interval), per tonne of capacity added, beside the bound's figure;
    largest first, nodes where neither moves left out."""
    if mv.empty:
        return ""
    year = int(mv["year"].max()) if year is None else year
    g = mv[mv["year"] == year].sort_values("gain_t", ascending=False)
    lines = [f"One step more capacity at each node, {year} (measured in paired runs | static bound):",
             f"  {'node':<24}{'step':<18}{'cargo gained Mt':>24}{'per t added':>13}{'bound Mt':>10}{'per t':>7}"]
    for r in g.itertuples():
        if abs(r.gain_t) < 0.005e6 and r.bound_gain_t < 0.005e6 and r.gain_t_lo <= 0 <= r.gain_t_hi:
            continue
        band = f"{r.gain_t / 1e6:+.2f} [{r.gain_t_lo / 1e6:+.2f}, {r.gain_t_hi / 1e6:+.2f}]"
        lines.append(f"  {r.node:<24}{r.step:<18}{band:>24}{r.shadow_price:>13.2f}{r.bound_gain_t / 1e6:>10.2f}"
                     f"{r.bound_shadow_price:>7.2f}")
    return "\n".join(lines)
