"""Tasks added to a list the workflow keeps (``tasks.append(asyncio.create_task(f(q)))``,
``tasks.extend(...)``, ``tasks += [...]``) outside a loop are Python's tasks made by a graph break
(``task_uses.appended_task``), as the same line in a loop was: they were refused as work never
awaited. Every way to add them x to start the list x to await them: eager ≡ traced ≡ optimized,
failing calls among them."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.util import run_in_new_loop, three_runs_agree

from .programs import load

ADDED = {
    "append": "tasks.append(asyncio.create_task(ask(f'Q {q}')))",
    "extend_list": "tasks.extend([asyncio.create_task(ask(f'Q {q}')), asyncio.create_task(ask('other'))])",
    "extend_generator": "tasks.extend(asyncio.create_task(ask(f'E {d}')) for d in [q, 'x'])",
    "plus_equals": "tasks += [asyncio.create_task(ask(f'P {q}'))]",
}
START = {
    "empty": "tasks = []",
    "comprehension": "tasks = [asyncio.create_task(ask(f'Tag {d}')) for d in docs]",
}
AWAITED = {
    "gather": ["return list(await asyncio.gather(*tasks))"],
    "one_by_one": ["return [await t for t in tasks]"],
    "loop": ["out = []", "for t in tasks:", "    out.append(await t)", "return out"],
    "caught": [
        "try:",
        "    return list(await asyncio.gather(*tasks))",
        "except RuntimeError as e:",
        "    return ['failed', str(e)]",
    ],
}
CASES = list(itertools.product(ADDED, START, AWAITED))

HEAD = """
import asyncio

import ayo_trace as ayo


async def ask(p):
    return await ayo.llm(p, max_tokens=3)
"""


def _workflow(added: str, start: str, awaited: str) -> str:
    lines = [START[start], ADDED[added], *AWAITED[awaited]]
    body = "".join(f"    {line}\n" for line in lines)
    return f"\n\n@ayo.workflow\nasync def wf_{added}_{start}_{awaited}(q, docs):\n{body}"


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    source = HEAD + "".join(_workflow(*c) for c in CASES)
    return load(source, Path(tmp_path_factory.mktemp("appended_tasks")))


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_tasks_added_to_a_list_are_pythons_tasks(module: Any, case: tuple[str, str, str]) -> None:
    wf = getattr(module, "wf_" + "_".join(case))
    wf.graph("q", ["a"])  # (traced: it was refused)
    run_in_new_loop(lambda: three_runs_agree(wf, ["what is rust", "FAIL q"], [[], ["a", "FAIL b"]]))
