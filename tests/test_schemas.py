"""The published JSON Schemas (``scenarios/schemas/``): valid draft 2020-12 schemas with
``$schema`` and ``$id``, the same as the models generate, met by every library file under a
standard validator (jsonschema, as an editor's YAML plug-in sees the file), and able to fail."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from model.cli import main
from model.experiments.schemas import DRAFT, FILES, MODELINE, as_json, kind_of, modeline, schema, schema_text

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "scenarios"
PUBLISHED = LIBRARY / "schemas"
FILES_IN_LIBRARY = sorted(LIBRARY.glob("*.yaml")) + sorted((LIBRARY / "sweeps").glob("*.yaml"))


def _validator(kind: str) -> jsonschema.Draft202012Validator:
    published = json.loads((PUBLISHED / FILES[kind]).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(published, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _without_property_names(s):
    if isinstance(s, dict):
        return {k: _without_property_names(v) for k, v in s.items() if k != "propertyNames"}
    return [_without_property_names(v) for v in s] if isinstance(s, list) else s


@pytest.mark.parametrize("kind", sorted(FILES))
def test_each_published_schema_is_what_the_models_generate(kind):
    """Regenerate after changing a model: corridor schema --write scenarios/schemas. The files are
    the same whatever pydantic writes them (schemas.py spells its differences one way), except that
    pydantic 2.6 (the floor) writes no ``propertyNames: {format: date}`` for mappings keyed by dates:
    under it they are compared without."""
    assert _same((PUBLISHED / FILES[kind]).read_text(encoding="utf-8"), schema_text(kind)), \
        "scenarios/schemas is out of date: run `corridor schema --write scenarios/schemas`"


def _same(published: str, generated: str) -> bool:
    if "propertyNames" not in generated:  # pydantic 2.6
        published, generated = (json.dumps(_without_property_names(json.loads(x)), sort_keys=True)
                                for x in (published, generated))
    return published == generated


@pytest.mark.parametrize("kind", sorted(FILES))
def test_each_schema_is_a_valid_2020_12_schema_with_an_id(kind):
    s = schema(kind)
    jsonschema.Draft202012Validator.check_schema(s)
    assert s["$schema"] == DRAFT and s["$id"] == f"urn:caspian-corridor:schema:{kind}"
    assert len({schema(k)["$id"] for k in FILES}) == len(FILES)


@pytest.mark.parametrize("path", FILES_IN_LIBRARY, ids=lambda p: p.relative_to(LIBRARY).as_posix())
def test_every_library_file_meets_its_published_schema(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    kind = kind_of(data)
    assert kind == ("sweep" if path.parent.name == "sweeps" else "partial" if "extends" in data else "scenario")
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator(kind).iter_errors(as_json(data))]
    assert not errors, errors


@pytest.mark.parametrize("path", FILES_IN_LIBRARY, ids=lambda p: p.relative_to(LIBRARY).as_posix())
def test_every_library_file_names_its_schema_on_its_first_line(path):
    """For the YAML language server (VS Code's YAML extension and others). Redo after editing the
    library: python -c "from model.experiments.schemas import add_modelines; add_modelines('scenarios')"."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == modeline(path, PUBLISHED), f"{path}: first line {first!r}"
    target = (path.parent / first.removeprefix(MODELINE)).resolve()
    assert target.is_file() and target.parent == PUBLISHED


@pytest.mark.parametrize("kind, data, words", [
    ("scenario", {"name": "x", "start_date": "2024-01-01"}, "'end_date' is a required property"),
    ("scenario", {**yaml.safe_load((LIBRARY / "baseline.yaml").read_text(encoding="utf-8")), "sed": 1},
     "Additional properties are not allowed ('sed' was unexpected)"),
    ("scenario", {**yaml.safe_load((LIBRARY / "baseline.yaml").read_text(encoding="utf-8")),
                  "start_date": "2024-13-01"}, "is not a 'date'"),
    ("partial", {"name": "x"}, "'extends' is a required property"),
    ("partial", {"extends": "baseline.yaml", "nodes": {"caspian_feeder": {"fleets": 3}}}, "is not valid under any"),
    ("partial", {"extends": "baseline.yaml", "investments": [{"id": "ropax_3", "remove": "yes"}]},
     "True was expected"),
    ("sweep", {"name": "s", "base": "b.yaml", "parameters": [], "measures": []}, "should be non-empty"),
])
def test_the_schemas_can_fail(kind, data, words):
    messages = [e.message for e in _validator(kind).iter_errors(as_json(data))]
    assert any(words in m for m in messages), messages


def test_a_partial_file_may_override_one_field_of_a_node_without_its_kind():
    data = {"extends": "baseline.yaml", "nodes": {"caspian_feeder": {"fleet": 3}},
            "investments": [{"id": "ropax_3", "remove": True}]}
    assert list(_validator("partial").iter_errors(data)) == []
    assert list(_validator("scenario").iter_errors(data))  # not a complete scenario


def test_schema_command_prints_each_and_writes_all(tmp_path, capsys):
    for kind in FILES:
        assert main(["schema", kind]) == 0
        assert json.loads(capsys.readouterr().out)["$id"].endswith(kind)
    assert main(["schema", "--write", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES.values())
    assert all(_same((PUBLISHED / f).read_text(encoding="utf-8"), (tmp_path / f).read_text(encoding="utf-8"))
               for f in FILES.values())
