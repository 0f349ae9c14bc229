"""A ``for`` loop over a few objects the workflow makes of its plain classes (``for step in
[Researcher(), Writer(q)]: draft = await step.run(draft)``) is unrolled by their classes, so each
item's ``async`` methods are inlined (``unrolled_objects``); awaiting one was a graph break. Every
way to write the list x the items' classes x the loop's body: no graph break, eager ≡ traced ≡
optimized; a gather of a comprehension over them agrees too (unrolled likewise when the calls touch
nothing they share). Loops the rule must leave alone (the list changed, handed on, or jumped out
of) agree with eager too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.util import every_pair, run_in_new_loop, three_runs_agree, traces_whole_and_agrees

from .programs import load

# how the loop gets its list (OBJS: the objects' constructor calls)
LISTS = {
    "literal": ([], "[OBJS]"),
    "tuple": ([], "(OBJS)"),
    "local": (["steps = [OBJS]"], "steps"),
    "measured": (["steps = [OBJS]", "n = len(steps)"], "steps"),
}
# the classes of the objects, made with arguments read before the loop changes `q`
ITEMS = {
    "two_classes": "Upper('u'), Lower(q)",
    "same_class": "Upper('a'), Upper('b'), Upper(q)",
    "subclass": "Lower('l'), Loud('x')",
    "callable": "Caller('c'), Caller(q)",
    "constants": "Upper('a'), Upper(f'c {q}')",
}
# the loop's body (S: the loop variable; CALL: how the item is awaited)
BODIES = {
    "chain": ["q = await CALL"],
    "collect": ["out.append(await CALL)"],
    "keyed": ["res[str(len(res))] = await CALL"],
    "branch": ["if 'rust' in q:", "    out.append(await CALL)", "else:", "    out.append(S.tag)"],
    "two_calls": ["first = await CALL", "out.append(first + (await CALL))"],
}
CASES = every_pair(LISTS, ITEMS, BODIES)
# a gather of a comprehension over the objects, unrolled likewise
GATHERS = {
    "list": "out = list(await asyncio.gather(*[CALL for step in ITER]))",
    "generator": "out = list(await asyncio.gather(*(CALL for step in ITER)))",
    "named": "calls = [CALL for step in ITER]\n    out = list(await asyncio.gather(*calls))",
}
GATHER_CASES = every_pair(LISTS, ITEMS, GATHERS)

HEAD = """
import asyncio

import ayo_trace as ayo

SEEN = []


class Upper:
    def __init__(self, tag):
        self.tag = tag

    async def run(self, q):
        return await ayo.llm(f"upper {self.tag}: {q}", max_tokens=3)

    async def __call__(self, q):
        return await self.run(q)


class Lower:
    def __init__(self, tag):
        self.tag = tag
        self.calls = []

    async def run(self, q):
        self.calls.append(q)
        return await ayo.llm(f"lower {self.tag} {len(self.calls)}: {q}", max_tokens=3)

    async def __call__(self, q):
        return await self.run(q)


class Loud(Lower):
    def __init__(self, tag):
        SEEN.append(tag)
        super().__init__(tag.upper())

    async def run(self, q):
        SEEN.append(self.tag)
        return await super().run(q[:8])


class Caller:
    def __init__(self, tag):
        self.tag = tag

    async def __call__(self, q):
        return await ayo.llm(f"called {self.tag}: {q}", max_tokens=3)
"""


def _workflow(name: str, lst: str, items: str, body: str) -> str:
    made, iterable = LISTS[lst]
    objs = ITEMS[items]
    call = "S(q)" if items == "callable" else "S.run(q)"
    lines = [
        "SEEN.clear()",
        "out, res = [], {}",
        *(line.replace("OBJS", objs) for line in made),
        f"for S in {iterable.replace('OBJS', objs)}:",
        *("    " + line.replace("CALL", call) for line in BODIES[body]),
        "return q, out, res, S.tag, list(SEEN)",
    ]
    text = "".join(f"    {line}\n" for line in lines).replace("S.", "step.").replace("S(", "step(")
    text = text.replace("for S in", "for step in")
    return f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n{text}"


def _gather(name: str, lst: str, items: str, gather: str) -> str:
    made, iterable = LISTS[lst]
    objs = ITEMS[items]
    call = "step(q)" if items == "callable" else "step.run(q)"
    lines = [
        "SEEN.clear()",
        *(line.replace("OBJS", objs) for line in made),
        GATHERS[gather].replace("CALL", call).replace("ITER", iterable.replace("OBJS", objs)),
        "return out, list(SEEN)",
    ]
    return f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n" + "".join(f"    {line}\n" for line in lines)


TOOLS = """

async def tool_a(x):
    return await ayo.llm(f"tool a: {x}", max_tokens=3)


async def tool_b(x):
    return await ayo.llm(f"tool b: {x}", max_tokens=4)


TOOLS = {"a": tool_a, "b": tool_b}
NAMES = ("a", "b")
OBJECTS = {"a": Upper("obj"), "b": Upper("other")}
"""
# a callee picked from a module's dict by the item of a loop or comprehension over constants
KEYED = {
    "gather_list": "out = list(await asyncio.gather(*[TOOLS[n](q) for n in ['a', 'b']]))",
    "gather_generator": "out = list(await asyncio.gather(*(TOOLS[n](q) for n in NAMES)))",
    "loop": "out = []\n    for n in ('b', 'a'):\n        out.append(await TOOLS[n](q))",
    "loop_attribute": "out = []\n    for n in NAMES:\n        out.append(await OBJECTS[n].run(q))",
}


# loops the rule leaves alone: each must still agree with eager
KEPT = {
    "appended_after": ["steps = [Upper('a'), Lower('b')]", "steps.append(Upper('c'))"],
    "handed_on": ["steps = [Upper('a'), Lower('b')]", "SEEN.append(steps)"],
    "not_a_class": ["steps = [Upper('a'), make('b')]"],
}
KEPT_LOOP = ["for step in steps:", "    out.append(await step.run(q))", "return out, len(SEEN)"]


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD + "\n\ndef make(tag):\n    return Lower(tag)\n" + TOOLS
    for case in CASES:
        source += _workflow("wf_" + "_".join(case), *case)
    for case in GATHER_CASES:
        source += _gather("gather_" + "_".join(case), *case)
    for name, line in KEYED.items():
        source += f"\n\n@ayo.workflow\nasync def keyed_{name}(q, docs):\n    {line}\n    return out\n"
    for name, lines in KEPT.items():
        body = "".join(f"    {line}\n" for line in ["SEEN.clear()", "out = []", *lines, *KEPT_LOOP])
        source += f"\n\n@ayo.workflow\nasync def kept_{name}(q, docs):\n{body}"
    return load(source, Path(tmp_path_factory.mktemp("unrolled_objects")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_loop_over_new_objects_is_unrolled_by_their_classes(module: Any, case: tuple[str, ...]) -> None:
    traces_whole_and_agrees(getattr(module, "wf_" + "_".join(case)), ["what is rust?", "FAIL q", ""], [[]])


@pytest.mark.parametrize("case", GATHER_CASES, ids=["-".join(c) for c in GATHER_CASES])
def test_a_gather_over_new_objects_agrees(module: Any, case: tuple[str, ...]) -> None:
    # A comprehension written as gather's `*` argument is unrolled by the objects' classes where
    # each is made of constants or new strings (`Upper('a'), Upper(f'c {q}')`) and its calls touch
    # nothing outside it; objects made of names (`Upper(q)`: another item could hold the same
    # object) and calls that may interleave on what they share run as written (a graph break), as
    # does a list of coroutines made before the gather.
    from ayo_trace.frontend.breaks import graph_breaks

    wf = getattr(module, "gather_" + "_".join(case))
    _, items, gather = case
    if gather != "named" and items == "constants":
        assert graph_breaks(wf.graph("q", [])) == []
    run_in_new_loop(lambda: three_runs_agree(wf, ["what is rust?", "FAIL q", ""], [[]]))


@pytest.mark.parametrize("name", KEYED)
def test_a_callee_keyed_by_a_constant_item_is_unrolled(module: Any, name: str) -> None:
    traces_whole_and_agrees(getattr(module, "keyed_" + name), ["what is rust?", "FAIL q"], [[]])


@pytest.mark.parametrize("name", KEPT)
def test_a_loop_the_rule_leaves_alone_agrees(module: Any, name: str) -> None:
    wf = getattr(module, "kept_" + name)
    run_in_new_loop(lambda: three_runs_agree(wf, ["what is rust?", "FAIL q"], [[]]))


def test_the_list_is_made_once_before_the_bodies(module: Any) -> None:
    graph = str(module.wf_literal_two_classes_chain.graph("q", []))
    assert graph.count("items = [Upper('u'), Lower(q)]") == 1
    assert graph.index("items = [") < graph.index("llm(")


# (workflow, whether it traces whole)
AGENTS = {
    "shared_board": False,
    "module_board": False,
    "quiet_agents": True,
    "list_comp_awaits": False,
    "mixed_classes": False,  # (an object made of a list: another item could hold it too)
    "agents_reused": False,
}


@pytest.mark.parametrize("name", AGENTS)
def test_gathered_agents_sharing_a_board_take_turns_as_python_runs_them(name: str) -> None:
    from ayo_trace.frontend.breaks import graph_breaks

    from . import gathered_agents_shapes

    wf = getattr(gathered_agents_shapes, name)
    assert (graph_breaks(wf.graph("q", [])) == []) is AGENTS[name]
    gathered_agents_shapes.BOARD.clear()
    questions = ["what is rust?", "FAIL q", ""]
    run_in_new_loop(lambda: three_runs_agree(wf, questions, [[], ["d"]]))
