"""Node kinds: one module each, all sharing the recording in ``base``."""

from .base import Node, Shipment
from .border import Border
from .pipeline import Pipeline
from .port import Port
from .rail import RailLine
from .sealink import SeaLink

NODE_CLASSES = {
    "port": Port,
    "sea_link": SeaLink,
    "rail_line": RailLine,
    "pipeline": Pipeline,
    "border": Border,
}

__all__ = ["Node", "Shipment", "NODE_CLASSES", "Port", "SeaLink", "RailLine", "Pipeline", "Border"]
