"""The backend: two-level scheduling (a graph scheduler per query, an engine scheduler per engine
instance) over engines behind one small async protocol (``engines/base.py``)."""

from .config import BatchPolicy, EngineConfig, load_config
from .response_cache import CacheConfig
from .runtime import Runtime, current_runtime

__all__ = ["BatchPolicy", "CacheConfig", "EngineConfig", "Runtime", "current_runtime", "load_config"]
