"""Module state the workflow changes, read through code of the user's a statement calls (a plain
function ``header()``, a static or class method, a property, a method of a module object, a
closure the workflow defines, a ``functools.partial``): the statement reads the state when the
graph runs, in program order with the statements changing it (``module_reads``), and a property
reading it is not folded at trace time. Generated over the reader, the change and where the read
stands (pairwise); eager ≡ traced ≡ optimized on fresh module copies, a failing call among them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import every_pair, fresh_copies_agree

STATE = 'CONFIG = {"style": "plain"}\n\n\nclass Box:\n    style = "plain"\n\n\nBOX = Box()\n'

# how the state is read: (module-level code, the expression reading it inside the workflow)
READERS = {
    "function": ("def header():\n    return f\"[{CONFIG['style']}]\"\n", "header()"),
    "staticmethod": (
        "class Fmt:\n    @staticmethod\n    def header():\n        return CONFIG['style'].upper()\n",
        "Fmt.header()",
    ),
    "property": (
        "class View:\n    @property\n    def header(self):\n        return '<' + CONFIG['style'] + '>'\n\n\n"
        "VIEW = View()\n",
        "VIEW.header",
    ),
    "method": (
        "class Reader:\n    def header(self):\n        return BOX.style * 2\n\n\nREADER = Reader()\n",
        "READER.header()",
    ),
    "closure": ("", "header()"),  # (`header = lambda: ...` in the workflow)
    "partial": (
        "import functools\n\n\ndef _tag(sep):\n    return sep.join([CONFIG['style'], BOX.style])\n\n\n"
        "header = functools.partial(_tag, '/')\n",
        "header()",
    ),
    "factory": (
        "def make(cfg):\n    def header():\n        return cfg['style'] + '!'\n    return header\n\n\n"
        "header = make(CONFIG)\n",
        "header()",
    ),
}

CHANGES = {
    "item": "    CONFIG['style'] = first[-2:]\n    BOX.style = first[-3:]\n",
    "attribute": "    setattr(BOX, 'style', first[-2:])\n    CONFIG.update(style=first[-1:])\n",
    "helper": "    restyle(first[-2:])\n",
}

PLACES = {
    "plain": "    h = {read}\n",
    "prompt": "    h = await ayo.llm(f'{{{read}}} {{q}}', max_tokens=3)\n",
    "condition": "    h = 'long' if len({read}) > 8 else 'short'\n",
}


def source(reader: str, change: str, place: str) -> str:
    module_code, read = READERS[reader]
    closure = "    header = lambda: CONFIG['style'] + BOX.style\n" if reader == "closure" else ""
    use = PLACES[place].format(read=read)
    return (
        "import ayo_trace as ayo\n\n"
        + STATE
        + "\n\ndef restyle(s):\n    CONFIG['style'] = s\n    BOX.style = s.upper()\n\n\n"
        + module_code
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + closure
        + use.replace("h =", "before =")
        + "    first = await ayo.llm(q, max_tokens=3)\n"
        + CHANGES[change]
        + use
        + "    CONFIG['style'] = 'plain'\n    BOX.style = 'plain'\n"
        + "    return before, first, h\n"
    )


CASES = every_pair(READERS, CHANGES, PLACES)
QUESTIONS = ["what is a heap", "explain FAIL here", "sort a list"]


@pytest.mark.parametrize(("reader", "change", "place"), CASES, ids=["-".join(c) for c in CASES])
def test_state_read_through_code_agrees(reader: str, change: str, place: str, tmp_path: Any) -> None:
    fresh_copies_agree(source(reader, change, place), tmp_path, QUESTIONS)
