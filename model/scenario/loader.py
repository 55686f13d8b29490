"""Scenario files: YAML loading, ``extends``, validation in one pass, clear errors.

The schema is :mod:`model.scenario.schema`, the wording of schema errors
:mod:`model.scenario.messages`, the cross-field checks
:mod:`model.scenario.checks`; this module reads files and puts them together.
A scenario is a YAML mapping. Nodes and streams are mappings keyed by id so a
child scenario can override one field of one node; investments are a list
merged by ``id`` (``remove: true`` drops an inherited one). Every user mistake
becomes a :class:`ScenarioError` listing all problems found, each with the
file, the line where YAML has it, the field path and what was expected.
"""

from __future__ import annotations

import copy
import difflib
import errno
import stat
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from model.core.limits import MAX_ALIAS_VALUES, MAX_EXTENDS, MAX_FILE_BYTES, MAX_SHOWN, MAX_YAML_DEPTH
from model.scenario import library
from model.scenario.uncertainty import uncertainty_problems
from model.scenario.checks import _SetAside, check_limits, check_references, check_routes, check_text
from model.scenario.messages import _explain_all, _got, clip, shape
from model.scenario.schema import Scenario

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
# ``investments`` merge by ``id`` and ``uncertainty`` by ``path`` (``remove: true`` drops an inherited one;
# an investment removed takes the uncertain inputs on it along);
# every other value replaces the parent's: lists (routes, ``delays.projects``),
# timelines and volumes keyed by dates or years (the child states the whole
# timeline), and a node or distribution whose ``kind`` or ``dist`` changes (with
# the same ``dist``, or none, a distribution merges: ``{mean: 30}`` sets the mean).


class ScenarioError(Exception):
    """A user's mistake in a scenario file; ``problems`` are one-line messages
    ``FILE:LINE: field.path: what was expected, got what``."""

    def __init__(self, problems: list[str]) -> None:
        problems = [clip(p, 25 * MAX_SHOWN) for p in problems]  # bounded, whatever the input held
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class _Where:
    """Where a value was written: the file, its 1-based line and its path there."""

    file: Path
    line: int | None
    path: tuple


class _Prov(dict[tuple, _Where]):
    """Where each value of a file (or merged files) was written: field path -> file and line. Its
    subtrees are found through an index of children (built when first asked, rebuilt when keys
    were added since), so copying provenance is linear in what is copied (it once scanned every
    path for every copy: 10,000 investments took minutes)."""

    _kids: dict[tuple, set[tuple]] | None = None
    _indexed = -1

    def under(self, top: tuple) -> list[tuple]:
        """Every path at or below ``top``."""
        if self._kids is None or self._indexed != len(self):
            kids: dict[tuple, set[tuple]] = {}
            for k in self:
                for i in range(len(k)):
                    kids.setdefault(k[:i], set()).add(k[: i + 1])
            self._kids, self._indexed = kids, len(self)
        out, todo = [], [top]
        while todo:
            k = todo.pop()
            if k in self:
                out.append(k)
            todo.extend(self._kids.get(k, ()))
        return out


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


def _timestamp(loader: Any, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


for _cls in (_PyLoader, _Loader):
    _cls.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

_TOP_FIELDS = "name, start_date, end_date, nodes, streams, ..."


def _yaml_error(path: Path, e: yaml.YAMLError) -> ScenarioError:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = clip(getattr(e, "problem", None) or (str(e).splitlines() or [""])[0], 2 * MAX_SHOWN)
    context, cmark = getattr(e, "context", None), getattr(e, "context_mark", None)
    context = clip(context, 2 * MAX_SHOWN) if context else context
    where = f"{path}:{mark.line + 1}" if mark else str(path)
    msg = f"YAML syntax error at column {mark.column + 1}: {problem}" if mark else f"YAML syntax error: {problem}"
    if context and cmark is not None and mark is not None and cmark.line != mark.line:
        msg += f" ({context} that starts at line {cmark.line + 1})"
    elif context:
        msg += f" ({context})"
    if "'\\t'" in problem:
        msg += "; expected indentation with spaces, not tabs"
    elif "flow sequence" in (context or "") or "flow mapping" in (context or ""):
        closing = "]" if "sequence" in (context or "") else "}"
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
                                     f"duplicate key '{clip(str(key))}' (also at line {first[key]}); expected each key once "
                                     "in a mapping (YAML would silently keep only the last)"))
            first.setdefault(key, line)
            prov[path + (key,)] = _Where(file, line, path + (key,))
            _walk_yaml(loader, v, path + (key,), file, prov, issues, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _walk_yaml(loader, v, path + (i,), file, prov, issues, seen)


def _read_text(path: Path, kind: str) -> str:
    """The text of a scenario or sweep file: a regular UTF-8 file of at most
    ``limits.MAX_FILE_BYTES`` (never more is read: ``extends: /dev/zero`` is refused)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError([f"{path}: file not found"]) from None
    except OSError as e:
        reason = "a loop of symbolic links" if e.errno == errno.ELOOP else e.strerror or e.__class__.__name__
        raise ScenarioError([f"{path}: cannot read the file ({reason}); expected a {kind} file"]) from None
    if stat.S_ISDIR(info.st_mode):
        raise ScenarioError([f"{path}: expected a {kind} file, got a folder"])
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError([f"{path}: expected a {kind} file, got a device, pipe or socket"])
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise ScenarioError([f"{path}: the file is larger than {MAX_FILE_BYTES:,} bytes, the limit for a {kind} "
                                 "file; expected a scenario written by hand (the baseline is about 40 kB)"])
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError([f"{path}: cannot read the file ({e.__class__.__name__}); "
                             "expected a UTF-8 text file"]) from None


def _check_shape(loader: Any, path: Path) -> None:
    """Read the YAML events once, before anything is built from them, and refuse a
    file nested deeper than ``limits.MAX_YAML_DEPTH`` (libyaml builds nodes
    recursively and crashes the process on 30,000 brackets) or whose aliases would
    repeat more than ``limits.MAX_ALIAS_VALUES`` values (550 bytes of "billion
    laughs" expand to 10^9). Counting an anchor's values once, an alias adds them
    again; the events themselves are parsed without recursion."""
    held: dict[str, int] = {}  # anchor -> values it holds, its own aliases expanded
    open_: list[list] = [[0, None]]  # per open mapping or list: [values so far, its anchor]
    added = 0
    while loader.check_event():
        ev = loader.get_event()
        line = ev.start_mark.line + 1 if ev.start_mark else None
        at = f"{path}:{line}" if line else str(path)
        if isinstance(ev, yaml.CollectionStartEvent):
            open_.append([1, ev.anchor])
            if len(open_) - 1 > MAX_YAML_DEPTH:
                raise ScenarioError([f"{at}: YAML nests more than {MAX_YAML_DEPTH} mappings or lists deep (the limit); "
                                     "expected a scenario (about 8 levels)"])
        elif isinstance(ev, yaml.CollectionEndEvent):
            n, anchor = open_.pop()
            if anchor is not None:
                held[anchor] = n
            open_[-1][0] += n
        elif isinstance(ev, yaml.ScalarEvent):
            if ev.anchor is not None:
                held[ev.anchor] = 1
            open_[-1][0] += 1
        elif isinstance(ev, yaml.AliasEvent):
            n = held.get(ev.anchor or "", 1)  # an unknown anchor: the composer reports it
            added += n
            open_[-1][0] += n
            if added > MAX_ALIAS_VALUES:
                raise ScenarioError([f"{at}: YAML aliases (*{clip(str(ev.anchor), 20)}) would repeat more than "
                                     f"{MAX_ALIAS_VALUES:,} values (the limit: an alias bomb?); expected a scenario "
                                     "with few aliases"])


def _read_yaml(path: Path, kind: str = "scenario", fields: str = _TOP_FIELDS) -> tuple[dict, _Prov, list[_Issue]]:
    """One file: its mapping, the provenance of every value, and duplicate keys.
    ``kind`` and ``fields`` word the messages (a scenario, a sweep). The file's size,
    nesting and alias expansion are checked before anything is built from it."""
    text = _read_text(path, kind)
    prov = _Prov()
    issues: list[_Issue] = []
    try:
        scan = _Loader(text)
        try:
            _check_shape(scan, path)
        finally:
            scan.dispose()
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
            if node is not None:
                _walk_yaml(loader, node, (), path, prov, issues, set())
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        # the pure-Python parser words syntax errors better than libyaml (events only: no recursion);
        # it reads them through the same shape check, since it is slow on deep nesting, which libyaml
        # itself refuses from PyYAML 6.0.4 on ("exceeded maximum nesting depth", at 1,000 levels)
        try:
            py = _PyLoader(text)  # a control character is refused here already (yaml.reader.ReaderError)
        except yaml.reader.ReaderError as bad:
            at_line = text.count("\n", 0, max(bad.position, 0)) + 1
            raise ScenarioError([f"{path}:{at_line}: the file holds a control character ({chr(bad.character)!r}) that "
                                 "YAML does not allow; expected plain text"]) from None
        try:
            _check_shape(py, path)
        except yaml.YAMLError as py_error:
            e = py_error
        finally:
            py.dispose()
        raise _yaml_error(path, e) from None
    except (ValueError, OverflowError) as e:  # e.g. an integer of more than 4,300 digits
        raise ScenarioError([f"{path}: a YAML value cannot be read ({clip(str(e))})"]) from None
    except RecursionError:
        raise ScenarioError([f"{path}: YAML nests too deeply (a recursive alias?)"]) from None
    if data is None:
        raise ScenarioError([f"{path}: the file is empty; expected a mapping of {kind} fields ({fields})"])
    if not isinstance(data, dict):
        line = prov[()].line if () in prov else 1
        raise ScenarioError([f"{path}:{line}: expected a mapping of {kind} fields ({fields}) "
                             f"at the top level, got {shape(data)}"])
    return data, prov, issues


def _copy_prov(src: _Prov, spath: tuple, dst: _Prov, dpath: tuple) -> None:
    n = len(spath)
    for k in src.under(spath):
        dst[dpath + k[n:]] = src[k]


def _mergeable(base: dict, over: dict) -> bool:
    """Mappings of named fields merge; value mappings (keyed by dates or years)
    and mappings whose ``kind`` or ``dist`` changes replace the parent's."""
    if any(not isinstance(k, str) for k in (*base, *over)):
        return False
    return not any(tag in over and over[tag] != base.get(tag) for tag in ("kind", "dist"))


KEYED_LISTS = {"investments": ("id", "investment"), "uncertainty": ("path", "uncertain input")}
"""Top-level lists merged item by item under ``extends`` (by this field), not replaced whole."""


class _Merger:
    """Merges a parent's data (``base``) with a child's (``over``), with provenance."""

    def __init__(self, bprov: _Prov, oprov: _Prov, issues: list[_Issue]) -> None:
        self.bprov, self.oprov, self.issues = bprov, oprov, issues
        self.prov = _Prov()
        self.removed: dict[str, set[str]] = {}  # section -> names a child removed (remove: true)

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
            if k in KEYED_LISTS and not mpath:
                out[k] = self.keyed(k, base.get(k), v, bpath + (k,), opath + (k,), mpath + (k,))
            elif k in base:
                out[k] = self.merge(base[k], v, bpath + (k,), opath + (k,), mpath + (k,))
            else:
                out[k] = v
                _copy_prov(self.oprov, opath + (k,), self.prov, mpath + (k,))
        if not mpath and self.removed.get("investments"):
            self._drop_uncertainty_of(out, self.removed["investments"])
        return out

    def _drop_uncertainty_of(self, out: dict, removed: set[str]) -> None:
        """An investment removed by the child takes the uncertain inputs on it along (its cost range,
        its drawn delay by id): they could apply to nothing."""
        items = out.get("uncertainty")
        if not isinstance(items, list):
            return

        def on_removed(u: Any) -> bool:
            path = u.get("path") if isinstance(u, dict) else None
            parts = path.split(".") if isinstance(path, str) else []
            return (parts[:1] == ["investments"] and len(parts) > 1 and parts[1] in removed) or \
                (parts[:2] == ["delays", "projects"] and len(parts) > 2 and parts[2] in removed)

        keep = [n for n, u in enumerate(items) if not on_removed(u)]
        if len(keep) == len(items):
            return
        moved = _Prov()
        for new, old in enumerate(keep):
            _copy_prov(self.prov, ("uncertainty", old), moved, ("uncertainty", new))
        for k in self.prov.under(("uncertainty",)):
            if k != ("uncertainty",):
                del self.prov[k]
        self.prov.update(moved)
        self.prov._kids = None  # the index is rebuilt on the next question
        out["uncertainty"] = [items[n] for n in keep]

    def _issue(self, opath: tuple, message: str) -> None:
        w = self.oprov.get(opath) or next((self.oprov[opath[:n]] for n in range(len(opath), -1, -1)
                                           if opath[:n] in self.oprov), None)
        if w is not None:
            self.issues.append(_Issue(_Where(w.file, w.line, opath), message))

    def keyed(self, section: str, base: Any, over: Any, bpath: tuple, opath: tuple, mpath: tuple) -> Any:
        """A list whose items are named (:data:`KEYED_LISTS`): the child's items override the parent's
        of the same name, ``remove: true`` drops one, new ones are added at the end."""
        if base is None:
            base = []
        if not isinstance(base, list) or not isinstance(over, list):
            _copy_prov(self.oprov, opath, self.prov, mpath)
            return over
        field, noun = KEYED_LISTS[section]

        def ident(item: Any) -> str | None:
            i = item.get(field) if isinstance(item, dict) else None
            return i if isinstance(i, str) else None

        order: list[list] = []  # [base index | None, child index | None]
        by_id: dict[str, list] = {}
        for i, item in enumerate(base):
            entry = [i, None]
            order.append(entry)
            k = ident(item)
            if k is not None:
                by_id.setdefault(k, entry)  # a parent's duplicate is reported by check_references
        first: dict[str, int] = {}
        for j, item in enumerate(over):
            k = ident(item)
            if k is not None and k in first:
                self._issue(opath + (j, field), f"duplicate {noun} {field} '{k}' (also at {section}.{first[k]}); "
                            f"expected each {field} once (one also in the parent overrides the parent's)")
                continue
            if k is not None:
                first[k] = j
            if isinstance(item, dict) and "remove" in item:
                if item["remove"] is not True:
                    self._issue(opath + (j, "remove"),
                                f"expected remove: true (to drop the inherited {noun}), got {_got(item['remove'])}")
                elif k is None or k not in by_id:
                    close = difflib.get_close_matches(k or "", list(by_id), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    self._issue(opath + (j, field), f"remove: true, but no inherited {noun} has {field} "
                                f"'{k}'{hint}; expected one of: {', '.join(by_id) or '(none)'}")
                else:
                    order.remove(by_id.pop(k))
                    self.removed.setdefault(section, set()).add(k)
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


def _real(path: Path, at: str) -> Path:
    """``path`` with every symbolic link followed; a loop of links is the user's mistake."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a loop, later versions OSError
        raise ScenarioError([f"{at}: {path} is a loop of symbolic links; expected a file"]) from None


PROJECT_MARKERS = ("scenarios", "pyproject.toml", ".git")
"""What marks the top folder of a project: a folder holding one of these."""


def project_root(top: str | Path) -> Path:
    """The project tree of a scenario or sweep file named by the user: the closest
    folder at or above the file's own that holds ``scenarios/``, ``pyproject.toml`` or
    ``.git`` (this repository, or a project laid out like it) or is the installed
    scenario library (``model/library/``), else the file's own folder. Every ``extends``
    parent and a sweep's ``base`` must lie inside it (after following symbolic links), so
    that a file from elsewhere cannot make the model read any file on the machine;
    ``--allow-outside`` lifts the rule."""
    folder = _real(Path(top).absolute().parent, str(top))
    for d in (folder, *folder.parents):
        if d == library.INSTALLED or any((d / m).exists() for m in PROJECT_MARKERS):
            return d
    return folder


def outside_tree(path: Path, root: Path | None, at: str) -> str | None:
    """Why ``path`` (an extends parent, a sweep's base) may not be read: it lies outside
    the project tree ``root`` (None: anywhere is allowed); None when it may. The
    message names paths, never content."""
    real = _real(path, at)
    if root is None or real.is_relative_to(root):
        return None
    return (f"{path} is outside the project tree {root} (it resolves to {real}); expected a file inside it (the "
            "closest folder above the file named on the command line that holds scenarios/, pyproject.toml or "
            ".git), or add --allow-outside")


def _load_chain(path: Path, seen: tuple[Path, ...] = (), shown: tuple[Path, ...] = (), root: Path | None = None
                ) -> tuple[dict, _Prov, list[Path], list[_Issue]]:
    """Read a file and its ``extends`` chain: merged data, provenance, chain (child first),
    issues. Parents must lie inside the project tree ``root`` (None: anywhere)."""
    resolved = _real(path, str(path))
    data, prov, issues = _read_yaml(path)
    if "extends" not in data:
        return data, prov, [path], issues
    parent = data.pop("extends")
    w = prov.get(("extends",))
    at = f"{path}:{w.line}" if w else str(path)
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError([f"{at}: extends: expected the file name of one parent scenario, got {_got(parent)}"])
    parent_path = path.parent / parent
    if len(seen) + 1 >= MAX_EXTENDS:
        raise ScenarioError([f"{at}: extends: '{clip(parent)}' would make a chain of more than {MAX_EXTENDS} files (the "
                             f"limit; it starts at {shown[0] if shown else path}); expected a few parents"])
    if _real(parent_path, f"{at}: extends") in (*seen, resolved):
        cycle = " -> ".join(str(p) for p in (*shown, path, parent_path))
        raise ScenarioError([f"{at}: extends: '{parent}' closes a cycle ({cycle}); expected a chain of parents "
                             "that ends in a file without extends"])
    if not parent_path.is_file():
        raise ScenarioError([f"{at}: extends: parent file '{clip(parent)}' not found (looked for {parent_path}; "
                             "expected a path relative to the folder of the file that extends)"])
    outside = outside_tree(parent_path, root, f"{at}: extends")
    if outside:
        raise ScenarioError([f"{at}: extends: {outside}"])
    base, bprov, chain, bissues = _load_chain(parent_path, (*seen, resolved), (*shown, path), root)
    m = _Merger(bprov, prov, issues)
    merged = m.merge(base, data)
    return merged, m.prov, [path, *chain], [*bissues, *issues]


def load_raw(path: Path, _seen: tuple[Path, ...] = (), *, root: Path | None = None
             ) -> tuple[dict, dict[tuple, int], list[Path]]:
    """Read a scenario file and its ``extends`` chain (parents inside the project tree
    ``root``; None: anywhere); return the merged mapping, the line of every path
    written in the child file, and the chain of files (child first)."""
    path = Path(path)
    data, prov, chain, _ = _load_chain(path, _seen, root=root)
    lines = {p: w.line for p, w in prov.items() if w.file == path and w.line is not None}
    return data, lines, chain



# -------------------------------------------------- validation in one pass


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
            if top in ("start_date", "end_date"):  # any valid horizon: its checks are off
                work["start_date"], work["end_date"], aside.horizon = date(2000, 1, 1), date(2001, 1, 1), True
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
                inv: dict = items[i] if isinstance(items[i], dict) else {}
                tags = inv["tags"] if isinstance(inv.get("tags"), list) else []
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
    dotted = ".".join(clip(str(p)) for p in path) or "(top level)"
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
    """Every problem of a scenario mapping as (field path, message), without files: for
    scenarios made in memory (sweep points). The same checks as :func:`load_scenario`:
    schema, then references and routes, then limits, then uncertain inputs."""
    scenario, found, aside = _validate(data)
    if scenario is not None:
        found += _checks(scenario, aside, schema_ok=not found)
    return (scenario if not found else None), found


def _checks(scenario: Scenario, aside: _SetAside, schema_ok: bool = True) -> list[tuple[tuple, str]]:
    """What the schema cannot check, each stage only when the one before found nothing
    (limits and uncertain inputs assume sound references and routes; uncertain inputs, a
    scenario with nothing set aside for a schema error)."""
    found = [(aside.original(loc), msg) for loc, msg in check_references(scenario, _aside=aside)
             + check_routes(scenario) + check_text(scenario)]
    if not found:
        found += check_limits(scenario)
    if scenario.uncertainty and not found and schema_ok:
        found += uncertainty_problems(scenario)
    return found


def named(path: str | Path, kind: str = "scenario") -> Path:
    """The file ``path`` names: itself when it exists, else the library's scenario
    (``kind="sweep"``: sweep; ``"any"``: either) of that name; :class:`ScenarioError` for a
    bare name that is neither (:func:`model.scenario.library.resolve`)."""
    try:
        return library.resolve(path, kind)
    except library.NotInLibrary as e:
        raise ScenarioError([str(e)]) from None


def load_scenario(path: str | Path, *, allow_outside: bool = False, root: Path | None = None) -> Scenario:
    """Load, merge ``extends``, validate schema, references, routes and limits; raise
    ScenarioError listing every problem found, one line each. ``extends`` parents must
    lie in the project tree of ``path`` (:func:`project_root`; or ``root``, that of the
    file that named this one) unless ``allow_outside``. ``path`` that does not exist may be
    a library scenario's name (``baseline``: :func:`model.scenario.library.resolve`)."""
    path = named(path)
    try:
        tree = None if allow_outside else root or project_root(path)
        data, prov, _, issues = _load_chain(path, root=tree)
    except ScenarioError as e:  # a parent's own mistake: say through which file it came
        raise ScenarioError([p if p.startswith(str(path)) else f"{p} [in a parent of {path} through extends]"
                             for p in e.problems]) from None
    problems = [_format(i.where, i.where.path, i.message, path) for i in issues]
    scenario, schema, aside = _validate(data)
    found = list(schema)
    if scenario is not None:
        found += _checks(scenario, aside, schema_ok=not found)
    for loc, msg in found:
        where, shown = _locate(loc, prov, path)
        problems.append(_format(where, shown, msg, path))
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    assert scenario is not None  # no problems: the schema validated
    return scenario


