"""Test configuration shared by the whole suite.

Real-engine fixtures are session-scoped so each model loads once; they live in ``tests/fixtures/``
(one module per engine family) and are registered here as plugins.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import settings

import ayo_trace.testing  # noqa: F401  (registers the "scripted" backend the suite's configs name)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The suite's property tests replay the same examples on every run, so a run is reproducible and a
# green commit stays green; `pytest --hypothesis-profile=explore` searches new random examples (and
# keeps what it finds in .hypothesis/ for the next runs). A bug found that way gets a plain test.
settings.register_profile("default", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=1000, print_blob=True)
settings.load_profile("default")

pytest_plugins = [
    "tests.fixtures.llm",
    "tests.fixtures.openai_server",
    "tests.fixtures.retrieval",
]


# With pytest-xdist (`-n auto`, pyproject.toml), the tracer's and the passes' tests, pure Python
# on scripted engines, spread over the workers; every other test (real models loaded once per
# session, PostgreSQL, model servers on localhost, Ray clusters) stays in one group, which one worker
# runs in order, as a run without workers does.
_SPREAD = ("tests/frontend/", "tests/passes/")


@pytest.hookimpl(wrapper=True)  # (around xdist's, which names each test's group from its marks)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> Iterator[None]:
    for item in items:
        if not item.nodeid.startswith(_SPREAD):
            item.add_marker(pytest.mark.xdist_group("serial"))
    return (yield)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported (the libraries, ayo_trace, the test modules and their corpora)
    lives for the whole session: frozen out of the garbage collector's reach, so that each
    collection during the tests, and each ``gc.collect()`` below, walks only what the tests made
    (a worker's full collection took a fifth of a second on a 2-core machine before any test ran)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Session scope, so session-scoped async engine fixtures share the tests' event loop (models load
    once). Sync tests that need their own loop use ``tests.util.run_in_new_loop``."""
    return "asyncio"


@pytest.fixture(autouse=True)
def _unawaited_coroutines_collected(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test whose workflows may leave a coroutine never awaited (eager Python does, when a call
    before its ``await`` fails) says so by ignoring RuntimeWarning; such a coroutine, kept alive by
    a reference cycle (the exception's traceback), is collected before the test ends, under the
    test's own warning filters, so its warning never fails whatever test runs next on the worker."""
    yield
    if any(
        "RuntimeWarning" in str(arg)
        for mark in request.node.iter_markers("filterwarnings")
        for arg in mark.args
    ):
        gc.collect()


@pytest.fixture(autouse=True, scope="module")
def _generated_modules_dropped() -> Iterator[None]:
    """The modules a test module generates (``tests.frontend.programs.load`` keeps each in
    ``sys.modules``, where the tracer finds a class's source) are dropped after it: kept, every
    workflow they hold, its traces and its parsed source would stay alive for the whole session,
    and each garbage collection walk them (it took a worker seconds by the suite's end)."""
    before = set(sys.modules)
    yield
    for name in [n for n in sys.modules if n.startswith("ayo_generated_") and n not in before]:
        del sys.modules[name]
