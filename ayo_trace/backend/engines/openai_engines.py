"""The OpenAI-compatible engines as ``backend="openai"`` finds them: an LLM (``kind="llm"``) and an
embedding model (``kind="embedding"``) on a server speaking the OpenAI HTTP API. See
``openai_client`` (connection, retries, limits, errors), ``openai_llm`` and ``openai_embed``."""

from __future__ import annotations

from .openai_embed import OpenAIEmbedder
from .openai_llm import OpenAILLM

__all__ = ["OpenAIEmbedder", "OpenAILLM"]
