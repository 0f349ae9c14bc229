"""The workflows of the end-to-end benchmark (``bench/e2e.py``), their inputs, and nothing else.

1. ``naive_rag``: naive RAG with per-query ingestion. Each query brings its own documents: embed and
   ingest them, search them for the question, rerank the hits with the LLM, answer from the best.
2. ``expanded_rag``: advanced RAG with query expansion. The LLM writes a few search queries for the
   question (one per line), each is searched in a shared knowledge base, the hits are merged
   (duplicates dropped, first occurrence kept), reranked, and the LLM answers from the best.

Both are plain sequential Python, the way a user writes them; the optimizer finds what may overlap.
Sizes are kept small so one query takes a few seconds on 2 CPU cores: 8 short documents per query
(stdlib docstring passages cut to ``DOC_WORDS`` words), a handful of hits, answers of at most
``ANSWER_TOKENS`` tokens from a completion-style prompt (the LLM is a *base* model) that stops at
the end of the line.

3. ``seed_naive_rag`` and 4. ``seed_advanced_rag``: the research system's own two workloads, at its
   proportions (see "The research system's two workloads" below).

Inputs are a fixed list of questions, each about one standard-library module whose first passages
are that query's documents. A query's documents go into the collection of its module
(``collection_for``), so its search sees exactly its own documents whatever ran before: ingestion
is idempotent, so every variant and every repetition of a query searches the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import ayo_trace as ayo
from ayo_trace.corpus import DEMO_MODULES, stdlib_passages

DOCS_PER_QUERY = 8
DOC_WORDS = 40
SEARCH_K = 4  # workflow 1: hits the search returns
EXPANSION_K = 3  # workflow 2: hits per expanded query
CONTEXT_K = 2  # passages the reranker keeps for the answer's prompt
ANSWER_TOKENS = 24
QUERY_TOKENS = 32  # workflow 2: tokens the LLM may spend writing search queries
KB_COLLECTION = "e2e_kb"
# The seed workloads (see "The research system's two workloads" below).
SEED_PASSAGES = 300  # documents each query brings and indexes ("several hundred")
SEED_SEARCH_K = 20
SEED_CONTEXT_K = 2
SEED_ANSWER_TOKENS = 10
SEED_REWRITES = 3  # queries the advanced workload's LLM writes
SEED_REWRITE_TOKENS = 48  # about 3 lines of a few words each
SEED_WORKFLOWS = ("seed_naive_rag", "seed_advanced_rag")

# A base model follows an example better than an instruction: both prompts open with one.
ANSWER_HEAD = (
    "Answer questions about Python from its documentation, in a few words.\n\n"
    "Documentation:\nstring.capwords: Split the argument into words, capitalize each word and join them.\n"
    "Question: How do I capitalize every word in a string?\n"
    "Answer: Use string.capwords(s).\n\n"
)
EXPAND_HEAD = (
    "Write three short search queries for each question, one per line.\n\n"
    "Question: How do I capitalize every word in a string?\n"
    "Queries:\nstring capitalize words\nstring.capwords\ntitle case a string\n\n"
)


@dataclass(frozen=True)
class Query:
    """One benchmark query: a question and the module whose passages are its documents."""

    id: str
    module: str
    question: str


QUERIES: tuple[Query, ...] = (
    Query("q01", "json", "How do I serialize a Python object to a JSON string?"),
    Query("q02", "shutil", "How do I copy a whole directory tree?"),
    Query("q03", "subprocess", "How do I run a command and capture its output?"),
    Query("q04", "tempfile", "How do I create a temporary directory?"),
    Query("q05", "base64", "How do I encode bytes as base64?"),
    Query("q06", "datetime", "How do I get the current date and time?"),
    Query("q07", "random", "How do I pick a random element from a list?"),
    Query("q08", "re", "How do I find all matches of a regular expression?"),
    Query("q09", "pathlib", "How do I join two parts of a file path?"),
    Query("q10", "heapq", "How do I get the smallest items of a list with a heap?"),
    Query("q11", "collections", "How do I count how often each item occurs?"),
    Query("q12", "functools", "How do I cache the results of a function?"),
    Query("q13", "argparse", "How do I parse command-line arguments?"),
    Query("q14", "logging", "How do I write log messages to a file?"),
    Query("q15", "csv", "How do I read rows from a CSV file?"),
    Query("q16", "hashlib", "How do I compute the SHA-256 hash of some bytes?"),
)


def collection_for(query: Query) -> str:
    """The collection that holds ``query``'s documents (one per module)."""
    return f"e2e_doc_{query.module}"


@cache
def docs_for(module: str) -> tuple[str, ...]:
    """The first ``DOCS_PER_QUERY`` passages of ``module``'s docstrings, cut to ``DOC_WORDS`` words."""
    passages = stdlib_passages(modules=[module], limit=DOCS_PER_QUERY)
    return tuple(" ".join(p.document.split()[:DOC_WORDS]) for p in passages)


def knowledge_base() -> list[str]:
    """Workflow 2's shared corpus: every query's documents, each once."""
    return list(dict.fromkeys(d for q in QUERIES for d in docs_for(q.module)))


def inputs_for(workflow: str, query: Query, passages: int = SEED_PASSAGES) -> dict[str, object]:
    """The keyword arguments of ``workflow`` (one of ``make_workflows``' names) for ``query``;
    ``passages``: how many documents each query of the seed workloads brings."""
    if workflow in SEED_WORKFLOWS:
        return {
            "question": query.question,
            "docs": list(seed_docs_for(query.module, passages)),
            "collection": seed_collection_for(query, passages),
        }
    if workflow == "naive_rag":
        return {
            "question": query.question,
            "docs": list(docs_for(query.module)),
            "collection": collection_for(query),
        }
    return {"question": query.question}


def make_workflows(passes: list[ayo.Pass] | None) -> dict[str, ayo.Workflow]:
    """Every workflow compiled with ``passes`` (None: the default passes; ``[]``: program order)."""
    return {
        "naive_rag": ayo.workflow(naive_rag.fn, passes=passes, static=("collection",)),
        "expanded_rag": ayo.workflow(expanded_rag.fn, passes=passes),
        "seed_naive_rag": ayo.workflow(seed_naive_rag.fn, passes=passes, static=("collection",)),
        "seed_advanced_rag": ayo.workflow(seed_advanced_rag.fn, passes=passes, static=("collection",)),
    }


@ayo.workflow(static=("collection",))
async def naive_rag(question: str, docs: list[str], collection: str) -> str:
    await ayo.ingest(docs, collection=collection)
    hits = await ayo.search(question, collection=collection, top_k=SEARCH_K)
    best = await ayo.rerank(question, hits, top_k=CONTEXT_K)
    context = "\n".join(h.text for h in best)
    prompt = f"{ANSWER_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=ANSWER_TOKENS, stop="\n")


@ayo.workflow
async def expanded_rag(question: str) -> str:
    queries = await ayo.llm(
        f"{EXPAND_HEAD}Question: {question}\nQueries:\n",
        parse=ayo.lines,
        max_tokens=QUERY_TOKENS,
        stop="\n\n",
    )
    hits = [await ayo.search(q, collection=KB_COLLECTION, top_k=EXPANSION_K) for q in queries]
    passages = list(dict.fromkeys(h.text for per_query in hits for h in per_query))
    best = await ayo.rerank(question, passages, top_k=CONTEXT_K)
    context = "\n".join(h.text for h in best)
    prompt = f"{ANSWER_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=ANSWER_TOKENS, stop="\n")


# --- the research system's two workloads ---------------------------------------------------------
#
# Ayo's README (reference/ayo-readme.txt) reports one query each on 4 RTX 3090s: naive RAG 3.72 s
# unoptimized, 1.97 s optimized; advanced RAG with query rewriting 7.40 s, 3.17 s. Its example code
# indexes the query's own documents (embed several hundred passages, insert them into pgvector),
# searches the top 20, reranks them to the top 2 with a cross-encoder and generates about 10 tokens;
# the advanced one chains indexing >> query expanding (3 queries, ``expanded_query_num=3``) >>
# searching >> reranking, then answers. These two keep those proportions. Where our models force a
# difference: the passages are standard-library docstring chunks (60-150 words, the demo's corpus);
# the LLM is the shipped Gemma 3 270M, a base model, so the prompts are completion-style with one
# worked example, and the rewrite is one query per line (``ayo.lines``); no cross-encoder ships
# offline, so the default reranker scores each of the 20 (advanced: up to 60 merged) passages by the
# LLM's likelihood of the question, which costs LLM time a cross-encoder on its own GPU would not;
# the embedder is MiniLM (384 dimensions), not a large embedding model.


@cache
def _seed_corpus() -> tuple[str, ...]:
    return tuple(p.document for p in stdlib_passages(modules=DEMO_MODULES))


@cache
def seed_docs_for(module: str, passages: int = SEED_PASSAGES) -> tuple[str, ...]:
    """``passages`` documents for a question about ``module``: the demo corpus's passages from the
    module's first one on (wrapping around), so the answer is among them and so are many others."""
    corpus = _seed_corpus()
    start = next((i for i, d in enumerate(corpus) if d.startswith((f"{module}.", f"{module}:"))), 0)
    n = min(passages, len(corpus))
    return tuple(corpus[(start + i) % len(corpus)] for i in range(n))


def seed_collection_for(query: Query, passages: int = SEED_PASSAGES) -> str:
    """The collection holding ``query``'s seed documents (one per module and document count)."""
    return f"seed_doc_{query.module}_{passages}"


@ayo.workflow(static=("collection",))
async def seed_naive_rag(question: str, docs: list[str], collection: str) -> str:
    await ayo.ingest(docs, collection=collection)
    hits = await ayo.search(question, collection=collection, top_k=SEED_SEARCH_K)
    best = await ayo.rerank(question, hits, top_k=SEED_CONTEXT_K)
    context = "\n".join(h.text for h in best)
    prompt = f"{ANSWER_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=SEED_ANSWER_TOKENS, stop="\n")


@ayo.workflow(static=("collection",))
async def seed_advanced_rag(question: str, docs: list[str], collection: str) -> str:
    await ayo.ingest(docs, collection=collection)
    queries = await ayo.llm(
        f"{EXPAND_HEAD}Question: {question}\nQueries:\n",
        parse=ayo.lines,
        max_tokens=SEED_REWRITE_TOKENS,
        stop="\n\n",
    )
    hits = [await ayo.search(q, collection=collection, top_k=SEED_SEARCH_K) for q in queries]
    passages = list(dict.fromkeys(h.text for per_query in hits for h in per_query))
    best = await ayo.rerank(question, passages, top_k=SEED_CONTEXT_K)
    context = "\n".join(h.text for h in best)
    prompt = f"{ANSWER_HEAD}Documentation:\n{context}\nQuestion: {question}\nAnswer:"
    return await ayo.llm(prompt, max_tokens=SEED_ANSWER_TOKENS, stop="\n")
