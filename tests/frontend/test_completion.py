"""``asyncio.as_completed(...)`` over calls, comprehensions of calls, a list of them built before,
or tasks, and ``asyncio.wait(tasks)`` for all of them: traced (they were a graph break, or refused
for tasks), eager ≡ traced ≡ optimized whether no call, some or all fail; a failed call's error is
raised where the loop awaits it. Waiting for the first one, or with a timeout, is refused or run as
written: the graph has run every call to its end by then."""

from __future__ import annotations

from typing import Any

import pytest

from ayo_trace.frontend.asyncio_calls import Completed, Failed
from ayo_trace.passes import DEFAULT_PASSES
from tests.util import run_in_new_loop

from . import completion_shapes as c
from .test_corpus_control import run_modes
from .test_differential import assert_all_equal

ARGS = [  # (the scripted LLM fails a prompt holding FAIL)
    ("q", ["a", "b", "c"]),
    ("q", ["a", "FAIL b", "c"]),
    ("FAIL", ["a", "b"]),
    ("q", []),
]


@pytest.mark.parametrize("args", ARGS, ids=["none fail", "one fails", "all fail", "no items"])
@pytest.mark.parametrize("wf", c.CASES, ids=[wf.fn.__name__ for wf in c.CASES])
def test_as_completed_is_traced_and_answers_as_eager(wf: Any, args: tuple[Any, ...]) -> None:
    graph = wf.graph(*args)
    assert [n.attrs["reason"] for n in graph.walk() if n.op == "break"] == []
    assert_all_equal(run_in_new_loop(run_modes, wf, args, 3, [[], list(DEFAULT_PASSES)]))


def test_the_calls_run_at_once_each_in_a_try_and_the_loop_awaits_their_outcomes() -> None:
    graph = c.over_calls_and_a_spread.graph("q", ["a"], optimized=True)
    tries = [n for n in graph.nodes if n.op == "try"]
    assert len(tries) == 2  # the two calls; the spread's is in its map's body
    assert tries[0] not in tries[1].args and tries[0] not in tries[1].after
    body = [n for n in c.over_a_comprehension.graph("q", ["a"]).walk()]
    assert [n.op for n in body].count("try") == 1
    codes = [n.attrs["code"].source for n in body if n.op == "python"]
    assert any(s.endswith("fut.result()") for s in codes)


def test_outcomes_behave_as_finished_tasks() -> None:
    done, failed = Completed(3), Failed(ValueError("no"))
    assert done.result() == 3 and done.done() and failed.done() and not failed.cancelled()
    assert isinstance(failed.exception(), ValueError)
    with pytest.raises(ValueError):
        failed.result()
    assert len({Completed(1), Completed(1)}) == 2  # tasks are equal only to themselves


@pytest.mark.parametrize(
    "wf",
    [c.with_a_timeout, c.over_a_generator, c.over_a_list_appended_to],
    ids=["timeout", "generator", "appended list"],
)
def test_a_timeout_or_a_generator_runs_as_written(wf: Any) -> None:
    """With a timeout, or of a generator (Python raises TypeError), ``as_completed`` is not traced:
    the statement runs as Python, and answers (or raises) as eager."""
    graph = wf.graph("q", ["a"])
    assert "llm" not in [n.op for n in graph.walk()]  # not traced: Python runs the calls
    for args in ARGS:
        assert_all_equal(run_in_new_loop(run_modes, wf, args, None, [list(DEFAULT_PASSES)]))


def test_waiting_for_the_first_task_waits_on_pythons_tasks() -> None:
    graph = c.first_completed.graph("q", ["a"])
    made = [n for n in graph.walk() if n.op == "break" and "create_task" in n.attrs["code"].source]
    assert len(made) == 1 and "(`asyncio.wait(tasks, return_when" in made[0].attrs["reason"]
    assert "llm" not in [n.op for n in graph.walk()]  # (Python's tasks make the calls, eagerly)


@pytest.mark.parametrize("args", ARGS, ids=["none fail", "one fails", "all fail", "no items"])
def test_a_task_awaited_in_a_try_it_is_not_made_in_keeps_its_error_until_then(args: tuple[Any, ...]) -> None:
    wf = c.task_awaited_in_a_try_it_is_not_made_in  # (each task `Completed` or `Failed`: raised at the await)
    assert "break" not in [n.op for n in wf.graph(*args).walk()]
    assert_all_equal(run_in_new_loop(run_modes, wf, args, 3, [[], list(DEFAULT_PASSES)]))


def _waits_source(counts: list[int], constant: bool) -> str:
    helpers = []
    for i, n in enumerate(counts):
        steps = "\n".join(
            f"    r = await ayo.llm(f'{i}.{k} ' + {'q' if k == 0 else 'r'}, max_tokens=2)" for k in range(n)
        )
        helpers.append(
            f"async def h{i}(q):\n{steps}\n    return {repr(f'h{i}') if constant else 'r + ' + repr(f' h{i}')}\n"
        )
    calls = ", ".join(f"h{i}(q)" for i in range(len(counts)))
    return (
        "import asyncio\nimport ayo_trace as ayo\n\n\n"
        + "\n\n".join(helpers)
        + "\n\n@ayo.workflow\nasync def program(q):\n"
        f"    out = []\n    for fut in asyncio.as_completed([{calls}]):\n        out.append(await fut)\n    return out\n"
    )


@pytest.mark.parametrize("constant", [True, False], ids=["constant value", "value of the last await"])
@pytest.mark.parametrize("counts", [[2, 1], [1, 3, 2]])
def test_calls_come_in_the_order_their_awaits_end(counts: list[int], constant: bool, tmp_path: Any) -> None:
    """A call's outcome is stamped when its last await has ended, not when its value is ready (a
    constant is at once): with every LLM call taking as long, and each await reading the last, the
    optimized graph yields the calls with fewer awaits first, as Python does. (Awaits that do not
    read each other run at once in the optimized graph, so such a call may finish sooner there.)"""
    import ayo_trace as ayo
    from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore

    from .programs import load

    wf = load(_waits_source(counts, constant), tmp_path).program

    async def both() -> tuple[Any, Any]:
        llm = ScriptedLLM("llm", call_s=0.1)
        async with ayo.Runtime(
            [llm, ScriptedEmbedder("embed"), ScriptedStore("store")], batching=False, retries=0
        ):
            return await wf.eager("q"), await wf("q")

    eager, optimized = run_in_new_loop(both)
    assert optimized == eager and [x.strip().split()[-1] for x in eager] == [
        f"h{i}" for i in sorted(range(len(counts)), key=lambda i: (counts[i], i))
    ]
