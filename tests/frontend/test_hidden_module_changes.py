"""Module state a workflow changes through code its statements do not show: eager ≡ traced ≡
optimized, each variant on a fresh copy of the module and called twice (a value folded at trace
time would repeat).

Found by a probe of error-handling code (all wrong answers before): a log call whose handler is
the user's (``impure._handlers_code``); a buffer, queue, array or iterator of the standard library
changed by a method, ``print(file=)`` or ``next`` (``class_changes._MUTABLE``); a call through a
dispatch table (of functions or lambdas), a bound method kept in a local or an attribute, a
``functools.partial`` given the module's dict, or an object holding the module's list
(``impure._reached``, ``closures._method_aliases``); a property getter counting, which the trace ran
once per trace (``folding._runs_code``).

Found by a probe of typed Python (probe zn): the cache of a function behind ``functools.cache``
(``impure._reached``); a dataclass field's ``default_factory`` that counts, which the trace called
to make its copy of the object (``made_fields._makes_new``) and whose calls the graph reordered
(``impure._changes_of``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.util import outcome, run_in_new_loop, scripted_runtime

from .programs import load

HEAD = """
import array
import asyncio
import collections
import functools
import io
import itertools
import logging
import queue
import types

import ayo_trace as ayo
"""

LOGGED = """
RECORDS = []


class ListHandler(logging.Handler):
    def emit(self, record):
        RECORDS.append(record.getMessage())


log = logging.getLogger(f"ayo.tests.hidden.{id(RECORDS)}")
log.propagate = False
log.addHandler(ListHandler())
log.setLevel(logging.INFO)
"""

DATA = "import dataclasses\n"

ISSUE = """
ISSUED = []


def next_id():
    ISSUED.append(len(ISSUED) + 1)
    return ISSUED[-1]


@dataclasses.dataclass
class Ticket:
    text: str
    id: int = dataclasses.field(default_factory=next_id)
    tags: list = dataclasses.field(default_factory=list)
"""

CASES: dict[str, tuple[str, list[str]]] = {
    # name: (module lines, workflow body)
    "log_call_then_len": (
        LOGGED,
        ["a = await ayo.llm(q, max_tokens=2)", "log.info('answered %s', a)", "return len(RECORDS)"],
    ),
    "log_before_await": (
        LOGGED,
        ["log.warning('asking')", "a = await ayo.llm(q, max_tokens=2)", "return a, RECORDS[-1]"],
    ),
    "adapter": (LOGGED, ["ad = logging.LoggerAdapter(log, {})", "ad.info('x')", "return len(RECORDS)"]),
    "module_adapter": (
        LOGGED + "AD = logging.LoggerAdapter(log, {})\n",
        ["AD.error('x')", "return list(RECORDS)"],
    ),
    "logged_gather": (
        LOGGED + "\nasync def logged(text):\n    log.info('start %s', text)\n"
        "    a = await ayo.llm(text, max_tokens=2)\n    log.info('end %s', text)\n    return a\n",
        [
            "text = q.replace('FAIL', 'fail')  # (a failed gather leaves the other call running: timing)",
            "answers = await asyncio.gather(logged(text), logged('second'))",
            "return answers, list(RECORDS)",
        ],
    ),
    "string_buffer": (
        "BUF = io.StringIO()\n",
        ["await ayo.llm(q, max_tokens=2)", "BUF.write('x')", "return len(BUF.getvalue())"],
    ),
    "print_to_buffer": (
        "BUF = io.StringIO()\n",
        ["a = await ayo.llm(q, max_tokens=2)", "print(a, file=BUF)", "return BUF.getvalue().count('\\n')"],
    ),
    "queue_put": ("Q = queue.Queue()\n", ["await ayo.llm(q, max_tokens=2)", "Q.put(q)", "return Q.qsize()"]),
    "array_append": ("ARR = array.array('i')\n", ["ARR.append(len(q))", "return len(ARR), sum(ARR)"]),
    "deque_append": (
        "D = collections.deque(maxlen=3)\n",
        ["D.append(await ayo.llm(q, max_tokens=2))", "return len(D)"],
    ),
    "counter_after_failing_call": (
        "IDS = itertools.count(1)\n",
        ["a = await ayo.llm(q, max_tokens=2)", "rid = next(IDS)", "return rid, a"],
    ),
    "dispatch_table": (
        "ERRORS = []\n\ndef on_error(e):\n    ERRORS.append(e)\n\nHANDLERS = {'val': on_error}\n",
        ["HANDLERS['val'](q)", "return len(ERRORS)"],
    ),
    "dispatch_get": (
        "ERRORS = []\nHANDLERS = {'val': ERRORS.append}\n",
        ["HANDLERS.get('val')(q)", "return len(ERRORS)"],
    ),
    "lambda_table": (
        "ERRORS = []\nHANDLERS = {RuntimeError: lambda e: ERRORS.append('rt'), ValueError: lambda e: ERRORS.append('v')}\n",
        [
            "try:",
            "    if not q.startswith('what'):",
            "        raise ValueError(q)",
            "    await ayo.llm(q, max_tokens=2)",
            "except (RuntimeError, ValueError) as e:",
            "    HANDLERS[type(e)](e)",
            "return list(ERRORS)",
        ],
    ),
    "module_partial": (
        "METRICS = {'calls': 0}\n\ndef _bump(counter, key):\n    counter[key] = counter.get(key, 0) + 1\n\n"
        "bump = functools.partial(_bump, METRICS)\n",
        ["await ayo.llm(q, max_tokens=2)", "bump('calls')", "return dict(METRICS)"],
    ),
    "method_alias": ("ERRORS = []\n", ["add = ERRORS.append", "add(q)", "return len(ERRORS)"]),
    "hook_attribute": (
        "ERRORS = []\nCFG = types.SimpleNamespace(on_error=ERRORS.append)\n",
        ["CFG.on_error(q)", "return len(ERRORS)"],
    ),
    "holder_method": (
        "OUT = []\n\nclass Holder:\n    def __init__(self, target):\n        self.target = target\n\n"
        "    def write(self, m):\n        self.target.append(m)\n\nHOLD = Holder(OUT)\n",
        ["HOLD.write(q)", "return len(OUT)"],
    ),
    "recorder_in_gathered_helpers": (
        "EVENTS = []\n\nclass Recorder:\n    def __init__(self, sink):\n        self.sink = sink\n\n"
        "    def note(self, x):\n        self.sink.append(x)\n\nREC = Recorder(EVENTS)\n\n"
        "async def call(p):\n    REC.note(('start', p))\n    out = await ayo.llm(p, max_tokens=2)\n"
        "    REC.note(('end', p))\n    return out\n",
        [
            "n = len(EVENTS)",
            "await asyncio.gather(call('a ' + q.replace('FAIL', 'f')), call('b'))",
            "return EVENTS[n:]",
        ],
    ),
    "counting_property": (
        "class Ids:\n    def __init__(self):\n        self.n = 0\n\n    @property\n    def next_id(self):\n"
        "        self.n += 1\n        return self.n\n\nIDS = Ids()\n",
        ["rid = IDS.next_id", "a = await ayo.llm(f'{rid} {q}', max_tokens=2)", "return rid, a"],
    ),
    "counting_property_after_failing_call": (
        "class Ids:\n    def __init__(self):\n        self.n = 0\n\n    @property\n    def next_id(self):\n"
        "        self.n += 1\n        return self.n\n\nIDS = Ids()\n",
        ["a = await ayo.llm(q, max_tokens=2)", "rid = IDS.next_id", "return rid, a"],
    ),
    # a function behind `functools.cache`/`lru_cache` fills its cache at each call (probe zn)
    "lru_cache_info": (
        "@functools.lru_cache(maxsize=None)\ndef words(s):\n    return len(s.split())\n",
        [
            "a = await ayo.llm(q, max_tokens=5)",
            "n = words(a)",
            "misses = words.cache_info().misses",
            "return n, misses",
        ],
    ),
    "cache_info_between_calls": (
        "@functools.cache\ndef words(s):\n    return len(s.split())\n",
        [
            "b = words(q)",
            "a = await ayo.llm(q, max_tokens=5)",
            "n = words(a)",
            "info = words.cache_info()",
            "return b, n, info.hits, info.misses",
        ],
    ),
    # a dataclass field's `default_factory` that counts: each object made draws from it
    "dataclass_factory_counter": (
        DATA + "@dataclasses.dataclass\nclass Msg:\n    text: str\n"
        "    id: int = dataclasses.field(default_factory=itertools.count(1).__next__)\n",
        [
            "msgs = [Msg(q)]",
            "a = await ayo.llm(q, max_tokens=2)",
            "msgs.append(Msg(a))",
            "return [m.id for m in msgs]",
        ],
    ),
    "dataclass_factory_field_read": (
        DATA + ISSUE,
        ["a = await ayo.llm(q, max_tokens=2)", "t = Ticket(a)", "return t.id"],
    ),
    "dataclass_factory_made_of_constants": (
        DATA + ISSUE,
        ["t = Ticket('static')", "a = await ayo.llm(q, max_tokens=2)", "return t.id, len(ISSUED)"],
    ),
    "dataclass_factories_in_order": (
        DATA + ISSUE,
        ["a = await ayo.llm(q, max_tokens=2)", "t1 = Ticket(a)", "t2 = Ticket('x')", "return t1.id, t2.id"],
    ),
    "dataclass_factory_then_len": (
        DATA + ISSUE,
        ["a = await ayo.llm(q, max_tokens=2)", "t = Ticket(a)", "return t.id, len(ISSUED)"],
    ),
}


def _source(name: str) -> str:
    module, body = CASES[name]
    lines = "".join(f"    {line}\n" for line in body)
    return f"{HEAD}\n{module}\n\n@ayo.workflow\nasync def wf(q, docs):\n{lines}"


def _runs(wf: Any, variant: str) -> list[Any]:
    import ayo_trace as ayo

    run = {"eager": wf.eager, "unoptimized": ayo.workflow(wf.fn, passes=[]), "optimized": wf}[variant]

    async def go() -> list[Any]:
        async with scripted_runtime():
            return [await outcome(run, q, []) for q in ["what is rust", "FAIL x", "again"]]

    return run_in_new_loop(go)


@pytest.mark.parametrize("name", list(CASES))
def test_state_changed_through_hidden_code_agrees(name: str, tmp_path: Path) -> None:
    source = _source(name)
    runs = {}
    for v in ("eager", "unoptimized", "optimized"):
        (tmp_path / v).mkdir()
        runs[v] = _runs(load(source, tmp_path / v).wf, v)
    assert runs["unoptimized"] == runs["eager"], runs
    assert runs["optimized"] == runs["eager"], runs


def test_a_getter_computing_a_value_is_still_folded(tmp_path: Path) -> None:
    # (only a getter changing state is left to run time: `max_tokens=CFG.budget` stays a constant)
    from ayo_trace.frontend.breaks import graph_breaks

    source = (
        f"{HEAD}\n\nclass Cfg:\n    base = 2\n\n    @property\n    def budget(self):\n"
        "        return self.base + 1\n\nCFG = Cfg()\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        "    return await ayo.llm(q, max_tokens=CFG.budget)\n"
    )
    assert graph_breaks(load(source, tmp_path).wf.graph("q", [])) == []


def test_a_dataclass_made_with_builtin_factories_keeps_its_constant_fields(tmp_path: Path) -> None:
    # (only a factory with an effect is left to run time: `tags: list = field(default_factory=list)`
    # still lets `collection=` of the object made of constants be a graph constant)
    from ayo_trace.frontend.breaks import graph_breaks

    source = (
        f"{HEAD}\nimport dataclasses\n\n\n@dataclasses.dataclass\nclass Rag:\n    collection: str = 'kb'\n"
        "    tags: list = dataclasses.field(default_factory=list)\n\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        "    rag = Rag()\n    return await ayo.search(q, collection=rag.collection)\n"
    )
    assert graph_breaks(load(source, tmp_path).wf.graph("q", [])) == []
