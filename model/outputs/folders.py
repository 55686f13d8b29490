"""Folders and files written so that nothing half-written is ever taken for a result.

A folder is built under a hidden temporary name next to its final place
(``.NAME.tmp-PID``) and renamed into place when complete; ``manifest.json`` is
its last file and says ``"status": "complete"``. Single files are written to a
temporary sibling and renamed. Job results are stored with a checksum, so a
damaged one is recomputed rather than trusted. Temporary names carry the writer's
process id: what a killed process left is removed by the next run into the same
folder (:func:`clean_stale`). Also: the versions and git commit a manifest records.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Callable

import yaml

from model import __version__
from model.core.limits import MAX_NAME
from model.scenario.schema import Scenario

PACKAGES = ["simpy", "numpy", "pandas", "scipy", "matplotlib", "pydantic", "pyyaml", "networkx", "SALib", "plotly",
            "pyarrow", "dask", "distributed"]
"""Every package that shapes results or outputs (draws, tables, the Morris sensitivity, figures, the
Parquet log, a Dask cluster run): their versions are recorded in every manifest."""


def package_versions() -> dict[str, str]:
    """Python's version, the model's and every package of :data:`PACKAGES` that is installed."""
    out = {"python": platform.python_version(), "caspian-corridor": __version__}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pass
    return out


PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The package folder (``model/``) whose commit a manifest records."""


def _git(*args: str) -> str | None:
    """``git args`` run in the package folder (what the user's environment says of another
    repository, GIT_DIR and the like, is ignored); its output, or None when it fails."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        r = subprocess.run(["git", *args], cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=5, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def build_commit(version: str | None = None) -> str | None:
    """The project's commit an installed package was built from, from its version
    (setuptools-scm writes it from ``git describe``): ``0.2.1.dev3+g5e02eec`` -> ``5e02eec``,
    ``...+g5e02eec.d20260101`` (built from a work tree with uncommitted changes) ->
    ``5e02eec+dirty``; a release built on its tag, ``0.2.0`` -> ``v0.2.0`` (the tag); None when
    the version says nothing (``0+unknown``).

    >>> build_commit("0.2.1.dev3+g5e02eec"), build_commit("0.2.1.dev3+g5e02eec.d20260101")
    ('5e02eec', '5e02eec+dirty')
    >>> build_commit("0.2.0"), build_commit("0.2.0+d20260101"), build_commit("0+unknown")
    ('v0.2.0', None, None)
    """
    public, _, local = (version if version is not None else __version__).partition("+")
    parts = local.split(".") if local else []
    node = next((p[1:] for p in parts if p.startswith("g") and len(p) > 1), None)
    dirty = any(p.startswith("d") and p[1:].isdigit() for p in parts)
    if node:
        return node + ("+dirty" if dirty else "")
    if not local and re.fullmatch(r"\d+(\.\d+)+", public):
        return f"v{public}"
    return None


def git_commit() -> str | None:
    """The project's own commit that ran: when the package folder is a file of a git work tree
    of this project (a clone, an editable install), its HEAD with ``+dirty`` for uncommitted
    changes; else (an installed wheel) the commit it was built from (:func:`build_commit`).
    Never the HEAD of a repository the package merely sits in (a venv inside the user's own
    project): the package folder must be the work tree's ``model/``, tracked there."""
    top = _git("rev-parse", "--show-toplevel")
    if top is not None and Path(top).resolve() == PACKAGE_DIR.parent and \
            _git("ls-files", "--error-unmatch", "__init__.py") is not None:
        head = _git("rev-parse", "HEAD")
        if head:
            dirty = _git("status", "--porcelain", "--untracked-files=no")
            return head + ("+dirty" if dirty else "")
    return build_commit()


def folder_name(name: str) -> str:
    """``name`` made into one safe folder name: anything but letters, digits and
    ``. _ - +`` becomes ``_``, with no leading dot and at most ``limits.MAX_NAME``
    characters, so that no name (``../../tmp/x``, a NUL byte) writes outside results/.

    >>> folder_name("../../tmp/x"), folder_name("Baku–Tbilisi 2030")
    ('_.._tmp_x', 'Baku_Tbilisi_2030')
    """
    return re.sub(r"[^\w.+-]", "_", name).lstrip(".")[:MAX_NAME] or "run"


def default_run_dir(results: Path, name: str) -> Path:
    """A new folder ``results/<name>-<date>-<time>`` (the name made safe by :func:`folder_name`)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = folder_name(name)
    path = results / f"{name}-{stamp}"
    i = 1
    while path.exists():
        path = results / f"{name}-{stamp}-{i}"
        i += 1
    return path


def note(message: str) -> None:
    """Tell the user something they may want to know (stderr, one line)."""
    print(f"note: {message}", file=sys.stderr, flush=True)


def _temporary(path: Path, kind: str = "tmp") -> Path:
    """The hidden sibling a writer uses before renaming: ``.NAME.tmp-PID``."""
    return path.parent / f".{path.name}.{kind}-{os.getpid()}"


_STALE = re.compile(r"^\..+\.(?:tmp|old)-(\d+)$")


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (assumed so where that cannot be asked safely)."""
    if os.name != "posix":
        return True  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def clean_stale(folder: Path) -> list[Path]:
    """Remove the hidden temporary files and folders (``.NAME.tmp-PID``, ``.NAME.old-PID``)
    that killed runs left in ``folder``: only those whose process is gone. Returns them."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        m = _STALE.match(entry.name)
        if not m or pid_alive(int(m.group(1))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def check_writable(folder: Path) -> None:
    """Create ``folder`` (and its parents) and prove it writable by creating and removing a
    probe file, so that a read-only or full place fails before anything is simulated
    (raises the ``OSError``, with the path)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".write-probe.tmp-{os.getpid()}"
    try:
        with open(probe, "w") as f:
            f.write("probe\n")
        probe.unlink()
    except OSError as e:
        raise type(e)(e.errno, f"cannot write in this folder ({e.strerror or e})", str(folder)) from None


def write_file_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old content or the new, never a part
    (on any failure, a full disk included, the temporary file is removed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class DamagedFile(ValueError):
    """A stored job file that is truncated or altered (its checksum does not match)."""


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def write_checked_json(path: Path, value: object) -> None:
    """Store a JSON-able value with the SHA-256 of its canonical text beside it, atomically."""
    digest = hashlib.sha256(_canonical(value).encode()).hexdigest()
    write_file_atomic(path, json.dumps({"sha256": digest, "value": value}))


def read_checked_json(path: Path) -> object:
    """The value :func:`write_checked_json` stored; :class:`DamagedFile` if the file is not
    whole (``FileNotFoundError`` if absent)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        ok = isinstance(data, dict) and data.keys() == {"sha256", "value"} and \
            hashlib.sha256(_canonical(data["value"]).encode()).hexdigest() == data["sha256"]
    except (ValueError, UnicodeDecodeError):
        ok = False
    if not ok:
        raise DamagedFile(f"{path} is damaged (truncated or altered: not what was stored)")
    return data["value"]


JOB_STORE = "jobs"
"""The sub-folder of an output folder where each finished job is kept until the folder is complete."""


def _holds_only_a_store(folder: Path) -> bool:
    """An output folder of an interrupted run: nothing in it but its job store (or empty)."""
    return folder.is_dir() and {p.name for p in folder.iterdir()} <= {JOB_STORE}


def write_atomically(final: Path, fill: Callable[[Path], dict]) -> Path:
    """Create ``final`` by filling a temporary sibling folder, then renaming it.

    ``fill(tmp)`` writes the content and returns the manifest, which is
    written last with ``status: complete``. A ``final`` that exists holding
    only its job store (``jobs/``: an interrupted run now complete) is replaced;
    any other existing ``final`` is an error, never overwritten.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(final)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        manifest = fill(tmp)
        manifest["status"] = "complete"
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        if final.exists() and _holds_only_a_store(final):
            old = _temporary(final, "old")
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def scenario_yaml(s: Scenario) -> str:
    return yaml.safe_dump(s.model_dump(mode="json", exclude_defaults=False), sort_keys=False, allow_unicode=True)


