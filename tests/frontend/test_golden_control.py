"""Golden texts of traced control-flow graphs: a third of the workflows of ``corpus_control/``.

The printed graph is the IR's golden form: ``loop``/``try`` nodes print their bodies in blocks, as
``map``/``cond`` do. When a change alters one, read the new text, check it means the same program,
and update it here deliberately.
"""

from __future__ import annotations

from typing import Any

import pytest

import ayo_trace as ayo
from ayo_trace.passes import DEFAULT_PASSES, run_passes
from tests.util import run_in_new_loop

from .test_corpus_control import CASES, engines

GOLDEN = {
    "gather_two_views": """\
graph gather_two_views(question):
  %question = input  # parallel_wfs.py:13
  %llm = llm(f"Argue for: {%question}\\nFor:", max_tokens=16)  # parallel_wfs.py:14
  %llm_1 = llm(f"Argue against: {%question}\\nAgainst:", max_tokens=16) after %llm  # parallel_wfs.py:14
  %value = python(%llm, %llm_1) { value = [__ayo_0, __ayo_1] }  # parallel_wfs.py:14
  %python = python(%value) { pro, con = value }  # parallel_wfs.py:14
  %pro = getitem(%python, index=0)  # parallel_wfs.py:14
  %con = getitem(%python, index=1)  # parallel_wfs.py:14
  %result = llm(f"Weigh these.\\nFor: {%pro}\\nAgainst: {%con}\\nVerdict:", max_tokens=16) after %python  # parallel_wfs.py:18
  return %result""",
    "gather_spread_generator": """\
graph gather_spread_generator(question):
  %question = input  # parallel_wfs.py:22
  %queries = llm(f"Three search queries for: {%question}\\n", max_tokens=32, parse=lines)  # parallel_wfs.py:23
  %answers = map(%queries, concurrency=1) {  # parallel_wfs.py:24
      %q = input
      %llm = llm(f"Answer briefly: {%q}\\nAnswer:", max_tokens=8)  # parallel_wfs.py:24
      return %llm
  }
  %result = python(%answers) { result = [a.strip() for a in answers] }  # parallel_wfs.py:25
  return %result""",
    "task_group_results": """\
graph task_group_results(question):
  %question = input  # parallel_wfs.py:58
  %try = try(%question, names=('tg', 'short', 'long')) {  # parallel_wfs.py:59
      %question = input
      %short = llm(f"One word answer: {%question}\\n", max_tokens=4)  # parallel_wfs.py:60
      %short_1 = python(%short) { short = __ayo_done(__ayo_result) }  # parallel_wfs.py:60
      %long = llm(f"Detailed answer: {%question}\\n", max_tokens=24) after %short_1  # parallel_wfs.py:61
      %long_1 = python(%long) { long = __ayo_done(__ayo_result) }  # parallel_wfs.py:61
      %tg = const(<unbound>)  # parallel_wfs.py:59
      return %tg, %short_1, %long_1
  } except Exception as ayo_task_group_error__ {
      %ayo_task_group_error = input
      %question = input
      %python = python(%ayo_task_group_error) { raise (ayo_task_group_error__ if isinstance(ayo_task_group_… }  # parallel_wfs.py:61
      %tg = const(<unbound>)  # parallel_wfs.py:59
      %short = const(<unbound>)  # parallel_wfs.py:59
      %long = const(<unbound>)  # parallel_wfs.py:59
      return %tg, %short, %long
  }
  %tg = getitem(%try, index=0)  # parallel_wfs.py:59
  %short = getitem(%try, index=1)  # parallel_wfs.py:59
  %long = getitem(%try, index=2)  # parallel_wfs.py:59
  %result = python(%short, %long) { result = f"{short.result().strip()} / {long.result().strip(… } after %try  # parallel_wfs.py:62
  return %result""",
    "create_task_then_await": """\
graph create_task_then_await(question):
  %question = input  # parallel_wfs.py:66
  %try = try(%question, names=('background',)) {  # parallel_wfs.py:67
      %question = input
      %background = search(%question, collection='kb', top_k=3)  # parallel_wfs.py:67
      %outcome = python(%background) { outcome = __ayo_fn(__ayo_arg) }  # parallel_wfs.py:67
      return %outcome
  } except {
      %exc = input
      %question = input
      %outcome = python(%exc) { outcome = __ayo_fn(__ayo_arg) }  # parallel_wfs.py:67
      return %outcome
  }
  %background = getitem(%try, index=0)  # parallel_wfs.py:67
  %background_1 = python(%background) { background = __ayo_result  # __ayo_done: its error kept } after %try  # parallel_wfs.py:67
  %draft = llm(f"Draft an answer: {%question}\\nDraft:", max_tokens=16) after %background_1  # parallel_wfs.py:68
  %hits = python(%background_1) { hits = __ayo_tasks.result() } after %draft  # parallel_wfs.py:69
  %result = python(%draft, %hits) { result = draft + "\\n" + "\\n".join(h.text for h in hits) }  # parallel_wfs.py:70
  return %result""",
    "anyio_task_group": """\
graph anyio_task_group(docs, question):
  %docs = input  # parallel_wfs.py:79
  %question = input  # parallel_wfs.py:79
  %try = try(%docs, %question, names=('tg',)) {  # parallel_wfs.py:80
      %docs = input
      %question = input
      %result = ingest(%docs, collection='notes')  # parallel_wfs.py:75
      %result_1 = llm(f"Summarize in one line: {%question}\\nSummary:", max_tokens=12) after %result  # parallel_wfs.py:48
      %tg = const(<unbound>)  # parallel_wfs.py:80
      return %tg
  } except Exception as ayo_task_group_error__ {
      %ayo_task_group_error = input
      %docs = input
      %question = input
      %python = python(%ayo_task_group_error) { raise (ayo_task_group_error__ if isinstance(ayo_task_group_… }  # parallel_wfs.py:82
      %tg = const(<unbound>)  # parallel_wfs.py:80
      return %tg
  }
  %tg = getitem(%try, index=0)  # parallel_wfs.py:80
  %hits = search(%question, collection='notes', top_k=2) after %try  # parallel_wfs.py:83
  %result = python(%hits) { result = "\\n".join(h.text for h in hits) }  # parallel_wfs.py:84
  return %result""",
    "enumerate_zip_pairs": """\
graph enumerate_zip_pairs(questions, docs):
  %questions = input  # loops.py:9
  %docs = input  # loops.py:9
  %answers = python() { answers = [] }  # loops.py:10
  %items = python(%questions, %docs) { items = enumerate(zip(questions, docs, strict=False)) } after %answers  # loops.py:11
  %answers_1 = map(%items, concurrency=1) {  # loops.py:11
      %ayo_item = input
      %i = python(%ayo_item) { i, (q, d) = __ayo_item }  # loops.py:11
      %i_1 = getitem(%i, index=0)  # loops.py:11
      %q = getitem(%i, index=1)  # loops.py:11
      %d = getitem(%i, index=2)  # loops.py:11
      %field = python(%i_1) { field = i + 1 } after %i  # loops.py:12
      %a = llm(f"{%field}. Context: {%d}\\nQuestion: {%q}\\nAnswer:", max_tokens=8)  # loops.py:12
      %field_1 = python(%a) { field = a.strip() }  # loops.py:13
      %item = python(%i_1, %field_1) { item = f"{i}:{field_1}" }  # loops.py:13
      return %item
  }
  %answers_2 = python(%answers, %answers_1) { answers.extend(answers_1) }  # loops.py:13
  return %answers_2""",
    "first_relevant": """\
graph first_relevant(question, docs):
  %question = input  # loops.py:35
  %docs = input  # loops.py:35
  %found = const('none')  # loops.py:37
  %loop = loop(%docs, %found, %question, carried=('found',)) for doc {  # loops.py:37
      %doc = input
      %found = input
      %question = input
      %verdict = llm(f"Is '{%doc}' relevant to '{%question}'? Say yes or no:", max_tokens=2)  # loops.py:38
      %test = python(%verdict) { test = "y" in verdict or "a" in verdict }  # loops.py:39
      %cond = cond(%test, %doc, %found) {  # loops.py:39
          %doc = input
          %found = input
          %ayo_broke = const(True)  # loops.py:39
          return %doc, %ayo_broke
      } else {
          %doc = input
          %found = input
          %ayo_broke = const(False)  # loops.py:39
          return %found, %ayo_broke
      }
      %found_1 = getitem(%cond, index=0)  # loops.py:39
      %ayo_broke = getitem(%cond, index=1)  # loops.py:39
      %go_on = python(%ayo_broke) { go_on = not __ayo_broke } after %cond  # loops.py:37
      return %go_on, %found_1
  }
  %found_1 = getitem(%loop, index=0)  # loops.py:37
  return %found_1""",
    "search_else": """\
graph search_else(question, docs):
  %question = input  # loops.py:57
  %docs = input  # loops.py:57
  %ingest = ingest(%docs, collection='loop_kb')  # loops.py:58
  %answer = const(<unbound>)  # loops.py:59
  %broke = const(False)  # loops.py:59
  %items = const(range(0, 3))  # loops.py:59
  %loop = loop(%items, %answer, %broke, %question, carried=('answer', 'ayo_broke')) after %ingest for attempt {  # loops.py:59
      %attempt = input
      %answer = input
      %ayo_broke = input
      %question = input
      %query = python(%question, %attempt) { query = f"{question} {attempt}" }  # loops.py:60
      %hits = search(%query, collection='loop_kb', top_k=1)  # loops.py:60
      %test = python(%hits) { test = hits and "zzz" in hits[0].text }  # loops.py:61
      %cond = cond(%test, %hits, %answer) {  # loops.py:61
          %hits = input
          %answer_1 = input
          %answer = python(%hits) { answer = hits[0].text }  # loops.py:62
          %ayo_broke = const(True)  # loops.py:61
          return %answer, %ayo_broke
      } else {
          %hits = input
          %answer = input
          %ayo_broke = const(False)  # loops.py:61
          return %answer, %ayo_broke
      }
      %answer_1 = getitem(%cond, index=0)  # loops.py:61
      %ayo_broke_1 = getitem(%cond, index=1)  # loops.py:61
      %go_on = python(%ayo_broke_1) { go_on = not __ayo_broke } after %cond  # loops.py:59
      return %go_on, %answer_1, %ayo_broke_1
  }
  %answer_1 = getitem(%loop, index=0)  # loops.py:59
  %ayo_broke = getitem(%loop, index=1)  # loops.py:59
  %answer_2 = cond(%ayo_broke, %answer_1, %question) after %loop {  # loops.py:59
      %answer = input
      %question = input
      return %answer
  } else {
      %answer_1 = input
      %question = input
      %answer = llm(f"No hit for {%question}; answer from memory:", max_tokens=8)  # loops.py:65
      return %answer
  }
  return %answer_2""",
    "refine_while_short": """\
graph refine_while_short(question):
  %question = input  # loops.py:70
  %answer = llm(f"Answer: {%question}\\n", max_tokens=4)  # loops.py:71
  %rounds = const(0)  # loops.py:73
  %loop = loop(%answer, %rounds, carried=('answer', 'rounds'), max_iterations=1000) {  # loops.py:73
      %answer = input
      %rounds = input
      %test = python(%answer, %rounds) { test = len(answer) < 40 and rounds < 4 }  # loops.py:73
      %cond = cond(%test, %answer, %rounds) {  # loops.py:73
          %answer = input
          %rounds = input
          %value = llm(f"Continue: {%answer}", max_tokens=4)  # loops.py:74
          %answer_1 = python(%answer, %value) { answer += value }  # loops.py:74
          %rounds_1 = python(%rounds) { rounds += 1 } after %answer_1  # loops.py:75
          %ayo_go = const(True)  # loops.py:73
          return %answer_1, %rounds_1, %ayo_go
      } else {
          %answer = input
          %rounds = input
          %ayo_go = const(False)  # loops.py:73
          return %answer, %rounds, %ayo_go
      }
      %answer_1 = getitem(%cond, index=0)  # loops.py:73
      %rounds_1 = getitem(%cond, index=1)  # loops.py:73
      %ayo_go = getitem(%cond, index=2)  # loops.py:73
      return %ayo_go, %answer_1, %rounds_1
  }
  %answer_1 = getitem(%loop, index=0)  # loops.py:73
  %rounds_1 = getitem(%loop, index=1)  # loops.py:73
  %result = python(%rounds_1, %answer_1) { result = f"{rounds}:{answer}" } after %loop  # loops.py:76
  return %result""",
    "while_agent": """\
graph while_agent(question, docs):
  %question = input  # agents.py:48
  %docs = input  # agents.py:48
  %ingest = ingest(%docs, collection='agent_docs')  # agents.py:49
  %history = python() { history = [] } after %ingest  # agents.py:50
  %steps = const(0)  # agents.py:53
  %done = const(False)  # agents.py:53
  %loop = loop(%steps, %done, %history, %question, carried=('steps', 'done', 'history'), max_iterations=1000) {  # agents.py:53
      %steps = input
      %done = input
      %history = input
      %question = input
      %test = python(%done, %steps) { test = not done and steps < 5 }  # agents.py:53
      %cond = cond(%test, %question, %history, %steps, %done) {  # agents.py:53
          %question = input
          %history = input
          %steps = input
          %done = input
          %field = python(%history) { field = format(history, '') }  # agents.py:54
          %decision = llm(f"Q: {%question}\\nSo far: {%field}\\nNext query or DONE:", max_tokens=6)  # agents.py:54
          %steps_1 = python(%steps) { steps += 1 } after %decision  # agents.py:55
          %test = python(%decision) { test = decision.strip().startswith(("a", "b", "c")) } after %steps_1  # agents.py:56
          %cond = cond(%test, %history, %decision, %done) {  # agents.py:56
              %history = input
              %decision = input
              %done_1 = input
              %done = const(True)  # agents.py:56
              %hits = const(<unbound>)  # agents.py:56
              %ayo_broke = const(False)  # agents.py:56
              return %done, %hits, %history, %ayo_broke
          } else {
              %history = input
              %decision = input
              %done = input
              %hits = search(%decision, collection='agent_docs', top_k=1)  # agents.py:59
              %history_1 = python(%history, %hits, %decision) { history.append(hits[0].text if hits else decision) }  # agents.py:60
              %ayo_broke = const(False)  # agents.py:56
              return %done, %hits, %history_1, %ayo_broke
          }
          %done_1 = getitem(%cond, index=0)  # agents.py:56
          %hits = getitem(%cond, index=1)  # agents.py:56
          %history_1 = getitem(%cond, index=2)  # agents.py:56
          %ayo_broke = getitem(%cond, index=3)  # agents.py:56
          %go_on = python(%ayo_broke) { go_on = not __ayo_broke } after %cond  # agents.py:53
          return %steps_1, %done_1, %history_1, %go_on
      } else {
          %question = input
          %history = input
          %steps = input
          %done = input
          %ayo_go = const(False)  # agents.py:53
          return %steps, %done, %history, %ayo_go
      }
      %steps_1 = getitem(%cond, index=0)  # agents.py:53
      %done_1 = getitem(%cond, index=1)  # agents.py:53
      %history_1 = getitem(%cond, index=2)  # agents.py:53
      %ayo_go = getitem(%cond, index=3)  # agents.py:53
      return %ayo_go, %steps_1, %done_1, %history_1
  }
  %steps_1 = getitem(%loop, index=0)  # agents.py:53
  %done_1 = getitem(%loop, index=1)  # agents.py:53
  %history_1 = getitem(%loop, index=2)  # agents.py:53
  %result = python(%steps_1, %done_1, %history_1) { result = {"steps": steps, "done": done, "history": history} } after %loop  # agents.py:61
  return %result""",
    "answer_or_fallback": """\
graph answer_or_fallback(question):
  %question = input  # try_match.py:25
  %try = try(%question, names=('answer',)) {  # try_match.py:26
      %question = input
      %answer = llm(f"{%question}\\nAnswer:", max_tokens=8)  # try_match.py:27
      return %answer
  } except ayo.EngineError as e {
      %e = input
      %question = input
      %field = python(%e) { field = type(e).__name__ }  # try_match.py:29
      %answer = python(%field) { answer = f"unavailable ({field})" }  # try_match.py:29
      return %answer
  }
  %answer = getitem(%try, index=0)  # try_match.py:26
  return %answer""",
    "try_else_finally": """\
graph try_else_finally(question, docs):
  %question = input  # try_match.py:56
  %docs = input  # try_match.py:56
  %try = try(%question, %docs, names=('draft', 'final')) {  # try_match.py:58
      %question = input
      %docs = input
      %draft = llm(f"Draft: {%question}\\n", max_tokens=8)  # try_match.py:59
      %final = const(<unbound>)  # try_match.py:58
      return %draft, %final
  } except Exception {
      %exc = input
      %question = input
      %docs = input
      %draft = const(<unbound>)  # try_match.py:58
      %final = const('no draft')  # try_match.py:58
      return %draft, %final
  } else {
      %draft = input
      %final = input
      %question = input
      %docs = input
      %final_1 = llm(f"Polish: {%draft}\\n", max_tokens=8)  # try_match.py:63
      return %draft, %final_1
  } finally {
      %question = input
      %docs = input
      %ingest = ingest(%docs, collection='audit')  # try_match.py:65
      %const = const(None)  # try_match.py:58
      return %const
  }
  %draft = getitem(%try, index=0)  # try_match.py:58
  %final = getitem(%try, index=1)  # try_match.py:58
  %audit = search(%question, collection='audit', top_k=1) after %try  # try_match.py:66
  %result = python(%final, %audit) { result = f"{status}: {final} / {audit[0].text}" }  # try_match.py:67
  return %result""",
    "route_by_intent": """\
graph route_by_intent(question):
  %question = input  # try_match.py:104
  %intent = llm(f"Classify: {%question}\\nIntent:", max_tokens=2)  # try_match.py:105
  %subject = python(%intent) { subject = intent.strip()[:1] }  # try_match.py:106
  %case_0 = python(%subject) { match __ayo_subject: … }  # try_match.py:107
  %case_0_hit = getitem(%case_0, index=0)  # try_match.py:107
  %cond = cond(%case_0_hit, %case_0, %question, %subject) {  # try_match.py:107
      %case_0 = input
      %question = input
      %ayo_subject = input
      %reply = llm(f"Search-based answer for {%question}", max_tokens=8)  # try_match.py:108
      %digit = const(<unbound>)  # try_match.py:107
      %other = const(<unbound>)  # try_match.py:107
      return %reply, %digit, %other
  } else {
      %case_0 = input
      %question = input
      %ayo_subject = input
      %case_1 = python(%ayo_subject) { match __ayo_subject: … }  # try_match.py:109
      %case_1_hit = getitem(%case_1, index=0)  # try_match.py:109
      %cond = cond(%case_1_hit, %case_1, %ayo_subject, %question) {  # try_match.py:109
          %case_1 = input
          %ayo_subject = input
          %question = input
          %digit = getitem(%case_1, index=1)  # try_match.py:109
          %reply = python(%digit) { reply = f"digit {digit}" }  # try_match.py:110
          %other = const(<unbound>)  # try_match.py:109
          return %reply, %digit, %other
      } else {
          %case_1 = input
          %ayo_subject = input
          %question = input
          %reply = llm(f"General answer ({%ayo_subject}) for {%question}", max_tokens=8)  # try_match.py:112
          %digit = const(<unbound>)  # try_match.py:109
          return %reply, %digit, %ayo_subject
      }
      %reply = getitem(%cond, index=0)  # try_match.py:109
      %digit = getitem(%cond, index=1)  # try_match.py:109
      %other = getitem(%cond, index=2)  # try_match.py:109
      return %reply, %digit, %other
  }
  %reply = getitem(%cond, index=0)  # try_match.py:107
  %digit = getitem(%cond, index=1)  # try_match.py:107
  %other = getitem(%cond, index=2)  # try_match.py:107
  return %reply after %other""",
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


async def _eager_and_round_tripped(wf: Any, args: tuple[Any, ...]) -> tuple[Any, Any]:
    graph = wf.graph(*args)
    again = type(graph).from_json(run_passes(graph, DEFAULT_PASSES).to_json(), trusted=True)
    inputs = dict(zip([n.attrs["name"] for n in graph.inputs], args, strict=True))
    async with ayo.Runtime(engines=engines(None), batching=False) as rt:
        eager = await wf.eager(*args)
    async with ayo.Runtime(engines=engines(None), batching=False) as rt:
        ran = await rt.run(again, inputs)
    return eager, ran


@pytest.mark.parametrize("name", ["task_group_results", "search_else", "try_else_finally", "route_by_intent"])
def test_an_optimized_graph_read_back_from_json_runs_like_eager(name: str) -> None:
    wf, args = CASES[name]
    eager, ran = run_in_new_loop(_eager_and_round_tripped, wf, args)
    assert ran == eager
