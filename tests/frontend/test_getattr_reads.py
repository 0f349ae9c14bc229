"""``getattr(obj, "name")`` with the name written out is read as ``obj.name`` (``normalize``):
Python reads the attribute the same way, a property or ``__getattr__`` too, so it traces as the
attribute does (``await getattr(BOX, "tool_define")(q)`` was a graph break). With a default, a
name computed when the workflow runs, or a string that is no identifier, it stays the call.
Generated over the object, the attribute and the form; eager ≡ traced ≡ optimized on fresh module
copies, a failing call among them."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ayo_trace.frontend.breaks import graph_breaks
from tests.frontend.programs import load
from tests.util import fresh_copies_agree

MODULE = """
import ayo_trace as ayo

READS = []


class Toolbox:
    style = "short"

    async def tool_define(self, x):
        return await ayo.llm(f"Define ({self.style}) {x}", max_tokens=3)

    @property
    def budget(self):
        READS.append("budget")
        return 3


BOX = Toolbox()
"""

FORMS = {  # (the expression, whether it traces whole)
    "method": ('await getattr(BOX, "tool_define")(q)', True),
    "class_field": ('await ayo.llm(getattr(Toolbox, "style") + q, max_tokens=3)', True),
    "counting_property": ('await ayo.llm(q, max_tokens=getattr(BOX, "budget"))', False),
    # (read for a graph constant, a property counting its reads ran at trace time too: fixed in
    # `try_static_callable`, which now reads no attribute running the user's code)
    "counting_property_read": ("await ayo.llm(q, max_tokens=BOX.budget)", False),
    "with_default": ('await getattr(BOX, "tool_define", None)(q)', False),
    "computed_name": ('await getattr(BOX, "tool_" + "define")(q)', False),
}
PLACES = {
    "workflow": "    return {form}, list(READS)\n",
    "after_change": "    BOX.style = q[:4]\n    return {form}, list(READS)\n",
}
CASES = list(itertools.product(FORMS, PLACES))
QUESTIONS = ["what is a heap", "explain FAIL here", "sort"]


@pytest.mark.parametrize(("form", "place"), CASES, ids=["-".join(c) for c in CASES])
def test_a_getattr_of_a_written_name_reads_the_attribute(form: str, place: str, tmp_path: Any) -> None:
    expression, whole = FORMS[form]
    src = MODULE + "\n\n@ayo.workflow\nasync def wf(q, docs):\n" + PLACES[place].replace("{form}", expression)
    if whole and place == "workflow":
        assert graph_breaks(load(src, tmp_path).wf.graph("q", [])) == [], src
    (tmp_path / "runs").mkdir()
    fresh_copies_agree(src, tmp_path / "runs", QUESTIONS)
