"""Print the lowest versions pyproject.toml allows, as pip constraints (`name==floor`, one a line):
the runtime dependencies and the `dask` extra. `.ci/run` installs exactly these into a separate
venv and runs the fast lane there, so every floor in pyproject.toml is a tested one."""

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
pins = {}
for req in [*project["dependencies"], *project["optional-dependencies"]["dask"]]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(?:,\s*<\s*[0-9][0-9A-Za-z.]*\s*)?",
                     req)
    if not m:
        sys.exit(f"floors.py: {req!r}: expected 'name>=floor' or 'name>=floor,<cap' (every dependency has a "
                 "tested floor)")
    pins[m.group(1)] = m.group(2)
if "dask" in pins:
    pins["distributed"] = pins["dask"]  # dask[distributed] pins distributed to dask's version
print("\n".join(f"{k}=={v}" for k, v in pins.items()))
