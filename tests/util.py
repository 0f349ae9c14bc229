"""Helpers shared by test modules."""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


def run_in_new_loop(fn: Callable[..., Awaitable[T]], *args: Any, backend: str = "asyncio") -> T:
    """``anyio.run(fn, *args, backend=backend)`` in a fresh thread: a new event loop even when
    pytest's anyio runner (session-scoped, so real-engine fixtures load once) holds this thread's
    loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, fn, *args, backend=backend).result()


def in_new_thread(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a fresh thread: for a benchmark's ``main``, which calls ``anyio.run`` itself
    (see ``run_in_new_loop``)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def scripted_runtime() -> Any:
    """A runtime on the scripted engines, exact (no batching, no retries), whose LLM fails every
    prompt holding ``FAIL``: what the eager ≡ traced ≡ optimized tests of the tracer run on."""
    import ayo_trace as ayo
    from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore

    llm = ScriptedLLM("llm", fail=lambda p: "FAIL" in p)
    return ayo.Runtime([llm, ScriptedEmbedder("embed"), ScriptedStore("store")], batching=False, retries=0)


async def outcome(run: Callable[..., Awaitable[Any]], *args: Any, text: bool = True) -> Any:
    """``await run(*args)``, or for an error the one its cause chain ends in, as ``("raised", class
    name, message)`` (without the message when ``text`` is False): what eager, traced and optimized
    runs are compared by."""
    try:
        return await run(*args)
    except Exception as exc:
        while exc.__cause__ is not None:
            exc = exc.__cause__  # type: ignore[assignment]
        return ("raised", type(exc).__name__, str(exc)) if text else ("raised", type(exc).__name__)


async def three_runs_agree(
    wf: Any, questions: list[str], docs_lists: list[list[str]], run: Callable[..., Awaitable[Any]] = outcome
) -> None:
    """On a new ``scripted_runtime``, for every ``(q, docs)``: ``wf.eager``, the unoptimized graph
    and ``wf`` (optimized) come to the same ``outcome`` (the tracer's oracle). ``run``: how each is
    run (``outcome``, or one wrapping it)."""
    import ayo_trace as ayo

    unoptimized = ayo.workflow(wf.fn, passes=[])
    async with scripted_runtime():
        for q in questions:
            for docs in docs_lists:
                eager = await run(wf.eager, q, docs)
                traced = await run(unoptimized, q, docs)
                assert traced == eager, (q, docs, "eager:", eager, "unoptimized:", traced)
                optimized = await run(wf, q, docs)
                assert optimized == eager, (q, docs, "eager:", eager, "optimized:", optimized)


def traces_whole_and_agrees(
    wf: Any,
    questions: list[str],
    docs_lists: list[list[str]],
    *,
    graph: tuple[Any, ...] = ("q", []),
    run: Callable[..., Awaitable[Any]] = outcome,
) -> None:
    """``wf`` traced for ``graph``'s arguments has no graph break, and its three runs agree
    (``three_runs_agree``, in a new event loop): what the generated tests of a construct check."""
    from ayo_trace.frontend.breaks import graph_breaks

    assert graph_breaks(wf.graph(*graph)) == []
    run_in_new_loop(lambda: three_runs_agree(wf, questions, docs_lists, run=run))


def runs_on_fresh_copies(
    source: str, tmp_path: Any, questions: list[str], *, written: bool = False
) -> dict[str, Any]:
    """The ``outcome`` of module ``source``'s workflow ``wf`` for each question (no documents),
    run eagerly, unoptimized and optimized, each on its own fresh copy of the module (its state
    as the import left it) and its own ``scripted_runtime``, by variant. ``written``: each variant's
    outcomes with what it wrote to ``sys.stdout`` and to ``sys.stderr``, a triple."""
    import ayo_trace as ayo
    from tests.frontend.programs import load

    runs: dict[str, Any] = {}
    for variant in ("eager", "unoptimized", "optimized"):
        (tmp_path / variant).mkdir()
        wf = load(source, tmp_path / variant).wf
        run = {"eager": wf.eager, "unoptimized": ayo.workflow(wf.fn, passes=[]), "optimized": wf}[variant]

        async def go(run: Any = run) -> list[Any]:
            async with scripted_runtime():
                return [await outcome(run, q, []) for q in questions]

        out, err = io.StringIO(), io.StringIO()
        with contextlib.ExitStack() as capturing:
            if written:
                capturing.enter_context(contextlib.redirect_stdout(out))
                capturing.enter_context(contextlib.redirect_stderr(err))
            results = run_in_new_loop(go)
        runs[variant] = (results, out.getvalue(), err.getvalue()) if written else results
    return runs


def fresh_copies_agree(source: str, tmp_path: Any, questions: list[str]) -> None:
    """``runs_on_fresh_copies`` of module ``source``'s ``wf``: the unoptimized and the optimized
    graph come to eager's outcomes (the tracer's oracle, for workflows changing module state)."""
    runs = runs_on_fresh_copies(source, tmp_path, questions)
    assert runs["unoptimized"] == runs["eager"], runs
    assert runs["optimized"] == runs["eager"], runs


def every_pair(*factors: Iterable[Any]) -> list[tuple[Any, ...]]:
    """A subset of ``itertools.product(*factors)`` in which every choice of each factor meets every
    choice of every other factor at least once (a pairwise covering array, built greedily and the
    same on every run): for generated cases whose faults show with two choices together, it runs a
    fraction of the whole product (100 -> 25 cases for factors of 4, 5 and 5)."""
    choices: list[Sequence[Any]] = [list(f) for f in factors]
    product = list(itertools.product(*choices))
    pairs = list(itertools.combinations(range(len(choices)), 2))
    if len(choices) < 3:
        return product

    def met(case: tuple[Any, ...]) -> set[tuple[int, Any, int, Any]]:
        return {(i, case[i], j, case[j]) for i, j in pairs}

    left = set().union(*(met(c) for c in product))
    chosen: list[tuple[Any, ...]] = []
    while left:
        best = max(product, key=lambda c: len(met(c) & left))
        chosen.append(best)
        left -= met(best)
    return chosen
