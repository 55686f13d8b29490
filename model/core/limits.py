"""The sane limits of scenario and sweep files: stated once, here.

Every limit lies far above any real corridor (the library's largest run, demand_high to 2050,
creates about 525,000 shipments a replication), yet low enough that a run
that passes validation fits in memory and finishes in minutes rather than days.
Validation refuses more, with a message naming the limit, so that ``validate``
passing means ``run`` works. The bounded number types below carry their limits
as pydantic constraints (NaN and infinities are refused by every spec model's
``allow_inf_nan=False``); limits that depend on several fields (the horizon, the
shipments a run would create, the points of a sweep) are checked by the scenario
and sweep validators that use these constants.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

# ------------------------------------------------------------ runs and sweeps
MAX_HORIZON_YEARS = 50
"""Longest horizon, end_date - start_date (a 200-year run took 331 s a replication)."""
FIRST_DATE, LAST_DATE = "1900-01-01", "2200-12-31"
"""The calendar a scenario's start_date and end_date lie in (volume years: 1900-2200)."""
MAX_REPLICATIONS = 10_000
"""Most replications of one run, batch or sweep point."""
MAX_SHIPMENTS = 2_000_000
"""Most shipments one replication may create, estimated from volumes, shipment sizes
and the horizon: about 6 times the baseline to 2050 (334,000). Memory follows the shipments
in flight at once, not the total: demand_high to 2050 (525,000) took 34 s and 480 MB a
replication with the compiled engine (2026-12-06, load 0.9); 650,000 in one year took 134 s
and 740 MB."""
MAX_SWEEP_POINTS = 1_000
"""Most points of a sweep's design (each is a scenario, validated before anything runs)."""
MAX_WORKERS = 256
"""Most worker processes asked for (a run uses at most one per core: more only cost memory)."""
MAX_VARIANTS = 1_000
"""Most variants (scenarios) one appraisal runs: two per item (without it, delayed), its programme's
trials and marginal steps come on top and are counted with them."""
MAX_JOBS = 200_000
"""Most jobs (variants x replications) of one command (each is a replication; a stored one is a file)."""
MAX_SEED = 2**63 - 1
"""Largest seed (it is stored in 64-bit integer columns)."""

# ------------------------------------------------------------ scenario values
MAX_COUNT = 1_000
"""Most berths of a terminal or vessels of a fleet (each vessel is a simulated process)."""
MAX_HOURS = 438_000.0
"""Longest duration in hours (50 years); durations are >= 0."""
MAX_DAYS = MAX_HOURS / 24.0
"""Longest duration in days (patience, charter lead time, outside transit)."""
MAX_DELAY_MONTHS = 600.0
"""Largest project delay, and largest total delay of one investment, in months (either way)."""
MAX_TONNES = 10_000_000.0
"""Largest shipment, vessel, train, tank, yard or siding, in tonnes."""
MAX_MT_PER_YEAR = 10_000.0
"""Largest annual volume or capacity, Mt/yr (world seaborne trade is about 12,000)."""
MAX_T_PER_H = 1_000_000.0
"""Largest handling rate, t/h per berth."""
MAX_PATHS_PER_DAY = 86_400.0
"""Most train paths a day (one a second: tests use thousands for "no headway")."""
MAX_MINUTES = 10_000.0
"""Longest crane cycle, minutes per move."""
MAX_STORMS_PER_MONTH = 1_000.0
"""Most storm events a month (tests use 1,000 to make one certain; 600,000 storms over 50 years are still
quick to draw, a million a month were not)."""
MAX_FACTOR = 1_000.0
"""Largest multiplier of a duration or a monthly factor; capacity factors of disruptions
are at most MAX_CAPACITY_FACTOR."""
MAX_CAPACITY_FACTOR = 10.0
"""Largest disruption capacity factor (it multiplies fleets and berths: more vessels are more processes)."""
MAX_GROWTH = 10.0
"""Most a transit response may multiply a stream's volume (its shipments are generated at that rate)."""
MAX_CV = 10.0
"""Largest coefficient of variation of a duration or a service time."""
MAX_USD = 1_000_000_000.0
"""Largest tariff, value or cost per tonne (or per tonne-day), USD."""
MAX_MUSD = 1_000_000.0
"""Largest investment or running cost, million USD."""
MAX_LIFE_YEARS = 200.0
"""Longest economic life of an asset (appraisal)."""
MIN_LIFE_YEARS = 1.0
"""Shortest economic life of an asset (an annuity over less than a year divides by nearly zero)."""
MAX_KM = 40_000.0
"""Longest leg, km (the equator)."""

# ---------------------------------------------------------------- YAML files
MAX_FILE_BYTES = 1_000_000
"""Largest scenario or sweep file (the baseline, with its comments, is about 40 kB)."""
MAX_YAML_DEPTH = 50
"""Deepest nesting of mappings and lists (a scenario needs about 8)."""
MAX_ALIAS_VALUES = 10_000
"""Most values YAML aliases may add by repeating what an anchor holds ("billion laughs")."""
MAX_EXTENDS = 32
"""Longest chain of ``extends`` parents (the library's longest is 3)."""
MAX_SHOWN = 80
"""Most characters of an input value quoted in an error message."""
MAX_NAME = 100
"""Longest scenario or sweep name, in UTF-8 bytes (it names the output folder; file systems allow 255
bytes a name, and a folder name adds a date and time, a sweep's point names a suffix)."""

MAX_MAGNITUDE = 1e12
"""Largest size of an uncertain input's parameter (low, high, mode, mean, sd, cv): above every field's own
maximum (MAX_USD is the largest), so that it refuses nothing a field takes, while the arithmetic of
quantiles stays finite."""

# ------------------------------------------------------- bounded number types
Hours = Annotated[float, Field(ge=0, le=MAX_HOURS)]
Days = Annotated[float, Field(ge=0, le=MAX_DAYS)]
Tonnes = Annotated[float, Field(gt=0, le=MAX_TONNES)]
Count = Annotated[int, Field(ge=1, le=MAX_COUNT)]
MtPerYear = Annotated[float, Field(ge=0, le=MAX_MT_PER_YEAR)]
Usd = Annotated[float, Field(ge=0, le=MAX_USD)]
Musd = Annotated[float, Field(ge=0, le=MAX_MUSD)]
Share = Annotated[float, Field(ge=0, le=1)]
Cv = Annotated[float, Field(gt=0, le=MAX_CV)]
Months = Annotated[float, Field(ge=-MAX_DELAY_MONTHS, le=MAX_DELAY_MONTHS)]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Replications = Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)]
Magnitude = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False)]


def _name(v: str) -> str:
    """A scenario or sweep name names its output folder: no path separators, control
    characters (a NUL byte) or leading dot, and not too long."""
    size = len(v.encode("utf-8", "surrogatepass"))
    if not v or size > MAX_NAME:
        raise ValueError(f"expected a name of 1 to {MAX_NAME} bytes in UTF-8 (it names the output folder, and file "
                         f"systems count bytes), got {size}")
    bad = next((c for c in v if c in "/\\" or ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        raise ValueError(f"expected a name without path separators or control characters (it names the output "
                         f"folder), got {bad!r} in it")
    if v.startswith("."):
        raise ValueError("expected a name that does not start with '.' (it names the output folder)")
    return v


Name = Annotated[str, AfterValidator(_name)]
