"""The registry of output tables and their columns: each column declared once.

A :class:`Table` names its columns in order, each a :class:`Column` with its
unit, a human-readable label and a description. Everything that reads or
writes a table uses it: the metrics build their DataFrames through
:meth:`Table.frame`, summaries take the measures to summarise from it, sweep
files may only name measures it declares, the report shows its labels as
headers, and ``docs/outputs.md`` is checked against it. Adding an output
measure is one :class:`Column` here plus the code that computes it.

>>> TABLES["annual_streams"].column("delivered_t").label
'Delivered (t)'
>>> "transit_p95_days" in TABLES["corridor"].measures()
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Dtype = Literal["str", "int", "float", "bool", "date"]


@dataclass(frozen=True)
class Column:
    name: str
    unit: str
    """``t``, ``h``, ``days``, ``share`` (0-1), ``count``, ``Mt``, ``t·km``, ``s``, ``deg``, ``date``, or '' for labels."""
    label: str
    description: str
    dtype: Dtype = "float"
    measure: bool = True
    """A number that varies by replication and is summarised (mean, 95% interval);
    False for keys and labels."""


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    entity: Literal["node", "stream"] | None = None
    """The column naming what a row describes, where a sweep measure may select one."""
    sweepable: bool = False
    """Per-replication table a sweep measure may read."""
    fmt: Literal["csv", "parquet"] = "csv"
    """The file format it is written in (``<name>.<fmt>``)."""

    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")

    def keys(self) -> list[str]:
        """The columns that identify a row (every column that is not a measure)."""
        return [c.name for c in self.columns if not c.measure]

    def measures(self) -> list[str]:
        """The columns summarised over replications."""
        return [c.name for c in self.columns if c.measure]

    def frame(self, rows: Iterable[Sequence | dict]) -> pd.DataFrame:
        """A DataFrame of this table from rows (tuples in column order, or dicts)."""
        rows = list(rows)
        if rows and isinstance(rows[0], dict):
            df = pd.DataFrame(rows)
        else:
            df = pd.DataFrame(rows, columns=self.names())
        return self.conform(df)

    def conform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Columns in declared order with declared dtypes; missing text is ''.
        A column missing from ``df`` or not declared is an error (a bug)."""
        missing = [c for c in self.names() if c not in df.columns]
        extra = [c for c in df.columns if c not in self.names()]
        if missing or extra:
            raise ValueError(f"table {self.name}: columns missing {missing}, not declared {extra}")
        out = df[self.names()].copy()
        for c in self.columns:
            col = out[c.name]
            if c.dtype == "str":
                out[c.name] = col.astype(object).where(col.notna(), "").astype(str)
            elif c.dtype == "int":
                out[c.name] = col.astype(np.int64)
            elif c.dtype == "bool":
                out[c.name] = col.astype(bool)
            elif c.dtype == "date":
                out[c.name] = pd.to_datetime(col).dt.date.astype(object)
            else:
                out[c.name] = pd.to_numeric(col, errors="coerce").astype(np.float64)
        return out.reset_index(drop=True)


def _c(name: str, unit: str, label: str, description: str, dtype: Dtype = "float", measure: bool = True) -> Column:
    return Column(name, unit, label, description, dtype, measure)


def _key(name: str, label: str, description: str, dtype: Dtype = "str") -> Column:
    return Column(name, "", label, description, dtype, measure=False)


def _interval3(name: str, label: str, description: str) -> tuple[Column, Column, Column]:
    """A mean over replications and the ends of its 95% interval."""
    return (_key(name, label, description + " (mean over replications)", "float"),
            _key(f"{name}_lo", f"{label} 95% low", "Paired Student-t 95% interval, low end", "float"),
            _key(f"{name}_hi", f"{label} 95% high", "Paired Student-t 95% interval, high end", "float"))


SCENARIO = _key("scenario", "Scenario", "Scenario name")
HIST = " (from the year's histograms: within 0.05 h + 0.25 % of the exact value)"
"""What a percentile column says of its accuracy (``model.core.histogram``)."""
PORT_TRANSIT = (
    _c("port_transit_mean_days", "days", "From port: mean (days)", "Mean transit from the first port the shipment "
       "reached (Aktau, Kuryk) to the end of its route; equal to the transit for a stream that enters at a port"),
    _c("port_transit_p50_days", "days", "From port: p50 (days)", "Median transit from the first port reached"
       + HIST),
    _c("port_transit_p95_days", "days", "From port: p95 (days)", "95th percentile transit from the first port "
       "reached" + HIST),
)
"""Transit from the first port reached, beside the transit from the route's start (issue 17: China-origin
cargo enters at the Chinese border, so the two differ by the Kazakh rail approach and the border)."""
GATEWAY_TRANSIT = (
    _c("gateway_transit_mean_days", "days", "To gateway: mean (days)", "Mean transit from where the stream enters "
       "the model to the first of its gateway nodes it reached (its spec's gateway: a Black Sea quay, an EU port, "
       "the Turkish border), over its shipments delivered in the year; NaN for a stream without a gateway"),
    _c("gateway_transit_p50_days", "days", "To gateway: p50 (days)", "Median transit to the gateway" + HIST),
    _c("gateway_transit_p95_days", "days", "To gateway: p95 (days)", "95th percentile transit to the gateway"
       + HIST),
)
"""Transit to a declared gateway, beside the transit to the route's end: published travel times end at a
gateway (China-Black Sea, China-Türkiye), while a route may go on (to Constanța, to Istanbul)."""
TRANSIT_MEANS = (_key("transit_p50_days", "Transit p50 (days)", "Median transit, mean over replications", "float"),
                 _key("transit_p95_days", "Transit p95 (days)", "95th percentile transit, mean over replications",
                      "float"))
"""Transit percentiles averaged over replications, in the summaries."""
PORT_TRANSIT_MEAN = _key("port_transit_p50_days", "From port p50 (days)", "Median transit from the first port "
                         "reached, mean over replications", "float")
REPLICATION = _key("replication", "Replication", "Replication number, from 0 (same k = same random numbers)", "int")
YEAR = _key("year", "Year", "Calendar year", "int")
NODE = _key("node", "Node", "Node id")
STREAM = _key("stream", "Stream", "Stream id")
COMMODITY = _key("commodity", "Commodity", "Commodity of the stream")

def _totals(whose: str, transit_of: str) -> tuple[Column, ...]:
    """The totals a corridor-wide or per-commodity table carries: demand, delivered, lost,
    and transit percentiles (end to end and from the first port)."""
    return (
        _c("demand_t", "t", "Demand (t)", f"{whose} generated"),
        _c("delivered_t", "t", "Delivered (t)", f"{whose} delivered"),
        _c("lost_t", "t", "Lost to other routes (t)", f"{whose} diverted at generation, reneged from a queue, or "
           "turned away by a full waiting room"),
        _c("transit_p50_days", "days", "Transit p50 (days)", f"Median transit of {transit_of}" + HIST),
        _c("transit_p95_days", "days", "Transit p95 (days)", "95th percentile transit" + HIST),
        *PORT_TRANSIT[1:],
    )


TABLES: dict[str, Table] = {t.name: t for t in [
    Table("annual_nodes", "Per scenario x replication x year x node: load, capacity and queues.", (
        SCENARIO, REPLICATION, YEAR, NODE,
        _key("kind", "Kind", "Node kind"),
        _c("throughput_t", "t", "Throughput (t)", "Tonnes that left the node in the year"),
        _c("capacity_t", "t", "Capacity (t)", "Available capacity in the year (NaN: unlimited); sea links: "
           "fleet x payload x round trips lengthened by storms; rail: paths x payload; ports, pipelines: rated flow"),
        _c("utilization", "share", "Utilisation", "Busy share of what was available (berth-, vessel-, "
           "pump-hours; train paths used)"),
        _c("waiting_mean_h", "h", "Mean wait (h)", "Mean wait before service of shipments whose service began"),
        _c("waiting_p95_h", "h", "Wait p95 (h)", "95th percentile of that wait" + HIST),
        _c("waiting_share", "share", "Share of all waiting", "The node's share of all waiting in the network"),
        _c("mean_queue", "count", "Mean queue (shipments)", "Time-averaged number of shipments waiting"),
        _c("turned_away_t", "t", "Turned away (t)", "Tonnes that found the node's waiting room (yard, tank, "
           "sidings) full and left for another route (when_full: divert; 0 elsewhere)"),
        _c("chartered_vessel_days", "count", "Chartered vessel-days", "Vessel-days on charter in the year "
           "(sea links with a charter pool; 0 elsewhere)"),
        _c("charter_cost_usd", "usd", "Charter cost (USD)", "Chartered vessel-days x the day rate"),
        _c("hours_closed", "h", "Hours closed", "Hours closed in the year by storms (sea links; terminals of a "
           "sea area) and by disruptions (every kind)"),
    ), entity="node", sweepable=True),
    Table("annual_streams", "Per scenario x replication x year x stream: demand, delivery, transit.", (
        SCENARIO, REPLICATION, YEAR, STREAM,
        COMMODITY,
        _key("background", "Background", "Other traffic sharing the nodes, left out of corridor totals", "bool"),
        _key("gateway", "Gateway", "The stream's gateway nodes ('/'-joined; '' if it declares none)"),
        _c("demand_t", "t", "Demand (t)", "Tonnes generated in the year"),
        _c("delivered_t", "t", "Delivered (t)", "Tonnes that reached the end of the route in the year"),
        _c("diverted_t", "t", "Diverted (t)", "Tonnes whose shippers chose an outside route at generation"),
        _c("reneged_t", "t", "Reneged (t)", "Tonnes that left a queue for another route when their patience ran out"),
        _c("turned_away_t", "t", "Turned away (t)", "Tonnes that found a waiting room (yard, tank, sidings) full "
           "and left for another route (when_full: divert)"),
        _c("backlog_t", "t", "Backlog (t)", "Tonnes generated, not delivered and not lost at the year's end: "
           "still queued or moving in the corridor"),
        _c("delivered_tkm", "t·km", "Delivered (t·km)", "Tonne-kilometres delivered in the year: each delivered "
           "shipment's tonnes x the distance_km of the nodes it went through (a node without one counts 0)"),
        _c("transit_mean_days", "days", "Transit mean (days)", "Mean transit time of shipments delivered in the "
           "year, from where the stream enters the model (the Chinese border for cargo entering there, else its "
           "first port) to the end of its route"),
        _c("transit_p50_days", "days", "Transit p50 (days)", "Median transit time" + HIST),
        _c("transit_p95_days", "days", "Transit p95 (days)", "95th percentile transit time" + HIST),
        *PORT_TRANSIT,
        *GATEWAY_TRANSIT,
    ), entity="stream", sweepable=True),
    Table("monthly_nodes", "Per scenario x replication x calendar month x node: throughput, the mean queue and "
          "hours closed, so that one sees when in the year the corridor jams (seasonal demand meeting winter "
          "storms).", (
        SCENARIO, REPLICATION, YEAR,
        _key("month", "Month", "Calendar month, 1-12", "int"),
        NODE,
        _key("kind", "Kind", "Node kind"),
        _c("throughput_t", "t", "Throughput (t)", "Tonnes that left the node in the month"),
        _c("queue_mean_t", "t", "Mean queue (t)", "Tonnes waiting for service (a berth, a vessel, a train, the "
           "pump), the mean of a sample at noon each day of the month"),
        _c("hours_closed", "h", "Hours closed", "Hours the node was closed in the month by storms (sea links; "
           "terminals of a sea area or with storms of their own) or by disruptions, each hour once"),
    ), entity="node"),
    Table("monthly_streams", "Per scenario x replication x calendar month x stream: demand, delivered, lost.", (
        SCENARIO, REPLICATION, YEAR,
        _key("month", "Month", "Calendar month, 1-12", "int"),
        STREAM,
        COMMODITY,
        _key("background", "Background", "Other traffic sharing the nodes, left out of corridor totals", "bool"),
        _c("demand_t", "t", "Demand (t)", "Tonnes generated in the month"),
        _c("delivered_t", "t", "Delivered (t)", "Tonnes that reached the end of the route in the month"),
        _c("lost_t", "t", "Lost to other routes (t)", "Tonnes diverted, reneged or turned away in the month"),
    ), entity="stream"),
    Table("active_periods", "Per scenario x replication x year x node: the active-period bottleneck shares.", (
        SCENARIO, REPLICATION, YEAR, NODE,
        _c("active_share", "share", "Active", "Share of the year all servers were busy or the node was closed"),
        _c("sole_share", "share", "Sole bottleneck", "Share of the year the node was the sole bottleneck"),
        _c("shifting_share", "share", "Shifting bottleneck", "Share of the year the node was a shifting bottleneck"),
    ), entity="node", sweepable=True),
    Table("flow_bottlenecks", "Per scenario x replication x year x corridor stream x node of its route: the "
          "active-period shares computed along that stream's own route, so parallel flows are not ranked against "
          "each other (a node shared by several streams appears for each). At a choice, the option that carried "
          "most of the stream's tonnes that year stands for the choice (its options are alternatives, not a "
          "series); a node counts from the first time a shipment reached it (one not yet built is no "
          "bottleneck).", (
        SCENARIO, REPLICATION, YEAR, STREAM,
        COMMODITY, NODE,
        _c("active_share", "share", "Active", "Share of the year all servers were busy or the node was closed"),
        _c("sole_share", "share", "Sole bottleneck", "Share of the year the node was the route's sole bottleneck"),
        _c("shifting_share", "share", "Shifting bottleneck", "Share of the year it was a shifting bottleneck of "
           "the route"),
    )),
    Table("bottlenecks", "Per scenario x replication x year: the node with the highest utilisation and the one "
          "with the largest share of all waiting.", (
        SCENARIO, REPLICATION, YEAR,
        _key("by_utilization", "Busiest node", "Node with the highest utilisation"),
        _c("utilization", "share", "Its utilisation", "That node's utilisation"),
        _key("by_waiting", "Most waiting at", "Node with the largest share of all waiting ('' if none waited)"),
        _c("waiting_share", "share", "Its share of waiting", "That node's share of all waiting"),
    )),
    Table("corridor", "Per scenario x replication x year: corridor totals (background traffic excluded).", (
        SCENARIO, REPLICATION, YEAR,
        *_totals("Corridor tonnes", "corridor shipments delivered, each from where its stream enters the model "
                 "(the Chinese border or a Kazakh port)"),
    ), sweepable=True),
    Table("commodities", "Per scenario x replication x year x commodity: the corridor totals of its streams.", (
        SCENARIO, REPLICATION, YEAR, COMMODITY,
        *_totals("Tonnes of the commodity", "its shipments delivered, each from where its stream enters the model"),
    )),
    Table("transit_hist", "Per scenario x replication x commodity: histogram of corridor transit times over the "
          "horizon.", (
        SCENARIO, REPLICATION, COMMODITY,
        _key("bin_lo_days", "From (days)", "Lower edge of the bin", "float"),
        _key("bin_hi_days", "To (days)", "Upper edge of the bin", "float"),
        _c("count", "count", "Shipments", "Corridor shipments delivered with a transit in the bin (exact "
           "counts)", "int"),
    )),
    Table("routes", "Per scenario x replication x year x stream x route option: tonnes sent down each option "
          "of the corridor's choice points, and tonnes that took an outside route instead.", (
        SCENARIO, REPLICATION, YEAR, STREAM,
        _key("kind", "Where", "corridor (a choice point's option) or outside (a route outside the model)"),
        _key("option", "Option", "Option name"),
        _c("tonnes_t", "t", "Tonnes (t)", "Tonnes that took the option in the year"),
    ), entity="stream"),
    Table("network_nodes", "Per scenario: node attributes, for the corridor map.", (
        SCENARIO, NODE,
        _key("kind", "Kind", "Node kind"),
        _key("name", "Name", "Display name"),
        _key("lon", "Longitude", "Longitude (degrees east)", "float"),
        _key("lat", "Latitude", "Latitude (degrees north)", "float"),
    )),
    Table("network_edges", "Per scenario: consecutive nodes along any route.", (
        SCENARIO,
        _key("from_node", "From", "Upstream node"),
        _key("to_node", "To", "Downstream node"),
    )),
    Table("perf", "Per scenario x replication: computing cost.", (
        SCENARIO, REPLICATION,
        _c("wall_s", "s", "Wall time (s)", "Seconds the replication's simulation took"),
        _c("hops", "count", "Shipment-hops", "Shipment visits to nodes", "int"),
    )),
    Table("bound", "Per scenario x year: the static max-flow capacity bound and what binds.", (
        SCENARIO, YEAR,
        _c("bound_t", "t", "Capacity bound (t)", "Most corridor cargo the network could carry in the year"),
        _key("cut", "Binding nodes", "Nodes of a minimum cut, ' + '-joined"),
    )),
    Table("summary", "Per scenario x year x node/stream/corridor x measure: mean and 95% interval over "
          "replications.", (
        SCENARIO, YEAR,
        _key("entity_type", "Of", "node, stream or corridor"),
        _key("entity", "Which", "Node or stream id, or 'corridor'"),
        _key("measure", "Measure", "Column of the per-replication table"),
        _key("n", "Replications", "Replications with a value", "int"),
        _key("mean", "Mean", "Mean over replications", "float"),
        _key("sd", "SD", "Standard deviation over replications", "float"),
        _key("ci95_lo", "95% CI low", "Student-t 95% interval, low end", "float"),
        _key("ci95_hi", "95% CI high", "Student-t 95% interval, high end", "float"),
    )),
    Table("corridor_summary", "Per scenario x year: the printed table.", (
        SCENARIO, YEAR,
        _key("demand_mt", "Demand (Mt)", "Corridor demand, mean", "float"),
        _key("delivered_mt", "Delivered (Mt)", "Corridor delivered, mean", "float"),
        _key("delivered_ci95_lo_mt", "Delivered 95% CI low (Mt)", "Student-t 95% interval, low end", "float"),
        _key("delivered_ci95_hi_mt", "Delivered 95% CI high (Mt)", "Student-t 95% interval, high end", "float"),
        _key("lost_mt", "Lost to other routes (Mt)", "Corridor cargo diverted, reneged or turned away, mean", "float"),
        _key("lost_ci95_lo_mt", "Lost 95% CI low (Mt)", "Student-t 95% interval, low end", "float"),
        _key("lost_ci95_hi_mt", "Lost 95% CI high (Mt)", "Student-t 95% interval, high end", "float"),
        _key("bound_mt", "Capacity bound (Mt)", "The static max-flow bound", "float"),
        *TRANSIT_MEANS,
        _key("binding_by_flow", "What binds each flow", "Per commodity, the node(s) binding along its "
             "streams' routes ('commodity: node; ...', from flow_summary)"),
    )),
    Table("capacity_values", "Per scenario x year x node with a capacity: what 10% more capacity at that node "
          "alone adds to the static max-flow bound (exact for the bound; a ceiling for what the simulation "
          "would deliver).", (
        SCENARIO, YEAR, NODE,
        _key("capacity_t", "Capacity (t)", "The node's capacity in the year, mean over replications", "float"),
        _key("bound_gain_t", "Bound gain (t)", "Bound with the node's capacity x 1.1, less the bound", "float"),
        _key("shadow_price", "Shadow price", "Bound gain per tonne of capacity added: 1 where the node alone is "
             "the minimum cut, 0 where another binds", "float"),
    )),
    Table("flow_summary", "Per scenario x year x corridor stream: what the flow delivers and loses, its transit, "
          "and the node that binds along its route (means over replications).", (
        SCENARIO, YEAR, STREAM,
        COMMODITY,
        _key("delivered_mt", "Delivered (Mt)", "Delivered, mean", "float"),
        _key("lost_mt", "Lost to other routes (Mt)", "Diverted, reneged or turned away, mean", "float"),
        *TRANSIT_MEANS,
        PORT_TRANSIT_MEAN,
        _key("gateway", "Gateway", "The stream's gateway nodes ('/'-joined; '' if it declares none)"),
        _key("gateway_transit_p50_days", "To gateway p50 (days)", "Median transit to the gateway, mean over "
             "replications (NaN without a gateway)", "float"),
        _key("binding", "Binds", "The route's node with the largest bottleneck share (sole + shifting); "
             "'A + B (both binding)' when two or more are active nearly all year (98%+), where the split "
             "between them says nothing"),
        _key("binding_share", "Its share", "That node's bottleneck share (or, for both binding, the lowest "
             "active share among them)", "float"),
    )),
    Table("commodity_summary", "Per scenario x year x commodity: what it delivers and loses, its transit, and "
          "what binds its flows (means over replications).", (
        SCENARIO, YEAR, COMMODITY,
        _key("demand_mt", "Demand (Mt)", "Demand, mean", "float"),
        _key("delivered_mt", "Delivered (Mt)", "Delivered, mean", "float"),
        _key("lost_mt", "Lost to other routes (Mt)", "Diverted, reneged or turned away, mean", "float"),
        _key("delivered_ci95_lo_mt", "Delivered 95% CI low (Mt)", "Student-t 95% interval, low end", "float"),
        _key("delivered_ci95_hi_mt", "Delivered 95% CI high (Mt)", "Student-t 95% interval, high end", "float"),
        *TRANSIT_MEANS,
        PORT_TRANSIT_MEAN,
        _key("binding", "Binds", "The binding node of each of its flows (flow_summary), '/'-joined"),
    )),
    Table("differences", "(Batches) each scenario minus the reference, paired by replication.", (
        SCENARIO,
        _key("reference", "Reference", "The reference scenario (the first)"),
        YEAR,
        _key("measure", "Measure", "delivered_mt or transit_p50_days"),
        _key("n", "Pairs", "Replications paired", "int"),
        _key("mean_difference", "Mean difference", "Mean of the paired differences", "float"),
        _key("sd", "SD", "Standard deviation of the paired differences", "float"),
        _key("ci95_lo", "95% CI low", "Student-t 95% interval, low end", "float"),
        _key("ci95_hi", "95% CI high", "Student-t 95% interval, high end", "float"),
    )),
]}

APPRAISAL_TABLES: dict[str, Table] = {t.name: t for t in [
    Table("appraisal", "(appraise) Per investment or tag group, ranked by NPV: what it adds against the scenario "
          "without it, what it is worth over its life, and what a delay costs; paired 95% intervals over replications, "
          "which cover the scenario's uncertain inputs where it declares them (docs/appraisal.md).", (
        _key("rank", "Rank", "1 = highest NPV (without an appraisal section: most cargo gained); 0 = no cost given, "
             "so no NPV: listed after the ranked items with its break-even cost", "int"),
        _key("item", "Investment", "Investment id, or tag of a group"),
        _key("by", "By", "id or tag"),
        _key("investments", "Investments", "Investment ids in the item"),
        _key("cost_musd", "Cost (M USD)", "Sum of cost_musd as given (empty when none is given)", "float"),
        _key("first_date", "Date", "Earliest effective date of its investments"),
        _key("replications", "Replications", "Replications of its variants (and of the scenario as given) behind "
             "its figures: the same for every item, or with appraise --precision as many as it needed", "int"),
        *_interval3("gain_mt", "Cargo gained (Mt)", "Corridor cargo delivered over the horizon with it, less "
                    "without it"),
        *_interval3("lost_avoided_mt", "Lost cargo avoided (Mt)", "Cargo lost to other routes without it, "
                    "less with it, over the horizon"),
        *_interval3("transit_saved_days", "Transit saved (days)", "Tonne-weighted mean transit without it, "
                    "less with it"),
        *_interval3("delay_cost_mt_per_month", "Delay cost (Mt/month)", "Cargo delivered as given, less with "
                    "it delayed, per month of delay"),
        _key("mt_per_musd", "Mt per M USD", "Cargo gained per million USD of cost", "float"),
        *_interval3("pv_benefits_musd", "PV of benefits (M USD)", "Present value of users' benefits and "
                    "producers' margins (empty without an appraisal section)"),
        *_interval3("pv_user_benefits_musd", "PV users' benefits (M USD)", "Shippers' benefit: rule of a half on "
                    "the generalised cost of the cargo that chose the corridor, stream by stream and year by year"),
        *_interval3("pv_producer_musd", "PV producers' margin (M USD)", "Operators' and ports' margin on the "
                    "tonnes delivered with it less without"),
        *_interval3("pv_capital_musd", "PV of capital (M USD)", "Present value of its capital spent over the "
                    "construction years inside the horizon (or annualised)"),
        *_interval3("pv_residual_musd", "PV of residual value (M USD)", "Present value of what is left of its "
                    "life at the horizon (straight line), or what was spent on it if still being built"),
        *_interval3("npv_musd", "NPV (M USD)", "PV of benefits less PV of capital, plus residual value, less "
                    "running costs (empty without a cost)"),
        *_interval3("bcr", "Benefit-cost ratio", "PV of benefits over PV of capital net of residual value and "
                    "running costs"),
        *_interval3("break_even_cost_musd", "Break-even cost (M USD)", "The capital cost at which its NPV is 0 "
                    "(same construction profile and residual value): what a quote must stay under"),
        _key("p_first", "P(first)", "Share of replications in which it has the highest NPV (empty: not ranked)",
             "float"),
        *_interval3("delay_cost_musd_per_month", "Delay cost (M USD/month)", "NPV lost per month of delay: "
                    "benefits later and capital spent later, both against the scenario without it"),
        _key("npv_per_musd", "NPV per M USD", "NPV per million USD of cost", "float"),
        *_interval3("npv_announced_musd", "NPV as announced (M USD)", "With project delays drawn: its NPV "
                    "with every project on its announced date (empty otherwise)"),
        _key("rank_announced", "Rank as announced", "With project delays drawn: its rank with every project on "
             "its announced date (0 otherwise)", "int"),
        _key("stopped", "Stopped", "With appraise --precision: why its replications stopped: 'precise' (its "
             "interval as narrow as asked), 'rank settled' (ordered against its neighbours, Kim & Nelson's KN "
             "screening) or 'cap' (at the most replications allowed); empty otherwise"),
        _key("controls", "Control variates", "With appraise --precision: the control variates in the interval of "
             "the measure the precision is set on (storm hours, drawn inputs), or empty"),
        _key("variance_reduction", "Variance reduction", "Share of the variance of that measure's mean the control "
             "variates removed (0: none used)", "float"),
        _key("note", "Note", "What is surprising about its figure, in words"),
    )),
    Table("marginal_values", "(appraise --marginal) Per node x year: the corridor cargo one step more capacity "
          "at that node delivers in paired runs, against what the static bound says for the same step.", (
        SCENARIO, YEAR, NODE,
        _key("step", "Step", "What was added: 'capacity x 1.1' (a capacity factor all along) or 'fleet +1'"),
        _key("capacity_added_t", "Capacity added (t)", "The node's capacity with the step, less without", "float"),
        *_interval3("gain_t", "Cargo gained (t)", "Corridor cargo delivered with the step, less without"),
        _key("shadow_price", "Shadow price (measured)", "Cargo gained per tonne of capacity added", "float"),
        _key("bound_gain_t", "Bound gain (t)", "What the same step adds to the static max-flow bound", "float"),
        _key("bound_shadow_price", "Shadow price (bound)", "Bound gain per tonne of capacity added", "float"),
    )),
    Table("appraisal_years", "(appraise) Per item x year: cargo gained and cargo a delay loses.", (
        _key("item", "Investment", "Investment id, or tag of a group"), YEAR,
        *_interval3("gain_mt", "Cargo gained (Mt)", "Delivered with it less without it in the year"),
        *_interval3("delay_loss_mt", "Delay loss (Mt)", "Delivered as given less with it delayed in the year"),
        *_interval3("benefits_musd", "Benefits (M USD)", "Users' benefits and producers' margins in the year, "
                    "undiscounted (empty without an appraisal section)"),
    )),
    Table("appraisal_rates", "(appraise) Per item x real discount rate (the scenario's and its "
          "sensitivity_rates): NPV, benefit-cost ratio and break-even cost from the same simulated benefits.", (
        _key("item", "Investment", "Investment id, or tag of a group"),
        _key("discount_rate", "Discount rate", "Real rate a year", "float"),
        *_interval3("npv_musd", "NPV (M USD)", "NPV at this rate"),
        *_interval3("bcr", "Benefit-cost ratio", "Benefit-cost ratio at this rate"),
        *_interval3("break_even_cost_musd", "Break-even cost (M USD)", "Capital cost at which NPV = 0 at this rate"),
    )),
    Table("appraisal_ranks", "(appraise) Per ranked item x rank: the share of replications in which it takes "
          "that rank by NPV (each item's shares sum to 1; with few replications they are coarse).", (
        _key("item", "Investment", "Investment id, or tag of a group"),
        _key("rank", "Rank", "1 = highest NPV", "int"),
        _key("probability", "Probability", "Share of replications", "float"),
    )),
    Table("appraisal_sequence", "(appraise --sequence) The greedy programme: at each step the item with the "
          "highest NPV (or cargo) per M USD given those funded before it.", (
        _key("step", "Step", "Order of funding (0: not funded)", "int"),
        _key("item", "Investment", "Investment id, or tag of a group"),
        _key("funded", "Funded", "False for the candidates left when none adds value given the programme", "bool"),
        _key("cost_musd", "Cost (M USD)", "Its cost", "float"),
        _key("cumulative_cost_musd", "Cumulative cost (M USD)", "Cost of the programme so far", "float"),
        *_interval3("adds_gain_mt", "Adds cargo (Mt)", "Cargo it adds given the items funded before it"),
        *_interval3("adds_npv_musd", "Adds NPV (M USD)", "NPV it adds given the items funded before it"),
        _key("value_per_musd", "Per M USD", "What chose it: NPV per M USD (or Mt per M USD)", "float"),
    )),
]}
"""The tables ``appraise`` writes (not part of a run's ``Results``)."""

LOG_TABLES: dict[str, Table] = {t.name: t for t in [
    Table("shipments", "(run and batch with --log-shipments) One row per delivered shipment, per scenario x "
          "replication, in order of delivery within each stream. Off by default: it grows with the shipments "
          "(about 50,000 rows a baseline replication), while every other table is per year.", (
        SCENARIO, REPLICATION, STREAM,
        _c("tonnes", "t", "Tonnes", "The shipment's tonnes"),
        _c("created_h", "h", "Created (h)", "Hour it was offered to the corridor where its stream enters the model, "
           "from the scenario's start"),
        _c("port_h", "h", "At first port (h)", "Hour it reached the first port of its route (equal to created_h "
           "for a stream that enters at a port)"),
        _c("delivered_h", "h", "Delivered (h)", "Hour it reached the end of its route"),
        _c("transit_days", "days", "Transit (days)", "delivered_h - created_h, in days: the transit of "
           "annual_streams, for this shipment"),
        _c("port_transit_days", "days", "From port (days)", "delivered_h - port_h, in days"),
        _c("delivered_date", "date", "Delivered on", "Calendar date of delivery", "date"),
    ), fmt="parquet"),
]}
"""Logs a run writes only when asked (``Results.shipments``), one row per event."""

LOST_COLUMNS = ("diverted_t", "reneged_t", "turned_away_t")
"""The ``annual_streams`` columns whose sum is cargo lost to other routes (``lost_t``)."""

PER_REPLICATION = ("annual_nodes", "annual_streams", "monthly_nodes", "monthly_streams", "active_periods",
                   "flow_bottlenecks", "bottlenecks", "corridor", "commodities", "transit_hist",
                   "routes", "network_nodes", "network_edges", "perf")
"""Tables built in the worker from one replication's records (the rest are built once from these)."""


def label(name: str, table: str | None = None) -> str:
    """The human-readable header of a column (from ``table``, or the first table
    declaring it); the name itself if none does."""
    every = {**TABLES, **APPRAISAL_TABLES, **LOG_TABLES}
    tables = [every[table]] if table else list(every.values())
    for t in tables:
        for c in t.columns:
            if c.name == name:
                return c.label
    return name


def markdown() -> str:
    """The registry as Markdown (``docs/outputs.md`` is this text)."""
    lines = ["# Output tables", "", "Generated from `model/analysis/measures.py` (`python -c \"import model.analysis.measures as m; "
             "print(m.markdown())\"`); a test checks that this page matches it.", ""]
    for t in [*TABLES.values(), *LOG_TABLES.values(), *APPRAISAL_TABLES.values()]:
        lines += [f"## `{t.name}.{t.fmt}`", "", t.description, "", "| column | unit | label | description |",
                  "|---|---|---|---|"]
        lines += [f"| `{c.name}` | {c.unit or '–'} | {c.label} | {c.description} |" for c in t.columns]
        lines.append("")
    return "\n".join(lines)
