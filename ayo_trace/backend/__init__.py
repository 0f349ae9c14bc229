"""The backend: two-level scheduling (a graph scheduler per query, an engine scheduler per engine
instance) over engines behind one small async protocol (``engines/base.py``)."""

from .config import BatchPolicy, EngineConfig, load_config
from .runtime import Runtime, current_runtime

__all__ = ["BatchPolicy", "EngineConfig", "Runtime", "current_runtime", "load_config"]
