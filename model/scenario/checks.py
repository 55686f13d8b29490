"""Cross-field checks of a scenario that the schema cannot do: node ids exist,
investments change fields their node has, dates do not lie before the horizon, shipments
fit, routes are connected and loop-free. Each problem is (field path, message)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date

from pydantic import ValidationError

from model.core.limits import MAX_DELAY_MONTHS, MAX_SHIPMENTS
from model.nodes import KINDS
from model.scenario.route import Route
from model.scenario.messages import _explain_all, clip, did_you_mean
from model.scenario.schema import Scenario
from model.core.specs import field_values, get_path
from model.core.timeline import resolve_node_specs
from model.core.units import T_PER_MT


def _is_count(field: str) -> bool:
    return any(k.allows(k.counts, field) for k in KINDS.values())


_SECTIONS = (("investments",), ("disruptions",), ("delays", "projects"), ("delays", "operational"))


@dataclass
class _SetAside:
    """What partial validation set aside after a schema error, so that the
    reference checks on the rest neither repeat that error nor invent new ones
    (a route naming a node whose own spec is broken is not an unknown id)."""

    nodes: set = dc_field(default_factory=set)
    all_nodes: bool = False
    matches: set = dc_field(default_factory=set)  # ids and tags of set-aside investments
    all_investments: bool = False
    streams: bool = False
    horizon: bool = False  # start_date or end_date is broken: no date is checked against the horizon
    index: dict = dc_field(default_factory=dict)  # section -> original indices of the items kept

    def original(self, loc: tuple) -> tuple:
        for sec in _SECTIONS:
            n = len(sec)
            if tuple(loc[:n]) == sec and len(loc) > n and isinstance(loc[n], int) and sec in self.index:
                idx = self.index[sec]
                if 0 <= loc[n] < len(idx):
                    return (*sec, idx[loc[n]], *loc[n + 1:])
        return tuple(loc)


def check_references(s: Scenario, *, _aside: _SetAside | None = None) -> list[tuple[tuple, str]]:
    """Cross-field checks the schema cannot do; each problem is (field path, message).

    - every node id named in a route, a choice, an investment, a delay or a
      disruption exists;
    - an investment changes a field its node's kind has (``NodeKind.investable``) and
      uses; investment ids are unique; each ``delays.projects`` match names an
      investment id or tag; an operational delay names a node, kind or tag that exists
      and a duration of every node it stretches;
    - dates do not lie before the horizon: investments, operational delays,
      disruption starts and opening dates on or after start_date (one dated on or
      after end_date is legal and takes no effect within the horizon, so a child
      may cut a parent's horizon short: :func:`after_horizon` lists them);
    - a shipment fits every vessel, train, tank and port yard on its route;
    - a route visits no node twice (the options of one choice are alternatives,
      so a node may appear in several of them).

    The order of node kinds along a route is checked by :func:`check_routes`.
    """
    out: list[tuple[tuple, str]] = []
    aside = _aside or _SetAside()
    ids = set(s.nodes) | aside.nodes
    known = ", ".join(sorted(ids))

    def exists(node: str) -> bool:
        return aside.all_nodes or node in ids

    def unknown(node: str) -> str:
        if not ids:
            return f"unknown node id '{clip(node)}'; no nodes are defined"
        return f"unknown node id '{clip(node)}'{did_you_mean(node, sorted(ids))}; expected one of: {known}"

    def inside(d: date) -> bool:
        return aside.horizon or s.start_date <= d

    horizon = f"expected a date on or after start_date {s.start_date}"

    for sid, st in s.streams.items():
        route = Route.of(st)
        for sub, n, _ in route.positions():
            if not exists(n):
                out.append((("streams", sid, "route", *sub), unknown(n)))
        for i, step in enumerate(st.route):
            if not isinstance(step, str) and step.shares is not None and step.policy == "fixed_shares":
                missing = [o for o in step.choice if o not in step.shares]
                if missing:
                    out.append((("streams", sid, "route", i, "shares"),
                                f"expected a share for every option, missing: {', '.join(missing)}"))
        for sub, n, first in route.loops():
            out.append((("streams", sid, "route", *sub),
                        f"node '{n}' is visited twice (also at route.{'.'.join(map(str, first))}); "
                        "expected a route without loops"))
        for n in route.nodes():
            spec = s.nodes.get(n)
            if spec is None:
                continue
            for attr, what in KINDS[spec.kind].fits:
                cap = getattr(spec, attr)
                if cap is None:  # a port without a yard limit
                    continue
                if st.shipment_t > cap:
                    out.append((("streams", sid, "shipment_t"),
                                f"a shipment of {st.shipment_t:g} t does not fit {what} of node '{n}' "
                                f"({attr} {cap:g} t); expected shipment_t <= {cap:g}"))
        on_route = route.nodes()
        for i, g in enumerate(st.gateway):
            if g not in on_route:
                out.append((("streams", sid, "gateway", i), f"'{clip(g)}' is not on the stream's route"
                            f"{did_you_mean(g, on_route)}; expected one of its nodes: {', '.join(on_route)}"))
        if isinstance(st.volume_mt_per_year, dict):
            for y in st.volume_mt_per_year:
                if not 1900 <= y <= 2200:
                    out.append((("streams", sid, "volume_mt_per_year", y),
                                f"expected a calendar year (1900-2200) as key, got {y}"))

    inv_ids: dict[str, int] = {}
    for i, inv in enumerate(s.investments):
        loc: tuple = ("investments", i)
        if inv.id in inv_ids:
            out.append((loc + ("id",), f"duplicate investment id '{inv.id}' (also at investments."
                        f"{aside.original(('investments', inv_ids[inv.id]))[1]}); expected each id once"))
        inv_ids.setdefault(inv.id, i)
        if not inside(inv.date):
            out.append((loc + ("date",), f"{horizon}, got {inv.date}"))
        if inv.field != "opening" and inv.change == "set" and inv.value < 0:
            out.append((loc + ("value",), f"expected a capacity >= 0, got {inv.value:g}"))
        if _is_count(inv.field) and inv.change in ("set", "add") and inv.value != int(inv.value):
            out.append((loc + ("value",), f"expected a whole number of {inv.field} (a count), got {inv.value:g}"))
        if not exists(inv.node):
            out.append((loc + ("node",), unknown(inv.node)))
            continue
        spec = s.nodes.get(inv.node)
        if spec is None:
            continue
        nk = KINDS[spec.kind]
        allowed = sorted(nk.investable)
        if not nk.allows(nk.investable, inv.field):
            out.append((loc + ("field",), f"'{inv.field}' cannot be invested in on a {spec.kind} ('{inv.node}')"
                        f"{did_you_mean(inv.field, allowed)}; expected one of: {', '.join(allowed) or '(none)'}"))
        elif inv.field != "opening" and get_path(spec, inv.field) is None:
            used = [p for f in allowed if f != "opening" for p, v in field_values(spec, f) if v is not None]
            out.append((loc + ("field",), f"node '{inv.node}' does not use {inv.field} (it gives its capacity "
                        f"another way); expected one of: {', '.join(used)}"))

    matches = set(inv_ids) | {t for inv in s.investments for t in inv.tags}
    for i, d in enumerate(s.delays.projects):
        if d.match not in matches and d.match not in aside.matches and not aside.all_investments:
            out.append((("delays", "projects", i, "match"), f"no investment id or tag '{d.match}'"
                        f"{did_you_mean(d.match, sorted(matches))}; expected one of: {', '.join(sorted(matches)) or '(none)'}"))
    tags = sorted({t for spec in s.nodes.values() for t in spec.tags})
    for i, op in enumerate(s.delays.operational):
        loc = ("delays", "operational", i)
        if op.node is not None and not exists(op.node):
            out.append((loc + ("node",), unknown(op.node)))
        elif op.kind is not None and op.kind not in KINDS:
            out.append((loc + ("kind",), f"unknown node kind '{clip(op.kind)}'{did_you_mean(op.kind, list(KINDS))}; "
                        f"expected one of: {', '.join(KINDS)}"))
        elif op.tag is not None and op.tag not in tags and not (aside.nodes or aside.all_nodes):
            out.append((loc + ("tag",), f"no node has tag '{clip(op.tag)}'{did_you_mean(op.tag, tags)}; "
                        f"expected one of: {', '.join(tags) or '(no node has tags)'}"))
        else:  # the field must be a duration of every node it stretches
            chosen = [(None, op.kind)] if op.kind is not None else \
                [(nid, spec.kind) for nid, spec in s.nodes.items() if op.applies_to(nid, spec)]
            for nid, kind in chosen:
                allowed = sorted(KINDS[kind].durations)
                if op.field not in allowed:
                    why = f" (node '{nid}' has tag '{op.tag}')" if op.tag is not None else ""
                    out.append((loc + ("field",), f"'{op.field}' is not a duration of a {kind}{why}"
                                f"{did_you_mean(op.field, allowed)}; expected one of: {', '.join(allowed)}"))
                    break
        if op.from_date is not None and not inside(op.from_date):
            out.append((loc + ("from_date",), f"{horizon}, got {op.from_date}"))
    for i, dis in enumerate(s.disruptions):
        if not exists(dis.node):
            out.append((("disruptions", i, "node"), unknown(dis.node)))
        if not inside(dis.start):
            out.append((("disruptions", i, "start"), f"{horizon}, got {dis.start}"))
    for nid, spec in s.nodes.items():
        od = getattr(spec, "opening_date", None)
        if od is not None and od < s.start_date and not aside.horizon:
            out.append((("nodes", nid, "opening_date"), f"expected a date on or after start_date {s.start_date}, "
                        f"got {od}"))
        kind_check = KINDS[spec.kind].check
        if kind_check is not None:
            out += kind_check(nid, spec, s)
    if s.appraisal is not None:
        commodities = sorted({st.commodity for st in s.streams.values()})
        for c in s.appraisal.value_usd_per_t:
            if c not in commodities and not aside.streams:
                out.append((("appraisal", "value_usd_per_t", c), f"no stream carries commodity '{c}'"
                            f"{did_you_mean(c, commodities)}; expected one of: {', '.join(commodities)}"))
        # opex_musd_per_year and life_years may name investments a child scenario removed: not checked
    if not s.nodes and not aside.nodes and not aside.all_nodes:
        out.append((("nodes",), "expected at least one node, got none"))
    if not s.streams and not aside.streams:
        out.append((("streams",), "expected at least one stream, got none"))
    return out


def after_horizon(s: Scenario) -> list[str]:
    """The ids of investments dated on or after end_date (as written, before delays): legal, and
    without effect within the horizon."""
    return [inv.id for inv in s.investments if inv.date >= s.end_date]


def check_routes(s: Scenario) -> list[tuple[tuple, str]]:
    """Checks that every route is connected, for scenario files (tests may build
    isolated nodes with :func:`check_references` alone). A route is connected when

    - it does not start with a kind that cargo cannot enter at (``NodeKind.entry``
      false: a sea link or a rail line): cargo enters the corridor at a port (or a
      border post or a pipeline), never already aboard a vessel or a train; when
      the first step is a choice, this holds for every option;
    - every node whose kind names the kinds that may precede it
      (``NodeKind.after``: a port before a sea link, where vessels load) follows
      one of them. After a choice, every option must end in one.

    Each problem is (field path, message), the path naming the offending node's
    place in the route (``streams.S.route.I`` or ``streams.S.route.I.choice.OPT.J``).
    """
    out: list[tuple[tuple, str]] = []
    out += _check_calls(s) + _check_weather(s)
    for sid, st in s.streams.items():
        for sub, n, prev in Route.of(st).positions():
            spec = s.nodes.get(n)
            if spec is None:
                continue
            loc = ("streams", sid, "route", *sub)
            kind = KINDS[spec.kind]
            if None in prev and not kind.entry:
                aboard = kind.carrier_name
                out.append((loc, f"the route starts with {kind.label} '{n}'; expected a port (or a border or pipeline) "
                            f"first: cargo enters the corridor at a port, not aboard {aboard}"))
            elif kind.after is not None:
                for p in prev:
                    pk = KINDS[s.nodes[p].kind] if p in s.nodes else None
                    if p is not None and pk is not None and pk.name not in kind.after:
                        wanted = " or ".join(KINDS[k].label for k in sorted(kind.after))
                        out.append((loc, f"{kind.label} '{n}' follows {pk.label} '{p}'; expected a {wanted} "
                                    f"just before a {kind.label} (vessels load at a port)"))
    return out


def _check_weather(s: Scenario) -> list[tuple[tuple, str]]:
    """A node's ``storms`` naming a sea area names one of the scenario's ``weather``."""
    out: list[tuple[tuple, str]] = []
    areas = sorted(s.weather)
    for nid, spec in s.nodes.items():
        area = getattr(spec, "storms", None)
        if isinstance(area, str) and area not in s.weather:
            out.append((("nodes", nid, "storms"), f"unknown sea area '{area}'{did_you_mean(area, areas)}; expected "
                        f"one of the scenario's weather areas: {', '.join(areas) or '(none: add weather: {AREA: ...})'}"))
    return out


def _check_calls(s: Scenario) -> list[tuple[tuple, str]]:
    """Terminals that vessels call at (``NodeKind.calls_at``: a sea link's load_at,
    unload_at) exist, are ports, and stand just before (after) the link in every
    route through it."""
    out: list[tuple[tuple, str]] = []
    ports = sorted(n for n, spec in s.nodes.items() if spec.kind == "port")
    for nid, spec in s.nodes.items():
        for fld, side in KINDS[spec.kind].calls_at:
            targets = spec.terminals(fld)
            if not targets:
                continue
            bad = [t for t in targets if t not in s.nodes or s.nodes[t].kind != "port"]
            for target in bad:
                lines = getattr(spec, "lines", None)
                where_at = ("nodes", nid, fld) if lines is None else \
                    ("nodes", nid, "lines", next(n for n, ln in lines.items() if getattr(ln, fld) == target), fld)
                out.append((where_at, f"expected the id of a port terminal{did_you_mean(target, ports)}, "
                            f"got '{target}'; ports: {', '.join(ports) or '(none)'}"))
            if bad:
                continue
            shown = "' or '".join(targets)
            for sid, st in s.streams.items():
                positions = Route.of(st).positions()
                for sub, n, prev in positions:
                    if n != nid:
                        continue
                    near = prev if side == "before" else [p.node for p in positions if nid in p.before]
                    if near and any(x not in targets for x in near):
                        where = "just before" if side == "before" else "just after"
                        out.append((("streams", sid, "route", *sub), f"{KINDS[spec.kind].label} '{nid}' "
                                    f"{'loads' if side == 'before' else 'unloads'} at '{shown}' ({fld}); expected "
                                    f"'{shown}' {where} it in the route, got {', '.join(str(x) for x in near)}"))
    return out


def check_limits(s: Scenario) -> list[tuple[tuple, str]]:
    """What the engine needs beyond each field's own bounds (:mod:`model.core.limits`), for a
    scenario whose references and routes are sound, so that ``validate`` passing means
    ``run`` works:

    - the project delays of one investment add up to at most ``MAX_DELAY_MONTHS``;
    - every node's fields stay within their bounds once the investments are applied
      (a fleet added to past the limit, a capacity multiplied below 0);
    - one replication creates at most ``MAX_SHIPMENTS`` shipments.
    """
    out = _check_total_delays(s)
    if not out:
        out += _check_invested_specs(s)
    return out + _check_shipments(s)


def _check_total_delays(s: Scenario) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    for inv in s.investments:
        hits = [j for j, d in enumerate(s.delays.projects) if d.match == inv.id or d.match in inv.tags]
        months = sum(s.delays.projects[j].months for j in hits)
        if abs(months) > MAX_DELAY_MONTHS:
            out.append((("delays", "projects", hits[-1], "months"), f"the delays of investment '{inv.id}' add up "
                        f"to {months:g} months; expected at most {MAX_DELAY_MONTHS:g} (the limit) either way"))
    return out


def _check_invested_specs(s: Scenario) -> list[tuple[tuple, str]]:
    """Each node spec with its (delayed) investments folded in, validated again: a
    problem is blamed on the last investment in the field at fault."""
    out: list[tuple[tuple, str]] = []
    for nid, spec in resolve_node_specs(s).items():
        if spec is s.nodes[nid]:
            continue
        data = spec.model_dump()
        try:
            type(spec).model_validate(data)
        except ValidationError as err:
            for loc, msg in _explain_all(err.errors(), data, type(spec)):
                field = loc[0] if loc else None
                hits = [i for i, inv in enumerate(s.investments) if inv.node == nid and inv.field.split(".")[0] == field]
                at: tuple = ("investments", hits[-1], "value") if hits else ("nodes", nid)
                shown = ".".join(str(x) for x in loc)
                out.append((at, f"with the investments in node '{nid}', {shown} is out of bounds: {msg}"))
    return out


def expected_shipments(s: Scenario) -> dict[str, float]:
    """Shipments one replication is expected to create, per stream: its volume over
    the horizon (at the most its transit response may offer), over its shipment size."""
    out = {}
    for sid, st in s.streams.items():
        boost = st.transit_response.max_factor if st.transit_response is not None else 1.0
        tonnes = sum(st.volume_in(year) * share for year, share in _years_in_horizon(s)) * T_PER_MT
        out[sid] = tonnes * boost / st.shipment_t
    return out


def _years_in_horizon(s: Scenario) -> list[tuple[int, float]]:
    """(calendar year, share of it inside the horizon) for every year the horizon touches."""
    out = []
    for year in range(s.start_date.year, s.end_date.year + 1):
        first, last = date(year, 1, 1), date(year + 1, 1, 1)
        days = (min(last, s.end_date) - max(first, s.start_date)).days
        if days > 0:
            out.append((year, days / (last - first).days))
    return out


def _check_shipments(s: Scenario) -> list[tuple[tuple, str]]:
    per_stream = expected_shipments(s)
    total = sum(per_stream.values())
    if total <= MAX_SHIPMENTS:
        return []
    sid = max(per_stream, key=lambda k: per_stream[k])
    st = s.streams[sid]
    shown = f"{total:,.0f}" if total < 1e15 else "more than 10^15"
    return [(("streams", sid, "shipment_t"), f"this run would create {shown} shipments a replication (limit "
             f"{MAX_SHIPMENTS:,}), {per_stream[sid] / total:.0%} of them from this stream ({st.shipment_t:g} t each); "
             "expected larger shipments, smaller volumes or a shorter horizon")]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""How a spreadsheet recognises a formula (or a DDE command) in a CSV cell: text a user wrote never
starts so, since names and ids reach the output tables."""
FREE_TEXT = {"description", "source"}
"""Fields of free text that never reach a table cell."""


def formula_problems(data: object, at: tuple = ()) -> list[tuple[tuple, str]]:
    """(field path, message) of every name, id or text value in ``data`` (a scenario's or sweep's
    mapping) that a spreadsheet would take for a formula if it reached a CSV cell."""
    out: list[tuple[tuple, str]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(k, str) and k.startswith(FORMULA_START):
                out.append((at + (k,), f"expected a name that does not start with {k[0]!r} (a spreadsheet would run "
                            "it as a formula from a CSV cell), got " + repr(k[:20])))
            if k not in FREE_TEXT:
                out += formula_problems(v, at + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += formula_problems(v, at + (i,))
    elif isinstance(data, str) and data.startswith(FORMULA_START):
        out.append((at, f"expected a text that does not start with {data[0]!r} (a spreadsheet would run it as a "
                    "formula from a CSV cell), got " + repr(data[:20])))
    return out


def check_text(s: Scenario) -> list[tuple[tuple, str]]:
    """Names, ids and texts of a scenario that would reach a table cell as a formula."""
    return formula_problems(s.model_dump(mode="json", exclude={"uncertainty"}))
