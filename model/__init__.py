"""Caspian corridor freight simulator: a simpy model of the Middle Corridor.

The library API (``docs/api.md``)::

    import model
    model.scenarios()                             # the scenario library: names and questions
    s = model.load("baseline")                    # a validated Scenario (a library name or a file)
    r = model.run(s, replications=3)              # Results: typed tables
    r.corridor_summary                            # delivered Mt per year with 95% intervals
    b = model.batch([s, "tripp_delay_2y"], replications=5)
    b.differences                                 # paired by replication
    folder = r.write("results/my-run")            # tables, plots, report.html, manifest
    model.read(folder) == r                       # True
    sw = model.sweep("tripp_delay", out="results/sweep")
    a = model.appraise(s, out="results/appraise", replications=5)   # investments ranked
    a.table; a.headline                           # with paired 95% intervals; one plain answer

Names are imported on first use, so ``import model`` stays light (the engine,
pandas and matplotlib load when a function that needs them is called).
Layers, one sub-package each, each importing only from those before it: ``core``
(units, limits, distributions, rng, timeline, years, specs, weather, histogram) ->
``nodes`` (the node kinds) -> ``scenario`` (schema, route, loader, checks, messages,
diff, uncertainty) -> ``engine`` (demand, simulate) -> ``analysis`` (measures, stats,
tables, bottleneck, bound, sanity, summary, economics, ranking) -> ``outputs`` (folders,
results, report, html, plots, map) -> ``experiments`` (pool, runner, sweeps, appraise,
bench) -> ``api`` and ``cli`` on top. ``tests/test_layers.py`` checks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

def _version() -> str:
    """The version setuptools-scm derived from the git tags when the package was built or
    installed (``model/_version.py``, not tracked); ``0+unknown`` in a checkout never installed."""
    import importlib

    try:
        return str(importlib.import_module("model._version").__version__)
    except ImportError:
        return "0+unknown"


__version__ = _version()

# the compiled engine runs only while it matches its sources (model/core/compiled.py): decided
# here, before any engine module is imported
from model.core.compiled import activate as _activate_engine  # noqa: E402

_activate_engine()

_API = {
    "load": "api", "run": "api", "batch": "api", "compare": "api", "read": "outputs.results",
    "Results": "outputs.results", "RunInfo": "outputs.results", "Scenario": "scenario.schema",
    "ScenarioError": "scenario.loader", "sweep": "api", "SweepResults": "experiments.sweeps", "appraise": "api",
    "Appraisal": "experiments.appraise", "scenarios": "api", "init": "api", "validate": "api",
}

__all__ = ["__version__", *_API]

if TYPE_CHECKING:  # pragma: no cover
    from model.api import batch, compare, load, run
    from model.outputs.results import Results, RunInfo, read
    from model.scenario.loader import ScenarioError
    from model.scenario.schema import Scenario
    from model.api import sweep
    from model.experiments.sweeps import SweepResults
    from model.api import appraise, init, scenarios, validate
    from model.experiments.appraise import Appraisal


_SUBMODULES = {"core", "nodes", "scenario", "engine", "analysis", "outputs", "experiments", "api", "cli"}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _API:
        value = getattr(importlib.import_module(f".{_API[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:  # model.analysis etc. without a separate import
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'model' has no attribute {name!r}")
