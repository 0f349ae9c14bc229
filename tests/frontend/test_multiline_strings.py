"""A string written over several lines (a triple-quoted prompt) keeps exactly its text: its lines
are not indented when a statement is compiled into a node (``ir.code.compile_statement`` puts the
statement in as a tree) nor dedented with the function's source (``ir.code.dedented``: a method's
or a nested function's prompt whose lines are less indented than its code parsed as anything
else). Random prompts (an f-string, ``.format``, a plain string joined to a value; lines at the
left margin, less or more indented than the code) in a workflow, a method of a helper class, a
workflow defined in a function, returned, sent to the LLM or built in a comprehension: eager ≡
traced ≡ optimized, and the text is the one Python makes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.util import run_in_new_loop, scripted_runtime, three_runs_agree

from .programs import load

MARGINS = ["", "  ", "            "]  # (a continuation line's indentation: none, less, more)

STRINGS = [  # {m}: a continuation line's margin
    'f"""Question: {{q}}\n{m}Context: {{len(docs)}}\n{m}Answer:"""',
    '"""Question: {{}}\n{m}Answer:""".format(q)',
    '"""Question:\n{m}  -""" + q',
    "'''a\\tb\n{m}{{q}}\n'''.replace('{{q}}', q)",
]

USES = [
    "return {s}",
    "p = {s}\n{i}return p, await ayo.llm(p, max_tokens=2)",
    "ps = [{s} + d for d in docs]\n{i}return ps, [await ayo.llm(p, max_tokens=2) for p in ps]",
]


def source(string: int, margin: int, use: int, where: int) -> str:
    def body(indent: str) -> str:
        s = STRINGS[string].format(m=MARGINS[margin])
        return indent + USES[use].format(s=s, i=indent)

    if where == 0:  # the workflow itself
        return f"import ayo_trace as ayo\n\n\n@ayo.workflow\nasync def program(q, docs):\n{body('    ')}\n"
    if where == 1:  # a method of a helper class
        return (
            "import ayo_trace as ayo\n\n\nclass Helper:\n    async def run(self, q, docs):\n"
            f"{body('        ')}\n\n\nHELPER = Helper()\n\n\n@ayo.workflow\nasync def program(q, docs):\n"
            "    return await HELPER.run(q, docs)\n"
        )
    return (  # a workflow defined in a function
        "import ayo_trace as ayo\n\n\ndef make():\n    @ayo.workflow\n    async def program(q, docs):\n"
        f"{body('        ')}\n\n    return program\n\n\nprogram = make()\n"
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    string=st.integers(0, len(STRINGS) - 1),
    margin=st.integers(0, len(MARGINS) - 1),
    use=st.integers(0, len(USES) - 1),
    where=st.integers(0, 2),
)
def test_a_string_over_several_lines_keeps_its_text(
    string: int, margin: int, use: int, where: int, tmp_path: Path
) -> None:
    wf = load(source(string, margin, use, where), tmp_path).program
    run_in_new_loop(lambda: three_runs_agree(wf, ["q", "FAIL q"], [[], ["a", "b"]]))


def test_the_text_is_pythons(tmp_path: Path) -> None:
    for where in (0, 1, 2):
        wf = load(source(0, 0, 0, where), tmp_path).program

        async def check(wf: Any) -> str:
            async with scripted_runtime():
                return await wf("q", ["a"])

        assert run_in_new_loop(check, wf) == "Question: q\nContext: 1\nAnswer:", where
