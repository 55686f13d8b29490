"""What one scenario changes against another: the resolved inputs that differ, and the
nodes they touch (for the report's "what changed" table and its plain-language answer).

Both scenarios are compared after ``extends`` is resolved, field by field; lists of
things with an ``id`` (investments) are matched by id, so one investment moved is one
row, not a shifted list.
"""

from __future__ import annotations

from typing import Any, Iterator

from model.scenario.schema import Scenario

IGNORED = ("name", "description")
"""Fields that name a scenario rather than change what it simulates."""


def _flat(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from _flat(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list) and value and all(isinstance(x, dict) and "id" in x for x in value):
        for x in value:
            yield from _flat(x, f"{path}[{x['id']}]")
    else:
        yield path, value


def _text(value: Any, width: int = 80) -> str:
    text = "(not set)" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _investment_text(i: dict) -> str:
    return f"{i['node']}.{i['field']} {i['change']} {i['value']:g} on {i['date']}"


def changed_inputs(reference: Scenario, other: Scenario) -> list[tuple[str, str, str]]:
    """(field path, value in the reference, value in the other) for every resolved input
    that differs, in path order; an investment only one of them has is one row; values
    shortened to 80 characters."""
    da, db = (s.model_dump(mode="json", exclude=set(IGNORED)) for s in (reference, other))
    a, b = dict(_flat(da)), dict(_flat(db))
    ia, ib = ({i["id"]: i for i in d["investments"]} for d in (da, db))
    rows = []
    for iid in sorted(set(ia) ^ set(ib)):  # added or removed whole: one row each
        rows.append((f"investments[{iid}]", _investment_text(ia[iid]) if iid in ia else "(none)",
                     _investment_text(ib[iid]) if iid in ib else "(none)"))
    whole = tuple(f"investments[{iid}]" for iid in set(ia) ^ set(ib))
    rows += [(p, _text(a.get(p)), _text(b.get(p))) for p in sorted(set(a) | set(b))
             if a.get(p) != b.get(p) and p != "investments" and not p.startswith(whole or ("\0",))]
    return sorted(rows)


def touched_nodes(reference: Scenario, other: Scenario) -> set[str]:
    """Nodes whose inputs, investments, delays or disruptions differ between the two."""
    invs = {i.id: i for s in (reference, other) for i in s.investments}
    out: set[str] = set()
    for path, _, _ in changed_inputs(reference, other):
        head = path.split(".")[0]
        if head == "nodes":
            out.add(path.split(".")[1])
        elif head.startswith("investments[") and head[12:-1] in invs:
            out.add(invs[head[12:-1]].node)
    delays = {(d.match, d.months) for d in reference.delays.projects} ^ {(d.match, d.months) for d in other.delays.projects}
    out |= {i.node for m, _ in delays for i in invs.values() if m == i.id or m in i.tags}
    disruptions = ({(d.node, d.start, d.end, d.capacity_factor) for d in reference.disruptions}
                   ^ {(d.node, d.start, d.end, d.capacity_factor) for d in other.disruptions})
    return out | {d[0] for d in disruptions}
