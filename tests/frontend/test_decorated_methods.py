"""A method behind the user's decorator whose wrapper takes ``self`` in its ``*args``
(``async def wrapper(*args, **kwargs): return await fn(*args, **kwargs)``, the usual logging or
retrying decorator) is inlined with ``self`` as the first of those arguments. It crashed the tracer
(``IndexError``) on an object the workflow makes, and was refused (``missing its argument``) on a
module's object or a class method: ``self`` was bound to no parameter and dropped from ``*args``.
Every wrapper x how the method is reached x a method reading or changing its object: no break,
eager ≡ traced ≡ optimized."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.util import traces_whole_and_agrees

from .programs import load

WRAPPERS = {
    "args_kwargs": ["async def wrapper(*args, **kwargs):", "    return await fn(*args, **kwargs)"],
    "args_only": ["async def wrapper(*args):", "    return await fn(*args)"],
    "self_then_args": ["async def wrapper(me, *args, **kwargs):", "    return await fn(me, *args, **kwargs)"],
    "reads_first": [
        "async def wrapper(*args, **kwargs):",
        "    CALLS.append(type(args[0]).__name__ if not isinstance(args[0], type) else args[0].__name__)",
        "    return await fn(*args, **kwargs)",
    ],
    "retries": [
        "async def wrapper(*args, **kwargs):",
        "    for attempt in range(2):",
        "        try:",
        "            return await fn(*args, **kwargs)",
        "        except ayo.EngineError:",
        "            if attempt == 1:",
        "                raise",
    ],
}
# how the workflow reaches the method, and what the method does with its object
REACH = {
    "made": "return await Svc('made').answer(q)",
    "made_named": "s = Svc('named')\n    a = await s.answer(q)\n    return a, s.notes",
    "module": "return await SVC.answer(q)",
    "class_method": "return await Svc.describe(q)",
    "through_super": "return await Sub('sub').answer(q)",
}
BODIES = {
    "reads": "return await ayo.llm(f'{self.name}: {q}', max_tokens=3)",
    "changes": "self.notes.append(q)\n        return await ayo.llm(f'{self.name} {len(self.notes)}: {q}', max_tokens=3)",
}


def _module(wrapper: str, body: str, tag: str) -> str:
    deco = "".join(f"    {line}\n" for line in WRAPPERS[wrapper])
    return f"""
def deco_{tag}(fn):
    @functools.wraps(fn)
{deco}    return wrapper


class Svc_{tag}:
    def __init__(self, name):
        self.name = name
        self.notes = []

    @deco_{tag}
    async def answer(self, q):
        {body}

    @classmethod
    @deco_{tag}
    async def describe(cls, q):
        return await ayo.llm(f'{{cls.__name__}} {{q}}', max_tokens=3)


class Sub_{tag}(Svc_{tag}):
    async def answer(self, q):
        return (await super().answer(q)).upper()


SVC_{tag} = Svc_{tag}('module')
"""


CASES = [
    (w, r, b)
    for w, r, b in itertools.product(WRAPPERS, REACH, BODIES)
    if not (b == "changes" and r in ("module", "class_method"))  # (module state: one body enough)
]


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    parts = ["\nimport functools\n\nimport ayo_trace as ayo\n\nCALLS = []\n"]
    for w, b in itertools.product(WRAPPERS, BODIES):
        parts.append(_module(w, BODIES[b], f"{w}_{b}"))
    for w, r, b in CASES:
        tag = f"{w}_{b}"
        reach = REACH[r].replace("Svc(", f"Svc_{tag}(").replace("Svc.", f"Svc_{tag}.")
        reach = reach.replace("SVC.", f"SVC_{tag}.").replace("Sub(", f"Sub_{tag}(")
        parts.append(f"\n\n@ayo.workflow\nasync def wf_{w}_{r}_{b}(q, docs):\n    {reach}\n")
    return load("".join(parts), Path(tmp_path_factory.mktemp("decorated_methods")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_decorated_method_is_inlined_with_its_object(module: Any, case: tuple[str, str, str]) -> None:
    wf = getattr(module, "wf_" + "_".join(case))
    traces_whole_and_agrees(wf, ["q", "FAIL q"], [[]])
