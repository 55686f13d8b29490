"""JSON Schemas of the files users write, for editors and standard validators.

Three schemas, each a JSON Schema (draft 2020-12) with ``$schema`` and ``$id``, generated
from the pydantic models that validate the files (one home: the models):

- ``scenario``: a complete scenario (:class:`~model.scenario.schema.Scenario`);
- ``partial``: a scenario that ``extends`` another and states only what differs: nothing
  is required but ``extends``, a node override may leave out ``kind`` (its fields must
  belong to some kind), a distribution may leave out ``dist``, and an investment may be
  ``{id: ..., remove: true}``;
- ``sweep``: a parameter sweep (:class:`~model.experiments.sweeps.SweepSpec`).

They are published in the scenario library, ``scenarios/schemas/`` (shipped in the wheel,
copied by ``corridor init``), and ``corridor schema --write DIR`` regenerates them; every
library file names its schema on its first line (:func:`modeline`), which the YAML
language server (VS Code's YAML extension and others) reads for completion and checks.
A schema catches what a file can be checked for alone; ``corridor validate`` also checks
references, routes, dates and limits.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import yaml

DRAFT = "https://json-schema.org/draft/2020-12/schema"
FILES = {"scenario": "scenario.schema.json", "partial": "scenario-partial.schema.json",
         "sweep": "sweep.schema.json"}
"""The file each schema is published as, in ``scenarios/schemas/``."""
MODELINE = "# yaml-language-server: $schema="

_TITLES = {
    "scenario": ("Caspian corridor scenario",
                 "A complete scenario file of the Caspian corridor freight simulator (docs/scenarios.md)."),
    "partial": ("Caspian corridor scenario that extends another",
                "A scenario file with `extends: parent.yaml` that states only what differs from its parent: "
                "mappings merge key by key, investments by id and uncertain inputs by path (`remove: true` drops one); see "
                "docs/scenarios.md, extends."),
    "sweep": ("Caspian corridor parameter sweep",
              "A parameter sweep over a base scenario (README, Parameter sweeps)."),
}

# keywords whose value is a schema, a list of schemas, or a mapping of names to schemas
_ONE = ("additionalProperties", "items", "not", "propertyNames", "contains", "if", "then", "else",
        "unevaluatedItems", "unevaluatedProperties")
_MANY = ("anyOf", "oneOf", "allOf", "prefixItems")
_NAMED = ("properties", "$defs", "patternProperties", "dependentSchemas")


def _walk(schema: Any, fn: Any) -> None:
    """Call ``fn`` on every (sub)schema object of ``schema``, keywords only (a property that
    happens to be called ``required`` is a name, not the keyword)."""
    if not isinstance(schema, dict):
        return
    fn(schema)
    for k in _ONE:
        _walk(schema.get(k), fn)
    for k in _MANY:
        for sub in schema.get(k, []) or []:
            _walk(sub, fn)
    for k in _NAMED:
        for sub in (schema.get(k) or {}).values():
            _walk(sub, fn)


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _canonical(s: dict) -> None:
    """One spelling of what pydantic versions write differently (the floor, 2.6, and later), so
    that the published files do not depend on the version that generated them: whole-number
    bounds as integers (``0``, not ``0.0``); a bound that is not a number dropped (2.6 writes a
    date's ``le`` as ``maximum``, which JSON Schema does not allow; later versions leave it out);
    ``allOf: [{$ref}]`` as the ``$ref`` itself; a ``const`` with its ``type``; no ``propertyNames``
    enum (only later versions write one, for a mapping keyed by a Literal)."""
    for k in _BOUNDS:
        if k in s:
            v = s[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                del s[k]
            elif isinstance(v, float) and v.is_integer():
                s[k] = int(v)
    if isinstance(s.get("allOf"), list) and len(s["allOf"]) == 1 and set(s["allOf"][0]) == {"$ref"}:
        s["$ref"] = s.pop("allOf")[0]["$ref"]
    if "const" in s and "type" not in s and isinstance(s["const"], str):
        s["type"] = "string"
    if isinstance(s.get("propertyNames"), dict) and set(s["propertyNames"]) == {"enum"}:
        del s["propertyNames"]


def _published(kind: str, body: dict) -> dict:
    title, description = _TITLES[kind]
    _walk(body, _canonical)
    return {"$schema": DRAFT, "$id": f"urn:caspian-corridor:schema:{kind}", "title": title,
            "description": description, **{k: v for k, v in body.items() if k not in ("title", "description")}}


def _scenario_body() -> dict:
    from model.scenario.schema import Scenario

    body = Scenario.model_json_schema()
    body["properties"]["extends"] = {"type": "string", "description": "Parent scenario file to override "
                                     "(a path relative to this file's folder)"}
    return body


def _partial_body() -> dict:
    body = copy.deepcopy(_scenario_body())

    def loosen(s: dict) -> None:
        s.pop("required", None)
        s.pop("discriminator", None)  # without its tag (kind, dist) an override is told apart by its fields
        if "oneOf" in s:  # an override without its tag may fit several kinds' fields: any one will do
            s["anyOf"] = s.pop("oneOf")

    _walk(body, loosen)
    body["$defs"]["Investment"]["properties"]["remove"] = {
        "const": True, "description": "Drop the inherited investment with this id (with only `id`)"}
    body["$defs"]["UncertainInput"]["properties"]["remove"] = {
        "const": True, "description": "Drop the inherited uncertain input on this path (with only `path`)"}
    body["required"] = ["extends"]
    return body


def _sweep_body() -> dict:
    from model.experiments.sweep_file import SweepSpec

    return SweepSpec.model_json_schema()


def schema(kind: str = "scenario") -> dict:
    """The published JSON Schema ``kind`` (``scenario``, ``partial`` or ``sweep``)."""
    body = {"scenario": _scenario_body, "partial": _partial_body, "sweep": _sweep_body}[kind]()
    return _published(kind, body)


def schema_text(kind: str) -> str:
    """The schema as its published file holds it (stable: sorted keys, 2-space indent)."""
    return json.dumps(schema(kind), indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"


def write_schemas(folder: str | Path) -> list[Path]:
    """Write the three schemas into ``folder`` (the library's ``scenarios/schemas/``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for kind, name in FILES.items():
        (folder / name).write_text(schema_text(kind), encoding="utf-8")
        out.append(folder / name)
    return out


def kind_of(data: Any) -> str:
    """Which schema a file's data should meet: ``sweep`` (it names a ``base`` and
    ``parameters``), ``partial`` (it ``extends`` another) or ``scenario``."""
    if isinstance(data, dict) and "base" in data and "parameters" in data:
        return "sweep"
    return "partial" if isinstance(data, dict) and "extends" in data else "scenario"


def as_json(data: Any) -> Any:
    """YAML data as JSON, the way an editor's YAML plug-in sees it before it checks the schema:
    mapping keys are strings (``2024: 4.5`` has the key ``"2024"``) and dates are ISO text."""
    if isinstance(data, dict):
        return {(k.isoformat() if isinstance(k, dt.date) else str(k)): as_json(v) for k, v in data.items()}
    if isinstance(data, list):
        return [as_json(v) for v in data]
    if isinstance(data, dt.date):
        return data.isoformat()
    return data


def modeline(path: str | Path, schemas: str | Path) -> str:
    """The first line that names ``path``'s schema for the YAML language server: the schema
    file in ``schemas`` (the library's ``schemas/`` folder), as a path relative to ``path``'s
    folder, so that it holds in the repository, the installed package and a ``corridor init``
    copy alike."""
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rel = os.path.relpath(Path(schemas) / FILES[kind_of(data)], path.parent)
    return MODELINE + Path(rel).as_posix()


def add_modelines(folder: str | Path) -> list[Path]:
    """Give every YAML file in ``folder`` and ``folder/sweeps`` its modeline as the first line
    (replacing an older one); the schemas are those of ``folder/schemas``. Returns the files
    changed. To redo after editing the library: ``python -c "from model.experiments.schemas
    import add_modelines; add_modelines('scenarios')"``."""
    folder = Path(folder)
    changed = []
    for f in sorted([*folder.glob("*.yaml"), *(folder / "sweeps").glob("*.yaml")]):
        text = f.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        if lines and lines[0].startswith(MODELINE):
            lines = lines[1:]
        new = modeline(f, folder / "schemas") + "\n" + "".join(lines)
        if new != text:
            f.write_text(new, encoding="utf-8")
            changed.append(f)
    return changed
