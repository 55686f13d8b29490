"""Which engine runs: the modules compiled with mypyc at install, or their Python sources.

The build (``setup.py``) compiles the engine's hot modules where a C compiler is present and
puts each compiled module beside its ``.py``, where Python would import it in place of the
source; it also writes ``model/compiled_engine.json``, the hash of every source it compiled.
:func:`activate` (run once, by ``import model``) uses the compiled modules only while that
manifest vouches for every one of them:

* every compiled module's source hashes as it did when compiled (an edit after an editable
  install makes the whole engine run from source, with a :class:`StaleEngineWarning`, until
  ``pip install -e .`` compiles it again: compiled modules call each other directly, so one
  stale module means none is used);
* the manifest lists exactly the compiled modules present, and their shared library is there;
* ``CORRIDOR_PURE_PYTHON`` is not set (to ``1``): then the sources run, without a warning.

Otherwise every module that has a compiled twin is imported from its source (a finder placed
first on ``sys.meta_path``). Both engines give the same results to the byte
(``tests/test_compiled.py``); the compiled one simulates about twice as fast.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from dataclasses import dataclass
from importlib.abc import MetaPathFinder
from pathlib import Path
from types import ModuleType
from typing import Sequence

PURE_ENV = "CORRIDOR_PURE_PYTHON"
"""Set to 1 to run the engine from its Python sources even where it was compiled."""
_WARNED_ENV = "CORRIDOR_STALE_ENGINE_WARNED"  # (one warning per process tree: pool workers inherit it)
PACKAGE = Path(__file__).resolve().parent.parent
MANIFEST = PACKAGE / "compiled_engine.json"


class StaleEngineWarning(UserWarning):
    """The compiled engine does not match its sources: they run instead."""


@dataclass(frozen=True)
class EngineBuild:
    """What :func:`activate` decided: ``compiled`` or not, and why."""

    compiled: bool
    reason: str
    modules: tuple[str, ...] = ()
    """The modules built compiled (whether or not they are used)."""

    def describe(self) -> str:
        return f"compiled engine ({self.reason})" if self.compiled else f"pure-Python engine ({self.reason})"


def compiled_twins(package: Path = PACKAGE) -> dict[str, Path]:
    """Modules of the package with a compiled extension beside their source: name -> source."""
    out: dict[str, Path] = {}
    root = package.parent
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for ext in package.rglob(f"*{suffix}"):
            src = ext.with_name(ext.name[: -len(suffix)] + ".py")
            if src.exists():
                out[".".join(src.relative_to(root).with_suffix("").parts)] = src
    return out


def decide(package: Path = PACKAGE, environ: dict[str, str] | None = None) -> EngineBuild:
    """Whether the compiled modules of ``package`` may run (see the module's docstring)."""
    env = os.environ if environ is None else environ
    twins = compiled_twins(package)
    if not twins:
        return EngineBuild(False, "not compiled at install: no C compiler, or CORRIDOR_COMPILE=0")
    names = tuple(sorted(twins))
    if env.get(PURE_ENV, "") not in ("", "0"):
        return EngineBuild(False, f"{PURE_ENV} is set", names)
    manifest = package / MANIFEST.name
    try:
        built = json.loads(manifest.read_text(encoding="utf-8"))
        hashes: dict[str, str] = built["modules"]
        group = str(built["group"])
    except (OSError, ValueError, KeyError, TypeError):
        return EngineBuild(False, f"stale: {manifest.name} is missing or unreadable", names)
    if set(hashes) != set(twins):
        return EngineBuild(False, f"stale: the compiled modules are not those {manifest.name} lists", names)
    root = package.parent
    for name in names:
        if hashlib.sha256(twins[name].read_bytes()).hexdigest() != hashes[name]:
            return EngineBuild(False, f"stale: {twins[name].relative_to(root).as_posix()} changed since it was "
                                      "compiled", names)
    if not any((package / (group.split(".")[-1] + s)).exists() for s in importlib.machinery.EXTENSION_SUFFIXES):
        return EngineBuild(False, f"stale: the shared library {group} is missing", names)
    return EngineBuild(True, f"mypyc {built.get('mypy', '?')}", names)


class _FromSource(MetaPathFinder):
    """Imports the listed modules from their ``.py`` files, ahead of their compiled twins."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        src = self.sources.get(fullname)
        return None if src is None else importlib.util.spec_from_file_location(fullname, src)


_current: EngineBuild | None = None


def activate() -> EngineBuild:
    """Decide once per process which engine runs and make imports follow (idempotent)."""
    global _current
    if _current is not None:
        return _current
    build = decide()
    if not build.compiled and build.modules:
        twins = compiled_twins()
        loaded = [n for n in twins if n in sys.modules]
        if loaded:  # (cannot happen through ``import model``: it runs this first)
            raise ImportError(f"compiled modules imported before the engine was chosen: {loaded}")
        sys.meta_path.insert(0, _FromSource(twins))
        if build.reason.startswith("stale") and not os.environ.get(_WARNED_ENV):
            os.environ[_WARNED_ENV] = "1"
            warnings.warn(f"the compiled engine is {build.reason}: running the pure-Python engine (the same "
                          "results, slower); `pip install -e .` compiles it again", StaleEngineWarning, stacklevel=2)
    _current = build
    return build


def current() -> EngineBuild:
    """The engine this process runs (deciding now if ``import model`` has not)."""
    return activate()
