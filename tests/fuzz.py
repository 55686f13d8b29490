"""Seeded fuzzing of scenario and sweep files: what ``validate`` accepts, the command can do.

Mutants are copies of the library scenarios (``scenarios/*.yaml``, ``extends``
resolved and cut to their first year, so that an accepted one runs in seconds) with
one to three mutations each: type swaps; NaN, infinite, huge, tiny, zero and negative
numbers, and numbers at or near a limit; deleted and duplicated keys and list items; bad dates; broken references
(node ids, extends); hostile names; and, on the text, alias bombs, deep nesting,
duplicated lines, tabs and truncation. Mutant ``i`` of seed ``s`` is always the same.

Sweep mutants are copies of the library's sweeps on a cut base scenario (their measures moved
to the cut's year, small designs and two replications), mutated the same ways and in their own
(designs, parameters, measures, expectations). Scenario mutants also get uncertain inputs and
appraisal values mutated or added (``uncertainty:``, ``appraisal:``).

Each mutant is validated in-process by the command line's own entry point
(``model.cli.main(["validate", FILE])``), stopped after ``HANG_S`` CPU seconds: it must
exit 0 or 2, never raise (a traceback) or hang, and every line of a refusal must be
``error: FILE[:LINE]: ...`` naming an existing file and a field path (or a problem of
the whole file). Accepted mutants are then run for one replication, as ``run`` does
(simulate, tables, summaries, printed results, capacity bound and sanity check,
folder written without plots), which must not raise; one with uncertain inputs runs two
replications (two draws), and one with one to three investments (a cut keeps those of its first
year: a mutation adds them) is also appraised (one replication, ``appraise`` as the command line
runs it). An accepted sweep mutant is run as
``sweep`` runs it (unless it has more than ``SWEEP_JOBS`` jobs: then it counts as validated only).

The test suite runs a bounded sample (``tests/test_fuzz.py``); the full campaign::

    python -m tests.fuzz --n 2000            # validation of 2,000 mutants, every accepted one run
    python -m tests.fuzz --n 200 --runs 20   # what CI does, roughly
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import math
import random
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "scenarios"
HANG_S = 10.0
"""A validation taking more CPU seconds than this is a hang."""
RUN_S = 600.0
"""A one-year, one-replication run taking more CPU seconds than this is reported as a hang."""
ERROR_LINE = re.compile(r"^error: (?P<file>.+?)(?::(?P<line>\d+))?: (?P<rest>.+)$")
WHOLE_FILE = ("YAML ", "the file", "expected a ", "cannot read", "a YAML value", "file not found", "extends: ")
"""How a message about a whole file (no field path) begins, after ``FILE[:LINE]: ``."""


# ------------------------------------------------------------------ corpus


def cut_to_one_year(data: dict) -> dict:
    """A resolved scenario mapping cut to its first year: end_date one year after
    start_date, and whatever is dated after that dropped (investments and the delays
    matching only them, disruptions, timeline steps, operational delays, uncertain
    inputs on dropped items)."""
    out = copy.deepcopy(data)
    start = out["start_date"]
    end = date(start.year + 1, start.month, min(start.day, 28))
    out["end_date"] = end
    out["investments"] = [i for i in out.get("investments", []) if i["date"] < end]
    ids = {i["id"] for i in out["investments"]} | {t for i in out["investments"] for t in i.get("tags", [])}
    delays = out.get("delays", {})
    delays["projects"] = [d for d in delays.get("projects", []) if d["match"] in ids]
    delays["operational"] = [d for d in delays.get("operational", []) if d.get("from_date") is None
                             or d["from_date"] < end]
    out["disruptions"] = [{**d, "end": min(d["end"], end)} for d in out.get("disruptions", []) if d["start"] < end]
    for spec in out["nodes"].values():
        for key, value in list(spec.items()):
            if isinstance(value, dict) and value and all(isinstance(k, date) for k in value):
                kept = {k: v for k, v in value.items() if k < end}
                spec[key] = kept or value[min(value)]
        if isinstance(spec.get("opening_date"), date) and spec["opening_date"] >= end:
            spec["opening_date"] = end - (end - start) / 2
    out["uncertainty"] = [u for u in out.get("uncertainty", []) if not u["path"].startswith(("investments.", "delays."))
                          or u["path"].split(".")[-2] in ids]
    return out


def corpus() -> list[tuple[str, dict]]:
    """(name, one-year mapping) of every library scenario, cut; each validates as a file."""
    from model.scenario.loader import load_raw, load_scenario

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(LIBRARY.glob("*.yaml")):
            data, _, _ = load_raw(path)
            cut = cut_to_one_year(data)
            f = Path(tmp) / path.name
            f.write_text(yaml.safe_dump(cut, sort_keys=False), encoding="utf-8")
            load_scenario(f)  # ScenarioError: the cut is wrong
            out.append((path.stem, cut))
    return out


SWEEP_JOBS = 40
"""An accepted sweep mutant with more jobs than this is validated, not run (a campaign stays hours short)."""


def sweep_corpus(sources: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """(name, mapping) of every library sweep made small for fuzzing: its base is the cut of its
    library base (written beside the mutants as ``base-NAME.yaml``), measures on the cut's year,
    designs of a few points, two replications."""
    cut = dict(sources)
    out = []
    for path in sorted((LIBRARY / "sweeps").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        base = Path(data["base"]).stem
        if base not in cut:
            continue
        year = cut[base]["start_date"].year
        data["base"] = f"base-{base}.yaml"
        data["replications"] = 2
        design = data.get("design", {"kind": "grid"})
        if design.get("kind") in ("lhs",):
            design["n"] = 4
        elif design.get("kind") in ("morris",):
            design["n"] = 2
        data["design"] = design
        for p in data["parameters"]:
            if p.get("values") is not None:
                p["values"] = p["values"][:2]
        for m in data["measures"]:
            if "year" in m:
                m["year"] = year
            if "years" in m:
                m["years"] = [year]
        data["expectations"] = [e for e in data.get("expectations", []) if "where" not in e]
        out.append((path.stem, data))
    return out


# ---------------------------------------------------------------- mutations

SPECIAL_NUMBERS: list[Any] = [math.nan, math.inf, -math.inf, 1e308, -1e308, 1e12, 10**30, -1, -0.5, 0, 1e-9,
                              2**63, 0.5, 3]
EXTREME_NUMBERS: list[Any] = [0, 0.0, 1e-6, 10, 31, 1000, 1e5, 438_000]
BAD_DATES: list[Any] = ["2024-13-45", "9999-12-31", "0001-01-01", "yesterday", date(9999, 12, 31), date(1, 1, 1),
                        date(2199, 1, 1), "", 20240101]
HOSTILE_NAMES: list[Any] = ["../../../tmp/x", "a\x00b", "..", "/etc/passwd", "x" * 500, "a/b", ".hidden", "ok-name"]


def _paths(data: Any, here: tuple = ()) -> Iterator[tuple]:
    """Every path (keys and list indices) in a nested mapping, containers included."""
    yield here
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, here + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, here + (i,))


def _get(data: Any, path: tuple) -> Any:
    for p in path:
        data = data[p]
    return data


def _set(data: Any, path: tuple, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _leaves(data: dict, test: Callable[[Any], bool]) -> list[tuple]:
    return [p for p in _paths(data) if p and test(_get(data, p))]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def m_number(rng: random.Random, data: dict) -> str:
    """A number replaced by NaN, an infinity, a huge, tiny, zero or negative one, or scaled."""
    paths = _leaves(data, _is_number)
    if not paths:
        return "number: none"
    p = rng.choice(paths)
    old = _get(data, p)
    new = rng.choice(SPECIAL_NUMBERS) if rng.random() < 0.5 else old * rng.choice([0, 0.1, 0.5, 2, 10, 100])
    _set(data, p, new)
    return f"number {'.'.join(map(str, p))}: {old!r} -> {new!r}"


def m_extreme(rng: random.Random, data: dict) -> str:
    """A number set to a value at or near a limit (often still valid: the engine must cope)."""
    paths = _leaves(data, _is_number)
    if not paths:
        return "extreme: none"
    p = rng.choice(paths)
    old, new = _get(data, p), rng.choice(EXTREME_NUMBERS)
    _set(data, p, new)
    return f"extreme {'.'.join(map(str, p))}: {old!r} -> {new!r}"


def m_type(rng: random.Random, data: dict) -> str:
    """A value replaced by one of another type."""
    p = rng.choice([q for q in _paths(data) if q])
    new = rng.choice(["text", 7, 2.5, True, None, [1, "a"], {"x": 1}, [], {}, date(2025, 1, 1)])
    _set(data, p, new)
    return f"type {'.'.join(map(str, p))} -> {new!r}"


def m_delete(rng: random.Random, data: dict) -> str:
    """A key deleted from a mapping, or an item from a list."""
    paths = [p for p in _paths(data) if p and isinstance(_get(data, p[:-1]), (dict, list))]
    p = rng.choice(paths)
    del _get(data, p[:-1])[p[-1]]
    return f"delete {'.'.join(map(str, p))}"


def m_duplicate_item(rng: random.Random, data: dict) -> str:
    """An item of a list duplicated (investments with the same id, a node twice in a route)."""
    paths = _leaves(data, lambda v: isinstance(v, list) and bool(v))
    if not paths:
        return "duplicate item: none"
    p = rng.choice(paths)
    items = _get(data, p)
    items.insert(rng.randrange(len(items) + 1), copy.deepcopy(rng.choice(items)))
    return f"duplicate item in {'.'.join(map(str, p))}"


def m_date(rng: random.Random, data: dict) -> str:
    """A date (or a date key of a timeline) replaced by a bad one, or start and end swapped."""
    if rng.random() < 0.15:
        data["start_date"], data["end_date"] = data["end_date"], data["start_date"]
        return "date: start and end swapped"
    paths = _leaves(data, lambda v: isinstance(v, date))
    timelines = _leaves(data, lambda v: isinstance(v, dict) and bool(v) and all(isinstance(k, date) for k in v))
    new = rng.choice(BAD_DATES)
    if timelines and rng.random() < 0.3:
        tl = _get(data, rng.choice(timelines))
        key = rng.choice(list(tl))
        tl[new if not isinstance(new, int) else str(new)] = tl.pop(key)
        return f"date key {key} -> {new!r}"
    p = rng.choice(paths)
    _set(data, p, new)
    return f"date {'.'.join(map(str, p))} -> {new!r}"


def m_reference(rng: random.Random, data: dict) -> str:
    """A reference broken: a node id in a route, investment, delay or disruption made
    unknown, a referenced node deleted, or an ``extends`` to a missing, outside or own file."""
    roll = rng.random()
    if roll < 0.15:
        data["extends"] = rng.choice(["no_such_parent.yaml", "/etc/passwd", "../../../../etc/hostname",
                                      "mutant.yaml", "/dev/zero", ["a.yaml"]])
        return f"extends -> {data['extends']!r}"
    if roll < 0.35 and data.get("nodes"):
        nid = rng.choice(list(data["nodes"]))
        del data["nodes"][nid]
        return f"reference: node {nid} deleted"
    ids = set(data.get("nodes", {}))
    paths = _leaves(data, lambda v: isinstance(v, str) and v in ids)
    if not paths:
        return "reference: none"
    p = rng.choice(paths)
    _set(data, p, _get(data, p) + "_x")
    return f"reference {'.'.join(map(str, p))} broken"


def m_name(rng: random.Random, data: dict) -> str:
    """A hostile or odd scenario name."""
    data["name"] = rng.choice(HOSTILE_NAMES)
    return f"name -> {data['name'][:20]!r}"


DISTRIBUTIONS: list[dict] = [{"dist": "uniform", "low": 0.5, "high": 1.5}, {"dist": "triangular", "low": 0.8, "mode": 1.0,
                              "high": 1.3}, {"dist": "lognormal", "mean": 1.0, "cv": 0.5},
                              {"dist": "normal", "mean": 1.0, "sd": 0.3}, {"dist": "normal", "mean": 2, "sd": 5},
                              {"dist": "uniform", "low": -5, "high": 5}, {"dist": "lognormal", "mean": 100, "cv": 3}]


def m_uncertainty(rng: random.Random, data: dict) -> str:
    """An uncertain input added on a number of the scenario (set or scale, integer or not, any
    distribution), or one of its inputs changed."""
    items = data.setdefault("uncertainty", [])
    if not isinstance(items, list):  # an earlier mutation made it something else
        return "uncertainty: not a list"
    entries = [u for u in items if isinstance(u, dict)]
    if entries and rng.random() < 0.4:
        u = rng.choice(entries)
        key = rng.choice([k for k in u if k != "path"] or ["dist"])
        u[key] = rng.choice([*SPECIAL_NUMBERS[:6], "normal", "scale", True, -1, 0])
        return f"uncertainty {u.get('path')}: {key} -> {u[key]!r}"
    paths = [p for p in _leaves(data, _is_number) if p[0] in ("nodes", "streams", "investments", "appraisal",
                                                              "weather")]
    if not paths:
        return "uncertainty: none"
    p = rng.choice(paths)
    named = []
    for part, parent in zip(p, [data] + [_get(data, p[:i]) for i in range(1, len(p))]):
        if isinstance(part, int) and isinstance(parent, list):  # a list item by its id (investments)
            item = parent[part]
            named.append(str(item.get("id") if isinstance(item, dict) else part))
        else:
            named.append(str(part))
    entry = {"path": ".".join(named), **rng.choice(DISTRIBUTIONS)}
    if rng.random() < 0.5:
        entry["apply"] = "scale"
    if rng.random() < 0.3:
        entry["integer"] = True
    items.append(entry)
    return f"uncertainty added: {entry}"


INVESTABLE = {"sea_link": "fleet", "port": "berths", "rail_line": "paths_per_day"}


def m_appraisal(rng: random.Random, data: dict) -> str:
    """An appraisal value made odd: a life of 0 or a tiny one, a rate, a profile, a margin; or an
    investment added inside the (cut) horizon, with a cost, so that ``appraise`` has one to rank."""
    all_nodes = data.get("nodes")
    nodes = [(nid, spec["kind"]) for nid, spec in (all_nodes.items() if isinstance(all_nodes, dict) else [])
             if isinstance(spec, dict) and spec.get("kind") in INVESTABLE]
    start = data.get("start_date")
    if nodes and isinstance(start, date) and isinstance(data.get("investments", []), list) and rng.random() < 0.5:
        nid, kind = rng.choice(nodes)
        inv = {"id": f"fuzz_{len(data.get('investments', []))}", "node": nid, "field": INVESTABLE[kind],
               "change": "add", "value": rng.choice([1, 2]), "date": date(start.year, 4, 1),
               "cost_musd": rng.choice([0, 5, 50, 1e5]), "tags": [rng.choice(["port_terminal", "vessel_order"])]}
        data.setdefault("investments", []).append(inv)
        return f"investment added: {inv['id']} on {nid}"
    a = data.setdefault("appraisal", {})
    if not isinstance(a, dict):
        return "appraisal: not a mapping"
    key, value = rng.choice([("asset_life_years", 0), ("asset_life_years", 1e-17), ("asset_life_years", 1),
                             ("discount_rate", 0.0), ("discount_rate", 1.5), ("sensitivity_rates", [0.0, 0.99]),
                             ("capex_profiles", {"rail_line": [0, 0]}), ("capex_profiles", {"x": [1.0] * 20}),
                             ("value_usd_per_t", {"containers": -1}), ("life_years", {"rail_line": 0.5}),
                             ("value_of_time_factor", 0), ("residual_value", "none"), ("capital_cost", "annualised")])
    a[key] = value
    return f"appraisal.{key} -> {value!r}"


def s_design(rng: random.Random, data: dict) -> str:
    """A sweep's design: another registered kind, an odd n, levels or seed."""
    d = data.setdefault("design", {})
    if not isinstance(d, dict):  # an earlier mutation made it something else
        return "design: not a mapping"
    roll = rng.random()
    if roll < 0.5:
        d.clear()
        d.update(rng.choice([{"kind": "grid"}, {"kind": "oat"}, {"kind": "lhs", "n": 3}, {"kind": "morris", "n": 2},
                             {"kind": "sobol", "n": 2}, {"kind": "sobol", "n": 3}, {"kind": "lhs"},
                             {"kind": "unknown"}, {"kind": "morris", "n": 2, "levels": 1}]))
    else:
        d[rng.choice(["n", "levels", "seed"])] = rng.choice([0, 1, 2, 3, 5, -1, 10**6, 2.5, "x"])
    return f"design -> {d}"


def s_parameter(rng: random.Random, data: dict) -> str:
    """A parameter repeated, pointed at another path, given dates or texts, or given bounds."""
    params = data.get("parameters")
    dicts = [p for p in params if isinstance(p, dict)] if isinstance(params, list) else []
    if not dicts:  # none left, or an earlier mutation made them something else
        return "parameter: none"
    p = rng.choice(dicts)
    roll = rng.random()
    if roll < 0.25:
        params.append(copy.deepcopy(p))
        return f"parameter {p.get('path')} twice"
    if roll < 0.5:
        p["path"] = rng.choice(["nodes.nowhere.fleet", "investments.x.date", "name", "start_date",
                                "delays.projects.new_tag.months", "streams", "nodes"])
        return f"parameter path -> {p['path']}"
    if roll < 0.75:
        for k in ("values", "range", "low", "high"):
            p.pop(k, None)
        p["values"] = rng.choice([["2025-01-01", "2026-06-30"], ["a", "b"], [1, "x"], [True, False], [None]])
        return f"parameter {p.get('path')} values -> {p['values']}"
    for k in ("values", "range", "low", "high"):
        p.pop(k, None)
    p["low"], p["high"] = rng.choice([(0, 1), (1, 0), (-1e9, 1e9), (0.5, 0.5)])
    return f"parameter {p.get('path')} bounds -> {p['low']}, {p['high']}"


def s_measure(rng: random.Random, data: dict) -> str:
    """A measure on another table, column, node or year, or named like a formula; an expectation
    on it changed."""
    ms = [m for m in data.get("measures") or [] if isinstance(m, dict)] \
        if isinstance(data.get("measures"), list) else []
    if not ms:  # none left, or an earlier mutation made them something else
        return "measure: none"
    m = rng.choice(ms)
    key, value = rng.choice([("table", "annual_nodes"), ("table", "nowhere"), ("column", "lost_t"),
                             ("column", "x"), ("year", 1900), ("node", "ferry"), ("stream", "x"),
                             ("agg", "max"), ("name", "=cmd"), ("scale", math.nan)])
    m[key] = value
    es = [e for e in data["expectations"] if isinstance(e, dict)] \
        if isinstance(data.get("expectations"), list) else []
    if es and rng.random() < 0.3:
        e = rng.choice(es)
        e["measure"] = m.get("name")
        e["op"], e["value"] = rng.choice([("==", 0), (">", math.inf), ("<", -1)])
        e.pop("monotone", None)
        e.pop("in", None)
    return f"measure {m.get('name')}: {key} -> {value!r}"


DATA_MUTATIONS: list[tuple[Callable[[random.Random, dict], str], float]] = [
    (m_number, 5.0), (m_extreme, 2.0), (m_type, 2.0), (m_delete, 2.0), (m_duplicate_item, 1.0), (m_date, 1.5),
    (m_reference, 1.5), (m_name, 0.5), (m_uncertainty, 1.5), (m_appraisal, 1.5),
]
SWEEP_MUTATIONS: list[tuple[Callable[[random.Random, dict], str], float]] = [
    (m_number, 3.0), (m_type, 1.5), (m_delete, 1.5), (m_duplicate_item, 0.5), (m_name, 0.3),
    (s_design, 2.0), (s_parameter, 2.0), (s_measure, 2.0),
]


def t_alias_bomb(rng: random.Random, text: str) -> tuple[str, str]:
    depth = rng.randint(3, 9)
    lines = ['lol0: &a0 ["lol"]'] + [f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]"
                                     for i in range(1, depth + 1)]
    return "\n".join(lines) + "\n" + text, f"alias bomb of depth {depth}"


def t_deep(rng: random.Random, text: str) -> tuple[str, str]:
    n = rng.choice([40, 60, 500, 30_000])
    return text + f"deep: {'[' * n}{']' * n}\n", f"nesting {n} deep"


def t_duplicate_line(rng: random.Random, text: str) -> tuple[str, str]:
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    lines.insert(i + 1, lines[i])
    return "\n".join(lines) + "\n", f"line {i + 1} duplicated"


def t_damage(rng: random.Random, text: str) -> tuple[str, str]:
    """Truncated text, a tab, or a stray character."""
    i = rng.randrange(max(len(text), 1))
    what = rng.choice(["truncate", "tab", "char"])
    if what == "truncate":
        return text[:i], f"truncated at {i}"
    return text[:i] + ("\t" if what == "tab" else rng.choice("[]{}:&*!|>%@`'\"")) + text[i:], f"{what} at {i}"


TEXT_MUTATIONS: list[tuple[Callable[[random.Random, str], tuple[str, str]], float]] = [
    (t_alias_bomb, 1.0), (t_deep, 1.0), (t_duplicate_line, 2.0), (t_damage, 2.0),
]


def _pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([f for f, _ in weighted], weights=[w for _, w in weighted])[0]


def mutant(sources: list[tuple[str, dict]], seed: int, i: int,
           sweeps: list[tuple[str, dict]] | None = None) -> tuple[str, list[str]]:
    """The text of mutant ``i`` and what was done to it (always the same for ``seed``, ``i``): a
    scenario, or (about one in four, when ``sweeps`` are given) a sweep."""
    rng = random.Random(seed * 1_000_003 + i)
    is_sweep = bool(sweeps) and rng.random() < 0.25
    name, data = rng.choice(sweeps if is_sweep else sources)  # type: ignore[arg-type]
    data = copy.deepcopy(data)
    done = [f"from {'sweep ' if is_sweep else ''}{name}"]
    for _ in range(rng.choices([1, 2, 3], weights=[6, 3, 1])[0]):
        try:
            done.append(_pick(rng, SWEEP_MUTATIONS if is_sweep else DATA_MUTATIONS)(rng, data))
        except (IndexError, KeyError, TypeError, ValueError) as e:  # nothing of that kind left to mutate
            done.append(f"skipped ({e.__class__.__name__})")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    if rng.random() < 0.15:
        text, what = _pick(rng, TEXT_MUTATIONS)(rng, text)
        done.append(what)
    return text, done


# ------------------------------------------------------------------ checks


class _TimeUp(Exception):
    pass


WALL_FACTOR = 10.0
"""A limit counts this process's CPU seconds (a loaded machine does not make a hang), and wall-clock
seconds up to WALL_FACTOR times it (a hang that waits without computing)."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise _TimeUp in this (main) thread after ``seconds`` of its CPU time, or ``WALL_FACTOR``
    times that of wall-clock time."""
    def on_alarm(signum: int, frame: Any) -> None:
        raise _TimeUp

    previous = {sig: signal.signal(sig, on_alarm) for sig in (signal.SIGALRM, signal.SIGPROF)}
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.setitimer(signal.ITIMER_REAL, seconds * WALL_FACTOR)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class Outcome:
    """What became of one mutant."""

    index: int
    path: Path
    done: list[str]
    verdict: str  # accepted, rejected, traceback, hang, unlocated, bad-exit
    detail: str = ""
    seconds: float = 0.0
    ran: str = ""  # for accepted ones that were run: ok, error, hang ("": not run)


def unlocated(lines: list[str], path: Path) -> list[str]:
    """Lines of a refusal that do not say ``error: FILE[:LINE]: field.path: ...`` (or
    a problem of the whole file) about an existing file."""
    bad = []
    for line in lines:
        m = ERROR_LINE.match(line)
        if not m or not (Path(m["file"]) == path or Path(m["file"]).is_file()):
            bad.append(line)
            continue
        rest = m["rest"]
        if not rest.startswith(WHOLE_FILE) and not re.match(r"^\S.*?: \S", rest):  # field.path: message
            bad.append(line)
    return bad


def validate_in_process(path: Path) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``validate FILE`` by the CLI's own entry point."""
    from model.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(path)])
    return code, out.getvalue(), err.getvalue()


def check_validation(index: int, path: Path, done: list[str]) -> Outcome:
    t0 = time.perf_counter()
    try:
        with _time_limit(HANG_S):
            code, _, err = validate_in_process(path)
    except _TimeUp:
        return Outcome(index, path, done, "hang", f"over {HANG_S:g} CPU s", time.perf_counter() - t0)
    except BaseException as e:  # noqa: BLE001 - any exception here is a traceback the user would see
        return Outcome(index, path, done, "traceback", f"{e.__class__.__name__}: {str(e)[:300]}",
                       time.perf_counter() - t0)
    seconds = time.perf_counter() - t0
    if code == 0:
        return Outcome(index, path, done, "accepted", "", seconds)
    lines = err.splitlines()
    if code != 2 or not lines:
        return Outcome(index, path, done, "bad-exit", f"exit {code}: {err[:300]}", seconds)
    bad = unlocated(lines, path)
    if bad:
        return Outcome(index, path, done, "unlocated", bad[0][:300], seconds)
    return Outcome(index, path, done, "rejected", lines[0][:200], seconds)


def run_one_replication(path: Path, out: Path, appraise: bool = False) -> None:
    """The command a mutant is for, as the command line runs it (its exit status must be 0):
    a scenario's replication (two, drawing its uncertain inputs, if it has any), printed with
    the checks, written without plots, then (``appraise``) its appraisal with one replication;
    a sweep run whole (if it has at most ``SWEEP_JOBS`` jobs)."""
    from model import api
    from model.cli import main

    if api.is_sweep_file(path):
        sw = api.load_sweep(path)
        if len(sw.points) * sw.spec.replications > SWEEP_JOBS:
            return
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
            code = main(["sweep", str(path), "--workers", "1", "-q", "--out", str(out)])
        if code != 0:
            raise RuntimeError(f"sweep exit {code}: {err.getvalue()[-300:]}")
        return
    s = api.load(path)
    res = api.run(s, replications=2 if s.uncertainty else 1, workers=1)
    api.results_text(res)
    res.write(out, plots=False)
    if appraise and 0 < len(s.investments) <= 3:  # a cut scenario's own are few: those a mutation added
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
            code = main(["appraise", str(path), "--replications", "1", "--workers", "1", "-q", "--out",
                         str(out) + "-appraise"])
        if code != 0:
            raise RuntimeError(f"appraise exit {code}: {err.getvalue()[-300:]}")


def check_run(outcome: Outcome, work: Path, appraise: bool = False) -> None:
    try:
        with _time_limit(RUN_S):
            run_one_replication(outcome.path, work / f"run-{outcome.index:05d}", appraise)
        outcome.ran = "ok"
    except _TimeUp:
        outcome.ran, outcome.detail = "hang", f"run over {RUN_S:g} s"
    except BaseException as e:  # noqa: BLE001
        outcome.ran, outcome.detail = "error", f"{e.__class__.__name__}: {str(e)[:300]}"


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> Counter:
        return Counter(o.verdict for o in self.outcomes)

    def run_counts(self) -> Counter:
        return Counter(o.ran for o in self.outcomes if o.ran)

    def failures(self) -> list[Outcome]:
        """Mutants that broke a rule: a traceback, a hang, a refusal without file and
        field, another exit status, or an accepted one whose run failed."""
        return [o for o in self.outcomes if o.verdict not in ("accepted", "rejected") or o.ran in ("error", "hang")]

    def summary(self) -> str:
        c, r = self.counts(), self.run_counts()
        return (f"{len(self.outcomes)} mutants in {self.seconds:.0f} s: {c['accepted']} accepted, {c['rejected']} "
                f"rejected, {c['traceback']} tracebacks, {c['hang']} hangs, {c['unlocated']} refusals without "
                f"file and field, {c['bad-exit']} other exits; runs of accepted ones: {r['ok']} ok, {r['error']} "
                f"errors, {r['hang']} hangs")


def campaign(n: int, seed: int = 0, runs: int | None = None, work: Path | None = None,
             log: Callable[[str], None] | None = None) -> Report:
    """Validate ``n`` mutants and run up to ``runs`` of the accepted ones (None: all)."""
    t0 = time.perf_counter()
    sources = corpus()
    sweeps = sweep_corpus(sources)
    report = Report()
    with contextlib.ExitStack() as stack:
        work = work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fuzz-")))
        folder = work / "mutants"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "pyproject.toml").write_text("")  # the mutants' project tree
        for name, data in sources:  # the bases of the sweep mutants
            (folder / f"base-{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        accepted = 0
        for i in range(n):
            text, done = mutant(sources, seed, i, sweeps)
            path = folder / f"mutant-{seed}-{i:05d}.yaml"
            path.write_text(text, encoding="utf-8")
            outcome = check_validation(i, path, done)
            report.outcomes.append(outcome)
            if outcome.verdict == "accepted" and (runs is None or sum(o.ran != "" for o in report.outcomes) < runs):
                accepted += 1
                check_run(outcome, work, appraise=True)
            if log and (outcome.verdict not in ("accepted", "rejected") or outcome.ran in ("error", "hang")):
                log(f"FAIL mutant {i} ({outcome.verdict} {outcome.ran}): {outcome.detail} <- {'; '.join(done)}")
    report.seconds = time.perf_counter() - t0
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=2000, help="mutants to validate (default 2,000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--runs", type=int, help="run at most this many accepted mutants (default: all)")
    p.add_argument("--keep", help="folder to keep the mutants and runs in (default: a temporary one)")
    args = p.parse_args(argv)
    report = campaign(args.n, args.seed, args.runs, Path(args.keep) if args.keep else None,
                      log=lambda s: print(s, flush=True))
    print(report.summary())
    return 1 if report.failures() else 0


if __name__ == "__main__":
    sys.exit(main())
