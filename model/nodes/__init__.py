"""Node kinds: each an engine module (engine, capacity, sanity model, marker) and a spec module, gathered here.

``KINDS`` is the registry every other part of the model reads: the scenario
schema builds its ``kind:`` union from it, the checks read investable fields
and route rules, the analysis reads capacity formulas and service models, the
plots read markers. Adding a kind is its two modules (``<kind>.py`` and ``<kind>_spec.py``)
and one entry below.
"""

from __future__ import annotations

from model.nodes.base import Node, NodeRecord, Shipment
from model.nodes.kind import NodeKind, ServiceModel
from model.nodes import border
from model.nodes import pipeline
from model.nodes import port
from model.nodes import rail
from model.nodes import sealink

KINDS: dict[str, NodeKind] = {k.name: k for k in (port.KIND, sealink.KIND, rail.KIND, pipeline.KIND, border.KIND)}


class UnknownKindError(KeyError):
    """A node kind that no module registers: a bug or a stale file, never silently a default."""


def kind_of(name: str) -> NodeKind:
    """The registered kind called ``name``; :class:`UnknownKindError` otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownKindError(f"unknown node kind {name!r}; registered kinds: {', '.join(KINDS)}") from None


__all__ = ["KINDS", "Node", "NodeKind", "NodeRecord", "ServiceModel", "Shipment", "UnknownKindError", "kind_of"]
