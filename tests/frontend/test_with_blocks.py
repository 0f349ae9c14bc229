"""A plain ``with`` of a context manager around awaits (a tracing span, a timer, a guard swallowing
an engine's error) traces as the ``try`` it stands for (``frontend/with_blocks.py``): the manager
made, ``__enter__``, the body in a ``try`` handing a failure to ``__exit__`` (re-raised unless it
returns true), ``__exit__(None, None, None)`` after a body that did not fail. It was a graph break
holding every await of its body. Generated over the manager, what it binds, the body and where
the ``with`` stands; eager ≡ traced ≡ optimized on fresh module copies, a failing call among them.
The lines of the body keep their numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.util import every_pair, fresh_copies_agree

from .programs import load

HEAD = """
import contextlib

import ayo_trace as ayo

LOG = []


class Span:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        LOG.append(("enter", self.name))
        return self

    def __exit__(self, kind, exc, tb):
        LOG.append(("exit", self.name, kind.__name__ if kind else None))
        return False


class Guard:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        LOG.append("guard " + self.name)
        return len(LOG)

    def __exit__(self, kind, exc, tb):
        LOG.append("left " + self.name)
        return kind is not None and issubclass(kind, ayo.EngineError)


@contextlib.contextmanager
def timed(name):
    LOG.append("start " + name)
    try:
        yield name.upper()
    finally:
        LOG.append("end " + name)


class Picky(Span):
    def __enter__(self):
        if "FAIL" in self.name:
            raise KeyError(self.name)
        return super().__enter__()


class Loud(Span):
    def __exit__(self, kind, exc, tb):
        super().__exit__(kind, exc, tb)
        if kind is not None:
            raise ValueError("loud " + self.name)


@contextlib.contextmanager
def forgiving(name):
    try:
        yield name
    except ayo.EngineError:
        LOG.append("forgave " + name)
"""

MANAGERS = ["Span", "Guard", "timed", "forgiving"]
BINDS = {"nothing": "", "name": " as got"}
BODIES = {
    "one": ["answer = await ayo.llm(f'answer {q}', max_tokens=3)"],
    "two": [
        "answer = await ayo.llm(f'draft {q}', max_tokens=3)",
        "answer = await ayo.llm(f'polish {answer}', max_tokens=3)",
    ],
    "loop": ["for w in q.split()[:2]:", "    answer = await ayo.llm(f'define {w}', max_tokens=3)"],
}
PLACES = ["top", "in_loop", "in_try"]
CASES = every_pair(MANAGERS, BINDS, BODIES, PLACES)


def _source(manager: str, binds: str, body: str, place: str) -> str:
    header = manager if "(" in manager else f"{manager}(q[:4]){BINDS[binds]}"  # (or the items)
    block = [f"with {header}:", *(f"    {s}" for s in BODIES[body])]
    lines = ["LOG.clear()", "answer = 'none'"]
    if place == "top":
        lines += block
    elif place == "in_loop":
        lines += ["for turn in range(2):", *(f"    {s}" for s in block)]
    else:
        lines += ["try:", *(f"    {s}" for s in block), "except ayo.EngineError:", "    answer = 'failed'"]
    lines.append("return answer, list(LOG)")
    return HEAD + "\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(f"    {s}\n" for s in lines)


QUESTIONS = ["what is a heap", "explain FAIL here", "sort lists"]


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_a_with_around_awaits_agrees(case: tuple[str, ...], tmp_path: Path) -> None:
    source = _source(*case)
    (tmp_path / "graph").mkdir()
    breaks = graph_breaks(load(source, tmp_path / "graph").wf.graph("q", []))
    # (a loop awaiting in the body is a `try` around a loop whose progress is read after it)
    assert (breaks == []) == (case[2] != "loop"), [b.attrs["reason"] for b in breaks]
    fresh_copies_agree(source, tmp_path, QUESTIONS)


def test_a_span_around_awaits_traces_whole_on_its_lines(tmp_path: Path) -> None:
    source = _source("Span", "name", "two", "top")
    wf: Any = load(source, tmp_path).wf
    graph = wf.graph("q", [])
    assert graph_breaks(graph) == [], str(graph)
    llms = [n for n in graph.walk() if n.op == "llm"]
    first = source.splitlines().index("        answer = await ayo.llm(f'draft {q}', max_tokens=3)") + 1
    assert [n.loc.line for n in llms] == [first, first + 1], str(graph)


ITEMS = [
    "Span('a')",
    "Span(q[:2]) as first",
    "Guard('g') as got",
    "timed(q[-3:]) as got",
    "forgiving('f')",
    "contextlib.suppress(ayo.EngineError)",
    "contextlib.suppress(KeyError)",
    "Picky(q) as first",
    "Loud('l')",
]
SEVERAL = [
    (ITEMS[i], ITEMS[j], *((ITEMS[(i + j) % len(ITEMS)],) if (i + j) % 3 == 0 else ()))
    for i in range(len(ITEMS))
    for j in range(len(ITEMS))
    if i != j
]


SEVERAL_CASES = [
    (items, body, PLACES[k % 3]) for k, items in enumerate(SEVERAL[::2]) for body in ["two", "loop"]
]


@pytest.mark.parametrize(
    "case",
    SEVERAL_CASES,
    ids=["+".join(i.split("(")[0] for i in c[0]) + f"-{c[1]}-{c[2]}" for c in SEVERAL_CASES],
)
def test_a_with_of_several_items_is_the_withs_nested(case: tuple[Any, str, str], tmp_path: Path) -> None:
    """``with A(), B():`` is ``with A():`` around ``with B():`` (the language reference's meaning):
    managers, ``contextlib.suppress`` and both mixed, binding names or not, a failing call among
    them: one manager swallows the engine's error, one suppress lets it through, one fails to
    enter (``KeyError``, which an item before it may suppress), one raises from ``__exit__``."""
    items, body, place = case
    source = _source(", ".join(items), "nothing", body, place)
    (tmp_path / "graph").mkdir()
    breaks = graph_breaks(load(source, tmp_path / "graph").wf.graph("q", []))
    assert (breaks == []) == (body != "loop"), [b.attrs["reason"] for b in breaks]
    fresh_copies_agree(source, tmp_path, QUESTIONS)


def test_the_nested_withs_keep_the_lines_of_the_body(tmp_path: Path) -> None:
    lines = [
        "with Span('a') as first, contextlib.suppress(KeyError), timed(q) as got:",
        "    answer = await ayo.llm(f'draft {q}', max_tokens=3)",
        "    answer = await ayo.llm(f'polish {answer} {got}', max_tokens=3)",
        "answer = await ayo.llm(f'last {answer}', max_tokens=3)",
        "return answer, first.name, list(LOG)",
    ]
    source = HEAD + "\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(f"    {s}\n" for s in lines)
    graph = load(source, tmp_path).wf.graph("q", [])
    assert graph_breaks(graph) == [], str(graph)
    first = source.splitlines().index("    " + lines[1]) + 1
    assert [n.loc.line for n in graph.walk() if n.op == "llm"] == [first, first + 1, first + 2], str(graph)


STAYS = {  # where the `with` stays as written: a jump or `return` inside, a lock, a long header
    "return": ["with Span('r'):", "    return await ayo.llm(q, max_tokens=3)"],
    "two_items_returning": [
        "with Span('a'), Span('b'):",
        "    return await ayo.llm(q, max_tokens=3)",
    ],
    "two_items_on_two_lines": [
        "with (Span('a'),",
        "      Span('b') as b):",
        "    answer = await ayo.llm(q, max_tokens=3)",
        "return answer, b.name",
    ],
    "an_item_of_no_known_manager": [
        "with Span('a'), open(__file__) as f:",
        "    answer = await ayo.llm(q + f.readline()[:3], max_tokens=3)",
        "return answer",
    ],
    "break": [
        "for w in q.split():",
        "    with Span(w):",
        "        answer = await ayo.llm(w, max_tokens=3)",
        "        break",
        "return answer",
    ],
}


@pytest.mark.parametrize("name", list(STAYS))
def test_other_withs_run_as_written(name: str, tmp_path: Path) -> None:
    source = HEAD + "\n\n@ayo.workflow\nasync def wf(q, docs):\n" + "".join(f"    {s}\n" for s in STAYS[name])
    fresh_copies_agree(source, tmp_path, QUESTIONS)
