"""An object of a class of the user's that writes itself (``__str__``, ``__repr__``,
``__format__``) formatted in an f-string's field, ``str()``, ``repr()``, ``format()``, ``%`` or
``str.format``, also inside a list: Python runs that code each time the expression runs, so the
graph formats it when it runs too (``folding._formats_user_code``, ``text._written_by_user``); it
was formatted once at trace time, so a ``__str__`` reading state the workflow changes kept its
old text, and one counting its calls counted once (and the trace itself counted). Found by a
probe. Generated over the class, where it is formatted and what changes; eager ≡ traced ≡
optimized on fresh module copies, a failing call among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.util import fresh_copies_agree

MODULE = """
import ayo_trace as ayo

CONFIG = {"tone": "neutral"}
MODE = "plain"


class Reads:
    def __str__(self):
        return CONFIG["tone"]


class Global:
    def __repr__(self):
        return f"<{MODE}>"


class Counts:
    def __init__(self):
        self.n = 0

    def __str__(self):
        self.n += 1
        return f"#{self.n}"

    def __format__(self, spec):
        self.n += 10
        return f"x{self.n}"


class Levels:
    level = "low"

    @classmethod
    def raise_level(cls):
        cls.level = "high"

    def __str__(self):
        return type(self).level


OBJ = {cls}()


def change():
    global MODE
    CONFIG["tone"] = "careful"
    MODE = "fancy"
    if hasattr(OBJ, "raise_level"):
        OBJ.raise_level()
"""

CLASSES = ["Reads", "Global", "Counts", "Levels"]
FORMS = {
    "f_string": 'f"{OBJ} {q}"',
    "repr_field": 'f"{OBJ!r}: {q}"',
    "format_spec": 'f"{OBJ:>4} {q}"',
    "str_call": '"[" + str(OBJ) + "] " + q',
    "percent": '"%s %s" % (OBJ, q)',
    "str_format": '"{} {}".format(OBJ, q)',
    "in_a_list": 'f"{[OBJ, OBJ]} {q}"',
}
PLACES = {
    "prompt": "    first = await ayo.llm({form}, max_tokens=4)\n",
    "statement": "    first = {form}\n    await ayo.llm(first, max_tokens=4)\n",
}
# (`!r` and a list's text use `__repr__`: only for the class defining it; object's own repr holds an
# address, which differs between the fresh copies compared)
CHANGES = {
    "helper": "    change()\n",
    "direct": '    CONFIG["tone"] = q[:4]\n',
    "none": "",
}
CASES = [
    c
    for c in itertools.product(CLASSES, FORMS, PLACES, CHANGES)
    if (c[1] not in ("repr_field", "in_a_list") or c[0] == "Global") and (c[3] != "direct" or c[0] == "Reads")
]
QUESTIONS = ["what is a heap", "explain FAIL here", "sort", "again"]


@pytest.mark.parametrize(("cls", "form", "place", "changes"), CASES, ids=["-".join(c) for c in CASES])
def test_an_object_writing_itself_is_formatted_when_the_workflow_runs(
    cls: str, form: str, place: str, changes: str, tmp_path: Any
) -> None:
    src = (
        MODULE.replace("{cls}", cls)
        + "\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + PLACES[place].replace("{form}", FORMS[form])
        + CHANGES[changes]
        + "    second = await ayo.llm("
        + FORMS[form]
        + ", max_tokens=4)\n"
        + "    return first, second, getattr(OBJ, 'n', None)\n"
    )
    fresh_copies_agree(src, tmp_path, QUESTIONS)


# the shapes the probe found, as it wrote them: the text formatted once at trace time showed on
# the second query, which reads the state the first changed
FOUND = {
    "str_reads_config": (
        'CONFIG = {"tone": "neutral"}\n\n\nclass System:\n    def __str__(self):\n        return CONFIG["tone"]\n',
        '    ans = await ayo.llm(f"{OBJ} {q}", max_tokens=4)\n    CONFIG["tone"] = "careful"\n    return ans\n',
    ),
    "repr_reads_global": (
        'MODE = "plain"\n\n\ndef bump():\n    global MODE\n    MODE = "fancy"\n\n\n'
        'class System:\n    def __repr__(self):\n        return f"<{MODE}>"\n',
        '    ans = await ayo.llm(f"{OBJ!r} {q}", max_tokens=4)\n    bump()\n    return ans\n',
    ),
    "str_counts": (
        "class System:\n    def __init__(self):\n        self.n = 0\n\n    def __str__(self):\n"
        '        self.n += 1\n        return f"#{self.n}"\n',
        '    ans = await ayo.llm(f"Request {OBJ}: {q}", max_tokens=4)\n    return ans, OBJ.n\n',
    ),
    "format_counts": (
        "class System:\n    def __init__(self):\n        self.n = 0\n\n    def __format__(self, spec):\n"
        '        self.n += 1\n        return f"x{self.n}"\n',
        '    text = f"{OBJ:x} {q}"\n    return text, OBJ.n\n',
    ),
    "class_attribute": (
        'class System:\n    level = "low"\n\n    @classmethod\n    def up(cls):\n        cls.level = "high"\n\n'
        "    def __str__(self):\n        return type(self).level\n",
        '    ans = await ayo.llm(f"{OBJ}: {q}", max_tokens=4)\n    System.up()\n    return ans\n',
    ),
}


@pytest.mark.parametrize("name", list(FOUND))
def test_the_shapes_found_agree_on_repeated_queries(name: str, tmp_path: Any) -> None:
    head, body = FOUND[name]
    src = (
        "import ayo_trace as ayo\n\n"
        + head
        + "\n\nOBJ = System()\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + body
    )
    fresh_copies_agree(src, tmp_path, ["hi", "hi", "explain FAIL", "hi"])
