"""An ``await`` in the header of a function or ``lambda`` the workflow defines (a default, a
decorator's argument: ``def label(text, prefix=await ayo.llm(q))``) is evaluated where the ``def``
stands, in the workflow's scope: the statement runs as written (a graph break saying why). Tracing
crashed with Python's ``SyntaxError`` ('await' outside async function). Found by a probe.
Generated over the definition and where it stands; eager ≡ traced ≡ optimized on fresh module
copies, a failing call among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import fresh_copies_agree

DEFINITIONS = {
    "def_default": [
        "def label(text, prefix=await ayo.llm(q, max_tokens=2)):",
        "    return prefix + text",
        "out.append(label('x'))",
    ],
    "lambda_default": [
        "label = lambda text, prefix=await ayo.llm(q, max_tokens=2): prefix + text",
        "out.append(label('y'))",
    ],
    "async_def_default": [
        "async def ask(p, style=(await ayo.llm('style ' + q, max_tokens=2))):",
        "    return style + p",
        "out.append(await ask('z'))",
    ],
    "decorator_argument": [
        "@functools.lru_cache(maxsize=len(await ayo.llm(q, max_tokens=2)))",
        "def size(text):",
        "    return len(text)",
        "out.append(size('abc'))",
    ],
}
PLACES = {
    "top": ("", []),
    "branch": ("if q:", []),
    "loop": ("for _ in range(2):", []),
}
CASES = list(itertools.product(DEFINITIONS, PLACES))
QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


def source(definition: str, place: str) -> str:
    header, _ = PLACES[place]
    lines = DEFINITIONS[definition]
    body = ["out = []"]
    body += [header, *("    " + x for x in lines)] if header else lines
    body.append("return out")
    return (
        "import functools\n\nimport ayo_trace as ayo\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + "".join(f"    {x}\n" for x in body)
    )


@pytest.mark.parametrize(("definition", "place"), CASES, ids=["-".join(c) for c in CASES])
def test_an_await_in_a_definitions_header_runs_as_written(definition: str, place: str, tmp_path: Any) -> None:
    src = source(definition, place)
    reasons = [str(b.attrs["reason"]) for b in graph_breaks(load(src, tmp_path).wf.graph("q", []))]
    assert any("whose header awaits" in r for r in reasons), reasons
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)
