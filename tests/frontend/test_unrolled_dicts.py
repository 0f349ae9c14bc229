"""A dict comprehension of tasks or coroutines over a few constants whose item is a graph constant
of the call (``{c: create_task(ayo.search(q, collection=c)) for c in KBS}``, ``seed=i``,
``max_tokens=n``) is unrolled (``unroll.compile_comprehension``): its values are what a task's
await gives, its keys stay the keys. Every key form x value form x way of awaiting, eager ≡ traced
≡ optimized, no graph break. (The keys were awaited too: ``TypeError: object str can't be used in
'await' expression`` in both graphs.)"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.util import traces_whole_and_agrees

from .programs import load

KEYS = {
    "item": ("c", "c"),
    "fstring": ('f"k{c}"', "c"),
    "first": ("c[0]", "c"),
}
VALUES = {
    "task_search": (
        "asyncio.create_task(ayo.search(q, collection=KB[{it}], top_k=1))",
        "[h.text for h in {v}]",
    ),
    "task_seed": ("asyncio.create_task(ayo.llm(f'Vote {{q}}', seed=SEED[{it}], max_tokens=2))", "{v}"),
    "future_tokens": ("asyncio.ensure_future(ayo.llm(f'Say {{q}}', max_tokens=TOK[{it}]))", "{v}"),
    "coroutine": ("ayo.llm(f'Note {{q}}', max_tokens=TOK[{it}])", "{v}"),
}
CONSUME = {
    "dict_awaits": "return {{k: {awaited} for k, t in made.items()}}",
    "gather_values": "got = await asyncio.gather(*made.values())\n    return {{k: {use} for k, v in zip(made, got)}}",
    "loop": "out = {{}}\n    for k in made:\n        v = await made[k]\n        out[k] = {use}\n    return out",
}

HEADER = """
import asyncio

import ayo_trace as ayo

ITEMS = ("north", "south")
KB = {"north": "kb0", "south": "kb1"}
SEED = {"north": 1, "south": 2}
TOK = {"north": 2, "south": 3}
"""


def _workflow(name: str, key: str, value: str, consume: str) -> str:
    key_code, it = KEYS[key]
    made, use = VALUES[value]
    return (
        f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n"
        "    for c in ITEMS:\n        await ayo.ingest([f'{c} {q}'], collection=KB[c])\n"
        f"    made = {{{key_code}: {made.format(it=it)} for c in ITEMS}}\n"
        f"    {CONSUME[consume].format(use=use.format(v='v'), awaited=use.format(v='await t'))}\n"
    )


# (coroutines awaited one by one, by key or in a comprehension, are a graph break: not this rule)
CASES = [
    c for c in itertools.product(KEYS, VALUES, CONSUME) if c[1] != "coroutine" or c[2] == "gather_values"
]


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEADER + "".join(_workflow(f"wf_{k}_{v}_{c}", k, v, c) for k, v, c in CASES)
    return load(source, Path(tmp_path_factory.mktemp("unrolled_dicts")))


@pytest.mark.parametrize(("key", "value", "consume"), CASES, ids=["-".join(c) for c in CASES])
def test_a_dict_of_tasks_over_constants_awaits_its_values(
    module: Any, key: str, value: str, consume: str
) -> None:
    wf = getattr(module, f"wf_{key}_{value}_{consume}")
    traces_whole_and_agrees(wf, ["q", "FAIL q"], [[]])
