"""The scenario library: the scenario and sweep files that ship with the package.

The top-level ``scenarios/`` folder of the repository is the library's source. A built
wheel installs it inside the package as ``model/library/`` (``pyproject.toml`` maps the
package ``model.library`` to ``scenarios/``, with ``sweeps/`` and ``schemas/``); in a
checkout it is read where it is. Either way :func:`library_dir` finds it, so a library
scenario can be named from any folder: ``corridor run baseline``, ``model.load("baseline")``.

A name resolves so (:func:`resolve`): a path that exists is
that file; otherwise a bare name (``baseline``, ``baseline.yaml``, ``sweeps/tripp_delay``)
is the library's file of that name. ``corridor scenarios`` lists the library with the
question each file answers (:func:`entries`, read from the file's header comment), and
``corridor init DIR`` copies it for editing (:func:`copy_library`).
"""

from __future__ import annotations

import difflib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent.parent  # the package folder, model/
INSTALLED = _HERE / "library"
"""Where a wheel installs the library (``model/library/``)."""
CHECKOUT = _HERE.parent / "scenarios"
"""Where a checkout (or an editable install) has it: ``scenarios/`` beside ``model/``."""
SWEEPS = "sweeps"
SCHEMAS = "schemas"


class LibraryMissing(FileNotFoundError):
    """The package was installed without its scenario library (a broken build)."""


def library_dir() -> Path:
    """The folder of the library's scenario files: ``model/library/`` in an installed
    package, else ``scenarios/`` of the checkout the package runs from."""
    for folder in (INSTALLED, CHECKOUT):
        if any(folder.glob("*.yaml")):
            return folder
    raise LibraryMissing(f"the scenario library is missing: neither {INSTALLED} nor {CHECKOUT} holds scenario "
                         "files; reinstall the package (its wheel with pip install --force-reinstall, or pip install -e . "
                         "in a clone)")


def is_library_file(path: str | Path) -> bool:
    """Whether ``path`` lies in the library (after following symbolic links)."""
    try:
        return Path(path).resolve().is_relative_to(library_dir())
    except (LibraryMissing, OSError, RuntimeError):
        return False


def names(kind: str = "scenario") -> list[str]:
    """The library's scenario names (``kind="sweep"``: its sweep names), sorted."""
    try:
        folder = library_dir() if kind == "scenario" else library_dir() / SWEEPS
    except LibraryMissing:
        return []
    return sorted(p.stem for p in folder.glob("*.yaml"))


def _bare(text: str) -> str | None:
    """``text`` as a library name (``baseline``, ``sweeps/tripp_delay``; ``.yaml`` optional), or
    None when it is a path of another shape (absolute, ``./x``, ``../x``, ``a/b/c``)."""
    parts = text.replace("\\", "/").split("/")
    if len(parts) > 2 or (len(parts) == 2 and parts[0] != SWEEPS) or not parts[-1]:
        return None
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return None
    stem = re.sub(r"\.ya?ml$", "", parts[-1])
    return f"{SWEEPS}/{stem}" if len(parts) == 2 else stem


class NotInLibrary(LookupError):
    """A name that is neither an existing file nor a library file; the message says which exist."""


def resolve(name_or_path: str | Path, kind: str = "scenario") -> Path:
    """The file a user means: ``name_or_path`` itself when it exists (or is not shaped like a
    name), else the library's scenario (``kind="sweep"``: sweep; ``"any"``: either) of that
    name. Raises :class:`NotInLibrary` for a bare name found in neither place.

    >>> resolve("baseline").name, resolve("baseline.yaml").parent == library_dir()
    ('baseline.yaml', True)
    >>> resolve("tripp_delay", kind="sweep").relative_to(library_dir()).as_posix()
    'sweeps/tripp_delay.yaml'
    """
    path = Path(name_or_path)
    if path.exists():
        return path
    bare = _bare(str(name_or_path))
    if bare is None:
        return path
    try:
        lib = library_dir()
    except LibraryMissing as e:
        raise NotInLibrary(f"{name_or_path}: file not found, and {e}") from None
    stem = bare.split("/")[-1]
    if bare.startswith(f"{SWEEPS}/"):
        candidates = [lib / SWEEPS / f"{stem}.yaml"] if kind in ("sweep", "any") else []
    else:
        candidates = {"scenario": [lib / f"{stem}.yaml"], "sweep": [lib / SWEEPS / f"{stem}.yaml"],
                      "any": [lib / f"{stem}.yaml", lib / SWEEPS / f"{stem}.yaml"]}[kind]
    for c in candidates:
        if c.is_file():
            return c
    known = names() if kind == "scenario" else names("sweep") if kind == "sweep" else names() + names("sweep")
    what = {"scenario": "scenario", "sweep": "sweep", "any": "scenario or sweep"}[kind]
    close = difflib.get_close_matches(stem, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    listing = "corridor scenarios" + (" --sweeps" if kind == "sweep" else "")
    raise NotInLibrary(f"{name_or_path}: file not found, and the library has no {what} named '{stem}'{hint}; "
                       f"expected a file path or a library name (`{listing}` lists them)")


@dataclass(frozen=True)
class Entry:
    """A library file: its name, path and the question it answers."""

    name: str
    path: Path
    question: str


def header(path: Path) -> str:
    """The comment block at the top of a YAML file, as one line of text (``#`` and any
    editor modeline removed)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        s = line.strip()
        if not s.startswith("#"):
            if s:
                break
            continue
        text = s.lstrip("#").strip()
        if text.startswith("yaml-language-server:"):
            continue
        lines.append(text)
    return " ".join(x for x in lines if x)


_MARKER = re.compile(r"(?:Question(?: it answers)?|What it answers):\s*")
_SENTENCES = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9(])")


def question(path: Path) -> str:
    """The question a library file answers, from its header comment: after ``Question:`` (or
    ``Question it answers:``, ``What it answers:``), the first of the next three sentences that
    asks a question, else the sentence after the marker; with no marker, the header's first
    question, else its first sentence.

    >>> question(resolve("tripp_delay_2y")).startswith("If the Armenian section slips")
    True
    """
    text = header(path)
    m = _MARKER.search(text)
    sentences = _SENTENCES.split(text[m.end():] if m else text)
    asked = [s for s in (sentences[:3] if m else sentences) if s.endswith("?")]
    q = (asked or sentences)[0].strip()
    return q[:1].upper() + q[1:]


def entries(kind: str = "scenario") -> list[Entry]:
    """Every library scenario (``kind="sweep"``: sweep) with the question it answers."""
    folder = library_dir() if kind == "scenario" else library_dir() / SWEEPS
    return [Entry(n, folder / f"{n}.yaml", question(folder / f"{n}.yaml")) for n in names(kind)]


def copy_library(dest: Path) -> Path:
    """Copy the library for editing into ``dest/scenarios/`` (scenarios, ``sweeps/`` and the
    JSON Schemas their editor modelines name), so that ``dest`` is a project: ``extends`` and a
    sweep's ``base`` resolve inside it. Refuses (``FileExistsError``) to write over an existing
    ``dest/scenarios``. Returns the new folder."""
    src = library_dir()
    target = Path(dest) / "scenarios"
    if target.exists():
        raise FileExistsError(17, "already exists; choose another folder, or move it away first", str(target))
    Path(dest).mkdir(parents=True, exist_ok=True)
    tmp = Path(dest) / ".scenarios.tmp-init"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir()
        for sub in ("", SWEEPS, SCHEMAS):
            pattern = "*.json" if sub == SCHEMAS else "*.yaml"
            files = sorted((src / sub).glob(pattern))
            if files:
                (tmp / sub).mkdir(exist_ok=True)
            for f in files:
                shutil.copyfile(f, tmp / sub / f.name)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def node_table(scenario: Any) -> str:
    """A Markdown table of a scenario's nodes, in the file's order: id (what investments, delays,
    disruptions and routes name), kind and display name. ``docs/scenarios.md`` holds the
    baseline's (``tests/test_library.py`` keeps it true)."""
    rows = ["| node id | kind | display name |", "|---|---|---|"]
    rows += [f"| `{nid}` | {spec.kind} | {spec.name or ''} |" for nid, spec in scenario.nodes.items()]
    return "\n".join(rows)
