"""The results of a run, batch or comparison: one typed, read-only object.

:class:`Results` is built once (:meth:`Results.build`) from the per-replication
tables the workers made from the engine's plain records; that one analysis
pass adds the capacity bound, the long summary, the corridor table and the
paired differences. Every table is a DataFrame whose columns are declared in
``model.analysis.measures``. :meth:`Results.write` writes a run folder (tables, resolved
scenarios, plots, ``report.html``, ``manifest.json`` last) and :func:`read`
reads one back: ``read(r.write(folder)) == r``. Plots and the report read from
it and nothing else.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from model.analysis.bound import bounds_for_runs, capacity_values_for_runs
from model.outputs.folders import package_versions, scenario_yaml, write_folder
from model.analysis.measures import LOG_TABLES, PER_REPLICATION, TABLES
from model.scenario.schema import Scenario
from model.analysis.summary import commodity_summary, corridor_summary, flow_summary, long_summary, paired_differences

if TYPE_CHECKING:  # pragma: no cover
    from model.analysis.bound import Pool


EXCEL_SHEETS = ("corridor_summary", "commodity_summary", "flow_summary", "capacity_values", "bound", "differences")
"""The tables :meth:`Results.to_excel` writes, a sheet each (what a person reads; every table
is in its CSV file)."""


class NotAResultError(FileNotFoundError):
    """A folder that is not a finished run, batch or comparison folder."""


@dataclass(frozen=True)
class RunInfo:
    """How the results were made."""

    kind: str = "run"
    """``run`` (one scenario), ``batch`` (several, with common random numbers) or ``compare``."""
    seed: int | None = None
    """Base seed of the replications (None for a comparison of several folders)."""
    replications: int = 0
    """Replications per scenario (the largest, if they differ)."""
    files: tuple[str, ...] = ()
    """The file each scenario was read from ('' when built in Python), in scenario order."""
    wall_s: float = 0.0
    """Elapsed seconds of the replications."""


def _empty(name: str) -> pd.DataFrame:
    return TABLES[name].conform(pd.DataFrame({c: [] for c in TABLES[name].names()}))


@dataclass(frozen=True, eq=False)
class Results:
    """Typed results: the scenarios, how they ran, and one DataFrame per table
    (columns, units and meanings in ``model.analysis.measures`` and ``docs/outputs.md``)."""

    scenarios: tuple[Scenario, ...]
    info: RunInfo
    annual_nodes: pd.DataFrame
    annual_streams: pd.DataFrame
    monthly_nodes: pd.DataFrame
    monthly_streams: pd.DataFrame
    active_periods: pd.DataFrame
    flow_bottlenecks: pd.DataFrame
    bottlenecks: pd.DataFrame
    corridor: pd.DataFrame
    commodities: pd.DataFrame
    transit_hist: pd.DataFrame
    routes: pd.DataFrame
    network_nodes: pd.DataFrame
    network_edges: pd.DataFrame
    perf: pd.DataFrame
    bound: pd.DataFrame
    capacity_values: pd.DataFrame
    summary: pd.DataFrame
    corridor_summary: pd.DataFrame
    flow_summary: pd.DataFrame
    commodity_summary: pd.DataFrame
    differences: pd.DataFrame = field(repr=False)
    shipments: pd.DataFrame | None = field(default=None, repr=False)
    """Every delivered shipment (``log_shipments``; ``shipments.parquet``), else None."""

    # ------------------------------------------------------------------ building

    @classmethod
    def build(cls, scenarios: list[Scenario] | tuple[Scenario, ...], per_replication: dict[str, pd.DataFrame],
              info: RunInfo, pool: "Pool | None" = None) -> "Results":
        """The one analysis pass: per-replication tables in, every table out (``pool``: where the
        capacity values' max-flows are computed, :func:`~model.analysis.bound.capacity_values_for_runs`)."""
        t = {n: TABLES[n].conform(per_replication[n]) if n in per_replication else _empty(n)
             for n in PER_REPLICATION}
        t["bound"] = TABLES["bound"].conform(bounds_for_runs(list(scenarios), t["annual_nodes"]))
        t["capacity_values"] = TABLES["capacity_values"].conform(
            capacity_values_for_runs(list(scenarios), t["annual_nodes"], pool))
        t["summary"] = long_summary(t)
        t["flow_summary"] = flow_summary(t)
        t["corridor_summary"] = corridor_summary(t)
        t["commodity_summary"] = commodity_summary(t)
        t["differences"] = paired_differences(t)
        log = per_replication.get("shipments")
        return cls(tuple(scenarios), info, **t, shipments=None if log is None else _dated(log, scenarios))

    # ------------------------------------------------------------------ reading

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, in the order of ``model.analysis.measures.TABLES``."""
        return {n: getattr(self, n) for n in TABLES}

    @property
    def names(self) -> list[str]:
        """Scenario names, the reference (first) first."""
        return [s.name for s in self.scenarios]

    def scenario(self, name: str) -> Scenario:
        for s in self.scenarios:
            if s.name == name:
                return s
        raise KeyError(f"no scenario {name!r}; these results hold: {', '.join(self.names)}")

    def delivered_mt(self, scenario: str | None = None) -> pd.Series:
        """Mean corridor tonnes delivered per year, in Mt (first scenario by default)."""
        c = self.corridor_summary
        c = c[c["scenario"] == (scenario or self.names[0])]
        return pd.Series(c["delivered_mt"].to_numpy(), index=c["year"].to_numpy(), name="delivered_mt")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Results):
            return NotImplemented
        if self.info != other.info or [s.model_dump() for s in self.scenarios] != \
                [s.model_dump() for s in other.scenarios]:
            return False
        for name in TABLES:
            try:
                pd.testing.assert_frame_equal(getattr(self, name), getattr(other, name), check_exact=True)
            except AssertionError:
                return False
        if (self.shipments is None) != (other.shipments is None):
            return False
        if self.shipments is not None:
            try:
                pd.testing.assert_frame_equal(self.shipments, other.shipments, check_exact=True)
            except AssertionError:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """A short account (the tables are attributes: ``r.corridor_summary``...)."""
        rows = ", ".join(f"{n} ({len(df)})" for n, df in self.tables().items())
        return (f"Results({self.info.kind} of {', '.join(self.names)}: {self.info.replications} replication(s), "
                f"seed {self.info.seed}; tables (rows): {rows})")

    # ------------------------------------------------------------------ writing

    def manifest(self) -> dict:
        """What ``manifest.json`` holds (``status`` is added when the folder is complete)."""
        return {
            "kind": self.info.kind,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "scenarios": [{"name": s.name, "file": f, "sha256": s.sha256(), "resolved": f"scenario-{s.name}.yaml"}
                          for s, f in zip(self.scenarios, self.info.files)],
            "seed": self.info.seed,
            "replications": self.info.replications,
            "replication_seeds": [{"seed": self.info.seed, "replication": k} for k in range(self.info.replications)],
            "versions": package_versions(),
            "wall_s": self.info.wall_s,
            "simulated_hops": int(self.perf["hops"].sum()),
            **({"shipment_log": {"file": "shipments.parquet", "rows": len(self.shipments)}}
               if self.shipments is not None else {}),
        }

    def write_tables(self, folder: Path) -> None:
        """Every table as ``<name>.csv`` (full precision: read back exactly)."""
        for name, df in self.tables().items():
            df.to_csv(Path(folder) / f"{name}.csv", index=False)

    def to_excel(self, path: str | Path) -> Path:
        """The summary tables as one Excel workbook (``EXCEL_SHEETS``: a sheet each, columns
        named as in the CSV files, numbers to Excel's 15 significant digits), an ``about`` sheet (how the results were
        made) and a ``columns`` sheet (each column's label, unit and meaning from
        ``model.analysis.measures``); written atomically. Read a sheet back with
        ``pd.read_excel(path, sheet_name=name)``."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        about = pd.DataFrame({"field": ["kind", "scenarios", "files", "seed", "replications", "written"],
                              "value": [self.info.kind, ", ".join(self.names), ", ".join(self.info.files),
                                        "" if self.info.seed is None else str(self.info.seed),
                                        str(self.info.replications),
                                        datetime.now(timezone.utc).isoformat(timespec="seconds")]})
        columns = pd.DataFrame([{"sheet": n, "column": c.name, "label": c.label, "unit": c.unit,
                                 "description": c.description} for n in EXCEL_SHEETS for c in TABLES[n].columns])
        try:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
                for name, df in [("about", about), *((n, getattr(self, n)) for n in EXCEL_SHEETS), ("columns", columns)]:
                    df.to_excel(xl, sheet_name=name, index=False, freeze_panes=(1, 0))
                    sheet = xl.sheets[name]
                    for i, col in enumerate(df.columns, 1):  # wide enough for the header and the values
                        width = max([len(str(col))] + [len(str(v)) for v in df[col].head(200)])
                        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(width + 2, 60)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def definition(self) -> dict:
        """What these results were asked for (the run folder's claim): :func:`run_definition`."""
        return run_definition(self.info.kind, self.scenarios, self.info.seed, self.info.replications,
                              self.shipments is not None)

    def write(self, folder: str | Path, *, plots: bool = True, year: int | None = None, figures: bool = True,
              xlsx: bool = False, pool: "Pool | None" = None) -> Path:
        """Write a complete run folder and return its path: resolved scenarios, every table,
        plots and ``report.html`` (unless ``plots=False``; with ``figures=False`` the report
        without the PNG figures, a quarter of a run's wall time), ``summary.xlsx`` with
        ``xlsx=True`` (:meth:`to_excel`), and ``manifest.json`` last
        (:class:`~model.outputs.folders.RunFolder`: ``folder`` must be new or empty, or the
        folder this process claimed for these results). ``year`` is the year of the corridor map. ``pool``:
        where the figures are drawn (:data:`~model.analysis.bound.Pool`; by default here, one after the
        other; the command line draws them on one worker process per core)."""
        from model.outputs.report import write_outputs

        def fill(out: Path) -> dict:
            for s in self.scenarios:
                (out / f"scenario-{s.name}.yaml").write_text(scenario_yaml(s), encoding="utf-8")
            self.write_tables(out)
            if self.shipments is not None:
                self.shipments.to_parquet(out / "shipments.parquet", index=False)
            if plots:
                write_outputs(out, self, year, figures, pool)
            if xlsx:
                self.to_excel(out / "summary.xlsx")
            return self.manifest()

        return write_folder(Path(folder), fill, kind=self.info.kind, name="-vs-".join(self.names)[:200],
                            definition=self.definition())


def run_definition(kind: str, scenarios: list[Scenario] | tuple[Scenario, ...], seed: int | None, replications: int,
                   log_shipments: bool) -> dict:
    """What a run, batch or comparison is asked for, inputs resolved: its claim on a folder."""
    return {"kind": kind, "scenarios": [s.model_dump(mode="json") for s in scenarios], "seed": seed,
            "replications": replications, "log_shipments": log_shipments}


def _dated(log: pd.DataFrame, scenarios: list[Scenario] | tuple[Scenario, ...]) -> pd.DataFrame:
    """The shipment log with each delivery's calendar date (its scenario's start + delivered_h)."""
    start = {s.name: pd.Timestamp(s.start_date) for s in scenarios}
    at = log["scenario"].map(start) + pd.to_timedelta(log["delivered_h"].to_numpy(dtype=float), unit="h")
    return LOG_TABLES["shipments"].conform(log.assign(delivered_date=at.dt.floor("D")))


# ---------------------------------------------------------------------- reading


def _manifest(folder: Path) -> dict:
    man = folder / "manifest.json"
    try:
        data = json.loads(man.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("status") != "complete":
        raise NotAResultError(f"{folder}: not a finished run or batch folder (no manifest.json with status complete)")
    kind = data.get("kind", "run")
    if kind not in ("run", "batch", "compare"):
        hint = {"sweep": "compare sweeps with `sweep --baseline OLD/summary.csv`",
                "appraisal": "its tables are appraisal.csv and appraisal_years.csv"}.get(str(kind), "")
        raise NotAResultError(f"{folder}: a {kind} folder, not a run or batch folder; compare reads run and batch "
                              "folders" + (f" ({hint})" if hint else ""))
    return data


_EXACT_FLOATS: dict = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
"""Every float reads back as the one written: pandas before 3.0 parses CSV floats with "high"
precision by default, which can differ in the last bit (then ``model.read(folder) != r``); pandas 3
parses round-trip by default and deprecates the argument."""


def read_table(folder: Path, name: str) -> pd.DataFrame:
    """One table of a folder, with its declared dtypes (empty if the file is absent).
    A folder written by an older version may lack a column added since (it reads as
    missing values) or hold one since removed (dropped)."""
    path = Path(folder) / f"{name}.csv"
    if not path.exists():
        return _empty(name)
    df = pd.read_csv(path, **_EXACT_FLOATS)
    declared = TABLES[name].names()
    df = df.reindex(columns=declared)
    return TABLES[name].conform(df)


def _resolved_scenario(folder: Path, entry: dict) -> Scenario:
    """A folder's resolved scenario (``scenario-<name>.yaml`` beside the manifest), read
    with a scenario file's limits (size, nesting, aliases); NotAResultError if it is not one."""
    from pydantic import ValidationError

    from model.scenario.loader import ScenarioError, read_yaml_doc

    name = str(entry.get("resolved", "")) if isinstance(entry, dict) else ""
    if not name or Path(name).name != name:
        raise NotAResultError(f"{folder}: its manifest names no scenario file in the folder ({name[:80]!r})")
    try:
        return Scenario.model_validate(read_yaml_doc(folder / name, "scenario", "").data)
    except (ScenarioError, ValidationError):
        raise NotAResultError(f"{folder}: {name} is not a resolved scenario written by a run") from None


def read(folder: str | Path) -> Results:
    """The :class:`Results` of a finished run or batch folder, as they were written."""
    folder = Path(folder)
    man = _manifest(folder)
    scenarios = []
    for sc in man.get("scenarios", []):
        scenarios.append(_resolved_scenario(folder, sc))
    info = RunInfo(man.get("kind", "run"), man.get("seed"), int(man.get("replications", 0) or 0),
                   tuple(sc.get("file", "") for sc in man.get("scenarios", [])), float(man.get("wall_s", 0.0)))
    tables = {f.name: read_table(folder, f.name) for f in fields(Results) if f.name in TABLES}
    log = folder / "shipments.parquet"
    shipments = LOG_TABLES["shipments"].conform(pd.read_parquet(log)) if log.exists() else None
    return Results(tuple(scenarios), info, **tables, shipments=shipments)


def read_many(folders: list[Path]) -> tuple[Results, list[str]]:
    """Several finished folders as one comparison, and notes for the user.

    The same scenario run with the same file contents and seed in two folders is
    one scenario (identical replications count once, extra ones add up: with common
    random numbers replication k is the same run wherever it was made). A scenario
    name that comes back with other contents or another seed is a different
    scenario: it is renamed ``name@folder`` so replications are never mixed."""
    seen: dict[str, tuple] = {}
    first_in: dict[str, Path] = {}
    scenarios: dict[str, tuple[Scenario, str]] = {}
    parts: list[dict[str, pd.DataFrame]] = []
    notes: list[str] = []
    seeds = set()
    for folder in map(Path, folders):
        res = read(folder)
        code = _manifest(folder).get("code_sha256")
        seeds.add(res.info.seed)
        renames = {}
        for s, f in zip(res.scenarios, res.info.files):
            key = (s.sha256(), res.info.seed, code)
            if seen.setdefault(s.name, key) != key:
                renames[s.name] = f"{s.name}@{folder.name}"
                why = ("its seed differs, so differences with it are not paired on common random numbers"
                       if key[1] != seen[s.name][1] else "it was made by other model code"
                       if key[0] == seen[s.name][0] else "its inputs differ")
                notes.append(f"{folder}: scenario {s.name!r} is not the one read from {first_in[s.name]} ({why}); "
                             f"shown as {renames[s.name]!r}")
            elif s.name in first_in:
                notes.append(f"{folder}: scenario {s.name!r} is the same as in {first_in[s.name]} (inputs, seed and "
                             "code): a replication in both folders is the same run and counts once")
            first_in.setdefault(s.name, folder)
            name = renames.get(s.name, s.name)
            scenarios.setdefault(name, (s.model_copy(update={"name": name}) if name != s.name else s, f))
        tables = {n: getattr(res, n) for n in PER_REPLICATION}
        if renames:
            tables = {n: df.assign(scenario=df["scenario"].replace(renames)) for n, df in tables.items()}
        parts.append(tables)
    # a row is identified by its keys: the same replication read from two folders counts once
    per_rep = {n: pd.concat([p[n] for p in parts], ignore_index=True).drop_duplicates(subset=TABLES[n].keys())
               for n in PER_REPLICATION}
    reps = int(per_rep["corridor"].groupby("scenario")["replication"].nunique().max()) if len(per_rep["corridor"]) else 0
    info = RunInfo("compare", seeds.pop() if len(seeds) == 1 else None, reps,
                   tuple(f for _, f in scenarios.values()), 0.0)
    return Results.build([s for s, _ in scenarios.values()], per_rep, info), notes
