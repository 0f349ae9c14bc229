"""An object of a class deriving from ``abc.ABC`` (or made with ``metaclass=abc.ABCMeta``) makes
objects and finds their methods as a plain class does, so its ``async`` methods are inlined like a
plain class's (``made_fields.plain_class``); awaiting one was a graph break. Every base x method
shape x how the object is reached: no break, eager ≡ traced ≡ optimized."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.util import traces_whole_and_agrees

from .programs import load

BASES = {
    "abc": "(ABC)",
    "abcmeta": "(metaclass=abc.ABCMeta)",
    "plain": "",
}
METHODS = {
    "reads": ["return await ayo.llm(f'{self.style} {q}', max_tokens=3)"],
    "changes": ["self.calls.append(q)", "return await ayo.llm(f'{len(self.calls)} {q}', max_tokens=3)"],
    "through_self": ["first = await self.step(q)", "return await self.step(first[-4:])"],
}
REACH = {
    "named": ["tool = Impl('brief')", "answer = await tool.run(q)", "return answer, tool.describe()"],
    "inline": ["return await Impl('inline').run(q)"],
    "twice": ["tool = Impl('twice')", "a = await tool.run(q)", "b = await tool.run(a[-4:])", "return a, b"],
}
CASES = list(itertools.product(BASES, METHODS, REACH))


def _source(base: str, method: str, reach: str, tag: str) -> str:
    run = "".join(f"        {line}\n" for line in METHODS[method])
    body = "".join(f"    {line}\n" for line in REACH[reach]).replace("Impl(", f"Impl_{tag}(")
    return (
        f"\n\nclass Base_{tag}{BASES[base]}:\n"
        "    def __init__(self, style):\n        self.style = style\n        self.calls = []\n\n"
        "    @abstractmethod\n    async def run(self, q): ...\n\n"
        "    def describe(self):\n        return f'{type(self).__name__} {self.style} {len(self.calls)}'\n\n"
        "    async def step(self, q):\n        return await ayo.llm(f'step {self.style} {q}', max_tokens=3)\n\n"
        f"\nclass Impl_{tag}(Base_{tag}):\n    async def run(self, q):\n{run}"
        f"\n\n@ayo.workflow\nasync def wf_{tag}(q, docs):\n{body}"
    )


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    head = "\nimport abc\nfrom abc import ABC, abstractmethod\n\nimport ayo_trace as ayo\n"
    source = head + "".join(_source(*c, tag="_".join(c)) for c in CASES)
    return load(source, Path(tmp_path_factory.mktemp("abc_classes")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_an_abc_s_methods_are_inlined(module: Any, case: tuple[str, str, str]) -> None:
    wf = getattr(module, "wf_" + "_".join(case))
    traces_whole_and_agrees(wf, ["q", "FAIL q"], [[]])
