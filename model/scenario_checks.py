"""Cross-field checks of a scenario that the schema cannot do: node ids exist,
investments change fields their node has, dates lie in the horizon, shipments
fit, routes are connected and loop-free. Each problem is (field path, message)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date


from .scenario_messages import did_you_mean
from .schema import Scenario


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
    index: dict = dc_field(default_factory=dict)  # section -> original indices of the items kept

    def original(self, loc: tuple) -> tuple:
        for sec in _SECTIONS:
            n = len(sec)
            if tuple(loc[:n]) == sec and len(loc) > n and isinstance(loc[n], int) and sec in self.index:
                idx = self.index[sec]
                if 0 <= loc[n] < len(idx):
                    return (*sec, idx[loc[n]], *loc[n + 1:])
        return tuple(loc)


FIELDS_BY_KIND: dict[str, set[str]] = {
    "port": {"berths", "capacity_mt_per_year", "handling_rate_t_per_h"},
    "sea_link": {"fleet"},
    "rail_line": {"paths_per_day", "capacity_mt_per_year", "opening"},
    "pipeline": {"flow_mt_per_year"},
    "border": set(),
}
DURATION_FIELDS_BY_KIND: dict[str, set[str]] = {
    "port": {"handling_time"},
    "sea_link": {"load_h", "crossing_h", "unload_h", "return_h"},
    "rail_line": {"transit_h"},
    "pipeline": {"transit_h"},
    "border": {"dwell_h"},
}
_PAYLOAD = {"port": ("yard_limit_t", "the yard"), "sea_link": ("vessel_payload_t", "a vessel"), "rail_line": ("train_payload_t", "a train"),
            "pipeline": ("tank_t", "the tank")}
_COUNT_FIELDS = ("berths", "fleet")
_TIMELINE_FIELDS = ("berths", "capacity_mt_per_year", "handling_rate_t_per_h", "fleet", "paths_per_day",
                    "flow_mt_per_year")


def _route_nodes(route: list) -> list[str]:
    out: list[str] = []
    for step in route:
        if isinstance(step, str):
            out.append(step)
        else:
            for opt in step.choice.values():
                out.extend(opt)
    return out


def _route_steps(route: list) -> list[tuple[tuple, str, list]]:
    """Every node of a route: (path below ``route``, node id, the ids that can
    come just before it, None standing for the start of the route)."""
    out: list[tuple[tuple, str, list]] = []
    prev: list = [None]
    for i, step in enumerate(route):
        if isinstance(step, str):
            out.append(((i,), step, prev))
            prev = [step]
            continue
        after: list = []
        for opt, nodes in step.choice.items():
            p = prev
            for j, n in enumerate(nodes):
                out.append(((i, "choice", opt, j), n, p))
                p = [n]
            after.extend(p)
        prev = after
    return out


def _loops(route: list) -> list[tuple[tuple, str, tuple]]:
    """Nodes a shipment could visit twice: (path of the repeat, node, path of the
    first visit). The options of one choice are alternatives, so a node may be in
    several options of the same choice."""
    out = []
    visited: dict[str, tuple] = {}
    for i, step in enumerate(route):
        options = [(None, [step])] if isinstance(step, str) else list(step.choice.items())
        new: dict[str, tuple] = {}
        for opt, nodes in options:
            mine: dict[str, tuple] = {}
            for j, n in enumerate(nodes):
                loc = (i,) if opt is None else (i, "choice", opt, j)
                first = visited.get(n) or mine.get(n)
                if first is not None:
                    out.append((loc, n, first))
                else:
                    mine[n] = loc
                    new.setdefault(n, loc)
        for n, loc in new.items():
            visited.setdefault(n, loc)
    return out


def check_references(s: Scenario, *, _aside: _SetAside | None = None) -> list[tuple[tuple, str]]:
    """Cross-field checks the schema cannot do; each problem is (field path, message).

    - every node id named in a route, a choice, an investment, a delay or a
      disruption exists;
    - an investment changes a field its node's kind has (``FIELDS_BY_KIND``) and
      uses; investment ids are unique; each ``delays.projects`` match names an
      investment id or tag; an operational delay names a duration of its node;
    - dates lie inside the horizon: investments, operational delays and
      disruption starts in [start_date, end_date); opening dates not before
      start_date; timeline steps before end_date;
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
            return f"unknown node id '{node}'; no nodes are defined"
        return f"unknown node id '{node}'{did_you_mean(node, sorted(ids))}; expected one of: {known}"

    def inside(d: date) -> bool:
        return s.start_date <= d < s.end_date

    horizon = f"expected a date from start_date {s.start_date} to before end_date {s.end_date}"

    for sid, st in s.streams.items():
        for sub, n, _ in _route_steps(st.route):
            if not exists(n):
                out.append((("streams", sid, "route", *sub), unknown(n)))
        for i, step in enumerate(st.route):
            if not isinstance(step, str) and step.shares is not None and step.policy == "fixed_shares":
                missing = [o for o in step.choice if o not in step.shares]
                if missing:
                    out.append((("streams", sid, "route", i, "shares"),
                                f"expected a share for every option, missing: {', '.join(missing)}"))
        for sub, n, first in _loops(st.route):
            out.append((("streams", sid, "route", *sub),
                        f"node '{n}' is visited twice (also at route.{'.'.join(map(str, first))}); "
                        "expected a route without loops"))
        for n in dict.fromkeys(_route_nodes(st.route)):
            spec = s.nodes.get(n)
            if spec is None or spec.kind not in _PAYLOAD:
                continue
            attr, what = _PAYLOAD[spec.kind]
            cap = getattr(spec, attr)
            if cap is None:  # a port without a yard limit
                continue
            if st.shipment_t > cap:
                out.append((("streams", sid, "shipment_t"),
                            f"a shipment of {st.shipment_t:g} t does not fit {what} of node '{n}' "
                            f"({attr} {cap:g} t); expected shipment_t <= {cap:g}"))
        if isinstance(st.volume_mt_per_year, dict):
            for y in st.volume_mt_per_year:
                if not 1900 <= y <= 2200:
                    out.append((("streams", sid, "volume_mt_per_year", y),
                                f"expected a calendar year (1900-2200) as key, got {y}"))

    inv_ids: dict[str, int] = {}
    for i, inv in enumerate(s.investments):
        loc = ("investments", i)
        if inv.id in inv_ids:
            out.append((loc + ("id",), f"duplicate investment id '{inv.id}' (also at investments."
                        f"{aside.original(('investments', inv_ids[inv.id]))[1]}); expected each id once"))
        inv_ids.setdefault(inv.id, i)
        if not inside(inv.date):
            out.append((loc + ("date",), f"{horizon}, got {inv.date}"))
        if inv.field != "opening" and inv.change == "set" and inv.value < 0:
            out.append((loc + ("value",), f"expected a capacity >= 0, got {inv.value:g}"))
        if inv.field in _COUNT_FIELDS and inv.change in ("set", "add") and inv.value != int(inv.value):
            out.append((loc + ("value",), f"expected a whole number of {inv.field} (a count), got {inv.value:g}"))
        if not exists(inv.node):
            out.append((loc + ("node",), unknown(inv.node)))
            continue
        spec = s.nodes.get(inv.node)
        if spec is None:
            continue
        allowed = sorted(FIELDS_BY_KIND[spec.kind])
        if inv.field not in allowed:
            out.append((loc + ("field",), f"'{inv.field}' cannot be invested in on a {spec.kind} ('{inv.node}')"
                        f"{did_you_mean(inv.field, allowed)}; expected one of: {', '.join(allowed) or '(none)'}"))
        elif inv.field != "opening" and getattr(spec, inv.field, None) is None:
            used = [f for f in allowed if f != "opening" and getattr(spec, f, None) is not None]
            out.append((loc + ("field",), f"node '{inv.node}' does not use {inv.field} (it gives its capacity "
                        f"another way); expected one of: {', '.join(used)}"))

    matches = set(inv_ids) | {t for inv in s.investments for t in inv.tags}
    for i, d in enumerate(s.delays.projects):
        if d.match not in matches and d.match not in aside.matches and not aside.all_investments:
            out.append((("delays", "projects", i, "match"), f"no investment id or tag '{d.match}'"
                        f"{did_you_mean(d.match, sorted(matches))}; expected one of: {', '.join(sorted(matches)) or '(none)'}"))
    for i, d in enumerate(s.delays.operational):
        loc = ("delays", "operational", i)
        if not exists(d.node):
            out.append((loc + ("node",), unknown(d.node)))
        elif d.node in s.nodes:
            allowed = sorted(DURATION_FIELDS_BY_KIND[s.nodes[d.node].kind])
            if d.field not in allowed:
                out.append((loc + ("field",), f"'{d.field}' is not a duration of a {s.nodes[d.node].kind}"
                            f"{did_you_mean(d.field, allowed)}; expected one of: {', '.join(allowed)}"))
        if d.from_date is not None and not inside(d.from_date):
            out.append((loc + ("from_date",), f"{horizon}, got {d.from_date}"))
    for i, d in enumerate(s.disruptions):
        if not exists(d.node):
            out.append((("disruptions", i, "node"), unknown(d.node)))
        if not inside(d.start):
            out.append((("disruptions", i, "start"), f"{horizon}, got {d.start}"))
    for nid, spec in s.nodes.items():
        od = getattr(spec, "opening_date", None)
        if od is not None and od < s.start_date:
            out.append((("nodes", nid, "opening_date"), f"expected a date on or after start_date {s.start_date}, "
                        f"got {od}"))
        for key in _TIMELINE_FIELDS:
            v = getattr(spec, key, None)
            if isinstance(v, dict):
                for d in v:
                    if d >= s.end_date:
                        out.append((("nodes", nid, key, d), f"expected a date before end_date {s.end_date}, got {d}"))
    if not s.nodes and not aside.nodes and not aside.all_nodes:
        out.append((("nodes",), "expected at least one node, got none"))
    if not s.streams and not aside.streams:
        out.append((("streams",), "expected at least one stream, got none"))
    return out


def check_routes(s: Scenario) -> list[tuple[tuple, str]]:
    """Checks that every route is connected, for scenario files (tests may build
    isolated nodes with :func:`check_references` alone). A route is connected when

    - it does not start with a sea_link or a rail_line: cargo enters the corridor
      at a port (or a border post or a pipeline), never already aboard a vessel
      or a train; when the first step is a choice, this holds for every option;
    - every sea_link is immediately preceded by a port, where vessels load: a
      sea_link after a border, a rail line, a pipeline or another sea_link is a
      gap in the route. After a choice, every option must end in a port.

    Each problem is (field path, message), the path naming the offending node's
    place in the route (``streams.S.route.I`` or ``streams.S.route.I.choice.OPT.J``).
    """
    out: list[tuple[tuple, str]] = []
    for sid, st in s.streams.items():
        for sub, n, prev in _route_steps(st.route):
            spec = s.nodes.get(n)
            if spec is None:
                continue
            loc = ("streams", sid, "route", *sub)
            kind = spec.kind.replace("_", " ")
            if None in prev and spec.kind in ("sea_link", "rail_line"):
                out.append((loc, f"the route starts with {kind} '{n}'; expected a port (or a border or pipeline) "
                            f"first: cargo enters the corridor at a port, not aboard a "
                            f"{'vessel' if spec.kind == 'sea_link' else 'train'}"))
            elif spec.kind == "sea_link":
                for p in prev:
                    pk = s.nodes[p].kind if p in s.nodes else None
                    if p is not None and pk is not None and pk != "port":
                        out.append((loc, f"sea link '{n}' follows {pk.replace('_', ' ')} '{p}'; expected a port "
                                    "just before a sea link (vessels load at a port)"))
    return out


