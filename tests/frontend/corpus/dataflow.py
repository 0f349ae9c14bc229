"""Point 1: python nodes read every traced name their code reads, in every nesting; conditional
awaits run only on their branch; a break behaves exactly like the eager code."""

from __future__ import annotations

import textwrap

import ayo_trace as ayo

from . import case

DOCS = [
    "Generators yield values lazily.",
    "Lists hold values in order.",
    "Coroutines await other coroutines.",
]


def shorten(text: str, width: int = 24) -> str:
    return textwrap.shorten(text, width=width, placeholder="...")


def keep(text: str) -> bool:
    return "values" in text


@ayo.workflow
async def summaries_with_helper_in_hole(docs: list[str]) -> list[str]:
    return [await ayo.llm(f"Summarize: {shorten(d)}\nSummary:", max_tokens=4) for d in docs]


@ayo.workflow
async def glossary_from_dict_items(terms: dict[str, str]) -> dict[str, str]:
    return {
        term: await ayo.llm(f"Define {term.upper()} ({shorten(hint, 16)}):", max_tokens=3)
        for term, hint in terms.items()
    }


@ayo.workflow
async def topics_as_a_set(docs: list[str]) -> list[str]:
    topics = {await ayo.llm(f"One-word topic of: {d.lower()}", max_tokens=1) for d in docs}
    return sorted(topics)


@ayo.workflow
async def numbered_with_enumerate(docs: list[str]) -> list[str]:
    return [await ayo.llm(f"{i + 1}. {d}\nRewrite:", max_tokens=3) for i, d in enumerate(docs)]


@ayo.workflow
async def pairs_from_zip(questions: list[str], docs: list[str]) -> list[str]:
    return [
        await ayo.llm(f"Q: {q}\nDoc: {d[:20]}\nA:", max_tokens=3)
        for q, d in zip(questions, docs, strict=True)
    ]


@ayo.workflow
async def words_of_every_doc(docs: list[str]) -> list[str]:
    long_words = [
        await ayo.llm(f"Explain the word {w!r}:", max_tokens=2) for d in docs for w in d.split() if len(w) > 6
    ]
    return long_words


@ayo.workflow
async def filtered_by_helper(docs: list[str], question: str) -> str:
    notes = [await ayo.llm(f"{question}\n{d}\nNote:", max_tokens=3) for d in docs if keep(d)]
    return " | ".join(notes)


@ayo.workflow
async def lambda_in_the_element(docs: list[str], style: str) -> list[str]:
    fmt = lambda text: f"[{style}] {text.strip('.')}"  # noqa: E731
    return [await ayo.llm(fmt(d) + "\nRestate:", max_tokens=3) for d in docs]


@ayo.workflow
async def generator_inside_a_hole(docs: list[str]) -> list[str]:
    return [
        await ayo.llm(
            f"Keywords: {', '.join(w.lower() for w in d.split() if w[0].isupper())}\n", max_tokens=2
        )
        for d in docs
    ]


@ayo.workflow
async def loop_with_helper_in_hole(docs: list[str], question: str) -> list[str]:
    notes = []
    for d in docs:
        note = await ayo.llm(f"{question}: {shorten(d, 20)} ->", max_tokens=2)
        notes.append(f"{len(d)}:{note.strip()}")
    return notes


@ayo.workflow
async def conditional_expression(question: str, mode: str) -> str:
    answer = (
        await ayo.llm(f"Answer briefly: {question}", max_tokens=3)
        if mode == "brief"
        else await ayo.llm(f"Answer in detail: {question}", max_tokens=8)
    )
    return answer.strip()


@ayo.workflow
async def conditional_expression_per_item(docs: list[str]) -> list[str]:
    return [await ayo.llm(f"Shorten: {d}", max_tokens=3) if len(d) > 28 else d for d in docs]


@ayo.workflow
async def cached_or_generated(question: str, cache: dict[str, str]) -> str:
    answer = cache.get(question) or await ayo.llm(f"Q: {question}\nA:", max_tokens=4)
    return answer


@ayo.workflow
async def nested_comprehension_in_a_prompt(docs: list[str], question: str) -> str:
    await ayo.ingest(docs, collection="dataflow")
    hits = await ayo.search(question, collection="dataflow", top_k=2)
    context = "\n".join(f"- {h.text} ({', '.join(w for w in h.text.split()[:2])})" for h in hits)
    return await ayo.llm(f"Context:\n{context}\nQ: {question}\nA:", max_tokens=6)


@ayo.workflow
async def awaiting_filter(questions: list[str]) -> list[str]:
    return [await ayo.llm(q, max_tokens=2) for q in questions if "a" in await ayo.llm(q + "?", max_tokens=2)]


class OutOfBudget(Exception):
    pass


@ayo.workflow
async def try_except_as(question: str) -> str:
    try:
        answer = await ayo.llm(f"Q: {question}\nA:", max_tokens=4)
    except OutOfBudget as e:
        answer = f"budget: {e}"
    return answer


@ayo.workflow
async def try_except_as_after_a_draft(question: str) -> str:
    draft = ""
    try:
        draft = await ayo.llm(f"Draft: {question}", max_tokens=3)
        answer = await ayo.llm(f"Q: {question}\nDraft: {draft}\nA:", max_tokens=4)
    except OutOfBudget as e:
        answer = f"budget: {e}"
    return f"{draft} / {answer}"


@ayo.workflow
async def try_except_maybe_unassigned(question: str) -> str:
    draft = "none"
    try:
        draft = await ayo.llm(f"Draft: {question}", max_tokens=3)
        extra = await ayo.llm(f"More: {draft}", max_tokens=2)  # noqa: F841
    except OutOfBudget:
        pass
    return draft


CASES = [
    case(summaries_with_helper_in_hole, DOCS),
    case(glossary_from_dict_items, {"generator": "a function that yields", "list": "an ordered sequence"}),
    case(topics_as_a_set, DOCS),
    case(numbered_with_enumerate, DOCS),
    case(pairs_from_zip, ["what yields?", "what holds?", "what awaits?"], DOCS),
    case(words_of_every_doc, DOCS),
    case(filtered_by_helper, DOCS, "Which holds values?"),
    case(lambda_in_the_element, DOCS, "terse"),
    case(generator_inside_a_hole, DOCS),
    case(loop_with_helper_in_hole, DOCS, "Summarize"),
    case(conditional_expression, "what is a generator", "brief", label="conditional_expression_brief"),
    case(conditional_expression, "what is a generator", "full"),
    case(conditional_expression_per_item, DOCS),
    case(cached_or_generated, "what is a list", {"what is a list": "an ordered sequence"}, label="cache_hit"),
    case(cached_or_generated, "what is a set", {"what is a list": "an ordered sequence"}),
    case(nested_comprehension_in_a_prompt, DOCS, "how are values produced"),
    case(awaiting_filter, ["what yields", "what holds", "what awaits"]),  # (`frontend/filter_awaits`)
    case(try_except_as, "what is a coroutine"),
    case(try_except_as_after_a_draft, "what is a coroutine"),  # (the `try` is cut in two)
    case(try_except_maybe_unassigned, "what is a coroutine"),
]
