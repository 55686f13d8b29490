"""Folders and files written so that nothing half-written is ever taken for a result.

Every output folder (run, batch, sweep, appraisal) follows one protocol (:class:`RunFolder`):
claimed before anything is simulated (new or empty, or resumed only by the same command, the
same definition and the same code), jobs stored in ``jobs/`` as they finish, outputs written
in place, ``manifest.json`` written last with ``"status": "complete"`` and every file's SHA-256.
Single files are written to a temporary sibling and renamed. Job results are stored with a
checksum over their key and value, so a damaged or swapped one is recomputed rather than
trusted. Temporary names carry the writer's process id: what a killed process left is removed
by the next run into the same folder (:func:`clean_stale`). Also: the versions, the code's
hash and the git commit a manifest records.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
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
    bytes, so that no name (``../../tmp/x``, a NUL byte) writes outside results/ and no name
    is too long for a file system.

    >>> folder_name("../../tmp/x"), folder_name("Baku–Tbilisi 2030")
    ('_.._tmp_x', 'Baku_Tbilisi_2030')
    """
    safe = re.sub(r"[^\w.+-]", "_", name).lstrip(".")
    return safe.encode("utf-8", "surrogatepass")[:MAX_NAME].decode("utf-8", "ignore") or "run"


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
    """Tell the user something they may want to know: a warning of the ``model`` logger (the
    command line prints it as ``note: ...`` on stderr; ``-q`` keeps it)."""
    logging.getLogger("model").warning("note: %s", message)


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
    (raises the ``OSError``, with the path). The probe is removed whatever happens."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".write-probe.tmp-{os.getpid()}"
    try:
        with open(probe, "w") as f:
            f.write("probe\n")
    except OSError as e:
        raise type(e)(e.errno, f"cannot write in this folder ({e.strerror or e})", str(folder)) from None
    finally:
        probe.unlink(missing_ok=True)


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


def _checksum(key: str, value: object) -> str:
    return hashlib.sha256((key + "\0" + _canonical(value)).encode()).hexdigest()


def write_checked_json(path: Path, value: object) -> None:
    """Store a JSON-able value with the SHA-256 of its key (the file's name less ``.json``) and
    canonical text beside it, atomically: a value moved to another key's file no longer checks."""
    path = Path(path)
    write_file_atomic(path, json.dumps({"key": path.stem, "sha256": _checksum(path.stem, value), "value": value}))


def read_checked_json(path: Path) -> object:
    """The value :func:`write_checked_json` stored under this file's name; :class:`DamagedFile` if
    the file is not whole, not a regular file, or holds another key's value (``FileNotFoundError``
    if absent)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(path)
    if not path.is_file():  # a FIFO or device would block or stream forever
        raise DamagedFile(f"{path} is not a regular file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ok = isinstance(data, dict) and data.keys() == {"key", "sha256", "value"} and data["key"] == path.stem \
            and _checksum(path.stem, data["value"]) == data["sha256"]
    except (ValueError, UnicodeDecodeError):
        ok = False
    if not ok:
        raise DamagedFile(f"{path} is damaged (truncated, altered or another job's: not what was stored)")
    return data["value"]


JOB_STORE = "jobs"
"""The sub-folder of an output folder where each finished job is kept (run and batch folders drop it
when complete: their tables hold every replication)."""
MANIFEST = "manifest.json"
LOCK = ".lock"
"""Held (an exclusive ``flock``) by the one command that writes the folder; gone when it completes."""


class FolderRefused(Exception):
    """An output folder this command may not use (another command's, another definition's, another
    code's, in use, a file, a dangling link): one line for the user (exit 2), nothing written."""


@functools.lru_cache(maxsize=1)
def code_sha256() -> str:
    """SHA-256 of the package's own source files (every ``.py`` under ``model/``, by relative path):
    two installs with the same figure run the same model code. Job keys and run folders carry it, so
    a resume never mixes replications of edited code with those of the code before."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def definition_sha256(definition: object) -> str:
    """SHA-256 of a JSON-able definition (what a command was asked to do, inputs resolved)."""
    return hashlib.sha256(json.dumps(definition, sort_keys=True, default=str).encode()).hexdigest()


def read_manifest(folder: Path) -> dict | None:
    """A folder's ``manifest.json`` as a mapping, or None (absent, not a regular file, not JSON)."""
    path = Path(folder) / MANIFEST
    try:
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _entries(folder: Path) -> set[str]:
    """What a folder holds, less the temporaries of killed writers and the lock."""
    return {p.name for p in folder.iterdir() if not _STALE.match(p.name) and p.name != LOCK}


_CLAIMED: dict[Path, "RunFolder"] = {}
"""The folders this process holds, by resolved path: a command claims its folder before simulating
and completes it after; :meth:`RunFolder.claim` of a folder already held returns the same claim."""


@dataclass
class RunFolder:
    """One output folder of a run, batch, sweep or appraisal, and the one protocol all four follow.

    :meth:`claim` before anything is simulated: a new or empty folder is claimed; a folder holding
    anything is resumed only with ``resume`` and only if its manifest is of the same kind, the same
    definition (the command's inputs, resolved: :func:`definition_sha256`) and the same code
    (:func:`code_sha256`); a lock refuses a second command on the same folder. A complete folder
    that kept its jobs (sweeps, appraisals) can be resumed too: its outputs are rebuilt from them
    (a sweep judged against another baseline, say) without simulating again. The manifest then
    says ``running``; jobs are stored in :attr:`jobs` as they finish; the outputs are written in
    place; :meth:`complete` writes the manifest last, with ``status: complete`` and the SHA-256 of
    every file beside it, so a complete manifest always describes the files it sits with, and a
    folder without one is never read as a result."""

    path: Path
    identity: dict
    _lock: object = field(default=None, repr=False)

    @property
    def jobs(self) -> Path:
        return self.path / JOB_STORE

    @classmethod
    def claim(cls, out: str | Path, *, kind: str, name: str, definition: object, resume: bool = False,
              describe: str | None = None) -> "RunFolder":
        """Claim ``out`` for a ``kind`` command (``describe``: how to name the definition in a
        refusal, e.g. the sweep file); :class:`FolderRefused` with one line if it may not be used."""
        path = Path(out)
        identity = {"kind": kind, "name": name, "definition_sha256": definition_sha256(definition),
                    "code_sha256": code_sha256(), "version": __version__}
        held = _CLAIMED.get(path.resolve())
        if held is not None:
            if held.identity != identity:
                raise FolderRefused(f"{path} is being written by another {held.identity['kind']} of this process")
            return held
        if path.is_symlink() and not path.exists():
            raise FolderRefused(f"{path} is a link to {os.readlink(path)}, which does not exist; expected a folder "
                                "or a new name")
        if path.exists() and not path.is_dir():
            raise FolderRefused(f"{path} is a file; expected a folder")
        stale = clean_stale(path.parent) + (clean_stale(path) if path.is_dir() else [])
        if stale:
            note(f"removed {len(stale)} temporary file(s) or folder(s) left by killed runs: "
                 + ", ".join(str(p) for p in stale[:5]) + (" ..." if len(stale) > 5 else ""))
        what = describe or f"this {kind}"
        if path.is_dir() and _entries(path):
            man = read_manifest(path)
            if not resume:
                resumable = man is not None and "definition_sha256" in man and (
                    man.get("status") == "running" or (path / JOB_STORE).is_dir())
                raise FolderRefused(f"{path} already exists and is not empty; "
                                    + (f"add --resume to continue the {man.get('kind')} there (or rebuild its outputs "
                                       "from its stored jobs), or " if resumable and man is not None else "")
                                    + "choose another folder")
            if man is None or "definition_sha256" not in man:
                raise FolderRefused(f"{path} is not an output folder of this program (no manifest.json it wrote); "
                                    "choose another folder")
            if man.get("kind") != kind:
                raise FolderRefused(f"{path} holds a {man.get('kind')}, not a {kind}; choose another folder")
            if man.get("status") == "complete" and not (path / JOB_STORE).is_dir():
                raise FolderRefused(f"{path} is already complete (its replications are in its tables); choose "
                                    f"another folder for a new {kind}")
            if man.get("definition_sha256") != identity["definition_sha256"]:
                raise FolderRefused(f"{path} holds another {kind}: {what} is not what that folder was started "
                                    "with (an input, a parent scenario or an option changed); run it into a "
                                    "new folder")
            if man.get("code_sha256") != identity["code_sha256"]:
                raise FolderRefused(f"{path} was started by other model code (version {man.get('version')}, commit "
                                    f"{man.get('git_commit') or 'unknown'}); its replications cannot be mixed with "
                                    "this code's: run it into a new folder")
        check_writable(path)
        lock = _lock(path)
        folder = cls(path, identity, lock)
        write_file_atomic(path / MANIFEST, json.dumps({**identity, "git_commit": git_commit(),
                                                       "status": "running"}, indent=2))
        _CLAIMED[path.resolve()] = folder
        return folder

    def complete(self, manifest: dict, *, keep_jobs: bool = True) -> Path:
        """Finish the folder: drop the job store unless ``keep_jobs``, then write the manifest
        (``manifest`` plus the identity, every file's SHA-256 and ``status: complete``) last."""
        if not keep_jobs:
            shutil.rmtree(self.jobs, ignore_errors=True)
        digests = {p.relative_to(self.path).as_posix(): _sha256_file(p)
                   for p in sorted(self.path.rglob("*")) if p.is_file() and p.name not in (MANIFEST, LOCK)
                   and JOB_STORE not in p.relative_to(self.path).parts[:1] and not _STALE.match(p.name)}
        body = {**self.identity, "git_commit": git_commit(), **manifest, "sha256": digests, "status": "complete"}
        write_file_atomic(self.path / MANIFEST, json.dumps(body, indent=2, default=str))
        self.release()
        return self.path

    def release(self) -> None:
        """Let go of the folder (the lock file is removed; the manifest stays as it is)."""
        _CLAIMED.pop(self.path.resolve(), None)
        if self._lock is not None:
            (self.path / LOCK).unlink(missing_ok=True)
            self._lock.close()  # type: ignore[attr-defined]
            self._lock = None


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _lock(folder: Path) -> object:
    """An exclusive lock on ``folder`` for the life of this process's claim (POSIX ``flock``;
    elsewhere none): a second command on the same folder is refused rather than racing."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return None
    f = open(folder / LOCK, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        pid = f.read().strip()
        f.close()
        raise FolderRefused(f"{folder} is in use by another command (process {pid or 'unknown'}); wait for it to "
                            "finish or choose another folder") from None
    f.seek(0)
    f.truncate()
    f.write(str(os.getpid()))
    f.flush()
    return f


def write_folder(out: str | Path, fill: Callable[[Path], dict], *, kind: str, name: str, definition: object,
                 keep_jobs: bool = False) -> Path:
    """Write a complete output folder: claim ``out`` (new or empty, or already claimed by this
    process for the same definition), ``fill(folder)`` writes the content and returns the
    manifest's fields, :meth:`RunFolder.complete` writes the manifest last."""
    folder = RunFolder.claim(out, kind=kind, name=name, definition=definition)
    try:
        manifest = fill(folder.path)
    except BaseException:
        folder.release()
        raise
    return folder.complete(manifest, keep_jobs=keep_jobs)


def scenario_yaml(s: Scenario) -> str:
    return yaml.safe_dump(s.model_dump(mode="json", exclude_defaults=False), sort_keys=False, allow_unicode=True)


