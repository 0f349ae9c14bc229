"""Workflows whose own functions change the workflow's variables with ``nonlocal``, as people write
them: a counter of calls, a running total of tokens, the best answer so far, a budget, a history
rebuilt, failures counted in a handler (``test_nonlocal.py``). Each takes ``(q, docs)``."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo


@ayo.workflow
async def counter_of_sequential_calls(q: str, docs: list[str]) -> tuple[str, int]:
    calls = 0

    async def ask(prompt: str) -> str:
        nonlocal calls
        calls += 1
        return await ayo.llm(prompt, max_tokens=3)

    plan = await ask(f"Plan: {q}")
    answer = await ask(f"Answer {q} with {plan}")
    return answer, calls


@ayo.workflow
async def counter_of_gathered_calls(q: str, docs: list[str]) -> tuple[list[str], int]:
    calls = 0

    async def summarize(d: str) -> str:
        nonlocal calls
        calls += 1
        return await ayo.llm(f"Summarize for {q}: {d}", max_tokens=3)

    summaries = await asyncio.gather(*(summarize(d) for d in docs))
    return summaries, calls


@ayo.workflow
async def total_after_each_call_in_a_loop(q: str, docs: list[str]) -> int:
    total = 0

    async def ask(prompt: str) -> str:
        nonlocal total
        out = await ayo.llm(prompt, max_tokens=4)
        total += len(out.split())
        return out

    for d in docs:
        await ask(f"{q}: {d}")
    return total


@ayo.workflow
async def total_after_each_gathered_call(q: str, docs: list[str]) -> tuple[int, list[str]]:
    total = 0

    async def ask(prompt: str) -> str:
        nonlocal total
        out = await ayo.llm(prompt, max_tokens=4)
        total += len(out)
        return out

    outs = await asyncio.gather(*[ask(f"{q}: {d}") for d in docs])
    return total, outs


@ayo.workflow
async def plain_function_bumps_a_counter(q: str, docs: list[str]) -> tuple[str, int]:
    steps = 0

    def bump() -> None:
        nonlocal steps
        steps += 1

    bump()
    answer = await ayo.llm(f"Answer: {q}", max_tokens=3)
    for _ in docs:
        bump()
    return answer, steps


@ayo.workflow
async def plain_function_adds_each_answer(q: str, docs: list[str]) -> int:
    total = 0

    def add(n: int) -> None:
        nonlocal total
        total += n

    for d in docs:
        add(len(await ayo.llm(d, max_tokens=2)))
    return total


@ayo.workflow
async def best_answer_so_far(q: str, docs: list[str]) -> tuple[int, str]:
    best = -1
    best_doc = ""

    async def grade(d: str) -> None:
        nonlocal best, best_doc
        out = await ayo.llm(f"Grade {d} for {q}", max_tokens=4)
        if len(out) + len(d) > best:
            best = len(out) + len(d)
            best_doc = d

    for d in docs:
        await grade(d)
    return best, best_doc


@ayo.workflow
async def history_rebuilt(q: str, docs: list[str]) -> tuple[str, list[str]]:
    history: list[str] = []

    async def turn(text: str) -> str:
        nonlocal history
        history = [*history, text]
        reply = await ayo.llm("\n".join(history), max_tokens=3)
        history = [*history, reply]
        return reply

    await turn(q)
    last = await turn(f"And {len(docs)} more?")
    return last, history


@ayo.workflow
async def parameter_rewritten(q: str, docs: list[str]) -> str:
    rounds = len(docs)

    async def refine() -> None:
        nonlocal q
        q = await ayo.llm(f"Rewrite: {q}", max_tokens=3)

    for _ in range(min(rounds, 2)):
        await refine()
    return await ayo.llm(f"Answer: {q}", max_tokens=3)


@ayo.workflow
async def parameter_spent_by_a_helper_defined_first(
    q: str, docs: list[str], budget: int = 2
) -> tuple[list[str], int]:
    async def spend(p: str) -> str:
        nonlocal budget
        budget -= 1
        return await ayo.llm(p, max_tokens=3)

    outs = []
    while budget > 0:
        outs.append(await spend(f"{budget} {q}"))
    return outs, budget


@ayo.workflow
async def budget_in_a_while_loop(q: str, docs: list[str]) -> tuple[int, str]:
    budget = 3
    out = ""

    async def ask(prompt: str) -> str:
        nonlocal budget
        budget -= 1
        return await ayo.llm(prompt, max_tokens=3)

    while budget > 0 and "stop" not in out:
        out = await ask(f"Try {budget}: {q}")
    return budget, out


@ayo.workflow
async def read_in_a_comprehension_and_a_prompt(q: str, docs: list[str]) -> list[str]:
    n = 0

    async def ask(d: str) -> str:
        nonlocal n
        n += 1
        return await ayo.llm(f"#{n} {d}", max_tokens=3)

    first = await ask(q)
    labels = [f"{n}:{d}" for d in docs]
    return [first, *labels]


@ayo.workflow
async def helpers_calling_helpers(q: str, docs: list[str]) -> tuple[str, int]:
    calls = 0

    async def ask(prompt: str) -> str:
        nonlocal calls
        calls += 1
        return await ayo.llm(prompt, max_tokens=3)

    async def answer(question: str) -> str:
        nonlocal calls
        calls += 10
        hint = await ask(f"Hint: {question}")
        return await ask(f"Answer {question} with {hint}")

    return await answer(q), calls


@ayo.workflow
async def failures_counted_in_a_handler(q: str, docs: list[str]) -> tuple[list[str], int]:
    failures = 0

    async def safe(prompt: str) -> str:
        nonlocal failures
        try:
            return await ayo.llm(prompt, max_tokens=3)
        except Exception:
            failures += 1
            return ""

    outs = []
    for d in [q, *docs]:
        outs.append(await safe(d))
    return outs, failures


@ayo.workflow
async def annotated_and_reset(q: str, docs: list[str]) -> tuple[int, int, str]:
    calls: int = 0

    async def ask(prompt: str) -> str:
        nonlocal calls
        calls += 1
        return await ayo.llm(prompt, max_tokens=3)

    await ask(q)
    first = calls
    calls = 0
    out = await ask(f"Again: {q}")
    return first, calls, out


@ayo.workflow
async def counter_of_tasks_in_a_group(q: str, docs: list[str]) -> tuple[int, list[str]]:
    started = 0

    async def summarize(d: str) -> str:
        nonlocal started
        started += 1
        return await ayo.llm(f"Summarize: {d}", max_tokens=3)

    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(summarize(d)) for d in docs]
    return started, [t.result() for t in tasks]


WORKFLOWS = [
    counter_of_sequential_calls,
    counter_of_gathered_calls,
    total_after_each_call_in_a_loop,
    total_after_each_gathered_call,
    plain_function_bumps_a_counter,
    plain_function_adds_each_answer,
    best_answer_so_far,
    history_rebuilt,
    parameter_rewritten,
    parameter_spent_by_a_helper_defined_first,
    budget_in_a_while_loop,
    read_in_a_comprehension_and_a_prompt,
    helpers_calling_helpers,
    failures_counted_in_a_handler,
    annotated_and_reset,
    counter_of_tasks_in_a_group,
]


# --- still refused ---------------------------------------------------------------------------------


@ayo.workflow
async def read_before_and_after_a_gathered_wait(q: str, docs: list[str]) -> list[int]:
    calls = 0
    seen: list[int] = []

    async def ask(d: str) -> str:
        nonlocal calls
        calls += 1
        out = await ayo.llm(d, max_tokens=3)
        seen.append(calls)  # Python: every call's count, the graph's: the count so far
        return out

    await asyncio.gather(*(ask(d) for d in docs))
    return seen


@ayo.workflow
async def defined_before_the_variable(q: str, docs: list[str]) -> int:
    async def ask(prompt: str) -> str:
        nonlocal calls
        calls += 1
        return await ayo.llm(prompt, max_tokens=3)

    calls = 0
    await ask(q)
    return calls


def make_counting_workflow() -> ayo.Workflow:
    made = 0

    @ayo.workflow
    async def counted(q: str, docs: list[str]) -> str:
        nonlocal made
        made += 1
        return await ayo.llm(q, max_tokens=3)

    return counted


REFUSED = [defined_before_the_variable, make_counting_workflow()]
