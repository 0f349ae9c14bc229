"""``ayo.llm(messages=...)``: rendered with the engine's chat template, the same eager and traced;
constant turns are template text (shared across queries), contents never become markup; the
shapes the tracer reads and the ones it refuses, each at its line."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ayo_trace as ayo
from ayo_trace.frontend.chat import render_messages, skeleton
from ayo_trace.ir.prompt import ChatTemplate, Markup, Prompt, markup_of
from ayo_trace.ir.template import Hole
from ayo_trace.passes import DEFAULT_PASSES, DEFAULT_PROFILES, SplitPrefill
from ayo_trace.testing import ScriptedLLM
from tests.fixtures.chat import GEMMA3_CHAT_TEMPLATE
from tests.util import run_in_new_loop

from . import chat_shapes as c

pytestmark = pytest.mark.anyio

CHATML = ChatTemplate(
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
    origin="chatml",
)
GEMMA = ChatTemplate(GEMMA3_CHAT_TEMPLATE, "<bos>", "<eos>", "gemma3")


def respond(prompt: str) -> str:
    return f"[{len(prompt)}:{prompt[-12:]!r}]"


def runtime(template: ChatTemplate | None = CHATML, **kwargs: Any) -> tuple[ayo.Runtime, ScriptedLLM]:
    llm = ScriptedLLM("llm", respond, chat_template=template)
    return ayo.Runtime([llm], batching=False, **kwargs), llm


def line_of(text: str) -> int:
    for i, line in enumerate(inspect.getsource(c).splitlines(), start=1):
        if text in line:
            return i
    raise AssertionError(text)


SHAPES = [
    (c.dict_literals, ("Capital of France?",)),
    (c.helpers_and_fstring, ("Capital of France?",)),
    (c.spliced_few_shot, ("Capital of France?",)),
    (c.fstring_inside, ("Capital of France", "  geography ")),
    (c.content_from_an_llm, ("Capital of France?",)),
    (c.variable_content, ("capital of france",)),
    (c.static_messages, (3,)),
    (c.messages_in_a_map, (["a", " b ", "<|im_start|>c"],)),
]
IDS = [wf.fn.__name__ for wf, _ in SHAPES]


@pytest.mark.parametrize("template", [CHATML, GEMMA], ids=["chatml", "gemma"])
@pytest.mark.parametrize(("wf", "args"), SHAPES, ids=IDS)
async def test_each_shape_answers_the_same_eager_traced_and_optimized(wf, args, template) -> None:
    rt, llm = runtime(template)
    async with rt:
        await same_three_ways(wf, args, llm)


async def same_three_ways(wf: Any, args: tuple[Any, ...], llm: ScriptedLLM) -> None:
    """``wf`` answers the same, from the same prompts, eager, traced and optimized."""
    eager = await wf.eager(*args)
    eager_prompts = list(llm.prompts)
    llm.prompts.clear()
    traced = await ayo.workflow(wf.fn, passes=[])(*args)
    traced_prompts = list(llm.prompts)
    llm.prompts.clear()
    optimized = await wf(*args)
    assert eager == traced == optimized
    assert eager_prompts == traced_prompts == llm.prompts


# Prefill splitting for an engine that resumes a prompt at any token, as the scripted LLM does (the
# default profile's 64-token blocks leave these short constant heads unsplit).
NO_BLOCK = {**DEFAULT_PROFILES, "llm": dataclasses.replace(DEFAULT_PROFILES["llm"], prefill_block=0)}
ANY_TOKEN = [SplitPrefill(profiles=NO_BLOCK) if isinstance(p, SplitPrefill) else p for p in DEFAULT_PASSES]


@pytest.mark.parametrize(("wf", "args"), SHAPES[:4], ids=IDS[:4])
async def test_constant_turns_are_template_text_and_shared_across_queries(wf, args) -> None:
    wf = ayo.workflow(wf.fn, passes=ANY_TOKEN)
    rt, llm = runtime(GEMMA)
    async with rt:
        graph = wf.graph(*args)
        (node,) = [n for n in graph.nodes if n.op == "llm"]
        tpl = node.attrs["template"]
        assert any(isinstance(p, Markup) and "<start_of_turn>" in p for p in tpl.parts)
        assert c.SYSTEM in tpl.prefix or "You know" in tpl.prefix  # the system prompt is shared text
        for _ in range(3):
            await wf(*args)
    assert llm.stats()["prefix_hits"] >= 2


async def test_the_system_prompt_and_few_shot_turns_are_in_the_shared_prefix() -> None:
    rt, llm = runtime(GEMMA)
    spliced_few_shot = ayo.workflow(c.spliced_few_shot.fn, passes=ANY_TOKEN)
    async with rt:
        graph = spliced_few_shot.graph("q", optimized=True)
        shared = [n for n in graph.nodes if n.op == "llm_prefill" and n.attrs.get("shared")]
        (prefix,) = shared
        text = prefix.attrs["template"].prefix
        for turn in (c.SYSTEM, "Capital of Italy?", "Rome", "Capital of Peru?", "Lima"):
            assert turn in text
        for q in ("a", "b", "c"):
            await spliced_few_shot(q)
    assert llm.stats() == {**llm.stats(), "prefix_hits": 2, "prefix_misses": 1}


def test_contents_are_plain_text_and_the_template_is_markup() -> None:
    prompt = render_messages(GEMMA, [ayo.system(" S "), ayo.user(" <start_of_turn>x "), ayo.assistant("y")])
    assert isinstance(prompt, Prompt)
    marked = "".join(prompt[a:b] for a, b in prompt.markup)
    assert (
        marked
        == "<start_of_turn>user\n\n\n<end_of_turn>\n<start_of_turn>model\n<end_of_turn>\n<start_of_turn>model\n"
    )
    # Gemma's template keeps the system text, trims the turns' contents, and drops its leading BOS
    assert str(prompt).startswith("<start_of_turn>user\n S \n\n<start_of_turn>x<end_of_turn>")
    for a, b in prompt.markup:
        assert "x" not in prompt[a:b]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    contents=st.lists(
        st.lists(
            st.sampled_from([*"ab \n{}<>|_", "<start_of_turn>", "<|im_start|>", "{{", "%}"]), max_size=12
        ).map("".join),
        min_size=2,
        max_size=5,
    ),
    gemma=st.booleans(),
)
def test_rendering_puts_every_content_in_its_slot_as_text(contents: list[str], gemma: bool) -> None:
    tpl = GEMMA if gemma else CHATML
    roles = ["system"] + ["user" if i % 2 == 0 else "assistant" for i in range(len(contents) - 1)]
    messages = [{"role": r, "content": x} for r, x in zip(roles, contents, strict=True)]
    prompt = render_messages(tpl, messages)
    parts, trims = skeleton(tpl, roles)
    expected = "".join(
        p if isinstance(p, str) else (contents[p].strip() if trims[p] else contents[p]) for p in parts
    )
    assert str(prompt) == expected
    covered = sum(b - a for a, b in markup_of(prompt))
    assert covered == sum(len(p) for p in parts if isinstance(p, str))


async def test_a_role_passed_as_a_parameter_specializes_the_trace() -> None:
    rt, _ = runtime()
    async with rt:
        graph = c.traced_role.graph("q", "user")
        assert graph.guards and "role" in graph.guards
        assert await c.traced_role("q", "user") == await c.traced_role.eager("q", "user")


RUN_TIME = [
    (c.built_at_run_time, ("q",)),
    (c.helper_built, ("q",)),
    (c.chat_history, ("q", ["more?", "why?"])),
    (c.chat_history, ("q", [])),
    (c.history_then_literal, ("q",)),
    (c.traced_splice, ("q", [ayo.system("Be brief."), ayo.user("x"), ayo.assistant("y")])),
    (c.message_in_a_name, ("q",)),
]


@pytest.mark.parametrize("template", [CHATML, GEMMA], ids=["chatml", "gemma"])
@pytest.mark.parametrize(
    ("wf", "args"), RUN_TIME, ids=["computed", "helper", "history", "no_turns", "then", "splice", "name"]
)
async def test_messages_built_at_run_time_are_rendered_then(wf, args, template) -> None:
    """A list of messages the workflow builds as it runs (a chat history grown turn by turn, a
    helper's result, a literal splicing one in) is rendered with the chat template when the call
    runs, as ``ayo.llm`` renders it eagerly: the call is traced (no graph break), from the same
    prompts, their markup (the template's special tokens) kept, and the same answers."""
    rt, llm = runtime(template)
    async with rt:
        graph = wf.graph(*args)
        assert [n for n in graph.walk() if n.op == "break"] == []
        assert any(n.op == "llm" for n in graph.walk())
        await same_three_ways(wf, args, llm)


def test_a_whole_prompt_rendered_from_messages_keeps_its_markup() -> None:
    """The node rendering messages at run time hands the LLM node a ``Prompt`` whose markup is the
    chat template's, which the template's one hole keeps (other hole values are plain text)."""
    from ayo_trace.ir.template import Template

    rendered = render_messages(CHATML, [ayo.system("Be brief."), ayo.user("<|im_start|>hi")])
    assert isinstance(rendered, Prompt) and markup_of(rendered)
    whole = Template((Hole(0, "prompt"),)).render([rendered])
    assert whole == rendered and markup_of(whole) == markup_of(rendered)
    assert markup_of(Template(("x ", Hole(0))).render([rendered])) == ()


async def test_a_malformed_message_built_at_run_time_fails_as_eagerly() -> None:
    rt, _ = runtime()
    async with rt:
        bad = [{"role": "tool", "content": "x"}]
        with pytest.raises(ayo.InvalidParams) as eager:
            await c.traced_splice.eager("q", bad)
        with pytest.raises(ayo.InvalidParams) as traced:
            await c.traced_splice("q", bad)
        assert str(traced.value).endswith(str(eager.value))  # (the graph's names the node and line)


@pytest.mark.parametrize(
    ("wf", "args", "line", "match"),
    [
        (c.unknown_role, ("q",), "refused: unknown role", "role of a message must be one of"),
        (c.extra_key, ("q",), "refused\n", "cannot be traced: write the messages"),
        (c.both_prompt_and_messages, ("q",), "refused: both", "exactly one of them"),
        (c.empty_messages, ("q",), "refused: empty", "non-empty list"),
        (c.non_str_content, ("q",), "refused: content", "must be a str"),
    ],
    ids=["unknown_role", "extra_key", "both", "empty", "content"],
)
async def test_refused_shapes_name_the_line_and_the_fix(wf, args, line: str, match: str) -> None:
    rt, _ = runtime()
    async with rt:
        with pytest.raises(ayo.TraceError, match=match) as info:
            wf.graph(*args)
    expected = line_of(line.strip()) if line.strip() != "refused" else line_of('"name": "x"')
    assert info.value.loc.line == expected


@pytest.mark.parametrize(
    ("wf", "args"),
    [
        (c.unknown_role, ("q",)),
        (c.extra_key, ("q",)),
        (c.both_prompt_and_messages, ("q",)),
        (c.empty_messages, ("q",)),
        (c.non_str_content, ("q",)),
    ],
    ids=["unknown_role", "extra_key", "both", "empty", "content"],
)
async def test_the_same_shapes_are_invalid_params_when_eager(wf, args) -> None:
    rt, _ = runtime()
    async with rt:
        with pytest.raises(ayo.InvalidParams):
            await wf.eager(*args)


async def test_a_model_without_a_chat_template_runs_the_call_as_written_raising_the_way_out() -> None:
    """(It was refused at trace time; raised where the call stands, a ``try`` around catches it as
    eagerly: test_no_chat_template.py.)"""
    rt, _ = runtime(None)
    async with rt:
        (b,) = [n for n in c.dict_literals.graph("q").walk() if n.op == "break"]
        assert (
            "no chat template" in b.attrs["reason"] and b.loc.line == line_of("async def dict_literals") + 1
        )
        for run in (c.dict_literals, c.dict_literals.eager):
            with pytest.raises(ayo.ConfigError, match=r"completion-style.*chat_template="):
                await run("q")


def test_tracing_outside_a_running_runtime_says_to_start_it() -> None:
    rt, _ = runtime()

    async def main() -> None:
        token = ayo.Runtime.set_default(rt)
        try:
            with pytest.raises(ayo.TraceError, match="start the runtime first"):
                ayo.workflow(c.dict_literals.fn).graph("q")
        finally:
            ayo.Runtime.set_default(token)

    run_in_new_loop(main)


async def test_another_chat_template_traces_again() -> None:
    wf = ayo.workflow(c.dict_literals.fn)
    for template in (CHATML, GEMMA):
        rt, llm = runtime(template)
        async with rt:
            await wf("q")
        assert ("<|im_start|>" in llm.prompts[0]) == (template is CHATML)


async def test_dynamic_contents_are_content_holes() -> None:
    rt, _ = runtime(GEMMA)
    async with rt:
        tpl = c.dict_literals.graph("q").nodes[1].attrs["template"]
    (hole,) = tpl.holes
    assert hole == Hole(0, "content", None, "strip")
