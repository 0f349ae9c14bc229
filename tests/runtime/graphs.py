"""Hand-built graphs for the runtime tests, following docs/ir-conventions.md exactly.

Traced graphs carry the program-order ``after`` edges the frontend records; lowered graphs are what
the passes produce (built here by hand so the runtime is tested without the passes).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ayo_trace.ir import Graph, Hole, Node, PyCode, SamplingParams, SearchParams, SourceLoc, Template, lines

HERE = __file__


def loc() -> SourceLoc:
    """The caller's line in this file: builders give every node a real ``file:line``."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return SourceLoc(HERE, frame.f_back.f_lineno)


def code(fn: Callable[..., Any], source: str, params: tuple[str, ...], *, effect: bool = False) -> PyCode:
    line = inspect.getsourcelines(fn)[1] if hasattr(fn, "__code__") else 1
    return PyCode(
        source=source,
        params=params,
        returns=() if effect else ("v",),
        module="",
        filename=HERE,
        line=line,
        is_async=inspect.iscoroutinefunction(fn),
        effect=effect,
        fn=fn,
    )


def tpl(*parts: str | int) -> Template:
    """A template: strings are constant text, ints are holes over that arg index."""
    return Template(tuple(Hole(p) if isinstance(p, int) else p for p in parts))


SAMPLING = SamplingParams(max_tokens=32)


def chain() -> Graph:
    """question -> llm -> llm -> output."""
    g = Graph("chain")
    q = g.add("input", attrs={"name": "question"}, name="question")
    a = g.add(
        "llm",
        [q],
        {"template": tpl("Q: ", 0, "\nA:"), "sampling": SAMPLING, "parse": None, "engine": None},
        loc=loc(),
        name="answer",
    )
    b = g.add(
        "llm",
        [a],
        {"template": tpl("Summarize: ", 0), "sampling": SAMPLING, "parse": None, "engine": None},
        loc=loc(),
        name="summary",
    )
    g.add("output", [b], loc=loc())
    return g


def _answer_body(engine: str | None = None) -> Graph:
    body = Graph("body")
    item = body.add("input", attrs={"name": "sub"}, name="sub")
    ans = body.add(
        "llm",
        [item],
        {"template": tpl("Answer: ", 0), "sampling": SAMPLING, "parse": None, "engine": engine},
        loc=loc(),
        name="sub_answer",
    )
    body.add("output", [ans], loc=loc())
    return body


def expansion(concurrency: int | None = 1) -> Graph:
    """Query expansion, traced: one llm lists sub-questions, a loop answers each."""
    g = Graph("expansion")
    q = g.add("input", attrs={"name": "question"}, name="question")
    subs = g.add(
        "llm",
        [q],
        {"template": tpl("Expand: ", 0), "sampling": SAMPLING, "parse": lines, "engine": None},
        loc=loc(),
        name="subs",
    )
    m = g.add(
        "map",
        [subs],
        {"body": _answer_body(), "item": "sub", "concurrency": concurrency},
        loc=loc(),
        name="answers",
    )
    g.add("output", [m], loc=loc())
    return g


def expansion_lowered(concurrency: int | None = None, stream: bool = True) -> Graph:
    """Query expansion as the passes lower it: prefill + streamed decode feeding the map."""
    g = Graph("expansion")
    q = g.add("input", attrs={"name": "question"}, name="question")
    p = g.add(
        "llm_prefill",
        [q],
        {
            "session": "subs",
            "template": tpl("Expand: ", 0),
            "part": 1,
            "parts": 1,
            "chained": False,
            "engine": None,
        },
        loc=loc(),
        name="subs_prefill",
    )
    d = g.add(
        "llm_decode",
        [p],
        {"sampling": SAMPLING, "parse": lines, "engine": None, "stream": stream},
        loc=loc(),
        name="subs",
    )
    body = Graph("body")
    item = body.add("input", attrs={"name": "sub"}, name="sub")
    bp = body.add(
        "llm_prefill",
        [item],
        {
            "session": "sub_answer",
            "template": tpl("Answer: ", 0),
            "part": 1,
            "parts": 1,
            "chained": False,
            "engine": None,
        },
        loc=loc(),
    )
    bd = body.add(
        "llm_decode",
        [bp],
        {"sampling": SAMPLING, "parse": None, "engine": None, "stream": False},
        loc=loc(),
        name="sub_answer",
    )
    body.add("output", [bd], loc=loc())
    attrs: dict[str, Any] = {"body": body, "item": "sub", "concurrency": concurrency}
    if stream:
        attrs["stream_args"] = (0,)
    m = g.add("map", [d], attrs, loc=loc(), name="answers")
    g.add("output", [m], loc=loc())
    return g


def split_prompt() -> Graph:
    """One prompt prefilled in two chained parts (a shared constant prefix, then the question)."""
    g = Graph("split")
    q = g.add("input", attrs={"name": "question"}, name="question")
    p1 = g.add(
        "llm_prefill",
        [],
        {
            "session": "answer",
            "template": tpl("You answer questions.\n"),
            "part": 1,
            "parts": 2,
            "chained": False,
            "ahead": True,
            "shared": True,
            "engine": None,
        },
        loc=loc(),
    )
    p2 = g.add(
        "llm_prefill",
        [p1, q],
        {
            "session": "answer",
            "template": tpl("Q: ", 1, "\nA:"),
            "part": 2,
            "parts": 2,
            "chained": True,
            "engine": None,
        },
        loc=loc(),
    )
    d = g.add(
        "llm_decode",
        [p2],
        {"sampling": SAMPLING, "parse": None, "engine": None, "stream": False},
        loc=loc(),
        name="answer",
    )
    g.add("output", [d], loc=loc())
    return g


def unsplit_prompt() -> Graph:
    g = Graph("unsplit")
    q = g.add("input", attrs={"name": "question"}, name="question")
    a = g.add(
        "llm",
        [q],
        {
            "template": tpl("You answer questions.\nQ: ", 0, "\nA:"),
            "sampling": SAMPLING,
            "parse": None,
            "engine": None,
        },
        loc=loc(),
        name="answer",
    )
    g.add("output", [a], loc=loc())
    return g


def rag(collection: str = "kb", top_k: int = 3) -> Graph:
    """Ingest, search, rerank, format a context in plain Python, answer (traced)."""
    g = Graph("rag")
    docs = g.add("input", attrs={"name": "docs"}, name="docs")
    q = g.add("input", attrs={"name": "question"}, name="question")
    n = g.add(
        "ingest",
        [docs],
        {"collection": collection, "engine": None, "embed_engine": None},
        loc=loc(),
        name="n",
    )
    hits = g.add(
        "search",
        [q],
        {"params": SearchParams(collection, top_k), "engine": None, "embed_engine": None},
        loc=loc(),
        name="hits",
        after=[n],
    )
    top = g.add("rerank", [q, hits], {"top_k": 2, "engine": None}, loc=loc(), name="top")

    def join(top: list[Any]) -> str:
        return "\n".join(h.text for h in top)

    ctx = g.add(
        "python",
        [top],
        {"code": code(join, 'context = "\\n".join(h.text for h in top)', ("top",))},
        loc=loc(),
        name="context",
    )
    ans = g.add(
        "llm",
        [ctx, q],
        {
            "template": tpl("Context: ", 0, "\nQuestion: ", 1, "\nAnswer:"),
            "sampling": SAMPLING,
            "parse": None,
            "engine": None,
        },
        loc=loc(),
        name="answer",
    )
    g.add("output", [ans], loc=loc())
    return g


def stream_ingest(collection: str = "kb", chunk: int = 2) -> Graph:
    """Lowered ingest with stage decomposition: embed streams vectors into one insert transaction."""
    g = Graph("ingest")
    docs = g.add("input", attrs={"name": "docs"}, name="docs")
    e = g.add("embed", [docs], {"engine": None, "stream": True, "chunk": chunk}, loc=loc(), name="vectors")
    ins = g.add(
        "db_insert",
        [docs, e],
        {"collection": collection, "engine": None, "stream_args": (1,), "chunk": chunk},
        loc=loc(),
        name="insert",
    )
    g.add("output", [ins], loc=loc())
    return g


def python_chain(fn: Callable[..., Any], source: str = "v = fn(x)") -> Graph:
    """input x -> python fn(x) -> output."""
    g = Graph("py")
    x = g.add("input", attrs={"name": "x"}, name="x")
    v = g.add("python", [x], {"code": code(fn, source, ("x",))}, loc=loc(), name="v")
    g.add("output", [v], loc=loc())
    return g


def with_break(fn: Callable[..., Any]) -> Graph:
    """input x -> break (async user code run eagerly) -> output."""
    g = Graph("brk")
    x = g.add("input", attrs={"name": "x"}, name="x")
    v = g.add(
        "break", [x], {"code": code(fn, "v = await fn(x)", ("x",)), "reason": "test"}, loc=loc(), name="v"
    )
    g.add("output", [v], loc=loc())
    return g


def branch() -> Graph:
    """cond on a python predicate: llm on one side, a constant on the other."""
    g = Graph("branch")
    x = g.add("input", attrs={"name": "x"}, name="x")

    def is_long(x: str) -> bool:
        return len(x) > 5

    pred = g.add("python", [x], {"code": code(is_long, "v = len(x) > 5", ("x",))}, loc=loc(), name="pred")
    then = Graph("then")
    tx = then.add("input", attrs={"name": "x"}, name="x")
    ta = then.add(
        "llm",
        [tx],
        {"template": tpl("Long: ", 0), "sampling": SAMPLING, "parse": None, "engine": None},
        loc=loc(),
        name="long",
    )
    then.add("output", [ta])
    orelse = Graph("orelse")
    orelse.add("input", attrs={"name": "x"}, name="x")
    c = orelse.add("const", attrs={"value": "short"}, name="c")
    orelse.add("output", [c])
    v = g.add("cond", [pred, x], {"then": then, "orelse": orelse}, loc=loc(), name="v")
    g.add("output", [v], loc=loc())
    return g


def nodes(g: Graph) -> dict[str, Node]:
    return {n.name: n for n in g.walk()}
