"""A graph constant (``max_tokens=``) read from a field of a module object the workflow changes,
reached through a helper's parameter default (``async def chat(q, persona=BOT)``, then
``max_tokens=persona.tokens``): read when the workflow runs, as reached any other way; it was
refused at trace time ("must be known when the workflow is traced"), found by a probe. Generated
over the field the workflow changes, how the helper reaches the object and the value set;
eager ≡ traced ≡ optimized on fresh module copies, a failing call among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.util import fresh_copies_agree

MODULE = """
from dataclasses import dataclass

import ayo_trace as ayo


@dataclass
class Persona:
    mood: str = "calm"
    tokens: int = 4


BOT = Persona()


async def by_default(q, persona=BOT):
    return await ayo.llm(f"[{persona.mood}] {q}", max_tokens=persona.tokens)


async def by_argument(q, persona):
    return await ayo.llm(f"[{persona.mood}] {q}", max_tokens=persona.tokens)


async def by_module(q):
    return await ayo.llm(f"[{BOT.mood}] {q}", max_tokens=BOT.tokens)
"""

CHANGES = {
    "mood": "    BOT.mood = q[:5]\n",
    "tokens": "    BOT.tokens = 2 if 'FAIL' in q else 3\n",
    "none": "",
}
CALLS = {"default": "by_default(q)", "argument": "by_argument(q, BOT)", "module": "by_module(q)"}
CASES = list(itertools.product(CHANGES, CALLS))
QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


@pytest.mark.parametrize(("change", "call"), CASES, ids=["-".join(c) for c in CASES])
def test_a_constant_from_a_changed_default_object_agrees(change: str, call: str, tmp_path: Any) -> None:
    src = (
        MODULE
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + CHANGES[change]
        + f"    first = await {CALLS[call]}\n"
        + "    return first, BOT.mood, BOT.tokens\n"
    )
    fresh_copies_agree(src, tmp_path, QUESTIONS)
