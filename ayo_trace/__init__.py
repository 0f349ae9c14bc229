"""ayo-trace: trace plain async Python LLM workflows into a graph of task primitives, optimize the
graph (dependency pruning, stage decomposition, prefill splitting, decode pipelining) and run it on
self-hosted engines that batch across concurrent queries.

    import ayo_trace as ayo

    @ayo.workflow
    async def answer(question: str, docs: list[str]) -> str:
        await ayo.ingest(docs, collection="kb")
        hits = await ayo.search(question, collection="kb", top_k=3)
        context = "\\n".join(h.text for h in hits)
        return await ayo.llm(f"Context:\\n{context}\\nQuestion: {question}\\nAnswer:", max_tokens=32)
"""

from .errors import (
    AyoError,
    ConfigError,
    EngineDied,
    EngineError,
    GraphError,
    InvalidRequest,
    NodeError,
    Overloaded,
    PassError,
    QueryTimeout,
    StoreError,
    TraceError,
    UserCodeError,
)
from .frontend import Workflow, eager, embed, ingest, llm, rerank, search, workflow
from .ir import Graph, Hit, Node, SamplingParams, SearchParams, Template, json_list, lines

__version__ = "0.1.0.dev0"

__all__ = [
    "AyoError",
    "ConfigError",
    "EngineDied",
    "EngineError",
    "Graph",
    "GraphError",
    "Hit",
    "InvalidRequest",
    "Node",
    "NodeError",
    "Overloaded",
    "PassError",
    "QueryTimeout",
    "SamplingParams",
    "SearchParams",
    "StoreError",
    "Template",
    "TraceError",
    "UserCodeError",
    "Workflow",
    "eager",
    "embed",
    "ingest",
    "json_list",
    "lines",
    "llm",
    "rerank",
    "search",
    "workflow",
]
