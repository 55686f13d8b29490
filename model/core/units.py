"""Unit conversions: the one place where annual capacities become rates.

Users write capacities as the sources state them (Mt/yr); inside the model
everything is tonnes and hours. A year is taken as 8,760 h (365 days) for
rate conversions; yearly *results* use the real calendar length of each year.

>>> t_per_h_from_mt_per_year(8.76)
1000.0
>>> mt_per_year_from_t_per_h(1000.0)
8.76
"""

HOURS_PER_DAY = 24.0
HOURS_PER_YEAR = 8760.0
T_PER_MT = 1_000_000.0


def t_per_h_from_mt_per_year(mt_per_year: float) -> float:
    """Tonnes per hour for an annual capacity in million tonnes per year."""
    return mt_per_year * T_PER_MT / HOURS_PER_YEAR


def mt_per_year_from_t_per_h(t_per_h: float) -> float:
    """Million tonnes per year for a continuous rate in tonnes per hour."""
    return t_per_h * HOURS_PER_YEAR / T_PER_MT


def paths_per_day_from_mt_per_year(mt_per_year: float, train_payload_t: float) -> float:
    """Train paths per day a rail line needs to carry ``mt_per_year`` with full trains.

    >>> round(paths_per_day_from_mt_per_year(5.0, 2500.0), 3)
    5.479
    """
    return mt_per_year * T_PER_MT / (365.0 * train_payload_t)
