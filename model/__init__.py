"""Caspian corridor freight simulator: a simpy model of the Middle Corridor.

Dependencies point one way: scenario -> timeline -> nodes/demand -> simulate
-> metrics -> plots/report; the CLI orchestrates on top.
"""

__version__ = "0.1.0"
