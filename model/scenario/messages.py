"""Plain-language messages for pydantic errors: what was expected at a field
path, what was found, and "did you mean" for misspelt names. Shared by
scenario and sweep files."""

from __future__ import annotations

import difflib
import re
import reprlib
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from model.core.limits import MAX_SHOWN
from model.nodes import KINDS
from model.scenario.schema import ChoiceSpec, Scenario



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
    out: list[str] = []
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
        if label.removeprefix("constrained-") == getattr(inner, "__name__", None):
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


def clip(text: str, n: int = MAX_SHOWN) -> str:
    """``text`` cut to ``n`` characters (ending in '...'): a message quotes at most that
    much of any input, however long the input is."""
    return text if len(text) <= n else text[: n - 3] + "..."


_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlevel = MAX_SHOWN, MAX_SHOWN, 2


def _got(v: Any) -> str:
    """An input value as a message quotes it: short values as written, long ones cut
    (never the whole of a long text, list or alias-expanded structure)."""
    if v is None:
        return "nothing (an empty value)"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int):
        return str(v) if v.bit_length() <= 128 else f"a whole number of about {int(v.bit_length() * 0.30103):,} digits"
    if isinstance(v, date):
        return str(v)
    if isinstance(v, str):
        return repr(clip(v, 60))
    if isinstance(v, list):
        if len(v) <= 12 and all(not isinstance(x, (dict, list)) for x in v):
            text = ", ".join(clip(str(x), 20) for x in v)
            if len(text) <= 50:
                return f"a list [{text}]"
        return f"a list of {len(v)} items"
    if isinstance(v, dict):
        return "a mapping"
    return clip(_SHORT.repr(v))


def shape(v: Any) -> str:
    """What kind of value ``v`` is, without quoting any of it (for a whole file's content,
    which may be another file than the user's: ``extends: /etc/shadow``)."""
    if isinstance(v, bool):
        return "true or false"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a text"
    if isinstance(v, list):
        return f"a list of {len(v)} items"
    return f"a value of type {type(v).__name__}"


def _bounds(f: FieldInfo | None) -> str:
    out = []
    for m in getattr(f, "metadata", []):
        for attr, op in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            if getattr(m, attr, None) is not None:
                out.append(f"{op} {_got(getattr(m, attr))}")
    return (" " + " and ".join(out)) if out else ""


def _close(word: Any, options: list[str]) -> str:
    close = difflib.get_close_matches(clip(str(word)), options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def did_you_mean(word: Any, options: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest option, or an empty string."""
    return _close(word, options)


def _fields_of(model: Any) -> list[str]:
    names = list(model.model_fields)
    return [*names, "extends"] if model is Scenario else names


_AT_FIELD = {
    ("nodes",): "a mapping {node id: {kind: " + "|".join(KINDS) + ", ...}}",
    ("streams",): "a mapping {stream id: {commodity: ..., volume_mt_per_year: ..., shipment_t: ..., route: [...]}}",
    ("investments",): "a list of investments (- id: ..., node: ..., field: ..., date: ...)",
    ("disruptions",): "a list of disruptions (- node: ..., start: ..., end: ...)",
}


# What a value is, where the type alone says too little: (model, field, depth below the field).
_EXPECT_AT: dict[tuple, str] = {
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


def _explain(e: ErrorDetails, w: _Walk) -> tuple[tuple, str]:
    """(field path as in the data, message saying what was expected) for one pydantic error."""
    t, ctx, path = e["type"], e.get("ctx") or {}, tuple(w.path)
    inp = e.get("input")
    if t in ("extra_forbidden", "invalid_key") and w.owner is not None:
        names = _fields_of(w.owner)
        return path, f"unknown field '{clip(str(path[-1]))}'{_close(path[-1], names)}; expected one of: {', '.join(names)}"
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
    if t == "finite_number":
        return path, f"expected a finite number, got {_got(inp)}"
    if t == "literal_error":
        options = [x.strip(" '") for x in re.split(r",| or ", str(ctx.get("expected", ""))) if x.strip(" '")]
        return path, f"expected one of: {', '.join(options)}, got {_got(inp)}{_close(inp, options)}"
    if t == "too_short":
        return path, f"expected at least {ctx.get('min_length', 1)} item(s), got {ctx.get('actual_length', 0)}"
    bound = {"greater_than": ("gt", ">"), "greater_than_equal": ("ge", ">="),
             "less_than": ("lt", "<"), "less_than_equal": ("le", "<=")}.get(t)
    if bound:
        limit = ctx.get(bound[0])
        what = "a date" if isinstance(inp, date) else "a number"
        return path, f"expected {what} {bound[1]} {limit if isinstance(limit, str) else _got(limit)}, got {_got(inp)}"
    expected = _expected(w, path)
    if w.tp is not None and expected != "a valid value":
        detail = f" ({ctx['error']})" if isinstance(ctx.get("error"), str) and t.startswith(("date", "datetime")) else ""
        return path, f"expected {expected}, got {_got(inp)}{detail}"
    return path, f"{e['msg']} (got {_got(inp)})"


def _explain_all(errors: list[ErrorDetails], data: Any, root: Any = None) -> list[tuple[tuple, str]]:
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
    return list(dict.fromkeys(out))


