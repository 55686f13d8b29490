"""The pipeline's scenario spec (a pydantic model): flow, tank, transit. Its engine, capacity
formula and service model are in :mod:`model.nodes.pipeline` (specs live apart from engines:
docs/design.md §6).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from model.core.limits import MAX_MT_PER_YEAR, Tonnes
from model.core.specs import DurationSpec, NodeSpecBase, TimelineSpec, WhenFull, timeline_up_to


class PipelineSpec(NodeSpecBase):
    """Continuous flow available to this cargo, fed from a tank buffer."""

    kind: Literal["pipeline"]
    flow_mt_per_year: TimelineSpec
    tank_t: Tonnes = Field(description="Tankage for parcels waiting to be pumped (t)")
    when_full: WhenFull = Field("wait", description="A parcel arriving to a full tank: wait upstream, or divert")
    transit_h: DurationSpec = 0.0

    _mt = field_validator("flow_mt_per_year")(timeline_up_to(MAX_MT_PER_YEAR))
