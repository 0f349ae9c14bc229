"""Loops that fill a dict (or list) by ``acc[key] = value``: a ``map`` when no iteration reads what
earlier ones set, a carried ``loop`` otherwise; in every variant eager ≡ traced ≡ optimized (with
duplicate keys, a key that fails, a list index out of range, the dict iterated over, names bound
again after the line, which an ``append`` had got wrong: its argument was read at the body's end),
and one list grown by two lines of the body (also through two names), which a map had extended
with each line's items in a run instead of in turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from ayo_trace.passes import DEFAULT_PASSES
from tests.util import run_in_new_loop

from .programs import load
from .test_corpus_control import run_modes
from .test_differential import DOCS, QUESTION, assert_all_equal

HEADER = (
    "import ayo_trace as ayo\n\nNAMES = {'a': 1}\n\n\n@ayo.workflow\nasync def program(question, docs):\n"
)

VARIANTS = {  # body, the loop's node
    "by item": (
        ["out = {}", "for d in docs:", "    out[d] = await ayo.llm(d, max_tokens=3)", "return out"],
        "map",
    ),
    "by index": (
        ["out = {}", "for i, d in enumerate(docs):", '    out[i] = await ayo.llm(f"{i}: {d}", max_tokens=3)'],
        "map",
    ),
    "presized list": (
        [
            "out = [None] * len(docs)",
            "for i, d in enumerate(docs):",
            "    out[i] = await ayo.llm(d, max_tokens=3)",
        ],
        "map",
    ),
    "duplicate keys": (
        ["out = {}", "for d in docs:", "    out[len(d) % 2] = await ayo.llm(d, max_tokens=3)"],
        "map",
    ),
    "with an append": (
        [
            "out, lens = {}, []",
            "for d in docs:",
            "    r = await ayo.llm(d, max_tokens=3)",
            "    out[d.split()[0]] = r.strip()",
            "    lens.append(len(r))",
            "out['n'] = sum(lens)",
        ],
        "map",
    ),
    "key from a dict that lacks it": (
        ["out = {}", "for d in docs:", "    out[NAMES[d]] = await ayo.llm(d, max_tokens=3)"],
        "map",
    ),
    "list index out of range": (
        ["out = [None]", "for i, d in enumerate(docs):", "    out[i] = await ayo.llm(d, max_tokens=3)"],
        "map",
    ),
    "names bound again after the line": (
        [
            "out = {}",
            "for d in docs:",
            "    r = await ayo.llm(d, max_tokens=3)",
            "    out[d] = r",
            "    d, r = d + '!', r.upper()",
        ],
        "map",
    ),
    "an append, then its argument bound again": (
        [
            "out = []",
            "for d in docs:",
            "    r = await ayo.llm(d, max_tokens=3)",
            "    out.append(r)",
            "    r = r.upper()",
        ],
        "map",
    ),
    "two dicts": (
        [
            "out, back = {}, {}",
            "for d in docs:",
            "    r = await ayo.llm(d, max_tokens=3)",
            "    out[d] = r",
            "    back[r] = d",
        ],
        "map",
    ),
    "one list grown by two lines": (
        ["out = []", "for d in docs:", "    out.append(d)", "    out.append(await ayo.llm(d, max_tokens=3))"],
        "loop",
    ),
    "two names for one list": (
        [
            "out = []",
            "view = out",
            "for d in docs:",
            "    out.append(d)",
            "    view.append(await ayo.llm(d, max_tokens=3))",
        ],
        "loop",
    ),
    "key reads the dict": (
        ["out = {}", "for d in docs:", "    out[len(out)] = await ayo.llm(d, max_tokens=3)"],
        "loop",
    ),
    "value reads the dict": (
        ["out = {}", "for d in docs:", '    out[d] = await ayo.llm(f"{d} {len(out)}", max_tokens=3)'],
        "loop",
    ),
    "the dict iterated over": (
        ["out = dict.fromkeys(docs)", "for k in out:", "    out[k] = await ayo.llm(k, max_tokens=3)"],
        "loop",
    ),
    "a new key while iterating it": (
        ["out = dict.fromkeys(docs)", "for k in out:", '    out[k + "!"] = await ayo.llm(k, max_tokens=3)'],
        "loop",
    ),
    "a key that awaits": (
        ["out = {}", "for d in docs:", "    out[(await ayo.llm(d, max_tokens=2)).strip()] = d"],
        "loop",
    ),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_loop_filling_a_dict_returns_what_eager_returns(name: str, tmp_path: Path) -> None:
    lines, op = VARIANTS[name]
    if not lines[-1].startswith("return"):
        lines = [*lines, "return out"]
    module = load(HEADER + "".join(f"    {line}\n" for line in lines), tmp_path)
    graph = module.program.graph(QUESTION, DOCS)
    assert [n.op for n in graph.walk() if n.op in ("map", "loop", "break")] == [op], str(graph)
    results = run_in_new_loop(run_modes, module.program, (QUESTION, DOCS), 5, [[], list(DEFAULT_PASSES)])
    assert_all_equal(results)
