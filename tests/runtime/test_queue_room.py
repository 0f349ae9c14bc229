"""A query's own parallel requests wait for room in an engine's bounded queue instead of failing:
the optimized graph runs a loop's items at once (a thousand summaries), where the loop run eagerly
makes one request at a time, so under ``max_queue`` the optimized query failed with ``Overloaded``
(and filled the queue so that a neighbour's requests were refused). A new query's request is still
refused at once by a full queue (``queue_room.Room``)."""

from __future__ import annotations

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend.queue_room import QUERY_SHARE, Room
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedStore
from tests.util import run_in_new_loop


@ayo.workflow
async def summarize_all(docs):
    return [await ayo.llm(f"Sum {d}", max_tokens=1) for d in docs]


@ayo.workflow
async def embed_all(docs):
    return [len(await ayo.embed(d)) for d in docs]


def runtime(max_queue: int) -> ayo.Runtime:
    return ayo.Runtime(
        [ScriptedLLM("llm", call_s=0.001), ScriptedEmbedder("embed", call_s=0.001), ScriptedStore("store")],
        max_queue=max_queue,
        retries=0,
    )


# (a queue shorter than the queries at once refuses some of them, eagerly too: admission control)
@pytest.mark.parametrize(("max_queue", "queries"), [(1, 1), (2, 1), (5, 1), (16, 1), (3, 3), (5, 3), (16, 3)])
@pytest.mark.parametrize("wf", [summarize_all, embed_all], ids=["llm", "embed"])
def test_a_parallel_map_waits_for_room_in_the_queue(max_queue: int, queries: int, wf: ayo.Workflow) -> None:
    docs = [[f"d{q}-{i}" for i in range(12 + q)] for q in range(queries)]

    async def main() -> None:
        async with runtime(1024):
            alone = [await wf.eager(d) for d in docs]
        async with runtime(max_queue):
            got: list[object] = [None] * queries

            async def one(i: int) -> None:
                got[i] = await wf(docs[i])

            with anyio.fail_after(60):
                async with anyio.create_task_group() as tg:
                    for i in range(queries):
                        tg.start_soon(one, i)
        assert got == alone

    run_in_new_loop(main)


def test_the_room_refuses_a_new_query_and_holds_one_at_its_share() -> None:
    async def main() -> None:
        room = Room(max_queue=2 * QUERY_SHARE)
        queue: list[str] = []
        share = 2
        for _ in range(share):
            assert await room.wait("a", lambda: len(queue))
            room.added("a")
            queue.append("a")
        waited = anyio.Event()

        async def third() -> None:
            assert await room.wait("a", lambda: len(queue))  # ("a" holds its share: it waits)
            waited.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(third)
            await anyio.wait_all_tasks_blocked()
            assert not waited.is_set()
            assert await room.wait("b", lambda: len(queue))  # (another query is not held back)
            queue.append("b")
            room.added("b")

            class R:
                query = "a"

            room.left([R()])
            queue.remove("a")
        assert waited.is_set()
        full = Room(max_queue=1)
        full.added("a")
        assert not await full.wait("b", lambda: 1)  # (a full queue refuses a query with none queued)
        assert not await full.wait(None, lambda: 1)

    run_in_new_loop(main)
