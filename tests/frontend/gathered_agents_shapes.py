"""Agents gathered by a comprehension over a list the workflow makes (``test_unrolled_objects``):
the calls run at once; where they share a board (the workflow's or the module's) they take turns on
it as Python runs them (a graph break), else each item's method is inlined."""

import asyncio

import ayo_trace as ayo

BOARD = []


class Agent:
    def __init__(self, name, board):
        self.name = name
        self.board = board

    async def speak(self, q):
        self.board.append(f"{self.name} starts")
        r = await ayo.llm(f"{self.name}: {q}", max_tokens=3)
        self.board.append(f"{self.name} done")
        return r


class Quiet:
    def __init__(self, name):
        self.name = name

    async def speak(self, q):
        return await ayo.llm(f"{self.name}: {q}", max_tokens=3)


@ayo.workflow
async def shared_board(q: str, docs: list[str]):
    board = []
    agents = [Agent("pro", board), Agent("con", board)]
    answers = await asyncio.gather(*(a.speak(q) for a in agents))
    return answers, board


@ayo.workflow
async def module_board(q: str, docs: list[str]):
    BOARD.clear()
    agents = [Agent("pro", BOARD), Agent("con", BOARD)]
    answers = await asyncio.gather(*[a.speak(q) for a in agents])
    return answers, list(BOARD)


@ayo.workflow
async def quiet_agents(q: str, docs: list[str]):
    agents = [Quiet("a"), Quiet("b"), Quiet(f"c {q[:3]}")]
    res = await asyncio.gather(*(a.speak(q) for a in agents), return_exceptions=True)
    return [r if isinstance(r, str) else type(r).__name__ for r in res]


@ayo.workflow
async def list_comp_awaits(q: str, docs: list[str]):
    agents = [Quiet("a"), Quiet("b")]
    return [await a.speak(q) for a in agents]


@ayo.workflow
async def mixed_classes(q: str, docs: list[str]):
    agents = [Quiet("a"), Agent("b", [])]
    out = await asyncio.gather(*(a.speak(q) for a in agents))
    return out, len(agents)


@ayo.workflow
async def agents_reused(q: str, docs: list[str]):
    agents = [Quiet("a"), Quiet("b")]
    first = await asyncio.gather(*(a.speak(q) for a in agents))
    second = await asyncio.gather(*(a.speak(f) for a, f in zip(agents, first, strict=True)))
    return first, second
