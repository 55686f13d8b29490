"""``python -m model ...``: the same command line as ``corridor`` and ``python run.py``.

``python -m model`` imports ``model`` from the first folder on the path that holds one, the
current folder first. Run inside another copy of this package (an unpacked sdist, an older
clone) while caspian-corridor is installed, it would silently run that copy rather than the
installed one: :func:`other_copy` sees this, and the command stops with one line (exit 2).
A ``model.py`` of someone else's in the current folder runs *instead of* this module, so
nothing here can catch that one (README, "The import name `model`").
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

import model


def installed_package() -> Path | None:
    """The ``model/`` folder of the installed caspian-corridor (the checkout's, for an editable
    install), or None when the distribution is not installed (a checkout run as it is)."""
    try:
        dist = metadata.distribution("caspian-corridor")
    except metadata.PackageNotFoundError:
        return None
    direct = dist.read_text("direct_url.json")
    if direct:
        info = json.loads(direct)
        url = urlparse(info.get("url", ""))
        if info.get("dir_info", {}).get("editable") and url.scheme == "file":
            return Path(unquote(url.path)).resolve() / "model"
    return Path(str(dist.locate_file("model"))).resolve()


def other_copy() -> str | None:
    """Why this ``model`` is not the installed package (one line), or None when it is, or when
    none is installed."""
    here = Path(model.__file__).resolve().parent
    installed = installed_package()
    if installed is None or here == installed:
        return None
    return (f"python -m model found the copy of the package in {here} (the current folder comes first on the "
            f"path), not the installed caspian-corridor {metadata.version('caspian-corridor')} in {installed}; run `corridor ...` "
            "(it always runs the installed one), run this from another folder, or install this copy "
            "(pip install -e .)")


if __name__ == "__main__":
    problem = other_copy()
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(2)
    from model.cli import main

    sys.exit(main())
