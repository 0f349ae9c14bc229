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


# a handler's class from the workflow's own import (`import json` ... `except json.JSONDecodeError`),
# in a `try` of a loop that returns or breaks from it: the class is known at trace time, as the
# module's import would be (the loop's body was given the name without it: refused)
HANDLERS = {
    "import": ("import json", "json.JSONDecodeError", "json.loads"),
    "import_as": ("import json as j", "j.JSONDecodeError", "j.loads"),
    "from": ("from json import JSONDecodeError, loads", "JSONDecodeError", "loads"),
    "from_as": ("from json import JSONDecodeError as Bad, loads as parse", "Bad", "parse"),
}
LOOPS = {
    "return": [
        "        try:",
        "            return {parse}(txt)",
        "        except {error}:",
        "            pass",
    ],
    "break": [
        "        try:",
        "            out.append({parse}(txt))",
        "        except {error} as e:",
        "            out.append(type(e).__name__)",
        "            if len(out) > 1:",
        "                break",
    ],
    "tuple": [
        "        try:",
        "            return {parse}(txt)",
        "        except ({error}, KeyError):",
        "            out.append(i)",
    ],
}
HANDLER_CASES = [(f, loop) for f in HANDLERS for loop in LOOPS]


def _handling(name: str, form: str, loop: str) -> str:
    stmt, error, parse = HANDLERS[form]
    body = "".join(line.format(parse=parse, error=error) + "\n" for line in LOOPS[loop])
    return (
        f"\n\n@ayo.workflow\nasync def {name}(q, docs):\n    {stmt}\n    out = []\n"
        "    for i in range(3):\n"
        "        txt = await ayo.llm(f'JSON {q} {i}', max_tokens=2)\n"
        f"{body}    return out\n"
    )


@pytest.fixture(scope="module")
def handling(tmp_path_factory: pytest.TempPathFactory) -> Any:
    made = [_handling(f"wf_{form}_{loop}", form, loop) for form, loop in HANDLER_CASES]
    return load(
        "\nimport ayo_trace as ayo\n" + "".join(made), Path(tmp_path_factory.mktemp("local_handlers"))
    )


@pytest.mark.parametrize("case", HANDLER_CASES, ids=["-".join(c) for c in HANDLER_CASES])
def test_a_handler_s_class_the_workflow_imports_is_known(handling: Any, case: tuple[str, str]) -> None:
    wf = getattr(handling, "wf_" + "_".join(case))
    traces_whole_and_agrees(wf, ["q", "FAIL q"], [[]])
