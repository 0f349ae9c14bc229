"""A class pattern's keyword (``case Call(name="calc", arg=a):``) names an attribute of the subject,
not a variable: it reads nothing (``source._is_load``). It was read as the workflow's variable of
that name, so a match was refused ("`name` is read here but may not be assigned on every path")
where the workflow assigns such a variable later, and read it where one was bound. Every pattern
form x where a variable of the keyword's name is bound x whether the cases await, eager ≡ traced ≡
optimized, no refusal and no graph break."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.util import traces_whole_and_agrees

from .programs import load

PATTERNS = {
    "literal": ('Call(name="calc")', '"calc"'),
    "capture": ('Call(name="search", arg=found)', "found"),
    "same_name": ("Call(name=name)", "name"),  # (the keyword `name` and a capture named `name`)
    "nested": ('Call(name="calc", arg=Call(name=inner))', "inner"),
    "guarded": ('Call(name=str(n)) if n.startswith("c")', "n"),
}
BOUND = {
    "later": ("", "    name = await ayo.llm(f'Name {kind}', max_tokens=2)\n    return kind, name\n"),
    "before": ("    name = 'pre'\n    arg = 'pre'\n", "    return kind, name, arg\n"),
    "never": ("", "    return kind\n"),
}
AWAITS = {
    "plain": "{value}",
    "awaits": "await ayo.llm(f'Case {{{value}}}', max_tokens=2)",
}

HEADER = """
from dataclasses import dataclass

import ayo_trace as ayo


@dataclass
class Call:
    name: object
    arg: object
"""


def _workflow(name: str, pattern: str, bound: str, awaits: str) -> str:
    case, value = PATTERNS[pattern]
    before, after = BOUND[bound]
    return (
        f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n{before}"
        "    subject = Call(q, Call(q[::-1], q)) if len(q) % 2 else Call('search', q)\n"
        "    match subject:\n"
        f"        case {case}:\n            kind = {AWAITS[awaits].format(value=value)}\n"
        "        case _:\n            kind = 'other'\n"
        f"{after}"
    )


CASES = list(itertools.product(PATTERNS, BOUND, AWAITS))


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEADER + "".join(_workflow(f"wf_{p}_{b}_{a}", p, b, a) for p, b, a in CASES)
    return load(source, Path(tmp_path_factory.mktemp("match_keywords")))


@pytest.mark.parametrize(("pattern", "bound", "awaits"), CASES, ids=["-".join(c) for c in CASES])
def test_a_class_patterns_keyword_reads_no_variable(
    module: Any, pattern: str, bound: str, awaits: str
) -> None:
    wf = getattr(module, f"wf_{pattern}_{bound}_{awaits}")
    questions = ["calc", "search", "cab", "FAIL q"]  # (odd lengths match the first case)
    traces_whole_and_agrees(wf, questions, [[]])


RETURNING = {
    "mapping": ('{"answer": str(a)}', "a"),
    "class": ('Call(name="calc", arg=a)', "a"),
    "sequence": ("[first, *_]", "first"),
    "literal_or": ('"stop" | "halt"', '"stopped"'),
    "guarded": ('str(a) if a.startswith("c")', "a.upper()"),
}
AFTER = {
    "falls_through": "    return 'other: ' + reply\n",
    "awaits_after": "    return await ayo.llm(f'Other {reply}', max_tokens=2)\n",
}


def _returning(name: str, pattern: str, after: str) -> str:
    case, value = RETURNING[pattern]
    return (
        f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n"
        "    reply = await ayo.llm(f'Say {q}', max_tokens=2)\n"
        "    subject = {'answer': q} if q.startswith('a') else Call(q, q) if q.startswith('c') else "
        "q.split() if q.startswith('l') else q\n"
        "    match subject:\n"
        f"        case {case}:\n            return {value}\n"
        "        case {'answer': 5}:\n            return 'five'\n"
        f"{AFTER[after]}"
    )


RETURNING_CASES = list(itertools.product(RETURNING, AFTER))


@pytest.fixture(scope="module")
def returning_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEADER + "".join(_returning(f"wf_{p}_{a}", p, a) for p, a in RETURNING_CASES)
    return load(source, Path(tmp_path_factory.mktemp("match_returning")))


@pytest.mark.parametrize(("pattern", "after"), RETURNING_CASES, ids=["-".join(c) for c in RETURNING_CASES])
def test_a_match_returning_without_awaits_is_a_cond(returning_module: Any, pattern: str, after: str) -> None:
    """A ``match`` whose cases ``return`` and await nothing is a ``cond`` (it was a graph break)."""
    wf = getattr(returning_module, f"wf_{pattern}_{after}")
    questions = ["answer", "calc", "list of words", "stop", "halt", "cab", "plain", "FAIL q"]
    traces_whole_and_agrees(wf, questions, [[]])
