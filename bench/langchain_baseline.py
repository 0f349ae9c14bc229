"""The benchmark's workflows written the way a LangChain user writes them (langchain-core LCEL).

Each engine call is a thin async ``RunnableLambda`` around one of the runtime's eager primitives
(``rt.ingest``, ``rt.search``, ``rt.rerank``, ``rt.llm``) on the *same* ``Runtime``, hence the same
engine objects, as the ayo-trace variants. The steps are composed as LCEL users compose them:
``RunnablePassthrough.assign`` to carry the input along, the usual
``RunnableParallel(context=retriever | format_docs, question=...)`` in front of the prompt,
``.map()`` to search every expanded query at once (LangChain runs the items of a ``RunnableEach``
concurrently), ``ainvoke`` per query and ``abatch``/concurrent ``ainvoke`` for many queries.

Why the runtime's eager primitives and not the engines' protocol calls directly: the eager methods
go through the same engine schedulers as the graph scheduler does, so concurrent LangChain queries
get the same cross-query batching (continuous-batching decode rounds, batched embeddings and
searches) that a LangChain user gets from any serving engine (a vLLM or llama.cpp server batches
concurrent requests too). Calling the engines directly would leave LangChain with no batching at all
and credit ayo-trace with what is the serving layer's work, not the optimizer's. The comparison
then isolates what the traced graph and its passes add: overlap inside a query, split prefill,
streamed decode, critical-path priorities. The eager calls carry no priority (0), as an untraced
program has no critical path to rank by.

The chains compute exactly what ``bench/workflows.py`` computes (same prompts, sampling, parser,
merge and top-k), so with cross-request batching off their answers equal the workflows' answers
(``tests/bench/test_e2e_smoke.py`` checks this on scripted engines).
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda, RunnableParallel, RunnablePassthrough

import ayo_trace as ayo
from ayo_trace.frontend.primitives import sampling_params
from bench import workflows as W


def build_chains(rt: ayo.Runtime) -> dict[str, Runnable[dict[str, Any], str]]:
    """The LCEL chains of both workflows over ``rt``'s engines, keyed like ``workflows.make_workflows``.
    Each takes the workflow's keyword arguments (``workflows.inputs_for``) as its input dict."""

    def llm(max_tokens: int, stop: str) -> Runnable[str, str]:
        params = sampling_params(max_tokens=max_tokens, stop=stop)

        async def generate(prompt: str) -> str:
            return str(await rt.llm(prompt, params))

        return RunnableLambda(generate, name="llm")

    async def ingest(x: dict[str, Any]) -> int:
        return await rt.ingest(list(x["docs"]), x["collection"])

    async def retrieve(x: dict[str, Any]) -> list[ayo.Hit]:
        return await rt.search(x["question"], ayo.SearchParams(x["collection"], W.SEARCH_K))

    async def retrieve_seed(x: dict[str, Any]) -> list[ayo.Hit]:
        return await rt.search(x["question"], ayo.SearchParams(x["collection"], W.SEED_SEARCH_K))

    def search_seed(collection: str) -> Runnable[str, list[ayo.Hit]]:
        async def search(query: str) -> list[ayo.Hit]:
            return await rt.search(query, ayo.SearchParams(collection, W.SEED_SEARCH_K))

        return RunnableLambda(search, name="search")

    async def search_kb(query: str) -> list[ayo.Hit]:
        return await rt.search(query, ayo.SearchParams(W.KB_COLLECTION, W.EXPANSION_K))

    async def rerank(x: dict[str, Any]) -> list[ayo.Hit]:
        return await rt.rerank(x["question"], list(x["passages"]), W.CONTEXT_K)

    async def rerank_seed(x: dict[str, Any]) -> list[ayo.Hit]:
        return await rt.rerank(x["question"], list(x["passages"]), W.SEED_CONTEXT_K)

    def format_docs(hits: list[ayo.Hit]) -> str:
        return "\n".join(h.text for h in hits)

    def merge(per_query: list[list[ayo.Hit]]) -> list[str]:
        return list(dict.fromkeys(h.text for hits in per_query for h in hits))

    def answer_prompt(x: dict[str, Any]) -> str:
        return f"{W.ANSWER_HEAD}Documentation:\n{x['context']}\nQuestion: {x['question']}\nAnswer:"

    def expand_prompt(x: dict[str, Any]) -> str:
        return f"{W.EXPAND_HEAD}Question: {x['question']}\nQueries:\n"

    answer = RunnableLambda(answer_prompt) | llm(W.ANSWER_TOKENS, "\n")

    naive = (
        RunnablePassthrough.assign(ingested=RunnableLambda(ingest))
        | RunnableParallel(
            context=RunnablePassthrough.assign(passages=RunnableLambda(retrieve))
            | RunnableLambda(rerank)
            | RunnableLambda(format_docs),
            question=itemgetter("question"),
        )
        | answer
    )

    expand = RunnableLambda(expand_prompt) | llm(W.QUERY_TOKENS, "\n\n") | RunnableLambda(ayo.lines.parse)
    expanded = (
        RunnablePassthrough.assign(queries=expand)
        | RunnableParallel(
            context=RunnablePassthrough.assign(
                passages=itemgetter("queries") | RunnableLambda(search_kb).map() | RunnableLambda(merge)
            )
            | RunnableLambda(rerank)
            | RunnableLambda(format_docs),
            question=itemgetter("question"),
        )
        | answer
    )

    # The research system's workloads (``workflows.SEED_WORKFLOWS``): the same shapes at its sizes.
    seed_answer = RunnableLambda(answer_prompt) | llm(W.SEED_ANSWER_TOKENS, "\n")
    seed_naive = (
        RunnablePassthrough.assign(ingested=RunnableLambda(ingest))
        | RunnableParallel(
            context=RunnablePassthrough.assign(passages=RunnableLambda(retrieve_seed))
            | RunnableLambda(rerank_seed)
            | RunnableLambda(format_docs),
            question=itemgetter("question"),
        )
        | seed_answer
    )

    async def search_all(x: dict[str, Any]) -> list[list[ayo.Hit]]:
        return await search_seed(x["collection"]).abatch(list(x["queries"]))

    rewrite = (
        RunnableLambda(expand_prompt) | llm(W.SEED_REWRITE_TOKENS, "\n\n") | RunnableLambda(ayo.lines.parse)
    )
    seed_advanced = (
        RunnablePassthrough.assign(ingested=RunnableLambda(ingest))
        | RunnablePassthrough.assign(queries=rewrite)
        | RunnableParallel(
            context=RunnablePassthrough.assign(passages=RunnableLambda(search_all) | RunnableLambda(merge))
            | RunnableLambda(rerank_seed)
            | RunnableLambda(format_docs),
            question=itemgetter("question"),
        )
        | seed_answer
    )
    return {
        "naive_rag": naive,
        "expanded_rag": expanded,
        "seed_naive_rag": seed_naive,
        "seed_advanced_rag": seed_advanced,
    }
