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

from . import driver as _driver  # noqa: F401  (importing it installs the host the frontend calls)
from .backend import BatchPolicy, CacheConfig, EngineConfig, Runtime, current_runtime, load_config
from .errors import (
    AyoError,
    ConfigError,
    EngineDied,
    EngineError,
    GraphError,
    InvalidParams,
    InvalidRequest,
    NoChatTemplate,
    NodeError,
    OutputError,
    Overloaded,
    PassError,
    QueryTimeout,
    StoreError,
    TraceError,
    UnknownCollection,
    UserCodeError,
)
from .frontend import Workflow, eager, embed, ingest, llm, rerank, search, workflow
from .frontend.chat import assistant, system, user
from .frontend.dag import DAG, DAGNode, run_graph
from .frontend.modules import (
    AnsweringModule,
    IndexingModule,
    Module,
    Pipeline,
    Port,
    QueryExpandingModule,
    RerankingModule,
    SearchingModule,
)
from .frontend.primitives import register_primitive
from .ir import (
    Graph,
    Hit,
    Node,
    Param,
    PrimitiveSpec,
    SamplingParams,
    SearchParams,
    Template,
    json_list,
    lines,
)
from .passes import (
    DEFAULT_PASSES,
    DecomposeStages,
    EngineProfile,
    Lower,
    Pass,
    PassResult,
    PipelineDecode,
    PruneDependencies,
    SplitPrefill,
    critical_path,
    explain,
    run_passes,
)
from .simulator import Cost, EngineModel, SimProfile, SimResult, simulate

__version__ = "0.1.0.dev0"

__all__ = [
    "DAG",
    "DEFAULT_PASSES",
    "AnsweringModule",
    "AyoError",
    "BatchPolicy",
    "CacheConfig",
    "ConfigError",
    "Cost",
    "DAGNode",
    "DecomposeStages",
    "EngineConfig",
    "EngineDied",
    "EngineError",
    "EngineModel",
    "EngineProfile",
    "Graph",
    "GraphError",
    "Hit",
    "IndexingModule",
    "InvalidParams",
    "InvalidRequest",
    "Lower",
    "Module",
    "NoChatTemplate",
    "Node",
    "NodeError",
    "OutputError",
    "Overloaded",
    "Param",
    "Pass",
    "PassError",
    "PassResult",
    "Pipeline",
    "PipelineDecode",
    "Port",
    "PrimitiveSpec",
    "PruneDependencies",
    "QueryExpandingModule",
    "QueryTimeout",
    "RerankingModule",
    "Runtime",
    "SamplingParams",
    "SearchParams",
    "SearchingModule",
    "SimProfile",
    "SimResult",
    "SplitPrefill",
    "StoreError",
    "Template",
    "TraceError",
    "UnknownCollection",
    "UserCodeError",
    "Workflow",
    "assistant",
    "critical_path",
    "current_runtime",
    "eager",
    "embed",
    "explain",
    "ingest",
    "json_list",
    "lines",
    "llm",
    "load_config",
    "register_primitive",
    "rerank",
    "run_graph",
    "run_passes",
    "search",
    "simulate",
    "system",
    "user",
    "workflow",
]
