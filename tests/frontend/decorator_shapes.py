"""Helpers behind the user's own decorators (``functools.wraps`` wrappers), module-like objects
whose ``__call__`` forwards ``*args, **kwargs`` to ``forward``, and higher-order helpers given the
functions to call, for ``test_decorators.py``. A wrapper is traced as itself: it was read as the
function it wraps (``inspect`` follows ``__wrapped__``), so what it does around the call was lost
and a wrapper changing the result or the arguments gave a wrong answer at run time."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import ayo_trace as ayo

log = logging.getLogger("tests.decorators")

Fn = Callable[..., Awaitable[Any]]


def shouted(fn: Fn) -> Fn:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return (await fn(*args, **kwargs)).upper() + "!"

    return wrapper


def prefixed(prefix: str) -> Callable[[Fn], Fn]:
    def decorate(fn: Fn) -> Fn:
        @functools.wraps(fn)
        async def wrapper(text: str) -> Any:
            return await fn(prefix + text)

        return wrapper

    return decorate


def timed(fn: Fn) -> Fn:
    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return await fn(*args, **kwargs)
        finally:
            log.debug("%s took %.3f s", fn.__name__, time.perf_counter() - start)

    return wrapper


def retried(times: int) -> Callable[[Fn], Fn]:
    def decorate(fn: Fn) -> Fn:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            for attempt in range(times):
                try:
                    return await fn(*args, **kwargs)
                except ayo.EngineError:
                    if attempt == times - 1:
                        raise
            return None

        return wrapper

    return decorate


@shouted
async def ask(question: str, budget: int = 3) -> str:
    return await ayo.llm(f"Ask: {question}", max_tokens=budget)


@prefixed("About ")
async def about(text: str) -> str:
    return await ayo.llm(text, max_tokens=3)


@timed
async def retrieve(question: str, k: int = 2) -> list[str]:
    return [h.text for h in await ayo.search(question, collection="kb0", top_k=k)]


@retried(3)
async def robust(question: str) -> str:
    return await ayo.llm(f"Robust: {question}", max_tokens=2)


class Module:
    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return await self.forward(*args, **kwargs)


class Retrieve(Module):
    def __init__(self, k: int) -> None:
        self.k = k

    async def forward(self, question: str) -> list[str]:
        return [h.text for h in await ayo.search(question, collection="kb0", top_k=self.k)]


class Generate(Module):
    async def forward(self, **fields: str) -> str:
        return await ayo.llm("Context: {context}\nQ: {question}\nA:".format(**fields), max_tokens=3)


class Program(Module):
    def __init__(self) -> None:
        self.retrieve = Retrieve(k=2)
        self.generate = Generate()

    async def forward(self, question: str) -> str:
        context = await self.retrieve(question)
        return await self.generate(context=" | ".join(context), question=question)


PROGRAM = Program()


async def rewrite(text: str) -> str:
    return await ayo.llm(f"Rewrite: {text}", max_tokens=3)


async def compose(value: str, *steps: Fn) -> str:
    for step in steps:
        value = await step(value)
    return value


@ayo.workflow
async def result_changed(question: str) -> str:
    return await ask(question, budget=4)


@ayo.workflow
async def argument_changed(question: str) -> str:
    return await about(question)


@ayo.workflow
async def timed_helper(question: str) -> str:
    docs = await retrieve(question, k=1)
    return await ayo.llm(f"{docs[0]} {question}", max_tokens=2)


@ayo.workflow
async def retried_helper(question: str) -> str:
    return await robust(question)


@ayo.workflow
async def module_forwarding(question: str) -> str:
    return await PROGRAM(question)


@ayo.workflow
async def functions_passed_in(question: str) -> str:
    return await compose(question, rewrite, about)


@ayo.workflow
@timed
async def workflow_behind_a_decorator(question: str) -> str:
    docs = await retrieve(question, k=1)
    return await ayo.llm(f"{docs[0]} {question}", max_tokens=2)


@ayo.workflow
@shouted
async def workflow_whose_answer_a_decorator_changes(question: str, budget: int = 2) -> str:
    return await ayo.llm(question, max_tokens=budget)


ASK_ARGS = ("Known question", 2)


async def ask_plain(question: str, budget: int) -> str:
    return await ayo.llm(question, max_tokens=budget)


@ayo.workflow
async def helper_given_known_spreads(question: str) -> str:
    first = await ask_plain(*ASK_ARGS)
    return first + await ask_plain(question, **{"budget": 3})


@ayo.workflow
async def helper_given_a_run_time_spread(question: str) -> str:
    args = [question, len(question) % 3 + 1]
    return await ask_plain(*args)  # its items are not known one by one: a graph break


CASES = [
    helper_given_known_spreads,
    result_changed,
    argument_changed,
    timed_helper,
    retried_helper,
    module_forwarding,
    functions_passed_in,
    workflow_behind_a_decorator,
    workflow_whose_answer_a_decorator_changes,
]
