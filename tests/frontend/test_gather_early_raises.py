"""A gathered helper that may raise before it first waits (``if not d: raise ValueError(d)``, an
``assert``) fails Python's gather before any engine has answered, so its error is the gather's even
when an earlier call fails at its wait; the graph raised the first failing call's error in argument
order (the engine's: a wrong answer). Such a gather now runs as written (a list of its calls made
before it too, which was traced), and one whose early-raising call comes first (the graph's order is
then Python's) or that hands the errors back still traces whole (a list made before it and gathered
with ``return_exceptions=True`` was a graph break). Every raise x where the
call stands x how the calls are gathered, with inputs failing both ways: eager ≡ traced ≡
optimized."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import run_in_new_loop, three_runs_agree

from .programs import load

RAISES = {
    "if_raise": ["if not x or 'bad' in x:", "    raise ValueError(f'rejected {x!r}')"],
    "assert": ["assert x and 'bad' not in x, f'rejected {x!r}'"],
    "nested_if": ["if len(x) < 40:", "    if 'bad' in x or not x:", "        raise KeyError(x)"],
}
GATHERS = {
    # (the workflow's lines gathering, whether the early-raising call may follow one that fails at
    # a wait: then the gather, and a list made for it, run as written)
    "llm_then_helper": (["return list(await asyncio.gather(ayo.llm(q, max_tokens=2), checked(q)))"], True),
    "helper_then_llm": (["return list(await asyncio.gather(checked(q), ayo.llm(q, max_tokens=2)))"], False),
    "comprehension": (["return list(await asyncio.gather(*[checked(d) for d in docs]))"], True),
    "generator": (["return list(await asyncio.gather(*(checked(d) for d in docs)))"], True),
    "two_helpers": (["return list(await asyncio.gather(checked(q + ' FAIL'), checked(q)))"], True),
    "list_made_before": (
        ["coros = [checked(d) for d in docs]", "return list(await asyncio.gather(*coros))"],
        True,
    ),
    "list_built_before": (
        [
            "coros = [ayo.llm(q, max_tokens=2)]",
            "for d in docs:",
            "    coros.append(checked(d))",
            "return list(await asyncio.gather(*coros))",
        ],
        True,
    ),
    "list_made_before_returning_errors": (
        [
            "coros = [checked(d) for d in docs]",
            "got = await asyncio.gather(*coros, return_exceptions=True)",
            "return [repr(g) for g in got]",
        ],
        False,
    ),
}


def _source(raises: str, gather: str, name: str) -> str:
    check = "".join(f"    {line}\n" for line in RAISES[raises])
    body = "".join(f"    {line}\n" for line in GATHERS[gather][0]).replace("checked(", f"checked_{name}(")
    return (
        f"\n\nasync def checked_{name}(x):\n{check}    return await ayo.llm(f'ok {{x}}', max_tokens=2)\n"
        f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n{body}"
    )


CASES = list(itertools.product(RAISES, GATHERS))


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = "\nimport asyncio\n\nimport ayo_trace as ayo\n" + "".join(
        _source(r, g, f"wf_{r}_{g}") for r, g in CASES
    )
    return load(source, Path(tmp_path_factory.mktemp("gather_early_raises")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_the_early_error_is_the_gather_s(module: Any, case: tuple[str, str]) -> None:
    raises, gather = case
    wf = getattr(module, f"wf_{raises}_{gather}")
    breaks = graph_breaks(wf.graph("q", ["a", "b"]))
    assert bool(breaks) == GATHERS[gather][1], [b.attrs.get("reason") for b in breaks]
    questions = ["q", "FAIL q", "", "bad FAIL"]
    docs = [[], ["FAIL a", ""], ["FAIL a", "bad b"], ["a", "b"], ["", "FAIL"]]
    run_in_new_loop(lambda: three_runs_agree(wf, questions, docs))


# a task group whose task fails while an earlier task changes module state after its wait: Python
# cancels the earlier task at its next wait; the graph ran it whole (an extra change, and its error
# first). Such a group runs as written now; the module's list after each run is compared too.
GROUP_TASKS = {
    "changer": [
        "async def changer(d):",
        "    a = await ayo.llm(d, max_tokens=2)",
        "    LOG.append('first')",
        "    b = await ayo.llm(a, max_tokens=2)",
        "    LOG.append('second')",
        "    return b",
    ],
    "failer_at_wait": ["async def failer(d):", "    return await ayo.llm('FAIL ' + d, max_tokens=2)"],
    "failer_after_wait": [
        "async def failer(d):",
        "    await ayo.llm(d, max_tokens=2)",
        "    raise ValueError('failer')",
    ],
}
GROUP_ORDERS = {
    "changer_first": ["tg.create_task(changer(q))", "tg.create_task(failer(q))"],
    "failer_first": ["tg.create_task(failer(q))", "tg.create_task(changer(q))"],
}
GROUP_CASES = [(f, o) for f in ("failer_at_wait", "failer_after_wait") for o in GROUP_ORDERS]


def _group_source(failer: str, order: str) -> str:
    defs = "\n".join([*GROUP_TASKS["changer"], *GROUP_TASKS[failer]])
    body = "".join(f"        {line}\n" for line in GROUP_ORDERS[order])
    return (
        "\nimport asyncio\n\nimport ayo_trace as ayo\n\nLOG = []\n\n"
        f"{defs}\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        f"    async with asyncio.TaskGroup() as tg:\n{body}    return 'done'\n"
    )


@pytest.mark.parametrize("case", GROUP_CASES, ids=["-".join(c) for c in GROUP_CASES])
def test_a_failing_task_group_changes_what_python_s_does(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str]
) -> None:
    import anyio

    import ayo_trace as ayo
    from tests.util import outcome, scripted_runtime

    module = load(_group_source(*case), Path(tmp_path_factory.mktemp("group")))
    wf = module.wf

    async def runs() -> list[Any]:
        got = []
        for run in (wf.eager, ayo.workflow(wf.fn, passes=[]), wf):
            module.LOG.clear()
            async with scripted_runtime():
                result = await outcome(run, "q", [], text=False)
                await anyio.sleep(0.05)  # (a task Python left running ends)
            got.append((result, list(module.LOG)))
        return got

    eager, traced, optimized = run_in_new_loop(runs)
    assert traced == eager and optimized == eager, (eager, traced, optimized)


SAID = """
import asyncio

import ayo_trace as ayo


async def summarize(chunk):
    if not chunk.strip():
        raise ValueError("empty chunk")
    return await ayo.llm(f"sum: {chunk}", max_tokens=3)


@ayo.workflow
async def wf(q, docs):
    try:
        return await asyncio.gather(*(summarize(c) for c in q.split(" ") + [""]))
    except (ValueError, ayo.EngineError) as e:
        return type(e).__name__
"""


def test_the_reason_says_the_helper_raises(tmp_path: Path) -> None:
    # (it named the tracer's own key for a `raise`, "changes `\x00raised`": found by probe d43)
    wf = load(SAID, tmp_path).wf
    reasons = [str(b.attrs["reason"]) for b in graph_breaks(wf.graph("a b", []))]
    assert any("`summarize(...)` raises before it first waits" in r for r in reasons), reasons
    assert not any("\x00" in r for r in reasons), reasons
    run_in_new_loop(lambda: three_runs_agree(wf, ["a b", "explain FAIL here"], [[]]))
