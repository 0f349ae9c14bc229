"""Golden before/after texts of every pass on hand-built retrieval workflow shapes (see ``shapes.py``).

Each text is the graph as printed after the passes up to and including that stage. Update a text
only after reading the new one and checking it means what the pass promises.
"""

from __future__ import annotations

import pytest

from ayo_trace.passes import PASS_NAMES

from . import shapes
from .golden import SAME, check_pass, check_traced

GOLDEN: dict[str, dict[str, str]] = {
    "naive_rag": {
        "traced": """\
graph rag(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %ingest = ingest(%docs, collection='docs')  # wf.py:2
  %hits = search(%question, collection='docs', top_k=8) after %ingest  # wf.py:3
  %best = rerank(%question, %hits, top_k=3)  # wf.py:4
  %ctx = python(%best) { ctx = "\\n".join(h.text for h in best) }  # wf.py:5
  %answer = llm(f"Answer the question using only the context.\\nContext: {%ctx}\\nQuestion: {%question}\\nAnswer:", max_tokens=32)  # wf.py:6
  return %answer""",
        "lower": """\
graph rag(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %ingest_embed = embed(%docs)  # wf.py:2
  %ingest = db_insert(%docs, %ingest_embed, collection='docs')  # wf.py:2
  %hits_embed = embed(%question) after %ingest  # wf.py:3
  %hits = db_search(%hits_embed, collection='docs', top_k=8)  # wf.py:3
  %best = rerank(%question, %hits, top_k=3)  # wf.py:4
  %ctx = python(%best) { ctx = "\\n".join(h.text for h in best) }  # wf.py:5
  %answer_prefill = llm_prefill(f"Answer the question using only the context.\\nContext: {%ctx}\\nQuestion: {%question}\\nAnswer:", session='answer', part=1, parts=1)  # wf.py:6
  %answer = llm_decode(%answer_prefill, max_tokens=32)  # wf.py:6
  return %answer""",
        "prune_dependencies": """\
graph rag(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %ingest_embed = embed(%docs)  # wf.py:2
  %ingest = db_insert(%docs, %ingest_embed, collection='docs')  # wf.py:2
  %hits_embed = embed(%question)  # wf.py:3
  %hits = db_search(%hits_embed, collection='docs', top_k=8) after %ingest  # wf.py:3
  %best = rerank(%question, %hits, top_k=3)  # wf.py:4
  %ctx = python(%best) { ctx = "\\n".join(h.text for h in best) }  # wf.py:5
  %answer_prefill = llm_prefill(f"Answer the question using only the context.\\nContext: {%ctx}\\nQuestion: {%question}\\nAnswer:", session='answer', part=1, parts=1)  # wf.py:6
  %answer = llm_decode(%answer_prefill, max_tokens=32)  # wf.py:6
  return %answer""",
        "decompose_stages": """\
graph rag(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %ingest = ingest(%docs, collection='docs', whole)  # wf.py:2
  %hits_embed = embed(%question)  # wf.py:3
  %hits = db_search(%hits_embed, collection='docs', top_k=8) after %ingest  # wf.py:3
  %best = rerank(%question, %hits, top_k=3)  # wf.py:4
  %ctx = python(%best) { ctx = "\\n".join(h.text for h in best) }  # wf.py:5
  %answer_prefill = llm_prefill(f"Answer the question using only the context.\\nContext: {%ctx}\\nQuestion: {%question}\\nAnswer:", session='answer', part=1, parts=1)  # wf.py:6
  %answer = llm_decode(%answer_prefill, max_tokens=32)  # wf.py:6
  return %answer""",
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
    "query_expansion": {
        "traced": """\
graph expand(question):
  %question = input  # wf.py:1
  %queries = llm(f"Write three search queries about: {%question}\\n", max_tokens=48, parse=lines)  # wf.py:2
  %results = map(%queries, concurrency=1) {  # wf.py:3
      %q = input
      %hits = search(%q, collection='wiki', top_k=4)  # wf.py:4
      return %hits
  }
  %hits = python(%results) { hits = [h for r in results for h in r] }  # wf.py:5
  %best = rerank(%question, %hits, top_k=4)  # wf.py:6
  %ctx = python(%best) { ctx = "\\n".join(h.text for h in best) }  # wf.py:7
  %answer = llm(f"Answer the question using only the context.\\nContext: {%ctx}\\nQuestion: {%question}\\nAnswer:", max_tokens=32)  # wf.py:8
  return %answer""",
        "lower": """\
graph expand(question):
  %question = input  # wf.py:1
  %queries_prefill = llm_prefill(f"Write three search queries about: {%question}\\n", session='queries', part=1, parts=1)  # wf.py:2
  %queries = llm_decode(%queries_prefill, max_tokens=48, parse=lines)  # wf.py:2
  %results = map(%queries, concurrency=1) {  # wf.py:3
      %q = input
      %hits_embed = embed(%q)  # wf.py:4
      %hits = db_search(%hits_embed, collection='wiki', top_k=4)  # wf.py:4
      return %hits
  }
  %hits = python(%results) { hits = [h for r in results for h in r] }  # wf.py:5
  %best = rerank(%question, %hits, top_k=4)  # wf.py:6
  %ctx = python(%best) { ctx = "\\n".join(h.text for h in best) }  # wf.py:7
  %answer_prefill = llm_prefill(f"Answer the question using only the context.\\nContext: {%ctx}\\nQuestion: {%question}\\nAnswer:", session='answer', part=1, parts=1)  # wf.py:8
  %answer = llm_decode(%answer_prefill, max_tokens=32)  # wf.py:8
  return %answer""",
        "prune_dependencies": SAME,
        "decompose_stages": """\
graph expand(question):
  %question = input  # wf.py:1
  %queries_prefill = llm_prefill(f"Write three search queries about: {%question}\\n", session='queries', part=1, parts=1)  # wf.py:2
  %queries = llm_decode(%queries_prefill, max_tokens=48, parse=lines)  # wf.py:2
  %results = map(%queries) {  # wf.py:3
      %q = input
      %hits_embed = embed(%q)  # wf.py:4
      %hits = db_search(%hits_embed, collection='wiki', top_k=4)  # wf.py:4
      return %hits
  }
  %hits = python(%results) { hits = [h for r in results for h in r] }  # wf.py:5
  %best = rerank(%question, %hits, top_k=4)  # wf.py:6
  %ctx = python(%best) { ctx = "\\n".join(h.text for h in best) }  # wf.py:7
  %answer_prefill = llm_prefill(f"Answer the question using only the context.\\nContext: {%ctx}\\nQuestion: {%question}\\nAnswer:", session='answer', part=1, parts=1)  # wf.py:8
  %answer = llm_decode(%answer_prefill, max_tokens=32)  # wf.py:8
  return %answer""",
        "split_prefill": SAME,
        "pipeline_decode": """\
graph expand(question):
  %question = input  # wf.py:1
  %queries_prefill = llm_prefill(f"Write three search queries about: {%question}\\n", session='queries', part=1, parts=1)  # wf.py:2
  %queries = llm_decode(%queries_prefill, max_tokens=48, parse=lines, stream)  # wf.py:2
  %results = map(stream %queries) {  # wf.py:3
      %q = input
      %hits_embed = embed(%q)  # wf.py:4
      %hits = db_search(%hits_embed, collection='wiki', top_k=4)  # wf.py:4
      return %hits
  }
  %hits = python(%results) { hits = [h for r in results for h in r] }  # wf.py:5
  %best = rerank(%question, %hits, top_k=4)  # wf.py:6
  %ctx = python(%best) { ctx = "\\n".join(h.text for h in best) }  # wf.py:7
  %answer_prefill = llm_prefill(f"Answer the question using only the context.\\nContext: {%ctx}\\nQuestion: {%question}\\nAnswer:", session='answer', part=1, parts=1)  # wf.py:8
  %answer = llm_decode(%answer_prefill, max_tokens=32)  # wf.py:8
  return %answer""",
    },
    "collections": {
        "traced": """\
graph stores(question, notes, papers):
  %question = input  # wf.py:1
  %notes = input  # wf.py:1
  %papers = input  # wf.py:1
  %old = search(%question, collection='notes', top_k=4)  # wf.py:2
  %ingest = ingest(%notes, collection='notes') after %old  # wf.py:3
  %new = search(%question, collection='notes', top_k=4) after %ingest  # wf.py:4
  %ingest_1 = ingest(%papers, collection='papers') after %new  # wf.py:5
  %facts = search(%question, collection='facts', top_k=4) after %ingest_1  # wf.py:6
  %found = search(%question, collection='papers', top_k=4) after %facts  # wf.py:7
  %everything = python(%old, %new, %facts, %found) { everything = old + new + facts + found }  # wf.py:8
  return %everything""",
        "lower": """\
graph stores(question, notes, papers):
  %question = input  # wf.py:1
  %notes = input  # wf.py:1
  %papers = input  # wf.py:1
  %old_embed = embed(%question)  # wf.py:2
  %old = db_search(%old_embed, collection='notes', top_k=4)  # wf.py:2
  %ingest_embed = embed(%notes) after %old  # wf.py:3
  %ingest = db_insert(%notes, %ingest_embed, collection='notes')  # wf.py:3
  %new_embed = embed(%question) after %ingest  # wf.py:4
  %new = db_search(%new_embed, collection='notes', top_k=4)  # wf.py:4
  %ingest_1_embed = embed(%papers) after %new  # wf.py:5
  %ingest_1 = db_insert(%papers, %ingest_1_embed, collection='papers')  # wf.py:5
  %facts_embed = embed(%question) after %ingest_1  # wf.py:6
  %facts = db_search(%facts_embed, collection='facts', top_k=4)  # wf.py:6
  %found_embed = embed(%question) after %facts  # wf.py:7
  %found = db_search(%found_embed, collection='papers', top_k=4)  # wf.py:7
  %everything = python(%old, %new, %facts, %found) { everything = old + new + facts + found }  # wf.py:8
  return %everything""",
        "prune_dependencies": """\
graph stores(question, notes, papers):
  %question = input  # wf.py:1
  %notes = input  # wf.py:1
  %papers = input  # wf.py:1
  %old_embed = embed(%question)  # wf.py:2
  %old = db_search(%old_embed, collection='notes', top_k=4)  # wf.py:2
  %ingest_embed = embed(%notes)  # wf.py:3
  %ingest = db_insert(%notes, %ingest_embed, collection='notes') after %old  # wf.py:3
  %new_embed = embed(%question)  # wf.py:4
  %new = db_search(%new_embed, collection='notes', top_k=4) after %ingest  # wf.py:4
  %ingest_1_embed = embed(%papers)  # wf.py:5
  %ingest_1 = db_insert(%papers, %ingest_1_embed, collection='papers') after %new  # wf.py:5
  %facts_embed = embed(%question)  # wf.py:6
  %facts = db_search(%facts_embed, collection='facts', top_k=4)  # wf.py:6
  %found_embed = embed(%question)  # wf.py:7
  %found = db_search(%found_embed, collection='papers', top_k=4) after %ingest_1  # wf.py:7
  %everything = python(%old, %new, %facts, %found) { everything = old + new + facts + found }  # wf.py:8
  return %everything""",
        "decompose_stages": """\
graph stores(question, notes, papers):
  %question = input  # wf.py:1
  %notes = input  # wf.py:1
  %papers = input  # wf.py:1
  %old_embed = embed(%question)  # wf.py:2
  %old = db_search(%old_embed, collection='notes', top_k=4)  # wf.py:2
  %ingest = ingest(%notes, collection='notes', whole) after %old  # wf.py:3
  %new_embed = embed(%question)  # wf.py:4
  %new = db_search(%new_embed, collection='notes', top_k=4) after %ingest  # wf.py:4
  %ingest_1 = ingest(%papers, collection='papers', whole) after %new  # wf.py:5
  %facts_embed = embed(%question)  # wf.py:6
  %facts = db_search(%facts_embed, collection='facts', top_k=4)  # wf.py:6
  %found_embed = embed(%question)  # wf.py:7
  %found = db_search(%found_embed, collection='papers', top_k=4) after %ingest_1  # wf.py:7
  %everything = python(%old, %new, %facts, %found) { everything = old + new + facts + found }  # wf.py:8
  return %everything""",
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
    "const_docs": {
        "traced": """\
graph faq(question):
  %question = input  # wf.py:1
  %docs = const(['Paris is in France.', 'Rome is in Italy.'])
  %ingest = ingest(%docs, collection='faq')  # wf.py:2
  %hits = search(%question, collection='faq', top_k=1) after %ingest  # wf.py:3
  return %hits""",
        "lower": """\
graph faq(question):
  %question = input  # wf.py:1
  %docs = const(['Paris is in France.', 'Rome is in Italy.'])
  %ingest_embed = embed(%docs)  # wf.py:2
  %ingest = db_insert(%docs, %ingest_embed, collection='faq')  # wf.py:2
  %hits_embed = embed(%question) after %ingest  # wf.py:3
  %hits = db_search(%hits_embed, collection='faq', top_k=1)  # wf.py:3
  return %hits""",
        "prune_dependencies": """\
graph faq(question):
  %question = input  # wf.py:1
  %docs = const(['Paris is in France.', 'Rome is in Italy.'])
  %ingest_embed = embed(%docs)  # wf.py:2
  %ingest = db_insert(%docs, %ingest_embed, collection='faq')  # wf.py:2
  %hits_embed = embed(%question)  # wf.py:3
  %hits = db_search(%hits_embed, collection='faq', top_k=1) after %ingest  # wf.py:3
  return %hits""",
        "decompose_stages": """\
graph faq(question):
  %question = input  # wf.py:1
  %docs = const(['Paris is in France.', 'Rome is in Italy.'])
  %ingest = ingest(%docs, collection='faq', whole)  # wf.py:2
  %hits_embed = embed(%question)  # wf.py:3
  %hits = db_search(%hits_embed, collection='faq', top_k=1) after %ingest  # wf.py:3
  return %hits""",
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
    "map_ingest": {
        "traced": """\
graph notes(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %counts = map(%docs, concurrency=1) {  # wf.py:2
      %d = input
      %one = python(%d) { one = [d] }  # wf.py:3
      %count = ingest(%one, collection='notes')  # wf.py:4
      return %count
  }
  %hits = search(%question, collection='notes', top_k=4) after %counts  # wf.py:5
  return %hits""",
        "lower": """\
graph notes(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %counts = map(%docs, concurrency=1) {  # wf.py:2
      %d = input
      %one = python(%d) { one = [d] }  # wf.py:3
      %count_embed = embed(%one)  # wf.py:4
      %count = db_insert(%one, %count_embed, collection='notes')  # wf.py:4
      return %count
  }
  %hits_embed = embed(%question) after %counts  # wf.py:5
  %hits = db_search(%hits_embed, collection='notes', top_k=4)  # wf.py:5
  return %hits""",
        "prune_dependencies": """\
graph notes(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %counts = map(%docs, concurrency=1) {  # wf.py:2
      %d = input
      %one = python(%d) { one = [d] }  # wf.py:3
      %count_embed = embed(%one)  # wf.py:4
      %count = db_insert(%one, %count_embed, collection='notes')  # wf.py:4
      return %count
  }
  %hits_embed = embed(%question)  # wf.py:5
  %hits = db_search(%hits_embed, collection='notes', top_k=4) after %counts  # wf.py:5
  return %hits""",
        "decompose_stages": """\
graph notes(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %counts = map(%docs, concurrency=1) {  # wf.py:2
      %d = input
      %one = python(%d) { one = [d] }  # wf.py:3
      %count = ingest(%one, collection='notes', whole)  # wf.py:4
      return %count
  }
  %hits_embed = embed(%question)  # wf.py:5
  %hits = db_search(%hits_embed, collection='notes', top_k=4) after %counts  # wf.py:5
  return %hits""",
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
    "cond_branch": {
        "traced": """\
graph route(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %ingest = ingest(%docs, collection='kb')  # wf.py:2
  %long = python(%question) { long = len(question) > 40 } after %ingest  # wf.py:3
  %out = cond(%long, %question) {  # wf.py:4
      %question = input
      %out = search(%question, collection='kb', top_k=2)  # wf.py:5
      return %out
  } else {
      %question = input
      %out = llm(f"Answer briefly: {%question}\\n", max_tokens=16)  # wf.py:6
      return %out
  }
  return %out""",
        "lower": """\
graph route(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %ingest_embed = embed(%docs)  # wf.py:2
  %ingest = db_insert(%docs, %ingest_embed, collection='kb')  # wf.py:2
  %long = python(%question) { long = len(question) > 40 } after %ingest  # wf.py:3
  %out = cond(%long, %question) {  # wf.py:4
      %question = input
      %out_embed = embed(%question)  # wf.py:5
      %out = db_search(%out_embed, collection='kb', top_k=2)  # wf.py:5
      return %out
  } else {
      %question = input
      %out_prefill = llm_prefill(f"Answer briefly: {%question}\\n", session='out', part=1, parts=1)  # wf.py:6
      %out = llm_decode(%out_prefill, max_tokens=16)  # wf.py:6
      return %out
  }
  return %out""",
        "prune_dependencies": """\
graph route(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %ingest_embed = embed(%docs)  # wf.py:2
  %ingest = db_insert(%docs, %ingest_embed, collection='kb')  # wf.py:2
  %long = python(%question) { long = len(question) > 40 }  # wf.py:3
  %out = cond(%long, %question) after %ingest {  # wf.py:4
      %question = input
      %out_embed = embed(%question)  # wf.py:5
      %out = db_search(%out_embed, collection='kb', top_k=2)  # wf.py:5
      return %out
  } else {
      %question = input
      %out_prefill = llm_prefill(f"Answer briefly: {%question}\\n", session='out', part=1, parts=1)  # wf.py:6
      %out = llm_decode(%out_prefill, max_tokens=16)  # wf.py:6
      return %out
  }
  return %out""",
        "decompose_stages": """\
graph route(question, docs):
  %question = input  # wf.py:1
  %docs = input  # wf.py:1
  %ingest = ingest(%docs, collection='kb', whole)  # wf.py:2
  %long = python(%question) { long = len(question) > 40 }  # wf.py:3
  %out = cond(%long, %question) after %ingest {  # wf.py:4
      %question = input
      %out_embed = embed(%question)  # wf.py:5
      %out = db_search(%out_embed, collection='kb', top_k=2)  # wf.py:5
      return %out
  } else {
      %question = input
      %out_prefill = llm_prefill(f"Answer briefly: {%question}\\n", session='out', part=1, parts=1)  # wf.py:6
      %out = llm_decode(%out_prefill, max_tokens=16)  # wf.py:6
      return %out
  }
  return %out""",
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
    "late_holes": {
        "traced": """\
graph compare(question):
  %question = input  # wf.py:1
  %hits = search(%question, collection='kb', top_k=4)  # wf.py:2
  %ctx = python(%hits) { ctx = "\\n".join(h.text for h in hits) }  # wf.py:3
  %answer = llm(f"{%question}\\n---\\n{%ctx}", max_tokens=16)  # wf.py:4
  return %answer""",
        "lower": """\
graph compare(question):
  %question = input  # wf.py:1
  %hits_embed = embed(%question)  # wf.py:2
  %hits = db_search(%hits_embed, collection='kb', top_k=4)  # wf.py:2
  %ctx = python(%hits) { ctx = "\\n".join(h.text for h in hits) }  # wf.py:3
  %answer_prefill = llm_prefill(f"{%question}\\n---\\n{%ctx}", session='answer', part=1, parts=1)  # wf.py:4
  %answer = llm_decode(%answer_prefill, max_tokens=16)  # wf.py:4
  return %answer""",
        "prune_dependencies": SAME,
        "decompose_stages": SAME,
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
}


@pytest.mark.parametrize("shape", sorted(GOLDEN))
def test_traced_shape(shape: str) -> None:
    check_traced(shapes.SHAPES[shape], GOLDEN[shape])


@pytest.mark.parametrize("pass_name", PASS_NAMES)
@pytest.mark.parametrize("shape", sorted(GOLDEN))
def test_pass_golden(shape: str, pass_name: str) -> None:
    check_pass(shapes.SHAPES[shape], GOLDEN[shape], pass_name)
