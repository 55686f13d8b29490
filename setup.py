"""Build hook: the engine's hot modules compiled with mypyc where a C compiler is present.

Everything else about the package is in ``pyproject.toml``; this file only adds the
compiled engine. ``CORRIDOR_COMPILE`` chooses:

* ``auto`` (the default): compile when mypyc and a working C compiler are there, else build
  the pure-Python package (the same results, slower: README "Setup"), with a note;
* ``1``: compile or fail the build (CI);
* ``0``: never compile.

The compiled modules sit beside their sources (for an editable install, in the source tree).
A compiled module shadows its ``.py``, so the build also writes ``model/compiled_engine.json``
(each compiled module's source hash), and ``model.core.compiled`` uses the compiled engine
only while every source still matches it: after an edit, the pure-Python engine runs (with a
warning) until the next ``pip install -e .``. No stale compiled module can run.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent

COMPILED = [
    # the engine's hot path (docs/design.md §7): the clock, the year grid, timelines, histograms,
    # uniform draws, the node kinds' engines and one replication's network; specs, the scenario,
    # the analysis and everything else stay interpreted
    "model/core/clock.py",
    "model/core/timeline.py",
    "model/core/years.py",
    "model/core/histogram.py",
    "model/core/rng.py",
    "model/nodes/base.py",
    "model/nodes/port.py",
    "model/nodes/sealink.py",
    "model/nodes/rail.py",
    "model/nodes/pipeline.py",
    "model/nodes/border.py",
    "model/engine/records.py",
    "model/engine/choice.py",
    "model/engine/balance.py",
    "model/engine/simulate.py",
]
GROUP = "model.compiled"  # the shared library: model/compiled__mypyc.<abi>.so
MANIFEST = "model/compiled_engine.json"


def _mode() -> str:
    mode = os.environ.get("CORRIDOR_COMPILE", "auto").strip().lower() or "auto"
    if mode not in ("auto", "0", "1"):
        sys.exit(f"error: CORRIDOR_COMPILE={mode!r}: expected auto, 1 or 0")
    return mode


def _note(msg: str) -> None:
    print(f"caspian-corridor: {msg}", file=sys.stderr)


_SOURCES: dict[str, str] = {}
"""Each compiled module's source hash, taken before mypyc reads the sources (a source edited
during the build then no longer matches, and runs from source: never the other way round)."""


def _manifest() -> dict:
    import mypy.version

    return {"group": GROUP + "__mypyc", "mypy": mypy.version.__version__, "modules": _SOURCES}


class BuildExt(build_ext):
    """build_ext that writes the manifest beside the compiled modules, and in ``auto`` mode
    falls back to the pure-Python package when the C compiler fails."""

    def run(self) -> None:
        if not self.extensions:
            return
        try:
            super().run()
        except Exception as e:  # a missing compiler or Python headers: distutils' errors vary
            if _mode() == "1":
                raise
            _note(f"the compiled engine was not built ({type(e).__name__}: {e}); the pure-Python engine will run "
                  "(the same results, slower)")
            self.extensions = []
            return
        text = json.dumps(_manifest(), indent=1, sort_keys=True) + "\n"
        targets = [Path(self.build_lib) / MANIFEST]
        if self.inplace or getattr(self, "editable_mode", False):
            targets.append(ROOT / MANIFEST)
            _drop_leftovers()
        for t in targets:
            t.parent.mkdir(parents=True, exist_ok=True)
            t.write_text(text, encoding="utf-8")

    def get_outputs(self) -> list[str]:
        out = super().get_outputs()
        return out + [str(Path(self.build_lib) / MANIFEST)] if self.extensions else out


BUILDS = {"build", "build_ext", "bdist_wheel", "editable_wheel", "install", "develop"}
"""setup.py commands that build modules; the others (egg_info, dist_info, sdist: pip runs them
to read metadata) compile nothing, so the engine is compiled once per install."""


def _drop_leftovers() -> None:
    """Compiled modules in the source tree of a module this build no longer compiles (from a
    build with a longer list): the manifest would not vouch for them, and the engine would run
    from source until they are gone."""
    compiled = {str(ROOT / p[:-3]) for p in COMPILED}
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for ext in (ROOT / "model").rglob(f"*{suffix}"):
            stem = str(ext)[: -len(suffix)]
            if Path(stem + ".py").exists() and stem not in compiled:
                _note(f"removing {ext.relative_to(ROOT)}: its module is no longer compiled")
                ext.unlink()


def _extensions() -> list:
    if not BUILDS & set(sys.argv[1:]):
        return []
    mode = _mode()
    if mode == "0":
        _note("CORRIDOR_COMPILE=0: building the pure-Python engine")
        return []
    try:
        from mypyc.build import mypycify
    except ImportError as e:
        if mode == "1":
            raise
        _note(f"mypyc is not available ({e}); building the pure-Python engine")
        return []
    if not _compiler_works():
        if mode == "1":
            sys.exit("error: CORRIDOR_COMPILE=1 but no working C compiler (with Python headers) was found")
        _note("no working C compiler (with Python headers): building the pure-Python engine "
              "(the same results, slower)")
        return []
    _SOURCES.update({p[:-3].replace("/", "."): hashlib.sha256((ROOT / p).read_bytes()).hexdigest() for p in COMPILED})
    try:
        import simpy  # noqa: F401  (see _mypy_config)
    except ImportError as e:
        if mode == "1":
            raise
        _note(f"simpy is not in the build environment ({e}); building the pure-Python engine")
        return []
    cwd = os.getcwd()
    os.chdir(ROOT)  # mypyc takes paths relative to the project
    try:
        return mypycify([f"--config-file={_mypy_config()}", *COMPILED], opt_level="3", debug_level="0",
                        group_name=GROUP)
    except BaseException as e:  # mypyc's type check failed (a newer mypy): keep the package usable
        if mode == "1":
            raise
        _note(f"mypyc could not compile the engine ({type(e).__name__}: {e}); building the pure-Python engine")
        return []
    finally:
        os.chdir(cwd)


def _mypy_config() -> Path:
    """mypy's settings for compiling. The build environment has mypy and simpy (whose
    Environment the clock subclasses: compiled against an unknown base, it crashes) but not
    the package's other dependencies (numpy, pydantic, pandas), so imports of them are Any;
    the project's own mypy settings (pyproject.toml: the pydantic plugin, strict warnings)
    are for checking the code (CI runs ``mypy model``), not for compiling it. The build keeps
    its own cache, so that what a developer's ``mypy`` run cached never shapes a build."""
    cfg = ROOT / "build" / "mypyc.ini"
    cfg.parent.mkdir(exist_ok=True)
    cfg.write_text("[mypy]\nignore_missing_imports = True\nfollow_imports = silent\n"
                   f"cache_dir = {ROOT / 'build' / 'mypyc-cache'}\n", encoding="utf-8")
    return cfg


def _compiler_works() -> bool:
    """Can this machine compile and link a Python extension? (A compiler without the
    Python headers is the usual way it cannot.)"""
    import sysconfig
    import tempfile

    try:
        from setuptools._distutils.ccompiler import new_compiler
        from setuptools._distutils.sysconfig import customize_compiler
    except ImportError:  # (setuptools moved them: let the build itself find out, BuildExt falls back)
        return True
    try:
        cc = new_compiler()
        customize_compiler(cc)
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "probe.c"
            src.write_text("#include <Python.h>\nint probe(void) { return Py_IsInitialized(); }\n")
            cc.compile([str(src)], output_dir=tmp, include_dirs=[sysconfig.get_paths()["include"]])
        return True
    except Exception:
        return False


setup(ext_modules=_extensions(), cmdclass={"build_ext": BuildExt})
