"""One query's cancellation never fails another's requests, however asyncio delivers it: a task
cancelled by ``task.cancel()``, by ``asyncio.wait_for`` timing out, or by an ``asyncio.TaskGroup``
whose other task failed (one query's bad input), while it leads an engine batch holding another
query's request. The batch runs in a task of its own (``isolation.InFlight``): an anyio shield in
the leader's own task does not stop asyncio's cancellation, which aborted the batch ("batch
aborted") for every query in it. Scripted engines with a call time, batching on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore
from tests.util import in_new_thread


@ayo.workflow
async def ask(q):
    return await ayo.llm(f"Q {q}", max_tokens=3)


@ayo.workflow
async def embed_one(q):
    return len(await ayo.embed(q))


@ayo.workflow
async def ask_within(q, t):
    try:
        return await asyncio.wait_for(ayo.llm(f"Q {q}", max_tokens=3), t)
    except TimeoutError:
        return "fallback"


@ayo.workflow
async def fan(q, docs):
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(ayo.llm(f"TG {d}", max_tokens=2)) for d in docs]
    return [t.result() for t in tasks]


class LLM(ScriptedLLM):
    interruptible = True  # (as every real engine)


class Embedder(ScriptedEmbedder):
    interruptible = True


def runtime(call_s: float) -> Any:
    return ayo.Runtime(
        [
            LLM("llm", call_s=call_s, fail=lambda p: "FAIL" in p),
            Embedder("embed", call_s=call_s),
            ScriptedStore("store"),
        ],
        retries=0,
    )


async def _cancelled(make: Callable[[], Awaitable[Any]], after: float) -> Any:
    task = asyncio.ensure_future(make())
    await asyncio.sleep(after)
    task.cancel()  # (what asyncio code does to a request whose client went away)
    try:
        return await task
    except asyncio.CancelledError:
        return "cancelled"


FIRST: dict[str, Callable[[], Awaitable[Any]]] = {
    "task.cancel (llm)": lambda: _cancelled(lambda: ask.eager("a"), 0.02),
    "task.cancel (embed)": lambda: _cancelled(lambda: embed_one.eager("a"), 0.02),
    "wait_for timing out": lambda: ask_within.eager("a", 0.02),
    "TaskGroup of a failing call": lambda: fan.eager("a", ["g", "FAIL"]),
}


@pytest.mark.parametrize("first", sorted(FIRST))
@pytest.mark.parametrize("second", ["eager", "traced"])
@pytest.mark.parametrize("call_s", [0.0, 0.05])
def test_a_cancelled_leader_does_not_fail_the_other_members_of_its_batch(
    first: str, second: str, call_s: float
) -> None:
    # (asyncio's own cancellation; in a new thread: pytest's anyio runner may hold this one's loop)
    in_new_thread(lambda: asyncio.run(asyncio.wait_for(_scenario(first, second, call_s), 60)))


async def _scenario(first: str, second: str, call_s: float) -> None:
    other = ask.eager if second == "eager" else ask
    other_embed = embed_one.eager if second == "eager" else embed_one
    async with runtime(call_s):
        alone = {"llm": await ask.eager("b"), "embed": await embed_one.eager("b")}

        async def b() -> Any:
            await asyncio.sleep(0)  # (a's request leads the batch this one joins)
            return await (other_embed("b") if "embed" in first else other("b"))

        results = await asyncio.gather(FIRST[first](), b(), return_exceptions=True)
        assert results[1] == alone["embed" if "embed" in first else "llm"], results
        assert await other("c") == await ask.eager("c")  # (and the runtime serves on)


@ayo.workflow
async def sums(q, docs):
    return await asyncio.gather(*[ayo.llm(f"Sum {d} for {q}", max_tokens=3) for d in docs])


@pytest.mark.parametrize("delay", [0.0005, 0.001, 0.002, 0.004, 0.008, 0.02])
def test_an_eager_gather_cancelled_releases_every_session(delay: float) -> None:
    """anyio cancels a scope's task again at every pass until it leaves the scope; a gather passes
    each on to its calls, also while they release their sessions: a release runs in a task of its
    own, so it is not cut short (the engine kept the sessions, the runtime thought them free)."""

    async def main() -> None:
        llm = LLM("llm", call_s=0.002)
        async with ayo.Runtime([llm, Embedder("embed"), ScriptedStore("store")], retries=0):
            with anyio.move_on_after(delay):
                await sums.eager("q", ["one", "two", "three", "four"])
            await anyio.sleep(0.05)
            assert list(llm.sessions) == []

    in_new_thread(lambda: asyncio.run(asyncio.wait_for(main(), 60)))
