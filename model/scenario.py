"""Scenario files: schema (pydantic), YAML loading, ``extends`` and clear errors.

A scenario is a YAML mapping. Nodes and streams are mappings keyed by id so a
child scenario can override one field of one node; investments are a list
merged by ``id`` (``remove: true`` drops an inherited one). Every user mistake
becomes a :class:`ScenarioError` listing all problems found, each with the
file, the line where YAML has it, the field path and what was expected.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .distributions import Distribution, Fixed, as_distribution

# A capacity-like value: a number, or {ISO date: value} steps.
TimelineSpec = Union[float, dict[date, float]]
DurationSpec = Union[float, Distribution]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _non_negative_timeline(v: TimelineSpec) -> TimelineSpec:
    values = v.values() if isinstance(v, dict) else [v]
    if any(x < 0 for x in values):
        raise ValueError("values must be >= 0")
    if isinstance(v, dict) and not v:
        raise ValueError("a dated timeline needs at least one date")
    return v


class _NodeBase(_Strict):
    name: str | None = Field(None, description="Display name")
    lon: float | None = Field(None, description="Longitude, for the corridor schematic")
    lat: float | None = Field(None, description="Latitude, for the corridor schematic")


class PortSpec(_NodeBase):
    """A port terminal: ``berths`` parallel handling positions, each handling
    cargo at ``handling_rate_t_per_h`` (or the rate implied by
    ``capacity_mt_per_year`` spread over the berths)."""

    kind: Literal["port"]
    berths: TimelineSpec = 1
    capacity_mt_per_year: TimelineSpec | None = None
    handling_rate_t_per_h: TimelineSpec | None = None
    service: Literal["fixed", "exponential", "lognormal"] = "exponential"
    service_cv: float = Field(0.5, gt=0, description="cv of handling time when service is lognormal")
    yard_limit_t: float | None = Field(None, gt=0)

    _nonneg = field_validator("berths", "capacity_mt_per_year", "handling_rate_t_per_h")(
        lambda v: v if v is None else _non_negative_timeline(v)
    )

    @model_validator(mode="after")
    def _one_rate(self) -> "PortSpec":
        if (self.capacity_mt_per_year is None) == (self.handling_rate_t_per_h is None):
            raise ValueError("give exactly one of capacity_mt_per_year or handling_rate_t_per_h")
        return self


class StormSpec(_Strict):
    """Episodic closures: events arrive as a Poisson process with a rate per
    calendar month (one number, or 12 numbers Jan..Dec), each lasting a drawn
    number of days. No vessel departs while the link is closed."""

    events_per_month: float | list[float]
    duration_days: DurationSpec

    @field_validator("events_per_month")
    @classmethod
    def _twelve(cls, v: float | list[float]) -> float | list[float]:
        vals = v if isinstance(v, list) else [v]
        if isinstance(v, list) and len(v) != 12:
            raise ValueError("give one rate or 12 monthly rates (January to December)")
        if any(x < 0 for x in vals):
            raise ValueError("rates must be >= 0")
        return v


class SeaLinkSpec(_NodeBase):
    """A fleet shuttling between two ports: vessels load at the origin, sail when
    full or after ``max_wait_h`` with cargo aboard, cross, unload, return."""

    kind: Literal["sea_link"]
    fleet: TimelineSpec
    vessel_payload_t: float = Field(gt=0)
    load_h: DurationSpec = 8.0
    crossing_h: DurationSpec = 20.0
    unload_h: DurationSpec = 8.0
    return_h: DurationSpec | None = None
    max_wait_h: float = Field(48.0, ge=0)
    storms: StormSpec | None = None

    _nonneg = field_validator("fleet")(_non_negative_timeline)


class RailLineSpec(_NodeBase):
    """Train paths per day (or an annual capacity converted with the train
    payload); trains leave full, or after ``max_wait_h`` with what is waiting."""

    kind: Literal["rail_line"]
    paths_per_day: TimelineSpec | None = None
    capacity_mt_per_year: TimelineSpec | None = None
    train_payload_t: float = Field(gt=0)
    transit_h: DurationSpec = 24.0
    opening_date: date | None = None
    max_wait_h: float = Field(24.0, ge=0)

    _nonneg = field_validator("paths_per_day", "capacity_mt_per_year")(
        lambda v: v if v is None else _non_negative_timeline(v)
    )

    @model_validator(mode="after")
    def _one_rate(self) -> "RailLineSpec":
        if (self.capacity_mt_per_year is None) == (self.paths_per_day is None):
            raise ValueError("give exactly one of capacity_mt_per_year or paths_per_day")
        return self


class PipelineSpec(_NodeBase):
    """Continuous flow available to this cargo, fed from a tank buffer."""

    kind: Literal["pipeline"]
    flow_mt_per_year: TimelineSpec
    tank_t: float = Field(gt=0)
    transit_h: DurationSpec = 0.0

    _nonneg = field_validator("flow_mt_per_year")(_non_negative_timeline)


class BorderSpec(_NodeBase):
    """Border or customs post: every shipment dwells a drawn time; unlimited lanes."""

    kind: Literal["border"]
    dwell_h: DurationSpec


NodeSpec = Annotated[
    Union[PortSpec, SeaLinkSpec, RailLineSpec, PipelineSpec, BorderSpec], Field(discriminator="kind")
]


class ChoiceSpec(_Strict):
    """A route's branch point: each option is a sub-route of node ids."""

    choice: dict[str, list[str]]
    policy: Literal["fixed_shares", "least_delay"] = "fixed_shares"
    shares: dict[str, float] | None = None

    @model_validator(mode="after")
    def _shares(self) -> "ChoiceSpec":
        if len(self.choice) < 2:
            raise ValueError("a choice needs at least two options")
        if any(not opts for opts in self.choice.values()):
            raise ValueError("each option needs at least one node")
        if self.policy == "fixed_shares":
            if self.shares is None:
                raise ValueError("policy fixed_shares needs shares")
        if self.shares is not None:
            unknown = set(self.shares) - set(self.choice)
            if unknown:
                raise ValueError(f"shares for unknown options: {sorted(unknown)}")
            if any(s < 0 for s in self.shares.values()) or sum(self.shares.values()) <= 0:
                raise ValueError("shares must be >= 0 and not all zero")
        return self


class StreamSpec(_Strict):
    """A demand stream: annual volume by year (linear between given years,
    constant outside), cut into shipments, Poisson arrivals."""

    commodity: str
    volume_mt_per_year: float | dict[int, float]
    shipment_t: float = Field(gt=0)
    seasonality: list[float] | None = None
    route: list[Union[str, ChoiceSpec]]
    background: bool = Field(
        False, description="Other traffic sharing the nodes; left out of corridor totals"
    )

    @field_validator("volume_mt_per_year")
    @classmethod
    def _nonneg(cls, v: float | dict[int, float]) -> float | dict[int, float]:
        vals = v.values() if isinstance(v, dict) else [v]
        if any(x < 0 for x in vals):
            raise ValueError("volumes must be >= 0")
        if isinstance(v, dict) and not v:
            raise ValueError("give at least one year")
        return v

    @field_validator("seasonality")
    @classmethod
    def _season(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and (len(v) != 12 or any(x < 0 for x in v) or sum(v) <= 0):
            raise ValueError("seasonality needs 12 non-negative monthly factors, not all zero")
        return v

    @field_validator("route")
    @classmethod
    def _route(cls, v: list) -> list:
        if not v:
            raise ValueError("a route needs at least one node")
        return v


class Investment(_Strict):
    """A dated change to one field of one node (set, add or multiply)."""

    id: str
    node: str
    field: str
    value: float = 0.0
    change: Literal["set", "add", "mul"] = "set"
    date: date
    cost_musd: float | None = Field(None, ge=0)
    tags: list[str] = []
    source: str | None = None


class ProjectDelay(_Strict):
    """Shift every investment whose id or one of whose tags is ``match``."""

    match: str
    months: float


class OperationalDelay(_Strict):
    """Multiply a duration of a node (e.g. border dwell_h, crossing_h) from a date."""

    node: str
    field: str
    factor: float = Field(gt=0)
    from_date: date | None = None


class Disruption(_Strict):
    """A node closed, or its capacity cut to ``capacity_factor``, between two dates."""

    node: str
    start: date
    end: date
    capacity_factor: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> "Disruption":
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Delays(_Strict):
    projects: list[ProjectDelay] = []
    operational: list[OperationalDelay] = []


class Scenario(_Strict):
    """A whole scenario, after ``extends`` has been resolved."""

    name: str
    description: str = ""
    start_date: date
    end_date: date
    seed: int = Field(12345, ge=0)
    replications: int = Field(3, ge=1)
    nodes: dict[str, NodeSpec]
    streams: dict[str, StreamSpec]
    investments: list[Investment] = []
    delays: Delays = Delays()
    disruptions: list[Disruption] = []

    @model_validator(mode="after")
    def _horizon(self) -> "Scenario":
        if self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date")
        return self

    def sha256(self) -> str:
        """Hash of the resolved scenario (stable key for caching and manifests)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


# ---------------------------------------------------------------- loading


class ScenarioError(Exception):
    """A user's mistake in a scenario file; ``problems`` are one-line messages."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _yaml_lines(text: str) -> dict[tuple, int]:
    """Map each key path in a YAML document to its 1-based line number."""
    lines: dict[tuple, int] = {}

    def walk(node: yaml.Node, path: tuple) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value
                lines[path + (key,)] = k.start_mark.line + 1
                walk(v, path + (key,))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, path + (i,))

    root = yaml.compose(text)
    if root is not None:
        walk(root, ())
    return lines


def _read_yaml(path: Path) -> tuple[dict, dict[tuple, int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([f"{path}: file not found"]) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as e:
        raise ScenarioError([f"{path}: cannot read: {e.__class__.__name__}"]) from None
    try:
        data = yaml.safe_load(text)
        lines = _yaml_lines(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ScenarioError([f"{path}{where}: YAML syntax error: {problem}"]) from None
    if not isinstance(data, dict):
        raise ScenarioError([f"{path}: expected a mapping of scenario fields at the top level"])
    return data, lines


def _merge(base: Any, over: Any) -> Any:
    """Deep merge: mappings with text keys merge key by key, investments merge by
    id, anything else replaces. A timeline ``{date: value}`` or a volume path
    ``{year: value}`` is one value: the child's replaces the parent's whole."""
    if (isinstance(base, dict) and isinstance(over, dict)
            and all(isinstance(k, str) for k in (*base, *over))):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge_investments(base.get(k), v) if k == "investments" else _merge(base.get(k), v)
        return out
    return over


def _merge_investments(base: Any, over: Any) -> Any:
    if not isinstance(base, list) or not isinstance(over, list):
        return over
    merged = {inv.get("id"): inv for inv in base if isinstance(inv, dict)}
    for inv in over:
        if not isinstance(inv, dict):
            return over  # let validation report the bad item
        key = inv.get("id")
        if inv.get("remove") is True:
            merged.pop(key, None)
        else:
            merged[key] = _merge(merged.get(key), inv)
    return list(merged.values())


def load_raw(path: Path, _seen: tuple[Path, ...] = ()) -> tuple[dict, dict[tuple, int], list[Path]]:
    """Read a scenario file and its ``extends`` chain; return the merged mapping,
    the line map of the child file, and the chain of files (child first)."""
    path = Path(path)
    resolved = path.resolve()
    if resolved in _seen:
        chain = " -> ".join(str(p) for p in (*_seen, resolved))
        raise ScenarioError([f"{path}: extends: cycle in extends chain: {chain}"])
    data, lines = _read_yaml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data, lines, [path]
    if not isinstance(parent, str):
        raise ScenarioError([f"{path}:{lines.get(('extends',), '?')}: extends: expected a file name"])
    parent_path = (path.parent / parent)
    if not parent_path.exists():
        raise ScenarioError(
            [f"{path}:{lines.get(('extends',), '?')}: extends: parent file {parent_path} not found"]
        )
    base, _, chain = load_raw(parent_path, (*_seen, resolved))
    merged = _merge(base, data)
    return merged, lines, [path, *chain]


def _did_you_mean(model: type[BaseModel] | None, key: str) -> str:
    if model is None:
        return ""
    close = difflib.get_close_matches(key, list(model.model_fields), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """Best-effort: which schema model owns the location of an unknown key."""
    kinds = {"port": PortSpec, "sea_link": SeaLinkSpec, "rail_line": RailLineSpec,
             "pipeline": PipelineSpec, "border": BorderSpec}
    if len(loc) == 1:
        return Scenario
    if loc[0] == "nodes" and len(loc) == 4 and loc[2] in kinds:
        return kinds[loc[2]]
    if loc[0] == "nodes" and len(loc) == 5 and loc[3] == "storms":
        return StormSpec
    if loc[0] == "streams" and len(loc) == 3:
        return StreamSpec
    if loc[0] == "investments" and len(loc) == 3:
        return Investment
    if loc[0] == "delays" and len(loc) == 2:
        return Delays
    if loc[0] == "disruptions" and len(loc) == 3:
        return Disruption
    return None


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's union/discriminator tags (e.g. 'port', 'float') from a location."""
    tags = {"port", "sea_link", "rail_line", "pipeline", "border", "float", "int", "str",
            "ChoiceSpec", "fixed", "exponential", "uniform", "triangular", "lognormal",
            "dict[date,float]", "dict[int,float]", "list[float]", "function-after[_ordered(), Uniform]"}
    out = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and (part in tags or part.startswith(("function-", "tagged-union"))):
            if i > 0 and loc[0] == "nodes" and i == 2:
                continue
            if part in tags and i > 0:
                continue
        out.append(part)
    return tuple(out)


def _format_errors(err: ValidationError, path: Path, lines: dict[tuple, int]) -> list[str]:
    problems, seen = [], set()
    for e in err.errors():
        loc = _clean_loc(tuple(e["loc"]))
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        line = next((lines[loc[:n]] for n in range(len(loc), -1, -1) if loc[:n] in lines), None)
        where = f"{path}:{line}" if line else str(path)
        if e["type"] == "extra_forbidden":
            msg = f"unknown field '{loc[-1]}'{_did_you_mean(_model_at(tuple(e['loc'])), str(loc[-1]))}"
        elif e["type"] == "missing":
            msg = "required field is missing"
        elif e["type"] == "union_tag_invalid":
            msg = f"expected one of {e['ctx'].get('expected_tags')}, got {e['input']!r}" if isinstance(e.get("ctx"), dict) else e["msg"]
        else:
            msg = e["msg"].removeprefix("Value error, ")
            if "input" in e and not isinstance(e["input"], (dict, list)):
                msg += f" (got {e['input']!r})"
        key = (dotted, msg)
        if key in seen:
            continue
        seen.add(key)
        problems.append(f"{where}: {dotted}: {msg}")
    return problems


def load_scenario(path: str | Path) -> Scenario:
    """Load, merge ``extends``, validate schema and references. Raise ScenarioError."""
    path = Path(path)
    data, lines, _ = load_raw(path)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_errors(err, path, lines)) from None
    problems = [f"{path}:{lines.get(loc[:2], lines.get(loc[:1], '?'))}: {'.'.join(map(str, loc))}: {msg}"
                for loc, msg in check_references(scenario)]
    if problems:
        raise ScenarioError(problems)
    return scenario


# ------------------------------------------------------- reference checks

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


def _route_nodes(route: list) -> list[str]:
    out: list[str] = []
    for step in route:
        if isinstance(step, str):
            out.append(step)
        else:
            for opt in step.choice.values():
                out.extend(opt)
    return out


def check_references(s: Scenario) -> list[tuple[tuple, str]]:
    """Cross-field checks the schema cannot do: ids exist, fields fit node kinds,
    dates inside the horizon, shipments fit vessels and trains."""
    out: list[tuple[tuple, str]] = []
    ids = set(s.nodes)

    def unknown(node: str) -> str:
        close = difflib.get_close_matches(node, sorted(ids), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown node id '{node}'{hint}; known: {', '.join(sorted(ids))}"

    for sid, st in s.streams.items():
        for i, step in enumerate(st.route):
            names = [step] if isinstance(step, str) else [n for o in step.choice.values() for n in o]
            for n in names:
                if n not in ids:
                    out.append((("streams", sid, "route", i), unknown(n)))
            if not isinstance(step, str) and step.shares is not None and step.policy == "fixed_shares":
                missing = set(step.choice) - set(step.shares)
                if missing:
                    out.append((("streams", sid, "route", i, "shares"), f"no share for options {sorted(missing)}"))
        seen_route = _route_nodes(st.route)
        dup = {n for n in seen_route if seen_route.count(n) > 1 and not _in_different_options(st.route, n)}
        if dup:
            out.append((("streams", sid, "route"), f"route visits {sorted(dup)} twice (a route must not loop)"))
        for n in seen_route:
            spec = s.nodes.get(n)
            cap = (getattr(spec, "vessel_payload_t", None) or getattr(spec, "train_payload_t", None)
                   or getattr(spec, "tank_t", None))
            if cap is not None and st.shipment_t > cap:
                out.append((("streams", sid, "shipment_t"),
                            f"shipment of {st.shipment_t:g} t does not fit node '{n}' (payload {cap:g} t)"))
        if isinstance(st.volume_mt_per_year, dict):
            for y in st.volume_mt_per_year:
                if not 1900 <= y <= 2200:
                    out.append((("streams", sid, "volume_mt_per_year", y), "expected a calendar year"))
    inv_ids: set[str] = set()
    for i, inv in enumerate(s.investments):
        loc = ("investments", i)
        if inv.id in inv_ids:
            out.append((loc + ("id",), f"duplicate investment id '{inv.id}'"))
        inv_ids.add(inv.id)
        if inv.node not in ids:
            out.append((loc + ("node",), unknown(inv.node)))
            continue
        kind = s.nodes[inv.node].kind
        if inv.field not in FIELDS_BY_KIND[kind]:
            allowed = ", ".join(sorted(FIELDS_BY_KIND[kind])) or "(none)"
            out.append((loc + ("field",), f"'{inv.field}' cannot be invested in on a {kind}; expected one of: {allowed}"))
        elif inv.field != "opening" and getattr(s.nodes[inv.node], inv.field, None) is None:
            out.append((loc + ("field",), f"node '{inv.node}' does not use {inv.field} (it gives its capacity another way)"))
        if inv.field != "opening" and inv.change == "set" and inv.value < 0:
            out.append((loc + ("value",), "a capacity must be >= 0"))
        if not s.start_date <= inv.date < s.end_date:
            out.append((loc + ("date",), f"date {inv.date} is outside the horizon {s.start_date}..{s.end_date}"))
    tags = {t for inv in s.investments for t in inv.tags}
    for i, d in enumerate(s.delays.projects):
        if d.match not in inv_ids and d.match not in tags:
            out.append((("delays", "projects", i, "match"), f"no investment id or tag '{d.match}'"))
    for i, d in enumerate(s.delays.operational):
        if d.node not in ids:
            out.append((("delays", "operational", i, "node"), unknown(d.node)))
        elif d.field not in DURATION_FIELDS_BY_KIND[s.nodes[d.node].kind]:
            allowed = ", ".join(sorted(DURATION_FIELDS_BY_KIND[s.nodes[d.node].kind]))
            out.append((("delays", "operational", i, "field"), f"expected one of: {allowed}"))
    for i, d in enumerate(s.disruptions):
        if d.node not in ids:
            out.append((("disruptions", i, "node"), unknown(d.node)))
        if d.start < s.start_date or d.start >= s.end_date:
            out.append((("disruptions", i, "start"), f"date {d.start} is outside the horizon"))
    for nid, spec in s.nodes.items():
        od = getattr(spec, "opening_date", None)
        if od is not None and not s.start_date <= od:
            out.append((("nodes", nid, "opening_date"), f"date {od} is before the start {s.start_date}"))
        for key in ("berths", "capacity_mt_per_year", "handling_rate_t_per_h", "fleet", "paths_per_day", "flow_mt_per_year"):
            v = getattr(spec, key, None)
            if isinstance(v, dict):
                for d in v:
                    if d >= s.end_date:
                        out.append((("nodes", nid, key), f"date {d} is after the end {s.end_date}"))
    if not s.streams:
        out.append((("streams",), "at least one stream is needed"))
    return out


def _in_different_options(route: list, node: str) -> bool:
    """True when a node appears in several options of the same choice (allowed)."""
    for step in route:
        if not isinstance(step, str):
            hits = sum(node in opt for opt in step.choice.values())
            if hits > 1 and sum(1 for s in route if s == node) == 0:
                return True
    return False


def duration(spec: Any) -> Any:
    """A scenario duration as a Distribution object (numbers are fixed)."""
    return as_distribution(spec) if spec is not None else None


def scenario_json_schema() -> dict:
    """JSON Schema of a scenario file, for editors."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {"type": "string", "description": "Parent scenario file to override"}
    return schema
