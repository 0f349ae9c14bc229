"""An attribute of a module's object read through code of the user's (a ``__getattr__`` proxy
logging each lookup, a property counting its reads, a descriptor) on the way to an awaited call
(``await P.llm(q)``, ``await SVC.backend.answer(q)``): the tracer's analyses looked the attribute
up with ``getattr`` at trace time, so that code ran once more than Python runs it (found by
probes m60/m61: a log one entry longer). They now read such attributes without running the
user's code (``user_code.read_attribute``), and the call runs when the workflow does. Eager ≡
traced ≡ optimized on fresh module copies, a failing call among them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.util import fresh_copies_agree

HEAD = """
import ayo_trace as ayo

LOG = []


class Backend:
    async def answer(self, q):
        return await ayo.llm("A: " + q, max_tokens=3)
"""

SHAPES = {
    "proxy_of_ayo": """
class Proxy:
    def __getattr__(self, name):
        LOG.append(name)
        return getattr(ayo, name)


P = Proxy()


@ayo.workflow
async def wf(q, docs):
    a = await P.llm(q, max_tokens=3)
    return a, len(LOG)
""",
    "property_backend": """
class Service:
    def __init__(self):
        self._backend = Backend()

    @property
    def backend(self):
        LOG.append("backend")
        return self._backend


SVC = Service()


@ayo.workflow
async def wf(q, docs):
    return await SVC.backend.answer(q), len(LOG)
""",
    "delegating_wrapper": """
class Logged:
    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        LOG.append(name)
        return getattr(self._inner, name)


R = Logged(Backend())


@ayo.workflow
async def wf(q, docs):
    first = await R.answer(q)
    return first, list(LOG)
""",
    "descriptor": """
class Counted:
    def __get__(self, obj, kind=None):
        LOG.append("get")
        return obj._backend


class Holder:
    backend = Counted()

    def __init__(self):
        self._backend = Backend()


H = Holder()


@ayo.workflow
async def wf(q, docs):
    return await H.backend.answer(q), len(LOG)
""",
    "cached_property": """
import functools


class Lazy:
    @functools.cached_property
    def backend(self):
        LOG.append("made")
        return Backend()


L = Lazy()


@ayo.workflow
async def wf(q, docs):
    return await L.backend.answer(q), len(LOG)
""",
}
QUESTIONS = ["what is a heap", "explain FAIL here", "sort lists"]


@pytest.mark.parametrize("name", list(SHAPES))
def test_code_behind_an_attribute_runs_when_the_workflow_does(name: str, tmp_path: Any) -> None:
    fresh_copies_agree(HEAD + SHAPES[name], tmp_path, QUESTIONS)
