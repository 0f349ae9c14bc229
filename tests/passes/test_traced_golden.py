"""Golden texts of real traced workflows (``workflows.py``) before and after ``DEFAULT_PASSES``.

These tie the passes to what ``@ayo.workflow`` actually records. Update a text only after reading it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ayo_trace.ir import Graph
from ayo_trace.passes import DEFAULT_PASSES, apply_pass, critical_path, run_passes

from . import workflows as w

GOLDEN: dict[str, tuple[Callable[[], Graph], str, str]] = {
    "naive_rag": (
        lambda: w.naive_rag.graph("q", ["d"]),
        """\
graph naive_rag(question, docs):
  %question = input  # workflows.py:10
  %docs = input  # workflows.py:10
  %ingest = ingest(%docs, collection='docs')  # workflows.py:11
  %hits = search(%question, collection='docs', top_k=8) after %ingest  # workflows.py:12
  %best = rerank(%question, %hits, top_k=3)  # workflows.py:13
  %context = python(%best) { context = "\\n".join(h.text for h in best) }  # workflows.py:14
  %result = llm(f"Answer the question using only the context.\\nContext:\\n{%context}\\nQuestion: {%question}\\nAnswer:", max_tokens=32, stop=('\\n',))  # workflows.py:15
  return %result""",
        """\
graph naive_rag(question, docs):
  %question = input  # workflows.py:10
  %docs = input  # workflows.py:10
  %ingest = ingest(%docs, collection='docs', whole)  # workflows.py:11
  %hits_embed = embed(%question)  # workflows.py:12
  %hits = db_search(%hits_embed, collection='docs', top_k=8) after %ingest  # workflows.py:12
  %best = rerank(%question, %hits, top_k=3)  # workflows.py:13
  %context = python(%best) { context = "\\n".join(h.text for h in best) }  # workflows.py:14
  %result_prefill = llm_prefill(f"Answer the question using only the context.\\nContext:\\n{%context}\\nQuestion: {%question}\\nAnswer:", session='result', part=1, parts=1)  # workflows.py:15
  %result = llm_decode(%result_prefill, max_tokens=32, stop=('\\n',))  # workflows.py:15
  return %result""",
    ),
    "query_expansion": (
        lambda: w.query_expansion.graph("q"),
        """\
graph query_expansion(question):
  %question = input  # workflows.py:23
  %queries = llm(f"Write three search queries about: {%question}\\n", max_tokens=48, parse=lines)  # workflows.py:24
  %hits = map(%queries, concurrency=1) {  # workflows.py:25
      %q = input
      %search = search(%q, collection='wiki', top_k=4)  # workflows.py:25
      return %search
  }
  %passages = python(%hits) { passages = [h for per_query in hits for h in per_query] }  # workflows.py:26
  %best = rerank(%question, %passages, top_k=4)  # workflows.py:26
  %context = python(%best) { context = "\\n".join(h.text for h in best) }  # workflows.py:27
  %result = llm(f"Answer the question using only the context.\\nContext:\\n{%context}\\nQuestion: {%question}\\nAnswer:", max_tokens=32)  # workflows.py:28
  return %result""",
        """\
graph query_expansion(question):
  %question = input  # workflows.py:23
  %queries_prefill = llm_prefill(f"Write three search queries about: {%question}\\n", session='queries', part=1, parts=1)  # workflows.py:24
  %queries = llm_decode(%queries_prefill, max_tokens=48, parse=lines, stream)  # workflows.py:24
  %hits = map(stream %queries) {  # workflows.py:25
      %q = input
      %search_embed = embed(%q)  # workflows.py:25
      %search = db_search(%search_embed, collection='wiki', top_k=4)  # workflows.py:25
      return %search
  }
  %passages = python(%hits) { passages = [h for per_query in hits for h in per_query] }  # workflows.py:26
  %best = rerank(%question, %passages, top_k=4)  # workflows.py:26
  %context = python(%best) { context = "\\n".join(h.text for h in best) }  # workflows.py:27
  %result_prefill = llm_prefill(f"Answer the question using only the context.\\nContext:\\n{%context}\\nQuestion: {%question}\\nAnswer:", session='result', part=1, parts=1)  # workflows.py:28
  %result = llm_decode(%result_prefill, max_tokens=32)  # workflows.py:28
  return %result""",
    ),
    "two_views": (
        lambda: w.two_views.graph("t"),
        """\
graph two_views(text):
  %text = input  # workflows.py:35
  %summary = llm(f"Summarize the text below in one sentence.\\n{%text}\\nSummary:", max_tokens=32)  # workflows.py:36
  %keywords = llm(f"List keywords for the text below.\\n{%text}\\nKeywords:", max_tokens=16) after %summary  # workflows.py:37
  %python = python(%summary) { print("summary:", summary) } after %keywords  # workflows.py:38
  %result = python(%summary, %keywords) { result = summary + " | " + keywords } after %python  # workflows.py:39
  return %result""",
        """\
graph two_views(text):
  %text = input  # workflows.py:35
  %summary_prefill = llm_prefill(f"Summarize the text below in one sentence.\\n{%text}\\nSummary:", session='summary', part=1, parts=1)  # workflows.py:36
  %summary = llm_decode(%summary_prefill, max_tokens=32)  # workflows.py:36
  %keywords_prefill = llm_prefill(f"List keywords for the text below.\\n{%text}\\nKeywords:", session='keywords', part=1, parts=1)  # workflows.py:37
  %keywords = llm_decode(%keywords_prefill, max_tokens=16)  # workflows.py:37
  %python = python(%summary) { print("summary:", summary) } after %keywords  # workflows.py:38
  %result = python(%summary, %keywords) { result = summary + " | " + keywords }  # workflows.py:39
  return %result after %python""",
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_traced_workflow_prints_as_expected(name: str) -> None:
    build, traced, _ = GOLDEN[name]
    assert str(build()) == traced


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_optimized_workflow_prints_as_expected(name: str) -> None:
    build, _, optimized = GOLDEN[name]
    graph = build().copy()  # passes rewrite in place; the workflow caches its traced graph
    for p in DEFAULT_PASSES:
        graph = apply_pass(p, graph).graph
    assert str(graph) == optimized


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_optimized_workflow_is_estimated_faster(name: str) -> None:
    build = GOLDEN[name][0]
    base, _ = critical_path(build())
    optimized, _ = critical_path(run_passes(build(), DEFAULT_PASSES))
    assert optimized < base
