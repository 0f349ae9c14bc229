"""Workflows the probes wrote as users write them, each once a wrong answer (or a crash) of a
rewrite or of the tracer: a ``try`` around a loop whose header or the statements before it run
code that may raise what the handlers catch (a generator, ``map``, a user's ``pop``, ``get`` or
property raising ``ayo.EngineError``, a set display of a list, a local ``zip``; ``try_*``), and a
method call awaiting in its arguments on an item of a ``defaultdict`` or a mapping of the user's
(the entry made before the await; ``recv_*``). Eager ≡ traced ≡ optimized on fresh module copies,
a failing call among the questions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.util import fresh_copies_agree

HERE = Path(__file__).parent / "probed"
FILES = sorted(p.name for p in HERE.glob("*.py"))
QUESTIONS = ["what is a heap", "explain FAIL here", "sort lists"]


@pytest.mark.parametrize("name", FILES)
def test_a_probed_workflow_agrees(name: str, tmp_path: Any) -> None:
    fresh_copies_agree((HERE / name).read_text(), tmp_path, QUESTIONS)
