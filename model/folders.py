"""Folders and files written so that nothing half-written is ever taken for a result.

A folder is built under a hidden temporary name next to its final place and
renamed into place when complete; ``manifest.json`` is its last file and says
``"status": "complete"``. Single files are written to a temporary sibling and
renamed. Also: the versions and git commit a manifest records.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Callable

import yaml

from . import __version__
from .limits import MAX_NAME
from .schema import Scenario

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


def write_file_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old content or the new, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    tmp.write_text(text)
    os.replace(tmp, path)


def write_atomically(final: Path, fill: Callable[[Path], dict]) -> Path:
    """Create ``final`` by filling a temporary sibling folder, then renaming it.

    ``fill(tmp)`` writes the content and returns the manifest, which is
    written last with ``status: complete``.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        manifest = fill(tmp)
        manifest["status"] = "complete"
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def scenario_yaml(s: Scenario) -> str:
    return yaml.safe_dump(s.model_dump(mode="json", exclude_defaults=False), sort_keys=False, allow_unicode=True)


