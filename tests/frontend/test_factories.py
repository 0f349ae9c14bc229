"""Services a factory function builds (``app = build_app(Config(top_k=2))``, then ``await
app.gen.generate(q)``): the tracer runs a factory that only makes objects, with arguments known at
trace time, to learn their classes (``factories``); it was a graph break of every call on them (found
by probe zr: "a method of a service in a factory-built container", every container workflow). Ways
to write the factory x how it is called x what the workflow does with what it makes (each value in
the pairs that differ): eager ≡ traced ≡ optimized, each variant on a fresh copy of the module and called three times (state an
object keeps from query to query shows); a pure factory called with arguments known now traces
with no graph break, and one that is not pure (cached, handing back a module object, changing what
it made, reading state the workflow changes, telling an argument known only when the workflow runs
from a value) runs as written."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.util import fresh_copies_agree

from .programs import load
from .service_classes import COUNTING

HEAD = (
    """
import asyncio
import functools
from dataclasses import dataclass

import ayo_trace as ayo

LOG = []
BUDGET = 4
SETTINGS = {"budget": 3}


@dataclass(frozen=True)
class Config:
    prefix: str = "Q: "
    budget: int = 5


class Gen:
    def __init__(self, prefix, budget=4):
        self.prefix = prefix
        self.budget = budget

    async def generate(self, q):
        return await ayo.llm(f"{self.prefix}{q}", max_tokens=self.budget)


"""
    + COUNTING
    + """

class Other:
    def __init__(self, tag):
        self.tag = tag

    async def generate(self, q):
        return self.tag + (await ayo.llm(q + "?", max_tokens=3))


@dataclass
class App:
    gen: object
    name: str = "app"


DEFAULT_APP = App(Counting("D: "))
"""
)

# the factory, `make(cfg=None)`, each way people write one
FACTORIES = {
    "or_default": ["cfg = cfg or Config()", "return App(Gen(cfg.prefix, cfg.budget))"],
    "if_none": ["if cfg is None:", "    cfg = Config()", "return App(Gen(cfg.prefix, budget=cfg.budget))"],
    "locals": [
        "c = cfg if cfg is not None else Config()",
        "gen = Gen(c.prefix, c.budget)",
        "app = App(gen)",
        "return app",
    ],
    "nested": ["return App(make_gen(cfg or Config()), name='nested')"],
    "module_constant": ["return App(Gen((cfg or Config()).prefix, BUDGET))"],
    "counting": ["cfg = cfg or Config()", "return App(Counting(cfg.prefix, cfg.budget))"],
    "cached": [
        "@functools.lru_cache",
        "cfg = cfg or Config()",
        "return App(Counting(cfg.prefix, cfg.budget))",
    ],
    "module_object": ["return DEFAULT_APP"],
    "changes_it": ["app = App(Gen((cfg or Config()).prefix))", "app.gen.budget = 5", "return app"],
    "reads_changed": ["return App(Gen((cfg or Config()).prefix, SETTINGS['budget']))"],
}
# how the workflow calls it
ARGS = {
    "none": ([], "make()"),
    "config": ([], "make(Config('C: ', 3))"),
    "config_before": (["cfg = Config(budget=3)"], "make(cfg)"),
    "from_query": ([], "make(Config(q[:3], 3))"),
}
# what the workflow does with what it made (`app`)
USES = {
    "awaits": ["return await app.gen.generate(q)"],
    "inline": ["return await make_it().gen.generate(q)"],
    "twice": ["a = await app.gen.generate(q)", "return a + (await app.gen.generate(a[:6]))"],
    "field": ["return await ayo.llm(q, max_tokens=app.gen.budget)"],
    "handed": ["return await answer(app, q)"],
    "gathers": [
        "a, b = await asyncio.gather(app.gen.generate(q), app.gen.generate(q + '!'))",
        "return a + b",
    ],
    "sets_field": ["app.gen.budget = 1 + len(q) % 3", "return await app.gen.generate(q)"],
}
PURE = {"or_default", "if_none", "locals", "nested", "module_constant"}  # (`counting`: its object changes)
KNOWN_ARGS = {"none", "config", "config_before"}
READ_ONLY = {"awaits", "twice", "field", "handed", "gathers"}  # (`inline`: made in the call, a break)
CASES = [  # (every factory, use and way to call it, in the pairs that differ; the suite's time kept)
    *itertools.product(FACTORIES, ["awaits", "sets_field"], ["config"]),
    *itertools.product(["locals", "cached"], USES, ["config_before"]),
    *itertools.product(["if_none", "changes_it"], ["twice"], ARGS),
    *itertools.product(["module_constant", "reads_changed"], ["gathers"], ["from_query", "none"]),
]


def _source(factory: str, use: str, args: str) -> str:
    made, call = ARGS[args]
    lines = FACTORIES[factory]
    decorator = "".join(f"{line}\n" for line in lines if line.startswith("@"))
    body = "".join(f"    {line}\n" for line in lines if not line.startswith("@"))
    if use == "inline":
        workflow = [*made, *(f"{line}".replace("make_it()", call) for line in USES[use])]
    else:
        workflow = [*made, f"app = {call}", *USES[use]]
    if factory == "reads_changed":
        workflow.insert(0, "SETTINGS['budget'] = 1 + len(q) % 4")
    workflow = [
        line.replace("return ", "out = ", 1) if line.startswith("return ") else line for line in workflow
    ]
    return (
        f"{HEAD}\n\ndef make_gen(cfg):\n    return Gen(cfg.prefix, cfg.budget)\n"
        f"\n\n{decorator}def make(cfg=None):\n{body}"
        f"\n\nasync def answer(app, q):\n    return await app.gen.generate(q)\n"
        f"\n\n@ayo.workflow\nasync def wf(q, docs):\n"
        + "".join(f"    {line}\n" for line in [*workflow, "return out, list(LOG), dict(SETTINGS)"])
    )


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_what_a_factory_makes_agrees(case: tuple[str, str, str], tmp_path: Path) -> None:
    fresh_copies_agree(_source(*case), tmp_path, ["what is rust", "FAIL x", "again"])


@pytest.mark.parametrize("factory", sorted(PURE))
@pytest.mark.parametrize("args", sorted(KNOWN_ARGS))
@pytest.mark.parametrize("use", sorted(READ_ONLY))
def test_a_pure_factory_called_with_known_arguments_traces_whole(
    factory: str, args: str, use: str, tmp_path: Path
) -> None:
    from ayo_trace.frontend.breaks import graph_breaks

    wf = load(_source(factory, use, args), tmp_path).wf
    assert graph_breaks(wf.graph("q", [])) == []


@pytest.mark.parametrize("factory", ["cached", "module_object", "changes_it", "reads_changed"])
def test_a_factory_that_is_not_pure_runs_as_written(factory: str, tmp_path: Path) -> None:
    from ayo_trace.frontend.breaks import graph_breaks

    wf = load(_source(factory, "awaits", "none"), tmp_path).wf
    assert graph_breaks(wf.graph("q", [])) != []


def test_a_factory_given_an_argument_known_when_the_workflow_runs_runs_as_written(tmp_path: Path) -> None:
    from ayo_trace.frontend.breaks import graph_breaks

    wf = load(_source("or_default", "awaits", "from_query"), tmp_path).wf
    assert graph_breaks(wf.graph("q", [])) != []


BRANCHING = """
def make(kind=None):
    if kind is None:
        return App(Gen("N: ", 3))
    if kind == "other":
        return App(Other("O: "))
    return App(Counting(kind))


@ayo.workflow
async def wf(q, docs):
    app = make(KIND)
    out = await app.gen.generate(q)
    return out, list(LOG)
"""
KINDS = {
    "none": "None",
    "other": "'other'",
    "counting": "'K: '",
    "from_query": "q[:2] or None",
    "query_or_other": "'other' if q.startswith('F') else None",
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_factory_deciding_on_its_argument_agrees(kind: str, tmp_path: Path) -> None:
    fresh_copies_agree(
        HEAD + BRANCHING.replace("KIND", KINDS[kind]), tmp_path, ["what is rust", "FAIL x", "again"]
    )


READ_ANEW = """
class Settings:
    def __init__(self):
        self.prefix = "A: "


SETTINGS_OBJ = Settings()
PREFIX = "A: "


def make():
    return App(Gen(READ, 3))


@ayo.workflow
async def wf(q, docs):
    app = make()
    return await app.gen.generate(q)
"""


@pytest.mark.parametrize("read", ["PREFIX", "SETTINGS_OBJ.prefix"])
def test_what_the_factory_reads_set_anew_traces_again(read: str, tmp_path: Path) -> None:
    # (a module name bound anew, an attribute set by code elsewhere, between two queries: read by
    # the factory only, so the cached graph is traced again as for the workflow's own reads)
    from tests.util import run_in_new_loop, scripted_runtime

    module = load(HEAD + READ_ANEW.replace("READ", read), tmp_path)
    assert "A: " in str(module.wf.graph("q", []))

    async def go() -> list[object]:
        async with scripted_runtime():
            first = await module.wf("q", [])
            if read == "PREFIX":
                module.PREFIX = "B: "
            else:
                module.SETTINGS_OBJ.prefix = "B: "
            return [first, await module.wf("q", []), await module.wf.eager("q", [])]

    first, second, eager = run_in_new_loop(go)
    assert second == eager and first != second


CALLABLE = """
class Judge:
    def __init__(self, prefix="J: ", budget=3):
        self.prefix = prefix
        self.budget = budget

    async def __call__(self, q):
        return await ayo.llm(self.prefix + q, max_tokens=self.budget)


class Tally:
    def __init__(self):
        self.calls = 0

    async def __call__(self, q):
        self.calls += 1
        LOG.append(self.calls)
        return await ayo.llm(f"{self.calls} {q}", max_tokens=3)


@ayo.workflow
async def wf(q, docs):
    out = await MADE(q)
    return out, list(LOG)
"""
MADE = ["Judge()", "Judge('K: ', 5)", "Judge(q[:3])", "Tally()", "make_judge()"]


@pytest.mark.parametrize("made", MADE)
def test_awaiting_an_object_made_in_the_call_agrees(made: str, tmp_path: Path) -> None:
    # (`await Judge()(q)`: its class's `async def __call__`, inlined; it was a graph break)
    source = HEAD + CALLABLE.replace("MADE", made) + "\n\ndef make_judge():\n    return Judge('M: ')\n"
    fresh_copies_agree(source, tmp_path, ["what is rust", "FAIL x", "again"])
    if made in ("Judge()", "Judge('K: ', 5)"):
        from ayo_trace.frontend.breaks import graph_breaks

        assert graph_breaks(load(source, tmp_path).wf.graph("q", [])) == []


# a factory given an argument known only when the workflow runs (`make(q[:3])`): traced where
# nothing it does could tell the trace's stand-in from the value; run as written where it could
RUN_TIME = {
    "stores_it": (["return App(Gen(prefix, 3))"], True),
    "formats_it_in_a_method": (["return App(Gen(prefix))"], True),
    "is_none": (["if prefix is None:", "    prefix = 'D: '", "return App(Gen(prefix))"], False),
    "is_none_decides_a_constant": (["return App(Gen('N: ' if prefix is None else 'S: ', 3))"], False),
    "is_none_decides_the_class": (["return App(Other('o') if prefix is None else Gen(prefix))"], False),
    "or_default": (["return App(Gen(prefix or 'D: '))"], False),
    "isinstance": (["return App(Gen(prefix if isinstance(prefix, str) else 'D: '))"], False),
    "equals": (["return App(Other(prefix)) if prefix == 'O' else App(Gen(prefix))"], False),
    "inner_is_none": (["return App(Defaulting(prefix))"], False),
    "nested_factory_is_none": (["return App(make_gen_or_default(prefix))"], False),
    "known_default": (["cfg = cfg or Config()", "return App(Gen(prefix, cfg.budget))"], True),
    "known_is_none": (["if cfg is None:", "    cfg = Config()", "return App(Gen(prefix, cfg.budget))"], True),
    "computes_with_it": (["return App(Gen(prefix + ': '))"], False),
}
RUN_TIME_ARGS = ["q[:3]", "None if q.startswith('F') else q[:2]", "q[:1] or None"]
RUN_TIME_HEAD = """
class Defaulting:
    def __init__(self, prefix):
        self.prefix = "DEF: " if prefix is None else "SET: "
        self.budget = 4

    async def generate(self, q):
        return await ayo.llm(f"{self.prefix}{q}", max_tokens=self.budget)


def make_gen_or_default(prefix):
    if prefix is None:
        return Other("n")
    return Gen(prefix)
"""


def _run_time_source(factory: str, arg: str) -> str:
    body = "".join(f"    {line}\n" for line in RUN_TIME[factory][0])
    return (
        f"{HEAD}{RUN_TIME_HEAD}\n\ndef make(prefix, cfg=None):\n{body}\n\n@ayo.workflow\n"
        f"async def wf(q, docs):\n    app = make({arg})\n    out = await app.gen.generate(q)\n"
        "    return out, list(LOG)\n"
    )


@pytest.mark.parametrize("factory", RUN_TIME)
@pytest.mark.parametrize("arg", RUN_TIME_ARGS)
def test_a_factory_given_an_argument_known_when_it_runs_agrees(
    factory: str, arg: str, tmp_path: Path
) -> None:
    fresh_copies_agree(_run_time_source(factory, arg), tmp_path, ["what is rust", "Fx", "again", ""])


@pytest.mark.parametrize("factory", RUN_TIME)
def test_a_factory_blind_to_its_argument_known_when_it_runs_traces_whole(
    factory: str, tmp_path: Path
) -> None:
    from ayo_trace.frontend.breaks import graph_breaks

    graph = load(_run_time_source(factory, "q[:3]"), tmp_path).wf.graph("q", [])
    assert (graph_breaks(graph) == []) is RUN_TIME[factory][1]
