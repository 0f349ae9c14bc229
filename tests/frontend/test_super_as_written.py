"""``super()`` in a method the tracer inlines, in a statement the graph runs as written (a graph
break, a plain statement): compiled outside its class, Python's zero-argument form raised
``RuntimeError: super(): __class__ cell not found`` at run time (probe zm: a mixin diamond whose
base's method awaits nothing). It is spelled out as ``super(__class__, self)``
(``supers.spelled_out``): eager ≡ traced ≡ optimized, on fresh module copies, for each shape of
class hierarchy and each place the call stands.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.util import runs_on_fresh_copies

HIERARCHIES = {
    # (class definitions, the class the workflow makes); `Base.prep` awaits nothing
    "single": (
        "class Base:\n    async def prep(self, q):\n        return q.strip()\n\n"
        "    def tag(self, q):\n        return f'<{q}>'\n\n\n"
        "class Agent(Base):\n    {METHOD}\n",
        "Agent",
    ),
    "diamond": (
        "class Base:\n    async def prep(self, q):\n        return q.strip()\n\n"
        "    def tag(self, q):\n        return f'<{q}>'\n\n\n"
        "class Left(Base):\n    {METHOD}\n\n\n"
        "class Right(Base):\n    async def prep(self, q):\n        return (await super().prep(q)) + ' [R]'\n\n"
        "    def tag(self, q):\n        return super().tag(q) + '!'\n\n\n"
        "class Agent(Left, Right):\n    pass\n",
        "Agent",
    ),
    "slots_and_init": (
        "class Base:\n    __slots__ = ('n',)\n\n    def __init__(self):\n        self.n = 2\n\n"
        "    async def prep(self, q):\n        return q[: self.n + 10]\n\n"
        "    def tag(self, q):\n        return f'{self.n}:{q}'\n\n\n"
        "class Agent(Base):\n    __slots__ = ()\n\n    def __init__(self):\n        super().__init__()\n\n"
        "    {METHOD}\n",
        "Agent",
    ),
}

METHODS = {
    # the subclass's `answer`, calling its base's through `super()`
    "await_base": "async def answer(self, q):\n        q = await super().prep(q)\n        return await ayo.llm(q, max_tokens=3)",
    "plain_base": "async def answer(self, q):\n        a = await ayo.llm(q, max_tokens=3)\n        return super().tag(a)",
    "in_expression": "async def answer(self, q):\n        a = await ayo.llm(q, max_tokens=3)\n        return [super().tag(a), len(await super().prep(a))]",
    "in_prompt": "async def answer(self, q):\n        return await ayo.llm(super().tag(q), max_tokens=3)",
    "in_try": (
        "async def answer(self, q):\n        try:\n            a = await ayo.llm(q, max_tokens=3)\n"
        "        except Exception as e:\n            return super().tag(type(e).__name__)\n"
        "        return await super().prep(a)"
    ),
}


def _source(hierarchy: str, method: str) -> str:
    classes, made = HIERARCHIES[hierarchy]
    body = classes.replace("{METHOD}", METHODS[method])
    return (
        f"import ayo_trace as ayo\n\n\n{body}\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        f"    agent = {made}()\n    return await agent.answer(q)\n"
    )


@pytest.mark.parametrize(("hierarchy", "method"), list(itertools.product(HIERARCHIES, METHODS)))
def test_super_in_code_run_as_written_agrees(hierarchy: str, method: str, tmp_path: Path) -> None:
    source = _source(hierarchy, method)
    runs = runs_on_fresh_copies(source, tmp_path, [" what is rust ", "FAIL x", ""])
    assert "__class__ cell" not in repr(runs), runs
    assert runs["unoptimized"] == runs["eager"], runs
    assert runs["optimized"] == runs["eager"], runs
