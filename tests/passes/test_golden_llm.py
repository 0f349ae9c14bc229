"""Golden before/after texts of every pass on hand-built LLM and control-flow workflow shapes (see ``shapes.py``).

Each text is the graph as printed after the passes up to and including that stage. Update a text
only after reading the new one and checking it means what the pass promises.
"""

from __future__ import annotations

import pytest

from ayo_trace.passes import PASS_NAMES

from . import shapes
from .golden import SAME, check_pass, check_traced

GOLDEN: dict[str, dict[str, str]] = {
    "single_llm": {
        "traced": """\
graph echo(question):
  %question = input  # wf.py:1
  %answer = llm(f"{%question}", max_tokens=16)  # wf.py:2
  return %answer""",
        "lower": """\
graph echo(question):
  %question = input  # wf.py:1
  %answer_prefill = llm_prefill(f"{%question}", session='answer', part=1, parts=1)  # wf.py:2
  %answer = llm_decode(%answer_prefill, max_tokens=16)  # wf.py:2
  return %answer""",
        "prune_dependencies": SAME,
        "decompose_stages": SAME,
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
    "parallel_llms": {
        "traced": """\
graph two_views(text):
  %text = input  # wf.py:1
  %summary = llm(f"{%text}\\nSummary:", max_tokens=32)  # wf.py:2
  %keywords = llm(f"{%text}\\nKeywords:", max_tokens=16) after %summary  # wf.py:3
  %both = python(%summary, %keywords) { both = summary + " | " + keywords }  # wf.py:4
  return %both""",
        "lower": """\
graph two_views(text):
  %text = input  # wf.py:1
  %summary_prefill = llm_prefill(f"{%text}\\nSummary:", session='summary', part=1, parts=1)  # wf.py:2
  %summary = llm_decode(%summary_prefill, max_tokens=32)  # wf.py:2
  %keywords_prefill = llm_prefill(f"{%text}\\nKeywords:", session='keywords', part=1, parts=1) after %summary  # wf.py:3
  %keywords = llm_decode(%keywords_prefill, max_tokens=16)  # wf.py:3
  %both = python(%summary, %keywords) { both = summary + " | " + keywords }  # wf.py:4
  return %both""",
        "prune_dependencies": """\
graph two_views(text):
  %text = input  # wf.py:1
  %summary_prefill = llm_prefill(f"{%text}\\nSummary:", session='summary', part=1, parts=1)  # wf.py:2
  %summary = llm_decode(%summary_prefill, max_tokens=32)  # wf.py:2
  %keywords_prefill = llm_prefill(f"{%text}\\nKeywords:", session='keywords', part=1, parts=1)  # wf.py:3
  %keywords = llm_decode(%keywords_prefill, max_tokens=16)  # wf.py:3
  %both = python(%summary, %keywords) { both = summary + " | " + keywords }  # wf.py:4
  return %both""",
        "decompose_stages": SAME,
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
    "effects": {
        "traced": """\
graph chatty(question):
  %question = input  # wf.py:1
  %print = python(%question) { print("asking", question) }  # wf.py:2
  %log = python() { log = [] } after %print  # wf.py:3
  %size = python(%question) { size = len(question) } after %log  # wf.py:4
  %answer = llm(f"Q: {%question}\\nA:", max_tokens=16) after %size  # wf.py:5
  %append = python(%log, %answer) { log.append(answer) }  # wf.py:6
  %n = python(%log) { n = len(log) } after %append  # wf.py:7
  %print_1 = python(%answer) { print(answer) } after %n  # wf.py:8
  return %n after %print_1""",
        "lower": """\
graph chatty(question):
  %question = input  # wf.py:1
  %print = python(%question) { print("asking", question) }  # wf.py:2
  %log = python() { log = [] } after %print  # wf.py:3
  %size = python(%question) { size = len(question) } after %log  # wf.py:4
  %answer_prefill = llm_prefill(f"Q: {%question}\\nA:", session='answer', part=1, parts=1) after %size  # wf.py:5
  %answer = llm_decode(%answer_prefill, max_tokens=16)  # wf.py:5
  %append = python(%log, %answer) { log.append(answer) }  # wf.py:6
  %n = python(%log) { n = len(log) } after %append  # wf.py:7
  %print_1 = python(%answer) { print(answer) } after %n  # wf.py:8
  return %n after %print_1""",
        "prune_dependencies": """\
graph chatty(question):
  %question = input  # wf.py:1
  %print = python(%question) { print("asking", question) }  # wf.py:2
  %log = python() { log = [] }  # wf.py:3
  %size = python(%question) { size = len(question) }  # wf.py:4
  %answer_prefill = llm_prefill(f"Q: {%question}\\nA:", session='answer', part=1, parts=1)  # wf.py:5
  %answer = llm_decode(%answer_prefill, max_tokens=16)  # wf.py:5
  %append = python(%log, %answer) { log.append(answer) } after %print, %size  # wf.py:6
  %n = python(%log) { n = len(log) } after %append  # wf.py:7
  %print_1 = python(%answer) { print(answer) } after %n  # wf.py:8
  return %n after %print_1""",
        "decompose_stages": SAME,
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
    "map_llm": {
        "traced": """\
graph summarize(docs):
  %docs = input  # wf.py:1
  %summaries = map(%docs, concurrency=1) {  # wf.py:2
      %d = input
      %summary = llm(f"Summarize this document in one sentence.\\n{%d}\\nSummary:", max_tokens=24)  # wf.py:3
      return %summary
  }
  return %summaries""",
        "lower": """\
graph summarize(docs):
  %docs = input  # wf.py:1
  %summaries = map(%docs, concurrency=1) {  # wf.py:2
      %d = input
      %summary_prefill = llm_prefill(f"Summarize this document in one sentence.\\n{%d}\\nSummary:", session='summary', part=1, parts=1)  # wf.py:3
      %summary = llm_decode(%summary_prefill, max_tokens=24)  # wf.py:3
      return %summary
  }
  return %summaries""",
        "prune_dependencies": SAME,
        "decompose_stages": """\
graph summarize(docs):
  %docs = input  # wf.py:1
  %summaries = map(%docs) {  # wf.py:2
      %d = input
      %summary_prefill = llm_prefill(f"Summarize this document in one sentence.\\n{%d}\\nSummary:", session='summary', part=1, parts=1)  # wf.py:3
      %summary = llm_decode(%summary_prefill, max_tokens=24)  # wf.py:3
      return %summary
  }
  return %summaries""",
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
    "graph_break": {
        "traced": """\
graph tool(question):
  %question = input  # wf.py:1
  %plan = llm(f"Plan for: {%question}\\n", max_tokens=16)  # wf.py:2
  %stamp = python() { stamp = time.time() } after %plan  # wf.py:3
  %result = break(%plan, reason='call_tool is not an ayo primitive') { result = await call_tool(plan) } after %stamp  # wf.py:4
  %hits = search(%question, collection='kb', top_k=4) after %result  # wf.py:5
  %answer = llm(f"{%question} {%result}", max_tokens=16) after %hits  # wf.py:6
  return %answer, %hits, %stamp""",
        "lower": """\
graph tool(question):
  %question = input  # wf.py:1
  %plan_prefill = llm_prefill(f"Plan for: {%question}\\n", session='plan', part=1, parts=1)  # wf.py:2
  %plan = llm_decode(%plan_prefill, max_tokens=16)  # wf.py:2
  %stamp = python() { stamp = time.time() } after %plan  # wf.py:3
  %result = break(%plan, reason='call_tool is not an ayo primitive') { result = await call_tool(plan) } after %stamp  # wf.py:4
  %hits_embed = embed(%question) after %result  # wf.py:5
  %hits = db_search(%hits_embed, collection='kb', top_k=4)  # wf.py:5
  %answer_prefill = llm_prefill(f"{%question} {%result}", session='answer', part=1, parts=1) after %hits  # wf.py:6
  %answer = llm_decode(%answer_prefill, max_tokens=16)  # wf.py:6
  return %answer, %hits, %stamp""",
        "prune_dependencies": """\
graph tool(question):
  %question = input  # wf.py:1
  %plan_prefill = llm_prefill(f"Plan for: {%question}\\n", session='plan', part=1, parts=1)  # wf.py:2
  %plan = llm_decode(%plan_prefill, max_tokens=16)  # wf.py:2
  %stamp = python() { stamp = time.time() }  # wf.py:3
  %result = break(%plan, reason='call_tool is not an ayo primitive') { result = await call_tool(plan) } after %stamp  # wf.py:4
  %hits_embed = embed(%question)  # wf.py:5
  %hits = db_search(%hits_embed, collection='kb', top_k=4) after %result  # wf.py:5
  %answer_prefill = llm_prefill(f"{%question} {%result}", session='answer', part=1, parts=1)  # wf.py:6
  %answer = llm_decode(%answer_prefill, max_tokens=16)  # wf.py:6
  return %answer, %hits, %stamp""",
        "decompose_stages": SAME,
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
    "parse_no_map": {
        "traced": """\
graph count_ideas(topic):
  %topic = input  # wf.py:1
  %ideas = llm(f"Ideas about {%topic}:\\n", max_tokens=32, parse=lines)  # wf.py:2
  %n = python(%ideas) { n = len(ideas) }  # wf.py:3
  return %n""",
        "lower": """\
graph count_ideas(topic):
  %topic = input  # wf.py:1
  %ideas_prefill = llm_prefill(f"Ideas about {%topic}:\\n", session='ideas', part=1, parts=1)  # wf.py:2
  %ideas = llm_decode(%ideas_prefill, max_tokens=32, parse=lines)  # wf.py:2
  %n = python(%ideas) { n = len(ideas) }  # wf.py:3
  return %n""",
        "prune_dependencies": SAME,
        "decompose_stages": SAME,
        "split_prefill": SAME,
        "pipeline_decode": SAME,
    },
    "nested_map": {
        "traced": """\
graph drill(topics):
  %topics = input  # wf.py:1
  %answers = python() { answers = [] }  # wf.py:2
  %loop = map(%topics, %answers, concurrency=1) {  # wf.py:3
      %topic = input
      %answers = input
      %questions = llm(f"Questions about {%topic}:\\n", max_tokens=32, parse=lines)  # wf.py:4
      %replies = map(%questions, concurrency=1) {  # wf.py:5
          %q = input
          %reply = llm(f"Q: {%q}\\nA:", max_tokens=16)  # wf.py:6
          return %reply
      }
      %append = python(%answers, %replies) { answers.append(replies) }  # wf.py:7
      return %append
  }
  return %answers after %loop""",
        "lower": """\
graph drill(topics):
  %topics = input  # wf.py:1
  %answers = python() { answers = [] }  # wf.py:2
  %loop = map(%topics, %answers, concurrency=1) {  # wf.py:3
      %topic = input
      %answers = input
      %questions_prefill = llm_prefill(f"Questions about {%topic}:\\n", session='questions', part=1, parts=1)  # wf.py:4
      %questions = llm_decode(%questions_prefill, max_tokens=32, parse=lines)  # wf.py:4
      %replies = map(%questions, concurrency=1) {  # wf.py:5
          %q = input
          %reply_prefill = llm_prefill(f"Q: {%q}\\nA:", session='reply', part=1, parts=1)  # wf.py:6
          %reply = llm_decode(%reply_prefill, max_tokens=16)  # wf.py:6
          return %reply
      }
      %append = python(%answers, %replies) { answers.append(replies) }  # wf.py:7
      return %append
  }
  return %answers after %loop""",
        "prune_dependencies": SAME,
        "decompose_stages": """\
graph drill(topics):
  %topics = input  # wf.py:1
  %answers = python() { answers = [] }  # wf.py:2
  %loop = map(%topics, %answers, concurrency=1) {  # wf.py:3
      %topic = input
      %answers = input
      %questions_prefill = llm_prefill(f"Questions about {%topic}:\\n", session='questions', part=1, parts=1)  # wf.py:4
      %questions = llm_decode(%questions_prefill, max_tokens=32, parse=lines)  # wf.py:4
      %replies = map(%questions) {  # wf.py:5
          %q = input
          %reply_prefill = llm_prefill(f"Q: {%q}\\nA:", session='reply', part=1, parts=1)  # wf.py:6
          %reply = llm_decode(%reply_prefill, max_tokens=16)  # wf.py:6
          return %reply
      }
      %append = python(%answers, %replies) { answers.append(replies) }  # wf.py:7
      return %append
  }
  return %answers after %loop""",
        "split_prefill": SAME,
        "pipeline_decode": """\
graph drill(topics):
  %topics = input  # wf.py:1
  %answers = python() { answers = [] }  # wf.py:2
  %loop = map(%topics, %answers, concurrency=1) {  # wf.py:3
      %topic = input
      %answers = input
      %questions_prefill = llm_prefill(f"Questions about {%topic}:\\n", session='questions', part=1, parts=1)  # wf.py:4
      %questions = llm_decode(%questions_prefill, max_tokens=32, parse=lines, stream)  # wf.py:4
      %replies = map(stream %questions) {  # wf.py:5
          %q = input
          %reply_prefill = llm_prefill(f"Q: {%q}\\nA:", session='reply', part=1, parts=1)  # wf.py:6
          %reply = llm_decode(%reply_prefill, max_tokens=16)  # wf.py:6
          return %reply
      }
      %append = python(%answers, %replies) { answers.append(replies) }  # wf.py:7
      return %append
  }
  return %answers after %loop""",
    },
}


@pytest.mark.parametrize("shape", sorted(GOLDEN))
def test_traced_shape(shape: str) -> None:
    check_traced(shapes.SHAPES[shape], GOLDEN[shape])


@pytest.mark.parametrize("pass_name", PASS_NAMES)
@pytest.mark.parametrize("shape", sorted(GOLDEN))
def test_pass_golden(shape: str, pass_name: str) -> None:
    check_pass(shapes.SHAPES[shape], GOLDEN[shape], pass_name)
