"""A task taking turns with the statements after it on one object runs with them as written.

``t = asyncio.create_task(worker())``, then statements touching what ``worker`` touches, then
``await t``: Python runs the two in turns at their awaits, which the graph (running the task's call
whole where it is made) cannot. Those were refused; now the statements from the one making the
task to the last reading its name run as written, one graph break (``frontend/task_regions.py``),
and eager ≡ traced ≡ optimized. Every maker x what the statements do meanwhile x how the task is
awaited x where it stands (top level, an ``if``, a loop body), plus the queue-worker idioms and a
task group. Where the stretch is not whole (the task read after the loop making it, by a closure, a
``break`` in it) the workflow stays refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ayo_trace.errors import TraceError
from ayo_trace.frontend.breaks import graph_breaks
from tests.util import every_pair, run_in_new_loop, three_runs_agree

from .programs import load

MAKERS = {  # (lines making the task `t` or tasks `ts`; how to await them)
    "local": (["t = asyncio.create_task(worker(log, q))"], "t"),
    "module": (["t = asyncio.create_task(noted(log, q))"], "t"),
    "list": (["ts = [asyncio.create_task(noted(log, d)) for d in [q, *docs]]"], "ts"),
    "dict": (["ts = {d: asyncio.create_task(noted(log, d)) for d in [q, *docs]}"], "dict"),
}
MEANWHILE = {
    "append": ["log.append('main')"],
    "extend_after_wait": ["await ayo.llm('other', max_tokens=2)", "log.extend(['main', q])"],
    "loop": ["for d in docs:", "    log.append(d)", "    await ayo.llm(f'step {d}', max_tokens=2)"],
    "read": ["seen = len(log)", "await ayo.llm('other', max_tokens=2)", "log.append(f'seen {seen}')"],
}
AWAITED = {
    "await": {
        "t": ["x = await t"],
        "ts": ["x = await asyncio.gather(*ts)"],
        "dict": ["x = [await v for v in ts.values()]"],
    },
    "caught": {
        "t": ["x = await asyncio.gather(t, return_exceptions=True)"],
        "ts": ["x = await asyncio.gather(*ts, return_exceptions=True)"],
        "dict": ["x = await asyncio.gather(*ts.values(), return_exceptions=True)"],
    },
}
PLACES = {
    "top": lambda lines: lines,
    "if": lambda lines: ["if q:", *("    " + s for s in lines), "else:", "    x = None"],
    "loop": lambda lines: ["for _ in range(2):", *("    " + s for s in lines)],
}
CASES = every_pair(MAKERS, MEANWHILE, AWAITED, PLACES)

HEAD = """
import asyncio

import ayo_trace as ayo


async def noted(log, text):
    log.append(f"start {text}")
    reply = await ayo.llm(f"note: {text}", max_tokens=3)
    log.append(f"done {text}")
    return reply
"""
LOCAL = [
    "log = []",
    "async def worker(log, text):",
    "    log.append(f'w {text}')",
    "    r = await ayo.llm(f'work: {text}', max_tokens=3)",
    "    log.append(f'w done {text}')",
    "    return r",
]


def _source(name: str, lines: list[str]) -> str:
    body = "".join(f"    {line}\n" for line in lines)
    return f"\n\n@ayo.workflow\nasync def wf_{name}(q, docs):\n{body}"


def _case(maker: str, meanwhile: str, awaited: str, place: str) -> list[str]:
    made, kind = MAKERS[maker]
    inner = made + MEANWHILE[meanwhile] + AWAITED[awaited][kind]
    if place != "top":
        inner = [*inner, "log.append('turn')"]
    return [*LOCAL, *PLACES[place](inner), "return log, repr(x)"]


QUEUES = {
    "sentinel": """
    queue = asyncio.Queue()
    out = {}
    async def worker():
        while (d := await queue.get()) is not None:
            out[d] = await ayo.llm(f"Sum {d}", max_tokens=3)
    t = asyncio.create_task(worker())
    for d in docs:
        await queue.put(d)
    await queue.put(None)
    await t
    return out
""",
    "pool_join_cancel": """
    queue = asyncio.Queue()
    results = []
    async def worker(n):
        while True:
            d = await queue.get()
            try:
                results.append((d, await ayo.llm(f"{n} {d}", max_tokens=3)))
            except Exception as e:
                results.append((d, f"failed {type(e).__name__}"))
            finally:
                queue.task_done()
    workers = [asyncio.create_task(worker(i)) for i in range(3)]
    for d in [q, *docs]:
        queue.put_nowait(d)
    await queue.join()
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return sorted(results)
""",
    "two_stages": """
    first, second = asyncio.Queue(), asyncio.Queue()
    out = []
    async def stage_one():
        while (d := await first.get()) is not None:
            await second.put(await ayo.llm(f"Draft {d}", max_tokens=3))
        await second.put(None)
    async def stage_two():
        while (d := await second.get()) is not None:
            out.append(await ayo.llm(f"Polish {d}", max_tokens=3))
    s1 = asyncio.create_task(stage_one())
    s2 = asyncio.create_task(stage_two())
    for d in docs:
        await first.put(d)
    await first.put(None)
    await asyncio.gather(s1, s2)
    return sorted(out), q
""",
    "group_note_between": """
    out = []
    async def rec(text):
        out.append(f"start {text}")
        r = await ayo.llm(text, max_tokens=3)
        out.append(f"done {text}")
        return r
    async with asyncio.TaskGroup() as tg:
        a = tg.create_task(rec(q))
        out.append("between")
        b = tg.create_task(rec("second"))
    return out, a.result(), b.result()
""",
}
STILL_REFUSED = {  # in a block of its own, the tasks reach past the stretch from making to awaiting
    "escapes_into_a_list": """
    log, pending = [], []
    if q:
        t = asyncio.create_task(noted(log, q))
        log.append("main")
        pending = [t]
    await ayo.llm("other", max_tokens=2)
    return await asyncio.gather(*pending), log
""",
    "read_by_a_closure": """
    log = []
    if q:
        t = asyncio.create_task(noted(log, q))
        log.append("main")
        async def finish():
            return await t
        log.append(await finish())
    return log
""",
    "awaited_after_its_loop": """
    log = []
    for d in docs:
        t = asyncio.create_task(noted(log, d))
        log.append("main")
        await ayo.llm(f"step {d}", max_tokens=2)
    return (await t) if docs else None, log
""",
    "break_in_the_stretch": """
    log = []
    for d in docs:
        t = asyncio.create_task(noted(log, d))
        log.append("main")
        if d:
            break
        await t
    return log
""",
    "first_completed_only": """
    log = []
    if docs:
        ts = [asyncio.create_task(noted(log, d)) for d in docs]
        log.append("main")
        await asyncio.wait(ts, return_when=asyncio.FIRST_COMPLETED)
    await ayo.llm("other", max_tokens=2)
    return log
""",
    "under_a_lock": """
    log = []
    lock = asyncio.Lock()
    async def worker():
        async with lock:
            log.append("worker")
        return await ayo.llm(q, max_tokens=2)
    async with lock:
        t = asyncio.create_task(worker())
        log.append("main")
        await ayo.llm("other", max_tokens=2)
        log.append("main again")
    return await t, log
""",
}
AT_THE_TOP = {  # the same at the function's top level: the rest of the function runs as written
    "escapes_into_a_list": """
    log = []
    t = asyncio.create_task(noted(log, q))
    log.append("main")
    pending = [t]
    await ayo.llm("other", max_tokens=2)
    return await asyncio.gather(*pending), log
""",
    "read_by_a_closure": """
    log = []
    t = asyncio.create_task(noted(log, q))
    log.append("main")
    async def finish():
        return await t
    log.append(await finish())
    return log
""",
}


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD + "".join(_source("_".join(c), _case(*c)) for c in CASES)
    for name, body in {**QUEUES, **STILL_REFUSED}.items():
        source += f"\n\n@ayo.workflow\nasync def wf_{name}(q, docs):{body}"
    for name, body in AT_THE_TOP.items():
        source += f"\n\n@ayo.workflow\nasync def wf_top_{name}(q, docs):{body}"
    return load(source, Path(tmp_path_factory.mktemp("task_regions")))


QUESTIONS = ["what is rust", "FAIL q"]
DOCS = [["a", "FAIL b", "c"], []]


def _runs_as_written(wf: Any) -> None:
    breaks = graph_breaks(wf.graph("q", ["a", "b"]))
    assert any("as written" in str(b.attrs["reason"]) for b in breaks), [b.attrs["reason"] for b in breaks]
    run_in_new_loop(lambda: three_runs_agree(wf, QUESTIONS, DOCS))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_task_taking_turns_with_the_statements_after_it_runs_with_them(
    module: Any, case: tuple[str, ...]
) -> None:
    _runs_as_written(getattr(module, "wf_" + "_".join(case)))


@pytest.mark.parametrize("name", list(QUEUES))
def test_queue_workers_and_task_groups_run_as_written(module: Any, name: str) -> None:
    _runs_as_written(getattr(module, f"wf_{name}"))


@pytest.mark.parametrize("name", list(AT_THE_TOP))
def test_at_the_top_level_the_rest_of_the_function_runs_as_written(module: Any, name: str) -> None:
    _runs_as_written(getattr(module, f"wf_top_{name}"))


@pytest.mark.parametrize("name", list(STILL_REFUSED))
def test_a_stretch_not_whole_in_one_block_stays_refused(module: Any, name: str) -> None:
    with pytest.raises(TraceError, match=r"both touch|interleave"):
        getattr(module, f"wf_{name}").graph("q", ["a", "b"])
