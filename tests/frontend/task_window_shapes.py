"""Tasks made now and awaited later (``test_task_windows.py``). Python starts a task only when the
workflow next waits, then runs the two in turns at their awaits; the graph runs the task's call
where the task is made. ``TRACED`` are the shapes where the two agree (the task and the workflow's
statements meanwhile touch different objects, or the workflow touches the shared one only after
awaiting the task; a list of tasks gathered with no wait before the gather, which the graph runs
there); ``AS_WRITTEN`` those where they do not, run from the task's statement to the one awaiting it
as written (they were refused). Each takes ``(q, docs)``."""

from __future__ import annotations

import asyncio
import json
import logging
import random

import ayo_trace as ayo


async def summarize(text: str) -> str:
    return await ayo.llm(f"summarize: {text}", max_tokens=3)


async def noted(text: str, notes: list[str]) -> str:
    notes.append(f"start {text}")
    reply = await ayo.llm(f"note: {text}", max_tokens=3)
    notes.append(f"done {text}")
    return reply


async def recorded(text: str, out: list[str]) -> str:
    reply = await ayo.llm(f"record: {text}", max_tokens=3)
    out.append(reply)
    return reply


async def started(text: str, out: list[str]) -> str:
    out.append(f"start {text}")
    return await ayo.llm(f"start: {text}", max_tokens=3)


# --- traced -----------------------------------------------------------------------------------


@ayo.workflow
async def draft_while_summarizing(q: str, docs: list[str]) -> tuple[str, str]:
    summary = asyncio.create_task(summarize(q))
    draft = await ayo.llm(f"draft: {q}", max_tokens=3)
    return draft, await summary


@ayo.workflow
async def shared_list_touched_after_the_await(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    task = asyncio.create_task(recorded(q, out))
    head = await ayo.llm(f"head: {q}", max_tokens=3)
    await task
    out.append(head)
    return out


@ayo.workflow
async def appended_as_awaited(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    task = asyncio.create_task(summarize(q))
    out.append(await task)
    return out


@ayo.workflow
async def task_per_item_awaited_in_a_loop(q: str, docs: list[str]) -> list[str]:
    tasks = [asyncio.create_task(summarize(d)) for d in docs]
    out = []
    for t in tasks:
        out.append(await t)
    return out


@ayo.workflow
async def tasks_then_other_work_then_gather(q: str, docs: list[str]) -> tuple[str, list[str]]:
    tasks = [asyncio.create_task(summarize(d)) for d in docs]
    head = await ayo.llm(f"head: {q}", max_tokens=3)
    return head, list(await asyncio.gather(*tasks))


@ayo.workflow
async def shared_list_before_any_wait(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    tasks = [asyncio.create_task(started(d, out)) for d in docs]
    out.append("all made")  # (before any task starts, in both)
    await asyncio.gather(*tasks)
    return out


@ayo.workflow
async def task_made_and_awaited_per_turn(q: str, docs: list[str]) -> list[str]:
    notes: list[str] = []
    for d in docs:
        task = asyncio.create_task(noted(d, notes))
        await task
    return notes


@ayo.workflow
async def two_tasks_on_their_own_lists(q: str, docs: list[str]) -> tuple[list[str], list[str]]:
    a: list[str] = []
    b: list[str] = []
    first = asyncio.create_task(noted(q, a))
    second = asyncio.create_task(noted(q + "!", b))
    await first
    await second
    return a, b


@ayo.workflow
async def group_with_plain_lines(q: str, docs: list[str]) -> tuple[str, str, int]:
    async with asyncio.TaskGroup() as tg:
        one = tg.create_task(summarize(q))
        n = len(docs)
        two = tg.create_task(summarize(q + "?"))
    return one.result(), two.result(), n


@ayo.workflow
async def listed_tasks_then_other_work(q: str, docs: list[str]) -> tuple[str, list[str]]:
    out: list[str] = []
    tasks = [asyncio.create_task(recorded(q, out)), asyncio.create_task(summarize(q))]
    head = await ayo.llm(f"head: {q}", max_tokens=3)  # (the tasks start here in Python)
    return head, list(await asyncio.gather(*tasks))


@ayo.workflow
async def tasks_appended_in_a_loop_then_other_work(q: str, docs: list[str]) -> tuple[str, list[str]]:
    tasks = []
    for d in docs:
        tasks.append(asyncio.create_task(summarize(d)))
    head = await ayo.llm(f"head: {q}", max_tokens=3)  # (the tasks start here in Python)
    return head, list(await asyncio.gather(*tasks))


@ayo.workflow
async def shared_list_touched_before_the_first_wait(q: str, docs: list[str]) -> tuple[list[str], str]:
    out: list[str] = []
    tasks = [asyncio.create_task(started(d, out)) for d in docs]
    out.append("made")  # (before any task starts, in both)
    head = await ayo.llm(f"head: {q}", max_tokens=3)
    await asyncio.gather(*tasks)
    return out, head


# --- run as written from the task to its await (they were refused) ----------------------------


@ayo.workflow
async def note_between_making_and_awaiting(q: str, docs: list[str]) -> tuple[list[str], str]:
    notes: list[str] = []
    task = asyncio.create_task(noted(q, notes))
    notes.append("main")  # Python: before the task's first note
    return notes, await task


@ayo.workflow
async def note_after_another_wait(q: str, docs: list[str]) -> tuple[list[str], str, str]:
    notes: list[str] = []
    task = asyncio.create_task(noted(q, notes))
    other = await ayo.llm(f"other: {q}", max_tokens=3)
    notes.append("main")  # Python: between the task's two notes
    return notes, other, await task


@ayo.workflow
async def two_tasks_on_one_list(q: str, docs: list[str]) -> tuple[list[str], str, str]:
    notes: list[str] = []
    first = asyncio.create_task(noted(q, notes))
    second = asyncio.create_task(noted(q + "!", notes))
    return notes, await first, await second


@ayo.workflow
async def tasks_started_by_a_wait_before_the_gather(q: str, docs: list[str]) -> tuple[list[str], str]:
    out: list[str] = []
    tasks = [asyncio.create_task(started(d, out)) for d in docs]
    head = await ayo.llm(f"head: {q}", max_tokens=3)  # the tasks start here
    out.append("head")
    await asyncio.gather(*tasks)
    return out, head


@ayo.workflow
async def listed_tasks_then_a_note_after_a_wait(q: str, docs: list[str]) -> tuple[list[str], str]:
    out: list[str] = []
    tasks = [asyncio.create_task(recorded(q, out)), asyncio.create_task(summarize(q))]
    head = await ayo.llm(f"head: {q}", max_tokens=3)
    out.append(head)  # Python: before the first task's record
    await asyncio.gather(*tasks)
    return out, head


@ayo.workflow
async def dict_of_tasks_then_a_note(q: str, docs: list[str]) -> tuple[list[str], dict[str, str]]:
    out: list[str] = []
    tasks = {d: asyncio.create_task(recorded(d, out)) for d in docs}
    out.append("made")
    return out, {d: await t for d, t in tasks.items()}


@ayo.workflow
async def group_with_a_note_between_tasks(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    async with asyncio.TaskGroup() as tg:
        tg.create_task(recorded(q, out))
        out.append("between")  # Python: before either task starts
        tg.create_task(recorded(q + "?", out))
    return out


TRACED = [
    draft_while_summarizing,
    shared_list_touched_after_the_await,
    appended_as_awaited,
    task_per_item_awaited_in_a_loop,
    tasks_then_other_work_then_gather,
    shared_list_before_any_wait,
    task_made_and_awaited_per_turn,
    two_tasks_on_their_own_lists,
    group_with_plain_lines,
    tasks_appended_in_a_loop_then_other_work,
    listed_tasks_then_other_work,
    shared_list_touched_before_the_first_wait,
]
AS_WRITTEN = [
    note_between_making_and_awaiting,
    note_after_another_wait,
    two_tasks_on_one_list,
    tasks_started_by_a_wait_before_the_gather,
    dict_of_tasks_then_a_note,
    group_with_a_note_between_tasks,
]


# a primitive's task reads the objects it is given when it starts, at the workflow's next wait


@ayo.workflow
async def passages_grown_before_the_rerank_starts(q: str, docs: list[str]) -> list[str]:
    notes = list(docs) or ["base"]
    t = asyncio.create_task(ayo.rerank(q, notes, top_k=10))
    notes.append("late")
    return [r.text for r in await t]


@ayo.workflow
async def primitive_gathered_after_a_helper_changing_its_list(q: str, docs: list[str]) -> tuple[object, ...]:
    out = list(docs) or ["base"]

    async def grow() -> str:
        r = await ayo.llm(q, max_tokens=2)
        out.append(r)
        return r

    return tuple(await asyncio.gather(grow(), ayo.rerank(q, out, top_k=10)))


AS_WRITTEN += [passages_grown_before_the_rerank_starts]
# a gather making both calls itself: they interleave, so it runs eagerly, as a graph break
EAGER = [primitive_gathered_after_a_helper_changing_its_list]


@ayo.workflow
async def passages_grown_after_the_rerank(q: str, docs: list[str]) -> list[str]:
    out = list(docs) or ["base"]
    t = asyncio.create_task(ayo.rerank(q, out, top_k=10))
    ranked = [r.text for r in await t]
    out.append("late")
    return ranked + out


TRACED += [passages_grown_after_the_rerank]


# changes the workflow's reading of statements used to miss: `+=` on a list, a name handed to a
# call that may change it (a library method, a function the workflow defines)
async def shown(notes: list[str]) -> str:
    return await ayo.llm(f"notes: {notes}", max_tokens=3)


@ayo.workflow
async def notes_extended_in_place(q: str, docs: list[str]) -> str:
    notes = [q]
    t = asyncio.create_task(shown(notes))
    notes += docs
    return await t


@ayo.workflow
async def notes_shuffled_by_a_library(q: str, docs: list[str]) -> str:
    import random

    notes = list(docs)
    t = asyncio.create_task(shown(notes))
    random.Random(0).shuffle(notes)
    return await t


@ayo.workflow
async def notes_grown_by_a_local_function(q: str, docs: list[str]) -> str:
    notes = [q]

    def grow(xs: list[str]) -> None:
        xs.append("more")

    t = asyncio.create_task(shown(notes))
    grow(notes)
    return await t


def _grow(xs: list[str]) -> None:
    xs.append("more")


@ayo.workflow
async def listed_prompts_read_a_list_grown_later(q: str, docs: list[str]) -> list[str]:
    notes: list[str] = []
    tasks = [asyncio.create_task(ayo.llm(f"{d} {notes}", max_tokens=3)) for d in docs]
    _grow(notes)  # (Python formats each prompt where its task is made: before this)
    return await asyncio.gather(*tasks)


@ayo.workflow
async def count_bumped_meanwhile(q: str, docs: list[str]) -> tuple[str, int]:
    n = len(docs)
    t = asyncio.create_task(ayo.llm(f"{q} {n}", max_tokens=3))
    n += 1  # (a number: the task was handed its value)
    return await t, n


AS_WRITTEN += [notes_extended_in_place, notes_shuffled_by_a_library, notes_grown_by_a_local_function]
TRACED += [listed_prompts_read_a_list_grown_later, count_bumped_meanwhile]


LOG = logging.getLogger("tests.frontend.task_windows")


@ayo.workflow
async def notes_logged_and_dumped_meanwhile(q: str, docs: list[str]) -> tuple[str, str]:
    notes = list(docs)
    t = asyncio.create_task(shown(notes))
    LOG.info("notes: %s", notes)  # (a module's logger, `json.dumps`: they leave `notes` alone)
    text = json.dumps(notes)
    return await t, text


@ayo.workflow
async def notes_shuffled_by_the_random_module(q: str, docs: list[str]) -> str:
    notes = list(docs)
    t = asyncio.create_task(shown(notes))
    random.shuffle(notes)
    return await t


AS_WRITTEN += [notes_shuffled_by_the_random_module]
TRACED += [notes_logged_and_dumped_meanwhile]
