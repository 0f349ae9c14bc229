"""The frontend and the passes judge alike which names a statement may change in place
(``ir/mutation.py``): the frontend hands a changed name on from the statement's node, the passes keep
that node's order with the other readers of the name."""

from __future__ import annotations

import libcst as cst
import pytest

from ayo_trace.frontend.state import mutated_roots
from ayo_trace.ir import PyCode
from ayo_trace.ir.mutation import changed_names
from ayo_trace.passes.effects import _changed_params

STATEMENTS = {
    "x.get(k)": False,
    "y = x.items()": False,
    "n = len(x.keys()) + len(x.values())": False,
    "s = x.copy()": False,
    "x.append(v)": True,
    "x.setdefault(k, []).append(v)": True,
    "x[k] = v": True,
    "x.a += 1": True,
    "del x[0]": True,
    "x.pop()": True,
    "for row in x:\n    row.append(1)": True,
    "for i, (a, b) in enumerate(x):\n    a[i] = b": True,
    "for row in x:\n    print(row.get(1))": False,
}


@pytest.mark.parametrize("source", list(STATEMENTS), ids=[s.splitlines()[0] for s in STATEMENTS])
def test_the_frontend_and_the_passes_agree(source: str) -> None:
    import ast

    expected = STATEMENTS[source]
    assert ("x" in mutated_roots(cst.parse_statement(source))) is expected
    assert ("x" in changed_names(ast.parse(source))) is expected
    code = PyCode(source=source, params=("x", "k", "v"), returns=(), module="m", filename="f.py", line=1)
    assert (0 in _changed_params(code)) is expected
