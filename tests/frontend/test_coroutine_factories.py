"""A plain function that only returns a primitive's coroutine (``def ask(x): return ayo.llm(...)``,
``ask = lambda x: ayo.llm(...)``, at the module's top or in the workflow) is spelled out where it is
called (``frontend/coroutine_factories.py``): awaiting its coroutine, gathering a list, a generator
or a ``map`` of them, or making tasks of them traced whole (each was a graph break). Every kind of
factory x what it returns x how its coroutines are used, with errors (``FAIL``) and no documents:
no break, eager ≡ traced ≡ optimized. Then the shapes where spelling out would change what Python
does: not spelled out, and the three runs still agree."""

from __future__ import annotations

import inspect
import re
import textwrap
from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from ayo_trace.frontend import coroutine_factories
from tests.util import every_pair, run_in_new_loop, three_runs_agree, traces_whole_and_agrees

from .programs import load

# what the factory returns, with `{x}` for its parameter
TARGETS = {
    "llm": "ayo.llm(f'Summarize {q}: {x}', max_tokens=4)",
    "embed": "ayo.embed(x)",
    "helper": "shout(x, q)",  # an `async def` of the module that awaits the LLM
}
# how a factory `ask` is defined: (lines at the module's top, lines at the top of the workflow)
KINDS = {
    "module_def": (["def ask(x):", "    return {target}"], []),
    "module_def_doc": (['def ask(x, q="Q"):', '    """A coroutine."""', "    return {target}"], []),
    "module_lambda": (["ask = lambda x: {target}"], []),
    "local_def": ([], ["def ask(x):", "    return {target}"]),
    "local_lambda": ([], ["ask = lambda x: {target}"]),
}
# how the workflow uses its coroutines
USES = {
    "await": ["first = await ask(q)", "return first"],
    "gather_generator": ["return list(await asyncio.gather(*(ask(d) for d in docs)))"],
    "gather_list": ["coros = [ask(d) for d in docs]", "return list(await asyncio.gather(*coros))"],
    "gather_map": ["return list(await asyncio.gather(*map(ask, docs)))"],
    "tasks": [
        "tasks = [asyncio.create_task(ask(d)) for d in docs]",
        "return [await t for t in tasks]",
    ],
    "keyword": ["n = len(docs)", "return n, await ask(x=q)"],
}

MODULE_HEAD = """
import asyncio

import ayo_trace as ayo

Q = "module q"


async def shout(x, q):
    return (await ayo.llm(f"Shout {x}", max_tokens=3)).upper()
"""


def _source(kind: str, target: str, use: str, name: str) -> str:
    module_lines, body_lines = KINDS[kind]
    expr = TARGETS[target]
    if kind != "module_def_doc":  # (`q` is the workflow's own: a local factory reads it)
        expr = expr.replace("{q}", "{x}").replace("x, q)", "x, x)")
    top = _renamed("".join(line.format(target=expr) + "\n" for line in module_lines), name)
    body = [line.format(target=expr) for line in body_lines] + USES[use]
    text = "".join(f"    {line}\n" for line in body)
    if module_lines:
        text = _renamed(text, name)
    return f"\n{top}\n\n@ayo.workflow\nasync def {name}(q, docs):\n{text}"


def _renamed(text: str, name: str) -> str:
    """``text`` with the factory ``ask`` named for ``name`` (one module holds every case)."""
    return re.sub(r"\bask\b", f"ask_{name}", text)


CASES = every_pair(KINDS, TARGETS, USES)


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = MODULE_HEAD + "".join(_source(*c, name="wf_" + "_".join(c)) for c in CASES)
    return load(source, Path(tmp_path_factory.mktemp("coroutine_factories")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_coroutine_factory_traces_whole(module: Any, case: tuple[str, str, str]) -> None:
    wf = getattr(module, "wf_" + "_".join(case))
    traces_whole_and_agrees(wf, ["q", "FAIL q"], [[], ["a", "b FAIL", "c"], ["a", "b"]], graph=("q", ["a"]))


# shapes where the call must stay as written (spelling it out would read another object, skip an
# error Python raises, or evaluate an argument in another order); each must still agree
KEPT = {
    # the workflow binds a name the module function reads: the function reads the module's
    "shadowed_global": (
        "def ask(x):\n    return ayo.llm(f'{Q}: {x}', max_tokens=3)\n",
        ["Q = 'local q'", "return await ask(q)"],
    ),
    # a comprehension around the call binds a name the workflow's lambda reads
    "comprehension_binds_its_name": (
        "",
        [
            "d = 'outer'",
            "ask = lambda x: ayo.llm(f'{d} {x}', max_tokens=3)",
            "return [await ask(d) for d in docs]",
        ],
    ),
    # the factory is bound twice: which one a call means depends on the run
    "rebound": (
        "",
        [
            "ask = lambda x: ayo.llm(f'one {x}', max_tokens=3)",
            "if docs:",
            "    ask = lambda x: ayo.llm(f'two {x}', max_tokens=3)",
            "return await ask(q)",
        ],
    ),
    # an argument that is a call: Python evaluates it before the factory's body
    "argument_is_a_call": (
        "def ask(x, y):\n    return ayo.llm(f'{y} {x}', max_tokens=3)\n",
        ["return await ask(q.upper(), q.lower())"],
    ),
    # a parameter the expression does not read, given a name: Python still reads the name
    "unread_parameter": (
        "def ask(x, y):\n    return ayo.llm(f'{x}', max_tokens=3)\n",
        [
            "if docs:",
            "    z = docs[0]",
            "try:",
            "    return await ask(q, z)",
            "except NameError:",
            "    return 'unbound'",
        ],
    ),
    # more than a return in the body: its other statements run when it is called
    "body_does_more": (
        "SEEN = []\ndef ask(x):\n    SEEN.append(x)\n    return ayo.llm(x, max_tokens=3)\n",
        ["SEEN.clear()", "c = ask(q)", "n = len(SEEN)", "return n, await c"],
    ),
    # a decorated function: the decorator's wrapper is what runs
    "decorated": (
        "def logged(f):\n    def run(x):\n        LOG.append(x)\n        return f(x)\n    return run\nLOG = []\n"
        "@logged\ndef ask(x):\n    return ayo.llm(x, max_tokens=3)\n",
        ["LOG.clear()", "a = await ask(q)", "return a, len(LOG)"],
    ),
    # a string put where an f-string of the same quotes reads it
    "string_in_same_quotes": (
        "def ask(x, y='Q'):\n    return ayo.llm(f'{y}: {x}', max_tokens=3)\n",
        ["return await ask(q, 'why')"],
    ),
}


@pytest.fixture(scope="module")
def kept_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    parts = [MODULE_HEAD]
    for name, (top, body) in KEPT.items():
        text = _renamed("".join(f"    {line}\n" for line in body), name)
        parts.append(f"\n{_renamed(top, name)}\n\n@ayo.workflow\nasync def wf_{name}(q, docs):\n{text}")
    return load("".join(parts), Path(tmp_path_factory.mktemp("coroutine_factories_kept")))


@pytest.mark.parametrize("name", list(KEPT))
def test_a_call_that_would_change_is_kept_and_agrees(kept_module: Any, name: str) -> None:
    wf = getattr(kept_module, f"wf_{name}")
    source = textwrap.dedent(inspect.getsource(wf.fn))
    rewritten = coroutine_factories.rewrite(cst.parse_module(source), dict(wf.fn.__globals__)).code
    assert rewritten == source
    run_in_new_loop(lambda: three_runs_agree(wf, ["q", "FAIL q"], [[], ["a", "b"]]))


def test_the_rewrite_spells_out_on_the_call_s_line() -> None:
    names = {"ayo": __import__("ayo_trace"), "__name__": "m"}
    source = textwrap.dedent(
        """\
        async def wf(q, docs):
            ask = lambda x, n=3: ayo.llm(
                f"Say {x}",  # a comment
                max_tokens=n,
            )
            got = await asyncio.gather(*map(ask, docs), ask(q), ask(x=q, n=5))
            return got
        """
    )
    out = coroutine_factories.rewrite(cst.parse_module(source), names).code.splitlines()
    assert len(out) == len(source.splitlines())
    assert out[5] == (
        '    got = await asyncio.gather(*(ayo.llm(f"Say {ayo_item__}", max_tokens=3) for ayo_item__ in docs), '
        'ayo.llm(f"Say {q}", max_tokens=3), ayo.llm(f"Say {q}", max_tokens=5))'
    )
