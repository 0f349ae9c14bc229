"""``pipeline_decode`` on loops over a list field of a structured output: golden text of a traced
workflow after lowering, pruning and decode pipelining (no stage decomposition, so the map keeps the
for loop's one item at a time, still streamed); the pass is idempotent and the graph lints."""

from __future__ import annotations

from pydantic import BaseModel

import ayo_trace as ayo
from ayo_trace.passes import Lower, PipelineDecode, PruneDependencies, run_passes
from ayo_trace.passes.pipeline_decode import pipeline_graph


class Box(BaseModel):
    label: str
    things: list[str]


class Crate(BaseModel):
    box: Box
    notes: list[str]


@ayo.workflow
async def unpack(goal: str) -> tuple[list[str], str]:
    crate = await ayo.llm(f"Crate for {goal}:", parse=Crate, max_tokens=99)
    got = [await ayo.llm(f"Get: {t}", max_tokens=4) for t in crate.box.things]
    label = await ayo.llm(f"Label: {crate.box.label}", max_tokens=4)
    return got, label


SCHEMA = str(unpack.graph("x")).split("json_schema=", 1)[1].split(", parse=", 1)[0]

GOLDEN = f"""\
graph unpack(goal):
  %goal = input  # test_field_stream_pass.py:25
  %crate_prefill = llm_prefill(f"Crate for {{%goal}}:", session='crate', part=1, parts=1)  # test_field_stream_pass.py:26
  %crate = llm_decode(%crate_prefill, max_tokens=99, json_schema={SCHEMA}, parse=Crate, stream)  # test_field_stream_pass.py:26
  %items = python(%crate, stream_field='box.things', stream) {{ items = crate.box.things }}  # test_field_stream_pass.py:27
  %got = map(stream %items, concurrency=1) {{  # test_field_stream_pass.py:27
      %t = input
      %llm_prefill = llm_prefill(f"Get: {{%t}}", session='llm', part=1, parts=1)  # test_field_stream_pass.py:27
      %llm = llm_decode(%llm_prefill, max_tokens=4)  # test_field_stream_pass.py:27
      return %llm
  }}
  %field = python(%crate) {{ field = crate.box.label }}  # test_field_stream_pass.py:28
  %label_prefill = llm_prefill(f"Label: {{%field}}", session='label', part=1, parts=1)  # test_field_stream_pass.py:28
  %label = llm_decode(%label_prefill, max_tokens=4)  # test_field_stream_pass.py:28
  %result = python(%got, %label) {{ result = got, label }}  # test_field_stream_pass.py:29
  return %result"""


def test_a_loop_over_a_nested_list_field_streams_and_the_label_read_waits() -> None:
    graph = run_passes(unpack.graph("x"), [Lower(), PruneDependencies(), PipelineDecode()])
    assert str(graph) == GOLDEN
    assert not pipeline_graph(graph), "a second run changes nothing"
    graph.lint()


def test_without_decode_pipelining_nothing_streams() -> None:
    graph = run_passes(unpack.graph("x"), [Lower(), PruneDependencies()])
    assert not any(n.attrs.get("stream") or n.attrs.get("stream_args") for n in graph.walk())
