"""Every engine request belongs to a query: an eager workflow is one query for its whole run (its
steps keep their place in line), a traced query's estimated work ranks it and decides whether its
deadline can be met at all, and the timeline stays bounded however many queries ran."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import ayo_trace as ayo
from ayo_trace.backend import BatchPolicy, Runtime
from ayo_trace.backend.runtime import estimated_work
from ayo_trace.errors import ConfigError, QueryTimeout
from ayo_trace.testing import ScriptedEmbedder, ScriptedLLM, ScriptedReranker, ScriptedStore
from tests.util import run_in_new_loop

from .test_workflows import DOCS, expand_and_answer
from .virtual import RecordingEmbedder, in_virtual_time


@ayo.workflow
async def three_steps(name: str) -> list[Any]:
    out = []
    for i in range(3):
        out.append(await ayo.embed(f"{name}{i}"))
    return out


async def two_eager_workflows(policy: str) -> list[str]:
    emb = RecordingEmbedder()
    async with Runtime(engines=[emb], batch=BatchPolicy(max_batch=1, max_wait_s=0.0), policy=policy):

        async def later(name: str, at: float) -> None:
            await anyio.sleep(at)
            await three_steps.eager(name)

        async with anyio.create_task_group() as tg:
            tg.start_soon(later, "a", 0.0)
            tg.start_soon(later, "b", 0.5)
    return emb.order()


def test_an_eager_workflow_is_one_query_whose_steps_keep_their_place() -> None:
    assert in_virtual_time(two_eager_workflows, "query") == ["a0", "a1", "a2", "b0", "b1", "b2"]
    # per request, in arrival order: the two workflows share the engine and both finish late
    assert in_virtual_time(two_eager_workflows, "critical_path") == ["a0", "b0", "a1", "b1", "a2", "b2"]


def engines() -> list[Any]:
    return [ScriptedLLM("llm"), ScriptedEmbedder("embed"), ScriptedStore("store"), ScriptedReranker("rerank")]


def test_a_query_whose_estimated_work_exceeds_its_deadline_fails_before_any_engine_call() -> None:
    async def main() -> tuple[type[BaseException], dict[str, Any]]:
        used = engines()
        graph = expand_and_answer.graph("why?", DOCS, optimized=True)
        work = estimated_work(graph)
        assert work > 0
        async with Runtime(engines=used, fail_early=True) as rt:
            with pytest.raises(QueryTimeout, match="cannot be met") as info:
                await rt.run(graph, {"question": "why?", "docs": DOCS}, deadline_s=work / 2)
        return info.type, {e.name: dict(e.calls) for e in used}

    _, calls = run_in_new_loop(main)
    assert all(not c for c in calls.values())


def test_without_fail_early_an_estimate_alone_never_fails_a_query() -> None:
    """The estimates come from the cost model's default (CPU) profiles: on faster engines they are
    too high, so by default a deadline fails a query only when it actually passes."""

    async def main() -> Any:
        graph = expand_and_answer.graph("why?", DOCS, optimized=True)
        work = estimated_work(graph)
        async with Runtime(engines=engines()) as rt:  # scripted engines answer far faster than estimated
            return await rt.run(graph, {"question": "why?", "docs": DOCS}, deadline_s=work / 2)

    assert run_in_new_loop(main) is not None


def test_the_timeline_keeps_at_most_its_size_whatever_the_number_of_queries() -> None:
    async def main() -> int:
        async with Runtime(engines=engines(), timeline_size=20) as rt:
            graph = expand_and_answer.graph("why?", DOCS, optimized=True)
            for i in range(150):
                await rt.run(graph, {"question": f"why {i}?", "docs": DOCS})
            return len(rt.timeline().events)

    # 20 events, the names of at most 20 threads they are on, and the two process names
    assert run_in_new_loop(main) <= 20 + 20 + 2


@pytest.mark.parametrize("kw", [{"policy": "fastest"}, {"max_active": 0}])
def test_a_bad_policy_or_bound_is_a_config_error(kw: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Runtime(engines=engines(), **kw)


def test_the_policy_switches_only_between_queries() -> None:
    async def main() -> tuple[str, int | None]:
        emb = RecordingEmbedder()
        async with Runtime(engines=[emb]) as rt:
            async with rt.serve("busy"):
                with pytest.raises(ConfigError, match="idle"):
                    rt.set_policy("critical_path")
            rt.set_policy("critical_path", None)
            await rt.embed("x")
            return rt.policy, rt.stats()["admission"]["max_active"]

    assert in_virtual_time(main) == ("critical_path", None)


@ayo.workflow
async def three_embeds(x: str) -> int:
    a = await ayo.embed(x)
    b = await ayo.embed(f"{x} {len(a)}")
    c = await ayo.embed(f"{x} {len(b)} {len(a)}")
    return len(c)


@ayo.workflow
async def one_embed(x: str) -> int:
    return len(await ayo.embed(x))


async def long_and_short(policy: str) -> list[str]:
    emb = RecordingEmbedder()
    async with Runtime(engines=[emb], batch=BatchPolicy(max_batch=1, max_wait_s=0.0), policy=policy):

        async def short() -> None:
            await anyio.sleep(0.001)
            await one_embed("short")

        async with anyio.create_task_group() as tg:
            tg.start_soon(three_embeds, "long")
            tg.start_soon(short)
    return emb.order()


def test_traced_queries_rank_by_their_estimated_work() -> None:
    # the short query arrived while the long one's first call ran: it goes next (SRPT-like) ...
    assert in_virtual_time(long_and_short, "query") == ["long", "short", "long 32", "long 32 32"]
    # ... where critical-path-first across queries prefers the long query's longer path left, then
    # (equal paths left) the request that came first
    assert in_virtual_time(long_and_short, "critical_path") == ["long", "long 32", "short", "long 32 32"]


class CpuLLM(ScriptedLLM):
    """A scripted LLM that says it computes on 2 CPU threads, as llama.cpp does."""

    def cpu_threads(self) -> int:
        return 2


@pytest.mark.parametrize(
    ("llm", "max_active", "expected"),
    [
        (CpuLLM("llm", lambda p: "x"), "auto", 8),  # decode steps slow with every session on a CPU
        (ScriptedLLM("llm", lambda p: "x"), "auto", 16),  # an LLM off the CPU: the batch
        (CpuLLM("llm", lambda p: "x"), 3, 3),
        (CpuLLM("llm", lambda p: "x"), None, None),
    ],
    ids=["cpu", "not-cpu", "given", "none"],
)
def test_the_automatic_admission_bound_follows_where_the_llm_computes(
    llm: ScriptedLLM, max_active: Any, expected: int | None
) -> None:
    async def main() -> tuple[Any, Any]:
        async with Runtime(engines=[llm, RecordingEmbedder()], max_active=max_active) as rt:
            started = rt.stats()["admission"]["max_active"]
            rt.set_policy("critical_path", 2)
            rt.set_policy("query")  # back to the automatic bound
            return started, rt.stats()["admission"]["max_active"]

    assert in_virtual_time(main) == (expected, 8 if isinstance(llm, CpuLLM) else 16)


@pytest.mark.parametrize("bad", [0, -1, "many", 2.5])
def test_a_bad_admission_bound_is_refused(bad: Any) -> None:
    with pytest.raises(ConfigError, match="max_active"):
        Runtime(engines=[RecordingEmbedder()], max_active=bad)
