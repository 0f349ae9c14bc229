"""What a workflow imports itself (``import contextlib``, ``from contextlib import suppress as
quiet``) is known to the rewrites that read a ``with`` by what it enters (``normalize._imported``):
``with contextlib.suppress(E):`` is the ``try`` it means, as with the module's own import. It was
a graph break. Every import form, over inputs that fail and not: eager ≡ traced ≡ optimized, no
graph break."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.util import traces_whole_and_agrees

from .programs import load

SUPPRESS = {
    "import": ("import contextlib", "contextlib.suppress"),
    "import_as": ("import contextlib as cl", "cl.suppress"),
    "from": ("from contextlib import suppress", "suppress"),
    "from_as": ("from contextlib import suppress as quiet", "quiet"),
}


def _suppressing(name: str, form: str) -> str:
    stmt, call = SUPPRESS[form]
    return (
        f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n    {stmt}\n    out = ['none']\n"
        f"    with {call}(ayo.EngineError):\n"
        "        out = [await ayo.llm(f'Say {q}', max_tokens=2)]\n"
        "        out.append('after')\n"
        "    return out\n"
    )


CASES = list(SUPPRESS)


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    made = [_suppressing(f"wf_{form}", form) for form in CASES]
    source = "\nimport ayo_trace as ayo\n" + "".join(made)  # (nothing else imported by the module)
    return load(source, Path(tmp_path_factory.mktemp("local_imports")))


@pytest.mark.parametrize("form", CASES)
def test_what_the_workflow_imports_itself_is_known(module: Any, form: str) -> None:
    wf = getattr(module, f"wf_{form}")
    traces_whole_and_agrees(wf, ["q", "FAIL q"], [[]])
