"""Workflow shapes built by hand with the Graph API, exactly as the tracer records them.

``Trace`` mimics the conventions of docs/ir-conventions.md: one ``input`` per dynamic parameter, every
statement-level node chained to the previous one by an ``after`` edge unless that node is already
one of its args, ``output`` after the last statement when that is not its arg, map/cond bodies
chained inside themselves, and one source line per statement. Each shape's docstring is the workflow
it stands for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from ayo_trace.ir import (
    Graph,
    Hole,
    Node,
    Parser,
    PyCode,
    SamplingParams,
    SearchParams,
    SourceLoc,
    Template,
    lines,
)
from ayo_trace.passes import DEFAULT_PROFILES

FILE = "wf.py"

# The default profiles with an LLM that resumes a prompt at any token (no block recomputed at a seam,
# as transformers with a reused cache): these shapes' short constant prefixes are then worth a split
# of their own, so the tests of how parts are made use it.
NO_BLOCK = {**DEFAULT_PROFILES, "llm": dataclasses.replace(DEFAULT_PROFILES["llm"], prefill_block=0)}


def tpl(*parts: str | int) -> Template:
    """A template: strings are constant text, ints are holes over that arg index."""
    return Template(tuple(p if isinstance(p, str) else Hole(p) for p in parts))


class Trace:
    """Records nodes the way the frontend does (program-order chain included)."""

    def __init__(self, name: str, *, line: int = 1, graph: Graph | None = None) -> None:
        self.g = graph if graph is not None else Graph(name)
        self.prev: Node | None = None
        self.line = line

    def _loc(self) -> SourceLoc:
        self.line += 1
        return SourceLoc(FILE, self.line)

    def input(self, name: str) -> Node:
        return self.g.add("input", attrs={"name": name}, name=name, loc=SourceLoc(FILE, self.line))

    def const(self, value: Any, name: str = "const") -> Node:
        return self.g.add("const", attrs={"value": value}, name=name)

    def stmt(
        self, op: str, args: Sequence[Node], attrs: dict[str, Any], name: str, *, loc: SourceLoc | None = None
    ) -> Node:
        after = [self.prev] if self.prev is not None and self.prev not in args else []
        node = self.g.add(op, args, attrs, loc=loc or self._loc(), name=name, after=after)
        self.prev = node
        return node

    def python(self, name: str, source: str, args: Sequence[Node], *, effect: bool = False) -> Node:
        loc = self._loc()
        code = PyCode(
            source,
            tuple(a.name for a in args),
            () if effect else (name,),
            "",
            FILE,
            loc.line,
            effect=effect,
        )
        return self.stmt("python", args, {"code": code}, name, loc=loc)

    def llm(
        self,
        name: str,
        template: Template,
        args: Sequence[Node],
        *,
        max_tokens: int = 32,
        parse: Parser | None = None,
        stop: tuple[str, ...] = (),
    ) -> Node:
        attrs = {
            "template": template,
            "sampling": SamplingParams(max_tokens=max_tokens, stop=stop),
            "parse": parse,
            "engine": None,
        }
        return self.stmt("llm", args, attrs, name)

    def ingest(self, name: str, passages: Node, collection: str) -> Node:
        attrs = {"collection": collection, "engine": None, "embed_engine": None}
        return self.stmt("ingest", [passages], attrs, name)

    def search(self, name: str, query: Node, collection: str, top_k: int = 4) -> Node:
        attrs = {"params": SearchParams(collection, top_k), "engine": None, "embed_engine": None}
        return self.stmt("search", [query], attrs, name)

    def rerank(self, name: str, query: Node, hits: Node, top_k: int = 3) -> Node:
        return self.stmt("rerank", [query, hits], {"top_k": top_k, "engine": None}, name)

    def brk(self, name: str, source: str, args: Sequence[Node], reason: str) -> Node:
        loc = self._loc()
        code = PyCode(source, tuple(a.name for a in args), (name,), "", FILE, loc.line, is_async=True)
        return self.stmt("break", args, {"code": code, "reason": reason}, name, loc=loc)

    def body(self, name: str, params: Sequence[str], build: Callable[[Trace, list[Node]], Node]) -> Graph:
        sub = Trace(name, line=self.line)
        inputs = [sub.g.add("input", attrs={"name": p}, name=p) for p in params]
        sub.output(build(sub, inputs))
        self.line = sub.line
        return sub.g

    def map(
        self,
        name: str,
        iterable: Node,
        captured: Sequence[Node],
        item: str,
        build: Callable[[Trace, list[Node]], Node],
    ) -> Node:
        loc = self._loc()
        body = self.body(f"{name}_body", [item, *(c.name for c in captured)], build)
        attrs = {"body": body, "item": item, "concurrency": 1}
        return self.stmt("map", [iterable, *captured], attrs, name, loc=loc)

    def cond(
        self,
        name: str,
        pred: Node,
        captured: Sequence[Node],
        then: Callable[[Trace, list[Node]], Node],
        orelse: Callable[[Trace, list[Node]], Node],
    ) -> Node:
        loc = self._loc()
        params = [c.name for c in captured]
        attrs = {
            "then": self.body(f"{name}_then", params, then),
            "orelse": self.body(f"{name}_else", params, orelse),
        }
        return self.stmt("cond", [pred, *captured], attrs, name, loc=loc)

    def output(self, *values: Node) -> Graph:
        after = [self.prev] if self.prev is not None and self.prev not in values else []
        self.g.add("output", values, after=after)
        return self.g


RAG_PROMPT = tpl("Answer the question using only the context.\nContext: ", 0, "\nQuestion: ", 1, "\nAnswer:")


def naive_rag() -> Graph:
    """async def rag(question, docs):
    await ayo.ingest(docs, collection="docs")
    hits = await ayo.search(question, SearchParams("docs", top_k=8))
    best = await ayo.rerank(question, hits, top_k=3)
    ctx = "\\n".join(h.text for h in best)
    answer = await ayo.llm(f"Answer the question using only the context.\\nContext: {ctx}\\nQuestion: {question}\\nAnswer:", max_tokens=32)
    return answer"""
    t = Trace("rag")
    question, docs = t.input("question"), t.input("docs")
    t.ingest("ingest", docs, "docs")
    hits = t.search("hits", question, "docs", top_k=8)
    best = t.rerank("best", question, hits, top_k=3)
    ctx = t.python("ctx", 'ctx = "\\n".join(h.text for h in best)', [best])
    answer = t.llm("answer", RAG_PROMPT, [ctx, question])
    return t.output(answer)


def query_expansion() -> Graph:
    """async def expand(question):
    queries = await ayo.llm(f"Write three search queries about: {question}\\n", max_tokens=48, parse=ayo.lines)
    results = [await ayo.search(q, SearchParams("wiki", top_k=4)) for q in queries]
    hits = [h for r in results for h in r]
    best = await ayo.rerank(question, hits, top_k=4)
    ctx = "\\n".join(h.text for h in best)
    answer = await ayo.llm(f"Answer the question using only the context.\\nContext: {ctx}\\nQuestion: {question}\\nAnswer:", max_tokens=32)
    return answer"""
    t = Trace("expand")
    question = t.input("question")
    queries = t.llm(
        "queries", tpl("Write three search queries about: ", 0, "\n"), [question], max_tokens=48, parse=lines
    )
    results = t.map("results", queries, [], "q", lambda b, ins: b.search("hits", ins[0], "wiki", top_k=4))
    hits = t.python("hits", "hits = [h for r in results for h in r]", [results])
    best = t.rerank("best", question, hits, top_k=4)
    ctx = t.python("ctx", 'ctx = "\\n".join(h.text for h in best)', [best])
    answer = t.llm("answer", RAG_PROMPT, [ctx, question])
    return t.output(answer)


def single_llm() -> Graph:
    """async def echo(question):
    answer = await ayo.llm(f"{question}", max_tokens=16)
    return answer"""
    t = Trace("echo")
    question = t.input("question")
    answer = t.llm("answer", tpl(0), [question], max_tokens=16)
    return t.output(answer)


def parallel_llms() -> Graph:
    """async def two_views(text):
    summary = await ayo.llm(f"{text}\\nSummary:", max_tokens=32)
    keywords = await ayo.llm(f"{text}\\nKeywords:", max_tokens=16)
    both = summary + " | " + keywords
    return both"""
    t = Trace("two_views")
    text = t.input("text")
    summary = t.llm("summary", tpl(0, "\nSummary:"), [text])
    keywords = t.llm("keywords", tpl(0, "\nKeywords:"), [text], max_tokens=16)
    both = t.python("both", 'both = summary + " | " + keywords', [summary, keywords])
    return t.output(both)


def collections() -> Graph:
    """async def stores(question, notes, papers):
    old = await ayo.search(question, SearchParams("notes"))
    await ayo.ingest(notes, collection="notes")
    new = await ayo.search(question, SearchParams("notes"))
    await ayo.ingest(papers, collection="papers")
    facts = await ayo.search(question, SearchParams("facts"))
    found = await ayo.search(question, SearchParams("papers"))
    everything = old + new + facts + found
    return everything"""
    t = Trace("stores")
    question, notes, papers = t.input("question"), t.input("notes"), t.input("papers")
    old = t.search("old", question, "notes")
    t.ingest("ingest", notes, "notes")
    new = t.search("new", question, "notes")
    t.ingest("ingest_1", papers, "papers")
    facts = t.search("facts", question, "facts")
    found = t.search("found", question, "papers")
    everything = t.python("everything", "everything = old + new + facts + found", [old, new, facts, found])
    return t.output(everything)


def effects() -> Graph:
    """async def chatty(question):
    print("asking", question)
    log = []
    size = len(question)
    answer = await ayo.llm(f"Q: {question}\\nA:", max_tokens=16)
    log.append(answer)
    n = len(log)
    print(answer)
    return n"""
    t = Trace("chatty")
    question = t.input("question")
    t.python("print", 'print("asking", question)', [question], effect=True)
    log = t.python("log", "log = []", [])
    t.python("size", "size = len(question)", [question])
    answer = t.llm("answer", tpl("Q: ", 0, "\nA:"), [question], max_tokens=16)
    t.python("append", "log.append(answer)", [log, answer], effect=True)
    n = t.python("n", "n = len(log)", [log])
    t.python("print_1", "print(answer)", [answer], effect=True)
    return t.output(n)


def map_llm() -> Graph:
    """async def summarize(docs):
    summaries = [await ayo.llm(f"Summarize this document in one sentence.\\n{d}\\nSummary:", max_tokens=24)
                 for d in docs]
    return summaries"""
    t = Trace("summarize")
    docs = t.input("docs")
    summaries = t.map(
        "summaries",
        docs,
        [],
        "d",
        lambda b, ins: b.llm(
            "summary",
            tpl("Summarize this document in one sentence.\n", 0, "\nSummary:"),
            [ins[0]],
            max_tokens=24,
        ),
    )
    return t.output(summaries)


def map_ingest() -> Graph:
    """async def notes(question, docs):
    counts = [await ayo.ingest([d], collection="notes") for d in docs]
    hits = await ayo.search(question, SearchParams("notes"))
    return hits"""
    t = Trace("notes")
    question, docs = t.input("question"), t.input("docs")

    def body(b: Trace, ins: list[Node]) -> Node:
        one = b.python("one", "one = [d]", [ins[0]])
        return b.ingest("count", one, "notes")

    t.map("counts", docs, [], "d", body)
    hits = t.search("hits", question, "notes")
    return t.output(hits)


def cond_branch() -> Graph:
    """async def route(question, docs):
    await ayo.ingest(docs, collection="kb")
    long = len(question) > 40
    if long:
        out = await ayo.search(question, SearchParams("kb", top_k=2))
    else:
        out = await ayo.llm(f"Answer briefly: {question}\\n", max_tokens=16)
    return out"""
    t = Trace("route")
    question, docs = t.input("question"), t.input("docs")
    t.ingest("ingest", docs, "kb")
    long = t.python("long", "long = len(question) > 40", [question])
    out = t.cond(
        "out",
        long,
        [question],
        lambda b, ins: b.search("out", ins[0], "kb", top_k=2),
        lambda b, ins: b.llm("out", tpl("Answer briefly: ", 0, "\n"), [ins[0]], max_tokens=16),
    )
    return t.output(out)


def graph_break() -> Graph:
    """async def tool(question):
    plan = await ayo.llm(f"Plan for: {question}\\n", max_tokens=16)
    stamp = time.time()
    result = await call_tool(plan)          # graph break: not traceable
    hits = await ayo.search(question, SearchParams("kb"))
    answer = await ayo.llm(f"{question} {result}", max_tokens=16)
    return answer, hits, stamp"""
    t = Trace("tool")
    question = t.input("question")
    plan = t.llm("plan", tpl("Plan for: ", 0, "\n"), [question], max_tokens=16)
    stamp = t.python("stamp", "stamp = time.time()", [])
    result = t.brk("result", "result = await call_tool(plan)", [plan], "call_tool is not an ayo primitive")
    hits = t.search("hits", question, "kb")
    answer = t.llm("answer", tpl(0, " ", 1), [question, result], max_tokens=16)
    return t.output(answer, hits, stamp)


def parse_no_map() -> Graph:
    """async def count_ideas(topic):
    ideas = await ayo.llm(f"Ideas about {topic}:\\n", max_tokens=32, parse=ayo.lines)
    n = len(ideas)
    return n"""
    t = Trace("count_ideas")
    topic = t.input("topic")
    ideas = t.llm("ideas", tpl("Ideas about ", 0, ":\n"), [topic], max_tokens=32, parse=lines)
    n = t.python("n", "n = len(ideas)", [ideas])
    return t.output(n)


def const_docs() -> Graph:
    """async def faq(question):
    await ayo.ingest(["Paris is in France.", "Rome is in Italy."], collection="faq")
    hits = await ayo.search(question, SearchParams("faq", top_k=1))
    return hits"""
    t = Trace("faq")
    question = t.input("question")
    docs = t.const(["Paris is in France.", "Rome is in Italy."], "docs")
    t.ingest("ingest", docs, "faq")
    hits = t.search("hits", question, "faq", top_k=1)
    return t.output(hits)


def late_holes() -> Graph:
    """async def compare(question):
    hits = await ayo.search(question, SearchParams("kb"))
    ctx = "\\n".join(h.text for h in hits)
    answer = await ayo.llm(f"{question}\\n---\\n{ctx}", max_tokens=16)
    return answer"""
    t = Trace("compare")
    question = t.input("question")
    hits = t.search("hits", question, "kb")
    ctx = t.python("ctx", 'ctx = "\\n".join(h.text for h in hits)', [hits])
    answer = t.llm("answer", tpl(0, "\n---\n", 1), [question, ctx], max_tokens=16)
    return t.output(answer)


def nested_map() -> Graph:
    """async def drill(topics):
    answers = []
    for topic in topics:
        questions = await ayo.llm(f"Questions about {topic}:\\n", max_tokens=32, parse=ayo.lines)
        replies = [await ayo.llm(f"Q: {q}\\nA:", max_tokens=16) for q in questions]
        answers.append(replies)
    return answers"""
    t = Trace("drill")
    topics = t.input("topics")
    answers = t.python("answers", "answers = []", [])

    def body(b: Trace, ins: list[Node]) -> Node:
        topic, answers_in = ins
        questions = b.llm("questions", tpl("Questions about ", 0, ":\n"), [topic], max_tokens=32, parse=lines)
        replies = b.map(
            "replies",
            questions,
            [],
            "q",
            lambda c, qs: c.llm("reply", tpl("Q: ", 0, "\nA:"), [qs[0]], max_tokens=16),
        )
        return b.python("append", "answers.append(replies)", [answers_in, replies], effect=True)

    t.map("loop", topics, [answers], "topic", body)
    return t.output(answers)


SHAPES: dict[str, Callable[[], Graph]] = {
    f.__name__: f
    for f in (
        naive_rag,
        query_expansion,
        single_llm,
        parallel_llms,
        collections,
        effects,
        map_llm,
        map_ingest,
        cond_branch,
        graph_break,
        parse_no_map,
        const_docs,
        late_holes,
        nested_map,
    )
}
