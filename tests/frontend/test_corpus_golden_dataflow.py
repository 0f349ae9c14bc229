"""Golden texts of traced graphs of the corpus, part 2: apps, closures, dataflow, definite assignment (with ``test_corpus_golden.py``
and ``test_corpus_golden_calls.py``, a third of the corpus's workflows).

Each key is a case id of ``corpus.all_cases()`` (``module.workflow``); its graph is traced with that
case's arguments. The printed graph is the IR's golden form: when a change alters one, read the
new text, check it means the same program, and update it here deliberately.
"""

from __future__ import annotations

import pytest

from .corpus import all_cases

CASES = {c.id: c for c in reversed(all_cases())}  # a workflow's first case wins

GOLDEN = {
    "apps.budgeted_summaries": """\
graph budgeted_summaries(docs, budget):
  %docs = input  # apps.py:70
  %budget = input  # apps.py:70
  %ingest = ingest(%docs, collection='budgeted')  # apps.py:71
  %top_k = python(%budget) { top_k = budget.passages } after %ingest  # apps.py:72
  %query = const('what matters most')  # apps.py:72
  %picked = rerank(%query, %docs, %top_k, top_k_arg=2)  # apps.py:72
  %result_items = map(%picked, %budget, concurrency=1) {  # apps.py:73
      %h = input
      %budget = input
      %value = python(%h) { value = h.text[:12] }  # apps.py:73
      %field = python(%budget) { field = budget.words } after %value  # apps.py:74
      %field_1 = python(%h) { field = first_line(h.text) } after %field  # apps.py:74
      %llm = llm(f"Summarize in {%field} words: {%field_1}", max_tokens=4)  # apps.py:74
      return %value, %llm
  }
  %result = python(%result_items) { result = dict(result_items) }  # apps.py:73
  return %result""",
    "apps.translate_all": """\
graph translate_all(texts, language):
  %texts = input  # apps.py:96
  %language = input  # apps.py:96
  %items = python(%texts) { items = sorted(texts.items()) }  # apps.py:97
  %result_items = python(%items) { result_items = __ayo_items((key, value,) for key, value in … }  # apps.py:97
  %result_items_1 = map(%result_items, %language, concurrency=1) {  # apps.py:97
      %item = input
      %language = input
      %key = getitem(%item, index=0)
      %value = getitem(%item, index=1)
      %field = python(%language) { field = language.title() }  # apps.py:98
      %field_1 = python(%value) { field = value.strip() } after %field  # apps.py:98
      %llm = llm(f"Translate to {%field}: {%field_1}\\n", max_tokens=4, engine='llm')  # apps.py:98
      return %key, %llm
  }
  %result = python(%result_items_1) { result = dict(result_items_1) }  # apps.py:97
  return %result""",
    "closures.closure_remembers_answers": """\
graph closure_remembers_answers(question):
  %question = input  # closures.py:14
  %seen = python() { seen = [] }  # closures.py:15
  %python = python(%seen) { def remember(answer: str) -> str: … }  # closures.py:17
  %remember = getitem(%python, index=0)  # closures.py:17
  %seen_1 = getitem(%python, index=1)  # closures.py:17
  %value = llm(f"Q: {%question}", max_tokens=2) after %python  # closures.py:21
  %first = python(%remember, %seen_1, %value) { first = remember(value) }  # closures.py:21
  %first_1 = getitem(%first, index=0)  # closures.py:21
  %seen_2 = getitem(%first, index=1)  # closures.py:21
  %value_1 = llm(f"Again: {%first_1}", max_tokens=2) after %first  # closures.py:22
  %seen_3 = python(%remember, %seen_2, %value_1) { remember(value_1) }  # closures.py:22
  return %seen_3""",
    "closures.closure_reads_a_list_filled_later": """\
graph closure_reads_a_list_filled_later(question, docs):
  %question = input  # closures.py:27
  %docs = input  # closures.py:27
  %notes = python() { notes = [] }  # closures.py:28
  %context = python(%notes) { def context() -> str: … }  # closures.py:30
  %notes_1 = python(%docs, %notes) { for d in docs: … } after %context  # closures.py:33
  %value = llm(f"Hint for {%question}", max_tokens=2) after %notes_1  # closures.py:35
  %notes_2 = python(%notes_1, %value) { notes.append(value) }  # closures.py:35
  %field = python(%context, %notes_2) { field = context() }  # closures.py:36
  %result = llm(f"{%field}\\nQ: {%question}", max_tokens=2)  # closures.py:36
  return %result""",
    "closures.lambda_per_item": """\
graph lambda_per_item(docs):
  %docs = input  # closures.py:40
  %out = python() { out = [] }  # closures.py:41
  %out_1 = map(%docs, concurrency=1) after %out {  # closures.py:42
      %d = input
      %shout = python(%d) { shout = lambda: d.upper() }  # closures.py:43
      %prompt = python(%shout, %d) { prompt = shout() }  # closures.py:44
      %item = llm(f"{%prompt}", max_tokens=2)  # closures.py:44
      return %item
  }
  %out_2 = python(%out, %out_1) { out.extend(out_1) }  # closures.py:44
  return %out_2""",
    "closures.local_key_function": """\
graph local_key_function(question, docs):
  %question = input  # closures.py:49
  %docs = input  # closures.py:49
  %weights = python() { weights = {"lists": 3, "generators": 2} }  # closures.py:50
  %weight = python(%weights) { def weight(text: str) -> int: … }  # closures.py:52
  %answers = map(%docs, %question, concurrency=1) after %weight {  # closures.py:55
      %d = input
      %question = input
      %llm = llm(f"{%question} {%d}", max_tokens=2)  # closures.py:55
      return %llm
  }
  %ranked = python(%docs, %answers, %weight, %weights) { ranked = sorted(zip(docs, answers, strict=True), key=lambda… }  # closures.py:56
  %result = python(%ranked) { result = [f"{d}: {a}" for d, a in ranked] }  # closures.py:57
  return %result""",
    "closures.local_async_helper_reads_the_latest_value": """\
graph local_async_helper_reads_the_latest_value(question):
  %question = input  # closures.py:77
  %ask = python() { async def ask(s: str) -> str: … }  # closures.py:80
  %value = llm(f"tone for {%question}", max_tokens=1) after %ask  # closures.py:83
  %tone = python(%value) { tone = value.strip() }  # closures.py:83
  %field = python(%tone) { field = tone }  # closures.py:81
  %result = llm(f"[{%field}] {%question}", max_tokens=2)  # closures.py:81
  return %result""",
    "dataflow.topics_as_a_set": """\
graph topics_as_a_set(docs):
  %docs = input  # dataflow.py:41
  %topics_items = map(%docs, concurrency=1) {  # dataflow.py:42
      %d = input
      %field = python(%d) { field = d.lower() }  # dataflow.py:42
      %llm = llm(f"One-word topic of: {%field}", max_tokens=1)  # dataflow.py:42
      return %llm
  }
  %topics = python(%topics_items) { topics = set(topics_items) }  # dataflow.py:42
  %result = python(%topics) { result = sorted(topics) }  # dataflow.py:43
  return %result""",
    "dataflow.numbered_with_enumerate": """\
graph numbered_with_enumerate(docs):
  %docs = input  # dataflow.py:47
  %items = python(%docs) { items = enumerate(docs) }  # dataflow.py:48
  %result_items = python(%items) { result_items = __ayo_items((i, d,) for i, d in items) }  # dataflow.py:48
  %result = map(%result_items, concurrency=1) {  # dataflow.py:48
      %item = input
      %i = getitem(%item, index=0)
      %d = getitem(%item, index=1)
      %field = python(%i) { field = i + 1 }  # dataflow.py:48
      %llm = llm(f"{%field}. {%d}\\nRewrite:", max_tokens=3)  # dataflow.py:48
      return %llm
  }
  return %result""",
    "dataflow.pairs_from_zip": """\
graph pairs_from_zip(questions, docs):
  %questions = input  # dataflow.py:52
  %docs = input  # dataflow.py:52
  %items = python(%questions, %docs) { items = zip(questions, docs, strict=True) }  # dataflow.py:53
  %result_items = python(%items) { result_items = __ayo_items((q, d,) for q, d in items) }  # dataflow.py:53
  %result = map(%result_items, concurrency=1) {  # dataflow.py:53
      %item = input
      %q = getitem(%item, index=0)
      %d = getitem(%item, index=1)
      %field = python(%d) { field = d[:20] }  # dataflow.py:54
      %llm = llm(f"Q: {%q}\\nDoc: {%field}\\nA:", max_tokens=3)  # dataflow.py:54
      return %llm
  }
  return %result""",
    "dataflow.filtered_by_helper": """\
graph filtered_by_helper(docs, question):
  %docs = input  # dataflow.py:68
  %question = input  # dataflow.py:68
  %notes_items = python(%docs) { notes_items = __ayo_items(d for d in docs if keep(d)) }  # dataflow.py:69
  %notes = map(%notes_items, %question, concurrency=1) {  # dataflow.py:69
      %d = input
      %question = input
      %llm = llm(f"{%question}\\n{%d}\\nNote:", max_tokens=3)  # dataflow.py:69
      return %llm
  }
  %result = python(%notes) { result = " | ".join(notes) }  # dataflow.py:70
  return %result""",
    "dataflow.lambda_in_the_element": """\
graph lambda_in_the_element(docs, style):
  %docs = input  # dataflow.py:74
  %style = input  # dataflow.py:74
  %fmt = python(%style) { fmt = lambda text: f"[{style}] {text.strip('.')}" }  # dataflow.py:75
  %result = map(%docs, %fmt, %style, concurrency=1) {  # dataflow.py:76
      %d = input
      %fmt = input
      %style = input
      %part = python(%fmt, %d, %style) { part = fmt(d) }  # dataflow.py:76
      %llm = llm(f"{+%part}\\nRestate:", max_tokens=3)  # dataflow.py:76
      return %llm
  }
  return %result""",
    "dataflow.generator_inside_a_hole": """\
graph generator_inside_a_hole(docs):
  %docs = input  # dataflow.py:80
  %result = map(%docs, concurrency=1) {  # dataflow.py:81
      %d = input
      %field = python(%d) { field = ', '.join(w.lower() for w in d.split() if w[0].isup… }  # dataflow.py:82
      %llm = llm(f"Keywords: {%field}\\n", max_tokens=2)  # dataflow.py:82
      return %llm
  }
  return %result""",
    "dataflow.loop_with_helper_in_hole": """\
graph loop_with_helper_in_hole(docs, question):
  %docs = input  # dataflow.py:90
  %question = input  # dataflow.py:90
  %notes = python() { notes = [] }  # dataflow.py:91
  %notes_1 = map(%docs, %question, concurrency=1) after %notes {  # dataflow.py:92
      %d = input
      %question = input
      %field = python(%d) { field = shorten(d, 20) }  # dataflow.py:93
      %note = llm(f"{%question}: {%field} ->", max_tokens=2)  # dataflow.py:93
      %field_1 = python(%d) { field = len(d) } after %note  # dataflow.py:94
      %field_2 = python(%note) { field = note.strip() } after %field_1  # dataflow.py:94
      %item = python(%field_1, %field_2) { item = f"{field_1}:{field_2}" }  # dataflow.py:94
      return %item
  }
  %notes_2 = python(%notes, %notes_1) { notes.extend(notes_1) }  # dataflow.py:94
  return %notes_2""",
    "dataflow.conditional_expression_per_item": """\
graph conditional_expression_per_item(docs):
  %docs = input  # dataflow.py:109
  %result = map(%docs, concurrency=1) {  # dataflow.py:110
      %d = input
      %test = python(%d) { test = len(d) > 28 }  # dataflow.py:110
      %cond = cond(%test, %d) {  # dataflow.py:110
          %d = input
          %llm = llm(f"Shorten: {%d}", max_tokens=3)  # dataflow.py:110
          return %llm
      } else {
          %d = input
          return %d
      }
      return %cond
  }
  return %result""",
    "definite.return_in_both_branches": """\
graph return_in_both_branches(question, strict):
  %question = input  # definite.py:53
  %strict = input  # definite.py:53
  %draft = llm(f"Draft: {%question}", max_tokens=4)  # definite.py:54
  %test = python(%strict) { test = strict == "yes" } after %draft  # definite.py:55
  %result = cond(%test, %draft) {  # definite.py:55
      %draft = input
      %checked = llm(f"Check: {%draft}", max_tokens=4)  # definite.py:56
      return %checked
  } else {
      %draft = input
      %result = python(%draft) { result = draft + "?" }  # definite.py:59
      return %result
  }
  return %result""",
    "definite.raise_in_one_branch": """\
graph raise_in_one_branch(question, docs):
  %question = input  # definite.py:63
  %docs = input  # definite.py:63
  %first = cond(%docs, %docs) {  # definite.py:64
      %docs = input
      %field = python(%docs) { field = docs[0] }  # definite.py:65
      %first = llm(f"Title for: {%field}", max_tokens=3)  # definite.py:65
      return %first
  } else {
      %docs = input
      %python = python() { raise ValueError("need at least one document") }  # definite.py:67
      %first = const(None)  # definite.py:64
      return %first
  }
  %result = python(%first, %question) { result = first + " / " + question }  # definite.py:68
  return %result""",
    "definite.local_class_and_import": """\
graph local_class_and_import(question, docs):
  %question = input  # definite.py:97
  %docs = input  # definite.py:97
  %json = python() { import json }  # definite.py:98
  %Note = python() { class Note: … } after %json  # definite.py:100
  %notes = map(%docs, %Note, concurrency=1) {  # definite.py:104
      %d = input
      %Note = input
      %value = llm(f"Note on {%d}", max_tokens=2)  # definite.py:104
      %value_1 = python(%Note, %value) { value = Note(value) }  # definite.py:104
      return %value_1
  }
  %result = python(%json, %question, %notes) { result = json.dumps({"question": question, "notes": [n.text… }  # definite.py:105
  return %result""",
    "definite.with_block_binds": """\
graph with_block_binds(question):
  %question = input  # definite.py:118
  %contextlib = python() { import contextlib }  # definite.py:119
  %python = python(%contextlib, %question) { with contextlib.nullcontext(question.title()) as title: … }  # definite.py:121
  %title = getitem(%python, index=0)  # definite.py:121
  %shout = getitem(%python, index=1)  # definite.py:121
  %contextlib_1 = getitem(%python, index=2)  # definite.py:121
  %result = llm(f"{%title} / {%shout}", max_tokens=3) after %python  # definite.py:123
  return %result""",
    "definite.loop_over_a_constant_range_binds": """\
graph loop_over_a_constant_range_binds(question):
  %question = input  # definite.py:173
  %items = const(range(0, 3))  # definite.py:174
  %map = map(%items, %question, concurrency=1) {  # definite.py:174
      %attempt = input
      %question = input
      %last = llm(f"{%question} (attempt {%attempt})", max_tokens=2)  # definite.py:175
      return %attempt, %last
  }
  %attempt = python(%map) { attempt = map[-1][0] }  # definite.py:174
  %last = python(%map) { last = map[-1][1] } after %attempt  # definite.py:174
  %result = python(%attempt, %last) { result = f"{attempt}: {last}" }  # definite.py:176
  return %result""",
}


@pytest.mark.parametrize("case_id", sorted(GOLDEN))
def test_corpus_graph_prints_as_golden_text(case_id: str) -> None:
    case = CASES[case_id]
    graph = case.wf.graph(*case.args, **case.kwargs)
    graph.lint()
    assert str(graph) == GOLDEN[case_id]
