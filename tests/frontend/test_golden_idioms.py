"""Golden texts of traced graphs of ``corpus_control/idioms.py``: ``return`` inside ``try``,
``functools.partial`` of a primitive or helper, ``gather`` over ``map`` and generators (with
``test_golden_control.py``, a third of the control-flow corpus's workflows).

The printed graph is the IR's golden form: when a change alters one, read the new text, check it
means the same program, and update it here deliberately.
"""

from __future__ import annotations

import pytest

from .test_corpus_control import CASES

GOLDEN = {
    "return_in_try": """\
graph return_in_try(question):
  %question = input  # idioms.py:35
  %try = try(%question, names=('__ayo_returned', '__ayo_result')) {  # idioms.py:36
      %question = input
      %result = llm(f"{%question}\\nAnswer:", max_tokens=6)  # idioms.py:37
      %ayo_returned = const(True)  # idioms.py:36
      return %ayo_returned, %result
  } except ayo.EngineError {
      %exc = input
      %question = input
      %ayo_returned = const(True)  # idioms.py:36
      %ayo_result = const('unavailable')  # idioms.py:36
      return %ayo_returned, %ayo_result
  }
  %ayo_returned = getitem(%try, index=0)  # idioms.py:36
  %ayo_result = getitem(%try, index=1)  # idioms.py:36
  %cond = cond(%ayo_returned, %ayo_result) after %try {  # idioms.py:36
      %ayo_result = input
      return %ayo_result
  } else {
      %ayo_result_1 = input
      %ayo_result = const(None)  # idioms.py:36
      return %ayo_result
  }
  return %cond""",
    "return_in_try_then_more": """\
graph return_in_try_then_more(question):
  %question = input  # idioms.py:43
  %try = try(%question, names=('answer', '__ayo_returned', '__ayo_result')) {  # idioms.py:44
      %question = input
      %answer = llm(f"{%question}\\nAnswer:", max_tokens=6)  # idioms.py:45
      %result = python(%answer) { result = answer.strip() }  # idioms.py:46
      %ayo_returned = const(True)  # idioms.py:44
      return %answer, %ayo_returned, %result
  } except ayo.EngineError {
      %exc = input
      %question = input
      %answer = const(<unbound>)  # idioms.py:44
      %ayo_returned = const(False)  # idioms.py:44
      %ayo_result = const(None)  # idioms.py:44
      return %answer, %ayo_returned, %ayo_result
  }
  %answer = getitem(%try, index=0)  # idioms.py:44
  %ayo_returned = getitem(%try, index=1)  # idioms.py:44
  %ayo_result = getitem(%try, index=2)  # idioms.py:44
  %cond = cond(%ayo_returned, %ayo_result, %question) after %try {  # idioms.py:44
      %ayo_result = input
      %question = input
      return %ayo_result
  } else {
      %ayo_result = input
      %question = input
      %field = python(%question) { field = question.lower() }  # idioms.py:49
      %retry = llm(f"Simpler: {%field}\\nAnswer:", max_tokens=6)  # idioms.py:49
      %result = python(%retry) { result = retry.strip() }  # idioms.py:50
      return %result
  }
  return %cond""",
    "return_in_finally_free_try": """\
graph return_in_finally_free_try(question):
  %question = input  # idioms.py:65
  %notes = python() { notes = [] }  # idioms.py:66
  %try = try(%question, %notes, names=('reply', 'notes', '__ayo_returned', '__ayo_result')) {  # idioms.py:67
      %question = input
      %notes = input
      %reply = llm(f"{%question}\\nAnswer:", max_tokens=6)  # idioms.py:68
      %notes_1 = python(%notes) { notes.append("ok") } after %reply  # idioms.py:69
      %result = python(%reply, %notes_1) { result = reply + " " + ",".join(notes) }  # idioms.py:70
      %ayo_returned = const(True)  # idioms.py:67
      return %reply, %notes_1, %ayo_returned, %result
  }
  %reply = getitem(%try, index=0)  # idioms.py:67
  %notes_1 = getitem(%try, index=1)  # idioms.py:67
  %ayo_returned = getitem(%try, index=2)  # idioms.py:67
  %ayo_result = getitem(%try, index=3)  # idioms.py:67
  %notes_2 = python(%notes_1) { notes.append("done") } after %try  # idioms.py:72
  %cond = cond(%ayo_returned, %ayo_result) after %notes_2 {  # idioms.py:67
      %ayo_result = input
      return %ayo_result
  } else {
      %ayo_result_1 = input
      %ayo_result = const(None)  # idioms.py:67
      return %ayo_result
  }
  return %cond""",
    "return_in_try_under_if": """\
graph return_in_try_under_if(question) [static careful=True]:
  %question = input  # idioms.py:86
  %try = try(%question, names=('reply', '__ayo_returned', '__ayo_result')) {  # idioms.py:88
      %question = input
      %reply = llm(f"Carefully: {%question}\\n", max_tokens=5)  # idioms.py:89
      %result = python(%reply) { result = reply.upper() }  # idioms.py:90
      %ayo_returned = const(True)  # idioms.py:88
      return %reply, %ayo_returned, %result
  } except ayo.EngineError as e {
      %e = input
      %question = input
      %result = python(%e) { result = f"failed: {type(e).__name__}" }  # idioms.py:92
      %reply = const(<unbound>)  # idioms.py:88
      %ayo_returned = const(True)  # idioms.py:88
      return %reply, %ayo_returned, %result
  }
  %reply = getitem(%try, index=0)  # idioms.py:88
  %ayo_returned = getitem(%try, index=1)  # idioms.py:88
  %ayo_result = getitem(%try, index=2)  # idioms.py:88
  %cond = cond(%ayo_returned, %ayo_result) after %try {  # idioms.py:88
      %ayo_result = input
      return %ayo_result
  } else {
      %ayo_result_1 = input
      %ayo_result = const(None)  # idioms.py:88
      return %ayo_result
  }
  return %cond""",
    "partial_llm": """\
graph partial_llm(question):
  %question = input  # idioms.py:100
  %first = llm(f"One line: {%question}\\n", max_tokens=4)  # idioms.py:102
  %result = llm(f"Expand: {%first}\\n", max_tokens=4)  # idioms.py:103
  return %result""",
    "partial_llm_in_gather": """\
graph partial_llm_in_gather(question):
  %question = input  # idioms.py:107
  %llm = llm(f"For: {%question}\\n", max_tokens=3, stop=('\\n',))  # idioms.py:109
  %llm_1 = llm(f"Against: {%question}\\n", max_tokens=3, stop=('\\n',)) after %llm  # idioms.py:109
  %value = python(%llm, %llm_1) { value = [__ayo_0, __ayo_1] }  # idioms.py:109
  %python = python(%value) { pro, con = value }  # idioms.py:109
  %pro = getitem(%python, index=0)  # idioms.py:109
  %con = getitem(%python, index=1)  # idioms.py:109
  %result = python(%pro, %con) { result = [pro, con] } after %python  # idioms.py:110
  return %result""",
    "partial_helper_per_doc": """\
graph partial_helper_per_doc(docs):
  %docs = input  # idioms.py:114
  %result = map(%docs, concurrency=1) {  # idioms.py:116
      %d = input
      %reply = llm(f"Summarize in 2 words: {%d}\\nSummary:", max_tokens=2)  # idioms.py:27
      %result = python(%reply) { result = reply.strip() }  # idioms.py:28
      return %result
  }
  return %result""",
    "gather_map_helper": """\
graph gather_map_helper(docs):
  %docs = input  # idioms.py:123
  %summaries = map(%docs, concurrency=1) {  # idioms.py:124
      %item = input
      %reply = llm(f"Summarize in 3 words: {%item}\\nSummary:", max_tokens=3)  # idioms.py:27
      %result = python(%reply) { result = reply.strip() }  # idioms.py:28
      return %result
  }
  %result = python(%summaries) { result = " | ".join(summaries) }  # idioms.py:125
  return %result""",
    "gather_generator_filtered": """\
graph gather_generator_filtered(question, docs):
  %question = input  # idioms.py:134
  %docs = input  # idioms.py:134
  %checks_items = python(%docs) { checks_items = [d for d in docs if d] }  # idioms.py:135
  %checks = map(%checks_items, %question, concurrency=1) {  # idioms.py:135
      %d = input
      %question = input
      %llm = llm(f"Relevant to {%question}? {%d}\\nYes/No:", max_tokens=2)  # idioms.py:135
      return %llm
  }
  %result = python(%checks) { result = [c.strip() for c in checks] }  # idioms.py:138
  return %result""",
    "gather_map_partial": """\
graph gather_map_partial(docs):
  %docs = input  # idioms.py:142
  %value = map(%docs, concurrency=1) {  # idioms.py:144
      %item = input
      %llm = llm(f"{%item}", max_tokens=2)  # idioms.py:144
      return %llm
  }
  %result = python(%value) { result = list(value) }  # idioms.py:144
  return %result""",
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_text(name: str) -> None:
    wf, args = CASES[name]
    graph = wf.graph(*args)
    graph.lint()
    assert str(graph) == GOLDEN[name]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_json_round_trip_prints_the_same(name: str) -> None:
    wf, args = CASES[name]
    graph = wf.graph(*args)
    again = type(graph).from_json(graph.to_json(), trusted=True)
    again.lint()
    assert str(again) == str(graph)
