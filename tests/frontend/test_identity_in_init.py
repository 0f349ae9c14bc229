"""An object made of an argument known only when the workflow runs, whose ``__init__`` compares it
by identity (``self.prefix = "NONE: " if k is None else "SOME: "``): the tracer's copy of the
object (``made_fields``) is made with a stand-in for that argument, and ``is None`` took the branch
of no value it may have, so the field was folded as a constant of the other branch (a query giving
``None`` ran with ``"SOME: "``: found by this session's review of the stand-in). Such a copy is no
longer read. Every way to write the ``__init__`` x the argument's kind x how the field is used:
eager ≡ traced ≡ optimized, each variant on a fresh copy of the module; a known argument still
gives a constant field."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.util import every_pair, fresh_copies_agree

from .programs import load

HEAD = """
from dataclasses import dataclass

import ayo_trace as ayo


class Base:
    def __init__(self, k):
        self.k = k
        self.prefix = "NONE: " if k is None else "SOME: "


class Inner:
    def __init__(self, k):
        self.prefix = "INNER NONE: " if k is None else "INNER: "


class Made(BASE):
    def __init__(self, k=None):
        INIT

    async def ask(self, q):
        return await ayo.llm(self.prefix + q, max_tokens=3)
"""
INITS = {
    "is_none": ["self.k = k", "self.prefix = 'NONE: ' if k is None else 'SOME: '"],
    "is_not_none": ["self.prefix = 'SOME: ' if k is not None else 'NONE: '"],
    "in_a_key": ["self.prefix = {True: 'A: ', False: 'B: '}[k is None]"],
    "in_a_base": ["super().__init__(k)"],
    "in_an_inner": ["self.inner = Inner(k)", "self.prefix = self.inner.prefix"],
    "in_a_local": ["p = 'NONE: ' if k is None else 'SOME: '", "self.prefix = p"],
    "in_an_if": ["if k is None:", "    self.prefix = 'NONE: '", "else:", "    self.prefix = 'SOME: '"],
    "no_identity": ["self.k = k", "self.prefix = 'P: '"],
}
ARGS = {
    "none_or_int": "None if q.startswith('F') else 5",
    "text_or_none": "q[1:3] or None",
    "docs_or_none": "docs or None",
    "none": "None",
    "int": "5",
}
USES = {
    "field": "await ayo.llm(m.prefix + q, max_tokens=3)",
    "method": "await m.ask(q)",
}
CASES = every_pair(INITS, ARGS, USES)  # (every pair of choices; the suite's time kept)


def _source(init: str, arg: str, use: str) -> str:
    body = "\n        ".join(INITS[init])
    return (
        HEAD.replace("INIT", body).replace("BASE", "Base" if init == "in_a_base" else "object")
        + f"\n\n@ayo.workflow\nasync def wf(q, docs):\n    m = Made({ARGS[arg]})\n    return {USES[use]}\n"
    )


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_an_init_comparing_an_argument_by_identity_agrees(case: tuple[str, str, str], tmp_path: Path) -> None:
    fresh_copies_agree(_source(*case), tmp_path, ["q", "Fx", "again"])


@pytest.mark.parametrize("init", ["is_none", "in_a_base", "in_a_local", "in_an_if"])
def test_a_known_argument_still_gives_a_constant_field(init: str, tmp_path: Path) -> None:
    wf = load(_source(init, "int", "field"), tmp_path).wf
    assert 'f"SOME: ' in str(wf.graph("q", []))
