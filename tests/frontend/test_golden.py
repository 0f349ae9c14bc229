"""Golden texts of traced graphs: one per workflow shape in ``shapes.py``.

The printed graph is the IR's golden form. When a change alters one, read the new text, check it
means the same program, and update it here deliberately.
"""

from __future__ import annotations

import pytest

from . import shapes as s

GOLDEN = {
    "answer": (
        lambda: s.answer.graph("q", ["d1", "d2"]),
        """\
graph answer(question, docs) [static top_k=4]:
  %question = input  # shapes.py:19
  %docs = input  # shapes.py:19
  %ingest = ingest(%docs, collection='kb')  # shapes.py:20
  %queries = llm(f"Write three search queries for: {%question}\\n", max_tokens=48, parse=lines) after %ingest  # shapes.py:21
  %hits = map(%queries, concurrency=1) {  # shapes.py:22
      %q = input
      %search = search(%q, collection='kb', top_k=4)  # shapes.py:22
      return %search
  }
  %passages = python(%hits) { passages = [h for per_query in hits for h in per_query] }  # shapes.py:23
  %best = rerank(%question, %passages, top_k=3)  # shapes.py:23
  %context = python(%best) { context = "\\n".join(f"- {h.text}" for h in best) }  # shapes.py:24
  %result = llm(f"Context:\\n{%context}\\nQuestion: {%question}\\nAnswer:", max_tokens=64)  # shapes.py:25
  return %result""",
    ),
    "naive_rag": (
        lambda: s.naive_rag.graph("q", ["d"]),
        """\
graph naive_rag(question, docs):
  %question = input  # shapes.py:29
  %docs = input  # shapes.py:29
  %ingest = ingest(%docs, collection='naive')  # shapes.py:30
  %hits = search(%question, collection='naive', top_k=4) after %ingest  # shapes.py:31
  %best = rerank(%question, %hits, top_k=2)  # shapes.py:32
  %context = python(%best) { context = "\\n".join(h.text for h in best) }  # shapes.py:33
  %result = llm(f"You answer questions about Python.\\nContext:\\n{%context}\\nQuestion: {%question}\\nAnswer:", max_tokens=32)  # shapes.py:34
  return %result""",
    ),
    "query_expansion": (
        lambda: s.query_expansion.graph("q"),
        """\
graph query_expansion(question):
  %question = input  # shapes.py:38
  %queries = llm(f"Rewrite as search queries:\\n{%question}\\n", max_tokens=32, parse=lines)  # shapes.py:39
  %hits = map(%queries, concurrency=1) {  # shapes.py:40
      %q = input
      %search = search(%q, collection='kb', top_k=2)  # shapes.py:40
      return %search
  }
  %result = python(%hits) { result = [h.text for per_query in hits for h in per_query] }  # shapes.py:41
  return %result""",
    ),
    "independent_branches": (
        lambda: s.independent_branches.graph("q"),
        """\
graph independent_branches(question):
  %question = input  # shapes.py:45
  %code_hits = search(%question, collection='code', top_k=2)  # shapes.py:46
  %doc_hits = search(%question, collection='docs', top_k=2) after %code_hits  # shapes.py:47
  %kind = llm(f"Is this about code or prose? {%question}\\nAnswer:", max_tokens=2) after %doc_hits  # shapes.py:48
  %context = python(%code_hits, %doc_hits) { context = " ".join(h.text for h in code_hits + doc_hits) } after %kind  # shapes.py:49
  %result = llm(f"[{%kind}] {%context}\\nQ: {%question}\\nA:", max_tokens=16)  # shapes.py:50
  return %result""",
    ),
    "map_passages": (
        lambda: s.map_passages.graph(["p1", "p2"]),
        """\
graph map_passages(passages):
  %passages = input  # shapes.py:54
  %summaries = map(%passages, concurrency=1) {  # shapes.py:55
      %p = input
      %llm = llm(f"Summarize in one line: {%p}\\nSummary:", max_tokens=16)  # shapes.py:55
      return %llm
  }
  %part = python(%summaries) { part = "\\n".join(summaries) }  # shapes.py:56
  %result = llm(f"Combine:\\n{+%part}\\nOverall:", max_tokens=24)  # shapes.py:56
  return %result""",
    ),
    "nested": (
        lambda: s.nested.graph("q"),
        """\
graph nested(query):
  %query = input  # shapes.py:66
  %hits = search(%query, collection='docs', top_k=3)  # shapes.py:61
  %result = python(%hits) { result = [h.text for h in hits] }  # shapes.py:62
  %query_1 = python(%query) { query_ = query + " example" } after %result  # shapes.py:68
  %hits_1 = search(%query_1, collection='docs', top_k=2)  # shapes.py:61
  %result_1 = python(%hits_1) { result = [h.text for h in hits] }  # shapes.py:62
  %result_2 = python(%result, %result_1) { result = first + second }  # shapes.py:69
  return %result_2""",
    ),
    "conditional": (
        lambda: s.conditional.graph("q"),
        """\
graph conditional(question):
  %question = input  # shapes.py:73
  %label = llm(f"Label (math/other): {%question}\\nLabel:", max_tokens=3)  # shapes.py:74
  %test = python(%label) { test = label.strip() == "math" }  # shapes.py:75
  %reply = cond(%test, %question) {  # shapes.py:75
      %question = input
      %reply = llm(f"Solve step by step: {%question}\\n", max_tokens=16)  # shapes.py:76
      return %reply
  } else {
      %question = input
      %reply = llm(f"Answer briefly: {%question}\\n", max_tokens=16)  # shapes.py:78
      return %reply
  }
  %result = python(%reply) { result = clean(reply) }  # shapes.py:79
  return %result""",
    ),
    "static_flags": (
        lambda: s.static_flags.graph("q"),
        """\
graph static_flags(question) [static top_k=2, rerank=True]:
  %question = input  # shapes.py:83
  %hits = search(%question, collection='kb', top_k=4)  # shapes.py:84
  %hits_1 = rerank(%question, %hits, top_k=2)  # shapes.py:86
  %result = python(%hits_1) { result = [h.text for h in hits] }  # shapes.py:87
  return %result""",
    ),
    "two_collections": (
        lambda: s.two_collections.graph("q", ["a"], ["b"]),
        """\
graph two_collections(question, papers, notes):
  %question = input  # shapes.py:91
  %papers = input  # shapes.py:91
  %notes = input  # shapes.py:91
  %ingest = ingest(%papers, collection='papers')  # shapes.py:92
  %ingest_1 = ingest(%notes, collection='notes') after %ingest  # shapes.py:93
  %from_papers = search(%question, collection='papers', top_k=1) after %ingest_1  # shapes.py:94
  %from_notes = search(%question, collection='notes', top_k=1) after %from_papers  # shapes.py:95
  %result = python(%from_papers, %from_notes) { result = from_papers[0].text + " / " + from_notes[0].text }  # shapes.py:96
  return %result""",
    ),
    "string_glue": (
        lambda: s.string_glue.graph("t", "a"),
        """\
graph string_glue(topic, audience):
  %topic = input  # shapes.py:100
  %audience = input  # shapes.py:100
  %part = python(%topic) { part = topic.title() }  # shapes.py:102
  %result = llm(f"Topic: {%topic}\\nAudience: {%audience!r}\\n- {+%part}\\nWrite 3 points for {%audience:>10}:\\n", max_tokens=24, stop=('\\n\\n',))  # shapes.py:104
  return %result""",
    ),
    "helpers": (
        lambda: s.helpers.graph("q", ["d"]),
        """\
graph helpers(question, docs):
  %question = input  # shapes.py:108
  %docs = input  # shapes.py:108
  %hits = rerank(%question, %docs, top_k=2)  # shapes.py:109
  %listing = python(%hits) { listing = numbered([h.text for h in hits]) }  # shapes.py:110
  %reply = llm(f"{%listing}\\nWhich line answers: {%question}?\\n", max_tokens=8)  # shapes.py:111
  %result = python(%reply) { result = clean(reply) }  # shapes.py:112
  return %result""",
    ),
    "loop_append": (
        lambda: s.loop_append.graph(["q"]),
        """\
graph loop_append(queries):
  %queries = input  # shapes.py:135
  %texts = python() { texts = [] }  # shapes.py:136
  %texts_1 = map(%queries, concurrency=1) after %texts {  # shapes.py:137
      %q = input
      %hits = search(%q, collection='kb', top_k=1)  # shapes.py:138
      %item = python(%hits) { item = hits[0].text }  # shapes.py:139
      return %item
  }
  %texts_2 = python(%texts, %texts_1) { texts.extend(texts_1) }  # shapes.py:139
  return %texts_2""",
    ),
    "expand_until_long": (
        lambda: s.expand_until_long.graph("q"),
        """\
graph expand_until_long(question):
  %question = input  # shapes.py:144
  %loop = loop(%question, carried=('text',), max_iterations=1000) {  # shapes.py:146
      %text = input
      %test = python(%text) { test = len(text) < 40 }  # shapes.py:146
      %cond = cond(%test, %text) {  # shapes.py:146
          %text = input
          %value = llm(f"Continue: {%text}", max_tokens=8)  # shapes.py:147
          %text_1 = python(%text, %value) { text = text + value }  # shapes.py:147
          %ayo_go = const(True)  # shapes.py:146
          return %text_1, %ayo_go
      } else {
          %text = input
          %ayo_go = const(False)  # shapes.py:146
          return %text, %ayo_go
      }
      %text_1 = getitem(%cond, index=0)  # shapes.py:146
      %ayo_go = getitem(%cond, index=1)  # shapes.py:146
      return %ayo_go, %text_1
  }
  %text = getitem(%loop, index=0)  # shapes.py:146
  return %text""",
    ),
    "embed_similarity": (
        lambda: s.embed_similarity.graph("a", "b"),
        """\
graph embed_similarity(a, b):
  %a = input  # shapes.py:152
  %b = input  # shapes.py:152
  %va = embed(%a)  # shapes.py:154
  %vb = embed(%b) after %va  # shapes.py:155
  %result = python(%va, %vb) { result = sum(x * y for x, y in zip(va, vb, strict=True)) }  # shapes.py:156
  return %result""",
    ),
    "marked_static": (
        lambda: s.marked_static.graph("q"),
        """\
graph marked_static(question) [static style='short']:
  %question = input  # shapes.py:160
  %result = llm(f"Answer in one word.\\nQ: {%question}\\nA:", max_tokens=8)  # shapes.py:162
  return %result""",
    ),
    "early_return": (
        lambda: s.early_return.graph("q"),
        """\
graph early_return(question):
  %question = input  # shapes.py:166
  %label = llm(f"Yes or no: {%question}\\n", max_tokens=2)  # shapes.py:167
  %test = python(%label) { test = label.strip() == "yes" }  # shapes.py:168
  %result = cond(%test, %question) {  # shapes.py:168
      %question = input
      %result = const('affirmative')  # shapes.py:168
      return %result
  } else {
      %question = input
      %result = llm(f"Explain why not: {%question}\\n", max_tokens=8)  # shapes.py:170
      return %result
  }
  return %result""",
    ),
    "closure": (
        lambda: s.make_closure("c", 3).graph("q"),
        """\
graph closure(question):
  %question = input  # shapes.py:117
  %hits = search(%question, collection='c', top_k=3)  # shapes.py:118
  %part = python(%hits) { part = hits[0].text }  # shapes.py:119
  %result = llm(f"{+%part} | {+%question} ->", max_tokens=4)  # shapes.py:119
  return %result""",
    ),
    "method": (
        lambda: s.Assistant("col").ask.graph("q"),
        """\
graph ask(question) [static top_k=2]:
  %question = input  # shapes.py:129
  %hits = search(%question, collection='col', top_k=2)  # shapes.py:130
  %result = rerank(%question, %hits, top_k=1)  # shapes.py:131
  return %result""",
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_traced_graph_prints_as_golden_text(name: str) -> None:
    make, expected = GOLDEN[name]
    graph = make()
    graph.lint()
    assert str(graph) == expected
