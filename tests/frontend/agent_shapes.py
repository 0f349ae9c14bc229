"""Agent, tool and concurrency shapes found by writing workflows the way application code is
written, for ``test_agent_shapes.py``: each was refused, crashed the tracer or answered otherwise
than eager code before its rule was fixed."""

from __future__ import annotations

import asyncio

import ayo_trace as ayo

FAILED: list[str] = []


async def ask(p: str) -> str:
    return await ayo.llm(p, max_tokens=4)


@ayo.workflow
async def error_names_after_a_loop(q: str, docs: list[str]) -> list[str]:
    errors = []
    for d in docs:
        try:
            await ask(d)
        except ayo.EngineError as e:
            errors.append(e)
    return [type(e).__name__ for e in errors]  # (the comprehension's own `e`)


@ayo.workflow
async def a_helper_of_its_own_named_e(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        try:
            out.append(await ask(f"v {d}"))
        except Exception as e:  # noqa: F841
            out.append("E")
    return [e.upper() for e in out]


async def tool_with_timeout(x: str) -> str:
    async with asyncio.timeout(30):
        return await ask(x)


@ayo.workflow
async def tool_with_a_timeout_in_an_fstring(q: str, docs: list[str]) -> str:
    return f"answer: {await tool_with_timeout(q)} ({len(await tool_with_timeout(q + '?'))})"


@ayo.workflow
async def a_named_task(q: str, docs: list[str]) -> tuple[str, int]:
    task = asyncio.create_task(ask(q), name="main")
    n = len(docs)
    return await task, n


async def collect(d: str) -> str | None:
    try:
        return await ask(d)
    except ayo.EngineError:
        FAILED.append(d)
        return None


@ayo.workflow
async def gathered_helpers_collect_failures(q: str, docs: list[str]) -> object:
    FAILED.clear()
    answers = await asyncio.gather(*(collect(d) for d in docs))
    return answers, sorted(FAILED)


@ayo.workflow
async def local_helpers_collect_failures(q: str, docs: list[str]) -> object:
    bad: list[str] = []
    counts = {"ok": 0}

    async def one(d: str) -> str | None:
        try:
            r = await ask(d)
        except ayo.EngineError:
            bad.append(d)
            return None
        else:
            counts["ok"] += 1
            return r

    answers = await asyncio.gather(*(one(d) for d in docs))
    return answers, sorted(bad), counts


@ayo.workflow
async def a_statement_whose_value_nothing_reads(q: str, docs: list[str]) -> str:
    r = await ask(f"x {q}")
    first = docs[0]  # noqa: F841  (eagerly: IndexError for no docs, read or not)
    return r


@ayo.workflow
async def a_parse_whose_value_nothing_reads(q: str, docs: list[str]) -> str:
    r = await ask(q)
    n = int(r.strip()[-1]) if docs else 0  # noqa: F841
    return r


class Tally:
    last, n = "", 0


@ayo.workflow
async def tuple_target_sets_attributes(q: str, docs: list[str]) -> tuple[str, int]:
    st = Tally()
    for d in docs:
        r = await ask(f"c {d}")
        st.last, st.n = r, st.n + 1
    return st.last, st.n


@ayo.workflow
async def closure_cell_set_by_a_tuple_target(q: str, docs: list[str]) -> int:
    n = 0

    def bump(text: str) -> None:
        nonlocal n
        n, _ = n + 1, text

    for d in docs:
        bump(await ask(f"c {d}"))
    return n


@ayo.workflow
async def local_helper_loop_extends_the_workflows_list(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []

    async def fill() -> None:
        for d in docs:
            out.append(await ask(f"n {d}"))

    await fill()
    return out


async def fill_given(out: list[str], docs: list[str]) -> None:
    for d in docs:
        out.append(await ask(f"f {d}"))


async def own_list(docs: list[str]) -> list[str]:
    mine = []
    for d in docs:
        mine.append(await ask(f"o {d}"))
    return mine


@ayo.workflow
async def helper_loop_in_a_try_keeps_its_progress(q: str, docs: list[str]) -> list[str]:
    out: list[str] = []
    try:
        await fill_given(out, docs)
    except ayo.EngineError:
        out.append("failed")
    return out


@ayo.workflow
async def helper_loop_of_its_own_list_in_a_try(q: str, docs: list[str]) -> list[str]:
    try:
        return await own_list(docs)  # (its own list: traced, no graph break)
    except ayo.EngineError:
        return ["failed"]


@ayo.workflow
async def a_handler_that_returns(q: str, docs: list[str]) -> object:
    try:
        r = await ask(f"z {q}")
        n = len(r) + len(docs[0])
    except (ayo.EngineError, IndexError):
        return "err"
    return r, n


class IdGen:
    def __init__(self) -> None:
        self.i = 0

    def next_id(self) -> int:
        self.i += 1
        return self.i


class Agent:
    def __init__(self) -> None:
        self.memory: list[str] = []

    async def step(self, q: str) -> str:
        r = await ayo.llm(f"{q} {len(self.memory)}", max_tokens=4)
        self.memory.append(r)
        return r[-2:]


@ayo.workflow
async def a_call_left_of_an_await_changes_what_it_reads(q: str, docs: list[str]) -> object:
    gen = IdGen()
    res = [(gen.next_id(), (await ask(f"{gen.i} {d}"))[-2:]) for d in docs]
    return res, gen.i


@ayo.workflow
async def a_read_left_of_an_awaited_method_that_changes_it(q: str, docs: list[str]) -> list[str]:
    agent = Agent()
    lines = []
    for d in docs:
        lines.append(f"turn {len(agent.memory)}: {await agent.step(d)}")
    return lines


@ayo.workflow
async def continue_with_a_finally_that_logs(q: str, docs: list[str]) -> object:
    good, log = [], []
    for d in docs:
        try:
            r = await ask(d)
        except ayo.EngineError:
            continue
        finally:
            log.append(d)
        good.append(r[-1])
    return good, log


@ayo.workflow
async def break_with_a_finally_that_counts(q: str, docs: list[str]) -> object:
    n = 0
    found = None
    for d in docs:
        try:
            r = await ask(d)
            if r[-1] in "0123":
                found = d
                break
        except ayo.EngineError:
            continue
        finally:
            n += 1
    return found, n


SHAPES = [
    continue_with_a_finally_that_logs,
    break_with_a_finally_that_counts,
    a_call_left_of_an_await_changes_what_it_reads,
    a_read_left_of_an_awaited_method_that_changes_it,
    a_handler_that_returns,
    tuple_target_sets_attributes,
    closure_cell_set_by_a_tuple_target,
    local_helper_loop_extends_the_workflows_list,
    helper_loop_in_a_try_keeps_its_progress,
    helper_loop_of_its_own_list_in_a_try,
    error_names_after_a_loop,
    a_helper_of_its_own_named_e,
    tool_with_a_timeout_in_an_fstring,
    a_named_task,
    gathered_helpers_collect_failures,
    local_helpers_collect_failures,
    a_statement_whose_value_nothing_reads,
    a_parse_whose_value_nothing_reads,
]


@ayo.workflow
async def a_guard_awaiting_in_a_loops_match(q: str, docs: list[str]) -> list[str]:
    out = []
    for d in docs:
        match d.split():
            case [w] if "a" in await ask(w):
                break
            case _:
                out.append(d)
    return out


REFUSED = [a_guard_awaiting_in_a_loops_match]


# --- module state changed through a member: read when the graph runs, query after query ------------


class Holder:
    def __init__(self) -> None:
        self.items: list[str] = []


HOLDER = Holder()


class Registry:
    names: list[str] = []  # noqa: RUF012  (a class-level list, on purpose)


def counted() -> None:
    pass


counted.calls = 0  # type: ignore[attr-defined]


class Stats:
    def __init__(self) -> None:
        self.n, self.last = 0, ""

    def record(self, r: str) -> None:
        self.n, self.last = self.n + 1, r


STATS = Stats()


@ayo.workflow
async def module_objects_list_appended(q: str, docs: list[str]) -> str:
    HOLDER.items.append(q)
    return await ayo.llm(f"{len(HOLDER.items)} {q}", max_tokens=4)


@ayo.workflow
async def class_attribute_list_appended(q: str, docs: list[str]) -> str:
    Registry.names.append(q)
    return await ayo.llm(f"{len(Registry.names)} {q}", max_tokens=4)


@ayo.workflow
async def function_attribute_counter(q: str, docs: list[str]) -> str:
    counted.calls += 1  # type: ignore[attr-defined]
    return await ayo.llm(f"{counted.calls} {q}", max_tokens=4)  # type: ignore[attr-defined]


@ayo.workflow
async def method_sets_a_tuple_of_fields(q: str, docs: list[str]) -> tuple[int, str]:
    r = await ask(q)
    STATS.record(r[-2:])
    return STATS.n, STATS.last


class Roster:
    names: list[str] = []  # noqa: RUF012  (a class-level list, on purpose)

    @staticmethod
    def add(name: str) -> None:
        Roster.names.append(name)


class Guestbook:
    names: list[str] = []  # noqa: RUF012  (a class-level list, on purpose)

    @classmethod
    def sign(cls, name: str) -> None:
        cls.names.append(name)


PAIR: tuple[list[str], int] = ([], 0)


@ayo.workflow
async def a_static_method_appends_to_the_class(q: str, docs: list[str]) -> str:
    Roster.add(q)
    return await ayo.llm(f"{len(Roster.names)} {q}", max_tokens=4)


@ayo.workflow
async def a_class_method_appends_to_its_class(q: str, docs: list[str]) -> str:
    Guestbook.sign(q)
    return await ayo.llm(f"{Guestbook.names} {q}", max_tokens=4) + str(len(Guestbook.names))


@ayo.workflow
async def a_list_held_in_a_module_tuple(q: str, docs: list[str]) -> str:
    PAIR[0].append(q)
    return await ayo.llm(f"{len(PAIR[0])} {q}", max_tokens=4)


async def ask_remembering(q: str, history: list[str] = []) -> str:  # noqa: B006  (on purpose)
    r = await ayo.llm(f"{len(history)} {q}", max_tokens=4)
    history.append(q)
    return r


@ayo.workflow
async def a_helpers_mutable_default_keeps_state(q: str, docs: list[str]) -> str:
    return await ask_remembering(q)


def reset() -> None:
    ask_remembering.__defaults__[0].clear()  # type: ignore[index]
    Roster.names.clear()
    Guestbook.names.clear()
    PAIR[0].clear()
    HOLDER.items.clear()
    Registry.names.clear()
    counted.calls = 0  # type: ignore[attr-defined]
    STATS.n, STATS.last = 0, ""


STATEFUL = [
    a_helpers_mutable_default_keeps_state,
    a_static_method_appends_to_the_class,
    a_class_method_appends_to_its_class,
    a_list_held_in_a_module_tuple,
    module_objects_list_appended,
    class_attribute_list_appended,
    function_attribute_counter,
    method_sets_a_tuple_of_fields,
]
