"""Engines past one machine: engine instances as Ray actors (``ray_engines``, the only module that
imports ``ray``) around ``host.EngineHost``, which runs the real engines inside each actor.

Importing this package does not import Ray; ``Runtime(cluster="ray")`` imports ``ray_engines``
when it starts.
"""
