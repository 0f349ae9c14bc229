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
(``impure._changes_of``). By a probe of stateful classes (probe zm): the callbacks an object holds
(an event bus's subscribers, ``impure._held_callables``), a property's setter (``impure._methods``),
and a method Python calls without the code naming it (``__str__`` of an object in a prompt,
``__iter__`` in a ``join`` or a ``for``, ``__contains__``: ``impure.implicit_changes``), a lazy
``map`` or generator over such a function drawn after other effects (``lazy_effects``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.util import fresh_copies_agree

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

BUS = """
RECEIVED = []


def store(ev):
    RECEIVED.append(ev)


class EventBus:
    def __init__(self):
        self.subs = []
        self.handlers = {}

    def publish(self, ev):
        for s in self.subs:
            s(ev)

    def emit(self, kind, ev):
        self.handlers[kind](ev)


BUS = EventBus()
BUS.subs.append(store)
BUS.handlers["done"] = lambda ev: RECEIVED.append("done:" + ev)
"""

MACHINE = """
RECEIVED = []


class Machine:
    def __init__(self):
        self._s = "idle"

    @property
    def state(self):
        return self._s

    @state.setter
    def state(self, v):
        RECEIVED.append(f"{self._s}->{v}")
        self._s = v
"""

RECORD = """
LOG = []


def record(x):
    LOG.append(x)
    return x
"""

CLOSING = """
LOG = []


def words(text):
    try:
        yield from text.split() or ["none"]
    finally:
        LOG.append("closed")
"""

SINGLE = """
class Single:
    _made = None

    def __new__(cls):
        if cls._made is None:
            cls._made = super().__new__(cls)
            cls._made.calls = 0
        return cls._made

    async def ask(self, p):
        self.calls += 1
        return await ayo.llm(p, max_tokens=2)
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
    # an object's stored callbacks, a property's setter, a method Python calls without the code
    # naming it (probe zm)
    "event_bus_subscribers": (
        BUS,
        ["a = await ayo.llm(q, max_tokens=2)", "BUS.publish(a[:4])", "return len(RECEIVED)"],
    ),
    "event_bus_handler_table": (
        BUS,
        ["a = await ayo.llm(q, max_tokens=2)", "BUS.emit('done', a[:3])", "return list(RECEIVED)"],
    ),
    "property_setter_of_module_object": (
        MACHINE + "MACHINE = Machine()\n",
        ["a = await ayo.llm(q, max_tokens=2)", "MACHINE.state = a[:5]", "return list(RECEIVED)"],
    ),
    "property_setter_of_own_object": (
        MACHINE,
        ["m = Machine()", "m.state = 'asking'", "return len(RECEIVED)"],
    ),
    "counting_str_in_prompt": (
        "class Agent:\n    def __init__(self):\n        self.turns = 0\n\n    def __str__(self):\n"
        "        self.turns += 1\n        return 'agent'\n",
        [
            "a = Agent()",
            "x = await ayo.llm(q, max_tokens=2)",
            "await ayo.llm(f'{a}: {x}', max_tokens=2)",
            "return a.turns",
        ],
    ),
    "logging_iter_in_join": (
        "LOG = []\n\n\nclass Roster:\n    def __iter__(self):\n        LOG.append('iter')\n"
        "        return iter(['amy', 'bo'])\n",
        [
            "r = Roster()",
            "await ayo.llm(q, max_tokens=2)",
            "LOG.append('mid')",
            "await ayo.llm(f\"Team: {', '.join(r)}\", max_tokens=2)",
            "return list(LOG)",
        ],
    ),
    "cursor_iter_loop": (
        "class Conversation:\n    def __init__(self, turns):\n        self.turns = turns\n        self.cursor = 0\n\n"
        "    def __iter__(self):\n        for t in self.turns:\n            self.cursor += 1\n            yield t\n",
        [
            "conv = Conversation([q, q + '?', 'x'])",
            "seen = []",
            "for turn in conv:",
            "    await ayo.llm(turn, max_tokens=2)",
            "    seen.append(conv.cursor)",
            "return seen",
        ],
    ),
    "counting_contains": (
        "class Seen:\n    def __init__(self):\n        self.asked = 0\n        self.items = {'x'}\n\n"
        "    def __contains__(self, k):\n        self.asked += 1\n        return k in self.items\n",
        ["s = Seen()", "a = await ayo.llm(q, max_tokens=2)", "hit = a in s", "return hit, s.asked"],
    ),
    # a lazy iterator over a function with an effect, drawn after other effects
    "lazy_map_drawn_later": (
        RECORD,
        [
            "pending = map(record, [q, 'x'])",
            "await ayo.llm(q, max_tokens=2)",
            "LOG.append('mid')",
            "done = list(pending)",
            "return done, list(LOG)",
        ],
    ),
    "lazy_generator_drawn_later": (
        RECORD,
        [
            "gen = (record(w) for w in q.split())",
            "a = await ayo.llm(q, max_tokens=2)",
            "LOG.append(a[-3:])",
            "first = next(gen, None)",
            "return first, list(LOG)",
        ],
    ),
    "lazy_filter_in_loop": (
        RECORD,
        [
            "kept = filter(record, [q, '', 'z'])",
            "LOG.append('made')",
            "out = []",
            "for k in kept:",
            "    out.append(await ayo.llm(k, max_tokens=2))",
            "return out, list(LOG)",
        ],
    ),
    "generator_function_drawn_in_loop": (
        RECORD + "\n\ndef words(text):\n    for w in text.split():\n        yield record(w)\n",
        [
            "ws = words(q)",
            "LOG.append('made')",
            "out = []",
            "for w in ws:",
            "    out.append(await ayo.llm(w, max_tokens=2))",
            "return out, list(LOG)",
        ],
    ),
    # a class whose `__new__` hands back the one object it made (a singleton service, probe zr):
    # `Single()` is not a new object, so its methods' changes are of the one every call shares
    "singleton_new": (
        SINGLE,
        ["await Single().ask(q)", "await Single().ask(q + '1')", "return Single().calls"],
    ),
    "singleton_new_named": (
        SINGLE,
        [
            "a = Single()",
            "b = Single()",
            "x = await a.ask(q)",
            "y = await b.ask(x[-4:])",
            "return a.calls, b.calls",
        ],
    ),
    # a generator the loop's header makes, left early: Python closes it there (its `finally` runs
    # before the next statement), not when the query ends (probe zs)
    "generator_left_by_break": (
        CLOSING,
        ["for w in words(q):", "    await ayo.llm(w, max_tokens=2)", "    break", "return list(LOG)"],
    ),
    "generator_left_in_a_branch": (
        CLOSING,
        [
            "out = []",
            "for w in words(q):",
            "    a = await ayo.llm(w, max_tokens=2)",
            "    if len(out) == 1:",
            "        break",
            "    out.append(a)",
            "return out, list(LOG)",
        ],
    ),
    "generator_left_by_return": (
        CLOSING,
        [
            "for w in words(q):",
            "    a = await ayo.llm(w, max_tokens=2)",
            "    return a, list(LOG)",
            "return list(LOG)",
        ],
    ),
    "generator_run_out": (
        CLOSING,
        [
            "out = []",
            "for w in words(q):",
            "    out.append(await ayo.llm(w, max_tokens=2))",
            "return out, list(LOG)",
        ],
    ),
    "generator_function_in_header": (
        RECORD + "\n\ndef words(text):\n    for w in text.split():\n        yield record(w)\n",
        [
            "out = []",
            "for w in words(q):",
            "    out.append(await ayo.llm(w, max_tokens=2))",
            "return out, list(LOG)",
        ],
    ),
}


def _source(name: str) -> str:
    module, body = CASES[name]
    lines = "".join(f"    {line}\n" for line in body)
    return f"{HEAD}\n{module}\n\n@ayo.workflow\nasync def wf(q, docs):\n{lines}"


@pytest.mark.parametrize("name", list(CASES))
def test_state_changed_through_hidden_code_agrees(name: str, tmp_path: Path) -> None:
    source = _source(name)
    fresh_copies_agree(source, tmp_path, ["what is rust", "FAIL x", "again"])


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
