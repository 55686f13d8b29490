"""The scenario schema: what a resolved scenario holds (pydantic models).

Nodes and streams are mappings keyed by id; every capacity-like value is a
number or a dated timeline; durations are numbers or distributions. Field
validators blame a bad value precisely (``Problem.at``) so the messages of
:mod:`model.scenario.loader` can name the date key or option at fault.
"""

from __future__ import annotations

import difflib
import math
import hashlib
import json
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from model.core.distributions import as_distribution
from model.core.limits import (FIRST_DATE, LAST_DATE, MAX_CAPACITY_FACTOR, MAX_DAYS, MAX_FACTOR, MAX_GROWTH, MAX_HORIZON_YEARS,
                     MAX_LIFE_YEARS, MIN_LIFE_YEARS, MAX_MT_PER_YEAR, MAX_MUSD, MAX_USD, Days, Months, Musd, Name, Replications, Seed,
                     Tonnes, Usd)
from model.nodes import KINDS
from model.core.specs import DurationSpec, NodeSpecBase, Problem, Strict, non_negative
from model.scenario.uncertainty import UncertainInput
from model.core.weather import StormSpec
from model.core.vessels import VesselClassSpec
from model.core.water import WaterLevelSpec


# A node spec: one of the registered kinds, told apart by its ``kind`` tag.
if TYPE_CHECKING:  # mypy cannot follow a union built from the registry: it sees what every kind's spec has
    NodeSpec = NodeSpecBase
else:
    NodeSpec = Annotated[Union[tuple(k.spec for k in KINDS.values())], Field(discriminator="kind")]


class ChoiceSpec(Strict):
    """A route's branch point: each option is a sub-route of node ids."""

    choice: dict[str, list[str]]
    policy: Literal["fixed_shares", "least_delay", "logit"] = "fixed_shares"
    shares: dict[str, float] | None = None
    tariffs_usd_per_t: dict[str, Usd] = Field(
        {}, description="logit: tariff of each option (missing: 0); with the stream's value of time and the "
        "model's queue-aware expected time it makes the option's generalised cost")

    @model_validator(mode="after")
    def _shares(self) -> "ChoiceSpec":
        names = ", ".join(self.choice)
        if len(self.choice) < 2:
            raise Problem(f"expected at least two options {{option: [node ids]}}, "
                           f"got {len(self.choice)} ({names or 'none'})", "choice")
        for opt, nodes in self.choice.items():
            if not nodes:
                raise Problem("expected at least one node id in this option, got an empty list", "choice", opt)
        for opt in self.tariffs_usd_per_t:
            if opt not in self.choice:
                raise Problem(f"tariff for unknown option '{opt}'; expected one of the options: {names}",
                              "tariffs_usd_per_t", opt)
        if self.policy == "fixed_shares" and self.shares is None:
            raise Problem(f"policy fixed_shares (the default) needs shares {{option: share}} for options {names}; "
                           "add shares or set policy: least_delay", "shares")
        if self.shares is not None:
            for opt in self.shares:
                if opt not in self.choice:
                    close = difflib.get_close_matches(opt, list(self.choice), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    raise Problem(f"share for unknown option '{opt}'{hint}; expected one of the options: {names}",
                                   "shares", opt)
            for opt, x in self.shares.items():
                if x < 0 or x > MAX_FACTOR:
                    raise Problem(f"expected a share from 0 to {MAX_FACTOR:g}, got {x:g}", "shares", opt)
            if sum(self.shares.values()) <= 0:
                raise Problem("expected shares that are not all zero", "shares")
        return self


class OutsideOption(Strict):
    """A route outside the model (the Northern route, Suez, CPC): its tariff and
    door-to-door transit time for this cargo, compared with the corridor's."""

    tariff_usd_per_t: Usd = 0.0
    transit_days: Days


class TransitResponse(Strict):
    """Demand that grows or shrinks with the corridor's transit time: the offered
    volume is the stated one x (expected transit / reference_days) ^ elasticity,
    capped at ``max_factor`` (a faster corridor wins cargo from other routes and
    induces some; a slower one loses it before it is ever offered)."""

    elasticity: float = Field(ge=-10, le=0, description="Elasticity of the offered volume to the expected transit time")
    reference_days: float = Field(gt=0, le=MAX_DAYS, description="Transit time (days) at which the stated volume is offered")
    max_factor: float = Field(2.0, ge=1, le=MAX_GROWTH, description="Most the volume can grow above the stated one")

    def factor(self, transit_days: float) -> float:
        """Volume multiplier at an expected transit of ``transit_days``.

        >>> TransitResponse(elasticity=-1.0, reference_days=10).factor(20.0)
        0.5
        >>> TransitResponse(elasticity=-1.0, reference_days=10).factor(2.0), TransitResponse(elasticity=-1.0, reference_days=10).factor(math.inf)
        (2.0, 0.0)
        """
        if transit_days == math.inf:
            return 0.0
        if transit_days <= 0:
            return self.max_factor
        # in logs, capped before exponentiating: a tiny transit time must not overflow
        return math.exp(min(math.log(self.max_factor), self.elasticity * math.log(transit_days / self.reference_days)))


class StreamSpec(Strict):
    """A demand stream: annual volume by year (linear between given years,
    constant outside), cut into shipments, Poisson arrivals. With ``outside``
    options, each shipment chooses the corridor or one of them at generation, by a
    logit of generalised cost (tariff + value of time x expected time); with
    ``patience_days``, one that has waited longer in a queue leaves for the best
    outside option."""

    commodity: str
    volume_mt_per_year: float | dict[int, float]
    shipment_t: Tonnes
    seasonality: list[float] | None = None
    route: list[Union[str, ChoiceSpec]]
    background: bool = Field(
        False, description="Other traffic sharing the nodes; left out of corridor totals"
    )
    value_of_time_usd_per_t_day: Usd = Field(0.0, description="What a day in transit costs a tonne")
    tariff_usd_per_t: Usd = Field(0.0, description="The corridor's tariff for this cargo, end to end")
    outside: dict[str, OutsideOption] = Field({}, description="Routes outside the model it may take instead")
    logit_scale_per_usd: float = Field(0.05, gt=0, le=MAX_FACTOR, description="Logit scale: 1 / spread of shippers' costs (USD/t)")
    patience_days: DurationSpec | None = Field(
        None, description="How long a shipment waits in a queue before it leaves for an outside option")
    transit_response: TransitResponse | None = Field(
        None, description="Offered volume that grows or shrinks with the corridor's expected transit time")
    gateway: list[str] = Field(
        [], description="Node ids on the route where the stream reaches its gateway (a Black Sea quay, an EU "
        "port, the Turkish border): the transit to the first of them reached is recorded beside the "
        "transit to the route's end (gateway_transit_*)")

    def volume_in(self, year: int) -> float:
        """Annual volume (Mt) in a calendar year: linear between the years given, constant outside.

        >>> StreamSpec(commodity="c", volume_mt_per_year={2024: 4.0, 2028: 8.0}, shipment_t=1, route=["a"]).volume_in(2026)
        6.0
        """
        v = self.volume_mt_per_year
        if not isinstance(v, dict):
            return float(v)
        years = sorted(v)
        return float(np.interp(year, years, [v[y] for y in years]))

    @field_validator("volume_mt_per_year")
    @classmethod
    def _nonneg(cls, v: float | dict[int, float]) -> float | dict[int, float]:
        return non_negative(v, "year", "a volume", MAX_MT_PER_YEAR)

    @field_validator("seasonality")
    @classmethod
    def _season(cls, v: list[float] | None) -> list[float] | None:
        if v is None:
            return v
        if len(v) != 12:
            raise ValueError(f"expected 12 monthly factors (January to December), got {len(v)}")
        non_negative(v, "month", "a factor", MAX_FACTOR)
        if sum(v) <= 0:
            raise ValueError("expected monthly factors that are not all zero")
        return v

    @field_validator("route")
    @classmethod
    def _route(cls, v: list) -> list:
        if not v:
            raise ValueError("expected at least one node id, got an empty route")
        return v


class Investment(Strict):
    """A dated change to one field of one node (set, add or multiply)."""

    id: str
    node: str
    field: str
    value: float = 0.0
    change: Literal["set", "add", "mul"] = "set"
    date: date
    cost_musd: Musd | None = None
    tags: list[str] = []
    source: str | None = None


class ProjectDelay(Strict):
    """Shift every investment whose id or one of whose tags is ``match``."""

    match: str
    months: Months


class OperationalDelay(Strict):
    """Multiply a duration (border ``dwell_h``, port ``call_h``, sea link ``crossing_h``...) from
    a date, of one ``node``, of every node of a ``kind``, or of every node with a ``tag`` (its
    ``tags:``): ``{kind: border, field: dwell_h, factor: 1.2}`` is "every border +20 %"."""

    node: str | None = Field(None, description="The node whose duration it stretches")
    kind: str | None = Field(None, description="Or every node of this kind (border, port, sea_link, ...)")
    tag: str | None = Field(None, description="Or every node with this tag in its tags")
    field: str
    factor: float = Field(gt=0, le=MAX_FACTOR)
    from_date: date | None = None

    @model_validator(mode="after")
    def _one_selector(self) -> "OperationalDelay":
        given = [k for k in ("node", "kind", "tag") if getattr(self, k) is not None]
        if len(given) != 1:
            got = " and ".join(given) if given else "none"
            raise ValueError(f"expected exactly one of node, kind or tag (the nodes whose {self.field} it "
                             f"stretches), got {got}")
        return self

    def applies_to(self, nid: str, spec: NodeSpecBase) -> bool:
        """Does it stretch node ``nid`` (whose spec is ``spec``)?"""
        if self.node is not None:
            return nid == self.node
        if self.kind is not None:
            return spec.kind == self.kind
        return self.tag in spec.tags


def _after(start_field: str, v: date, info: ValidationInfo) -> date:
    """An end date must come after the start date of the same mapping."""
    start = info.data.get(start_field)
    if start is not None and v <= start:
        raise ValueError(f"expected a date after {start_field} {start}, got {v}")
    return v


def _horizon(end: date, info: ValidationInfo) -> date:
    """A run's horizon is at most ``limits.MAX_HORIZON_YEARS`` long."""
    start = info.data.get("start_date")
    if start is not None and end > _years_after(start, MAX_HORIZON_YEARS):
        raise ValueError(f"expected an end_date at most {MAX_HORIZON_YEARS} years after start_date {start} (the "
                         f"longest horizon a run may have), got {end}")
    return end


def _years_after(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


class Disruption(Strict):
    """A node closed, or its capacity cut to ``capacity_factor``, between two dates."""

    node: str
    start: date
    end: date
    capacity_factor: float = Field(0.0, ge=0, le=MAX_CAPACITY_FACTOR)

    _after_start = field_validator("end")(lambda v, info: _after("start", v, info))


class Delays(Strict):
    projects: list[ProjectDelay] = []
    operational: list[OperationalDelay] = []


def _values(v: dict[str, float], high: float) -> dict[str, float]:
    """A mapping of values from 0 to ``high``; a bad one is blamed on its key."""
    return non_negative(v, "name", "a value", high) if v else v


CAPEX_PROFILES: dict[str, list[float]] = {
    # Shares of the capital spent in each construction year before the opening date, by project type (the
    # investment's tag). (D): S-curves typical of appraisal spreadsheets; rail 5 years (Kars-Dilucu's "about 5
    # years", corridor-facts §5), ports 3, vessels 2 (shipyard instalments at contract, steel cutting, keel,
    # launch and delivery)
    "rail_line": [0.10, 0.20, 0.30, 0.25, 0.15],
    "port_terminal": [0.30, 0.40, 0.30],
    "vessel_order": [0.40, 0.60],
    "other": [1.0],  # an investment of no known type: spent in the year before it opens
}
"""Default construction profiles (``appraisal.capex_profiles`` adds to or overrides them)."""


def _lives(v: dict[str, float]) -> dict[str, float]:
    """Economic lives from ``limits.MIN_LIFE_YEARS`` to ``limits.MAX_LIFE_YEARS``; a bad one is blamed on its key."""
    from model.core.specs import Problem

    for k, x in _values(v, MAX_LIFE_YEARS).items():
        if x < MIN_LIFE_YEARS:
            raise Problem(f"expected a life of at least {MIN_LIFE_YEARS:g} year, got {x:g}", k)
    return v


class AppraisalSpec(Strict):
    """What ``appraise`` puts money on (docs/appraisal.md): users' benefits by the rule of a
    half on generalised cost (tariff + value of time x transit), operators' and ports'
    margin on the tonnes they gain, capital spent over construction years before the
    opening, its residual value at the horizon, running costs, a real discount rate."""

    discount_rate: float = Field(0.06, ge=0, le=1, description="Real discount rate a year")
    sensitivity_rates: list[float] = Field([0.03, 0.06, 0.10], max_length=10, description="Other real "
                                           "rates at which NPVs are also given (the same simulated benefits)")
    base_year: int | None = Field(None, ge=1900, le=2200, description="Year values are discounted to "
                                  "(default: the scenario's first year)")
    value_usd_per_t: dict[str, float] = Field(
        {}, description="Operators' and ports' margin on a tonne delivered (producer surplus), USD, by commodity")
    user_benefits: bool = Field(True, description="Count shippers' benefits: the rule of a half on generalised "
                                "cost, each stream's tariff + value of time x transit, or its outside option")
    value_of_time_factor: float = Field(1.0, gt=0, le=100, description="Multiplies every stream's value of "
                                        "time when benefits are valued (not in the shippers' choices)")
    opex_musd_per_year: dict[str, float] = Field(
        {}, description="Running cost of an investment (by id), million USD a year from its date")
    capital_cost: Literal["profile", "annualised"] = Field(
        "profile", description="Spend cost_musd over its construction years before the opening date "
        "(capex_profiles), with a residual value at the horizon; or charge it as an annuity over the asset's "
        "life from its date (only the years inside the horizon count)")
    capex_profiles: dict[str, list[float]] = Field(
        {}, description="Shares of the capital spent in each construction year before the opening, by "
        "investment id or project type (a tag); added to the defaults (rail_line 5 years, port_terminal 3, "
        "vessel_order 2, other 1)")
    residual_value: Literal["straight_line", "none"] = Field(
        "straight_line", description="An asset's value at the horizon: its remaining life over its life "
        "(straight line), what was spent on it if still being built; or none")
    asset_life_years: float = Field(30.0, ge=MIN_LIFE_YEARS, le=MAX_LIFE_YEARS, description="Economic life of an asset "
                                    "with none of its own")
    life_years: dict[str, float] = Field({}, description="Economic life by investment id or project type (a tag)")

    _usd = field_validator("value_usd_per_t")(lambda v: _values(v, MAX_USD))
    _musd = field_validator("opex_musd_per_year")(lambda v: _values(v, MAX_MUSD))
    _life = field_validator("life_years")(lambda v: _lives(v))


    @field_validator("sensitivity_rates")
    @classmethod
    def _rates(cls, v: list[float]) -> list[float]:
        return non_negative(v, "rate", "a rate", 1.0) if v else v

    @field_validator("capex_profiles")
    @classmethod
    def _profiles(cls, v: dict[str, list[float]]) -> dict[str, list[float]]:
        for key, shares in v.items():
            if not 1 <= len(shares) <= 15:
                raise Problem(f"expected 1 to 15 yearly shares, got {len(shares)}", key)
            if any(not (0 <= x <= 1) for x in shares) or sum(shares) <= 0:
                raise Problem(f"expected shares from 0 to 1, not all zero, got {shares}", key)
        return v

    def profile(self, inv: "Investment") -> list[float]:
        """Construction shares of an investment: by its id, else its first tag that has
        one (the scenario's, then the defaults), else ``other``."""
        profiles = {**CAPEX_PROFILES, **self.capex_profiles}
        for key in (inv.id, *inv.tags):
            if key in profiles:
                return profiles[key]
        return profiles["other"]

    def life(self, inv: "Investment") -> float:
        """Economic life of an investment: by its id, else its first tag that has one, else
        ``asset_life_years``."""
        for key in (inv.id, *inv.tags):
            if key in self.life_years:
                return self.life_years[key]
        return self.asset_life_years


class Scenario(Strict):
    """A whole scenario, after ``extends`` has been resolved."""

    name: Name
    description: str = ""
    start_date: date = Field(ge=date.fromisoformat(FIRST_DATE), le=date.fromisoformat(LAST_DATE))
    end_date: date = Field(ge=date.fromisoformat(FIRST_DATE), le=date.fromisoformat(LAST_DATE))
    seed: Seed = 12345
    replications: Replications = 3
    nodes: dict[str, NodeSpec]
    streams: dict[str, StreamSpec]
    investments: list[Investment] = []
    delays: Delays = Delays()
    disruptions: list[Disruption] = []
    weather: dict[str, StormSpec] = Field({}, description="Sea areas whose storms several links and terminals share")
    vessel_classes: dict[str, VesselClassSpec] = Field(
        {}, description="Classes of vessel that sea links' fleets are made of (payload, speed, depth needed, hire)")
    water_levels: dict[str, WaterLevelSpec] = Field(
        {}, description="Seas whose dated level moves the depth of the port terminals that name them")
    appraisal: AppraisalSpec | None = Field(None, description="Values for appraise: margins, discount rate")
    uncertainty: list[UncertainInput] = Field(
        [], description="Uncertain inputs drawn once per replication (a Latin hypercube over replications)")

    _after_start = field_validator("end_date")(lambda v, info: _horizon(_after("start_date", v, info), info))

    def sha256(self) -> str:
        """Hash of the resolved scenario (stable key for caching and manifests)."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()



def duration(spec: Any) -> Any:
    """A scenario duration as a Distribution object (numbers are fixed)."""
    return as_distribution(spec) if spec is not None else None
