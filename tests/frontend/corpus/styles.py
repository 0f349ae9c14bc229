"""Workflows in the styles Python users write, none of them tuned for the tracer: prompts built with
``str.format``, ``%`` and ``textwrap.dedent``; class attributes and module constants; methods and
callable objects that await primitives; ``sorted``/``max`` with keys; nested comprehensions;
``gather`` mixing calls, helpers and a spread; ``assert``; format specs and ``!r``; generator
expressions in ``any``/``all``/``sum``; chained comparisons; ``json.loads`` of an answer; an agent
choosing from a dict of tool functions; ``Enum`` arguments; two awaits in one f-string."""

from __future__ import annotations

import asyncio
import json
import logging
import textwrap
from enum import Enum

import ayo_trace as ayo

from . import case

log = logging.getLogger(__name__)
DOCS = ["generators yield values lazily", "lists hold values", "coroutines await other coroutines"]
TEMPLATE = "Context: {context}\nQuestion: {question}\nAnswer:"
SYSTEM = "You are a helpful assistant."


def shout(text: str) -> str:
    return text.upper()


def count(text: str) -> str:
    return str(len(text))


TOOLS = {"shout": shout, "count": count}


@ayo.workflow
async def agent_with_a_dict_of_tools(task: str) -> list[str]:
    trace = []
    while True:
        verdict = await ayo.llm(f"Task: {task}\nTrace: {trace}\nTool?", max_tokens=4)
        tool = "shout" if verdict[1] in "0123456789" else "count"
        trace.append(TOOLS[tool](verdict))
        if len(trace) >= 3 or verdict.strip().startswith("a"):
            break
    return trace


@ayo.workflow
async def prompts_three_ways(question: str, docs: list[str]) -> list[str]:
    formatted = TEMPLATE.format(context="\n".join(docs), question=question)
    percent = "Question: %s\nAnswer:" % question  # noqa: UP031 - the way people write it
    dedented = textwrap.dedent(f"""
        {SYSTEM}
        Question: {question}
        Answer:""")
    return [await ayo.llm(p, max_tokens=3) for p in (formatted, percent, dedented)]


class Prompts:
    HEAD = "Answer briefly."
    TOKENS = 2


class Retriever:
    def __init__(self, collection: str, k: int) -> None:
        self.collection = collection
        self.k = k

    async def retrieve(self, question: str) -> list[str]:
        hits = await ayo.search(question, collection=self.collection, top_k=self.k)
        return [h.text for h in hits]

    @staticmethod
    async def rephrase(question: str) -> str:
        return await ayo.llm(f"Rephrase: {question}", max_tokens=Prompts.TOKENS)


class Answerer:
    def __init__(self, head: str) -> None:
        self.head = head

    async def __call__(self, question: str, context: list[str]) -> str:
        return await ayo.llm(f"{self.head}\n{context}\nQ: {question}", max_tokens=Prompts.TOKENS + 1)


RETRIEVER = Retriever("kb", 2)
ANSWER = Answerer(Prompts.HEAD)


@ayo.workflow
async def methods_and_callable_objects(question: str, docs: list[str]) -> str:
    await ayo.ingest(docs, collection="kb")
    better = await Retriever.rephrase(question)
    context = await RETRIEVER.retrieve(better)
    return await ANSWER(question, context)


@ayo.workflow
async def ranked_by_keys(question: str, docs: list[str]) -> dict[str, object]:
    hits = await ayo.rerank(question, docs, top_k=3)
    ordered = sorted(hits, key=lambda h: (-h.score, h.text))
    best = max(hits, key=lambda h: h.score)
    answer = await ayo.llm(f"Use: {best.text}\nQ: {question}", max_tokens=3)
    return {"order": [h.text for h in ordered[:2]], "answer": answer}


@ayo.workflow
async def nested_comprehension_of_pairs(questions: list[str], docs: list[str]) -> list[list[str]]:
    return [[await ayo.llm(f"{q} | {d}", max_tokens=2) for d in docs] for q in questions]


@ayo.workflow
async def enumerate_zip_comprehension(questions: list[str], docs: list[str]) -> list[str]:
    return [
        await ayo.llm(f"{i}. {q} / {d}", max_tokens=2)
        for i, (q, d) in enumerate(zip(questions, docs, strict=False))
    ]


@ayo.workflow
async def items_appended_then_joined(sections: dict[str, str]) -> str:
    lines = []
    for title, body in sections.items():
        tldr = await ayo.llm(f"## {title}\n{body}\nTL;DR:", max_tokens=3)
        lines.append(f"{title}: {tldr.strip()}")
    return "\n".join(lines)


async def texts_for(question: str) -> list[str]:
    return [h.text for h in await ayo.search(question, collection="kb", top_k=1)]


@ayo.workflow
async def gather_calls_helpers_and_a_spread(question: str, docs: list[str]) -> list[object]:
    await ayo.ingest(docs, collection="kb")
    rephrased, texts, *keywords = await asyncio.gather(
        ayo.llm(f"Rephrase: {question}", max_tokens=3),
        texts_for(question),
        *[ayo.llm(f"Keyword {i}: {question}", max_tokens=2) for i in range(2)],
    )
    return [rephrased, texts, keywords]


@ayo.workflow
async def asserts_and_format_specs(question: str, docs: list[str]) -> str:
    hits = await ayo.rerank(question, docs, top_k=2)
    assert hits, "no hits"
    context = "\n".join(f"[{h.score:.2f}] {h.text!r}" for h in hits)
    answer = await ayo.llm(f"{SYSTEM}\n{context}\nQ: {question!r:>30}", max_tokens=3)
    log.info("answered %r", question)
    return answer


@ayo.workflow
async def votes_counted_with_generators(docs: list[str]) -> dict[str, object]:
    votes = [await ayo.llm(f"Yes or no: {d}", max_tokens=1) for d in docs]
    return {
        "any": any(v.strip()[:1].isdigit() for v in votes),
        "all": all(len(v) > 0 for v in votes),
        "n": sum(1 for v in votes if "a" in v),
    }


@ayo.workflow
async def chained_comparison(question: str) -> str:
    answer = await ayo.llm(f"Q: {question}", max_tokens=4)
    if 0 < len(answer) <= 100:
        answer = await ayo.llm(f"Refine: {answer}", max_tokens=3)
    return answer


@ayo.workflow
async def keywords_from_json(question: str) -> list[str]:
    raw = await ayo.llm(f"JSON list of keywords for {question}:", max_tokens=8)
    try:
        keywords = json.loads(raw)
    except json.JSONDecodeError:
        keywords = raw.split()
    return [await ayo.llm(f"Define {k}", max_tokens=2) for k in keywords[:2]]


@ayo.workflow
async def every_other_doc_sliced(docs: list[str]) -> list[str]:
    out = []
    for i, d in enumerate(docs[1:]):
        if i % 2:
            continue
        out.append(await ayo.llm(f"{i}: {d[:10]}", max_tokens=2))
    return out


class Mode(Enum):
    SHORT = "short"
    LONG = "long"


@ayo.workflow
async def enum_argument(question: str, mode: Mode) -> str:
    n = 2 if mode is Mode.SHORT else 5
    return await ayo.llm(f"[{mode.value}] {question}", max_tokens=n)


async def refine(text: str, depth: int) -> str:
    if depth == 0:
        return text
    better = await ayo.llm(f"Improve: {text}", max_tokens=3)
    return await refine(better, depth - 1)


@ayo.workflow
async def recursive_helper(question: str) -> str:
    return await refine(question, 3)


@ayo.workflow
async def local_helper_gathered(question: str, docs: list[str]) -> list[str]:
    prefix = f"Q: {question}"

    async def ask(d: str) -> str:
        return await ayo.llm(f"{prefix}\nDoc: {d}", max_tokens=2)

    return await asyncio.gather(*[ask(d) for d in docs])


@ayo.workflow
async def grow_until_long(question: str) -> str:
    parts = []
    text = question
    while len("".join(parts)) < 20:
        text = await ayo.llm(f"Continue: {text}", max_tokens=3)
        parts.append(text)
    return "\n".join(parts)


@ayo.workflow
async def two_awaits_in_one_fstring(question: str) -> str:
    return f"{await ayo.llm(question, max_tokens=2)} / {await Retriever.rephrase(question)}"


@ayo.workflow
async def if_without_else_rebinds(question: str) -> str:
    tokens = 2
    out = await ayo.llm(f"Q: {question}", max_tokens=4)
    if len(out) > 2:
        out = await ayo.llm(f"Shorter, in {tokens}:", max_tokens=tokens)
    return out


@ayo.workflow
async def try_finally_around_a_loop(question: str) -> list[str]:
    out = []
    try:
        for i in range(2):
            out.append(await ayo.llm(f"{question} {i}", max_tokens=2))
    finally:
        out.append("end")
    return out


CASES = [
    case(agent_with_a_dict_of_tools, "add numbers"),
    case(prompts_three_ways, "how do generators work", DOCS),
    case(methods_and_callable_objects, "what yields", DOCS),
    case(ranked_by_keys, "what holds", DOCS),
    case(nested_comprehension_of_pairs, ["what", "why"], DOCS[:2]),
    case(enumerate_zip_comprehension, ["what", "why"], DOCS),
    case(items_appended_then_joined, {"intro": "x", "usage": "y"}),
    case(gather_calls_helpers_and_a_spread, "what awaits", DOCS),
    case(asserts_and_format_specs, "what yields", DOCS),
    case(votes_counted_with_generators, DOCS),
    case(chained_comparison, "how do generators work"),
    case(keywords_from_json, "generators"),
    case(every_other_doc_sliced, [*DOCS, "x", "y"]),
    case(enum_argument, "what is a list", Mode.SHORT),
    case(enum_argument, "what is a list", Mode.LONG, label="enum_argument_long"),
    case(recursive_helper, "generators"),
    case(local_helper_gathered, "what", DOCS),
    case(grow_until_long, "generators"),
    case(two_awaits_in_one_fstring, "what yields"),
    case(if_without_else_rebinds, "how do generators work"),
    case(try_finally_around_a_loop, "lists"),
]


@ayo.workflow
async def coroutines_listed_then_gathered(question: str, docs: list[str]) -> list[str]:
    tasks = [ayo.llm(f"{question}\nDoc: {d}", max_tokens=2) for d in docs]
    notes = (await Retriever.rephrase(question)).strip()
    answers = await asyncio.gather(*tasks)
    return [f"{notes}: {a}" for a in answers]


@ayo.workflow
async def helper_coroutines_gathered(docs: list[str]) -> list[str]:
    jobs = (Retriever.rephrase(d) for d in docs)
    return list(await asyncio.gather(*jobs))


@ayo.workflow
async def coroutines_counted_before_gather(docs: list[str]) -> str:
    tasks = [ayo.llm(d, max_tokens=2) for d in docs]
    n = len(tasks)
    done = await asyncio.gather(*tasks)
    return f"{n}: {done}"


CASES += [
    case(coroutines_listed_then_gathered, "what yields", DOCS),
    case(helper_coroutines_gathered, DOCS),
    case(coroutines_counted_before_gather, DOCS, breaks=1),  # read as a list too: gathered eagerly
]


class Bot:
    def __init__(self, persona: str) -> None:
        self.persona = persona
        self.options = {"max_tokens": 2}

    @ayo.workflow
    async def reply(self, question: str) -> str:
        draft = await ayo.llm(f"{self.persona}: {question}", **self.options)
        return await self.polish(draft)

    @ayo.workflow
    async def echo(self, question: str) -> str:
        return await ayo.llm(f"Echo: {question}", max_tokens=2)

    async def polish(self, text: str) -> str:
        return (await ayo.llm(f"Polish: {text}", max_tokens=2)).strip()


PIRATE = Bot("pirate")


@ayo.workflow
async def method_workflows_of_an_object(question: str) -> list[str]:
    return [await PIRATE.reply(question), await PIRATE.echo(question)]


CASES += [
    case(method_workflows_of_an_object, "how do generators work"),
    case(PIRATE.reply, "what is a list", label="a_method_workflow_itself"),
]
