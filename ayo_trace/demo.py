"""The demo: question answering over the Python standard library's docstrings, on local engines.

    python -m ayo_trace.demo                        # the built-in questions
    python -m ayo_trace.demo "How do I copy a file?" --compare

The first run parses the docstrings of well-known standard library modules into passages
(``ayo_trace.corpus``), embeds them and stores them in the embedded pgvector store (a minute or so,
with a progress bar); later runs find the collection full and skip straight to the questions. Each
question runs the ``answer`` workflow below (search, rerank, answer), traced and optimized, and
prints the answer, the passages it was drawn from and the time it took. ``--compare`` also runs every
question through the same workflow unoptimized (``passes=[]``, program order) on the same engines.

The model is Gemma 3 270M, a small *base* model: it continues text, so the prompt is a completion
("Context: ... Question: ... Answer:") that stops at the end of the line. Its answers are as good as
a 270M model's; the point is what the workflow does around it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from typing import Any, cast

import anyio

from . import frontend as ayo
from .backend.config import default_configs
from .backend.engines.base import VectorStore
from .backend.runtime import Runtime, current_runtime
from .corpus import DEMO_MODULES, Passage, corpus_key, stdlib_passages
from .ir.graph import Graph
from .ir.params import Hit

DEFAULT_QUESTIONS = (
    "How do I serialize a Python object to a JSON string?",
    "How can I run a shell command and capture its output?",
    "How do I create a temporary directory?",
)

SEARCH_K = 4  # passages the vector search returns
CONTEXT_K = 2  # passages the reranker keeps for the prompt
MAX_TOKENS = 32
INGEST_BATCH = 64  # passages per ingest call (one transaction each; the progress bar's step)

# A base model follows an example better than an instruction. This constant head of the prompt is
# the same for every question: prefill splitting computes it once and engines may share it.
EXAMPLE = (
    "Answer questions about Python from its documentation.\n\n"
    "Documentation:\nstring.capwords: Split the argument into words using split, capitalize each word "
    "using capitalize, and join the capitalized words using join.\n"
    "Question: How do I capitalize every word in a string?\n"
    "Answer: Use string.capwords(s), which capitalizes each word of s.\n\n"
)


# Answers ``question`` from the passages of ``collection``: the answer and the passages it used.
@ayo.workflow(static=("collection",))
async def answer(question: str, collection: str) -> tuple[str, list[Hit]]:
    hits = await ayo.search(question, collection=collection, top_k=SEARCH_K)
    best = await ayo.rerank(question, hits, top_k=CONTEXT_K)
    context = "\n".join(h.text for h in best)
    reply = await ayo.llm(
        f"{EXAMPLE}Documentation:\n{context}\nQuestion: {question}\nAnswer:", max_tokens=MAX_TOKENS, stop="\n"
    )
    return reply.strip(), best


# The same function with no passes: the program-order baseline ``--compare`` measures against.
answer_unoptimized = ayo.workflow(answer.fn, passes=[], static=answer.static)


def title_of(hit: Hit | str) -> str:
    """The dotted name a stored passage documents (its text starts with ``"{title}: "``)."""
    text = hit.text if isinstance(hit, Hit) else hit
    return text.partition(": ")[0]


def show_graphs(wf: Any, *args: Any, mermaid: bool = True, **kwargs: Any) -> None:
    """Print workflow ``wf``'s traced and optimized graphs for these arguments (text and Mermaid)."""
    print_graphs(wf.graph(*args, **kwargs), wf.graph(*args, optimized=True, **kwargs), mermaid=mermaid)


def print_graphs(traced: Graph, optimized: Graph, *, mermaid: bool = True) -> None:
    """Print a traced graph and its optimized form, as text and (with ``mermaid``) as Mermaid."""
    for label, graph in (("traced", traced), ("optimized", optimized)):
        print(f"--- {label} graph ---\n{graph}")
        if mermaid:
            print(f"--- {label} graph (Mermaid) ---\n{graph.to_mermaid()}")
    print(flush=True)


# --- the corpus in the store ---------------------------------------------------------------------


def collection_name(passages: Sequence[Passage]) -> str:
    """One collection per distinct corpus, so a ``--limit`` run never passes for the full one."""
    return f"stdlib_{corpus_key(passages)}"


async def ensure_ingested(rt: Runtime, passages: Sequence[Passage], collection: str) -> int:
    """Embed and store the passages ``collection`` does not hold yet, with a progress bar; returns
    the rows added. A full collection costs one count query."""
    from tqdm.auto import tqdm

    await rt.start()
    store = cast(VectorStore, rt.pool("vector_store").engines[0])
    held = await store.count(collection)
    if held >= len(passages):
        return 0
    # Batches commit in order, so an interrupted run left a prefix; re-sending the batch it
    # stopped in is harmless (inserting a text the collection holds is a no-op).
    start = held - held % INGEST_BATCH
    added = 0
    with tqdm(total=len(passages), initial=start, desc="ingesting stdlib docstrings", unit="passage") as bar:
        for i in range(start, len(passages), INGEST_BATCH):
            batch = [p.document for p in passages[i : i + INGEST_BATCH]]
            added += await rt.ingest(batch, collection)
            bar.update(len(batch))
    return added


# --- running the questions -----------------------------------------------------------------------


@dataclasses.dataclass
class Answered:
    question: str
    answer: str
    sources: list[str]
    seconds: float
    unoptimized_seconds: float | None = None
    unoptimized_answer: str | None = None


async def ask(question: str, collection: str, *, compare: bool = False) -> Answered:
    t = time.perf_counter()
    reply, hits = await answer(question, collection)
    seconds = time.perf_counter() - t
    result = Answered(question, reply, [title_of(h) for h in hits], seconds)
    if compare:
        t = time.perf_counter()
        baseline, _ = await answer_unoptimized(question, collection)
        result.unoptimized_seconds = time.perf_counter() - t
        result.unoptimized_answer = baseline
    return result


def print_answer(result: Answered) -> None:
    print(f"Q: {result.question}")
    print(f"A: {result.answer or '(no answer)'}")
    print(f"   sources: {', '.join(result.sources)}")
    timing = f"   time: {result.seconds:.2f} s"
    if result.unoptimized_seconds is not None:
        timing += f" optimized, {result.unoptimized_seconds:.2f} s unoptimized"
    print(timing + "\n", flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ayo_trace.demo",
        description="Answer questions about Python from the standard library's docstrings, on local engines.",
    )
    parser.add_argument("questions", nargs="*", help="questions to answer (default: a few built-in ones)")
    parser.add_argument(
        "--compare", action="store_true", help="also run each question unoptimized and print both latencies"
    )
    parser.add_argument("--limit", type=int, default=None, help="use only the first N passages of the corpus")
    parser.add_argument(
        "--full", action="store_true", help="the whole standard library (default: well-known modules)"
    )
    parser.add_argument("--modules", default=None, help="comma-separated modules to index instead")
    parser.add_argument(
        "--dsn", default=None, help="an external PostgreSQL with pgvector (default: embedded)"
    )
    parser.add_argument("--mermaid", action="store_true", help="also print the optimized graph as Mermaid")
    return parser.parse_args(argv)


def runtime_for(args: argparse.Namespace) -> Runtime:
    """The process default runtime, or one whose vector store is the server ``--dsn`` names."""
    if args.dsn is None:
        return Runtime.default()
    configs = [
        dataclasses.replace(c, dsn=args.dsn, data_dir=None) if c.kind == "vector_store" else c
        for c in default_configs()
    ]
    return Runtime(engines=configs)


async def run(argv: Sequence[str] | None = None, *, runtime: Runtime | None = None) -> list[Answered]:
    """The demo with command-line arguments ``argv``. Without ``runtime`` it runs on the default
    runtime (or, with ``--dsn``, one whose store is that server) and stops it at the end; a
    ``runtime`` passed in must be the current one (``current_runtime()``) and is left running."""
    args = parse_args(argv)
    if runtime is None:
        async with runtime_for(args) as rt:  # the current runtime within the block
            return await _run(args, rt)
    if current_runtime() is not runtime:
        raise ValueError("demo.run(runtime=...) needs the current runtime: the workflows run on it")
    return await _run(args, runtime)


async def _run(args: argparse.Namespace, rt: Runtime) -> list[Answered]:
    modules = None if args.full else args.modules.split(",") if args.modules else DEMO_MODULES
    passages = stdlib_passages(limit=args.limit, modules=modules)
    if not passages:
        raise SystemExit("the corpus is empty: check --modules and --limit")
    collection = collection_name(passages)
    questions = args.questions or list(DEFAULT_QUESTIONS)
    print("ayo-trace demo: questions about Python, answered from the standard library's docstrings")
    print(f"corpus: {len(passages)} passages -> collection {collection}", flush=True)

    added = await ensure_ingested(rt, passages, collection)
    print(f"ingested {added} new passages\n" if added else "corpus already ingested\n", flush=True)
    results: list[Answered] = []
    for question in questions:
        result = await ask(question, collection, compare=args.compare)
        print_answer(result)
        results.append(result)

    graph = answer.graph(questions[0], collection, optimized=True)
    print(f"optimized graph:\n{graph}")
    if args.mermaid:
        print(f"\n{graph.to_mermaid()}")
    total = sum(r.seconds for r in results)
    summary = f"\n{len(results)} questions in {total:.2f} s"
    if args.compare:
        baseline = sum(r.unoptimized_seconds or 0.0 for r in results)
        summary += f" optimized, {baseline:.2f} s unoptimized ({baseline / total:.2f}x)"
    print(summary)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    anyio.run(lambda: run(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
