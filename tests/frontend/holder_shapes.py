"""Gathered calls reaching one object through objects that hold it (``test_holders.py``): agents
keeping a shared board or log in a field, made by the workflow (by name, in a list, a dict, a
comprehension, in the call itself), gathered or run in a task group. Python interleaves their
changes of the shared object at their awaits; the graph runs each call whole, so such a gather
runs as written (``frontend/holders``). Each takes ``(q, docs)``; ``FAIL`` fails a call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import ayo_trace as ayo


class Poster:
    def __init__(self, name, board):
        self.name = name
        self.board = board

    async def post(self, q):
        self.board.append(f"{self.name} thinking")
        said = await ayo.llm(f"{self.name}: {q} ({len(self.board)} posts)", max_tokens=3)
        self.board.append(f"{self.name}: {said}")
        return said


@dataclass
class Agent:
    name: str
    log: list = field(default_factory=list)

    async def run(self, q):
        self.log.append(f"{self.name} start")
        out = await ayo.llm(f"{self.name} {q}", max_tokens=2)
        self.log.append(f"{self.name} done")
        return out


class Team:
    def __init__(self, members):
        self.members = members

    async def first(self, q):
        return await self.members[0].run(q)


async def direct(board, q):
    board.append("direct start")
    out = await ayo.llm(f"direct {q}", max_tokens=2)
    board.append("direct done")
    return out


@ayo.workflow
async def h_two_named(q, docs):
    board = []
    ann, bob = Poster("ann", board), Poster("bob", board)
    said = await asyncio.gather(ann.post(q), bob.post(q))
    return said, board


@ayo.workflow
async def h_made_in_call(q, docs):
    board = []
    said = await asyncio.gather(Poster("ann", board).post(q), direct(board, q))
    return said, board


@ayo.workflow
async def h_comprehension_of_agents(q, docs):
    log = []
    agents = [Agent(d, log) for d in docs]
    outs = await asyncio.gather(*(a.run(q) for a in agents))
    return outs, log


@ayo.workflow
async def h_listed_agents(q, docs):
    log = []
    agents = [Agent("pro", log), Agent("con", log)]
    outs = await asyncio.gather(*[a.run(q) for a in agents])
    return outs, log


@ayo.workflow
async def h_dict_of_agents(q, docs):
    log = []
    team = {"pro": Agent("pro", log), "con": Agent("con", log)}
    outs = await asyncio.gather(*(agent.run(q) for agent in team.values()))
    return outs, log


@ayo.workflow
async def h_task_group(q, docs):
    board = []
    async with asyncio.TaskGroup() as tg:
        tg.create_task(Poster("ann", board).post(q))
        tg.create_task(Poster("bob", board).post(q))
    return board


@ayo.workflow
async def h_nested_holder(q, docs):
    log = []
    teams = [Team([Agent("a", log)]), Team([Agent("b", log)])]
    outs = await asyncio.gather(*(t.first(q) for t in teams))
    return outs, log


@ayo.workflow
async def h_tasks_of_holders(q, docs):
    board = []
    posters = [Poster(d, board) for d in docs]
    tasks = [asyncio.create_task(p.post(q)) for p in posters]
    return [await t for t in tasks], board


@ayo.workflow
async def h_own_boards(q, docs):
    mine, yours = [], list(docs)
    ann, bob = Poster("ann", mine), Poster("bob", yours)  # (each its own board: nothing shared)
    outs = await asyncio.gather(ann.post(q), bob.post(q))
    return outs, mine, yours


SHARED = [
    h_two_named,
    h_made_in_call,
    h_comprehension_of_agents,
    h_listed_agents,
    h_dict_of_agents,
    h_task_group,
    h_nested_holder,
    h_tasks_of_holders,
]
