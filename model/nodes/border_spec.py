"""The border post's scenario spec (a pydantic model): a dwell time. Its engine is in
:mod:`model.nodes.border` (specs live apart from engines: docs/design.md §6).
"""

from __future__ import annotations

from typing import Literal

from model.core.specs import DurationSpec, NodeSpecBase


class BorderSpec(NodeSpecBase):
    """Border or customs post: every shipment dwells a drawn time; unlimited lanes."""

    kind: Literal["border"]
    dwell_h: DurationSpec
