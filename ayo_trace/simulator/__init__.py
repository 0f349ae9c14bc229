"""The virtual-time simulator: the real passes, graph scheduler and engine schedulers over engines
whose service times follow a profile (``SimProfile``), under trio's ``MockClock``. ``simulate`` answers
how long queries take, how many per second an engine setup serves, and which engine is the
bottleneck, for thousands of queries in seconds of wall time (docs/simulator.md).

It sits above the backend, like the driver: nothing in frontend, ir, passes or backend imports it.
"""

from .devices import Device, Devices
from .profile import Cost, EngineModel, SimProfile
from .run import SimResult, engine_configs, simulate

__all__ = [
    "Cost",
    "Device",
    "Devices",
    "EngineModel",
    "SimProfile",
    "SimResult",
    "engine_configs",
    "simulate",
]
