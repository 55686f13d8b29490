"""Scenario files: schema (pydantic), YAML loading, ``extends`` and clear errors.

A scenario is a YAML mapping. Nodes and streams are mappings keyed by id so a
child scenario can override one field of one node; investments are a list
merged by ``id`` (``remove: true`` drops an inherited one). Every user mistake
becomes a :class:`ScenarioError` listing all problems found, each with the
file, the line where YAML has it, the field path and what was expected.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)
from pydantic.fields import FieldInfo

from .distributions import Distribution, Fixed, as_distribution

# A capacity-like value: a number, or {ISO date: value} steps.
TimelineSpec = Union[float, dict[date, float]]
DurationSpec = Union[float, Distribution]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Problem(ValueError):
    """Raised by a validator to blame one part of its value: ``at`` extends the
    field path of the error (a date key of a timeline, the ``shares`` of a choice)."""

    def __init__(self, message: str, *at: Any) -> None:
        super().__init__(message)
        self.at = at


def _non_negative(v: float | dict, key: str, what: str) -> float | dict:
    """A number >= 0, or a non-empty mapping (``key`` -> number) of numbers >= 0;
    a bad step is blamed on its key."""
    if isinstance(v, dict):
        if not v:
            raise ValueError(f"expected a number or at least one {{{key}: number}}, got an empty mapping")
        for k, x in v.items():
            if x < 0:
                raise _Problem(f"expected {what} >= 0, got {x:g}", k)
    elif v < 0:
        raise ValueError(f"expected {what} >= 0, got {v:g}")
    return v


def _non_negative_timeline(v: TimelineSpec) -> TimelineSpec:
    return _non_negative(v, "ISO date", "a value")


def _count_timeline(v: TimelineSpec) -> TimelineSpec:
    """Berths and vessels are counted, not measured: whole numbers >= 0 (a
    fraction would be silently rounded by the engine)."""
    _non_negative_timeline(v)
    for d, x in (v.items() if isinstance(v, dict) else [(None, v)]):
        if x != int(x):
            msg = f"expected a whole number (a count of berths or vessels), got {x:g}"
            raise _Problem(msg, d) if d is not None else ValueError(msg)
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

    _nonneg = field_validator("capacity_mt_per_year", "handling_rate_t_per_h")(
        lambda v: v if v is None else _non_negative_timeline(v)
    )
    _count = field_validator("berths")(_count_timeline)

    @model_validator(mode="after")
    def _one_rate(self) -> "PortSpec":
        if (self.capacity_mt_per_year is None) == (self.handling_rate_t_per_h is None):
            got = "both" if self.capacity_mt_per_year is not None else "neither"
            raise ValueError(f"expected exactly one of capacity_mt_per_year or handling_rate_t_per_h, got {got}")
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
        if isinstance(v, list):
            if len(v) != 12:
                raise ValueError(f"expected one rate or 12 monthly rates (January to December), got {len(v)} rates")
            for i, x in enumerate(v):
                if x < 0:
                    raise _Problem(f"expected a rate >= 0, got {x:g}", i)
        elif v < 0:
            raise ValueError(f"expected a rate >= 0, got {v:g}")
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

    _count = field_validator("fleet")(_count_timeline)


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
            got = "both" if self.capacity_mt_per_year is not None else "neither"
            raise ValueError(f"expected exactly one of capacity_mt_per_year or paths_per_day, got {got}")
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
        names = ", ".join(self.choice)
        if len(self.choice) < 2:
            raise _Problem(f"expected at least two options {{option: [node ids]}}, "
                           f"got {len(self.choice)} ({names or 'none'})", "choice")
        for opt, nodes in self.choice.items():
            if not nodes:
                raise _Problem("expected at least one node id in this option, got an empty list", "choice", opt)
        if self.policy == "fixed_shares" and self.shares is None:
            raise _Problem(f"policy fixed_shares (the default) needs shares {{option: share}} for options {names}; "
                           "add shares or set policy: least_delay", "shares")
        if self.shares is not None:
            for opt in self.shares:
                if opt not in self.choice:
                    close = difflib.get_close_matches(opt, list(self.choice), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    raise _Problem(f"share for unknown option '{opt}'{hint}; expected one of the options: {names}",
                                   "shares", opt)
            for opt, x in self.shares.items():
                if x < 0:
                    raise _Problem(f"expected a share >= 0, got {x:g}", "shares", opt)
            if sum(self.shares.values()) <= 0:
                raise _Problem("expected shares that are not all zero", "shares")
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
        return _non_negative(v, "year", "a volume")

    @field_validator("seasonality")
    @classmethod
    def _season(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        if len(v) != 12:
            raise ValueError(f"expected 12 monthly factors (January to December), got {len(v)}")
        for i, x in enumerate(v):
            if x < 0:
                raise _Problem(f"expected a factor >= 0, got {x:g}", i)
        if sum(v) <= 0:
            raise ValueError("expected monthly factors that are not all zero")
        return v

    @field_validator("route")
    @classmethod
    def _route(cls, v: list) -> list:
        if not v:
            raise ValueError("expected at least one node id, got an empty route")
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


def _after(start_field: str, v: date, info: ValidationInfo) -> date:
    """An end date must come after the start date of the same mapping."""
    start = info.data.get(start_field)
    if start is not None and v <= start:
        raise ValueError(f"expected a date after {start_field} {start}, got {v}")
    return v


class Disruption(_Strict):
    """A node closed, or its capacity cut to ``capacity_factor``, between two dates."""

    node: str
    start: date
    end: date
    capacity_factor: float = Field(0.0, ge=0)

    _after_start = field_validator("end")(lambda v, info: _after("start", v, info))


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

    _after_start = field_validator("end_date")(lambda v, info: _after("start_date", v, info))

    def sha256(self) -> str:
        """Hash of the resolved scenario (stable key for caching and manifests)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()


# ---------------------------------------------------------------- loading
#
# A scenario file is read into plain data plus a *provenance* map: for every
# path in the data (keys and list indices), the file, line and path where the
# value was written. ``extends`` merges a parent's data and provenance with the
# child's, so an error found in the merged scenario still points to the line
# that holds the value, in whichever file of the chain that is.
#
# Merge rules (``extends``): mappings of named fields (the top level, ``nodes``,
# one node, ``storms``, ``streams``, one stream, ``delays``) merge key by key;
# ``investments`` merge by ``id`` (``remove: true`` drops an inherited one);
# every other value replaces the parent's: lists (routes, ``delays.projects``),
# timelines and volumes keyed by dates or years (the child states the whole
# timeline), and a node or distribution whose ``kind`` or ``dist`` changes (with
# the same ``dist``, or none, a distribution merges: ``{mean: 30}`` sets the mean).


class ScenarioError(Exception):
    """A user's mistake in a scenario file; ``problems`` are one-line messages
    ``FILE:LINE: field.path: what was expected, got what``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class _Where:
    """Where a value was written: the file, its 1-based line and its path there."""

    file: Path
    line: int | None
    path: tuple


_Prov = dict[tuple, _Where]


@dataclass(frozen=True)
class _Issue:
    """A problem found while reading files (before validation): already located."""

    where: _Where
    message: str


class _PyLoader(yaml.SafeLoader):
    """Safe YAML loader that keeps an impossible date (2024-13-01) as text, so
    that validation reports it at its field instead of the YAML parser crashing."""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same, with libyaml's faster parser when PyYAML has it."""


def _timestamp(loader: Any, node: yaml.Node) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


for _cls in (_PyLoader, _Loader):
    _cls.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

_TOP_FIELDS = "name, start_date, end_date, nodes, streams, ..."


def _yaml_error(path: Path, e: yaml.YAMLError) -> ScenarioError:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    context, cmark = getattr(e, "context", None), getattr(e, "context_mark", None)
    where = f"{path}:{mark.line + 1}" if mark else str(path)
    msg = f"YAML syntax error at column {mark.column + 1}: {problem}" if mark else f"YAML syntax error: {problem}"
    if context and cmark is not None and mark is not None and cmark.line != mark.line:
        msg += f" ({context} that starts at line {cmark.line + 1})"
    elif context:
        msg += f" ({context})"
    if "'\\t'" in problem:
        msg += "; expected indentation with spaces, not tabs"
    elif "flow sequence" in (context or "") or "flow mapping" in (context or ""):
        closing = "]" if "sequence" in context else "}"
        msg += f"; expected the '{closing}' that closes it"
    elif "mapping values are not allowed" in problem:
        msg += "; check the indentation of this line and the one above (or quote a value containing ': ')"
    return ScenarioError([f"{where}: {msg}"])


def _key(loader: Any, node: yaml.Node) -> Any:
    try:
        key = loader.construct_object(node, deep=True)
        hash(key)
        return key
    except Exception:  # an odd key is reported by validation, not here
        return getattr(node, "value", None)


def _walk_yaml(loader: Any, node: yaml.Node, path: tuple, file: Path, prov: _Prov,
               issues: list[_Issue], seen: set[int]) -> None:
    prov.setdefault(path, _Where(file, node.start_mark.line + 1, path))
    if id(node) in seen:  # an alias of an anchored node: its lines are those of the anchor
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict = {}
        for k, v in node.value:
            key = _key(loader, k)
            line = k.start_mark.line + 1
            if key == "<<":
                continue
            if key in first:
                issues.append(_Issue(_Where(file, line, path + (key,)),
                                     f"duplicate key '{key}' (also at line {first[key]}); expected each key once "
                                     "in a mapping (YAML would silently keep only the last)"))
            first.setdefault(key, line)
            prov[path + (key,)] = _Where(file, line, path + (key,))
            _walk_yaml(loader, v, path + (key,), file, prov, issues, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _walk_yaml(loader, v, path + (i,), file, prov, issues, seen)


def _read_yaml(path: Path, kind: str = "scenario", fields: str = _TOP_FIELDS) -> tuple[dict, _Prov, list[_Issue]]:
    """One file: its mapping, the provenance of every value, and duplicate keys.
    ``kind`` and ``fields`` word the messages (a scenario, a sweep)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([f"{path}: file not found"]) from None
    except IsADirectoryError:
        raise ScenarioError([f"{path}: expected a {kind} file, got a folder"]) from None
    except (PermissionError, UnicodeDecodeError) as e:
        raise ScenarioError([f"{path}: cannot read the file ({e.__class__.__name__}); "
                             "expected a UTF-8 text file"]) from None
    loader = _Loader(text)
    prov: _Prov = {}
    issues: list[_Issue] = []
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        if node is not None:
            _walk_yaml(loader, node, (), path, prov, issues, set())
    except yaml.YAMLError as e:
        try:  # the pure-Python parser words syntax errors better than libyaml
            yaml.load(text, Loader=_PyLoader)  # noqa: S506 (a safe loader)
        except yaml.YAMLError as py_error:
            e = py_error
        raise _yaml_error(path, e) from None
    except RecursionError:
        raise ScenarioError([f"{path}: YAML nests too deeply (a recursive alias?)"]) from None
    finally:
        loader.dispose()
    if data is None:
        raise ScenarioError([f"{path}: the file is empty; expected a mapping of {kind} fields ({fields})"])
    if not isinstance(data, dict):
        line = prov[()].line if () in prov else 1
        raise ScenarioError([f"{path}:{line}: expected a mapping of {kind} fields ({fields}) "
                             f"at the top level, got {_got(data)}"])
    return data, prov, issues


def _copy_prov(src: _Prov, spath: tuple, dst: _Prov, dpath: tuple) -> None:
    n = len(spath)
    for k, w in src.items():
        if k[:n] == spath:
            dst[dpath + k[n:]] = w


def _mergeable(base: dict, over: dict) -> bool:
    """Mappings of named fields merge; value mappings (keyed by dates or years)
    and mappings whose ``kind`` or ``dist`` changes replace the parent's."""
    if any(not isinstance(k, str) for k in (*base, *over)):
        return False
    return not any(tag in over and over[tag] != base.get(tag) for tag in ("kind", "dist"))


class _Merger:
    """Merges a parent's data (``base``) with a child's (``over``), with provenance."""

    def __init__(self, bprov: _Prov, oprov: _Prov, issues: list[_Issue]) -> None:
        self.bprov, self.oprov, self.issues = bprov, oprov, issues
        self.prov: _Prov = {}

    def merge(self, base: Any, over: Any, bpath: tuple = (), opath: tuple = (), mpath: tuple = ()) -> Any:
        if not (isinstance(base, dict) and isinstance(over, dict) and _mergeable(base, over)):
            _copy_prov(self.oprov, opath, self.prov, mpath)
            return over
        self.prov[mpath] = self.oprov.get(opath) or self.bprov.get(bpath)  # type: ignore[assignment]
        out = dict(base)
        for k in base:
            if k not in over:
                _copy_prov(self.bprov, bpath + (k,), self.prov, mpath + (k,))
        for k, v in over.items():
            if k == "investments" and not mpath:
                out[k] = self.investments(base.get(k), v, bpath + (k,), opath + (k,), mpath + (k,))
            elif k in base:
                out[k] = self.merge(base[k], v, bpath + (k,), opath + (k,), mpath + (k,))
            else:
                out[k] = v
                _copy_prov(self.oprov, opath + (k,), self.prov, mpath + (k,))
        return out

    def _issue(self, opath: tuple, message: str) -> None:
        w = self.oprov.get(opath) or next((self.oprov[opath[:n]] for n in range(len(opath), -1, -1)
                                           if opath[:n] in self.oprov), None)
        if w is not None:
            self.issues.append(_Issue(_Where(w.file, w.line, opath), message))

    def investments(self, base: Any, over: Any, bpath: tuple, opath: tuple, mpath: tuple) -> Any:
        if base is None:
            base = []
        if not isinstance(base, list) or not isinstance(over, list):
            _copy_prov(self.oprov, opath, self.prov, mpath)
            return over

        def ident(item: Any) -> str | None:
            i = item.get("id") if isinstance(item, dict) else None
            return i if isinstance(i, str) else None

        order: list[list] = []  # [base index | None, child index | None]
        by_id: dict[str, list] = {}
        for i, item in enumerate(base):
            entry = [i, None]
            order.append(entry)
            if ident(item) is not None:
                by_id.setdefault(ident(item), entry)  # a parent's duplicate is reported by check_references
        first: dict[str, int] = {}
        for j, item in enumerate(over):
            k = ident(item)
            if k is not None and k in first:
                self._issue(opath + (j, "id"), f"duplicate investment id '{k}' (also at investments.{first[k]}); "
                            "expected each id once (an id also in the parent overrides the parent's)")
                continue
            if k is not None:
                first[k] = j
            if isinstance(item, dict) and "remove" in item:
                if item["remove"] is not True:
                    self._issue(opath + (j, "remove"),
                                f"expected remove: true (to drop the inherited investment), got {_got(item['remove'])}")
                elif k is None or k not in by_id:
                    close = difflib.get_close_matches(k or "", list(by_id), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    self._issue(opath + (j, "id"), f"remove: true, but no inherited investment has id "
                                f"'{k}'{hint}; expected one of: {', '.join(by_id) or '(none)'}")
                else:
                    order.remove(by_id.pop(k))
                continue
            if k is not None and k in by_id:
                by_id[k][1] = j
            else:
                entry = [None, j]
                order.append(entry)
                if k is not None:
                    by_id[k] = entry
        self.prov[mpath] = self.oprov.get(opath) or self.bprov.get(bpath)  # type: ignore[assignment]
        out = []
        for n, (bi, oj) in enumerate(order):
            if oj is None:
                out.append(base[bi])
                _copy_prov(self.bprov, bpath + (bi,), self.prov, mpath + (n,))
            elif bi is None:
                out.append(over[oj])
                _copy_prov(self.oprov, opath + (oj,), self.prov, mpath + (n,))
            else:
                out.append(self.merge(base[bi], over[oj], bpath + (bi,), opath + (oj,), mpath + (n,)))
        return out


def _load_chain(path: Path, seen: tuple[Path, ...] = (), shown: tuple[Path, ...] = ()
                ) -> tuple[dict, _Prov, list[Path], list[_Issue]]:
    """Read a file and its ``extends`` chain: merged data, provenance, chain (child first), issues."""
    resolved = path.resolve()
    data, prov, issues = _read_yaml(path)
    if "extends" not in data:
        return data, prov, [path], issues
    parent = data.pop("extends")
    w = prov.get(("extends",))
    at = f"{path}:{w.line}" if w else str(path)
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError([f"{at}: extends: expected the file name of one parent scenario, got {_got(parent)}"])
    parent_path = path.parent / parent
    if parent_path.resolve() in (*seen, resolved):
        chain = " -> ".join(str(p) for p in (*shown, path, parent_path))
        raise ScenarioError([f"{at}: extends: '{parent}' closes a cycle ({chain}); expected a chain of parents "
                             "that ends in a file without extends"])
    if not parent_path.is_file():
        raise ScenarioError([f"{at}: extends: parent file '{parent}' not found (looked for {parent_path}; "
                             "expected a path relative to the folder of the file that extends)"])
    base, bprov, chain, bissues = _load_chain(parent_path, (*seen, resolved), (*shown, path))
    m = _Merger(bprov, prov, issues)
    merged = m.merge(base, data)
    return merged, m.prov, [path, *chain], [*bissues, *issues]


def load_raw(path: Path, _seen: tuple[Path, ...] = ()) -> tuple[dict, dict[tuple, int], list[Path]]:
    """Read a scenario file and its ``extends`` chain; return the merged mapping,
    the line of every path written in the child file, and the chain of files
    (child first)."""
    path = Path(path)
    data, prov, chain, _ = _load_chain(path, _seen)
    lines = {p: w.line for p, w in prov.items() if w.file == path and w.line is not None}
    return data, lines, chain


# ------------------------------------------------------ schema error messages


def _strip(tp: Any) -> tuple[Any, str | None]:
    """Unwrap Annotated: (inner type, discriminator or None)."""
    disc = None
    while get_origin(tp) is Annotated:
        args = get_args(tp)
        for meta in args[1:]:
            if isinstance(meta, FieldInfo) and isinstance(meta.discriminator, str):
                disc = meta.discriminator
        tp = args[0]
    return tp, disc


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, UnionType)


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _branches(tp: Any) -> list:
    return [a for a in get_args(tp) if a is not type(None)]


def _tags(branches: list, disc: str) -> list[str]:
    out = []
    for b in branches:
        b, _ = _strip(b)
        if _is_model(b) and disc in b.model_fields:
            out.extend(str(t) for t in get_args(b.model_fields[disc].annotation))
    return out


def _match_label(label: Any, branches: list) -> Any:
    """The union branch pydantic names ``label`` ('float', 'dict[date,float]', 'tagged-union[...]', ...)."""
    for b in branches:
        inner, disc = _strip(b)
        origin = get_origin(inner)
        if not isinstance(label, str):
            continue
        if label == getattr(inner, "__name__", None):
            return b
        if (origin is dict and label.startswith("dict[")) or (origin is list and label.startswith("list[")):
            return b
        if _is_union(inner) and label.startswith("tagged-union["):
            return b
        if _is_model(inner) and re.search(rf"\b{inner.__name__}\b", label):
            return b
    return None


def _preferred(branches: list, value: Any) -> Any:
    """The branch the user evidently meant, judged by the shape of the value."""
    for b in branches:
        inner, _ = _strip(b)
        origin = get_origin(inner)
        if isinstance(value, dict) and (origin is dict or _is_model(inner) or _is_union(inner)):
            return b
        if isinstance(value, list) and origin is list:
            return b
        if isinstance(value, (int, float)) and not isinstance(value, bool) and inner in (float, int):
            return b
        if isinstance(value, str) and inner is str:
            return b
    return None


@dataclass
class _Walk:
    """A pydantic error location resolved against the schema and the data."""

    path: list = dc_field(default_factory=list)  # keys and indices as in the data
    unions: list = dc_field(default_factory=list)  # (path, branches, branch taken, value there)
    tp: Any = None  # the type expected at the end of the path
    disc: str | None = None  # its discriminator, for a tagged union
    owner: Any = None  # the model whose field the last key names
    field: FieldInfo | None = None
    key_error: bool = False  # the last key itself is invalid (e.g. not a date)
    below: int = 0  # how many keys or indices the path goes below the last model field
    value: Any = None


def _find_key(mapping: Any, part: Any) -> Any:
    if not isinstance(mapping, dict) or part in mapping:
        return part
    return next((k for k in mapping if repr(k) == part or str(k) == part), part)


def _walk(loc: tuple, data: Any, root: Any = None) -> _Walk:
    w = _Walk(tp=root or Scenario, value=data)
    i = 0
    while i < len(loc):
        part = loc[i]
        tp, disc = _strip(w.tp)
        disc = disc or w.disc
        w.disc = None
        if _is_model(tp):
            w.owner, w.field = tp, tp.model_fields.get(part) if isinstance(part, str) else None
            w.below = -1
            key = _find_key(w.value, part)
            w.path.append(key)
            w.below += 1
            w.value = w.value.get(key) if isinstance(w.value, dict) else None
            w.tp = w.field.annotation if w.field else None
            w.disc = w.field.discriminator if w.field and isinstance(w.field.discriminator, str) else None
            i += 1
        elif _is_union(tp):
            branches = _branches(tp)
            if len(branches) == 1:
                w.tp = branches[0]
                continue
            if disc:
                branch = next((b for b in branches if part in _tags([b], disc)), None)
                if branch is None:
                    w.tp = None
                    continue
                w.tp = branch
            else:
                branch = _match_label(part, branches)
                w.unions.append((tuple(w.path), branches, branch, w.value))
                w.tp = branch
            i += 1
        elif get_origin(tp) is dict:
            kt, vt = get_args(tp)
            key = _find_key(w.value, part)
            w.path.append(key)
            w.below += 1
            if i + 1 < len(loc) and loc[i + 1] == "[key]":
                w.key_error, w.tp, w.value = True, kt, key
                i += 2
            else:
                w.value = w.value.get(key) if isinstance(w.value, dict) else None
                w.tp = vt
                i += 1
        elif get_origin(tp) is list:
            w.path.append(part)
            w.below += 1
            ok = isinstance(w.value, list) and isinstance(part, int) and 0 <= part < len(w.value)
            w.value = w.value[part] if ok else None
            w.tp = get_args(tp)[0]
            i += 1
        else:
            w.path.append(part)
            w.below += 1
            w.tp, w.value = None, None
            i += 1
    w.tp, d = _strip(w.tp)
    w.disc = d or w.disc
    return w


_NOUNS = {"kind": "node kind", "dist": "distribution"}


def _describe(tp: Any, *, node_ids: bool = False, disc: str | None = None) -> str:
    """What a value of this type looks like, in the words of a scenario file."""
    tp, d = _strip(tp)
    disc = d or disc
    origin = get_origin(tp)
    if tp is float:
        return "a number"
    if tp is int:
        return "a whole number"
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a node id" if node_ids else "a text"
    if tp is date:
        return "an ISO date (YYYY-MM-DD)"
    if origin is Literal:
        return "one of: " + ", ".join(str(a) for a in get_args(tp))
    if origin is list:
        item, _ = _strip(get_args(tp)[0])
        return {float: "a list of numbers", str: "a list of texts"}.get(item, "a list")
    if origin is dict:
        kt, vt = get_args(tp)
        key = {date: "ISO date", int: "year"}.get(kt, "name")
        value = {float: "number"}.get(vt, "...")
        return f"a mapping {{{key}: {value}}}"
    if _is_union(tp):
        branches = _branches(tp)
        if disc:
            tags = "|".join(_tags(branches, disc))
            noun = {"kind": "a node mapping", "dist": "a distribution mapping"}.get(disc, "a mapping")
            return f"{noun} {{{disc}: {tags}, ...}}"
        ids = any(_strip(b)[0] is ChoiceSpec for b in branches)
        return " or ".join(_describe(b, node_ids=ids) for b in branches)
    if tp is ChoiceSpec:
        return "a choice {choice: {option: [node ids], ...}, policy: ..., shares: ...}"
    if _is_model(tp):
        required = [k for k, f in tp.model_fields.items() if f.is_required()]
        return "a mapping {" + ", ".join(f"{k}: ..." for k in required) + (", ...}" if required else "...}")
    return "a valid value"


def _got(v: Any) -> str:
    if v is None:
        return "nothing (an empty value)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (int, date)):
        return str(v)
    if isinstance(v, str):
        return repr(v if len(v) <= 60 else v[:57] + "...")
    if isinstance(v, list):
        text = ", ".join(str(x) for x in v)
        return f"a list [{text}]" if len(text) <= 50 and all(not isinstance(x, (dict, list)) for x in v) \
            else f"a list of {len(v)} items"
    if isinstance(v, dict):
        return "a mapping"
    return repr(v)


def _bounds(f: FieldInfo | None) -> str:
    out = []
    for m in getattr(f, "metadata", []):
        for attr, op in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            if getattr(m, attr, None) is not None:
                out.append(f" {op} {_got(getattr(m, attr))}")
    return "".join(out)


def _close(word: Any, options: list[str]) -> str:
    close = difflib.get_close_matches(str(word), options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def did_you_mean(word: Any, options: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or an empty string."""
    return _close(word, options)


def _fields_of(model: Any) -> list[str]:
    names = list(model.model_fields)
    return [*names, "extends"] if model is Scenario else names


_AT_FIELD = {
    ("nodes",): "a mapping {node id: {kind: port|sea_link|rail_line|pipeline|border, ...}}",
    ("streams",): "a mapping {stream id: {commodity: ..., volume_mt_per_year: ..., shipment_t: ..., route: [...]}}",
    ("investments",): "a list of investments (- id: ..., node: ..., field: ..., date: ...)",
    ("disruptions",): "a list of disruptions (- node: ..., start: ..., end: ...)",
}


# What a value is, where the type alone says too little: (model, field, depth below the field).
_EXPECT_AT = {
    ("ChoiceSpec", "choice", 0): "a mapping {option: [node ids], ...} with at least two options",
    ("ChoiceSpec", "choice", 1): "a list of node ids",
    ("ChoiceSpec", "choice", 2): "a node id",
    ("StreamSpec", "route", 0): "a list of node ids and choices",
    ("Investment", "tags", 0): "a list of tags (texts)",
    ("Investment", "node", 0): "a node id",
    ("OperationalDelay", "node", 0): "a node id",
    ("Disruption", "node", 0): "a node id",
    ("ProjectDelay", "match", 0): "an investment id or tag",
}


def _expected(w: _Walk, path: tuple) -> str:
    if path in _AT_FIELD:
        return _AT_FIELD[path]
    if w.owner is not None and w.field is not None:
        name = next((k for k, f in w.owner.model_fields.items() if f is w.field), None)
        hit = _EXPECT_AT.get((w.owner.__name__, name, w.below))
        if hit:
            return hit
    return _describe(w.tp, disc=w.disc)


def _explain(e: dict, w: _Walk) -> tuple[tuple, str]:
    """(field path as in the data, message saying what was expected) for one pydantic error."""
    t, ctx, path = e["type"], e.get("ctx") or {}, tuple(w.path)
    inp = e.get("input")
    if t in ("extra_forbidden", "invalid_key") and w.owner is not None:
        names = _fields_of(w.owner)
        return path, f"unknown field '{path[-1]}'{_close(path[-1], names)}; expected one of: {', '.join(names)}"
    if t == "missing":
        return path, f"required field is missing; expected {_expected(w, path)}{_bounds(w.field)}"
    if t in ("union_tag_invalid", "union_tag_not_found"):
        disc = w.disc or str(ctx.get("discriminator", "")).strip("'")
        tags = _tags(_branches(w.tp), disc) if _is_union(w.tp) else []
        tags = tags or [x.strip(" '") for x in str(ctx.get("expected_tags", "")).split(",")]
        if t == "union_tag_not_found":
            return path + (disc,), f"required field is missing; expected one of: {', '.join(tags)}"
        tag = inp.get(disc) if isinstance(inp, dict) else ctx.get("tag")
        if not isinstance(tag, str):
            return path + (disc,), f"expected one of: {', '.join(tags)}, got {_got(tag)}"
        return path + (disc,), (f"unknown {_NOUNS.get(disc, disc)} {_got(tag)}{_close(tag, tags)}; "
                                f"expected one of: {', '.join(tags)}")
    if t in ("value_error", "assertion_error"):
        err = ctx.get("error")
        msg = str(err) if err is not None else e["msg"].removeprefix("Value error, ")
        at = getattr(err, "at", ())
        if _is_model(w.tp) and w.tp.__module__.endswith("distributions") and isinstance(inp, dict):
            msg += " (got " + ", ".join(f"{k} {_got(v)}" for k, v in inp.items() if k != "dist") + ")"
        return path + tuple(at), msg
    if w.key_error:
        what = "a name (text; quote a name that looks like a number or a date)" if w.tp is str else _describe(w.tp)
        return path, f"expected {what} as key, got {_got(path[-1])}"
    if t == "literal_error":
        options = [x.strip(" '") for x in re.split(r",| or ", str(ctx.get("expected", ""))) if x.strip(" '")]
        return path, f"expected one of: {', '.join(options)}, got {_got(inp)}{_close(inp, options)}"
    if t == "too_short":
        return path, f"expected at least {ctx.get('min_length', 1)} item(s), got {ctx.get('actual_length', 0)}"
    bound = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="),
             "less_than": ("lt", "<"), "less_than_equal": ("le", "<=")}.get(t)
    if bound:
        return path, f"expected a number {bound[1]} {_got(ctx.get(bound[0]))}, got {_got(inp)}"
    expected = _expected(w, path)
    if w.tp is not None and expected != "a valid value":
        detail = f" ({ctx['error']})" if isinstance(ctx.get("error"), str) and t.startswith(("date", "datetime")) else ""
        return path, f"expected {expected}, got {_got(inp)}{detail}"
    return path, f"{e['msg']} (got {_got(inp)})"


def _explain_all(errors: list[dict], data: Any, root: Any = None) -> list[tuple[tuple, str]]:
    """Messages for a batch of pydantic errors. Where the value could be one of
    several types (a number or a dated mapping; a node id or a choice), report
    only the errors of the type the value evidently is; when it is none of them,
    say so once instead of once per type."""
    walks = [(e, _walk(tuple(e["loc"]), data, root)) for e in errors]
    decided: dict[tuple, tuple] = {}
    for _, w in walks:
        for upath, branches, _, value in w.unions:
            decided.setdefault(upath, (branches, _preferred(branches, value), value))
    out: list[tuple[tuple, str]] = []
    covered: set[tuple] = set()
    for e, w in walks:
        for upath, branches, branch, _ in w.unions:
            pref = decided[upath][1]
            if pref is None or branch is not pref:
                break
        else:
            out.append(_explain(e, w))
            covered.update(u[0] for u in w.unions)
            continue
        if pref is None and upath not in covered:
            covered.add(upath)
            ids = any(_strip(b)[0] is ChoiceSpec for b in branches)
            choices = " or ".join(_describe(b, node_ids=ids) for b in branches)
            out.append((upath, f"expected {choices}, got {_got(decided[upath][2])}"))
    for upath, (branches, pref, value) in decided.items():
        if upath not in covered:  # safety net: no error left for this union
            out.append((upath, f"expected {' or '.join(_describe(b) for b in branches)}, got {_got(value)}"))
    seen: set = set()
    return [p for p in out if not (p in seen or seen.add(p))]


# -------------------------------------------------- validation in one pass

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


def _unit(loc: tuple) -> tuple:
    """The part of a scenario an error makes unusable: a node, a stream, an item, a field."""
    if not loc:
        return ()
    if loc[0] in ("nodes", "streams", "investments", "disruptions"):
        return tuple(loc[:2])
    if loc[0] == "delays" and len(loc) >= 3 and loc[1] in ("projects", "operational"):
        return tuple(loc[:3])
    if loc[0] == "delays":
        return tuple(loc[:2])
    return tuple(loc[:1])


def _set_aside(work: dict, units: set[tuple], aside: _SetAside) -> bool:
    drop: dict[tuple, set[int]] = {}
    for u in units:
        top = u[0]
        if len(u) == 1:
            if top in ("start_date", "end_date"):
                work["start_date"], work["end_date"] = date.min, date.max  # no horizon checks
            elif top == "name":
                work["name"] = "?"
            elif top == "nodes":
                work["nodes"], aside.all_nodes = {}, True
            elif top == "streams":
                work["streams"], aside.streams = {}, True
            elif top == "investments":
                work["investments"], aside.all_investments = [], True
            elif top == "disruptions":
                work["disruptions"] = []
            else:
                work.pop(top, None)
        elif top in ("nodes", "streams"):
            if isinstance(work.get(top), dict):
                work[top].pop(u[1], None)
            if top == "nodes" and isinstance(u[1], str):
                aside.nodes.add(u[1])
            else:
                aside.streams = True
        elif top == "delays" and len(u) == 2:
            if isinstance(work.get("delays"), dict):
                work["delays"].pop(u[1], None)
        elif isinstance(u[-1], int):
            drop.setdefault(u[:-1], set()).add(u[-1])
        else:
            return False
    for sec, idx in drop.items():
        items = work["investments"] if sec == ("investments",) else \
            work["disruptions"] if sec == ("disruptions",) else work["delays"][sec[1]]
        if sec == ("investments",):
            for i in idx:
                inv = items[i] if isinstance(items[i], dict) else {}
                tags = inv.get("tags") if isinstance(inv.get("tags"), list) else []
                aside.matches.update(t for t in [inv.get("id"), *tags] if isinstance(t, str))
        kept = aside.index.get(sec, list(range(len(items))))
        aside.index[sec] = [orig for j, orig in enumerate(kept) if j not in idx]
        items[:] = [x for j, x in enumerate(items) if j not in idx]
    return True


def _validate(data: dict) -> tuple[Scenario | None, list[tuple[tuple, str]], _SetAside]:
    """Validate the schema; on errors, set the broken parts aside and validate
    the rest, so that every independent problem is found in one pass."""
    work = copy.deepcopy(data)
    aside = _SetAside()
    problems: list[tuple[tuple, str]] = []
    for _ in range(10):
        try:
            return Scenario.model_validate(work), problems, aside
        except ValidationError as err:
            errors = err.errors()
            problems.extend((aside.original(loc), msg) for loc, msg in _explain_all(errors, work))
            units = {_unit(tuple(e["loc"])) for e in errors}
            if () in units or not _set_aside(work, units, aside):
                break
    return None, problems, aside


def _locate(loc: tuple, prov: _Prov, requested: Path) -> tuple[_Where, tuple]:
    """Where a merged-data path was written, and the path as written there."""
    for n in range(len(loc), -1, -1):
        w = prov.get(tuple(loc[:n]))
        if w is not None:
            return w, (*w.path, *loc[n:])
    return _Where(requested, None, ()), tuple(loc)


def _format(where: _Where, path: tuple, message: str, requested: Path) -> str:
    dotted = ".".join(str(p) for p in path) or "(top level)"
    at = f"{where.file}:{where.line}" if where.line else str(where.file)
    note = "" if where.file == requested else f" [inherited by {requested} through extends]"
    return f"{at}: {dotted}: {message}{note}"


@dataclass
class YamlDoc:
    """A YAML file read with the line of every value, for messages that say
    ``FILE:LINE: field.path: what was expected`` (used for sweep files)."""

    path: Path
    data: dict
    prov: _Prov
    issues: list[str]

    def problem(self, loc: tuple, message: str) -> str:
        where, shown = _locate(loc, self.prov, self.path)
        return _format(where, shown, message, self.path)


def read_yaml_doc(path: str | Path, kind: str, fields: str) -> YamlDoc:
    """Read one YAML file (no ``extends``); ScenarioError on a missing file or bad YAML."""
    path = Path(path)
    data, prov, issues = _read_yaml(path, kind, fields)
    return YamlDoc(path, data, prov, [_format(i.where, i.where.path, i.message, path) for i in issues])


def validate_doc(model: type[BaseModel], doc: YamlDoc, loc: tuple = ()) -> tuple[Any, list[str]]:
    """Validate ``doc.data`` (or the part at ``loc``) against a pydantic model:
    (the instance or None, located one-line problems in the scenario style)."""
    data = doc.data
    for part in loc:
        data = data[part]
    try:
        return model.model_validate(data), []
    except ValidationError as err:
        return None, [doc.problem(loc + tuple(p), msg) for p, msg in _explain_all(err.errors(), data, model)]


def scenario_problems(data: dict) -> tuple[Scenario | None, list[tuple[tuple, str]]]:
    """Every problem of a scenario mapping (schema, references, routes) as
    (field path, message), without files: for scenarios made in memory (sweep points)."""
    scenario, found, aside = _validate(data)
    if scenario is not None:
        found += [(aside.original(loc), msg) for loc, msg in check_references(scenario, _aside=aside)
                  + check_routes(scenario)]
    return (scenario if not found else None), found


def load_scenario(path: str | Path) -> Scenario:
    """Load, merge ``extends``, validate schema, references and routes; raise
    ScenarioError listing every problem found, one line each."""
    path = Path(path)
    try:
        data, prov, _, issues = _load_chain(path)
    except ScenarioError as e:  # a parent's own mistake: say through which file it came
        raise ScenarioError([p if p.startswith(str(path)) else f"{p} [in a parent of {path} through extends]"
                             for p in e.problems]) from None
    problems = [_format(i.where, i.where.path, i.message, path) for i in issues]
    scenario, schema, aside = _validate(data)
    found = list(schema)
    if scenario is not None:
        refs = check_references(scenario, _aside=aside) + check_routes(scenario)
        found += [(aside.original(loc), msg) for loc, msg in refs]
    for loc, msg in found:
        where, shown = _locate(loc, prov, path)
        problems.append(_format(where, shown, msg, path))
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return scenario  # type: ignore[return-value]


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
        return f"unknown node id '{node}'{_close(node, sorted(ids))}; expected one of: {known}"

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
                        f"{_close(inv.field, allowed)}; expected one of: {', '.join(allowed) or '(none)'}"))
        elif inv.field != "opening" and getattr(spec, inv.field, None) is None:
            used = [f for f in allowed if f != "opening" and getattr(spec, f, None) is not None]
            out.append((loc + ("field",), f"node '{inv.node}' does not use {inv.field} (it gives its capacity "
                        f"another way); expected one of: {', '.join(used)}"))

    matches = set(inv_ids) | {t for inv in s.investments for t in inv.tags}
    for i, d in enumerate(s.delays.projects):
        if d.match not in matches and d.match not in aside.matches and not aside.all_investments:
            out.append((("delays", "projects", i, "match"), f"no investment id or tag '{d.match}'"
                        f"{_close(d.match, sorted(matches))}; expected one of: {', '.join(sorted(matches)) or '(none)'}"))
    for i, d in enumerate(s.delays.operational):
        loc = ("delays", "operational", i)
        if not exists(d.node):
            out.append((loc + ("node",), unknown(d.node)))
        elif d.node in s.nodes:
            allowed = sorted(DURATION_FIELDS_BY_KIND[s.nodes[d.node].kind])
            if d.field not in allowed:
                out.append((loc + ("field",), f"'{d.field}' is not a duration of a {s.nodes[d.node].kind}"
                            f"{_close(d.field, allowed)}; expected one of: {', '.join(allowed)}"))
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


def duration(spec: Any) -> Any:
    """A scenario duration as a Distribution object (numbers are fixed)."""
    return as_distribution(spec) if spec is not None else None


def scenario_json_schema() -> dict:
    """JSON Schema of a scenario file, for editors."""
    schema = Scenario.model_json_schema()
    schema["properties"]["extends"] = {"type": "string", "description": "Parent scenario file to override"}
    return schema
