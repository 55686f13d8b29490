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

PACKAGES = ["simpy", "numpy", "pandas", "matplotlib", "pydantic", "pyyaml", "scipy", "networkx"]


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "caspian-corridor": __version__}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pass
    return out


def git_commit() -> str | None:
    """The commit of the code that ran (with '+dirty' for uncommitted changes), if in git."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


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


