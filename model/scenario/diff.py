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


KEYS = ("id", "match", "node", "path")
"""What names an item of a list of things (an investment's id, a delay's match, a disruption's
node, an uncertain input's path): the first of these every item has, with no two items alike."""


def _key(items: list) -> str | None:
    if not items or not all(isinstance(x, dict) for x in items):
        return None
    for k in KEYS:
        values = [x.get(k) for x in items]
        if all(isinstance(v, str) and v for v in values) and len(set(values)) == len(values):
            return k
    return None


def _keyed(items: list) -> dict[str, dict] | None:
    """A list of things by their name (``_key``), or by position ("1", "2"...) when no field names them."""
    if not items or not all(isinstance(x, dict) for x in items):
        return None
    k = _key(items)
    return {str(x[k]): x for x in items} if k else {str(i): x for i, x in enumerate(items, 1)}


def _flat(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from _flat(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list) and (items := _keyed(value)) is not None:
        for name, x in items.items():
            yield f"{path}[{name}]", x
    else:
        yield path, value


def text(value: Any, width: int = 160) -> str:
    """A resolved input as a person reads it: "(not set)", "(none)" for an empty list, a
    thing's fields as "field: value, ...", a list of numbers comma-separated; at most
    ``width`` characters."""
    if value is None:
        out = "(not set)"
    elif isinstance(value, dict):
        out = ", ".join(f"{k}: {text(v, width)}" for k, v in value.items() if v not in (None, [], {})) or "(empty)"
    elif isinstance(value, list):
        out = "; ".join(text(v, width) for v in value) if value else "(none)"
    elif isinstance(value, float):
        out = f"{value:g}"
    else:
        out = str(value)
    return out if len(out) <= width else out[: width - 1] + "…"


def _investment_text(i: dict) -> str:
    return f"{i['node']}.{i['field']} {i['change']} {i['value']:g} on {i['date']}"


def _item_text(path: str, item: dict) -> str:
    if path.startswith("investments["):
        return _investment_text(item)
    k = _key([item])
    return text({f: v for f, v in item.items() if f != k})


def changed_inputs(reference: Scenario, other: Scenario) -> list[tuple[str, str, str]]:
    """(field path, value in the reference, value in the other) for every resolved input
    that differs, in path order. A thing in a list (an investment, a project delay, a
    disruption) is named by its id (or match, node, path): one only one side has is one
    row ("(none)" on the other), one both have is a row per field that differs. Values as
    :func:`text` writes them."""
    da, db = (s.model_dump(mode="json", exclude=set(IGNORED)) for s in (reference, other))
    a, b = dict(_flat(da)), dict(_flat(db))
    listed = {p.split("[")[0] for p in set(a) | set(b) if p.endswith("]")}
    rows = []
    for p in sorted(set(a) | set(b)):
        va, vb = a.get(p), b.get(p)
        if va == vb or p in listed:  # an empty list against named things: their rows say it
            continue
        if p.endswith("]") and isinstance(va, dict) and isinstance(vb, dict):  # in both: field by field
            rows += [(f"{p}.{f}", text(va.get(f)), text(vb.get(f))) for f in sorted(set(va) | set(vb))
                     if va.get(f) != vb.get(f)]
        elif p.endswith("]") and (isinstance(va, dict) or isinstance(vb, dict)):  # on one side only
            rows.append((p, _item_text(p, va) if isinstance(va, dict) else "(none)",
                         _item_text(p, vb) if isinstance(vb, dict) else "(none)"))
        else:
            rows.append((p, text(va), text(vb)))
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
