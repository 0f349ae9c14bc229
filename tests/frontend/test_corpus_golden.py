"""Golden texts of traced graphs of the corpus (about a third of it).

The printed graph is the IR's golden form. When a change alters one, read the new text, check it
means the same program, and update it here deliberately.
"""

from __future__ import annotations

import pytest

from .corpus import dataflow as f
from .corpus import definite as d
from .corpus import helpers as h
from .corpus import statics as s

DOCS = ["a", "b"]

GOLDEN = {
    "summaries_with_helper_in_hole": (
        lambda: f.summaries_with_helper_in_hole.graph(DOCS),
        """\
graph summaries_with_helper_in_hole(docs):
  %docs = input  # dataflow.py:28
  %result = map(%docs, concurrency=1) {  # dataflow.py:29
      %d = input
      %field = python(%d) { field = shorten(d) }  # dataflow.py:29
      %llm = llm(f"Summarize: {%field}\\nSummary:", max_tokens=4)  # dataflow.py:29
      return %llm
  }
  return %result""",
    ),
    "glossary_from_dict_items": (
        lambda: f.glossary_from_dict_items.graph({"k": "v"}),
        """\
graph glossary_from_dict_items(terms):
  %terms = input  # dataflow.py:33
  %items = python(%terms) { items = terms.items() }  # dataflow.py:34
  %result_items = python(%items) { result_items = __ayo_items((term, hint,) for term, hint in … }  # dataflow.py:34
  %result_items_1 = map(%result_items, concurrency=1) {  # dataflow.py:34
      %item = input
      %term = getitem(%item, index=0)
      %hint = getitem(%item, index=1)
      %field = python(%term) { field = term.upper() }  # dataflow.py:35
      %field_1 = python(%hint) { field = shorten(hint, 16) } after %field  # dataflow.py:35
      %llm = llm(f"Define {%field} ({%field_1}):", max_tokens=3)  # dataflow.py:35
      return %term, %llm
  }
  %result = python(%result_items_1) { result = dict(result_items_1) }  # dataflow.py:34
  return %result""",
    ),
    "words_of_every_doc": (
        lambda: f.words_of_every_doc.graph(DOCS),
        """\
graph words_of_every_doc(docs):
  %docs = input  # dataflow.py:60
  %long_words_items = python(%docs) { long_words_items = __ayo_items((d, w,) for d in docs for w … }  # dataflow.py:61
  %long_words = map(%long_words_items, concurrency=1) {  # dataflow.py:61
      %item = input
      %d = getitem(%item, index=0)
      %w = getitem(%item, index=1)
      %llm = llm(f"Explain the word {%w!r}:", max_tokens=2)  # dataflow.py:62
      return %llm
  }
  return %long_words""",
    ),
    "conditional_expression": (
        lambda: f.conditional_expression.graph("q", "brief"),
        """\
graph conditional_expression(question, mode):
  %question = input  # dataflow.py:99
  %mode = input  # dataflow.py:99
  %test = python(%mode) { test = mode == "brief" }  # dataflow.py:100
  %answer = cond(%test, %question) {  # dataflow.py:100
      %question = input
      %answer = llm(f"Answer briefly: {%question}", max_tokens=3)  # dataflow.py:101
      return %answer
  } else {
      %question = input
      %answer = llm(f"Answer in detail: {%question}", max_tokens=8)  # dataflow.py:103
      return %answer
  }
  %result = python(%answer) { result = answer.strip() }  # dataflow.py:105
  return %result""",
    ),
    "cached_or_generated": (
        lambda: f.cached_or_generated.graph("q", {}),
        """\
graph cached_or_generated(question, cache):
  %question = input  # dataflow.py:114
  %cache = input  # dataflow.py:114
  %left = python(%cache, %question) { left = cache.get(question) }  # dataflow.py:115
  %answer = cond(%left, %left, %question) {  # dataflow.py:115
      %left = input
      %question = input
      return %left
  } else {
      %left = input
      %question = input
      %answer = llm(f"Q: {%question}\\nA:", max_tokens=4)  # dataflow.py:115
      return %answer
  }
  return %answer""",
    ),
    "try_except_as": (
        lambda: f.try_except_as.graph("q"),
        """\
graph try_except_as(question):
  %question = input  # dataflow.py:137
  %try = try(%question, names=('answer',)) {  # dataflow.py:138
      %question = input
      %answer = llm(f"Q: {%question}\\nA:", max_tokens=4)  # dataflow.py:139
      return %answer
  } except OutOfBudget as e {
      %e = input
      %question = input
      %answer = python(%e) { answer = f"budget: {e}" }  # dataflow.py:141
      return %answer
  }
  %answer = getitem(%try, index=0)  # dataflow.py:138
  return %answer""",
    ),
    "guard_clause": (
        lambda: d.guard_clause.graph("q", DOCS),
        """\
graph guard_clause(question, docs):
  %question = input  # definite.py:18
  %docs = input  # definite.py:18
  %test = python(%docs) { test = not docs }  # definite.py:19
  %result = cond(%test, %docs, %question) {  # definite.py:19
      %docs = input
      %question = input
      %result = const('no documents')  # definite.py:19
      return %result
  } else {
      %docs = input
      %question = input
      %ingest = ingest(%docs, collection='guard')  # definite.py:21
      %hits = search(%question, collection='guard', top_k=2) after %ingest  # definite.py:22
      %field = python(%hits) { field = hits[0].text }  # definite.py:23
      %result = llm(f"{%field}\\nQ: {%question}\\nA:", max_tokens=5)  # definite.py:23
      return %result
  }
  return %result""",
    ),
    "early_return_then_more_code": (
        lambda: d.early_return_then_more_code.graph("q", DOCS),
        """\
graph early_return_then_more_code(question, docs):
  %question = input  # definite.py:27
  %docs = input  # definite.py:27
  %ingest = ingest(%docs, collection='early')  # definite.py:28
  %label = llm(f"Is this a lookup? {%question}\\n", max_tokens=2) after %ingest  # definite.py:29
  %test = python(%label) { test = "yields" in label }  # definite.py:30
  %result = cond(%test, %question) {  # definite.py:30
      %question = input
      %hits = search(%question, collection='early', top_k=1)  # definite.py:31
      %result = python(%hits) { result = hits[0].text }  # definite.py:32
      return %result
  } else {
      %question = input
      %hits = search(%question, collection='early', top_k=3)  # definite.py:33
      %context = python(%hits) { context = " / ".join(h.text for h in hits) }  # definite.py:34
      %answer = llm(f"{%context}\\nQ: {%question}\\nA:", max_tokens=5)  # definite.py:35
      %result = python(%answer) { result = answer.strip() }  # definite.py:36
      return %result
  }
  return %result""",
    ),
    "countdown": (
        lambda: d.countdown.graph("q"),
        """\
graph countdown(question) [static depth=2]:
  %question = input  # definite.py:72
  %sharper = llm(f"Sharpen: {%question}", max_tokens=3)  # definite.py:75
  %question_1 = python(%question, %sharper) { question_ = question + sharper }  # definite.py:76
  %sharper_1 = llm(f"Sharpen: {%question_1}", max_tokens=3)  # definite.py:75
  %question_2 = python(%question_1, %sharper_1) { question_ = question + sharper }  # definite.py:76
  return %question_2""",
    ),
    "local_def": (
        lambda: d.local_def.graph("q", DOCS),
        """\
graph local_def(question, docs):
  %question = input  # definite.py:89
  %docs = input  # definite.py:89
  %bullet = python() { def bullet(text: str) -> str: … }  # definite.py:90
  %result = map(%docs, %bullet, %question, concurrency=1) {  # definite.py:93
      %d = input
      %bullet = input
      %question = input
      %field = python(%bullet, %d) { field = bullet(d) }  # definite.py:93
      %llm = llm(f"{%field}\\nAbout {%question}:", max_tokens=2)  # definite.py:93
      return %llm
  }
  return %result""",
    ),
    "helpers_calling_helpers": (
        lambda: h.helpers_calling_helpers.graph("q", DOCS),
        """\
graph helpers_calling_helpers(question, docs):
  %question = input  # helpers.py:57
  %docs = input  # helpers.py:57
  %ingest = ingest(%docs, collection='helpers')  # helpers.py:25
  %hits = search(%question, collection='helpers', top_k=2) after %ingest  # helpers.py:26
  %best = rerank(%question, %hits, top_k=1)  # helpers.py:27
  %result = python(%best) { result = [h.text for h in best] }  # helpers.py:28
  %text = python(%result) { text = " ".join(passages) }  # helpers.py:32
  %reply = llm(f"Summarize in 4 words: {%text}\\nSummary:", max_tokens=4)  # helpers.py:20
  %result_1 = python(%reply) { result = reply.strip() }  # helpers.py:21
  %result_2 = llm(f"Context: {%result_1}\\nQ: {%question}\\nA:", max_tokens=5)  # helpers.py:33
  return %result_2""",
    ),
    "local_async_helper": (
        lambda: h.local_async_helper.graph("q", DOCS),
        """\
graph local_async_helper(question, docs):
  %question = input  # helpers.py:79
  %docs = input  # helpers.py:79
  %ask = python() { async def ask(text: str) -> str: … }  # helpers.py:82
  %result = llm(f"Answer briefly.\\n{%question}\\nA:", max_tokens=3) after %ask  # helpers.py:83
  %notes = map(%docs, concurrency=1) after %result {  # helpers.py:86
      %d = input
      %result = llm(f"Answer briefly.\\n{%d}\\nA:", max_tokens=3)  # helpers.py:83
      return %result
  }
  %result_1 = python(%result, %notes) { result = first + " / " + " / ".join(notes) }  # helpers.py:87
  return %result_1""",
    ),
    "recursive_helper": (
        lambda: h.recursive_helper.graph("q"),
        """\
graph recursive_helper(question):
  %question = input  # helpers.py:68
  %better = llm(f"Improve: {%question}", max_tokens=3)  # helpers.py:39
  %better_1 = llm(f"Improve: {+%question} |{+%better}", max_tokens=3)  # helpers.py:39
  %better_2 = llm(f"Improve: {+%question} |{+%better} |{+%better_1}", max_tokens=3)  # helpers.py:39
  %text = python(%question, %better) { text_ = text + " |" + better } after %better_2  # helpers.py:40
  %text_1 = python(%text, %better_1) { text_ = text + " |" + better }  # helpers.py:40
  %text_2 = python(%text_1, %better_2) { text_ = text + " |" + better }  # helpers.py:40
  return %text_2""",
    ),
    "method_workflow_with_method_helpers": (
        lambda: h.ASSISTANT.answer.graph("q", DOCS),
        """\
graph answer(question, docs):
  %question = input  # helpers.py:111
  %docs = input  # helpers.py:111
  %result = ingest(%docs, collection='methods')  # helpers.py:96
  %hits = search(%question, collection='methods', top_k=2) after %result  # helpers.py:99
  %result_1 = python(%hits) { result = [h.text for h in hits] }  # helpers.py:100
  %result_2 = python(%result_1) { result = "\\n".join(result_1) }  # helpers.py:108
  %result_3 = llm(f"{%result_2}\\nQ: {%question}\\nA:", max_tokens=4)  # helpers.py:114
  return %result_3""",
    ),
    "collection_parameter": (
        lambda: s.collection_parameter.graph("q", DOCS, collection="papers"),
        """\
graph collection_parameter(question, docs) [static collection='papers']:
  guard collection == 'papers'  # needed as a constant by `collection=` of ayo.ingest() at statics.py:30
  %question = input  # statics.py:27
  %docs = input  # statics.py:27
  %ingest = ingest(%docs, collection='papers')  # statics.py:30
  %hits = search(%question, collection='papers', top_k=2) after %ingest  # statics.py:31
  %result = python(%hits) { result = [h.text for h in hits] }  # statics.py:32
  return %result""",
    ),
    "top_k_from_a_model_answer": (
        lambda: s.top_k_from_a_model_answer.graph("q", DOCS),
        """\
graph top_k_from_a_model_answer(question, docs):
  %question = input  # statics.py:54
  %docs = input  # statics.py:54
  %ingest = ingest(%docs, collection='answer_k')  # statics.py:55
  %reply = llm(f"How many passages for: {%question}?\\n", max_tokens=1) after %ingest  # statics.py:56
  %k = python(%reply) { k = 1 + len(reply) % 3 }  # statics.py:57
  %hits = search(%question, %k, collection='answer_k', top_k=4, top_k_arg=1)  # statics.py:58
  %best = rerank(%question, %hits, %k, top_k_arg=2)  # statics.py:59
  %result = python(%best) { result = [h.text for h in best] }  # statics.py:60
  return %result""",
    ),
    "collection_through_a_nested_workflow": (
        lambda: s.collection_through_a_nested_workflow.graph("q", DOCS, "space"),
        """\
graph collection_through_a_nested_workflow(question, docs) [static space='space']:
  guard space == 'space'  # needed as a constant by `collection=` of ayo.ingest() at statics.py:71
  %question = input  # statics.py:70
  %docs = input  # statics.py:70
  %ingest = ingest(%docs, collection='space')  # statics.py:71
  %hits = search(%question, collection='space', top_k=1) after %ingest  # statics.py:65
  %result = python(%hits) { result = [h.text for h in hits] }  # statics.py:66
  return %result""",
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_corpus_graph_prints_as_golden_text(name: str) -> None:
    make, expected = GOLDEN[name]
    graph = make()
    graph.lint()
    assert str(graph) == expected
