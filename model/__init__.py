"""Caspian corridor freight simulator: a simpy model of the Middle Corridor.

The library API (``docs/api.md``)::

    import model
    s = model.load("scenarios/baseline.yaml")      # a validated Scenario
    r = model.run(s, replications=3)              # Results: typed tables
    r.corridor_summary                            # delivered Mt per year with 95% intervals
    b = model.batch([s, "scenarios/tripp_delay_2y.yaml"], replications=5)
    b.differences                                 # paired by replication
    folder = r.write("results/my-run")            # tables, plots, report.html, manifest
    model.read(folder) == r                       # True
    sw = model.sweep("scenarios/sweeps/tripp_delay.yaml", out="results/sweep")
    a = model.appraise(s, out="results/appraise", replications=5)   # investments ranked
    a.table; a.headline                           # with paired 95% intervals; one plain answer

Names are imported on first use, so ``import model`` stays light (the engine,
pandas and matplotlib load when a function that needs them is called).
Layers, each importing only from those before it: foundation (units,
distributions, rng, timeline, years, specs, weather) -> node kinds (``model.nodes``) ->
scenario (schema, route, scenario_*, uncertainty) -> engine (demand, simulate) -> analysis
(measures, stats, metrics, bottleneck, bound, sanity, summary, economics,
appraisal) -> outputs (folders, results, report, html, plots) -> orchestration
(runner, sweeps, appraiser, bench, api, cli). ``tests/test_layers.py`` checks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_API = {
    "load": "api", "run": "api", "batch": "api", "compare": "api", "read": "results",
    "Results": "results", "RunInfo": "results", "Scenario": "schema", "ScenarioError": "scenario",
    "sweep": "api", "SweepResults": "sweeps", "appraise": "api", "Appraisal": "appraiser",
}

__all__ = ["__version__", *_API]

if TYPE_CHECKING:  # pragma: no cover
    from .api import batch, compare, load, run
    from .results import Results, RunInfo, read
    from .scenario import ScenarioError
    from .schema import Scenario
    from .api import sweep
    from .sweeps import SweepResults
    from .api import appraise
    from .appraiser import Appraisal


_SUBMODULES = {"measures", "nodes", "route", "metrics", "simulate", "bound", "sanity", "summary", "plots", "report",
               "results", "schema", "scenario", "stats", "sweeps", "runner", "api", "cli", "timeline", "units",
               "economics", "appraisal"}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _API:
        value = getattr(importlib.import_module(f".{_API[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:  # model.measures.TABLES etc. without a separate import
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'model' has no attribute {name!r}")
