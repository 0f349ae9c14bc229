"""``examples/quickstart.py`` (the README's first snippet, as a complete program) runs as written: it
prints the traced and the optimized graph and a non-empty answer, which equals the eager one."""

from __future__ import annotations

from pathlib import Path

import pytest

import ayo_trace as ayo

from .conftest import load_example

pytestmark = [pytest.mark.real, pytest.mark.anyio]


async def test_the_quickstart_runs_as_written(
    on_real_runtime: ayo.Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    quickstart = load_example("quickstart")
    await quickstart.main()
    out = capsys.readouterr().out
    assert out.count("graph answer(question, docs):") == 2
    assert "llm_prefill" in out  # the second graph is the optimized one
    printed = out.rstrip("\n").rsplit("\n", 1)[-1]
    assert printed.strip()
    assert printed == await quickstart.answer.eager("What does json.dumps do?", quickstart.DOCS)


def test_the_readmes_first_snippet_is_the_quickstart_file() -> None:
    """The README's first code block is ``examples/quickstart.py`` without its docstring, so what the
    test above runs is what a reader copies."""
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    program = (root / "examples" / "quickstart.py").read_text().split('"""', 2)[2].lstrip("\n")
    assert block == program
