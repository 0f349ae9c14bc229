"""Calls run at once (gather, a task group, a list of tasks) whose helpers touch objects outside
themselves (``test_interleaving.py``). Python runs each call up to its first wait, in order, then
the rest of each as its call finishes; the graph runs each call whole. ``TRACED`` are the shapes
where the two agree (changes on one side of the wait only, each call its own object, log lines);
``EAGER`` those where they do not, which run eagerly, as a graph break, when the gather (or task
group) makes its calls itself; ``REFUSED`` those whose calls were made before (tasks, a list of
coroutines built in a loop), refused rather than answer differently. Each takes ``(q, docs)``."""

from __future__ import annotations

import asyncio
import bisect
import heapq
import io
import itertools
import logging

import ayo_trace as ayo

log = logging.getLogger("tests.interleaving")


class Agent:
    def __init__(self, name: str) -> None:
        self.name = name
        self.history: list[str] = []

    async def step(self, text: str) -> str:
        self.history.append(f"{self.name} asked: {text}")
        reply = await ayo.llm(f"{self.name}: {text}", max_tokens=3)
        self.history.append(f"{self.name} got: {reply}")
        return reply


class Counted:
    def __init__(self) -> None:
        self.turns = 0
        self.replies: list[str] = []

    async def ask(self, text: str) -> str:
        self.turns += 1
        reply = await ayo.llm(text, max_tokens=3)
        self.replies.append(reply)
        return reply


# --- traced: Python's interleaving and the graph's order agree ----------------------------------


@ayo.workflow
async def results_appended_as_they_come(q: str, docs: list[str]) -> list[str]:
    found: list[str] = []

    async def summarize(d: str) -> None:
        out = await ayo.llm(f"Summarize: {d}", max_tokens=3)
        found.append(out)

    await asyncio.gather(*(summarize(d) for d in docs))
    return sorted(found)


@ayo.workflow
async def seen_before_the_wait(q: str, docs: list[str]) -> list[str]:
    seen: set[str] = set()

    async def once(d: str) -> str:
        if d in seen:
            return "dup"
        seen.add(d)
        return await ayo.llm(f"About {d}", max_tokens=3)

    return await asyncio.gather(*(once(d) for d in [*docs, *docs]))


@ayo.workflow
async def two_agents_debate(q: str, docs: list[str]) -> tuple[list[str], list[str]]:
    pro, con = Agent("pro"), Agent("con")
    await asyncio.gather(pro.step(q), con.step(q))
    await asyncio.gather(pro.step("rebut"), con.step("rebut"))
    return pro.history, con.history


@ayo.workflow
async def each_item_its_own_agent(q: str, docs: list[str]) -> list[list[str]]:
    agents = [Agent(d) for d in docs]
    await asyncio.gather(*(a.step(q) for a in agents))
    return [a.history for a in agents]


@ayo.workflow
async def log_lines_on_both_sides(q: str, docs: list[str]) -> list[str]:
    async def summarize(d: str) -> str:
        log.debug("asking about %s", d)
        out = await ayo.llm(f"Summarize: {d}", max_tokens=3)
        log.debug("got %s", out)
        return out

    return await asyncio.gather(*(summarize(d) for d in docs))


@ayo.workflow
async def one_agent_awaited_in_turn(q: str, docs: list[str]) -> list[str]:
    agent = Agent("solo")
    for d in docs:
        await agent.step(d)
    return agent.history


@ayo.workflow
async def group_collects_after_the_wait(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []

    async def answer(d: str) -> None:
        out.append(await ayo.llm(f"{q}: {d}", max_tokens=3))

    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(answer(d)) for d in docs]
    return [*sorted(out), str(len(tasks))]


@ayo.workflow
async def fields_apart_on_each_side(q: str, docs: list[str]) -> tuple[int, list[str]]:
    bot = Counted()
    await asyncio.gather(*(bot.ask(f"{q} {d}") for d in docs))
    return bot.turns, sorted(bot.replies)


@ayo.workflow
async def each_record_filled_by_its_own_call(q: str, docs: list[str]) -> list[dict[str, object]]:
    records = [{"doc": d} for d in docs]

    async def fill(r: dict[str, object]) -> None:
        r["asked"] = len(records)
        r["answer"] = await ayo.llm(f"About {r['doc']}", max_tokens=3)
        r["done"] = "answer" in r

    coros = []
    for r in records:
        coros.append(fill(r))
    await asyncio.gather(*coros)
    return records


@ayo.workflow
async def a_new_list_for_each_call(q: str, docs: list[str]) -> tuple[list[str], list[list[str]]]:
    async def collect(d: str, into: list[str]) -> list[str]:
        into.append(d)
        into.append(await ayo.llm(f"About {d}", max_tokens=3))
        return into

    first = await collect(q, [])
    again = await collect(q, [])
    return first + again, await asyncio.gather(*(collect(d, []) for d in docs))


TRACED = [
    a_new_list_for_each_call,
    each_record_filled_by_its_own_call,
    fields_apart_on_each_side,
    results_appended_as_they_come,
    seen_before_the_wait,
    two_agents_debate,
    each_item_its_own_agent,
    log_lines_on_both_sides,
    one_agent_awaited_in_turn,
    group_collects_after_the_wait,
]


# --- refused: the graph's order would give another answer ----------------------------------------


@ayo.workflow
async def one_agent_gathered(q: str, docs: list[str]) -> list[str]:
    agent = Agent("solo")
    await asyncio.gather(agent.step(q), agent.step("again"))
    return agent.history  # Python: both questions, then both replies


@ayo.workflow
async def cache_looked_up_before_filled_after(q: str, docs: list[str]) -> list[str]:
    cache: dict[str, str] = {}

    async def cached(d: str) -> str:
        if d in cache:
            return cache[d]
        out = await ayo.llm(f"About {d}", max_tokens=3)
        cache[d] = out
        return out

    return await asyncio.gather(*(cached(d) for d in [q, q]))


@ayo.workflow
async def counter_read_after_the_wait(q: str, docs: list[str]) -> list[int]:
    started = [0]
    seen: list[int] = []

    async def ask(d: str) -> None:
        started[0] += 1
        await ayo.llm(d, max_tokens=3)
        seen.append(started[0])

    await asyncio.gather(ask(q), ask(q + "?"))
    return seen


@ayo.workflow
async def through_a_helper_it_awaits(q: str, docs: list[str]) -> list[str]:
    notes: list[str] = []

    async def ask(d: str) -> str:
        notes.append(f"ask {d}")
        return await ayo.llm(d, max_tokens=3)

    async def step(d: str) -> str:
        out = await ask(d)
        notes.append(f"done {d}: {len(notes)}")
        return out

    await asyncio.gather(step(q), step(q + "!"))
    return notes


@ayo.workflow
async def in_a_task_group(q: str, docs: list[str]) -> list[str]:
    agent = Agent("grouped")
    async with asyncio.TaskGroup() as tg:
        tg.create_task(agent.step(q))
        tg.create_task(agent.step("more"))
    return agent.history


@ayo.workflow
async def a_list_of_tasks(q: str, docs: list[str]) -> list[int]:
    counts = {"n": 0}
    seen: list[int] = []

    async def ask(d: str) -> None:
        counts["n"] += 1
        await ayo.llm(d, max_tokens=3)
        seen.append(counts["n"])

    tasks = [asyncio.create_task(ask(d)) for d in docs]
    await asyncio.gather(*tasks)
    return seen


@ayo.workflow
async def a_list_grown_in_a_loop(q: str, docs: list[str]) -> list[int]:
    counts = {"n": 0}
    seen: list[int] = []

    async def ask(d: str) -> None:
        counts["n"] += 1
        await ayo.llm(d, max_tokens=3)
        seen.append(counts["n"])

    coros = []
    for d in docs:
        coros.append(ask(d))
    await asyncio.gather(*coros)
    return seen


NOTES: list[str] = []


@ayo.workflow
async def noted(text: str) -> str:
    NOTES.append(f"asked {text}")
    reply = await ayo.llm(f"Note {text}", max_tokens=3)
    NOTES.append(f"noted {len(NOTES)}")
    return reply


@ayo.workflow
async def nested_workflows_gathered(q: str, docs: list[str]) -> list[str]:
    NOTES.clear()  # (each run its own notes)
    await asyncio.gather(noted(q), noted(q + "?"))
    return list(NOTES)


async def _answer_in_rounds(d: str, out: list[str]) -> None:
    for i in range(2):
        await ayo.llm(f"Round {i}: {d}", max_tokens=3)
    out.append(d)


@ayo.workflow
async def through_a_helper_looping_over_waits(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []

    async def step(d: str) -> None:
        out.append("start")
        await _answer_in_rounds(d, out)

    await asyncio.gather(step(q), step(q + "!"))
    return out  # Python: start, start, then each answer


# a gather or task group of calls made right there: it runs eagerly, as a graph break
EAGER = [
    through_a_helper_looping_over_waits,
    nested_workflows_gathered,
    one_agent_gathered,
    cache_looked_up_before_filled_after,
    counter_read_after_the_wait,
    through_a_helper_it_awaits,
    in_a_task_group,
]
# calls made before the statement awaiting them (a list of coroutines built in a loop): refused
REFUSED = [a_list_grown_in_a_loop]
# a list of tasks: Python's tasks, made as written (it was refused at its gather)
PYTHONS_TASKS = [a_list_of_tasks]


# changes made by calls rather than by a method of the object: a counter's `next`, the standard
# library's functions that change their argument, a function of the user's changing its argument,
# a bound method or a callable object kept in a name, a file written by `print`


def _note(into: list[str], text: str) -> None:
    into.append(text)


class _Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def __call__(self, event: str) -> None:
        self.events.append(event)


@ayo.workflow
async def ids_drawn_on_both_sides(q: str, docs: list[str]) -> list[tuple[int, int]]:
    ids = itertools.count()

    async def one(d: str) -> tuple[int, int]:
        first = next(ids)
        await ayo.llm(d, max_tokens=2)
        return first, next(ids)

    return list(await asyncio.gather(one(q), one(q + "!")))


@ayo.workflow
async def heap_pushed_then_popped(q: str, docs: list[str]) -> list[str]:
    heap: list[str] = []

    async def one(d: str) -> str:
        heapq.heappush(heap, d)
        await ayo.llm(d, max_tokens=2)
        return heapq.heappop(heap)

    return list(await asyncio.gather(one("b " + q), one("a " + q)))


@ayo.workflow
async def noted_by_a_function_of_the_module(q: str, docs: list[str]) -> list[str]:
    events: list[str] = []

    async def one(d: str) -> None:
        _note(events, "start " + d)
        await ayo.llm(d, max_tokens=2)
        _note(events, "end " + d)

    await asyncio.gather(one(q), one(q + "!"))
    return events


@ayo.workflow
async def noted_through_a_bound_method(q: str, docs: list[str]) -> list[str]:
    events: list[str] = []
    add = events.append

    async def one(d: str) -> None:
        add("start " + d)
        await ayo.llm(d, max_tokens=2)
        add("end " + d)

    await asyncio.gather(one(q), one(q + "!"))
    return events


@ayo.workflow
async def noted_by_a_callable_object(q: str, docs: list[str]) -> list[str]:
    rec = _Recorder()

    async def one(d: str) -> None:
        rec("start " + d)
        await ayo.llm(d, max_tokens=2)
        rec("end " + d)

    await asyncio.gather(one(q), one(q + "!"))
    return rec.events


@ayo.workflow
async def printed_to_a_buffer(q: str, docs: list[str]) -> str:
    buf = io.StringIO()

    async def one(d: str) -> None:
        print("start", d, file=buf)
        await ayo.llm(d, max_tokens=2)
        print("end", d, file=buf)

    await asyncio.gather(one(q), one(q + "!"))
    return buf.getvalue()


EAGER += [
    ids_drawn_on_both_sides,
    heap_pushed_then_popped,
    noted_by_a_function_of_the_module,
    noted_through_a_bound_method,
    noted_by_a_callable_object,
    printed_to_a_buffer,
]


@ayo.workflow
async def ids_drawn_before_the_wait(q: str, docs: list[str]) -> list[tuple[int, str]]:
    ids = itertools.count()

    async def one(d: str) -> tuple[int, str]:
        n = next(ids)
        return n, await ayo.llm(d, max_tokens=2)

    return list(await asyncio.gather(*(one(d) for d in docs)))


@ayo.workflow
async def answers_pushed_through_a_bound_method(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    push = out.append

    async def one(d: str) -> None:
        push(await ayo.llm(d, max_tokens=2))

    await asyncio.gather(*(one(d) for d in docs if "FAIL" not in d))
    return sorted(out)


@ayo.workflow
async def inserted_in_order_after_the_wait(q: str, docs: list[str]) -> list[str]:
    ranked: list[str] = []

    async def one(d: str) -> None:
        r = await ayo.llm(d, max_tokens=2)
        bisect.insort(ranked, r + d)

    await asyncio.gather(*(one(d) for d in docs if "FAIL" not in d))
    return ranked


TRACED += [ids_drawn_before_the_wait, answers_pushed_through_a_bound_method, inserted_in_order_after_the_wait]


async def _ingest_then_search(q: str, d: str) -> list[str]:
    await ayo.ingest([d], collection="interleaved_kb")
    return [h.text for h in await ayo.search(f"{q} {d}", collection="interleaved_kb", top_k=3)]


@ayo.workflow
async def each_call_ingests_then_searches_one_collection(q: str, docs: list[str]) -> list[list[str]]:
    return list(await asyncio.gather(*(_ingest_then_search(q, d) for d in docs)))


EAGER += [each_call_ingests_then_searches_one_collection]


@ayo.workflow
async def searches_of_one_collection_gathered(q: str, docs: list[str]) -> list[list[str]]:
    await ayo.ingest(docs or ["none"], collection="interleaved_kb2")
    return list(
        await asyncio.gather(*(ayo.search(d or q, collection="interleaved_kb2", top_k=2) for d in docs))
    )


TRACED += [searches_of_one_collection_gathered]


# the object reached through a name the helper binds to it (`h = self.history`, `lg = state["log"]`)


class AliasingBot:
    def __init__(self) -> None:
        self.history: list[str] = []
        self.name = "bot"

    async def step(self, d: str) -> int:
        h, name = self.history, self.name
        h.append(f"{name} {d}")
        await ayo.llm(d, max_tokens=2)
        return len(self.history)  # Python: every call's note, the graph's: the notes so far


@ayo.workflow
async def history_changed_through_a_local_name(q: str, docs: list[str]) -> list[int]:
    bot = AliasingBot()
    return list(await asyncio.gather(*(bot.step(d) for d in [q, *docs])))


@ayo.workflow
async def item_changed_through_a_local_name(q: str, docs: list[str]) -> list[int]:
    state: dict[str, list[str]] = {"log": []}

    async def work(d: str) -> int:
        lg = state["log"]
        lg.append(d)
        await ayo.llm(d, max_tokens=2)
        return len(lg)

    return list(await asyncio.gather(*(work(d) for d in [q, *docs])))


EAGER += [history_changed_through_a_local_name, item_changed_through_a_local_name]


# a change before the first wait, seen after a failed gather (caught, or outside the workflow):
# Python runs every call up to its first wait before any fails, the graph stops at the failing one


@ayo.workflow
async def started_calls_counted_in_a_try(q: str, docs: list[str]) -> tuple[int, list[str]]:
    started: list[str] = []

    async def work(d: str) -> str:
        started.append(d)
        return await ayo.llm(f"Sum: {d}", max_tokens=2)

    try:  # noqa: SIM105 (as people write it)
        await asyncio.gather(*[work(d) for d in docs])
    except ayo.EngineError:
        pass
    return len(started), started


@ayo.workflow
async def each_call_ingests_first(q: str, docs: list[str]) -> list[str]:
    async def work(d: str) -> str:
        await ayo.ingest([d], collection="started_kb")
        return await ayo.llm(f"About {d}", max_tokens=2)

    try:  # noqa: SIM105 (as people write it)
        await asyncio.gather(*(work(d) for d in docs), work(q))
    except ayo.EngineError:
        pass
    return sorted(h.text for h in await ayo.search(q, collection="started_kb", top_k=10))


@ayo.workflow
async def argument_noted_before_the_wait(q: str, docs: list[str]) -> list[str]:
    seen: list[str] = []

    async def work(d: str) -> str:
        seen.append(d)  # (a list of the workflow's: seen only if the failure is caught)
        return await ayo.llm(d, max_tokens=2)

    return await asyncio.gather(*map(work, docs)) + seen


STARTED = [started_calls_counted_in_a_try, each_call_ingests_first]
STARTED_UNSEEN = [argument_noted_before_the_wait]  # (traced whole: a failure fails the workflow)


@ayo.workflow
async def started_tasks_gathered_later(q: str, docs: list[str]) -> list[str]:
    started: list[str] = []

    async def work(d: str) -> str:
        started.append(d)
        return await ayo.llm(d, max_tokens=2)

    coros = [work(d) for d in docs]  # (made before the statement that awaits them)
    try:  # noqa: SIM105 (as people write it)
        await asyncio.gather(*coros)
    except ayo.EngineError:
        pass
    return started
