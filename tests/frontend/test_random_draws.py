"""Draws of the ``random`` module's functions (``random.choice``, ``randint`` of ``from random
import randint``; numpy's ``np.random.choice``) change its hidden generator, as a method of a ``random.Random`` changes that one:
each draw is an effect, kept in program order among the workflow's effects, and calls at once
drawing before their awaits (or on both sides of them) draw in Python's order of turns (the gather
runs as written, a graph break naming ``random``); calls drawing after their one wait, or run one
after another, trace whole. Before, the draws were taken as pure: the graph drew in another
order than Python and the workflow picked other styles and numbers for the same seed.

Generated over how the generator is named, where the helper draws around its await, how the calls
run (at once or one after another) and a draw of the workflow's own between awaits; every program
seeds the generator from the question first. Eager ≡ traced ≡ optimized on fresh module copies."""

from __future__ import annotations

from pathlib import Path

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import every_pair, fresh_copies_agree

from .programs import load

NAMING = {  # (the import, the seeding, a choice, a number)
    "module": ("import random", "random.seed", "random.choice", "random.randint"),
    "names": ("from random import choice, randint, seed", "seed", "choice", "randint"),
    "alias": ("import random as rnd", "rnd.seed", "rnd.choice", "rnd.randint"),
    "instance": ("import random\nRNG = random.Random()", "RNG.seed", "RNG.choice", "RNG.randint"),
    "numpy": ("import numpy as np", "np.random.seed", "np.random.choice", "np.random.randint"),
    "helper": (
        "import random\n\n\ndef pick(xs):\n    return random.choice(xs)",
        "random.seed",
        "pick",
        "random.randint",
    ),
}
DRAWS = ["before", "after", "both"]
RUNS = {
    "gather": "picks = list(await asyncio.gather(*(variant(q, i) for i in range(3))))",
    "tasks": "tasks = [asyncio.create_task(variant(q, i)) for i in range(3)]\n    picks = [await t for t in tasks]",
    "group": (
        "async with asyncio.TaskGroup() as tg:\n        ts = [tg.create_task(variant(q, i)) for i in range(3)]\n"
        "    picks = [t.result() for t in ts]"
    ),
    "one_by_one": "picks = [await variant(q, i) for i in range(3)]",
}
BETWEEN = ["none", "draw", "late"]  # (the workflow's own draw: before the calls, or after them)
CASES = every_pair(NAMING, DRAWS, RUNS, BETWEEN)


def _source(naming: str, draws: str, runs: str, between: str) -> str:
    imported, seed, choice, number = NAMING[naming]
    first = f"style = {choice}(STYLES)" if draws != "after" else "style = 'plain'"
    last = f"n = {number}(0, 99)" if draws != "before" else "n = len(reply)"
    middle = f"    mood = {choice}(STYLES)\n" if between == "draw" else "    mood = 'calm'\n"
    late = f"late = {choice}(STYLES)" if between == "late" else "late = None"
    return f"""
import asyncio
{imported}

import ayo_trace as ayo

STYLES = ["terse", "formal", "playful", "plain", "warm"]


async def variant(q, i):
    {first}
    reply = await ayo.llm(f"[{{style}}] {{q}} #{{i}}", max_tokens=3)
    {last}
    return style, reply, n


@ayo.workflow
async def wf(q, docs):
    {seed}(len(q))
    opening = await ayo.llm(f"Open: {{q}}", max_tokens=2)
{middle}    {RUNS[runs]}
    {late}
    closing = await ayo.llm(f"Close ({{mood}}): {{opening}}", max_tokens=2)
    return picks, mood, late, closing, {number}(0, 999)
"""


QUESTIONS = ["what is a heap", "explain FAIL here", "sort lists", "why"]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_draws_keep_pythons_order(case: tuple[str, str, str, str], tmp_path: Path) -> None:
    source = _source(*case)
    (tmp_path / "graph").mkdir()
    breaks = graph_breaks(load(source, tmp_path / "graph").wf.graph("q", []))
    reasons = [b.attrs["reason"] for b in breaks]
    generator = {"instance": "`RNG`", "numpy": "`numpy.random`"}.get(case[0], "`random`")
    if case[2] == "one_by_one" or (case[2] == "tasks" and case[1] != "both"):
        assert reasons == []  # (tasks awaited in turn, each drawing on one side of its wait: in order)
    elif case[2] == "tasks":  # (Python's tasks, and the awaits of them)
        assert generator in reasons[0], reasons
    else:  # (a failure stops the graph at the failing call, where Python's other calls draw on)
        assert [generator in r for r in reasons] == [True], reasons
    fresh_copies_agree(source, tmp_path, QUESTIONS)


def test_a_gather_drawing_on_both_sides_names_the_generator(tmp_path: Path) -> None:
    source = _source("names", "both", "gather", "none")
    breaks = graph_breaks(load(source, tmp_path).wf.graph("q", []))
    assert len(breaks) == 1 and "touches `random` before it first waits" in breaks[0].attrs["reason"], breaks
