"""The ``corridor`` command's entry point, kept outside the ``model`` package on purpose.

``model`` is a generic import name: a ``model.py`` or another ``model`` package earlier on the
Python path (a folder on PYTHONPATH, say) hides the simulator's, and the command would then
fail with a traceback or run someone else's code. This module has a name of its own and sits
beside the ``model/`` folder it belongs to (in site-packages, or in the checkout an editable
install points at), so it can check that ``import model`` finds that folder before importing
anything from it; if not, one line says what hides it, and the exit status is 2.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

OWN = Path(__file__).resolve().parent / "model"
"""The simulator's package: the ``model/`` folder beside this file."""


def shadowing() -> str | None:
    """Why ``import model`` would not import :data:`OWN`, or None when it would."""
    try:
        spec = importlib.util.find_spec("model")  # finds, without importing
    except (ImportError, ValueError) as e:
        return f"`import model` fails ({e}); expected the simulator's package in {OWN}"
    origin = Path(spec.origin).resolve() if spec is not None and spec.origin else None
    if origin is not None and origin == OWN / "__init__.py":
        return None
    found = (str(origin) if origin is not None else
             "a folder without __init__.py" if spec is not None else "nothing")
    return (f"`import model` finds {found}, not the simulator's package in {OWN}: a file or folder named "
            "model earlier on the Python path hides it (PYTHONPATH or the current folder); rename it, or "
            "take its folder off PYTHONPATH")


def main() -> int:
    """``corridor ...``: the command line of :mod:`model.cli`, once ``model`` is known to be the simulator's."""
    problem = shadowing()
    if problem:
        print(f"error: corridor: {problem}", file=sys.stderr)
        return 2
    from model.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
