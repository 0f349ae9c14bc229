"""The frontend: ``@ayo.workflow`` and the primitives. Traces plain async Python into the IR."""

from .primitives import embed, ingest, llm, rerank, search
from .workflow import Workflow, eager, workflow

__all__ = ["Workflow", "eager", "embed", "ingest", "llm", "rerank", "search", "workflow"]
